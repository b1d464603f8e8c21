//! Streaming framer and parser for FIX 4.4 tag=value messages.
//!
//! Bytes arrive in arbitrary chunks via [`Framer::push`]; [`Framer::next_message`]
//! yields whole, checked messages. Every problem is one of three kinds, which
//! tell the session layer what to do (see [`FrameError`]):
//!
//! - [`FrameError::Fatal`]: the stream cannot be framed (not `8=FIX.4.4`,
//!   BodyLength not a number, message over the size limit). Disconnect; the
//!   framer stays failed.
//! - [`FrameError::Garbled`]: a bad CheckSum, or BodyLength not matching where
//!   CheckSum really is. FIX says ignore it: no Reject, no sequence number
//!   consumed. The framer has skipped it and goes on.
//! - [`FrameError::Reject`]: a well-framed message that breaks a session-level
//!   rule. Answer with Reject (35=3) built from the [`Reject`] details.

use core::fmt;

use crate::encode::{checksum, BEGIN_STRING};
use crate::message::{parse_u64, tags, Message, Span, SOH};
use crate::spec::{self, Reject, SessionRejectReason};

/// Default largest accepted message, header to trailer: 64 KiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// Most BodyLength digits accepted (more is treated as malformed).
const MAX_BODY_LENGTH_DIGITS: usize = 9;
/// Length of the trailer `10=NNN<SOH>`.
const TRAILER_LEN: usize = 7;

/// A problem that makes the byte stream unusable: the session must disconnect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FatalError {
    /// The data does not start with `8=`: not a FIX message at all.
    Garbage,
    /// A BeginString other than `FIX.4.4`.
    UnsupportedBeginString,
    /// The second field is not BodyLength (9).
    MissingBodyLength,
    /// BodyLength is empty, not a number, or absurdly long.
    BadBodyLength,
    /// The message, by its BodyLength, would be `size` bytes, over `max`.
    TooLarge {
        /// Total size declared.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// BodyLength was wrong and no CheckSum field follows within `max` bytes.
    NoTrailer {
        /// The configured limit.
        max: usize,
    },
}

impl fmt::Display for FatalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Garbage => f.write_str("data does not start with 8="),
            Self::UnsupportedBeginString => f.write_str("BeginString is not FIX.4.4"),
            Self::MissingBodyLength => f.write_str("second field is not BodyLength(9)"),
            Self::BadBodyLength => f.write_str("BodyLength(9) is not a number"),
            Self::TooLarge { size, max } => {
                write!(f, "message of {size} bytes exceeds limit {max}")
            }
            Self::NoTrailer { max } => write!(f, "no CheckSum(10) within {max} bytes"),
        }
    }
}

/// What was wrong with a garbled message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GarbledKind {
    /// CheckSum (10) does not match the sum of the bytes before it.
    ChecksumMismatch {
        /// The value received.
        declared: u16,
        /// The value computed.
        computed: u8,
    },
    /// CheckSum is where BodyLength says but is not 3 digits.
    BadChecksumFormat,
    /// CheckSum was found `actual` body bytes in, not `declared`.
    BodyLengthMismatch {
        /// BodyLength (9) as received.
        declared: usize,
        /// The body length up to the first CheckSum field found.
        actual: usize,
    },
}

/// A garbled message that was skipped: FIX says ignore it (no Reject, no
/// sequence number consumed) and carry on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Garbled {
    /// What was wrong.
    pub kind: GarbledKind,
    /// How many bytes were discarded.
    pub bytes_dropped: usize,
}

/// Why [`Framer::next_message`] produced no message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Disconnect: the stream cannot be framed. Later calls return it again.
    Fatal(FatalError),
    /// Ignore: a garbled message was skipped.
    Garbled(Garbled),
    /// Send a session-level Reject (35=3) with these details; the message
    /// counts as received for sequence numbering.
    Reject(Reject),
}

impl FrameError {
    /// Whether the session must disconnect.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Fatal(_))
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fatal(e) => write!(f, "fatal: {e}"),
            Self::Garbled(g) => write!(
                f,
                "garbled message ({:?}), {} bytes dropped",
                g.kind, g.bytes_dropped
            ),
            Self::Reject(r) => write!(f, "{r}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Settings for a [`Framer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramerConfig {
    /// Largest accepted message in bytes, header to trailer.
    pub max_message_size: usize,
    /// Run [`spec::validate`] on each message (on by default).
    pub validate: bool,
    /// If set, `(their CompID, our CompID)`: received SenderCompID (49) and
    /// TargetCompID (56) must equal these (reason 9 otherwise).
    pub expected_comp_ids: Option<(Vec<u8>, Vec<u8>)>,
}

impl Default for FramerConfig {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            validate: true,
            expected_comp_ids: None,
        }
    }
}

/// The outcome of looking at the front of the buffer.
enum Step {
    NeedMore,
    /// A well-framed message; the trailer starts at `trailer`.
    Frame {
        trailer: usize,
    },
    Garbled(Garbled),
    Fatal(FatalError),
}

/// Finds `needle` in `hay[from..]`, returning its index in `hay`.
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Frames the message at the front of `data`. Every decision depends only on
/// bytes already present, so feeding the same stream in any chunking gives the
/// same sequence of outcomes.
fn frame(data: &[u8], max: usize) -> Step {
    if data.is_empty() {
        return Step::NeedMore;
    }
    let n = data.len().min(BEGIN_STRING.len());
    if data[..n] != BEGIN_STRING[..n] {
        let m = n.min(2);
        return Step::Fatal(if data[..m] == b"8="[..m] {
            FatalError::UnsupportedBeginString
        } else {
            FatalError::Garbage
        });
    }
    if n < BEGIN_STRING.len() {
        return Step::NeedMore;
    }
    let rest = &data[BEGIN_STRING.len()..];
    let m = rest.len().min(2);
    if rest[..m] != b"9="[..m] {
        return Step::Fatal(FatalError::MissingBodyLength);
    }
    if m < 2 {
        return Step::NeedMore;
    }
    let digits_start = BEGIN_STRING.len() + 2;
    let mut i = digits_start;
    let mut body_len = 0usize;
    loop {
        let Some(&c) = data.get(i) else {
            return Step::NeedMore;
        };
        if c == SOH {
            break;
        }
        if !c.is_ascii_digit() || i - digits_start >= MAX_BODY_LENGTH_DIGITS {
            return Step::Fatal(FatalError::BadBodyLength);
        }
        body_len = body_len * 10 + usize::from(c - b'0');
        i += 1;
    }
    if i == digits_start {
        return Step::Fatal(FatalError::BadBodyLength);
    }
    let header_len = i + 1;
    let trailer = header_len + body_len;
    let total = trailer + TRAILER_LEN;
    if total > max {
        return Step::Fatal(FatalError::TooLarge { size: total, max });
    }
    if data.len() < total {
        return Step::NeedMore;
    }
    let tr = &data[trailer..total];
    if data[trailer - 1] == SOH
        && &tr[..3] == b"10="
        && tr[3..6].iter().all(u8::is_ascii_digit)
        && tr[6] == SOH
    {
        let declared = tr[3..6]
            .iter()
            .fold(0u16, |acc, &c| acc * 10 + u16::from(c - b'0'));
        let computed = checksum(&data[..trailer]);
        if declared != u16::from(computed) {
            return Step::Garbled(Garbled {
                kind: GarbledKind::ChecksumMismatch { declared, computed },
                bytes_dropped: total,
            });
        }
        return Step::Frame { trailer };
    }
    // CheckSum is not where BodyLength says: skip to the first CheckSum field.
    let region = &data[..data.len().min(max)];
    let need_more = || {
        if data.len() >= max {
            Step::Fatal(FatalError::NoTrailer { max })
        } else {
            Step::NeedMore
        }
    };
    let Some(k) = find(region, header_len - 1, b"\x0110=") else {
        return need_more();
    };
    let Some(end) = find(region, k + 4, &[SOH]) else {
        return need_more();
    };
    let kind = if k + 1 == trailer {
        GarbledKind::BadChecksumFormat
    } else {
        GarbledKind::BodyLengthMismatch {
            declared: body_len,
            actual: k + 1 - header_len,
        }
    };
    Step::Garbled(Garbled {
        kind,
        bytes_dropped: end + 1,
    })
}

/// For a length field of a FIX 4.4 `data` pair, the data field it announces.
const fn data_tag_for(len_tag: u32) -> Option<u32> {
    match len_tag {
        90 => Some(91),
        93 => Some(89),
        95 => Some(96),
        212 => Some(213),
        348 | 350 | 352 | 354 | 356 | 358 | 360 | 362 | 364 => Some(len_tag + 1),
        445 => Some(446),
        618 => Some(619),
        621 => Some(622),
        _ => None,
    }
}

/// A syntax problem: reason, RefTagID, text.
type SyntaxError = (SessionRejectReason, Option<u32>, String);

/// Parses a tag number: ASCII digits, no leading zero, 1..=u32::MAX.
fn parse_tag(b: &[u8]) -> Option<u32> {
    if b.first() == Some(&b'0') {
        return None;
    }
    u32::try_from(parse_u64(b)?).ok()
}

/// Splits `raw` (fields ending in SOH) into spans, honouring length-prefixed
/// data fields (which may contain SOH). Returns the first syntax problem, if
/// any, after collecting every field it could.
fn tokenize(raw: &[u8], spans: &mut Vec<Span>) -> Option<SyntaxError> {
    use SessionRejectReason as R;
    let mut first: Option<SyntaxError> = None;
    let mut record = |e: SyntaxError| {
        first.get_or_insert(e);
    };
    let mut pending_data: Option<(u32, usize)> = None;
    let mut i = 0;
    while i < raw.len() {
        let soh = find(raw, i, &[SOH]).unwrap_or(raw.len());
        let Some(eq) = raw[i..soh].iter().position(|&b| b == b'=').map(|p| p + i) else {
            record((R::InvalidTagNumber, None, "field without '='".into()));
            i = soh + 1;
            continue;
        };
        let tag_text = &raw[i..eq];
        let Some(tag) = parse_tag(tag_text) else {
            let shown = parse_u64(tag_text).and_then(|v| u32::try_from(v).ok());
            record((
                R::InvalidTagNumber,
                shown,
                format!("invalid tag number {:?}", String::from_utf8_lossy(tag_text)),
            ));
            i = soh + 1;
            continue;
        };
        let start = eq + 1;
        let mut end = soh;
        if let Some((data_tag, len)) = pending_data.take() {
            if data_tag == tag {
                match start.checked_add(len) {
                    Some(e) if raw.get(e) == Some(&SOH) => end = e,
                    _ => record((
                        R::IncorrectDataFormat,
                        Some(tag),
                        format!("data field {tag} does not have the announced length {len}"),
                    )),
                }
            }
        }
        let value = &raw[start..end];
        if value.is_empty() {
            record((
                R::TagSpecifiedWithoutValue,
                Some(tag),
                format!("tag {tag} has no value"),
            ));
        } else if let Some(data_tag) = data_tag_for(tag) {
            match parse_u64(value) {
                Some(len) => {
                    pending_data = Some((data_tag, usize::try_from(len).unwrap_or(usize::MAX)))
                }
                None => record((
                    R::IncorrectDataFormat,
                    Some(tag),
                    format!("length tag {tag} is not a number"),
                )),
            }
        }
        spans.push(Span { tag, start, end });
        i = end + 1;
    }
    first
}

/// Checks the fixed positions: 35 third, 8/9/10 nowhere but their places.
fn check_structure(msg: &Message) -> Option<SyntaxError> {
    use SessionRejectReason as R;
    let last = msg.len() - 1;
    if msg.field(2).map(|(t, _)| t) != Some(tags::MSG_TYPE) {
        return Some(if msg.position(tags::MSG_TYPE).is_some() {
            (
                R::TagSpecifiedOutOfRequiredOrder,
                Some(tags::MSG_TYPE),
                "MsgType(35) must be the third field".into(),
            )
        } else {
            (
                R::RequiredTagMissing,
                Some(tags::MSG_TYPE),
                "MsgType(35) missing".into(),
            )
        });
    }
    msg.fields()
        .enumerate()
        .skip(2)
        .take(last - 2)
        .find(|(_, (t, _))| matches!(*t, tags::BEGIN_STRING | tags::BODY_LENGTH | tags::CHECK_SUM))
        .map(|(_, (t, _))| {
            (
                R::TagSpecifiedOutOfRequiredOrder,
                Some(t),
                format!("tag {t} out of place"),
            )
        })
}

/// Splits a FIX 4.4 byte stream into checked [`Message`]s.
///
/// ```
/// use pyengine_fix::{Encoder, Framer};
/// let mut enc = Encoder::new();
/// let wire = enc.begin("1").field(112, "T1").finish(5, "CLIENT", "GW", 0);
/// let mut framer = Framer::new();
/// framer.push(&wire[..10]);
/// assert_eq!(framer.next_message(), Ok(None));
/// framer.push(&wire[10..]);
/// let msg = framer.next_message().unwrap().unwrap();
/// assert_eq!(msg.msg_type(), Some(&b"1"[..]));
/// assert_eq!(msg.get_str(112), Ok("T1"));
/// assert_eq!(msg.seq_num(), Some(5));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Framer {
    config: FramerConfig,
    buf: Vec<u8>,
    pos: usize,
    fatal: Option<FatalError>,
}

impl Framer {
    /// A framer with [`FramerConfig::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A framer with the given settings.
    pub fn with_config(config: FramerConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &FramerConfig {
        &self.config
    }

    /// Appends received bytes. Ignored once the framer has failed.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.fatal.is_some() {
            return;
        }
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos >= 4096 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The fatal error, once the stream has failed.
    pub fn fatal(&self) -> Option<&FatalError> {
        self.fatal.as_ref()
    }

    /// The next complete message: `Ok(None)` if more bytes are needed. On
    /// [`FrameError::Garbled`] or [`FrameError::Reject`] the offending message
    /// has been consumed; call again for the next one.
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        if let Some(f) = &self.fatal {
            return Err(FrameError::Fatal(f.clone()));
        }
        let data = &self.buf[self.pos..];
        match frame(data, self.config.max_message_size) {
            Step::NeedMore => Ok(None),
            Step::Fatal(f) => {
                self.fatal = Some(f.clone());
                Err(FrameError::Fatal(f))
            }
            Step::Garbled(g) => {
                self.pos += g.bytes_dropped;
                Err(FrameError::Garbled(g))
            }
            Step::Frame { trailer } => {
                let raw = data[..trailer + TRAILER_LEN].to_vec();
                self.pos += raw.len();
                self.parse(raw, trailer).map(Some)
            }
        }
    }

    fn parse(&self, raw: Vec<u8>, trailer: usize) -> Result<Message, FrameError> {
        let mut spans = Vec::with_capacity(24);
        let err = tokenize(&raw[..trailer], &mut spans);
        spans.push(Span {
            tag: tags::CHECK_SUM,
            start: trailer + 3,
            end: trailer + 6,
        });
        let msg = Message::from_parts(raw, spans);
        if let Some((reason, tag, text)) = err.or_else(|| check_structure(&msg)) {
            return Err(FrameError::Reject(Reject::new(&msg, reason, tag, text)));
        }
        if self.config.validate {
            spec::validate(&msg).map_err(FrameError::Reject)?;
        }
        if let Some((theirs, ours)) = &self.config.expected_comp_ids {
            spec::validate_comp_ids(&msg, theirs, ours).map_err(FrameError::Reject)?;
        }
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Encoder;
    use SessionRejectReason as R;

    const HDR: &str = "49=CLIENT|56=GW|34=7|52=20231114-22:13:20.123|";
    const NOS: &str = "11=ord-1|55=ACME|54=1|60=20231114-22:13:20.000|38=100|40=2|44=101.25|";

    /// Frames `body` (with `|` for SOH) with a correct BodyLength and CheckSum.
    fn wire(body: &str) -> Vec<u8> {
        let body = body.replace('|', "\x01");
        let mut out = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
        let sum = checksum(&out);
        out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        out
    }

    fn nos() -> String {
        format!("35=D|{HDR}{NOS}")
    }

    fn one(bytes: &[u8]) -> Result<Option<Message>, FrameError> {
        let mut f = Framer::new();
        f.push(bytes);
        f.next_message()
    }

    fn fatal(bytes: &[u8]) -> FatalError {
        match one(bytes) {
            Err(FrameError::Fatal(e)) => e,
            other => panic!("expected fatal, got {other:?}"),
        }
    }

    fn garbled(bytes: &[u8]) -> Garbled {
        match one(bytes) {
            Err(FrameError::Garbled(g)) => g,
            other => panic!("expected garbled, got {other:?}"),
        }
    }

    fn reject(body: &str) -> Reject {
        match one(&wire(body)) {
            Err(FrameError::Reject(r)) => r,
            other => panic!("expected reject for {body}, got {other:?}"),
        }
    }

    fn reason(body: &str) -> (R, Option<u32>) {
        let r = reject(body);
        (r.reason, r.ref_tag)
    }

    #[test]
    fn decodes_a_new_order_single() {
        let bytes = wire(&nos());
        let msg = one(&bytes).unwrap().unwrap();
        assert_eq!(msg.raw(), &bytes[..]);
        assert_eq!(msg.field(0), Some((8, &b"FIX.4.4"[..])));
        assert_eq!(msg.field(1).unwrap().0, 9);
        assert_eq!(msg.field(msg.len() - 1).unwrap().0, 10);
        assert_eq!(msg.msg_type(), Some(&b"D"[..]));
        assert_eq!(msg.seq_num(), Some(7));
        assert_eq!(msg.get_decimal(44).unwrap().mantissa, 10125);
        assert_eq!(msg.get_str(55), Ok("ACME"));
    }

    #[test]
    fn decodes_encoder_output_and_back_to_back_messages() {
        let mut enc = Encoder::new();
        let mut stream = enc.begin("0").finish(1, "CLIENT", "GW", 0);
        enc.begin("1")
            .field(112, "ping")
            .finish_into(2, "CLIENT", "GW", 1, &mut stream);
        let mut f = Framer::new();
        for b in &stream {
            f.push(std::slice::from_ref(b));
        }
        let a = f.next_message().unwrap().unwrap();
        let b = f.next_message().unwrap().unwrap();
        assert_eq!(f.next_message(), Ok(None));
        assert_eq!((a.msg_type(), a.seq_num()), (Some(&b"0"[..]), Some(1)));
        assert_eq!((b.get(112), b.seq_num()), (Some(&b"ping"[..]), Some(2)));
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn partial_input_needs_more() {
        let bytes = wire(&nos());
        for cut in 0..bytes.len() {
            assert_eq!(one(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn fatal_errors() {
        assert_eq!(fatal(b"hello"), FatalError::Garbage);
        assert_eq!(fatal(b"\x01"), FatalError::Garbage);
        assert_eq!(
            fatal(b"8=FIX.4.2\x019=5\x01"),
            FatalError::UnsupportedBeginString
        );
        assert_eq!(fatal(b"8=FIXT.1.1\x01"), FatalError::UnsupportedBeginString);
        assert_eq!(
            fatal(b"8=FIX.4.4\x0135=D\x01"),
            FatalError::MissingBodyLength
        );
        assert_eq!(fatal(b"8=FIX.4.4\x019=abc\x01"), FatalError::BadBodyLength);
        assert_eq!(fatal(b"8=FIX.4.4\x019=\x01"), FatalError::BadBodyLength);
        assert_eq!(fatal(b"8=FIX.4.4\x019=-5\x01"), FatalError::BadBodyLength);
        assert_eq!(
            fatal(b"8=FIX.4.4\x019=1234567890\x01"),
            FatalError::BadBodyLength
        );
        assert_eq!(
            fatal(b"8=FIX.4.4\x019=70000\x01"),
            FatalError::TooLarge {
                size: 18 + 70_000 + 7,
                max: DEFAULT_MAX_MESSAGE_SIZE
            }
        );
    }

    #[test]
    fn max_size_is_configurable() {
        let bytes = wire(&nos());
        let cfg = |max| FramerConfig {
            max_message_size: max,
            ..FramerConfig::default()
        };
        let mut ok = Framer::with_config(cfg(bytes.len()));
        ok.push(&bytes);
        assert!(ok.next_message().unwrap().is_some());
        let mut small = Framer::with_config(cfg(bytes.len() - 1));
        small.push(&bytes);
        assert!(matches!(
            small.next_message(),
            Err(FrameError::Fatal(FatalError::TooLarge { .. }))
        ));
    }

    #[test]
    fn fatal_is_sticky() {
        let mut f = Framer::new();
        f.push(b"GET / HTTP/1.1\r\n");
        let e = f.next_message().unwrap_err();
        assert!(e.is_fatal());
        f.push(&wire(&nos()));
        assert_eq!(f.next_message(), Err(e));
        assert_eq!(f.fatal(), Some(&FatalError::Garbage));
    }

    #[test]
    fn checksum_mismatch_is_garbled_and_skipped() {
        let good = wire(&nos());
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 2] = if bad[n - 2] == b'9' {
            b'0'
        } else {
            bad[n - 2] + 1
        };
        let g = garbled(&bad);
        assert!(matches!(g.kind, GarbledKind::ChecksumMismatch { .. }));
        assert_eq!(g.bytes_dropped, bad.len());
        // The stream goes on with the next message.
        let mut f = Framer::new();
        f.push(&bad);
        f.push(&good);
        assert!(matches!(f.next_message(), Err(FrameError::Garbled(_))));
        assert!(f.next_message().unwrap().is_some());
        // A corrupted body byte is also a checksum mismatch.
        let mut flipped = good.clone();
        flipped[25] ^= 0x20;
        assert!(matches!(
            garbled(&flipped).kind,
            GarbledKind::ChecksumMismatch { .. }
        ));
    }

    #[test]
    fn body_length_mismatch_is_garbled_and_resyncs() {
        let good = wire(&nos());
        let s = String::from_utf8(good.clone()).unwrap();
        let body_len: usize = s[12..s.find("\x0135=").unwrap()].parse().unwrap();
        for declared in [body_len - 5, body_len + 3] {
            let bad = s.replacen(
                &format!("9={body_len}\x01"),
                &format!("9={declared}\x01"),
                1,
            );
            let mut f = Framer::new();
            f.push(bad.as_bytes());
            f.push(&good);
            match f.next_message() {
                Err(FrameError::Garbled(Garbled {
                    kind:
                        GarbledKind::BodyLengthMismatch {
                            declared: d,
                            actual,
                        },
                    bytes_dropped,
                })) => {
                    assert_eq!((d, actual, bytes_dropped), (declared, body_len, bad.len()));
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(f.next_message().unwrap().unwrap().raw(), &good[..]);
        }
    }

    #[test]
    fn bad_checksum_format_is_garbled() {
        let good = wire(&nos());
        let mut bad = good[..good.len() - 7].to_vec();
        bad.extend_from_slice(b"10=12\x01");
        let mut f = Framer::new();
        f.push(&bad);
        assert_eq!(f.next_message(), Ok(None)); // 7 trailer bytes not there yet
        f.push(&good);
        assert_eq!(
            f.next_message(),
            Err(FrameError::Garbled(Garbled {
                kind: GarbledKind::BadChecksumFormat,
                bytes_dropped: bad.len()
            }))
        );
        assert!(f.next_message().unwrap().is_some());
    }

    #[test]
    fn missing_trailer_within_limit_is_fatal() {
        let mut f = Framer::with_config(FramerConfig {
            max_message_size: 200,
            ..FramerConfig::default()
        });
        f.push(b"8=FIX.4.4\x019=5\x0135=0\x01");
        f.push(&[b'x'; 300]);
        assert_eq!(
            f.next_message(),
            Err(FrameError::Fatal(FatalError::NoTrailer { max: 200 }))
        );
    }

    #[test]
    fn reject_invalid_tag_number() {
        for (bad, tag) in [
            ("abc=1|", None),
            ("0=1|", Some(0)),
            ("=1|", None),
            ("007=1|", Some(7)),
            ("novalue|", None),
            ("99999999999=1|", None),
        ] {
            let r = reject(&format!("{}{bad}", nos()));
            assert_eq!((r.reason, r.ref_tag), (R::InvalidTagNumber, tag), "{bad}");
            assert_eq!(r.ref_msg_type.as_deref(), Some(&b"D"[..]));
            assert_eq!(r.ref_seq_num, Some(7));
        }
    }

    #[test]
    fn reject_required_tag_missing() {
        assert_eq!(
            reason(&format!("{HDR}{NOS}")),
            (R::RequiredTagMissing, Some(35))
        );
        assert_eq!(
            reason(&format!("35=D|{HDR}{}", NOS.replace("55=ACME|", ""))),
            (R::RequiredTagMissing, Some(55))
        );
        assert_eq!(
            reason(&format!("35=D|{}{NOS}", HDR.replace("56=GW|", ""))),
            (R::RequiredTagMissing, Some(56))
        );
        assert_eq!(reason(""), (R::RequiredTagMissing, Some(35)));
    }

    #[test]
    fn reject_tag_without_value() {
        assert_eq!(
            reason(&format!("{}58=|", nos())),
            (R::TagSpecifiedWithoutValue, Some(58))
        );
    }

    #[test]
    fn reject_value_out_of_range() {
        let r = reject(&nos().replace("54=1", "54=Z"));
        assert_eq!((r.reason, r.ref_tag), (R::ValueIncorrect, Some(54)));
        assert_eq!(r.reason.code(), 5);
        assert_eq!(
            reason(&nos().replace("38=100", "38=0")),
            (R::ValueIncorrect, Some(38))
        );
    }

    #[test]
    fn reject_incorrect_data_format() {
        assert_eq!(
            reason(&nos().replace("38=100", "38=1x0")),
            (R::IncorrectDataFormat, Some(38))
        );
        assert_eq!(
            reason(&nos().replace("44=101.25", "44=1,5")),
            (R::IncorrectDataFormat, Some(44))
        );
        assert_eq!(
            reason(&format!("{}95=abc|96=x|", nos())),
            (R::IncorrectDataFormat, Some(95))
        );
        assert_eq!(
            reason(&format!("{}95=9|96=short|", nos())),
            (R::IncorrectDataFormat, Some(96))
        );
        let r = reject(&nos().replace("34=7", "34=seven"));
        assert_eq!(
            (r.reason, r.ref_tag, r.ref_seq_num),
            (R::IncorrectDataFormat, Some(34), None)
        );
    }

    #[test]
    fn data_fields_may_contain_soh() {
        let msg = one(&wire(&format!("{}95=3|96=a|b|58=after|", nos())))
            .unwrap()
            .unwrap();
        assert_eq!(msg.get(96), Some(&b"a\x01b"[..]));
        assert_eq!(msg.get_str(58), Ok("after"));
    }

    #[test]
    fn reject_comp_id_problem() {
        let cfg = FramerConfig {
            expected_comp_ids: Some((b"CLIENT".to_vec(), b"GW".to_vec())),
            ..FramerConfig::default()
        };
        let mut f = Framer::with_config(cfg);
        f.push(&wire(&nos()));
        assert!(f.next_message().unwrap().is_some());
        f.push(&wire(&nos().replace("49=CLIENT", "49=MALLORY")));
        match f.next_message() {
            Err(FrameError::Reject(r)) => {
                assert_eq!(
                    (r.reason, r.ref_tag, r.reason.code()),
                    (R::CompIdProblem, Some(49), 9)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reject_invalid_msg_type() {
        let r = reject(&nos().replace("35=D", "35=ZZ"));
        assert_eq!((r.reason, r.ref_tag), (R::InvalidMsgType, Some(35)));
        assert_eq!(r.ref_msg_type.as_deref(), Some(&b"ZZ"[..]));
        assert_eq!(r.reason.code(), 11);
    }

    #[test]
    fn reject_tag_appears_more_than_once() {
        let r = reject(&format!("{}38=200|", nos()));
        assert_eq!(
            (r.reason, r.ref_tag, r.reason.code()),
            (R::TagAppearsMoreThanOnce, Some(38), 13)
        );
    }

    #[test]
    fn reject_tag_out_of_required_order() {
        assert_eq!(
            reason(&format!("{HDR}35=D|{NOS}")),
            (R::TagSpecifiedOutOfRequiredOrder, Some(35))
        );
        assert_eq!(
            reason(&format!("{}8=FIX.4.4|", nos())),
            (R::TagSpecifiedOutOfRequiredOrder, Some(8))
        );
        assert_eq!(
            reason(&format!("{}9=12|", nos())),
            (R::TagSpecifiedOutOfRequiredOrder, Some(9))
        );
        assert_eq!(
            reason(&format!("{}10=000|", nos())),
            (R::TagSpecifiedOutOfRequiredOrder, Some(10))
        );
        let late_header = format!(
            "35=D|{}{NOS}52=20231114-22:13:20.123|",
            HDR.replace("52=20231114-22:13:20.123|", "")
        );
        let r = reject(&late_header);
        assert_eq!(
            (r.reason, r.ref_tag, r.reason.code()),
            (R::TagSpecifiedOutOfRequiredOrder, Some(52), 14)
        );
    }

    #[test]
    fn stream_continues_after_reject() {
        let mut f = Framer::new();
        f.push(&wire(&nos().replace("54=1", "54=Z")));
        f.push(&wire(&nos()));
        assert!(matches!(f.next_message(), Err(FrameError::Reject(_))));
        assert!(f.next_message().unwrap().is_some());
        assert_eq!(f.next_message(), Ok(None));
    }

    #[test]
    fn validation_can_be_turned_off() {
        let mut f = Framer::with_config(FramerConfig {
            validate: false,
            ..FramerConfig::default()
        });
        f.push(&wire("35=ZZ|54=Z|54=Q|"));
        let msg = f.next_message().unwrap().unwrap();
        assert_eq!(msg.get_all(54).count(), 2);
    }

    #[test]
    fn error_display() {
        let e = FrameError::Fatal(FatalError::Garbage);
        assert!(e.to_string().contains("8="));
        let r = reject(&nos().replace("54=1", "54=Z"));
        assert!(FrameError::Reject(r)
            .to_string()
            .contains("session reject 5"));
    }
}
