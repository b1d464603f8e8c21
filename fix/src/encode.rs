//! Building outbound FIX 4.4 messages with BodyLength and CheckSum computed.

use crate::message::{Decimal, SOH};
use crate::time::format_utc_timestamp;

/// The BeginString field as it opens every FIX 4.4 message.
pub const BEGIN_STRING: &[u8] = b"8=FIX.4.4\x01";

/// A UTCTimestamp value given as nanoseconds since the Unix epoch; encodes
/// as `YYYYMMDD-HH:MM:SS.sss`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTimestamp(pub u64);

/// A value the [`Encoder`] can write as a field's text.
///
/// Implemented for text (`&str`, `&[u8]`), integers, `char`, `bool` (`Y`/`N`),
/// [`Decimal`] and [`UtcTimestamp`]. Text values must not contain SOH (only
/// length-prefixed data fields such as RawData(96) may); the encoder does not
/// check this.
pub trait FieldValue {
    /// Appends the value's FIX text to `out`.
    fn write_value(&self, out: &mut Vec<u8>);
}

impl FieldValue for &str {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl FieldValue for &[u8] {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> FieldValue for &[u8; N] {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self[..]);
    }
}

impl FieldValue for &String {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

fn write_u64(mut v: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn write_i64(v: i64, out: &mut Vec<u8>) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(v.unsigned_abs(), out);
}

impl FieldValue for u64 {
    fn write_value(&self, out: &mut Vec<u8>) {
        write_u64(*self, out);
    }
}

impl FieldValue for u32 {
    fn write_value(&self, out: &mut Vec<u8>) {
        write_u64(u64::from(*self), out);
    }
}

impl FieldValue for usize {
    fn write_value(&self, out: &mut Vec<u8>) {
        write_u64(*self as u64, out);
    }
}

impl FieldValue for i64 {
    fn write_value(&self, out: &mut Vec<u8>) {
        write_i64(*self, out);
    }
}

impl FieldValue for i32 {
    fn write_value(&self, out: &mut Vec<u8>) {
        write_i64(i64::from(*self), out);
    }
}

impl FieldValue for char {
    fn write_value(&self, out: &mut Vec<u8>) {
        let mut buf = [0u8; 4];
        out.extend_from_slice(self.encode_utf8(&mut buf).as_bytes());
    }
}

impl FieldValue for bool {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.push(if *self { b'Y' } else { b'N' });
    }
}

impl FieldValue for Decimal {
    fn write_value(&self, out: &mut Vec<u8>) {
        self.write_to(out);
    }
}

impl FieldValue for UtcTimestamp {
    fn write_value(&self, out: &mut Vec<u8>) {
        format_utc_timestamp(self.0, out);
    }
}

/// Builds one FIX 4.4 message at a time, reusing its buffers.
///
/// ```
/// use pyengine_fix::{Decimal, Encoder, UtcTimestamp};
/// let mut enc = Encoder::new();
/// enc.begin("D")
///     .field(11, "ord-1")
///     .field(55, "ACME")
///     .field(54, '1')
///     .field(60, UtcTimestamp(1_700_000_000_123_000_000))
///     .field(38, 100u64)
///     .field(40, '2')
///     .field(44, Decimal::new(10125, 2));
/// let wire = enc.finish(7, "CLIENT", "GW", 1_700_000_000_123_000_000);
/// assert!(wire.starts_with(b"8=FIX.4.4\x019="));
/// assert!(wire.ends_with(b"\x01"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Encoder {
    msg_type: Vec<u8>,
    header: Vec<u8>,
    body: Vec<u8>,
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a new message of `msg_type` (35), discarding any previous fields.
    pub fn begin(&mut self, msg_type: &str) -> &mut Self {
        self.msg_type.clear();
        self.msg_type.extend_from_slice(msg_type.as_bytes());
        self.header.clear();
        self.body.clear();
        self
    }

    fn push_field(out: &mut Vec<u8>, tag: u32, value: &impl FieldValue) {
        write_u64(u64::from(tag), out);
        out.push(b'=');
        value.write_value(out);
        out.push(SOH);
    }

    /// Appends a body field `tag=value`.
    pub fn field(&mut self, tag: u32, value: impl FieldValue) -> &mut Self {
        Self::push_field(&mut self.body, tag, &value);
        self
    }

    /// Appends a decimal body field from `(mantissa, scale)`, e.g. `(10125, 2)` -> `101.25`.
    pub fn field_decimal(&mut self, tag: u32, mantissa: i128, scale: u32) -> &mut Self {
        self.field(tag, Decimal::new(mantissa, scale))
    }

    /// Appends a UTCTimestamp body field from nanoseconds since the epoch.
    pub fn field_timestamp(&mut self, tag: u32, ns: u64) -> &mut Self {
        self.field(tag, UtcTimestamp(ns))
    }

    /// Appends an optional header field (e.g. PossDupFlag 43, OrigSendingTime
    /// 122); these go after SendingTime (52) and before every body field.
    pub fn header_field(&mut self, tag: u32, value: impl FieldValue) -> &mut Self {
        Self::push_field(&mut self.header, tag, &value);
        self
    }

    /// The body fields written so far (after the standard header).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Writes the complete message to the end of `out`: header in the order
    /// 8, 9, 35, 49, 56, 34, 52, then any [`header_field`](Self::header_field)s,
    /// the body, and CheckSum (10). `sending_time_ns` is SendingTime (52) in
    /// nanoseconds since the epoch. The encoder keeps its fields, so the same
    /// message can be finished again (say, with a new sequence number).
    pub fn finish_into(
        &self,
        seq: u64,
        sender: impl AsRef<[u8]>,
        target: impl AsRef<[u8]>,
        sending_time_ns: u64,
        out: &mut Vec<u8>,
    ) {
        let start = out.len();
        out.extend_from_slice(BEGIN_STRING);
        out.extend_from_slice(b"9=");
        // Write everything after "9=", then insert the BodyLength digits.
        let len_pos = out.len();
        out.extend_from_slice(b"35=");
        out.extend_from_slice(&self.msg_type);
        out.push(SOH);
        Self::push_field(out, 49, &sender.as_ref());
        Self::push_field(out, 56, &target.as_ref());
        Self::push_field(out, 34, &seq);
        Self::push_field(out, 52, &UtcTimestamp(sending_time_ns));
        out.extend_from_slice(&self.header);
        out.extend_from_slice(&self.body);
        let body_len = out.len() - len_pos;
        let mut len_text = Vec::with_capacity(8);
        write_u64(body_len as u64, &mut len_text);
        len_text.push(SOH);
        out.splice(len_pos..len_pos, len_text);
        let sum = checksum(&out[start..]);
        out.extend_from_slice(b"10=");
        out.extend_from_slice(&[
            b'0' + sum / 100,
            b'0' + (sum / 10) % 10,
            b'0' + sum % 10,
            SOH,
        ]);
    }

    /// Like [`finish_into`](Self::finish_into), returning a new buffer.
    pub fn finish(
        &self,
        seq: u64,
        sender: impl AsRef<[u8]>,
        target: impl AsRef<[u8]>,
        sending_time_ns: u64,
    ) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(96 + self.msg_type.len() + self.header.len() + self.body.len());
        self.finish_into(seq, sender, target, sending_time_ns, &mut out);
        out
    }
}

/// The FIX CheckSum of `bytes`: the sum of all bytes modulo 256.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, &b| acc.wrapping_add(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &[u8]) -> String {
        String::from_utf8(v.to_vec()).unwrap().replace('\x01', "|")
    }

    #[test]
    fn heartbeat_matches_hand_computed_bytes() {
        let mut enc = Encoder::new();
        let wire = enc.begin("0").finish(1, "A", "B", 0);
        // Body: "35=0|49=A|56=B|34=1|52=19700101-00:00:00.000|" = 5+5+5+5+25 = 45
        // CheckSum computed independently (Python: sum(bytes) % 256).
        assert_eq!(
            text(&wire),
            "8=FIX.4.4|9=45|35=0|49=A|56=B|34=1|52=19700101-00:00:00.000|10=059|"
        );
    }

    #[test]
    fn new_order_single_layout() {
        let mut enc = Encoder::new();
        enc.begin("D")
            .field(11, "ord-1")
            .field(55, "ACME")
            .field(54, '1')
            .field_timestamp(60, 1_700_000_000_123_456_789)
            .field(38, 100u64)
            .field(40, '2')
            .field_decimal(44, 10125, 2)
            .field(99, -5i64)
            .field(141, true)
            .header_field(43, false);
        let wire = enc.finish(12, b"CLIENT", "GW", 1_700_000_000_999_000_000);
        let s = text(&wire);
        assert!(s.starts_with("8=FIX.4.4|9="), "{s}");
        assert!(
            s.contains(
                "|35=D|49=CLIENT|56=GW|34=12|52=20231114-22:13:20.999|43=N|11=ord-1|55=ACME|54=1|\
             60=20231114-22:13:20.123|38=100|40=2|44=101.25|99=-5|141=Y|10="
            ),
            "{s}"
        );
        // BodyLength counts from after "9=NNN|" up to and including the SOH before "10=".
        let after_len = wire.iter().skip(10).position(|&b| b == SOH).unwrap() + 11;
        let declared: usize = s[12..s.find("|35=").unwrap()].parse().unwrap();
        assert_eq!(declared, wire.len() - 7 - after_len);
        assert_eq!(
            format!("{:03}", checksum(&wire[..wire.len() - 7])),
            s[s.len() - 4..s.len() - 1]
        );
    }

    #[test]
    fn finish_is_repeatable_and_begin_resets() {
        let mut enc = Encoder::new();
        enc.begin("1").field(112, "T1");
        let a = enc.finish(1, "A", "B", 0);
        let b = enc.finish(1, "A", "B", 0);
        assert_eq!(a, b);
        enc.begin("0");
        assert!(enc.body().is_empty());
        let mut out = b"prefix".to_vec();
        enc.finish_into(2, "A", "B", 0, &mut out);
        assert!(out.starts_with(b"prefix8=FIX.4.4\x01"));
    }
}
