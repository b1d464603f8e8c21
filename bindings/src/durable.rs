//! Journaling for `Engine.open(...)`: every state change is appended to the
//! journal before it is applied, and recovery rebuilds the engine from the
//! newest snapshot plus the journal tail.

use std::path::PathBuf;
use std::time::Duration;

use pyengine_core::journal::{recover_and_open, FsyncPolicy, JournalOptions, JournalWriter};
use pyengine_core::{Command, Timestamp};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::{journal_error, os_error};

/// The journal state of an engine.
pub enum Journal {
    /// A plain in-memory engine.
    Off,
    Open {
        writer: Box<JournalWriter>,
        dir: PathBuf,
    },
    /// `close()` was called: state changes are refused so none goes unjournaled.
    Closed,
}

pub fn fsync_policy(text: &str) -> PyResult<FsyncPolicy> {
    match text {
        "always" => Ok(FsyncPolicy::Always),
        "batch" => Ok(FsyncPolicy::Batch),
        "none" => Ok(FsyncPolicy::None),
        other => Err(PyValueError::new_err(format!(
            "unknown fsync policy {other:?}; expected one of always, batch, none"
        ))),
    }
}

pub struct OpenArgs {
    pub fsync: FsyncPolicy,
    pub segment_max_bytes: Option<u64>,
    pub batch_max_records: Option<usize>,
    pub batch_interval_ms: Option<f64>,
    pub auto_commit: bool,
}

/// Recovers the engine in `dir` (snapshot + journal tail) and opens its journal for appending.
pub fn open(dir: PathBuf, args: OpenArgs) -> PyResult<(pyengine_core::Engine, Journal)> {
    let mut options = JournalOptions::with_fsync(args.fsync);
    options.auto_commit = args.auto_commit;
    if let Some(b) = args.segment_max_bytes {
        if b < 4096 {
            return Err(PyValueError::new_err(format!(
                "segment_max_bytes must be at least 4096, got {b}"
            )));
        }
        options.segment_max_bytes = b;
    }
    if let Some(n) = args.batch_max_records {
        if n == 0 {
            return Err(PyValueError::new_err("batch_max_records must be positive"));
        }
        options.batch_max_records = n;
    }
    if let Some(ms) = args.batch_interval_ms {
        if !(ms.is_finite() && ms >= 0.0) {
            return Err(PyValueError::new_err(format!(
                "batch_interval_ms must be a non-negative number, got {ms}"
            )));
        }
        options.batch_interval = Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let (recovery, writer) = recover_and_open(&dir, options).map_err(journal_error)?;
    Ok((
        recovery.engine,
        Journal::Open {
            writer: Box::new(writer),
            dir,
        },
    ))
}

impl Journal {
    /// The writer, or an error if the journal was closed; `None` for a plain engine.
    pub fn writer(&mut self) -> PyResult<Option<&mut JournalWriter>> {
        match self {
            Journal::Off => Ok(None),
            Journal::Open { writer, .. } => Ok(Some(writer)),
            Journal::Closed => Err(PyRuntimeError::new_err(
                "the engine's journal is closed; reopen it with Engine.open(path)",
            )),
        }
    }

    pub fn append(&mut self, ts: Timestamp, cmd: &Command) -> PyResult<()> {
        if let Some(w) = self.writer()? {
            w.append(ts, cmd).map_err(os_error)?;
        }
        Ok(())
    }

    pub fn open_writer(&mut self) -> PyResult<(&mut JournalWriter, &PathBuf)> {
        match self {
            Journal::Open { writer, dir } => Ok((writer, dir)),
            Journal::Off => Err(PyRuntimeError::new_err(
                "this engine has no journal; create it with Engine.open(path)",
            )),
            Journal::Closed => Err(PyRuntimeError::new_err(
                "the engine's journal is closed; reopen it with Engine.open(path)",
            )),
        }
    }
}
