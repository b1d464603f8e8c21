//! The memory floor under the deep-book figures: nanoseconds per *dependent*
//! random load (a pointer chase over 64-byte lines, each line visited once per
//! cycle) for buffers of the sizes the engine's slab and index reach, with
//! 4 KiB pages and with huge pages advised; plus the same with 8 independent
//! chases interleaved (how much memory-level parallelism the machine offers).
//!
//! ```text
//! cargo run --release -p pyengine-core --example memlat -- [MB ...]
//! ```
//!
//! A cancel in a book far larger than the caches needs at least three such
//! loads one after the other (id-index line -> order -> its neighbours), an
//! add at least two (index line, the order it queues behind), so the p50 of a
//! 10M-order book cannot come near that of a cache-resident one.

use std::time::Instant;

fn chase(mb: usize, huge: bool, chains: usize) -> f64 {
    let lines = mb << 14; // 64-byte lines
    let stride = 8; // u64 words per line
    let mut buf: Vec<u64> = Vec::with_capacity(lines * stride);
    if huge {
        pyengine_core::mem::advise_huge(buf.as_ptr().cast(), lines * 64);
    }
    buf.resize(lines * stride, 0);
    // A random cyclic permutation of the lines (xorshift, Fisher-Yates).
    let mut perm: Vec<u32> = (0..lines as u32).collect();
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..lines).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        perm.swap(i, (s % (i as u64 + 1)) as usize);
    }
    for i in 0..lines {
        buf[perm[i] as usize * stride] = perm[(i + 1) % lines] as u64;
    }
    let mut at: Vec<u64> = (0..chains)
        .map(|k| perm[k * lines / chains] as u64)
        .collect();
    let steps = 4_000_000 / chains;
    for _ in 0..steps / 4 {
        for p in at.iter_mut() {
            *p = buf[*p as usize * stride];
        }
    }
    let t = Instant::now();
    for _ in 0..steps {
        for p in at.iter_mut() {
            *p = buf[*p as usize * stride];
        }
    }
    let ns = t.elapsed().as_nanos() as f64 / (steps * chains) as f64;
    std::hint::black_box(&at);
    ns
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("sizes in MB"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1, 8, 32, 128, 1024]
    } else {
        sizes
    };
    println!(
        "ns per random load: dependent chain (1) and 8 independent chains, 4 KiB vs huge pages"
    );
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>10}",
        "MB", "1 x 4K", "1 x huge", "8 x 4K", "8 x huge"
    );
    for mb in sizes {
        println!(
            "{mb:>8} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            chase(mb, false, 1),
            chase(mb, true, 1),
            chase(mb, false, 8),
            chase(mb, true, 8)
        );
    }
}
