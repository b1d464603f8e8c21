//! The batch API: packed command records in, packed event records out.

use std::mem::MaybeUninit;

use pyengine_core::journal::JournalWriter;
use pyengine_core::records::{
    decode_command, encode_event, COMMAND_RECORD_SIZE, EVENT_RECORD_SIZE,
};
use pyengine_core::Engine;

use crate::durable::Journal;
use crate::errors::os_error;
use pyo3::exceptions::{PyBufferError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;

/// A C-contiguous byte view of any buffer-protocol object, whatever its item format.
///
/// pyo3's typed `PyBuffer<u8>` insists on format "B"; a numpy structured array
/// exports its record format, so the raw C API is used with no format request.
struct RawBuffer {
    view: Box<ffi::Py_buffer>,
}

impl RawBuffer {
    fn get(obj: &Bound<'_, PyAny>) -> PyResult<RawBuffer> {
        let mut view: Box<MaybeUninit<ffi::Py_buffer>> = Box::new(MaybeUninit::uninit());
        // SAFETY: `view` is a valid, writable Py_buffer slot; on success the
        // exporter fills it and we release it exactly once in Drop.
        let rc = unsafe {
            ffi::PyObject_GetBuffer(obj.as_ptr(), view.as_mut_ptr(), ffi::PyBUF_C_CONTIGUOUS)
        };
        if rc != 0 {
            return Err(PyErr::take(obj.py())
                .unwrap_or_else(|| PyTypeError::new_err("object does not export a buffer")));
        }
        // SAFETY: initialised by the successful PyObject_GetBuffer above.
        let view = unsafe { Box::from_raw(Box::into_raw(view).cast::<ffi::Py_buffer>()) };
        Ok(RawBuffer { view })
    }

    fn bytes(&self) -> &[u8] {
        let len = self.view.len as usize;
        if len == 0 {
            return &[];
        }
        // SAFETY: the exporter guarantees `len` readable contiguous bytes at
        // `buf` while the view is held; the GIL is held for our whole use.
        unsafe { std::slice::from_raw_parts(self.view.buf as *const u8, len) }
    }
}

impl Drop for RawBuffer {
    fn drop(&mut self) {
        // SAFETY: the view was obtained by PyObject_GetBuffer and not yet released;
        // dropped inside a #[pymethods] call, so the GIL is held.
        unsafe { ffi::PyBuffer_Release(&mut *self.view) };
    }
}

pub fn submit_batch<'py>(
    engine: &mut Engine,
    journal: &mut Journal,
    py: Python<'py>,
    commands: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let records = py.import("pyengine._records")?;
    if let Ok(dtype) = commands.getattr("dtype") {
        let expected = records.getattr("COMMAND_DTYPE")?;
        if !dtype.eq(&expected)? {
            return Err(PyTypeError::new_err(format!(
                "commands must have dtype pyengine.COMMAND_DTYPE, got {}",
                dtype.repr()?
            )));
        }
    }
    let buffer = RawBuffer::get(commands)?;
    let bytes = buffer.bytes();
    if bytes.len() % COMMAND_RECORD_SIZE != 0 {
        return Err(PyValueError::new_err(format!(
            "command buffer of {} bytes is not a whole number of {COMMAND_RECORD_SIZE}-byte records",
            bytes.len()
        )));
    }
    let mut out = Vec::with_capacity(bytes.len() / COMMAND_RECORD_SIZE * EVENT_RECORD_SIZE * 2);
    // A fresh buffer of up to hundreds of MB, written once front to back:
    // huge pages turn one page fault per 4 KiB into one per 2 MiB.
    pyengine_core::mem::advise_huge(out.as_ptr(), out.capacity());
    if let Some(writer) = journal.writer()? {
        journal_batch(engine, writer, bytes, &mut out)?;
    } else {
        engine.process_records(bytes, &mut out);
    }
    drop(buffer);
    let raw = Bound::new(py, EventRecords { data: out })?;
    records.getattr("events_from_buffer")?.call1((raw,))
}

/// Journals and applies a batch: the whole batch is decoded first (a journaled
/// engine refuses a malformed record with ValueError, applying nothing), then
/// each command is appended before it is applied, and the batch is committed
/// once (group commit).
fn journal_batch(
    engine: &mut Engine,
    writer: &mut JournalWriter,
    bytes: &[u8],
    out: &mut Vec<u8>,
) -> PyResult<()> {
    let mut commands = Vec::with_capacity(bytes.len() / COMMAND_RECORD_SIZE);
    for (i, chunk) in bytes.chunks_exact(COMMAND_RECORD_SIZE).enumerate() {
        let rec: &[u8; COMMAND_RECORD_SIZE] = chunk.try_into().expect("exact chunk");
        let decoded = decode_command(rec).map_err(|_| {
            PyValueError::new_err(format!(
                "command record {i} has an invalid op, side, type, tif or stp code; nothing was applied"
            ))
        })?;
        commands.push(decoded);
    }
    let mut events = Vec::with_capacity(16);
    for (ts, cmd) in &commands {
        writer.append(*ts, cmd).map_err(os_error)?;
        events.clear();
        engine.process(*ts, cmd, &mut events);
        for ev in &events {
            encode_event(ev, out);
        }
    }
    writer.commit().map_err(os_error)
}

/// Packed event records owned by Rust and lent to numpy without a copy.
/// Immutable after creation, so the exported pointer stays valid for the
/// object's lifetime (numpy keeps the object alive as the array's base).
#[pyclass(module = "pyengine._engine", frozen)]
pub struct EventRecords {
    data: Vec<u8>,
}

#[pymethods]
impl EventRecords {
    /// Read-only buffer export of the records.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: std::os::raw::c_int,
    ) -> PyResult<()> {
        if flags & ffi::PyBUF_WRITABLE == ffi::PyBUF_WRITABLE {
            return Err(PyBufferError::new_err("event records are read-only"));
        }
        let data = &slf.get().data;
        // SAFETY: `view` comes from the interpreter; the data outlives the view
        // because the view holds a reference to `slf`, and it is never mutated.
        let rc = unsafe {
            ffi::PyBuffer_FillInfo(
                view,
                slf.as_ptr(),
                data.as_ptr() as *mut std::os::raw::c_void,
                data.len() as ffi::Py_ssize_t,
                1,
                flags,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(PyErr::take(slf.py())
                .unwrap_or_else(|| PyBufferError::new_err("buffer export failed")))
        }
    }

    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {}

    fn __len__(&self) -> usize {
        self.data.len()
    }
}
