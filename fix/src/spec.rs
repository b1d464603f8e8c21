//! The slice of the FIX 4.4 dictionary this gateway supports: message types,
//! their required tags, the formats and enumerations of the tags it reads,
//! and session-level validation producing Reject (35=3) details.

use core::fmt;

use crate::message::{parse_bool, parse_char, parse_i64, parse_u64, tags, Decimal, Message};
use crate::time::{parse_date, parse_utc_timestamp};

/// SessionRejectReason (373) codes from FIX 4.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionRejectReason {
    /// 0: Invalid tag number.
    InvalidTagNumber,
    /// 1: Required tag missing.
    RequiredTagMissing,
    /// 4: Tag specified without a value.
    TagSpecifiedWithoutValue,
    /// 5: Value is incorrect (out of range) for this tag.
    ValueIncorrect,
    /// 6: Incorrect data format for value.
    IncorrectDataFormat,
    /// 9: CompID problem.
    CompIdProblem,
    /// 11: Invalid MsgType.
    InvalidMsgType,
    /// 13: Tag appears more than once.
    TagAppearsMoreThanOnce,
    /// 14: Tag specified out of required order.
    TagSpecifiedOutOfRequiredOrder,
}

impl SessionRejectReason {
    /// The numeric value for tag 373.
    pub const fn code(self) -> u32 {
        match self {
            Self::InvalidTagNumber => 0,
            Self::RequiredTagMissing => 1,
            Self::TagSpecifiedWithoutValue => 4,
            Self::ValueIncorrect => 5,
            Self::IncorrectDataFormat => 6,
            Self::CompIdProblem => 9,
            Self::InvalidMsgType => 11,
            Self::TagAppearsMoreThanOnce => 13,
            Self::TagSpecifiedOutOfRequiredOrder => 14,
        }
    }
}

/// Why a received message must be answered with a session-level Reject (35=3).
///
/// Carries what the Reject needs: RefSeqNum (45), RefTagID (371), RefMsgType
/// (372), SessionRejectReason (373) and Text (58). `ref_seq_num` is `None` when
/// MsgSeqNum itself is missing or malformed, which FIX treats as a reason to
/// log out rather than reject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// SessionRejectReason (373).
    pub reason: SessionRejectReason,
    /// RefTagID (371), when one tag is at fault.
    pub ref_tag: Option<u32>,
    /// RefMsgType (372), when the message's MsgType is known.
    pub ref_msg_type: Option<Vec<u8>>,
    /// RefSeqNum (45): the rejected message's MsgSeqNum, if readable.
    pub ref_seq_num: Option<u64>,
    /// Text (58): a human-readable explanation.
    pub text: String,
}

impl Reject {
    /// A reject for `msg` (filling RefMsgType and RefSeqNum from it).
    pub fn new(
        msg: &Message,
        reason: SessionRejectReason,
        ref_tag: Option<u32>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            reason,
            ref_tag,
            ref_msg_type: msg.msg_type().map(<[u8]>::to_vec),
            ref_seq_num: msg.seq_num(),
            text: text.into(),
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "session reject {} ({:?})",
            self.reason.code(),
            self.reason
        )?;
        if let Some(tag) = self.ref_tag {
            write!(f, " tag {tag}")?;
        }
        write!(f, ": {}", self.text)
    }
}

impl std::error::Error for Reject {}

/// The FIX 4.4 message types this crate knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MsgType {
    /// A: Logon.
    Logon,
    /// 0: Heartbeat.
    Heartbeat,
    /// 1: TestRequest.
    TestRequest,
    /// 2: ResendRequest.
    ResendRequest,
    /// 3: Reject.
    Reject,
    /// 4: SequenceReset.
    SequenceReset,
    /// 5: Logout.
    Logout,
    /// D: NewOrderSingle.
    NewOrderSingle,
    /// F: OrderCancelRequest.
    OrderCancelRequest,
    /// G: OrderCancelReplaceRequest.
    OrderCancelReplaceRequest,
    /// H: OrderStatusRequest.
    OrderStatusRequest,
    /// q: OrderMassCancelRequest.
    OrderMassCancelRequest,
    /// 8: ExecutionReport.
    ExecutionReport,
    /// 9: OrderCancelReject.
    OrderCancelReject,
    /// r: OrderMassCancelReport.
    OrderMassCancelReport,
    /// j: BusinessMessageReject.
    BusinessMessageReject,
}

impl MsgType {
    /// Every supported type.
    pub const ALL: [MsgType; 16] = [
        Self::Logon,
        Self::Heartbeat,
        Self::TestRequest,
        Self::ResendRequest,
        Self::Reject,
        Self::SequenceReset,
        Self::Logout,
        Self::NewOrderSingle,
        Self::OrderCancelRequest,
        Self::OrderCancelReplaceRequest,
        Self::OrderStatusRequest,
        Self::OrderMassCancelRequest,
        Self::ExecutionReport,
        Self::OrderCancelReject,
        Self::OrderMassCancelReport,
        Self::BusinessMessageReject,
    ];

    /// The MsgType (35) value.
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            Self::Logon => b"A",
            Self::Heartbeat => b"0",
            Self::TestRequest => b"1",
            Self::ResendRequest => b"2",
            Self::Reject => b"3",
            Self::SequenceReset => b"4",
            Self::Logout => b"5",
            Self::NewOrderSingle => b"D",
            Self::OrderCancelRequest => b"F",
            Self::OrderCancelReplaceRequest => b"G",
            Self::OrderStatusRequest => b"H",
            Self::OrderMassCancelRequest => b"q",
            Self::ExecutionReport => b"8",
            Self::OrderCancelReject => b"9",
            Self::OrderMassCancelReport => b"r",
            Self::BusinessMessageReject => b"j",
        }
    }

    /// The type for a MsgType (35) value, if supported.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_bytes() == b)
    }

    /// Whether this is a session-level (administrative) message.
    pub const fn is_admin(self) -> bool {
        matches!(
            self,
            Self::Logon
                | Self::Heartbeat
                | Self::TestRequest
                | Self::ResendRequest
                | Self::Reject
                | Self::SequenceReset
                | Self::Logout
        )
    }

    /// Body tags FIX 4.4 marks required for this type. For the Instrument
    /// component the gateway requires Symbol (55); for OrderQtyData, OrderQty (38).
    pub const fn required_tags(self) -> &'static [u32] {
        match self {
            Self::Logon => &[98, 108],
            Self::Heartbeat | Self::Logout => &[],
            Self::TestRequest => &[112],
            Self::ResendRequest => &[7, 16],
            Self::Reject => &[45],
            Self::SequenceReset => &[36],
            Self::NewOrderSingle => &[11, 55, 54, 60, 38, 40],
            Self::OrderCancelRequest => &[41, 11, 55, 54, 60, 38],
            Self::OrderCancelReplaceRequest => &[41, 11, 55, 54, 60, 38, 40],
            Self::OrderStatusRequest => &[11, 55, 54],
            Self::OrderMassCancelRequest => &[11, 530, 60],
            Self::ExecutionReport => &[37, 17, 150, 39, 55, 54, 151, 14, 6],
            Self::OrderCancelReject => &[37, 11, 41, 39, 434],
            Self::OrderMassCancelReport => &[37, 530, 531],
            Self::BusinessMessageReject => &[372, 380],
        }
    }
}

/// Standard header tags that every message must carry besides 8, 9 and 35.
pub const REQUIRED_HEADER_TAGS: [u32; 4] = [49, 56, 34, 52];

/// Tags of the FIX 4.4 standard header (which must precede every body field).
pub const HEADER_TAGS: [u32; 28] = [
    8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52, 122,
    212, 213, 347, 369, 627, 1128,
];

/// How a tag's value must be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldFormat {
    /// Free text (any bytes but SOH).
    String,
    /// Non-negative integer (`SeqNum`, `Length`, `NumInGroup`, ...).
    UInt,
    /// Strictly positive integer (MsgSeqNum, NewSeqNo).
    PositiveUInt,
    /// Signed integer.
    Int,
    /// Quantity: a non-negative decimal.
    Qty,
    /// Quantity that must be greater than zero (OrderQty).
    PositiveQty,
    /// Price or amount: any decimal.
    Price,
    /// One printable character, from `allowed` if not empty.
    Char(&'static [u8]),
    /// Space-separated single characters (`MultipleValueString` of codes, e.g. ExecInst).
    MultipleChar,
    /// `Y` or `N`.
    Boolean,
    /// `YYYYMMDD-HH:MM:SS[.sss]`.
    UtcTimestamp,
    /// `YYYYMMDD`.
    LocalMktDate,
    /// An integer within `min..=max`.
    IntRange(i64, i64),
}

/// The format of `tag` where the gateway knows it.
pub const fn field_format(tag: u32) -> Option<FieldFormat> {
    use FieldFormat::*;
    Some(match tag {
        // Header / session
        34 | 36 => PositiveUInt,
        7 | 16 | 45 | 108 | 371 | 373 | 380 | 789 | 95 | 93 | 90 | 212 | 354 | 453 | 384 => UInt,
        98 => IntRange(0, 6),
        43 | 97 | 123 | 141 => Boolean,
        52 | 60 | 122 | 126 => UtcTimestamp,
        49 | 56 | 11 | 41 | 37 | 17 | 55 | 112 | 58 | 1 | 372 | 50 | 57 | 115 | 128 => String,
        // Orders
        38 => PositiveQty,
        14 | 151 | 32 | 110 | 111 | 152 => Qty,
        44 | 99 | 6 | 31 => Price,
        54 => Char(b"123456789ABCDEFG"),
        40 => Char(b"123456789ABCDEFGHIJKLMP"),
        59 => Char(b"01234567"),
        39 => Char(b"0123456789ABCDE"),
        150 => Char(b"0123456789ABCDEFGHI"),
        21 => Char(b"123"),
        434 => Char(b"12"),
        530 => Char(b"1234567"),
        531 => Char(b"01234567"),
        18 => MultipleChar,
        432 | 75 => LocalMktDate,
        102 | 103 => Int,
        _ => return None,
    })
}

/// Checks one value against `format`: `Err(IncorrectDataFormat)` if it is not
/// written as the format says, `Err(ValueIncorrect)` if it is but its value is
/// out of range.
pub fn check_format(format: FieldFormat, value: &[u8]) -> Result<(), SessionRejectReason> {
    use SessionRejectReason::{IncorrectDataFormat as Fmt, ValueIncorrect as Range};
    match format {
        FieldFormat::String => Ok(()),
        FieldFormat::UInt => parse_u64(value).map(drop).ok_or(Fmt),
        FieldFormat::PositiveUInt => match parse_u64(value).ok_or(Fmt)? {
            0 => Err(Range),
            _ => Ok(()),
        },
        FieldFormat::Int => parse_i64(value).map(drop).ok_or(Fmt),
        FieldFormat::IntRange(min, max) => {
            let v = parse_i64(value).ok_or(Fmt)?;
            if (min..=max).contains(&v) {
                Ok(())
            } else {
                Err(Range)
            }
        }
        FieldFormat::Qty => match Decimal::parse(value).ok_or(Fmt)? {
            d if d.mantissa < 0 => Err(Range),
            _ => Ok(()),
        },
        FieldFormat::PositiveQty => match Decimal::parse(value).ok_or(Fmt)? {
            d if d.mantissa <= 0 => Err(Range),
            _ => Ok(()),
        },
        FieldFormat::Price => Decimal::parse(value).map(drop).ok_or(Fmt),
        FieldFormat::Char(allowed) => {
            let c = parse_char(value).ok_or(Fmt)?;
            if allowed.is_empty() || allowed.contains(&c) {
                Ok(())
            } else {
                Err(Range)
            }
        }
        FieldFormat::MultipleChar => {
            if value.split(|&b| b == b' ').all(|t| parse_char(t).is_some()) {
                Ok(())
            } else {
                Err(Fmt)
            }
        }
        FieldFormat::Boolean => parse_bool(value).map(drop).ok_or(Fmt),
        FieldFormat::UtcTimestamp => parse_utc_timestamp(value).map(drop).ok_or(Fmt),
        FieldFormat::LocalMktDate => parse_date(value).map(drop).ok_or(Fmt),
    }
}

/// Whether `tag` must not repeat: header tags and every tag with a known
/// format. Other tags (repeating-group members, user-defined tags) may.
fn is_unique_tag(tag: u32) -> bool {
    HEADER_TAGS.contains(&tag) || (field_format(tag).is_some() && tag != 453 && tag != 384)
}

/// Session-level validation of a received message (beyond framing):
///
/// - MsgType (35) present (1) and supported (11);
/// - header tags before body tags (14);
/// - no known non-repeating tag twice (13);
/// - known tags well-formed (6) and in range (5), e.g. Side, OrdType,
///   TimeInForce, OrderQty > 0, MsgSeqNum > 0, prices, timestamps;
/// - header tags 49, 56, 34, 52 and the type's required body tags present (1).
///
/// The first problem found is returned, with RefTagID, RefMsgType and RefSeqNum
/// filled in where known.
pub fn validate(msg: &Message) -> Result<(), Reject> {
    use SessionRejectReason as R;
    let reject = |reason, tag: Option<u32>, text: String| Err(Reject::new(msg, reason, tag, text));
    let Some(msg_type) = msg.msg_type() else {
        return reject(
            R::RequiredTagMissing,
            Some(tags::MSG_TYPE),
            "MsgType(35) missing".into(),
        );
    };
    let Some(kind) = MsgType::from_bytes(msg_type) else {
        return reject(
            R::InvalidMsgType,
            Some(tags::MSG_TYPE),
            format!(
                "unsupported MsgType {:?}",
                String::from_utf8_lossy(msg_type)
            ),
        );
    };
    let mut in_body = false;
    let mut seen = [0u64; 32];
    for (tag, value) in msg.fields() {
        if HEADER_TAGS.contains(&tag) {
            if in_body {
                return reject(
                    R::TagSpecifiedOutOfRequiredOrder,
                    Some(tag),
                    format!("header tag {tag} after body"),
                );
            }
        } else if tag != tags::CHECK_SUM {
            in_body = true;
        }
        if is_unique_tag(tag) {
            // Every unique tag is below 2048 (asserted in tests): a stack bitset.
            let (word, bit) = ((tag / 64) as usize % 32, 1u64 << (tag % 64));
            if seen[word] & bit != 0 {
                return reject(
                    R::TagAppearsMoreThanOnce,
                    Some(tag),
                    format!("tag {tag} appears more than once"),
                );
            }
            seen[word] |= bit;
        }
        if let Some(format) = field_format(tag) {
            if let Err(reason) = check_format(format, value) {
                let what = if reason == R::ValueIncorrect {
                    "out of range"
                } else {
                    "malformed"
                };
                return reject(
                    reason,
                    Some(tag),
                    format!(
                        "tag {tag} value {:?} {what}",
                        String::from_utf8_lossy(value)
                    ),
                );
            }
        }
    }
    for &tag in REQUIRED_HEADER_TAGS.iter().chain(kind.required_tags()) {
        if msg.get(tag).is_none() {
            return reject(
                R::RequiredTagMissing,
                Some(tag),
                format!("required tag {tag} missing"),
            );
        }
    }
    Ok(())
}

/// Checks SenderCompID (49) and TargetCompID (56) of a received message
/// against the counterparty's and our own CompIDs (reason 9, CompID problem).
pub fn validate_comp_ids(
    msg: &Message,
    their_comp_id: &[u8],
    our_comp_id: &[u8],
) -> Result<(), Reject> {
    for (tag, expected) in [
        (tags::SENDER_COMP_ID, their_comp_id),
        (tags::TARGET_COMP_ID, our_comp_id),
    ] {
        match msg.get(tag) {
            Some(v) if v == expected => {}
            Some(v) => {
                return Err(Reject::new(
                    msg,
                    SessionRejectReason::CompIdProblem,
                    Some(tag),
                    format!(
                        "tag {tag} is {:?}, expected {:?}",
                        String::from_utf8_lossy(v),
                        String::from_utf8_lossy(expected)
                    ),
                ))
            }
            None => {
                return Err(Reject::new(
                    msg,
                    SessionRejectReason::RequiredTagMissing,
                    Some(tag),
                    format!("required tag {tag} missing"),
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionRejectReason as R;

    const HDR: [(u32, &str); 4] = [
        (49, "CLIENT"),
        (56, "GW"),
        (34, "7"),
        (52, "20231114-22:13:20.123"),
    ];

    fn nos() -> Vec<(u32, &'static str)> {
        let mut f = vec![(35, "D")];
        f.extend(HDR);
        f.extend([
            (11, "ord-1"),
            (55, "ACME"),
            (54, "1"),
            (60, "20231114-22:13:20.000"),
            (38, "100"),
            (40, "2"),
            (44, "101.25"),
            (59, "0"),
            (18, "M P"),
            (111, "10"),
            (99, "100.5"),
            (448, "P1"),
            (448, "P2"),
        ]);
        f
    }

    fn with(
        mut f: Vec<(u32, &'static str)>,
        tag: u32,
        value: &'static str,
    ) -> Vec<(u32, &'static str)> {
        match f.iter_mut().find(|(t, _)| *t == tag) {
            Some(slot) => slot.1 = value,
            None => f.push((tag, value)),
        }
        f
    }

    fn without(f: Vec<(u32, &'static str)>, tag: u32) -> Vec<(u32, &'static str)> {
        f.into_iter().filter(|(t, _)| *t != tag).collect()
    }

    fn check(f: Vec<(u32, &'static str)>) -> Result<(), Reject> {
        validate(&Message::from_fields(f))
    }

    fn reason(f: Vec<(u32, &'static str)>) -> (R, Option<u32>) {
        let r = check(f).unwrap_err();
        (r.reason, r.ref_tag)
    }

    #[test]
    fn valid_new_order_single() {
        check(nos()).unwrap();
    }

    #[test]
    fn codes() {
        let got: Vec<u32> = [
            R::InvalidTagNumber,
            R::RequiredTagMissing,
            R::TagSpecifiedWithoutValue,
            R::ValueIncorrect,
            R::IncorrectDataFormat,
            R::CompIdProblem,
            R::InvalidMsgType,
            R::TagAppearsMoreThanOnce,
            R::TagSpecifiedOutOfRequiredOrder,
        ]
        .map(R::code)
        .to_vec();
        assert_eq!(got, vec![0, 1, 4, 5, 6, 9, 11, 13, 14]);
    }

    #[test]
    fn unique_tags_fit_the_bitset() {
        for tag in 0..100_000 {
            if is_unique_tag(tag) {
                assert!(tag < 2048, "{tag}");
            }
        }
    }

    #[test]
    fn msg_types_round_trip() {
        for t in MsgType::ALL {
            assert_eq!(MsgType::from_bytes(t.as_bytes()), Some(t));
        }
        assert_eq!(MsgType::from_bytes(b"Z"), None);
        assert!(MsgType::Logon.is_admin());
        assert!(!MsgType::NewOrderSingle.is_admin());
        assert_eq!(
            MsgType::NewOrderSingle.required_tags(),
            &[11, 55, 54, 60, 38, 40]
        );
    }

    #[test]
    fn required_tag_missing() {
        for tag in [11, 55, 54, 60, 38, 40, 49, 56, 34, 52] {
            assert_eq!(
                reason(without(nos(), tag)),
                (R::RequiredTagMissing, Some(tag)),
                "tag {tag}"
            );
        }
        assert_eq!(
            reason(without(nos(), 35)),
            (R::RequiredTagMissing, Some(35))
        );
        let mut logon = vec![(35, "A")];
        logon.extend(HDR);
        logon.push((98, "0"));
        assert_eq!(reason(logon.clone()), (R::RequiredTagMissing, Some(108)));
        logon.push((108, "30"));
        check(logon).unwrap();
    }

    #[test]
    fn reject_carries_refs() {
        let r = check(without(nos(), 11)).unwrap_err();
        assert_eq!(r.ref_msg_type.as_deref(), Some(&b"D"[..]));
        assert_eq!(r.ref_seq_num, Some(7));
        assert!(r.to_string().contains("session reject 1"), "{r}");
    }

    #[test]
    fn invalid_msg_type() {
        assert_eq!(reason(with(nos(), 35, "Z")), (R::InvalidMsgType, Some(35)));
        assert_eq!(reason(with(nos(), 35, "DD")), (R::InvalidMsgType, Some(35)));
    }

    #[test]
    fn incorrect_data_format() {
        for (tag, value) in [
            (38, "1O0"),
            (44, "1.2.3"),
            (99, "abc"),
            (111, "1e3"),
            (54, "12"),
            (40, ""),
            (59, "day"),
            (18, "M  P"),
            (34, "x7"),
            (52, "2023-11-14T22:13:20"),
            (60, "20231114-25:00:00"),
        ] {
            assert_eq!(
                reason(with(nos(), tag, value)),
                (R::IncorrectDataFormat, Some(tag)),
                "{tag}={value}"
            );
        }
        let r = check(with(nos(), 34, "x7")).unwrap_err();
        assert_eq!(r.ref_seq_num, None);
        let mut f = nos();
        f.insert(5, (43, "yes"));
        assert_eq!(reason(f), (R::IncorrectDataFormat, Some(43)));
        assert_eq!(
            reason(with(nos(), 432, "20230230")),
            (R::IncorrectDataFormat, Some(432))
        );
    }

    #[test]
    fn value_out_of_range() {
        for (tag, value) in [
            (54, "Z"),
            (40, "0"),
            (59, "9"),
            (38, "0"),
            (38, "-5"),
            (111, "-1"),
            (34, "0"),
        ] {
            assert_eq!(
                reason(with(nos(), tag, value)),
                (R::ValueIncorrect, Some(tag)),
                "{tag}={value}"
            );
        }
        let mut logon = vec![(35, "A")];
        logon.extend(HDR);
        logon.extend([(98, "7"), (108, "30")]);
        assert_eq!(reason(logon), (R::ValueIncorrect, Some(98)));
        // Negative prices are legal.
        check(with(nos(), 44, "-1.5")).unwrap();
    }

    #[test]
    fn tag_appears_more_than_once() {
        let mut f = nos();
        f.push((55, "OTHER"));
        assert_eq!(reason(f), (R::TagAppearsMoreThanOnce, Some(55)));
        let mut f = nos();
        f.insert(2, (49, "X"));
        assert_eq!(reason(f), (R::TagAppearsMoreThanOnce, Some(49)));
    }

    #[test]
    fn header_tag_after_body_is_out_of_order() {
        let f = without(nos(), 52);
        let mut f = f;
        f.push((52, "20231114-22:13:20.123"));
        assert_eq!(reason(f), (R::TagSpecifiedOutOfRequiredOrder, Some(52)));
    }

    #[test]
    fn comp_ids() {
        let msg = Message::from_fields(nos());
        validate_comp_ids(&msg, b"CLIENT", b"GW").unwrap();
        let r = validate_comp_ids(&msg, b"OTHER", b"GW").unwrap_err();
        assert_eq!((r.reason, r.ref_tag), (R::CompIdProblem, Some(49)));
        let r = validate_comp_ids(&msg, b"CLIENT", b"ME").unwrap_err();
        assert_eq!((r.reason, r.ref_tag), (R::CompIdProblem, Some(56)));
        let r = validate_comp_ids(&Message::from_fields(without(nos(), 56)), b"CLIENT", b"GW")
            .unwrap_err();
        assert_eq!((r.reason, r.ref_tag), (R::RequiredTagMissing, Some(56)));
    }

    #[test]
    fn every_type_accepts_its_required_tags() {
        for t in MsgType::ALL {
            let mut f: Vec<(u32, &str)> = vec![(35, core::str::from_utf8(t.as_bytes()).unwrap())];
            f.extend(HDR);
            for &tag in t.required_tags() {
                let v = match field_format(tag) {
                    Some(FieldFormat::UtcTimestamp) => "20231114-22:13:20",
                    Some(FieldFormat::Char(allowed)) => {
                        core::str::from_utf8(&allowed[..1]).unwrap()
                    }
                    Some(FieldFormat::IntRange(..)) => "0",
                    _ => "1",
                };
                f.push((tag, v));
            }
            check(f).unwrap_or_else(|e| panic!("{t:?}: {e}"));
        }
    }
}
