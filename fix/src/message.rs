//! A parsed FIX message: an ordered list of `(tag, value)` fields over one
//! owned byte buffer, plus typed accessors and the FIX value-format parsers.

use core::fmt;

/// The FIX field delimiter, SOH (0x01).
pub const SOH: u8 = 0x01;

/// Standard tag numbers used throughout the crate.
pub mod tags {
    /// Account (1).
    pub const ACCOUNT: u32 = 1;
    /// BeginSeqNo (7).
    pub const BEGIN_SEQ_NO: u32 = 7;
    /// BeginString (8).
    pub const BEGIN_STRING: u32 = 8;
    /// BodyLength (9).
    pub const BODY_LENGTH: u32 = 9;
    /// CheckSum (10).
    pub const CHECK_SUM: u32 = 10;
    /// ClOrdID (11).
    pub const CL_ORD_ID: u32 = 11;
    /// EndSeqNo (16).
    pub const END_SEQ_NO: u32 = 16;
    /// MsgSeqNum (34).
    pub const MSG_SEQ_NUM: u32 = 34;
    /// MsgType (35).
    pub const MSG_TYPE: u32 = 35;
    /// NewSeqNo (36).
    pub const NEW_SEQ_NO: u32 = 36;
    /// OrderQty (38).
    pub const ORDER_QTY: u32 = 38;
    /// OrdType (40).
    pub const ORD_TYPE: u32 = 40;
    /// OrigClOrdID (41).
    pub const ORIG_CL_ORD_ID: u32 = 41;
    /// PossDupFlag (43).
    pub const POSS_DUP_FLAG: u32 = 43;
    /// Price (44).
    pub const PRICE: u32 = 44;
    /// RefSeqNum (45).
    pub const REF_SEQ_NUM: u32 = 45;
    /// SenderCompID (49).
    pub const SENDER_COMP_ID: u32 = 49;
    /// SendingTime (52).
    pub const SENDING_TIME: u32 = 52;
    /// Side (54).
    pub const SIDE: u32 = 54;
    /// Symbol (55).
    pub const SYMBOL: u32 = 55;
    /// TargetCompID (56).
    pub const TARGET_COMP_ID: u32 = 56;
    /// Text (58).
    pub const TEXT: u32 = 58;
    /// TimeInForce (59).
    pub const TIME_IN_FORCE: u32 = 59;
    /// TransactTime (60).
    pub const TRANSACT_TIME: u32 = 60;
    /// HeartBtInt (108).
    pub const HEART_BT_INT: u32 = 108;
    /// TestReqID (112).
    pub const TEST_REQ_ID: u32 = 112;
    /// OrigSendingTime (122).
    pub const ORIG_SENDING_TIME: u32 = 122;
    /// RefTagID (371).
    pub const REF_TAG_ID: u32 = 371;
    /// RefMsgType (372).
    pub const REF_MSG_TYPE: u32 = 372;
    /// SessionRejectReason (373).
    pub const SESSION_REJECT_REASON: u32 = 373;
}

/// An exact FIX decimal (`Qty`, `Price`, `Amt`, `float`): `mantissa * 10^-scale`.
///
/// `"101.25"` parses to `{ mantissa: 10125, scale: 2 }`; trailing zeros are
/// kept (`"1.50"` is scale 2), so formatting a parsed value gives the
/// canonical form of the text back. No floating point is involved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Decimal {
    /// The digits as an integer, sign included.
    pub mantissa: i128,
    /// How many of the digits are after the decimal point.
    pub scale: u32,
}

impl Decimal {
    /// `mantissa * 10^-scale`.
    pub const fn new(mantissa: i128, scale: u32) -> Self {
        Self { mantissa, scale }
    }

    /// Parses FIX float text: an optional `-`, ASCII digits, at most one `.`,
    /// at least one digit. No `+`, exponent, spaces, or overflow of `i128`.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let (neg, digits) = match b.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, b),
        };
        let mut mantissa: i128 = 0;
        let mut scale: u32 = 0;
        let mut seen_dot = false;
        let mut seen_digit = false;
        for &c in digits {
            match c {
                b'0'..=b'9' => {
                    let d = i128::from(c - b'0');
                    mantissa = mantissa.checked_mul(10)?;
                    mantissa = if neg {
                        mantissa.checked_sub(d)?
                    } else {
                        mantissa.checked_add(d)?
                    };
                    seen_digit = true;
                    if seen_dot {
                        scale += 1;
                    }
                }
                b'.' if !seen_dot => seen_dot = true,
                _ => return None,
            }
        }
        seen_digit.then_some(Self { mantissa, scale })
    }

    /// Appends the canonical text (`-0.005`, `101.25`, `100`) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut digits = [0u8; 40];
        let mut n = 0;
        let mut mag = self.mantissa.unsigned_abs();
        loop {
            digits[n] = b'0' + (mag % 10) as u8;
            n += 1;
            mag /= 10;
            if mag == 0 {
                break;
            }
        }
        if self.mantissa < 0 {
            out.push(b'-');
        }
        let scale = self.scale as usize;
        if scale == 0 {
            out.extend(digits[..n].iter().rev());
            return;
        }
        if n <= scale {
            out.extend_from_slice(b"0.");
            out.extend(core::iter::repeat_n(b'0', scale - n));
            out.extend(digits[..n].iter().rev());
        } else {
            out.extend(digits[scale..n].iter().rev());
            out.push(b'.');
            out.extend(digits[..scale].iter().rev());
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = Vec::new();
        self.write_to(&mut v);
        f.write_str(&String::from_utf8_lossy(&v))
    }
}

/// Parses a FIX non-negative integer (`SeqNum`, `Length`, `NumInGroup`, ...):
/// ASCII digits only (leading zeros allowed), no sign, no overflow.
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        if c.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        } else {
            None
        }
    })
}

/// Parses a FIX `int`: an optional `-` then ASCII digits, no overflow.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    match b.split_first() {
        Some((b'-', rest)) => {
            let mag = parse_u64(rest)?;
            if mag == 1u64 << 63 {
                Some(i64::MIN)
            } else {
                i64::try_from(mag).ok().map(|v| -v)
            }
        }
        _ => i64::try_from(parse_u64(b)?).ok(),
    }
}

/// Parses a FIX `char`: exactly one printable ASCII byte.
pub fn parse_char(b: &[u8]) -> Option<u8> {
    match b {
        [c] if c.is_ascii_graphic() => Some(*c),
        _ => None,
    }
}

/// Parses a FIX `Boolean`: `Y` or `N`.
pub fn parse_bool(b: &[u8]) -> Option<bool> {
    match b {
        b"Y" => Some(true),
        b"N" => Some(false),
        _ => None,
    }
}

/// Why a typed accessor on [`Message`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldError {
    /// The tag is not in the message.
    Missing(u32),
    /// The tag is present but its value is not of the asked-for format.
    BadFormat(u32),
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(tag) => write!(f, "tag {tag} missing"),
            Self::BadFormat(tag) => write!(f, "tag {tag} has an incorrect data format"),
        }
    }
}

impl std::error::Error for FieldError {}

/// One field's place in a [`Message`]'s buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) tag: u32,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// A FIX message: its fields in wire order over one owned buffer.
///
/// A message from the [`Framer`](crate::Framer) holds the whole frame, so its
/// fields start with 8 (BeginString) and 9 (BodyLength) and end with 10
/// (CheckSum), and [`raw`](Self::raw) is the exact bytes received. A message
/// built with [`from_fields`](Self::from_fields) holds just the given fields.
/// Repeated tags (repeating groups) are kept; [`get`](Self::get) returns the
/// first occurrence, [`get_all`](Self::get_all) every one.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Message {
    raw: Vec<u8>,
    fields: Vec<Span>,
}

impl Message {
    pub(crate) fn from_parts(raw: Vec<u8>, fields: Vec<Span>) -> Self {
        Self { raw, fields }
    }

    /// Builds a message from `(tag, value)` pairs, in the given order; its
    /// [`raw`](Self::raw) becomes `tag=value<SOH>` for each.
    pub fn from_fields<I, V>(fields: I) -> Self
    where
        I: IntoIterator<Item = (u32, V)>,
        V: AsRef<[u8]>,
    {
        let mut msg = Self::default();
        for (tag, value) in fields {
            msg.push(tag, value.as_ref());
        }
        msg
    }

    /// Appends the field `tag=value` at the end.
    pub fn push(&mut self, tag: u32, value: &[u8]) {
        self.raw.extend_from_slice(tag.to_string().as_bytes());
        self.raw.push(b'=');
        let start = self.raw.len();
        self.raw.extend_from_slice(value);
        let end = self.raw.len();
        self.raw.push(SOH);
        self.fields.push(Span { tag, start, end });
    }

    /// The underlying bytes (the whole frame for a decoded message).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The `i`-th field in wire order.
    pub fn field(&self, i: usize) -> Option<(u32, &[u8])> {
        self.fields
            .get(i)
            .map(|s| (s.tag, &self.raw[s.start..s.end]))
    }

    /// All fields in wire order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (u32, &[u8])> + '_ {
        self.fields
            .iter()
            .map(|s| (s.tag, &self.raw[s.start..s.end]))
    }

    /// Index of the first field with `tag`.
    pub fn position(&self, tag: u32) -> Option<usize> {
        self.fields.iter().position(|s| s.tag == tag)
    }

    /// The value of the first field with `tag`.
    pub fn get(&self, tag: u32) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|s| s.tag == tag)
            .map(|s| &self.raw[s.start..s.end])
    }

    /// The values of every field with `tag`, in order.
    pub fn get_all(&self, tag: u32) -> impl Iterator<Item = &[u8]> + '_ {
        self.fields
            .iter()
            .filter(move |s| s.tag == tag)
            .map(|s| &self.raw[s.start..s.end])
    }

    fn typed<T>(&self, tag: u32, parse: impl FnOnce(&[u8]) -> Option<T>) -> Result<T, FieldError> {
        let value = self.get(tag).ok_or(FieldError::Missing(tag))?;
        parse(value).ok_or(FieldError::BadFormat(tag))
    }

    /// The first `tag` value as UTF-8 text.
    pub fn get_str(&self, tag: u32) -> Result<&str, FieldError> {
        let value = self.get(tag).ok_or(FieldError::Missing(tag))?;
        core::str::from_utf8(value).map_err(|_| FieldError::BadFormat(tag))
    }

    /// The first `tag` value as a non-negative integer ([`parse_u64`]).
    pub fn get_u64(&self, tag: u32) -> Result<u64, FieldError> {
        self.typed(tag, parse_u64)
    }

    /// The first `tag` value as a signed integer ([`parse_i64`]).
    pub fn get_i64(&self, tag: u32) -> Result<i64, FieldError> {
        self.typed(tag, parse_i64)
    }

    /// The first `tag` value as an exact decimal ([`Decimal::parse`]).
    pub fn get_decimal(&self, tag: u32) -> Result<Decimal, FieldError> {
        self.typed(tag, Decimal::parse)
    }

    /// The first `tag` value as a single-character code ([`parse_char`]).
    pub fn get_char(&self, tag: u32) -> Result<u8, FieldError> {
        self.typed(tag, parse_char)
    }

    /// The first `tag` value as a `Y`/`N` flag ([`parse_bool`]).
    pub fn get_bool(&self, tag: u32) -> Result<bool, FieldError> {
        self.typed(tag, parse_bool)
    }

    /// The first `tag` value as a UTCTimestamp, in nanoseconds since the epoch.
    pub fn get_timestamp_ns(&self, tag: u32) -> Result<u64, FieldError> {
        self.typed(tag, crate::time::parse_utc_timestamp)
    }

    /// MsgType (35).
    pub fn msg_type(&self) -> Option<&[u8]> {
        self.get(tags::MSG_TYPE)
    }

    /// MsgSeqNum (34), if present and well-formed.
    pub fn seq_num(&self) -> Option<u64> {
        self.get_u64(tags::MSG_SEQ_NUM).ok()
    }

    /// SenderCompID (49).
    pub fn sender_comp_id(&self) -> Option<&[u8]> {
        self.get(tags::SENDER_COMP_ID)
    }

    /// TargetCompID (56).
    pub fn target_comp_id(&self) -> Option<&[u8]> {
        self.get(tags::TARGET_COMP_ID)
    }

    /// SendingTime (52) in nanoseconds since the epoch, if present and well-formed.
    pub fn sending_time_ns(&self) -> Option<u64> {
        self.get_timestamp_ns(tags::SENDING_TIME).ok()
    }

    /// PossDupFlag (43) is `Y`.
    pub fn is_poss_dup(&self) -> bool {
        self.get(tags::POSS_DUP_FLAG) == Some(b"Y")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_examples() {
        assert_eq!(Decimal::parse(b"101.25"), Some(Decimal::new(10125, 2)));
        assert_eq!(Decimal::parse(b"-0.005"), Some(Decimal::new(-5, 3)));
        assert_eq!(Decimal::parse(b"100"), Some(Decimal::new(100, 0)));
        assert_eq!(Decimal::parse(b"1.50"), Some(Decimal::new(150, 2)));
        assert_eq!(Decimal::parse(b"007.0"), Some(Decimal::new(70, 1)));
        assert_eq!(Decimal::parse(b".5"), Some(Decimal::new(5, 1)));
        assert_eq!(Decimal::parse(b"5."), Some(Decimal::new(5, 0)));
        assert_eq!(
            Decimal::parse(b"-170141183460469231731687303715884105728"),
            Some(Decimal::new(i128::MIN, 0))
        );
        for bad in [
            &b""[..],
            b"-",
            b".",
            b"+1",
            b"1.2.3",
            b"1e5",
            b" 1",
            b"1,5",
            b"170141183460469231731687303715884105728",
        ] {
            assert_eq!(
                Decimal::parse(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn decimal_formatting() {
        for (m, s, text) in [
            (10125, 2, "101.25"),
            (-5, 3, "-0.005"),
            (0, 2, "0.00"),
            (0, 0, "0"),
            (100, 0, "100"),
            (-12, 1, "-1.2"),
            (i128::MIN, 0, "-170141183460469231731687303715884105728"),
        ] {
            let d = Decimal::new(m, s);
            assert_eq!(d.to_string(), text);
            assert_eq!(Decimal::parse(text.as_bytes()), Some(d));
        }
    }

    #[test]
    fn integers_chars_bools() {
        assert_eq!(parse_u64(b"00042"), Some(42));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_i64(b"-42"), Some(-42));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_char(b"1"), Some(b'1'));
        assert_eq!(parse_char(b"12"), None);
        assert_eq!(parse_char(b" "), None);
        assert_eq!(parse_bool(b"Y"), Some(true));
        assert_eq!(parse_bool(b"y"), None);
    }

    #[test]
    fn accessors() {
        let msg = Message::from_fields([
            (35, &b"D"[..]),
            (34, b"7"),
            (49, b"CLIENT"),
            (56, b"GW"),
            (52, b"20231114-22:13:20.123"),
            (44, b"101.25"),
            (38, b"x"),
            (448, b"A"),
            (448, b"B"),
            (43, b"Y"),
            (99, b"-3"),
        ]);
        assert_eq!(msg.len(), 11);
        assert_eq!(msg.msg_type(), Some(&b"D"[..]));
        assert_eq!(msg.seq_num(), Some(7));
        assert_eq!(msg.sender_comp_id(), Some(&b"CLIENT"[..]));
        assert_eq!(msg.target_comp_id(), Some(&b"GW"[..]));
        assert_eq!(msg.sending_time_ns(), Some(1_700_000_000_123_000_000));
        assert_eq!(msg.get_decimal(44), Ok(Decimal::new(10125, 2)));
        assert_eq!(msg.get_decimal(38), Err(FieldError::BadFormat(38)));
        assert_eq!(msg.get_u64(11), Err(FieldError::Missing(11)));
        assert_eq!(msg.get_i64(99), Ok(-3));
        assert_eq!(msg.get_str(49), Ok("CLIENT"));
        assert_eq!(msg.get_char(35), Ok(b'D'));
        assert!(msg.get_bool(43).unwrap());
        assert!(msg.is_poss_dup());
        assert_eq!(msg.get_all(448).collect::<Vec<_>>(), vec![&b"A"[..], b"B"]);
        assert_eq!(msg.position(448), Some(7));
        assert_eq!(msg.field(0), Some((35, &b"D"[..])));
        assert!(msg.raw().starts_with(b"35=D\x0134=7\x01"));
    }
}
