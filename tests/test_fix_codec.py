"""The FIX 4.4 codec bindings (pyengine.fix), checked against the independent simplefix library."""

from __future__ import annotations

import random

import pytest
import simplefix  # type: ignore[import-untyped]

from pyengine.fix import (
    FixDisconnect,
    FixFramer,
    FixGarbled,
    FixMessage,
    FixSessionReject,
    encode_fix,
)

TS = "20231114-22:13:20.123"
TS_NS = 1_700_000_000_123_000_000  # 2023-11-14 22:13:20.123 UTC

Fields = list[tuple[int, str]]

LOGON: Fields = [(98, "0"), (108, "30"), (141, "Y")]
NOS: Fields = [
    (11, "ord-1"),
    (1, "acc-1"),
    (55, "ACME"),
    (54, "1"),
    (60, "20231114-22:13:20.000"),
    (38, "100"),
    (40, "2"),
    (44, "101.25"),
    (59, "0"),
]
CANCEL: Fields = [(41, "ord-1"), (11, "ord-2"), (55, "ACME"), (54, "1"), (60, "20231114-22:13:21.000"), (38, "100")]
HEARTBEAT: Fields = [(112, "T1")]


def sf_wire(
    msg_type: str,
    body: Fields,
    *,
    seq: int | str = 1,
    sender: str = "CLIENT",
    target: str = "GW",
    header: Fields | None = None,
) -> bytes:
    """A message encoded by simplefix, standard header first (BodyLength and CheckSum by simplefix)."""
    m = simplefix.FixMessage()
    m.append_pair(8, "FIX.4.4")
    m.append_pair(35, msg_type)
    m.append_pair(49, sender)
    m.append_pair(56, target)
    m.append_pair(34, str(seq))
    m.append_pair(52, TS)
    for tag, value in header or []:
        m.append_pair(tag, value)
    for tag, value in body:
        m.append_pair(tag, value)
    out: bytes = m.encode()
    return out


def body_fields(msg: FixMessage) -> list[tuple[int, bytes]]:
    """The fields after the standard header and before CheckSum."""
    return [(t, v) for t, v in msg.fields if t not in (8, 9, 35, 49, 56, 34, 52, 10)]


def expected(body: Fields) -> list[tuple[int, bytes]]:
    return [(t, v.encode()) for t, v in body]


def drain(framer: FixFramer) -> list[FixMessage]:
    out = []
    while (m := framer.next()) is not None:
        out.append(m)
    return out


CASES = [("A", LOGON), ("D", NOS), ("F", CANCEL), ("0", HEARTBEAT)]


@pytest.mark.parametrize(("msg_type", "body"), CASES)
def test_decode_whole_message(msg_type: str, body: Fields) -> None:
    wire = sf_wire(msg_type, body, seq=7)
    framer = FixFramer()
    framer.push(wire)
    assert framer.buffered == len(wire)
    msg = framer.next()
    assert msg is not None
    assert msg.msg_type == msg_type
    assert msg.seq_num == 7
    assert not msg.poss_dup
    assert msg.raw == wire
    assert len(msg) == len(msg.fields)
    assert msg.fields[:3] == [(8, b"FIX.4.4"), (9, msg.fields[1][1]), (35, msg_type.encode())]
    assert msg.fields[-1][0] == 10
    assert body_fields(msg) == expected(body)
    assert msg.get(49) == "CLIENT"
    assert msg.get(56) == "GW"
    assert msg.get(52) == TS
    assert msg.get(9999) is None
    assert framer.next() is None
    assert framer.buffered == 0


def test_new_order_single_typed_access() -> None:
    framer = FixFramer()
    framer.push(sf_wire("D", NOS, seq=42))
    msg = framer.next()
    assert msg is not None
    assert msg.get(55) == "ACME"
    assert msg.get_int(38) == 100
    assert msg.get_int(34) == 42
    assert msg.get_int(9999) is None
    assert msg.get_decimal(44) == (10125, 2)
    assert msg.get_decimal(38) == (100, 0)
    assert msg.get_decimal(9999) is None
    with pytest.raises(ValueError):
        msg.get_int(55)
    with pytest.raises(ValueError):
        msg.get_decimal(11)
    assert "FixMessage" in repr(msg)


def test_decimal_is_exact() -> None:
    body = [(t, "0.1000000000000000000000000001" if t == 44 else v) for t, v in NOS]
    framer = FixFramer()
    framer.push(sf_wire("D", body))
    msg = framer.next()
    assert msg is not None
    assert msg.get_decimal(44) == (1000000000000000000000000001, 28)


def test_poss_dup() -> None:
    framer = FixFramer()
    framer.push(sf_wire("D", NOS, header=[(43, "Y"), (122, TS)]))
    msg = framer.next()
    assert msg is not None
    assert msg.poss_dup


def stream() -> tuple[bytes, list[tuple[str, list[tuple[int, bytes]]]]]:
    wires, want = [], []
    for i, (msg_type, body) in enumerate(CASES * 3, start=1):
        wires.append(sf_wire(msg_type, body, seq=i))
        want.append((msg_type, expected(body)))
    return b"".join(wires), want


def check_stream(msgs: list[FixMessage], want: list[tuple[str, list[tuple[int, bytes]]]]) -> None:
    assert [(m.msg_type, body_fields(m)) for m in msgs] == want
    assert [m.seq_num for m in msgs] == list(range(1, len(want) + 1))


def test_decode_stream_whole() -> None:
    data, want = stream()
    framer = FixFramer()
    framer.push(data)
    check_stream(drain(framer), want)


def test_decode_byte_by_byte() -> None:
    data, want = stream()
    framer = FixFramer()
    msgs = []
    for i in range(len(data)):
        framer.push(data[i : i + 1])
        msgs.extend(drain(framer))
    check_stream(msgs, want)
    assert framer.buffered == 0


@pytest.mark.parametrize("seed", range(20))
def test_decode_random_chunks(seed: int) -> None:
    data, want = stream()
    rng = random.Random(seed)
    framer = FixFramer()
    msgs = []
    pos = 0
    while pos < len(data):
        n = rng.randint(1, 200)
        framer.push(data[pos : pos + n])
        pos += n
        msgs.extend(drain(framer))
    check_stream(msgs, want)


# --- encode_fix, checked by simplefix -------------------------------------------------------------


def sf_parse(wire: bytes) -> simplefix.FixMessage:
    parser = simplefix.FixParser()
    parser.append_buffer(wire)
    msg = parser.get_message()
    assert msg is not None
    assert parser.get_message() is None
    return msg


@pytest.mark.parametrize(("msg_type", "body"), CASES)
def test_encode_matches_simplefix(msg_type: str, body: Fields) -> None:
    wire = encode_fix(msg_type, list(body), seq=9, sender="GW", target="CLIENT", sending_time_ns=TS_NS)
    parsed = sf_parse(wire)
    tags = [int(t) for t, _ in parsed.pairs]
    assert tags[:7] == [8, 9, 35, 49, 56, 34, 52]
    assert tags[-1] == 10
    assert parsed.get(35) == msg_type.encode()
    assert parsed.get(49) == b"GW"
    assert parsed.get(56) == b"CLIENT"
    assert parsed.get(34) == b"9"
    assert parsed.get(52) == TS.encode()
    assert [(int(t), v) for t, v in parsed.pairs[7:-1]] == expected(body)
    # BodyLength and CheckSum: simplefix recomputes both when re-encoding the parsed message.
    assert parsed.encode() == wire
    assert int(parsed.get(10)) == sum(wire[: wire.rindex(b"10=")]) % 256
    assert int(parsed.get(9)) == wire.rindex(b"10=") - (wire.index(b"\x0135=") + 1)
    # And our own framer accepts it.
    framer = FixFramer(sender_comp_id="GW", target_comp_id="CLIENT")
    framer.push(wire)
    msg = framer.next()
    assert msg is not None
    assert msg.raw == wire
    assert body_fields(msg) == expected(body)


def test_encode_value_types_and_header_tags() -> None:
    wire = encode_fix(
        "D",
        [
            (11, b"ord-1"),
            (55, "ACME"),
            (54, 1),
            (60, "20231114-22:13:20.000"),
            (38, 100),
            (40, "2"),
            (44, "-0.5"),
            (43, "Y"),
            (122, TS),
        ],
        seq=3,
        sender="C",
        target="G",
        sending_time_ns=TS_NS,
    )
    parsed = sf_parse(wire)
    tags = [int(t) for t, _ in parsed.pairs]
    # Standard-header tags go right after SendingTime, before the body.
    assert tags == [8, 9, 35, 49, 56, 34, 52, 43, 122, 11, 55, 54, 60, 38, 40, 44, 10]
    assert parsed.get(54) == b"1"
    assert parsed.get(38) == b"100"
    assert parsed.get(11) == b"ord-1"
    assert parsed.encode() == wire
    framer = FixFramer()
    framer.push(wire)
    msg = framer.next()
    assert msg is not None
    assert msg.poss_dup
    assert msg.get_decimal(44) == (-5, 1)


def test_encode_rejects_bad_input() -> None:
    kw = {"seq": 1, "sender": "C", "target": "G", "sending_time_ns": TS_NS}
    with pytest.raises(ValueError, match="34"):
        encode_fix("0", [(34, "5")], **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="SOH"):
        encode_fix("0", [(112, "a\x01b")], **kw)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode_fix("0", [(112, 1.5)], **kw)  # type: ignore[arg-type, list-item]
    with pytest.raises(TypeError):
        encode_fix("0", [(112, True)], **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        encode_fix("", [], **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="does not fit in 64 bits"):
        encode_fix("0", [(112, 2**64)], **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        encode_fix("0", [(112, b"")], **kw)  # type: ignore[arg-type]
    assert b"\x01112=18446744073709551615\x01" in encode_fix("0", [(112, 2**64 - 1)], **kw)  # type: ignore[arg-type]
    assert b"\x01112=-7\x01" in encode_fix("0", [(112, -7)], **kw)  # type: ignore[arg-type]


# --- errors ---------------------------------------------------------------------------------------


def test_garbage_is_fatal_and_sticky() -> None:
    framer = FixFramer()
    framer.push(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(FixDisconnect, match="8="):
        framer.next()
    framer.push(sf_wire("0", HEARTBEAT))
    with pytest.raises(FixDisconnect):
        framer.next()


def test_oversized_message_is_fatal() -> None:
    framer = FixFramer(max_message_size=256)
    framer.push(sf_wire("0", [(112, "x" * 300)]))
    with pytest.raises(FixDisconnect, match="exceeds limit 256"):
        framer.next()
    # Declared size alone is enough: no need to wait for the bytes.
    framer = FixFramer()
    framer.push(b"8=FIX.4.4\x019=99999999\x01")
    with pytest.raises(FixDisconnect):
        framer.next()


def test_bad_checksum_is_garbled_and_framer_continues() -> None:
    good = sf_wire("0", HEARTBEAT, seq=1)
    cut = good.rindex(b"10=") + 3
    bad_sum = (int(good[cut : cut + 3]) + 1) % 256
    bad = good[:cut] + b"%03d" % bad_sum + good[cut + 3 :]
    nxt = sf_wire("D", NOS, seq=2)
    framer = FixFramer()
    framer.push(bad + nxt)
    with pytest.raises(FixGarbled) as info:
        framer.next()
    assert info.value.kind == "checksum_mismatch"
    assert info.value.bytes_dropped == len(bad)
    msg = framer.next()
    assert msg is not None
    assert msg.msg_type == "D"
    assert msg.seq_num == 2
    assert framer.next() is None


def test_bad_body_length_is_garbled() -> None:
    good = sf_wire("0", HEARTBEAT)
    declared = int(sf_parse(good).get(9))
    bad = good.replace(b"\x019=%d\x01" % declared, b"\x019=%d\x01" % (declared - 3), 1)
    framer = FixFramer()
    framer.push(bad + sf_wire("0", HEARTBEAT, seq=2))
    with pytest.raises(FixGarbled) as info:
        framer.next()
    assert info.value.kind == "body_length_mismatch"
    msg = framer.next()
    assert msg is not None
    assert msg.seq_num == 2


def reject(wire: bytes, **kw: str) -> FixSessionReject:
    framer = FixFramer(**kw)  # type: ignore[arg-type]
    framer.push(wire + sf_wire("0", HEARTBEAT, seq=99))
    with pytest.raises(FixSessionReject) as info:
        framer.next()
    # The rejected message is consumed; the framer goes on with the next one.
    msg = framer.next()
    assert msg is not None
    assert msg.seq_num == 99
    return info.value


def test_missing_required_tag_rejects_reason_1() -> None:
    e = reject(sf_wire("D", [(t, v) for t, v in NOS if t != 55], seq=5))
    assert e.reason == 1
    assert e.ref_tag == 55
    assert e.ref_msg_type == "D"
    assert e.ref_seq_num == 5
    assert isinstance(e.text, str)
    assert e.args == (1, 55, "D", 5, e.text)


def test_unknown_msg_type_rejects_reason_11() -> None:
    e = reject(sf_wire("ZZ", [(58, "hi")], seq=6))
    assert e.reason == 11
    assert e.ref_msg_type == "ZZ"
    assert e.ref_seq_num == 6


def test_wrong_format_rejects_reason_6() -> None:
    e = reject(sf_wire("0", HEARTBEAT, seq="abc"))
    assert e.reason == 6
    assert e.ref_tag == 34
    assert e.ref_seq_num is None
    e = reject(sf_wire("D", [(t, "ten" if t == 38 else v) for t, v in NOS], seq=8))
    assert e.reason == 6
    assert e.ref_tag == 38
    assert e.ref_seq_num == 8


def test_comp_id_mismatch_rejects_reason_9() -> None:
    e = reject(sf_wire("0", HEARTBEAT, sender="EVIL"), sender_comp_id="CLIENT", target_comp_id="GW")
    assert e.reason == 9


def test_validate_false_skips_dictionary_checks() -> None:
    framer = FixFramer(validate=False)
    framer.push(sf_wire("ZZ", [(58, "hi")]))
    msg = framer.next()
    assert msg is not None
    assert msg.msg_type == "ZZ"


def test_framer_arguments() -> None:
    with pytest.raises(ValueError):
        FixFramer(sender_comp_id="CLIENT")
    with pytest.raises(ValueError):
        FixFramer(max_message_size=0)
