//! Read-only journal tools behind `python -m pyengine.journal`: inspect, verify, replay.

use std::path::{Path, PathBuf};

use pyengine_core::journal::{recover_report, Entry, JournalError, JournalReader};
use pyengine_core::{snapshot, Engine};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::durable::Journal;
use crate::engine::PyEngine;
use crate::errors::journal_error;

/// Calls `progress(done, total_estimate)` this often (records).
const PROGRESS_EVERY: u64 = 1 << 16;

/// Sum of segment file sizes, for a progress estimate.
fn journal_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".journal"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// What a pass over the journal found.
struct Pass {
    records: u64,
    commands: u64,
    first: Option<u64>,
    last: Option<u64>,
    /// A torn tail (recovery truncates it), described.
    torn: Option<String>,
}

/// Reads the whole journal from its first record, validating everything, and
/// applies it to `engine` when one is given.
fn replay_into(
    py: Python<'_>,
    dir: &Path,
    engine: Option<&mut Engine>,
    progress: Option<&Bound<'_, PyAny>>,
    covered_upto: u64,
) -> PyResult<Pass> {
    let mut reader = JournalReader::open_all(dir).map_err(journal_error)?;
    let total = journal_bytes(dir) / 88;
    let (mut records, mut commands, mut first, mut last) = (0u64, 0u64, None, None);
    let mut events = Vec::new();
    let mut engine = engine;
    loop {
        let rec = match reader.next_record() {
            Ok(Some(rec)) => rec,
            Ok(None) => break,
            Err(e @ JournalError::TornTail { .. }) => {
                return Ok(Pass {
                    records,
                    commands,
                    first,
                    last,
                    torn: Some(e.to_string()),
                })
            }
            Err(e) => return Err(journal_error(e)),
        };
        if first.is_none() && rec.seq > covered_upto + 1 {
            // The records before the first segment are gone (a deleted or lost segment)
            // and no snapshot stands in for them: refuse rather than rebuild a wrong state.
            return Err(journal_error(format!(
                "journal in {} starts at record {} but records {}..{} are missing and no snapshot covers them",
                dir.display(),
                rec.seq,
                covered_upto + 1,
                rec.seq - 1
            )));
        }
        first.get_or_insert(rec.seq);
        last = Some(rec.seq);
        records += 1;
        if matches!(rec.entry, Entry::Command(_)) {
            commands += 1;
        }
        if let Some(eng) = engine.as_deref_mut() {
            events.clear();
            rec.entry.apply(rec.ts, eng, &mut events).map_err(|e| {
                journal_error(format!("journal record {} does not apply: {e}", rec.seq))
            })?;
        }
        if records % PROGRESS_EVERY == 0 {
            if let Some(cb) = progress {
                cb.call1((records, total.max(records)))?;
            }
            py.check_signals()?;
        }
    }
    if let Some(cb) = progress {
        cb.call1((records, records))?;
    }
    Ok(Pass {
        records,
        commands,
        first,
        last,
        torn: None,
    })
}

/// Journal seq covered by the newest snapshot file in `dir` (0 if none).
fn newest_snapshot_seq(dir: &Path) -> u64 {
    snapshot::list(dir)
        .ok()
        .and_then(|l| l.into_iter().map(|(seq, _)| seq).max())
        .unwrap_or(0)
}

/// Summary of the journal and snapshots in `path`, validating every record.
/// Raises JournalError naming segment and offset on corruption; a torn tail is
/// reported in the result (recovery truncates it).
#[pyfunction]
#[pyo3(signature = (path, progress=None))]
pub fn journal_inspect<'py>(
    py: Python<'py>,
    path: PathBuf,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    if !path.is_dir() {
        return Err(pyo3::exceptions::PyFileNotFoundError::new_err(format!(
            "no journal directory at {}",
            path.display()
        )));
    }
    let Pass {
        records,
        commands,
        first,
        last,
        torn,
    } = replay_into(py, &path, None, progress, newest_snapshot_seq(&path))?;
    let mut segments: Vec<(String, u64)> = std::fs::read_dir(&path)
        .map_err(|e| journal_error(format!("cannot list {}: {e}", path.display())))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".journal"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().map_or(0, |m| m.len()),
            )
        })
        .collect();
    segments.sort();
    let snaps: Vec<(u64, String)> = snapshot::list(&path)
        .map_err(|e| journal_error(format!("cannot list snapshots in {}: {e}", path.display())))?
        .into_iter()
        .map(|(seq, p)| (seq, p.display().to_string()))
        .collect();
    let d = PyDict::new(py);
    d.set_item("path", path.display().to_string())?;
    d.set_item("segments", segments)?;
    d.set_item("records", records)?;
    d.set_item("commands", commands)?;
    d.set_item("first_seq", first)?;
    d.set_item("last_seq", last)?;
    d.set_item("torn_tail", torn)?;
    d.set_item("snapshots", snaps)?;
    Ok(d)
}

/// Rebuilds the engine from the journal in `path` without changing any file:
/// from the first record (default) or, with `from_snapshot=True`, from the
/// newest valid snapshot plus the journal tail. Returns `(engine, summary)`;
/// the engine has no journal attached.
#[pyfunction]
#[pyo3(signature = (path, *, from_snapshot=false, progress=None))]
pub fn journal_replay<'py>(
    py: Python<'py>,
    path: PathBuf,
    from_snapshot: bool,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<(PyEngine, Bound<'py, PyDict>)> {
    if !path.is_dir() {
        return Err(pyo3::exceptions::PyFileNotFoundError::new_err(format!(
            "no journal directory at {}",
            path.display()
        )));
    }
    let d = PyDict::new(py);
    let engine = if from_snapshot {
        let r = py.detach(|| recover_report(&path)).map_err(journal_error)?;
        d.set_item(
            "snapshot",
            r.snapshot
                .as_ref()
                .map(|(p, seq)| (p.display().to_string(), *seq)),
        )?;
        d.set_item("records", r.replayed)?;
        d.set_item("last_seq", r.last_seq)?;
        d.set_item(
            "torn_tail",
            r.torn_tail
                .as_ref()
                .map(|(p, off)| format!("{} at byte offset {off}", p.display())),
        )?;
        r.engine
    } else {
        let mut engine = Engine::new();
        let Pass {
            records,
            commands,
            first,
            last,
            torn,
        } = replay_into(py, &path, Some(&mut engine), progress, 0)?;
        d.set_item("snapshot", py.None())?;
        d.set_item("records", records)?;
        d.set_item("commands", commands)?;
        d.set_item("first_seq", first)?;
        d.set_item("last_seq", last)?;
        d.set_item("torn_tail", torn)?;
        engine
    };
    d.set_item("state_hash", engine.state_hash())?;
    d.set_item("seq", engine.seq())?;
    d.set_item("live_orders", engine.live_orders())?;
    Ok((PyEngine::from_core(Some(py), engine, Journal::Off), d))
}
