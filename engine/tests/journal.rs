//! Journal tests: round trips under every fsync policy across segment
//! rollovers, reopen, torn tails cut at every byte, every kind of corruption
//! (reported with segment file and byte offset, never skipped), and replay /
//! recovery reproducing the state hash of the engine that produced the commands.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pyengine_core::journal::{
    self, encode_record, Entry, FsyncPolicy, JournalError, JournalOptions, JournalReader,
    JournalRecord, JournalWriter, Problem, RecoveryError, RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE,
};
use pyengine_core::workloads;
use pyengine_core::{Command, Engine, InstrumentSpec, NewOrder};
use tempfile::TempDir;

// ---- helpers -------------------------------------------------------------------

/// The journal entries that build `workload`'s engine and run its commands:
/// registrations, prefill, measured commands; with their timestamps.
fn workload_entries(name: &str, seed: u64, size: usize) -> (Vec<(u64, Entry)>, Engine) {
    let w = workloads::generate(name, seed, size).unwrap();
    let entries = w.journal_entries();
    let mut eng = w.engine();
    let mut ts = w.prefill.len() as u64;
    workloads::replay(&mut eng, &w.commands, &mut ts);
    (entries, eng)
}

/// A small varied entry list: registrations with odd names, every command kind.
fn small_entries(n: usize) -> Vec<(u64, Entry)> {
    let mut out = vec![
        (
            1,
            Entry::AddInstrument {
                id: 0,
                spec: InstrumentSpec::new("SIXTEEN-BYTES-XX", 1, 1),
            },
        ),
        (
            2,
            Entry::AddAccount {
                id: 0,
                name: "alice".into(),
            },
        ),
        (
            3,
            Entry::AddAccount {
                id: 1,
                name: "b".repeat(56),
            },
        ),
    ];
    let mut rng = workloads::SplitMix64::new(5);
    while out.len() < n {
        let ts = out.len() as u64 + 1;
        let oid = rng.range(1, 50);
        let cmd = match rng.below(4) {
            0 | 1 => Command::Submit(NewOrder::limit(
                0,
                oid,
                rng.below(2) as u32,
                rng.side(),
                rng.range(1, 10),
                100 + rng.below(10) as i64 - 5,
            )),
            2 => Command::Cancel {
                instrument: 0,
                order_id: oid,
            },
            _ => Command::Amend {
                instrument: 0,
                order_id: oid,
                qty: Some(rng.range(1, 10)),
                price: None,
                stop_price: None,
            },
        };
        out.push((ts, Entry::Command(cmd)));
    }
    out
}

fn opts(fsync: FsyncPolicy, segment_max_bytes: u64) -> JournalOptions {
    JournalOptions {
        segment_max_bytes,
        ..JournalOptions::with_fsync(fsync)
    }
}

fn write_all(dir: &Path, options: JournalOptions, entries: &[(u64, Entry)]) -> u64 {
    let mut w = JournalWriter::open(dir, options).unwrap();
    let first = w.last_seq() + 1;
    for (i, (ts, e)) in entries.iter().enumerate() {
        let seq = match e {
            Entry::Command(cmd) => w.append(*ts, cmd).unwrap(),
            _ => w.append_entry(*ts, e).unwrap(),
        };
        assert_eq!(seq, first + i as u64);
    }
    w.commit().unwrap();
    let last = w.last_seq();
    assert_eq!(w.durable_seq(), last);
    w.close().unwrap();
    last
}

fn read_all(dir: &Path, start: u64) -> Result<Vec<JournalRecord>, JournalError> {
    JournalReader::open(dir, start)?.collect()
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "journal"))
        .collect();
    v.sort();
    v
}

fn record_len(e: &Entry) -> u64 {
    let mut buf = Vec::new();
    encode_record(&mut buf, 1, 1, e).unwrap();
    buf.len() as u64
}

/// Asserts `err` is corruption at `offset` of `segment` with a message naming both.
fn assert_corrupt(
    err: &JournalError,
    segment: &Path,
    offset: u64,
    check: impl Fn(&Problem) -> bool,
) {
    match err {
        JournalError::Corrupt {
            segment: s,
            offset: o,
            problem,
        } => {
            assert_eq!(s, segment, "{err}");
            assert_eq!(*o, offset, "{err}");
            assert!(check(problem), "unexpected problem: {err}");
        }
        other => panic!("expected corruption, got {other}"),
    }
    let msg = err.to_string();
    let name = segment.file_name().unwrap().to_str().unwrap();
    assert!(msg.contains(name), "{msg}");
    assert!(msg.contains(&format!("byte offset {offset}")), "{msg}");
}

fn patch(path: &Path, at: u64, bytes: &[u8]) {
    let mut data = fs::read(path).unwrap();
    data[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    fs::write(path, data).unwrap();
}

fn flip(path: &Path, at: u64) {
    let data = fs::read(path).unwrap();
    patch(path, at, &[data[at as usize] ^ 0x5a]);
}

/// A header with a correct CRC for arbitrary fields.
fn header(first_seq: u64, segment_no: u64, version: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"PYENGJNL");
    b.extend_from_slice(&version.to_le_bytes());
    b.extend_from_slice(&[0; 6]);
    b.extend_from_slice(&first_seq.to_le_bytes());
    b.extend_from_slice(&segment_no.to_le_bytes());
    let crc = crc32c::crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(b.len(), SEGMENT_HEADER_SIZE);
    b
}

/// A journal of `n` small entries in segments of at most `seg` bytes; returns its segments.
fn multi_segment(dir: &Path, n: usize, seg: u64) -> (Vec<(u64, Entry)>, Vec<PathBuf>) {
    let entries = small_entries(n);
    write_all(dir, opts(FsyncPolicy::None, seg), &entries);
    let segs = segments(dir);
    assert!(segs.len() >= 3, "{} segments", segs.len());
    (entries, segs)
}

fn first_seq_of(segment: &Path) -> u64 {
    segment
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Offsets of the records in a segment file.
fn record_offsets(path: &Path) -> Vec<u64> {
    let data = fs::read(path).unwrap();
    let mut at = SEGMENT_HEADER_SIZE;
    let mut out = Vec::new();
    while at < data.len() {
        out.push(at as u64);
        let len = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        at += RECORD_HEADER_SIZE + len;
    }
    out
}

// ---- round trips ---------------------------------------------------------------

#[test]
fn round_trip_across_rollovers_for_each_policy() {
    for (policy, n) in [
        (FsyncPolicy::Always, 300),
        (FsyncPolicy::Batch, 3_000),
        (FsyncPolicy::None, 3_000),
    ] {
        let tmp = TempDir::new().unwrap();
        let entries = small_entries(n);
        let seg_max = 4096;
        let last = write_all(tmp.path(), opts(policy, seg_max), &entries);
        assert_eq!(last, n as u64);
        let segs = segments(tmp.path());
        assert!(segs.len() > 3, "{policy:?}: {} segments", segs.len());
        for s in &segs {
            assert!(fs::metadata(s).unwrap().len() <= seg_max, "{}", s.display());
        }
        let got = read_all(tmp.path(), 1).unwrap();
        assert_eq!(got.len(), n);
        for (i, (rec, (ts, e))) in got.iter().zip(&entries).enumerate() {
            assert_eq!(rec.seq, i as u64 + 1);
            assert_eq!((rec.ts, &rec.entry), (*ts, e), "{policy:?} seq {}", rec.seq);
        }
        // Segment names are the first seq they hold.
        let mut expected_first = 1;
        for s in &segs {
            let name = s.file_stem().unwrap().to_str().unwrap();
            assert_eq!(name.parse::<u64>().unwrap(), expected_first);
            expected_first += record_offsets(s).len() as u64;
        }
    }
}

#[test]
fn workload_round_trip_with_default_options() {
    let (entries, _) = workload_entries("mixed_70_20_10", 3, 5_000);
    let tmp = TempDir::new().unwrap();
    write_all(tmp.path(), JournalOptions::default(), &entries);
    let got = read_all(tmp.path(), 1).unwrap();
    assert_eq!(got.len(), entries.len());
    assert!(got
        .iter()
        .zip(&entries)
        .all(|(r, (ts, e))| r.ts == *ts && &r.entry == e));
}

#[test]
fn batch_commits_on_record_byte_and_time_limits() {
    let cmd = Command::Cancel {
        instrument: 0,
        order_id: 1,
    };
    // Record limit.
    let tmp = TempDir::new().unwrap();
    let mut w = JournalWriter::open(
        tmp.path(),
        JournalOptions {
            batch_max_records: 10,
            batch_interval: None,
            ..JournalOptions::with_fsync(FsyncPolicy::Batch)
        },
    )
    .unwrap();
    for i in 1..=15 {
        w.append(i, &cmd).unwrap();
    }
    assert_eq!((w.last_seq(), w.durable_seq()), (15, 10));
    w.commit().unwrap();
    assert_eq!(w.durable_seq(), 15);
    drop(w);

    // Byte limit: 88-byte command records, 300 bytes -> every 4th append commits.
    let tmp = TempDir::new().unwrap();
    let mut w = JournalWriter::open(
        tmp.path(),
        JournalOptions {
            batch_max_bytes: 300,
            batch_interval: None,
            ..JournalOptions::with_fsync(FsyncPolicy::Batch)
        },
    )
    .unwrap();
    for i in 1..=6 {
        w.append(i, &cmd).unwrap();
    }
    assert_eq!(w.durable_seq(), 4);
    drop(w);

    // Interval, checked on append.
    let tmp = TempDir::new().unwrap();
    let mut w = JournalWriter::open(
        tmp.path(),
        JournalOptions {
            batch_interval: Some(Duration::from_millis(30)),
            ..JournalOptions::with_fsync(FsyncPolicy::Batch)
        },
    )
    .unwrap();
    w.append(1, &cmd).unwrap();
    w.append(2, &cmd).unwrap();
    assert_eq!(w.durable_seq(), 0);
    std::thread::sleep(Duration::from_millis(40));
    w.append(3, &cmd).unwrap();
    assert_eq!(w.durable_seq(), 3);
    w.append(4, &cmd).unwrap();
    assert_eq!(w.durable_seq(), 3);
    drop(w);

    // None: durable means handed to the OS; visible to a reader after commit.
    let tmp = TempDir::new().unwrap();
    let mut w = JournalWriter::open(
        tmp.path(),
        JournalOptions {
            batch_interval: None,
            ..JournalOptions::with_fsync(FsyncPolicy::None)
        },
    )
    .unwrap();
    w.append(1, &cmd).unwrap();
    assert_eq!(w.durable_seq(), 0);
    assert_eq!(read_all(tmp.path(), 1).unwrap().len(), 0);
    w.commit().unwrap();
    assert_eq!(w.durable_seq(), 1);
    assert_eq!(read_all(tmp.path(), 1).unwrap().len(), 1);

    // Always: durable on return.
    let tmp = TempDir::new().unwrap();
    let mut w = JournalWriter::open(tmp.path(), opts(FsyncPolicy::Always, 1 << 20)).unwrap();
    w.append(1, &cmd).unwrap();
    assert_eq!(w.durable_seq(), 1);
    assert_eq!(read_all(tmp.path(), 1).unwrap().len(), 1);
}

#[test]
fn reopen_continues_seqs() {
    let tmp = TempDir::new().unwrap();
    let entries = small_entries(400);
    let seg = 2048;
    write_all(tmp.path(), opts(FsyncPolicy::Batch, seg), &entries[..250]);
    let n_before = segments(tmp.path()).len();
    {
        let w = JournalWriter::open(tmp.path(), opts(FsyncPolicy::Batch, seg)).unwrap();
        assert_eq!(w.last_seq(), 250);
        assert_eq!(w.durable_seq(), 250);
        assert_eq!(w.open_report().records, 250);
        assert_eq!(w.open_report().truncated, None);
    }
    write_all(tmp.path(), opts(FsyncPolicy::Batch, seg), &entries[250..]);
    assert!(segments(tmp.path()).len() > n_before);
    let got = read_all(tmp.path(), 1).unwrap();
    assert_eq!(got.len(), 400);
    assert!(got
        .iter()
        .zip(&entries)
        .enumerate()
        .all(|(i, (r, (ts, e)))| r.seq == i as u64 + 1 && r.ts == *ts && &r.entry == e));
}

#[test]
fn pending_records_reach_the_os_when_the_writer_is_dropped() {
    let tmp = TempDir::new().unwrap();
    let entries = small_entries(20);
    {
        let mut w = JournalWriter::open(tmp.path(), opts(FsyncPolicy::Batch, 1 << 20)).unwrap();
        for (ts, e) in &entries {
            w.append_entry(*ts, e).unwrap();
        }
        assert_eq!(w.durable_seq(), 0);
    }
    assert_eq!(read_all(tmp.path(), 1).unwrap().len(), 20);
}

#[test]
fn a_second_writer_is_refused() {
    let tmp = TempDir::new().unwrap();
    let _w = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap();
    let err = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap_err();
    assert!(
        matches!(&err, JournalError::Io { source, .. } if source.kind() == std::io::ErrorKind::WouldBlock),
        "{err}"
    );
}

#[test]
fn empty_last_segment_after_rollover_is_fine() {
    let tmp = TempDir::new().unwrap();
    let entries = small_entries(50);
    write_all(tmp.path(), opts(FsyncPolicy::None, 1 << 20), &entries);
    // A crash right after creating the next segment leaves it with a header only.
    let segs = segments(tmp.path());
    let next = tmp.path().join(journal::segment_file_name(51));
    fs::write(&next, header(51, segs.len() as u64, 1)).unwrap();
    assert_eq!(read_all(tmp.path(), 1).unwrap().len(), 50);
    let mut w = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap();
    assert_eq!(w.last_seq(), 50);
    assert_eq!(w.segment_path(), next);
    assert_eq!(
        w.append(
            9,
            &Command::Cancel {
                instrument: 0,
                order_id: 1
            }
        )
        .unwrap(),
        51
    );
    w.close().unwrap();
    assert_eq!(read_all(tmp.path(), 1).unwrap().len(), 51);
}

#[test]
fn stale_temp_segment_is_removed_on_open() {
    let tmp = TempDir::new().unwrap();
    write_all(tmp.path(), JournalOptions::default(), &small_entries(10));
    let stale = tmp
        .path()
        .join(format!("{}.tmp", journal::segment_file_name(11)));
    fs::write(&stale, b"PYENG").unwrap();
    let w = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap();
    assert_eq!(w.open_report().removed_temp_files, vec![stale.clone()]);
    assert!(!stale.exists());
    assert_eq!(w.last_seq(), 10);
}

#[test]
fn reader_starts_anywhere_and_skips_earlier_segments() {
    let tmp = TempDir::new().unwrap();
    let (entries, segs) = multi_segment(tmp.path(), 500, 2048);
    for start in [1u64, 2, 47, 48, 100, 250, 499, 500] {
        let got = read_all(tmp.path(), start).unwrap();
        assert_eq!(got.len() as u64, 501 - start, "start {start}");
        assert_eq!(got[0].seq, start);
        assert_eq!(got[0].entry, entries[start as usize - 1].1);
    }
    assert!(read_all(tmp.path(), 501).unwrap().is_empty());
    assert!(read_all(tmp.path(), 10_000).unwrap().is_empty());
    // Segments before the start are not even opened: corrupting one does not matter.
    let third_first: u64 = segs[2]
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    fs::write(&segs[0], b"garbage").unwrap();
    assert_eq!(
        read_all(tmp.path(), third_first).unwrap()[0].seq,
        third_first
    );
    // ...but reading from before the first segment that exists is an error, not a skip.
    fs::remove_file(&segs[0]).unwrap();
    let second_first: u64 = segs[1]
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert_corrupt(&err, &segs[1], 16, |p| {
        *p == Problem::Missing {
            requested: 1,
            first_available: second_first,
        }
    });
    // open_all starts wherever the journal starts.
    let all: Vec<_> = JournalReader::open_all(tmp.path())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.first().unwrap().seq, second_first);
    assert_eq!(all.last().unwrap().seq, 500);
}

// ---- torn tails ----------------------------------------------------------------

#[test]
fn torn_tail_cut_at_every_byte_recovers_to_the_previous_record() {
    let entries = small_entries(120);
    // The last record is a command, the one before an admin record: cut both kinds.
    let mut entries_admin_last = entries.clone();
    entries_admin_last.push((
        500,
        Entry::AddAccount {
            id: 2,
            name: "carol".into(),
        },
    ));
    for entries in [entries, entries_admin_last] {
        let n = entries.len() as u64;
        let tmp = TempDir::new().unwrap();
        write_all(tmp.path(), opts(FsyncPolicy::None, 2048), &entries);
        let last_seg = segments(tmp.path()).pop().unwrap();
        let full = fs::read(&last_seg).unwrap();
        let rec = record_len(&entries.last().unwrap().1);
        let start = full.len() as u64 - rec;
        for cut in 1..rec {
            fs::write(&last_seg, &full[..(start + cut) as usize]).unwrap();
            // The reader returns every complete record, then reports the torn tail.
            let mut reader = JournalReader::open(tmp.path(), 1).unwrap();
            let mut count = 0;
            let err = loop {
                match reader.next_record() {
                    Ok(Some(_)) => count += 1,
                    Ok(None) => panic!("cut {cut}: torn tail not reported"),
                    Err(e) => break e,
                }
            };
            assert_eq!(count, n - 1, "cut {cut}");
            assert!(err.is_torn_tail(), "cut {cut}: {err}");
            assert_eq!(err.offset(), Some(start));
            assert_eq!(err.path(), last_seg);
            assert_eq!(reader.torn_tail(), Some((last_seg.as_path(), start)));
            assert!(reader.next_record().unwrap().is_none());
            // Recovery by the writer: truncate, continue after the previous record.
            let mut w = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap();
            assert_eq!(w.last_seq(), n - 1, "cut {cut}");
            assert_eq!(
                w.open_report().truncated,
                Some((last_seg.clone(), start, cut))
            );
            let (ts, e) = entries.last().unwrap();
            assert_eq!(w.append_entry(*ts, e).unwrap(), n);
            w.close().unwrap();
            assert_eq!(fs::read(&last_seg).unwrap(), full, "cut {cut}");
        }
    }
}

#[test]
fn torn_tail_bad_crc_and_zero_fill_are_truncated() {
    let entries = small_entries(60);
    let tmp = TempDir::new().unwrap();
    write_all(tmp.path(), opts(FsyncPolicy::None, 1 << 20), &entries);
    let seg = segments(tmp.path()).pop().unwrap();
    let full = fs::read(&seg).unwrap();
    let offsets = record_offsets(&seg);
    let last = *offsets.last().unwrap();

    // Bad CRC in the last record (complete length): torn.
    flip(&seg, last + 30);
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert!(err.is_torn_tail(), "{err}");
    assert_eq!(err.offset(), Some(last));
    assert!(matches!(err.problem(), Some(Problem::BadRecordCrc { .. })));

    // ... followed only by zeros (file extended, never written): still torn.
    let mut data = fs::read(&seg).unwrap();
    data.extend_from_slice(&[0u8; 5000]);
    fs::write(&seg, &data).unwrap();
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert!(err.is_torn_tail(), "{err}");
    assert_eq!(err.offset(), Some(last));

    // Good records followed by a zero-filled tail: the zeros are the torn tail.
    let mut data = full.clone();
    data.extend_from_slice(&[0u8; 300]);
    fs::write(&seg, &data).unwrap();
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert!(err.is_torn_tail(), "{err}");
    assert_eq!(err.offset(), Some(full.len() as u64));
    let w = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap();
    assert_eq!(w.last_seq(), 60);
    assert_eq!(
        w.open_report().truncated,
        Some((seg.clone(), full.len() as u64, 300))
    );
    drop(w);
    assert_eq!(fs::read(&seg).unwrap(), full);

    // A short zero tail (less than a record header) too.
    let mut data = full.clone();
    data.extend_from_slice(&[0u8; 7]);
    fs::write(&seg, &data).unwrap();
    assert!(read_all(tmp.path(), 1).unwrap_err().is_torn_tail());
}

// ---- corruption ----------------------------------------------------------------

#[test]
fn bad_magic_wrong_version_bad_header_crc() {
    for victim in [0usize, 1, 2] {
        // Bad magic.
        let tmp = TempDir::new().unwrap();
        let (_, segs) = multi_segment(tmp.path(), 300, 2048);
        let seg = &segs[victim.min(segs.len() - 1)];
        patch(seg, 0, b"XYENG");
        let err = read_all(tmp.path(), 1).unwrap_err();
        assert_corrupt(&err, seg, 0, |p| *p == Problem::BadMagic);

        // Wrong version (with a correct header CRC).
        let tmp = TempDir::new().unwrap();
        let (_, segs) = multi_segment(tmp.path(), 300, 2048);
        let seg = &segs[victim];
        let first: u64 = first_seq_of(seg);
        patch(seg, 0, &header(first, victim as u64, 2));
        let err = read_all(tmp.path(), 1).unwrap_err();
        assert_corrupt(&err, seg, 8, |p| *p == Problem::UnsupportedVersion(2));

        // Bad header CRC.
        let tmp = TempDir::new().unwrap();
        let (_, segs) = multi_segment(tmp.path(), 300, 2048);
        let seg = &segs[victim];
        flip(seg, 20);
        let err = read_all(tmp.path(), 1).unwrap_err();
        assert_corrupt(&err, seg, 32, |p| matches!(p, Problem::BadHeaderCrc { .. }));

        // The writer refuses the same journal and changes nothing.
        let before: Vec<Vec<u8>> = segs.iter().map(|s| fs::read(s).unwrap()).collect();
        let err = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap_err();
        assert_corrupt(&err, seg, 32, |p| matches!(p, Problem::BadHeaderCrc { .. }));
        let after: Vec<Vec<u8>> = segs.iter().map(|s| fs::read(s).unwrap()).collect();
        assert_eq!(before, after);
        assert_eq!(segments(tmp.path()), segs);
    }
}

#[test]
fn truncated_header_and_empty_segment_anywhere_are_errors() {
    for victim in [0usize, 1, usize::MAX] {
        let tmp = TempDir::new().unwrap();
        let (_, segs) = multi_segment(tmp.path(), 300, 2048);
        let seg = &segs[victim.min(segs.len() - 1)];
        fs::write(seg, &fs::read(seg).unwrap()[..20]).unwrap();
        let err = read_all(tmp.path(), 1).unwrap_err();
        assert_corrupt(&err, seg, 0, |p| *p == Problem::TruncatedHeader { len: 20 });
        assert!(JournalWriter::open(tmp.path(), JournalOptions::default()).is_err());

        fs::write(seg, b"").unwrap();
        let err = read_all(tmp.path(), 1).unwrap_err();
        assert_corrupt(&err, seg, 0, |p| *p == Problem::EmptySegment);
        let err = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap_err();
        assert_corrupt(&err, seg, 0, |p| *p == Problem::EmptySegment);
    }
}

#[test]
fn bad_record_crc_or_length_not_at_the_tail() {
    let tmp = TempDir::new().unwrap();
    let (_, segs) = multi_segment(tmp.path(), 300, 2048);
    let pristine: Vec<Vec<u8>> = segs.iter().map(|s| fs::read(s).unwrap()).collect();
    let restore = || {
        for (s, d) in segs.iter().zip(&pristine) {
            fs::write(s, d).unwrap();
        }
    };
    let last_seg = segs.len() - 1;
    assert!(record_offsets(&segs[last_seg]).len() >= 2);
    // (segment, record index): the middle of a segment, the last record of a
    // non-last segment, the first record of the last segment.
    let offsets0 = record_offsets(&segs[0]);
    let cases = [
        (0usize, 3usize),
        (0, offsets0.len() - 1),
        (1, 0),
        (last_seg, 0),
    ];
    for (si, ri) in cases {
        let seg = &segs[si];
        let at = record_offsets(seg)[ri];
        // Payload byte.
        flip(seg, at + 40);
        let err = read_all(tmp.path(), 1).unwrap_err();
        assert_corrupt(&err, seg, at, |p| matches!(p, Problem::BadRecordCrc { .. }));
        let err = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap_err();
        assert_corrupt(&err, seg, at, |p| matches!(p, Problem::BadRecordCrc { .. }));
        restore();
        // Seq field (covered by the CRC).
        flip(seg, at + 9);
        let err = read_all(tmp.path(), 1).unwrap_err();
        assert_corrupt(&err, seg, at, |p| matches!(p, Problem::BadRecordCrc { .. }));
        restore();
        // Impossible lengths.
        for len in [0u32, 7, 1 << 20, u32::MAX] {
            patch(seg, at, &len.to_le_bytes());
            let err = read_all(tmp.path(), 1).unwrap_err();
            assert_corrupt(&err, seg, at, |p| *p == Problem::BadLength(len));
            restore();
        }
        // A plausible but wrong length: the CRC (or the next record) fails.
        patch(seg, at, &65u32.to_le_bytes());
        let err = read_all(tmp.path(), 1).unwrap_err();
        assert!(matches!(err, JournalError::Corrupt { .. }), "{err}");
        restore();
    }
    assert_eq!(read_all(tmp.path(), 1).unwrap().len(), 300);
}

#[test]
fn partial_record_in_a_non_last_segment_is_corruption() {
    let tmp = TempDir::new().unwrap();
    let (_, segs) = multi_segment(tmp.path(), 300, 2048);
    let data = fs::read(&segs[1]).unwrap();
    let last = *record_offsets(&segs[1]).last().unwrap();
    fs::write(&segs[1], &data[..last as usize + 30]).unwrap();
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert_corrupt(&err, &segs[1], last, |p| {
        matches!(p, Problem::TruncatedRecord { have: 30, .. })
    });
    // A cut inside the record header too.
    fs::write(&segs[1], &data[..last as usize + 5]).unwrap();
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert_corrupt(&err, &segs[1], last, |p| {
        *p == Problem::TruncatedRecord { need: 24, have: 5 }
    });
}

#[test]
fn damage_before_the_last_record_of_the_last_segment_is_not_a_torn_tail() {
    let tmp = TempDir::new().unwrap();
    let (_, segs) = multi_segment(tmp.path(), 300, 2048);
    let seg = segs.last().unwrap();
    let offsets = record_offsets(seg);
    let second_last = offsets[offsets.len() - 2];
    flip(seg, second_last + 30);
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert_corrupt(&err, seg, second_last, |p| {
        matches!(p, Problem::BadRecordCrc { .. })
    });
    let before = fs::read(seg).unwrap();
    assert!(JournalWriter::open(tmp.path(), JournalOptions::default()).is_err());
    assert_eq!(fs::read(seg).unwrap(), before);
}

#[test]
fn missing_or_misplaced_segments() {
    // A missing segment in the middle.
    let tmp = TempDir::new().unwrap();
    let (_, segs) = multi_segment(tmp.path(), 300, 2048);
    let second_first: u64 = first_seq_of(&segs[1]);
    let third_first: u64 = first_seq_of(&segs[2]);
    fs::remove_file(&segs[1]).unwrap();
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert_corrupt(&err, &segs[2], 16, |p| {
        *p == Problem::Gap {
            expected: second_first,
            found: third_first,
        }
    });
    assert!(JournalWriter::open(tmp.path(), JournalOptions::default()).is_err());
    // Starting inside the segment before the gap hits it too.
    let err = read_all(tmp.path(), 3).unwrap_err();
    assert!(matches!(err.problem(), Some(Problem::Gap { .. })), "{err}");

    // A segment whose first seq overlaps the previous one (header and name agree).
    let tmp = TempDir::new().unwrap();
    let (_, segs) = multi_segment(tmp.path(), 300, 2048);
    let second_first: u64 = first_seq_of(&segs[1]);
    let data = fs::read(&segs[1]).unwrap();
    fs::remove_file(&segs[1]).unwrap();
    let moved = tmp
        .path()
        .join(journal::segment_file_name(second_first - 3));
    let mut moved_data = header(second_first - 3, 1, 1);
    moved_data.extend_from_slice(&data[SEGMENT_HEADER_SIZE..]);
    fs::write(&moved, moved_data).unwrap();
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert_corrupt(&err, &moved, 16, |p| {
        *p == Problem::Gap {
            expected: second_first,
            found: second_first - 3,
        }
    });

    // Header first seq disagreeing with the file name.
    let tmp = TempDir::new().unwrap();
    let (_, segs) = multi_segment(tmp.path(), 300, 2048);
    let second_first: u64 = first_seq_of(&segs[1]);
    patch(&segs[1], 0, &header(second_first + 1, 1, 1));
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert_corrupt(&err, &segs[1], 16, |p| {
        *p == Problem::NameMismatch {
            name_seq: second_first,
            header_seq: second_first + 1,
        }
    });

    // Segment number out of sequence.
    let tmp = TempDir::new().unwrap();
    let (_, segs) = multi_segment(tmp.path(), 300, 2048);
    let second_first: u64 = first_seq_of(&segs[1]);
    patch(&segs[1], 0, &header(second_first, 7, 1));
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert_corrupt(&err, &segs[1], 24, |p| {
        *p == Problem::SegmentNumber {
            expected: 1,
            found: 7,
        }
    });
}

#[test]
fn record_seq_or_payload_wrong_under_a_valid_crc() {
    // A record whose seq skips (valid CRC): corruption, at any position.
    let tmp = TempDir::new().unwrap();
    let (entries, segs) = multi_segment(tmp.path(), 300, 2048);
    let seg = segs.last().unwrap();
    let offsets = record_offsets(seg);
    let at = *offsets.last().unwrap();
    let first_seq_of_seg: u64 = first_seq_of(seg);
    let seq = first_seq_of_seg + offsets.len() as u64 - 1;
    let mut rec = Vec::new();
    let (ts, e) = &entries[seq as usize - 1];
    encode_record(&mut rec, seq + 1, *ts, e).unwrap();
    patch(seg, at, &rec);
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert_corrupt(&err, seg, at, |p| {
        *p == Problem::SeqMismatch {
            expected: seq,
            found: seq + 1,
        }
    });
    // Not a torn tail: the writer refuses it.
    assert!(!err.is_torn_tail());
    assert!(JournalWriter::open(tmp.path(), JournalOptions::default()).is_err());

    // A command record that does not decode (bad op code) under a valid CRC.
    let mut rec = Vec::new();
    encode_record(
        &mut rec,
        seq,
        *ts,
        &Entry::Command(Command::Cancel {
            instrument: 0,
            order_id: 1,
        }),
    )
    .unwrap();
    rec[RECORD_HEADER_SIZE + 56] = 99;
    let crc = crc32c::crc32c(&rec[8..]);
    rec[4..8].copy_from_slice(&crc.to_le_bytes());
    patch(seg, at, &rec);
    let err = read_all(tmp.path(), 1).unwrap_err();
    assert_corrupt(&err, seg, at, |p| matches!(p, Problem::BadPayload(_)));
}

// ---- replay and recovery -------------------------------------------------------

#[test]
fn replay_reproduces_the_state_hash() {
    for (name, seed, size) in [("mixed_70_20_10", 11, 20_000), ("ec_single", 4, 20_000)] {
        let (entries, expected) = workload_entries(name, seed, size);
        let tmp = TempDir::new().unwrap();
        write_all(tmp.path(), opts(FsyncPolicy::Batch, 256 << 10), &entries);
        assert!(segments(tmp.path()).len() > 3);
        // By hand with the reader...
        let mut eng = Engine::new();
        let mut events = Vec::new();
        for rec in JournalReader::open(tmp.path(), 1).unwrap() {
            let rec = rec.unwrap();
            rec.entry.apply(rec.ts, &mut eng, &mut events).unwrap();
        }
        assert_eq!(eng.state_hash(), expected.state_hash(), "{name}");
        eng.check_invariants().unwrap();
        // ... and with recover().
        let (eng, last) = journal::recover(tmp.path()).unwrap();
        assert_eq!(last, entries.len() as u64);
        assert_eq!(eng.state_hash(), expected.state_hash(), "{name}");
    }
}

#[test]
fn recovery_uses_the_newest_valid_snapshot_then_the_journal() {
    let (entries, expected) = workload_entries("mixed_70_20_10", 21, 10_000);
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let mut w = JournalWriter::open(dir, opts(FsyncPolicy::Batch, 128 << 10)).unwrap();
    let mut eng = Engine::new();
    let mut events = Vec::new();
    let mut snapshots = Vec::new();
    for (i, (ts, e)) in entries.iter().enumerate() {
        let seq = w.append_entry(*ts, e).unwrap();
        e.apply(*ts, &mut eng, &mut events).unwrap();
        if i % 4_000 == 3_999 {
            w.commit().unwrap();
            snapshots.push((eng.write_snapshot(dir, seq).unwrap(), seq, eng.state_hash()));
        }
    }
    w.close().unwrap();
    assert_eq!(eng.state_hash(), expected.state_hash());

    let r = journal::recover_report(dir).unwrap();
    let (newest, newest_seq, _) = &snapshots.last().unwrap();
    assert_eq!(r.snapshot, Some((newest.clone(), *newest_seq)));
    assert_eq!(r.replayed, entries.len() as u64 - newest_seq);
    assert_eq!(r.last_seq, entries.len() as u64);
    assert_eq!(r.engine.state_hash(), expected.state_hash());
    assert!(r.skipped_snapshots.is_empty());

    // A corrupt newest snapshot is skipped (and reported); the older one plus more journal.
    flip(newest, 100);
    let r = journal::recover_report(dir).unwrap();
    let (older, older_seq, _) = &snapshots[snapshots.len() - 2];
    assert_eq!(r.snapshot, Some((older.clone(), *older_seq)));
    assert_eq!(r.skipped_snapshots.len(), 1);
    assert_eq!(&r.skipped_snapshots[0].path, newest);
    assert_eq!(r.engine.state_hash(), expected.state_hash());

    // Without any snapshot: the whole journal.
    for (p, _, _) in &snapshots {
        fs::remove_file(p).unwrap();
    }
    let (eng2, last) = journal::recover(dir).unwrap();
    assert_eq!(
        (eng2.state_hash(), last),
        (expected.state_hash(), entries.len() as u64)
    );

    // Old segments removed after a snapshot: recovery needs only the segments after it.
    let (_, seq0, hash0) = snapshots[0].clone();
    let mut e = Engine::new();
    for (ts, en) in &entries[..seq0 as usize] {
        en.apply(*ts, &mut e, &mut events).unwrap();
    }
    assert_eq!(e.state_hash(), hash0);
    e.write_snapshot(dir, seq0).unwrap();
    let segs = segments(dir);
    let firsts: Vec<u64> = segs.iter().map(|s| first_seq_of(s)).collect();
    let mut removed = 0;
    for i in 0..segs.len() - 1 {
        if firsts[i + 1] <= seq0 + 1 {
            fs::remove_file(&segs[i]).unwrap();
            removed += 1;
        }
    }
    assert!(removed > 0);
    let r = journal::recover_report(dir).unwrap();
    assert_eq!(r.engine.state_hash(), expected.state_hash());
    assert_eq!(r.snapshot.as_ref().unwrap().1, seq0);
    // Without the snapshot the remaining journal is not enough: an error, not a partial state.
    fs::remove_file(dir.join(pyengine_core::snapshot::snapshot_file_name(seq0))).unwrap();
    let err = journal::recover(dir).err().unwrap();
    assert!(
        matches!(
            &err,
            RecoveryError::Journal(JournalError::Corrupt {
                problem: Problem::Missing { requested: 1, .. },
                ..
            })
        ),
        "{err}"
    );
}

#[test]
fn recovery_ignores_a_torn_tail_and_recover_and_open_truncates_it() {
    let (entries, _) = workload_entries("mixed_70_20_10", 2, 3_000);
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    write_all(dir, opts(FsyncPolicy::Batch, 64 << 10), &entries);
    let seg = segments(dir).pop().unwrap();
    let len = fs::metadata(&seg).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    // The engine as of all records but the torn last one.
    let mut expected = Engine::new();
    let mut ev = Vec::new();
    for (ts, e) in &entries[..entries.len() - 1] {
        e.apply(*ts, &mut expected, &mut ev).unwrap();
    }
    let r = journal::recover_report(dir).unwrap();
    assert_eq!(r.last_seq, entries.len() as u64 - 1);
    assert_eq!(
        r.torn_tail.as_ref().map(|(p, _)| p.clone()),
        Some(seg.clone())
    );
    assert_eq!(r.engine.state_hash(), expected.state_hash());

    let (r, mut w) = journal::recover_and_open(dir, JournalOptions::default()).unwrap();
    assert_eq!(r.torn_tail, None);
    assert_eq!(w.last_seq(), entries.len() as u64 - 1);
    assert!(w.open_report().truncated.is_some());
    let (ts, last) = entries.last().unwrap();
    assert_eq!(w.append_entry(*ts, last).unwrap(), entries.len() as u64);
    w.close().unwrap();
    let (_, expected_full) = workload_entries("mixed_70_20_10", 2, 3_000);
    assert_eq!(
        journal::recover(dir).unwrap().0.state_hash(),
        expected_full.state_hash()
    );
}

#[test]
fn recover_and_open_after_a_snapshot_in_an_empty_journal_directory() {
    let (entries, expected) = workload_entries("mixed_70_20_10", 8, 2_000);
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let half = entries.len() / 2;
    let mut eng = Engine::new();
    let mut ev = Vec::new();
    for (ts, e) in &entries[..half] {
        e.apply(*ts, &mut eng, &mut ev).unwrap();
    }
    eng.write_snapshot(dir, half as u64).unwrap();
    let (r, mut w) = journal::recover_and_open(dir, JournalOptions::default()).unwrap();
    assert_eq!((r.last_seq, w.last_seq()), (half as u64, half as u64));
    for (ts, e) in &entries[half..] {
        w.append_entry(*ts, e).unwrap();
    }
    w.close().unwrap();
    let (eng, last) = journal::recover(dir).unwrap();
    assert_eq!(last, entries.len() as u64);
    assert_eq!(eng.state_hash(), expected.state_hash());
}

#[test]
fn recovering_a_directory_that_does_not_exist_gives_an_empty_engine() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("not-yet");
    let r = journal::recover_report(&dir).unwrap();
    assert_eq!((r.last_seq, r.replayed, r.snapshot), (0, 0, None));
    assert_eq!(r.engine.state_hash(), Engine::new().state_hash());
    assert!(read_all(&dir, 1).unwrap().is_empty());
    let (_, mut w) = journal::recover_and_open(&dir, JournalOptions::default()).unwrap();
    assert_eq!(w.append_add_account(1, 0, "a").unwrap(), 1);
}

#[test]
fn recovery_errors() {
    // A journal that ends before the snapshot it sits next to.
    let (entries, _) = workload_entries("mixed_70_20_10", 9, 1_000);
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    write_all(dir, JournalOptions::default(), &entries[..100]);
    let (eng, _) = journal::recover(dir).unwrap();
    eng.write_snapshot(dir, 500).unwrap();
    let err = journal::recover(dir).err().unwrap();
    assert!(
        matches!(
            err,
            RecoveryError::JournalBehindSnapshot {
                snapshot_seq: 500,
                journal_last_seq: 100,
                ..
            }
        ),
        "{err}"
    );

    // A registration that does not get its recorded id.
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let bad = vec![
        (
            1,
            Entry::AddInstrument {
                id: 0,
                spec: InstrumentSpec::new("A", 1, 1),
            },
        ),
        (
            2,
            Entry::AddAccount {
                id: 5,
                name: "x".into(),
            },
        ),
    ];
    write_all(dir, JournalOptions::default(), &bad);
    let err = journal::recover(dir).err().unwrap();
    assert!(matches!(err, RecoveryError::Apply { seq: 2, .. }), "{err}");
    assert!(err.to_string().contains("record 2"), "{err}");

    // Corruption surfaces as a journal error.
    let tmp = TempDir::new().unwrap();
    let (_, segs) = multi_segment(tmp.path(), 300, 2048);
    flip(&segs[0], 100);
    let err = journal::recover(tmp.path()).err().unwrap();
    assert!(
        matches!(err, RecoveryError::Journal(JournalError::Corrupt { .. })),
        "{err}"
    );
}

#[test]
fn overlong_names_are_refused_not_truncated() {
    let tmp = TempDir::new().unwrap();
    let mut w = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap();
    let err = w
        .append_add_account(1, 0, &"n".repeat(journal::MAX_NAME_BYTES + 1))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    // The writer is still usable after refusing input.
    assert_eq!(w.append_add_account(1, 0, "ok").unwrap(), 1);
    let spec = InstrumentSpec::new("S", 1, 1);
    assert_eq!(w.append_add_instrument(2, 0, &spec).unwrap(), 2);
    w.close().unwrap();
    assert_eq!(read_all(tmp.path(), 1).unwrap().len(), 2);
}

/// Any command: the pipelined-commit tests only count records.
const SOME_COMMAND: Command = Command::Cancel {
    instrument: 0,
    order_id: 1,
};

#[test]
fn flush_hands_records_to_the_os_and_a_ticket_syncs_them_on_another_thread() {
    let cmd = SOME_COMMAND;
    let tmp = TempDir::new().unwrap();
    let mut w = JournalWriter::open(
        tmp.path(),
        JournalOptions {
            auto_commit: false,
            batch_max_records: 2,
            batch_interval: Some(Duration::ZERO),
            segment_max_bytes: 4096,
            ..JournalOptions::with_fsync(FsyncPolicy::Batch)
        },
    )
    .unwrap();
    // auto_commit off: neither the record limit nor the interval syncs inside append.
    for i in 1..=5 {
        w.append(i, &cmd).unwrap();
    }
    assert_eq!((w.last_seq(), w.durable_seq()), (5, 0));
    let ticket = w.flush().unwrap();
    assert_eq!(ticket.upto(), 5);
    assert_eq!(
        read_all(tmp.path(), 1).unwrap().len(),
        5,
        "flushed = readable"
    );
    assert_eq!(w.durable_seq(), 0, "not durable before the ticket's sync");
    // The writer goes on while another thread syncs; rollovers in between are fine.
    let syncer = std::thread::spawn(move || (ticket.sync().unwrap(), ticket));
    for i in 6..=120 {
        w.append(i, &cmd).unwrap();
    }
    let (upto, ticket) = syncer.join().unwrap();
    assert_eq!(upto, 5);
    w.mark_synced(&ticket);
    assert!(w.durable_seq() >= 5, "rollovers may have synced more");
    let later = w.flush().unwrap();
    later.sync().unwrap();
    w.mark_synced(&later);
    w.mark_synced(&ticket); // an older ticket never moves durability back
    assert_eq!(w.durable_seq(), 120);
    drop(w);
    assert_eq!(read_all(tmp.path(), 1).unwrap().len(), 120);
}

#[test]
fn without_auto_commit_the_byte_limit_only_writes() {
    let cmd = SOME_COMMAND;
    let tmp = TempDir::new().unwrap();
    let mut w = JournalWriter::open(
        tmp.path(),
        JournalOptions {
            auto_commit: false,
            batch_max_bytes: 300,
            ..JournalOptions::with_fsync(FsyncPolicy::Batch)
        },
    )
    .unwrap();
    for i in 1..=6 {
        w.append(i, &cmd).unwrap();
    }
    assert_eq!(w.durable_seq(), 0);
    assert_eq!(read_all(tmp.path(), 1).unwrap().len(), 4, "bounded memory");
    w.commit().unwrap();
    assert_eq!(w.durable_seq(), 6);
}

#[test]
fn a_failed_sync_stops_the_writer() {
    let tmp = TempDir::new().unwrap();
    let mut w = JournalWriter::open(tmp.path(), JournalOptions::default()).unwrap();
    let cmd = SOME_COMMAND;
    w.append(1, &cmd).unwrap();
    let _ticket = w.flush().unwrap();
    w.mark_failed();
    assert!(w.append(2, &cmd).is_err());
    assert!(w.flush().is_err());
    assert!(w.commit().is_err());
}
