//! Determinism check: per workload (seed 7), an FNV digest of every event and
//! the final `state_hash()`. Two builds that print the same lines emit the same
//! events and reach the same state.
//!
//! ```text
//! cargo run --release -p pyengine-core --example digest -- [size, default 20000]
//! ```

use pyengine_core::workloads;
use pyengine_core::Event;

fn main() {
    let size: usize = std::env::args()
        .nth(1)
        .map_or(20_000, |s| s.parse().unwrap());
    for name in workloads::NAMES {
        let w = workloads::generate(name, 7, size).unwrap();
        let mut eng = w.engine();
        let mut out: Vec<Event> = Vec::new();
        let mut d: u64 = 0xcbf2_9ce4_8422_2325;
        for (i, cmd) in w.commands.iter().enumerate() {
            out.clear();
            eng.process(i as u64 + 1, cmd, &mut out);
            for e in &out {
                for b in format!("{e:?}").bytes() {
                    d ^= u64::from(b);
                    d = d.wrapping_mul(0x100_0000_01b3);
                }
            }
        }
        eng.check_invariants().unwrap();
        println!(
            "{name:<18} events {d:016x} state {:016x} live {}",
            eng.state_hash(),
            eng.live_orders()
        );
    }
}
