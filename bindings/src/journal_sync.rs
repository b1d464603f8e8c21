//! `JournalSync`: the fdatasync half of a group commit, runnable on another
//! thread without the GIL while the engine goes on matching; `JournalSyncer`:
//! a thread that runs them and wakes an event loop through a socket.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use pyengine_core::journal::SyncTicket;
use pyo3::exceptions::{PyOSError, PyRuntimeError};
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

/// What the sync thread reports back.
#[derive(Default)]
struct Progress {
    /// Syncs finished, in submission order.
    finished: u64,
    /// The first failure; the thread stops syncing after it.
    error: Option<String>,
}

/// A thread of its own that fdatasyncs `JournalSync`s in submission order and
/// never touches Python, so it needs no GIL: an event loop watches `fileno()`
/// (readable after each finished sync) and calls `collect()`.
#[pyclass(name = "JournalSyncer", module = "pyengine")]
pub struct PyJournalSyncer {
    tx: Option<mpsc::Sender<SyncTicket>>,
    progress: Arc<Mutex<Progress>>,
    wake: UnixStream,
    submitted: VecDeque<Py<PyJournalSync>>,
    collected: u64,
    thread: Option<JoinHandle<()>>,
}

fn sync_loop(rx: mpsc::Receiver<SyncTicket>, progress: Arc<Mutex<Progress>>, mut wake: UnixStream) {
    for ticket in rx {
        let result = ticket.sync();
        {
            let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(_) => p.finished += 1,
                Err(e) => p.error = Some(e.to_string()),
            }
        }
        // One byte per event; a full socket buffer only means the loop has wake-ups pending already.
        let _ = wake.write(&[1]);
        if progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .error
            .is_some()
        {
            return;
        }
    }
}

#[pymethods]
impl PyJournalSyncer {
    #[new]
    fn new() -> PyResult<Self> {
        let (wake, worker_end) = UnixStream::pair().map_err(os_error)?;
        wake.set_nonblocking(true).map_err(os_error)?;
        worker_end.set_nonblocking(true).map_err(os_error)?;
        let (tx, rx) = mpsc::channel();
        let progress = Arc::new(Mutex::new(Progress::default()));
        let shared = Arc::clone(&progress);
        let thread = std::thread::Builder::new()
            .name("journal-sync".into())
            .spawn(move || sync_loop(rx, shared, worker_end))
            .map_err(os_error)?;
        Ok(PyJournalSyncer {
            tx: Some(tx),
            progress,
            wake,
            submitted: VecDeque::new(),
            collected: 0,
            thread: Some(thread),
        })
    }

    /// A file descriptor that becomes readable when a sync finishes (for
    /// `loop.add_reader`); `collect()` drains it.
    fn fileno(&self) -> i32 {
        self.wake.as_raw_fd()
    }

    /// Syncs not collected yet.
    fn __len__(&self) -> usize {
        self.submitted.len()
    }

    /// Queues `sync` for the thread; returns at once.
    fn submit(&mut self, sync: Py<PyJournalSync>) -> PyResult<()> {
        let Some(tx) = &self.tx else {
            return Err(PyRuntimeError::new_err("the JournalSyncer is closed"));
        };
        tx.send(sync.get().ticket.clone())
            .map_err(|_| PyRuntimeError::new_err("the journal sync thread has stopped"))?;
        self.submitted.push_back(sync);
        Ok(())
    }

    /// The syncs finished since the last call, oldest first (each now
    /// `synced`). Raises OSError once a sync failed; the failed one and every
    /// later one stay uncollected.
    fn collect(&mut self) -> PyResult<Vec<Py<PyJournalSync>>> {
        let mut sink = [0u8; 256];
        while matches!((&self.wake).read(&mut sink), Ok(n) if n > 0) {}
        let (finished, error) = {
            let p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
            (p.finished, p.error.clone())
        };
        let mut out = Vec::new();
        while self.collected < finished {
            let Some(sync) = self.submitted.pop_front() else {
                break;
            };
            sync.get().synced.store(true, Ordering::Release);
            out.push(sync);
            self.collected += 1;
        }
        if out.is_empty() {
            if let Some(e) = error {
                return Err(PyOSError::new_err(format!("journal fdatasync failed: {e}")));
            }
        }
        Ok(out)
    }

    /// Stops the thread after the queued syncs are done.
    fn close(&mut self, py: Python<'_>) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            py.detach(|| {
                let _ = t.join();
            });
        }
    }
}

impl Drop for PyJournalSyncer {
    fn drop(&mut self) {
        self.tx = None; // the thread ends after its queue; not joined here (no GIL to release)
    }
}
