//! Python bindings for the `pyengine-fix` FIX 4.4 codec: a streaming framer
//! yielding checked messages, and an encoder. Errors become three exception
//! types that tell the session layer what to do (disconnect, ignore, reject).

use pyengine_fix::spec::HEADER_TAGS;
use pyengine_fix::{
    Encoder, FieldError, FrameError, Framer, FramerConfig, GarbledKind, Message, Reject, SOH,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyInt, PyList, PyString, PyTuple};

create_exception!(
    pyengine._engine,
    FixDisconnect,
    PyException,
    "The FIX byte stream cannot be framed: the session must disconnect. The message says why."
);

create_exception!(
    pyengine._engine,
    FixGarbled,
    PyException,
    "A garbled FIX message (bad CheckSum or BodyLength) was dropped: send no Reject and consume no \
sequence number. Attributes: kind (str), bytes_dropped (int)."
);

create_exception!(
    pyengine._engine,
    FixSessionReject,
    PyException,
    "A well-framed FIX message broke a session-level rule: answer with Reject (35=3). args is \
(reason, ref_tag, ref_msg_type, ref_seq_num, text); the same values are the attributes reason \
(int, tag 373), ref_tag (int | None, 371), ref_msg_type (str | None, 372), ref_seq_num \
(int | None, 45) and text (str, 58)."
);

const _: () = assert!(pyengine_fix::DEFAULT_MAX_MESSAGE_SIZE == 65536);

/// Tags `encode_fix` writes itself; callers may not pass them.
const ENCODER_TAGS: [u32; 8] = [8, 9, 10, 34, 35, 49, 52, 56];

fn frame_error(py: Python<'_>, err: FrameError) -> PyErr {
    match err {
        FrameError::Fatal(f) => FixDisconnect::new_err(f.to_string()),
        FrameError::Garbled(g) => {
            let kind = match g.kind {
                GarbledKind::ChecksumMismatch { .. } => "checksum_mismatch",
                GarbledKind::BadChecksumFormat => "bad_checksum_format",
                GarbledKind::BodyLengthMismatch { .. } => "body_length_mismatch",
            };
            let text = format!("{:?}, {} bytes dropped", g.kind, g.bytes_dropped);
            let e = FixGarbled::new_err(text);
            let v = e.value(py);
            if let Err(err) = v
                .setattr("kind", kind)
                .and_then(|()| v.setattr("bytes_dropped", g.bytes_dropped))
            {
                return err;
            }
            e
        }
        FrameError::Reject(r) => session_reject(py, r),
    }
}

fn session_reject(py: Python<'_>, r: Reject) -> PyErr {
    let reason = r.reason.code();
    let ref_msg_type = r
        .ref_msg_type
        .as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let e = FixSessionReject::new_err((
        reason,
        r.ref_tag,
        ref_msg_type.clone(),
        r.ref_seq_num,
        r.text.clone(),
    ));
    let v = e.value(py);
    let set = v
        .setattr("reason", reason)
        .and_then(|()| v.setattr("ref_tag", r.ref_tag))
        .and_then(|()| v.setattr("ref_msg_type", ref_msg_type))
        .and_then(|()| v.setattr("ref_seq_num", r.ref_seq_num))
        .and_then(|()| v.setattr("text", r.text));
    match set {
        Ok(()) => e,
        Err(err) => err,
    }
}

fn field_error(err: FieldError) -> PyErr {
    PyValueError::new_err(err.to_string())
}

/// Splits a received FIX 4.4 byte stream into checked messages.
#[pyclass(name = "FixFramer", module = "pyengine._engine")]
pub struct FixFramer {
    inner: Framer,
}

#[pymethods]
impl FixFramer {
    // 65536 is pyengine_fix::DEFAULT_MAX_MESSAGE_SIZE, written as a literal
    // so the text signature (and the stub) shows it.
    #[new]
    #[pyo3(signature = (max_message_size=65536, validate=true, sender_comp_id=None, target_comp_id=None))]
    fn new(
        max_message_size: usize,
        validate: bool,
        sender_comp_id: Option<String>,
        target_comp_id: Option<String>,
    ) -> PyResult<Self> {
        if max_message_size == 0 {
            return Err(PyValueError::new_err("max_message_size must be positive"));
        }
        let expected_comp_ids = match (sender_comp_id, target_comp_id) {
            (Some(s), Some(t)) => Some((s.into_bytes(), t.into_bytes())),
            (None, None) => None,
            _ => {
                return Err(PyValueError::new_err(
                    "give both sender_comp_id and target_comp_id, or neither",
                ))
            }
        };
        Ok(Self {
            inner: Framer::with_config(FramerConfig {
                max_message_size,
                validate,
                expected_comp_ids,
            }),
        })
    }

    /// Appends received bytes (ignored once the framer has failed).
    fn push(&mut self, data: &[u8]) {
        self.inner.push(data);
    }

    /// The next complete message, or None if more bytes are needed.
    fn next(&mut self, py: Python<'_>) -> PyResult<Option<FixMessage>> {
        match self.inner.next_message() {
            Ok(m) => Ok(m.map(|inner| FixMessage { inner })),
            Err(e) => Err(frame_error(py, e)),
        }
    }

    /// Bytes received but not yet consumed.
    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }

    fn __repr__(&self) -> String {
        format!("FixFramer(buffered={})", self.inner.buffered())
    }
}

/// One checked FIX message: its fields in wire order (8, 9, ..., 10).
#[pyclass(name = "FixMessage", module = "pyengine._engine", frozen)]
pub struct FixMessage {
    inner: Message,
}

#[pymethods]
impl FixMessage {
    /// MsgType (35).
    #[getter]
    fn msg_type(&self) -> String {
        String::from_utf8_lossy(self.inner.msg_type().unwrap_or_default()).into_owned()
    }

    /// MsgSeqNum (34), if present and well-formed.
    #[getter]
    fn seq_num(&self) -> Option<u64> {
        self.inner.seq_num()
    }

    /// PossDupFlag (43) is Y.
    #[getter]
    fn poss_dup(&self) -> bool {
        self.inner.is_poss_dup()
    }

    /// Every field as (tag, value) in wire order, header and trailer included.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> Vec<(u32, Bound<'py, PyBytes>)> {
        self.inner
            .fields()
            .map(|(t, v)| (t, PyBytes::new(py, v)))
            .collect()
    }

    /// The exact bytes received.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.raw())
    }

    /// The first value of `tag` as text, or None if absent.
    fn get(&self, tag: u32) -> PyResult<Option<&str>> {
        match self.inner.get_str(tag) {
            Ok(s) => Ok(Some(s)),
            Err(FieldError::Missing(_)) => Ok(None),
            Err(e) => Err(field_error(e)),
        }
    }

    /// `get(tag)` for each of `tags` in one call (a NewOrderSingle needs a
    /// dozen), as a tuple.
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        tags: Vec<u32>,
    ) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
        let values = tags
            .iter()
            .map(|&tag| self.get(tag))
            .collect::<PyResult<Vec<_>>>()?;
        pyo3::types::PyTuple::new(py, values)
    }

    /// The first value of `tag` as an integer, or None if absent; ValueError if malformed.
    fn get_int(&self, tag: u32) -> PyResult<Option<i64>> {
        match self.inner.get_i64(tag) {
            Ok(v) => Ok(Some(v)),
            Err(FieldError::Missing(_)) => Ok(None),
            Err(e) => Err(field_error(e)),
        }
    }

    /// The first value of `tag` as an exact (mantissa, scale) decimal, or None if absent.
    fn get_decimal(&self, tag: u32) -> PyResult<Option<(i128, u32)>> {
        match self.inner.get_decimal(tag) {
            Ok(d) => Ok(Some((d.mantissa, d.scale))),
            Err(FieldError::Missing(_)) => Ok(None),
            Err(e) => Err(field_error(e)),
        }
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        let seq = self
            .inner
            .seq_num()
            .map_or_else(|| "None".to_owned(), |s| s.to_string());
        format!(
            "FixMessage(msg_type={:?}, seq_num={seq}, fields={})",
            self.msg_type(),
            self.inner.len()
        )
    }
}

/// One `(tag, value)` pair of `encode_fix`'s fields.
fn field_pair<'py>(item: &Bound<'py, PyAny>) -> PyResult<(u32, Bound<'py, PyAny>)> {
    if let Ok(t) = item.cast::<PyTuple>() {
        if t.len() == 2 {
            return Ok((t.get_item(0)?.extract::<u32>()?, t.get_item(1)?));
        }
    }
    item.extract::<(u32, Bound<'py, PyAny>)>()
}

/// Appends the value of one `(tag, value)` pair to the encoder.
fn add_field(enc: &mut Encoder, tag: u32, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if ENCODER_TAGS.contains(&tag) {
        return Err(PyValueError::new_err(format!(
            "tag {tag} is written by encode_fix itself"
        )));
    }
    if tag == 0 {
        return Err(PyValueError::new_err("tag 0 is not a valid FIX tag"));
    }
    let header = HEADER_TAGS.contains(&tag);
    // Type checks, not trial extractions: a failed extract builds a Python
    // exception, and reports carry a dozen fields each.
    let number;
    let text: &[u8] = if let Ok(s) = value.cast::<PyString>() {
        s.to_str()?.as_bytes()
    } else if let Ok(b) = value.cast::<PyBytes>() {
        b.as_bytes()
    } else if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "tag {tag}: bool is not accepted; pass 'Y' or 'N'"
        )));
    } else if value.is_instance_of::<PyInt>() {
        number = match value.extract::<i64>() {
            Ok(i) => i.to_string(),
            Err(_) => value
                .extract::<u64>()
                .map_err(|_| {
                    PyValueError::new_err(format!(
                        "tag {tag}: integer {value} does not fit in 64 bits"
                    ))
                })?
                .to_string(),
        };
        number.as_bytes()
    } else {
        return Err(PyTypeError::new_err(format!(
            "tag {tag}: value must be str, int or bytes"
        )));
    };
    if text.is_empty() {
        return Err(PyValueError::new_err(format!("tag {tag}: empty value")));
    }
    if text.contains(&SOH) {
        return Err(PyValueError::new_err(format!(
            "tag {tag}: value contains SOH"
        )));
    }
    if header {
        enc.header_field(tag, text);
    } else {
        enc.field(tag, text);
    }
    Ok(())
}

/// Encodes one FIX 4.4 message with header 8, 9, 35, 49, 56, 34, 52 (then
/// any other standard-header tags given, in order), the body fields in
/// order, and BodyLength and CheckSum computed.
/// `seq`, `sender`, `target` and `sending_time_ns` may be passed by keyword or,
/// on a hot path, positionally (no keyword parsing).
#[pyfunction]
#[pyo3(signature = (msg_type, fields, seq, sender, target, sending_time_ns))]
pub fn encode_fix<'py>(
    py: Python<'py>,
    msg_type: &str,
    fields: &Bound<'py, PyAny>,
    seq: u64,
    sender: &str,
    target: &str,
    sending_time_ns: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let bad = |s: &str| s.is_empty() || s.bytes().any(|c| c == SOH || c == b'=');
    if bad(msg_type) {
        return Err(PyValueError::new_err(format!("bad msg_type {msg_type:?}")));
    }
    if bad(sender) || bad(target) {
        return Err(PyValueError::new_err(
            "sender and target must be non-empty, without SOH or '='",
        ));
    }
    let mut enc = Encoder::new();
    enc.begin(msg_type);
    if let Ok(list) = fields.cast::<PyList>() {
        // the usual argument: read the list in place, no Vec of extracted pairs
        for item in list.iter() {
            let (tag, value) = field_pair(&item)?;
            add_field(&mut enc, tag, &value)?;
        }
    } else if fields.is_instance_of::<PyString>() || fields.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(
            "fields must be a sequence of (tag, value) pairs, not a string",
        ));
    } else {
        for item in fields.try_iter()? {
            let (tag, value) = field_pair(&item?)?;
            add_field(&mut enc, tag, &value)?;
        }
    }
    let wire = enc.finish(seq, sender, target, sending_time_ns);
    Ok(PyBytes::new(py, &wire))
}
