//! `JournalSync`: the fdatasync half of a group commit, runnable on another
//! thread without the GIL while the engine goes on matching.

use std::sync::atomic::{AtomicBool, Ordering};

use pyengine_core::journal::SyncTicket;
use pyo3::prelude::*;

use crate::errors::os_error;

/// Journal records handed to the OS by `Engine.flush_journal()`, not yet known
/// to be on disk. `sync()` fdatasyncs them (releasing the GIL, so call it from
/// a worker thread); then `Engine.mark_durable(sync)` counts them as durable.
#[pyclass(name = "JournalSync", module = "pyengine", frozen)]
pub struct PyJournalSync {
    pub(crate) ticket: SyncTicket,
    pub(crate) synced: AtomicBool,
}

#[pymethods]
impl PyJournalSync {
    /// The last journal seq this sync makes durable.
    #[getter]
    fn upto(&self) -> u64 {
        self.ticket.upto()
    }

    /// True once `sync()` has returned successfully.
    #[getter]
    fn synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    /// fdatasyncs the journal up to `upto` without holding the GIL; returns
    /// `upto`. Raises OSError if the disk reports a failure: the records'
    /// state is then unknown and the engine must be reopened.
    fn sync(&self, py: Python<'_>) -> PyResult<u64> {
        let upto = py.detach(|| self.ticket.sync()).map_err(os_error)?;
        self.synced.store(true, Ordering::Release);
        Ok(upto)
    }

    fn __repr__(&self) -> String {
        format!(
            "JournalSync(upto={}, synced={})",
            self.ticket.upto(),
            self.synced()
        )
    }
}
