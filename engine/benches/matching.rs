//! Replay throughput of every workload of `bench-workloads.md`
//! (generators in `pyengine_core::workloads`).
//!
//! Each iteration clones the prefilled engine (outside the timing) and replays
//! the measured commands on one thread; criterion reports commands per second.
//! Sizes are moderate so that `cargo bench -p pyengine-core` takes a few
//! minutes; `examples/latency.rs` runs the headline sizes and latency.
//!
//! Run one: `cargo bench -p pyengine-core --bench matching -- ec_single`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use pyengine_core::workloads::{self, Workload};
use pyengine_core::{Engine, Event};

const SEED: u64 = 1;

/// (workload, size) pairs; `size` means what `workloads::generate` says per workload.
const CASES: &[(&str, usize)] = &[
    ("ec_single", 300_000),
    ("liquibook_insert", 200_000),
    ("mixed_70_20_10", 200_000),
    ("aggressive_walk", 100_000),
    ("cancel_only", 200_000),
    // 1M resting orders on 10,000 levels; 100,000 measured adds and cancels.
    ("deep_book", 1_000_000),
    // 10,000 instruments, 200,000 resting orders.
    ("multi_symbol", 200_000),
];

fn replay(mut eng: Engine, mut out: Vec<Event>, w: &Workload) -> Engine {
    for (i, cmd) in w.commands.iter().enumerate() {
        out.clear();
        eng.process(i as u64 + 1, cmd, &mut out);
        black_box(&out);
    }
    eng
}

fn bench_workloads(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for &(name, size) in CASES {
        let w = workloads::generate(name, SEED, size).expect("known workload");
        let base = w.engine();
        group.throughput(Throughput::Elements(w.commands.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || (base.clone(), Vec::with_capacity(1024)),
                |(eng, out)| replay(eng, out, &w),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_workloads);
criterion_main!(benches);
