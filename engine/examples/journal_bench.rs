//! Journal and snapshot throughput.
//!
//! ```text
//! cargo run --release -p pyengine-core --example journal_bench -- [--commands N] [--workload NAME] [--dir PATH] [--keep]
//! ```
//!
//! * **append**: the `mixed_70_20_10` workload (seed 1; registrations, warm-up
//!   prefill and `N` measured commands, default 10,000,000) appended with
//!   `FsyncPolicy::Batch`, `commit()` (one write + fdatasync) every 1,000
//!   records, default 64 MiB segments; plus short runs under `Always` and `None`
//!   for comparison.
//! * **replay**: `JournalReader` from seq 1 + `Entry::apply` into a fresh
//!   engine (read + CRC + decode + apply), checked against the state hash of the
//!   engine that produced the commands; also read + decode alone and apply alone.
//!   The journal was just written, so it is read from the page cache.
//! * **recovery**: `JournalWriter::open` (validates every record), `recover()`
//!   with no snapshot, and `recover()` with a snapshot taken 1,000,000 records
//!   before the end.
//! * **snapshot**: `cancel_only` prefill of 1,000,000 resting orders: write
//!   (encode + write + fsync + rename), size, read (CRC + decode + rebuild).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pyengine_core::journal::{
    self, Entry, FsyncPolicy, JournalOptions, JournalReader, JournalWriter,
};
use pyengine_core::workloads;
use pyengine_core::{Command, Engine};

struct Args {
    commands: usize,
    dir: Option<PathBuf>,
    keep: bool,
    workload: String,
}

fn args() -> Args {
    let mut a = Args {
        commands: 10_000_000,
        dir: None,
        keep: false,
        workload: "mixed_70_20_10".to_string(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--commands" => a.commands = it.next().expect("N").replace('_', "").parse().expect("N"),
            "--dir" => a.dir = Some(PathBuf::from(it.next().expect("PATH"))),
            "--keep" => a.keep = true,
            "--workload" => a.workload = it.next().expect("NAME"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn rate(n: u64, d: Duration) -> String {
    format!("{:.2} M/s", n as f64 / d.as_secs_f64() / 1e6)
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

fn main() {
    let args = args();
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let root = base.join(format!("pyengine-journal-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    println!("work dir: {}", root.display());

    // ---- workload ----------------------------------------------------------
    let t = Instant::now();
    let w = workloads::generate(&args.workload, 1, args.commands).expect("known workload name");
    let entries = w.journal_entries();
    drop(w);
    let n = entries.len() as u64;
    println!(
        "workload {}: {} journal records ({} admin, {} commands), generated in {:.1?}",
        args.workload,
        n,
        entries
            .iter()
            .filter(|(_, e)| !matches!(e, Entry::Command(_)))
            .count(),
        entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Command(_)))
            .count(),
        t.elapsed()
    );

    // Reference engine and apply-only throughput.
    let mut reference = Engine::new();
    let mut events = Vec::with_capacity(64);
    let t = Instant::now();
    for (ts, e) in &entries {
        events.clear();
        e.apply(*ts, &mut reference, &mut events).unwrap();
    }
    let apply_only = t.elapsed();
    let expected_hash = reference.state_hash();
    println!(
        "apply only (in-memory commands): {:.2?} = {}",
        apply_only,
        rate(n, apply_only)
    );

    // ---- append ------------------------------------------------------------
    let jdir = root.join("journal");
    let mut w = JournalWriter::open(
        &jdir,
        JournalOptions {
            batch_max_records: usize::MAX,
            batch_max_bytes: usize::MAX,
            batch_interval: None,
            ..JournalOptions::with_fsync(FsyncPolicy::Batch)
        },
    )
    .unwrap();
    let mut commit_times = Vec::with_capacity(entries.len() / 1000 + 1);
    let t = Instant::now();
    for (i, (ts, e)) in entries.iter().enumerate() {
        match e {
            Entry::Command(cmd) => w.append(*ts, cmd).unwrap(),
            _ => w.append_entry(*ts, e).unwrap(),
        };
        if (i + 1) % 1000 == 0 {
            let c = Instant::now();
            w.commit().unwrap();
            commit_times.push(c.elapsed());
        }
    }
    w.commit().unwrap();
    let append = t.elapsed();
    assert_eq!(w.durable_seq(), n);
    w.close().unwrap();
    commit_times.sort_unstable();
    let pct = |p: f64| commit_times[((commit_times.len() - 1) as f64 * p) as usize];
    let bytes = dir_bytes(&jdir);
    println!(
        "append Batch, commit every 1,000: {} records in {:.2?} = {} ({:.0} MB/s); {} commits \
         (write+fdatasync) p50 {:.2?} p99 {:.2?} max {:.2?}; journal {:.1} MB in {} segments",
        n,
        append,
        rate(n, append),
        bytes as f64 / append.as_secs_f64() / 1e6,
        commit_times.len(),
        pct(0.5),
        pct(0.99),
        commit_times.last().unwrap(),
        bytes as f64 / 1e6,
        std::fs::read_dir(&jdir)
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "journal"))
            .count(),
    );

    // Other policies, short runs.
    for (policy, count) in [
        (FsyncPolicy::Always, 2_000usize),
        (FsyncPolicy::None, 1_000_000),
    ] {
        let d = root.join(format!("{policy:?}"));
        let mut w = JournalWriter::open(
            &d,
            JournalOptions {
                batch_interval: None,
                ..JournalOptions::with_fsync(policy)
            },
        )
        .unwrap();
        let count = count.min(entries.len());
        let t = Instant::now();
        for (i, (ts, e)) in entries.iter().take(count).enumerate() {
            w.append_entry(*ts, e).unwrap();
            if (i + 1) % 1000 == 0 {
                w.commit().unwrap();
            }
        }
        w.commit().unwrap();
        let el = t.elapsed();
        w.close().unwrap();
        println!(
            "append {policy:?}: {count} records in {el:.2?} = {}",
            rate(count as u64, el)
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    // ---- replay ------------------------------------------------------------
    let t = Instant::now();
    let mut count = 0u64;
    for rec in JournalReader::open(&jdir, 1).unwrap() {
        let rec = rec.unwrap();
        count += u64::from(matches!(rec.entry, Entry::Command(Command::Submit(_))));
    }
    let read_only = t.elapsed();
    assert!(count > 0);
    println!(
        "read + CRC + decode (no apply): {n} records in {read_only:.2?} = {}",
        rate(n, read_only)
    );

    let snap_at = n.saturating_sub(1_000_000).max(1);
    let sdir = root.join("journal"); // snapshots live next to the segments
    let t = Instant::now();
    let mut eng = Engine::new();
    let mut snap_write = None;
    for rec in JournalReader::open(&jdir, 1).unwrap() {
        let rec = rec.unwrap();
        events.clear();
        rec.entry.apply(rec.ts, &mut eng, &mut events).unwrap();
        if rec.seq == snap_at {
            let s = Instant::now();
            let p = eng.write_snapshot(&sdir, snap_at).unwrap();
            snap_write = Some((s.elapsed(), p, eng.live_orders()));
        }
    }
    let replay = t.elapsed();
    let (snap_time, snap_path, snap_orders) = snap_write.unwrap();
    let replay_net = replay - snap_time;
    assert_eq!(eng.state_hash(), expected_hash);
    println!(
        "replay (read + CRC + decode + apply): {n} records in {replay_net:.2?} = {} — state_hash matches",
        rate(n, replay_net)
    );
    drop(eng);
    let snap_bytes = std::fs::metadata(&snap_path).unwrap().len();

    // ---- recovery ------------------------------------------------------------
    // Without the snapshot first: move it aside.
    let aside = root.join("aside.snap");
    std::fs::rename(&snap_path, &aside).unwrap();
    let t = Instant::now();
    let w = JournalWriter::open(&jdir, JournalOptions::default()).unwrap();
    let open = t.elapsed();
    assert_eq!(w.last_seq(), n);
    drop(w);
    println!(
        "JournalWriter::open (validate every record, find the end): {open:.2?} = {}",
        rate(n, open)
    );
    let t = Instant::now();
    let (eng, last) = journal::recover(&jdir).unwrap();
    let rec_full = t.elapsed();
    assert_eq!((eng.state_hash(), last), (expected_hash, n));
    drop(eng);
    println!("recover(), no snapshot ({n} records): {rec_full:.2?}");
    std::fs::rename(&aside, &snap_path).unwrap();
    let t = Instant::now();
    let r = journal::recover_report(&jdir).unwrap();
    let rec_snap = t.elapsed();
    assert_eq!((r.engine.state_hash(), r.last_seq), (expected_hash, n));
    println!(
        "recover(), snapshot at seq {snap_at} ({snap_orders} live orders, {:.1} MB, written in {snap_time:.2?}) \
         + {} records: {rec_snap:.2?}",
        snap_bytes as f64 / 1e6,
        r.replayed
    );
    drop(r);
    if !args.keep {
        std::fs::remove_dir_all(&jdir).unwrap();
    }

    // ---- snapshot of 1M resting orders -----------------------------------------
    let w = workloads::generate("cancel_only", 1, 1_000_000).unwrap();
    let eng = w.engine();
    drop(w);
    let sdir = root.join("snap");
    let t = Instant::now();
    let bytes = eng.snapshot_bytes(1);
    let encode = t.elapsed();
    drop(bytes);
    let t = Instant::now();
    let path = eng.write_snapshot(&sdir, 1).unwrap();
    let write = t.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    let t = Instant::now();
    let (restored, _) = Engine::read_snapshot(&path).unwrap();
    let read = t.elapsed();
    assert_eq!(restored.state_hash(), eng.state_hash());
    let t = Instant::now();
    restored.check_invariants().unwrap();
    let check = t.elapsed();
    println!(
        "snapshot cancel_only 1M: {} live orders, {} levels/side; file {:.1} MB ({:.1} B/order); \
         encode {encode:.2?}, write (encode+write+fsync+rename) {write:.2?}, read (read+CRC+decode+rebuild) {read:.2?}; \
         check_invariants {check:.2?}",
        eng.live_orders(),
        eng.depth(0, usize::MAX).map_or(0, |(b, a)| b.len().max(a.len())),
        size as f64 / 1e6,
        size as f64 / eng.live_orders() as f64,
    );
    if !args.keep {
        std::fs::remove_dir_all(&root).unwrap();
    }
}
