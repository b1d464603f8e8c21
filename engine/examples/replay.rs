//! Replays one workload's measured commands `--reps` times (each on a fresh
//! clone of the prefilled engine) and prints ops/s per run: a small target for
//! profilers (`perf record`, `valgrind --tool=callgrind`).
//!
//! ```text
//! cargo run --release -p pyengine-core --example replay -- mixed_70_20_10 [size] [reps] [batch|split]
//! ```

use std::time::Instant;

use pyengine_core::workloads;
use pyengine_core::{Command, Engine, Event};

/// The measured loop, kept out of line so that profilers can isolate it
/// (`valgrind --tool=callgrind --toggle-collect='replay::run'`).
#[inline(never)]
fn run(eng: &mut Engine, commands: &[Command], out: &mut Vec<Event>, batch: bool) {
    if batch {
        eng.process_batch(
            commands,
            |i| i as u64 + 1,
            out,
            |_, evs| {
                std::hint::black_box(evs);
            },
        );
    } else {
        for (i, cmd) in commands.iter().enumerate() {
            out.clear();
            eng.process(i as u64 + 1, cmd, out);
            std::hint::black_box(&*out);
        }
    }
}

/// Mean nanoseconds per command kind (rdtsc, x86-64 only; 1 tick ~ 1 ns here
/// is not assumed: ticks are converted with a rate measured against Instant).
#[cfg(target_arch = "x86_64")]
fn split(eng: &mut Engine, commands: &[Command], out: &mut Vec<Event>) {
    use std::arch::x86_64::_rdtsc;
    let t0 = (Instant::now(), unsafe { _rdtsc() });
    let mut sums = [(0u64, 0u64); 4];
    let mut prev = unsafe { _rdtsc() };
    for (i, cmd) in commands.iter().enumerate() {
        out.clear();
        eng.process(i as u64 + 1, cmd, out);
        let now = unsafe { _rdtsc() };
        let k = match cmd {
            Command::Submit(o) if o.tif == pyengine_core::Tif::Gtc => 0,
            Command::Submit(_) => 1,
            Command::Cancel { .. } => 2,
            _ => 3,
        };
        sums[k].0 += now - prev;
        sums[k].1 += 1;
        prev = now;
    }
    let ns_per_tick = t0.0.elapsed().as_nanos() as f64 / (unsafe { _rdtsc() } - t0.1) as f64;
    let total: u64 = sums.iter().map(|s| s.0).sum();
    for (name, (t, n)) in ["gtc", "ioc/market", "cancel", "other"].iter().zip(sums) {
        if n > 0 {
            println!(
                "  {name:<10} {n:>8} cmds  mean {:>6.0} ns  share of time {:>5.1}%",
                t as f64 * ns_per_tick / n as f64,
                100.0 * t as f64 / total as f64
            );
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "mixed_70_20_10".into());
    let size: usize = args.next().map_or(1_000_000, |s| s.parse().expect("size"));
    let reps: usize = args.next().map_or(5, |s| s.parse().expect("reps"));
    let mode = args.next().unwrap_or_default();
    let batch = mode == "batch";
    let w = workloads::generate(&name, 1, size).expect("known workload");
    let base = w.engine();
    let mut out: Vec<Event> = Vec::with_capacity(1024);
    for _ in 0..reps {
        let mut eng = base.clone();
        #[cfg(target_arch = "x86_64")]
        if mode == "split" {
            split(&mut eng, &w.commands, &mut out);
            continue;
        }
        let t0 = Instant::now();
        run(&mut eng, &w.commands, &mut out, batch);
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "{name} {}: {:.2}M ops/s  live {}  heap {:.1} B/order",
            if batch { "process_batch" } else { "process" },
            w.commands.len() as f64 / secs / 1e6,
            eng.live_orders(),
            eng.heap_bytes() as f64 / eng.live_orders().max(1) as f64
        );
        drop(std::hint::black_box(eng));
    }
}
