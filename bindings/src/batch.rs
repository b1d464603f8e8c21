//! The batch API: packed command records in, packed event records out.

use std::mem::MaybeUninit;

use pyengine_core::journal::JournalWriter;
use pyengine_core::records::{
    decode_command, encode_event, COMMAND_RECORD_SIZE, EVENT_RECORD_SIZE,
};
use pyengine_core::{Engine, Event, PREFETCH_MIN_ORDERS};

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
    fn get(obj: &Bound<'_, PyAny>, flags: std::os::raw::c_int) -> PyResult<RawBuffer> {
        let mut view: Box<MaybeUninit<ffi::Py_buffer>> = Box::new(MaybeUninit::uninit());
        // SAFETY: `view` is a valid, writable Py_buffer slot; on success the
        // exporter fills it and we release it exactly once in Drop.
        let rc = unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), view.as_mut_ptr(), flags) };
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

    /// The bytes, writable: only for a view obtained with `PyBUF_WRITABLE`.
    fn bytes_mut(&mut self) -> &mut [u8] {
        let len = self.view.len as usize;
        if len == 0 || self.view.readonly != 0 {
            return &mut [];
        }
        // SAFETY: as `bytes`, and the exporter granted write access (readonly == 0);
        // `&mut self` makes this the only slice of the view.
        unsafe { std::slice::from_raw_parts_mut(self.view.buf.cast::<u8>(), len) }
    }
}

impl Drop for RawBuffer {
    fn drop(&mut self) {
        // SAFETY: the view was obtained by PyObject_GetBuffer and not yet released;
        // dropped inside a #[pymethods] call, so the GIL is held.
        unsafe { ffi::PyBuffer_Release(&mut *self.view) };
    }
}

/// Commands per chunk when events go into a caller's array: the chunk's events
/// stay in the cache between the engine writing them and the copy out.
const CHUNK: usize = 2048;

std::thread_local! {
    /// Reused event buffer of the chunked path (one per thread, kept warm).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The command records of `commands`, after the dtype and size checks.
fn command_buffer(
    records: &Bound<'_, PyModule>,
    commands: &Bound<'_, PyAny>,
) -> PyResult<RawBuffer> {
    if let Ok(dtype) = commands.getattr("dtype") {
        let expected = records.getattr("COMMAND_DTYPE")?;
        if !dtype.eq(&expected)? {
            return Err(PyTypeError::new_err(format!(
                "commands must have dtype pyengine.COMMAND_DTYPE, got {}",
                dtype.repr()?
            )));
        }
    }
    let buffer = RawBuffer::get(commands, ffi::PyBUF_C_CONTIGUOUS)?;
    let len = buffer.bytes().len();
    if len % COMMAND_RECORD_SIZE != 0 {
        return Err(PyValueError::new_err(format!(
            "command buffer of {len} bytes is not a whole number of {COMMAND_RECORD_SIZE}-byte records"
        )));
    }
    Ok(buffer)
}

/// The writable event records of `out`: a C-contiguous numpy array of `EVENT_DTYPE`.
fn out_buffer(records: &Bound<'_, PyModule>, out: &Bound<'_, PyAny>) -> PyResult<RawBuffer> {
    let dtype = out
        .getattr("dtype")
        .map_err(|_| PyTypeError::new_err("out must be a numpy array of pyengine.EVENT_DTYPE"))?;
    if !dtype.eq(records.getattr("EVENT_DTYPE")?)? || out.getattr("ndim")?.extract::<usize>()? != 1
    {
        return Err(PyTypeError::new_err(format!(
            "out must be a one-dimensional array of pyengine.EVENT_DTYPE, got dtype {}",
            dtype.repr()?
        )));
    }
    RawBuffer::get(out, ffi::PyBUF_C_CONTIGUOUS | ffi::PyBUF_WRITABLE).map_err(|e| {
        PyValueError::new_err(format!("out must be a writable C-contiguous array: {e}"))
    })
}

pub fn submit_batch<'py>(
    engine: &mut Engine,
    journal: &mut Journal,
    py: Python<'py>,
    commands: &Bound<'py, PyAny>,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let records = py.import("pyengine._records")?;
    let mut target = out.map(|o| out_buffer(&records, o)).transpose()?;
    let buffer = command_buffer(&records, commands)?;
    let bytes = buffer.bytes();
    if let Some(dest) = target.as_mut() {
        let (c, d) = (bytes.as_ptr_range(), dest.bytes_mut().as_ptr_range());
        if !bytes.is_empty() && c.start < d.end && d.start < c.end {
            return Err(PyValueError::new_err(
                "out must not share memory with commands",
            ));
        }
    }
    let journaled = journal.writer()?.is_some();
    if let (Some(dest), false) = (target.as_mut(), journaled) {
        if let Some(n) = process_into(engine, bytes, dest.bytes_mut())? {
            drop(target);
            return out
                .expect("target implies out")
                .get_item(pyo3::types::PySlice::new(
                    py,
                    0,
                    (n / EVENT_RECORD_SIZE) as isize,
                    1,
                ));
        }
        // Did not fit: `process_into` left every event in SCRATCH.
        let data = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        drop(buffer);
        let raw = Bound::new(py, EventRecords { data })?;
        return records.getattr("events_from_buffer")?.call1((raw,));
    }
    let mut events = Vec::with_capacity(bytes.len() / COMMAND_RECORD_SIZE * EVENT_RECORD_SIZE * 2);
    // A fresh buffer of up to hundreds of MB, written once front to back:
    // huge pages turn one page fault per 4 KiB into one per 2 MiB.
    pyengine_core::mem::advise_huge(events.as_ptr(), events.capacity());
    if let Some(writer) = journal.writer()? {
        journal_batch(engine, writer, bytes, &mut events)?;
    } else {
        engine.process_records(bytes, &mut events);
    }
    drop(buffer);
    if let Some(dest) = target.as_mut() {
        let dest = dest.bytes_mut();
        if events.len() <= dest.len() {
            dest[..events.len()].copy_from_slice(&events);
            let n = events.len() / EVENT_RECORD_SIZE;
            drop(target);
            return out
                .expect("target implies out")
                .get_item(pyo3::types::PySlice::new(py, 0, n as isize, 1));
        }
    }
    let raw = Bound::new(py, EventRecords { data: events })?;
    records.getattr("events_from_buffer")?.call1((raw,))
}

/// Applies `bytes`, copying the events into `dest`. Returns the bytes written,
/// or None when the events did not fit: then every event of the batch (those
/// already copied included) is in SCRATCH.
///
/// A small book is run command by command, each command's events encoded into
/// a small reused buffer and copied straight out; a book large enough for the
/// core's lookahead prefetch is run through `process_records` in chunks.
fn process_into(engine: &mut Engine, bytes: &[u8], dest: &mut [u8]) -> PyResult<Option<usize>> {
    SCRATCH.with(|cell| {
        let mut scratch = cell.borrow_mut();
        let mut pos = 0;
        let mut events = Vec::with_capacity(16);
        let mut rest = bytes;
        while !rest.is_empty() {
            let prefetching = engine.live_orders() >= PREFETCH_MIN_ORDERS;
            let take = if prefetching { CHUNK } else { 1 } * COMMAND_RECORD_SIZE;
            let (chunk, tail) = rest.split_at(take.min(rest.len()));
            rest = tail;
            scratch.clear();
            if prefetching {
                engine.process_records(chunk, &mut scratch);
            } else {
                let rec: &[u8; COMMAND_RECORD_SIZE] = chunk.try_into().expect("one record");
                process_one(engine, rec, &mut events, &mut scratch);
            }
            if pos + scratch.len() <= dest.len() {
                dest[pos..pos + scratch.len()].copy_from_slice(&scratch);
                pos += scratch.len();
                continue;
            }
            // Does not fit: everything from here on goes to a fresh buffer.
            let mut all = Vec::with_capacity(
                2 * (pos + scratch.len() + rest.len() / COMMAND_RECORD_SIZE * EVENT_RECORD_SIZE),
            );
            all.extend_from_slice(&dest[..pos]);
            all.extend_from_slice(&scratch);
            engine.process_records(rest, &mut all);
            *scratch = all;
            return Ok(None);
        }
        if scratch.capacity() > (CHUNK * EVENT_RECORD_SIZE) << 4 {
            // A chunk of giant sweeps grew it: do not keep that much memory per thread.
            *scratch = Vec::new();
        }
        Ok(Some(pos))
    })
}

/// One command record, as `process_records` runs it (a malformed record is
/// rejected as "invalid_command"), its events appended to `out`.
fn process_one(
    engine: &mut Engine,
    rec: &[u8; COMMAND_RECORD_SIZE],
    events: &mut Vec<Event>,
    out: &mut Vec<u8>,
) {
    events.clear();
    match decode_command(rec) {
        Ok((ts, cmd)) => engine.process(ts, &cmd, events),
        // The core's own rejection of a malformed record, one record long.
        Err(_) => return engine.process_records(rec, out),
    }
    for ev in events.iter() {
        encode_event(ev, out);
    }
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
