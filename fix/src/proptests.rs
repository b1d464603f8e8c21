//! Property tests: encode/decode round trips and framer robustness.

use proptest::prelude::*;

use crate::{Decimal, Encoder, FrameError, Framer, FramerConfig, Message, SOH};

/// Tags a random body field must avoid: the framing tags, MsgType, and the
/// length/data pairs (whose values change how the body is split).
fn plain_tag() -> impl Strategy<Value = u32> {
    (1u32..20_000).prop_filter("framing, MsgType or data tag", |&t| {
        !matches!(t, 8 | 9 | 10 | 35 | 89..=91 | 93 | 95 | 96 | 212 | 213 | 348..=365 | 445 | 446 | 618 | 619 | 621 | 622)
    })
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>().prop_filter("SOH", |&b| b != SOH), 1..24)
}

fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.-]{1,12}"
}

fn no_validation() -> FramerConfig {
    FramerConfig {
        validate: false,
        ..FramerConfig::default()
    }
}

/// A well-formed message with random content.
fn encoded() -> impl Strategy<Value = Vec<u8>> {
    (
        "[A-Za-z0-9]{1,2}",
        prop::collection::vec((plain_tag(), value()), 0..8),
        any::<u64>(),
        ident(),
        ident(),
        0u64..4_102_444_800_000_000_000,
    )
        .prop_map(|(mt, fields, seq, sender, target, ts)| {
            let mut enc = Encoder::new();
            enc.begin(&mt);
            for (tag, v) in &fields {
                enc.field(*tag, v.as_slice());
            }
            enc.finish(seq, sender, target, ts)
        })
}

/// A piece of a byte stream: mostly messages, some damaged, some noise.
fn segment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => encoded(),
        1 => (encoded(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(mut m, i, b)| {
            let i = i.index(m.len());
            m[i] = b;
            m
        }),
        1 => (encoded(), any::<prop::sample::Index>()).prop_map(|(m, i)| m[..i.index(m.len())].to_vec()),
        1 => (encoded(), any::<prop::sample::Index>()).prop_map(|(m, i)| {
            // Misstate BodyLength by rewriting one of its digits.
            let mut m = m;
            let i = 12 + i.index(2);
            m[i] = if m[i] == b'9' { b'1' } else { m[i] + 1 };
            m
        }),
        1 => prop::collection::vec(any::<u8>(), 0..32),
        1 => prop::collection::vec(any::<u8>(), 0..32).prop_map(|tail| {
            let mut m = b"8=FIX.4.4\x019=".to_vec();
            m.extend(tail);
            m
        }),
    ]
}

/// Drains a framer: every outcome until it needs more bytes or fails.
fn drain(f: &mut Framer, out: &mut Vec<Result<Message, FrameError>>) -> bool {
    loop {
        match f.next_message() {
            Ok(None) => return true,
            Ok(Some(m)) => out.push(Ok(m)),
            Err(e) => {
                let fatal = e.is_fatal();
                out.push(Err(e));
                if fatal {
                    return false;
                }
            }
        }
    }
}

fn run(config: &FramerConfig, chunks: &[&[u8]]) -> Vec<Result<Message, FrameError>> {
    let mut f = Framer::with_config(config.clone());
    let mut out = Vec::new();
    for chunk in chunks {
        f.push(chunk);
        if !drain(&mut f, &mut out) {
            break;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_decode_round_trips(
        mt in "[A-Za-z0-9]{1,2}",
        fields in prop::collection::vec((plain_tag(), value()), 0..16),
        seq in any::<u64>(),
        sender in ident(),
        target in ident(),
        ts in 0u64..4_102_444_800_000_000_000,
    ) {
        let mut enc = Encoder::new();
        enc.begin(&mt);
        for (tag, v) in &fields {
            enc.field(*tag, v.as_slice());
        }
        let wire = enc.finish(seq, &sender, &target, ts);
        let mut f = Framer::with_config(no_validation());
        f.push(&wire);
        let msg = f.next_message().unwrap().unwrap();
        prop_assert_eq!(f.next_message(), Ok(None));
        prop_assert_eq!(msg.raw(), &wire[..]);
        let header: Vec<u32> = msg.fields().take(7).map(|(t, _)| t).collect();
        prop_assert_eq!(header, vec![8, 9, 35, 49, 56, 34, 52]);
        prop_assert_eq!(msg.msg_type(), Some(mt.as_bytes()));
        prop_assert_eq!(msg.seq_num(), Some(seq));
        prop_assert_eq!(msg.sender_comp_id(), Some(sender.as_bytes()));
        prop_assert_eq!(msg.target_comp_id(), Some(target.as_bytes()));
        prop_assert_eq!(msg.sending_time_ns(), Some(ts - ts % 1_000_000));
        let body: Vec<(u32, Vec<u8>)> = msg
            .fields()
            .skip(7)
            .take(msg.len() - 8)
            .map(|(t, v)| (t, v.to_vec()))
            .collect();
        prop_assert_eq!(body, fields);
        prop_assert_eq!(msg.field(msg.len() - 1).map(|(t, _)| t), Some(10));
    }

    #[test]
    fn typed_values_round_trip(
        u in any::<u64>(),
        i in any::<i64>(),
        mantissa in any::<i128>(),
        scale in 0u32..45,
    ) {
        let d = Decimal::new(mantissa, scale);
        let mut enc = Encoder::new();
        enc.begin("0").field(5001, u).field(5002, i).field(5003, d);
        let mut f = Framer::with_config(no_validation());
        f.push(&enc.finish(1, "A", "B", 0));
        let msg = f.next_message().unwrap().unwrap();
        prop_assert_eq!(msg.get_u64(5001), Ok(u));
        prop_assert_eq!(msg.get_i64(5002), Ok(i));
        prop_assert_eq!(msg.get_decimal(5003), Ok(d));
    }

    #[test]
    fn any_chunking_gives_the_same_outcomes(
        segments in prop::collection::vec(segment(), 0..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        max in prop_oneof![Just(crate::DEFAULT_MAX_MESSAGE_SIZE), 40usize..400],
        validate in any::<bool>(),
    ) {
        let stream: Vec<u8> = segments.concat();
        let config = FramerConfig { max_message_size: max, validate, ..FramerConfig::default() };
        let whole = run(&config, &[&stream]);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        let chunks: Vec<&[u8]> = points.windows(2).map(|w| &stream[w[0]..w[1]]).collect();
        prop_assert_eq!(run(&config, &chunks), whole.clone());
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        prop_assert_eq!(run(&config, &bytes), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        prefix in prop_oneof![Just(Vec::new()), Just(b"8=FIX.4.4\x01".to_vec()), Just(b"8=FIX.4.4\x019=".to_vec())],
        noise in prop::collection::vec(any::<u8>(), 0..512),
        max in 0usize..600,
    ) {
        let mut stream = prefix;
        stream.extend(noise);
        let config = FramerConfig { max_message_size: max, ..FramerConfig::default() };
        let out = run(&config, &[&stream]);
        // Each outcome but a final fatal one consumes bytes, so they are few.
        prop_assert!(out.len() <= stream.len() / 8 + 2);
    }
}
