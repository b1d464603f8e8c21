"""The gateway's session layer over real TCP, with messages built by simplefix (an independent FIX library).

Malformed input (CheckSum, BodyLength, every SessionRejectReason the codec produces, CompID problems, garbage,
oversize messages), sequence gaps and their recovery, ResendRequests answered from the outbound store, PossDupFlag,
a too-low MsgSeqNum, Heartbeat/TestRequest timers and the Logout handshake. Order entry itself is covered by
test_gateway_server.py and test_gateway_orders.py; the state machine alone by test_fix_session.py.

Garbled messages (wrong CheckSum, BodyLength that does not match where CheckSum is) are dropped without a Reject
and without consuming their MsgSeqNum, as FIX 4.4 vol. 2 prescribes; the next message then shows the gap.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import pytest
import simplefix  # type: ignore[import-untyped]
from gatewaykit import (
    WireClient,
    body_of,
    fix_str,
    frame_fix,
    gateway,
    ts,
    with_body_length,
    with_checksum,
    wrong_checksum,
)

from pyengine.gateway.server import Gateway

__all__ = ["gateway"]  # the module-scoped fixture, used by name

NOS = [(55, "ACME"), (54, "1"), (38, "1"), (40, "2"), (44, "90.00"), (59, "1")]


def nos(cl: str, **extra: str) -> list[tuple[int, str]]:
    """A resting NewOrderSingle (buy 1 ACME at 90.00) with ClOrdID ``cl``; ``o38="2"`` style overrides."""
    fields = [(11, cl), *NOS, (60, ts())]
    over = {int(k[1:]): v for k, v in extra.items()}
    return [(t, over.pop(t, v)) for t, v in fields] + list(over.items())


def session(gw: Gateway, comp_id: str, user: str = "demo", heartbeat: int = 30) -> WireClient:
    c = WireClient(gw.fix_port, comp_id)
    c.send_msg("A", [(98, "0"), (108, str(heartbeat)), (141, "Y"), (553, user), (554, user)])
    reply = c.next_msg()
    assert reply.get(35) == b"A" and reply.get(34) == b"1", reply
    return c


def dropped(c: WireClient) -> None:
    """The gateway closes the connection, at most with a Logout (never a Reject or anything else)."""
    assert [m.get(35) for m in c.until_closed()] in ([], [b"5"])


def expect_ack(c: WireClient, cl: str) -> simplefix.FixMessage:
    er = c.next_msg()
    assert er.get(35) == b"8" and er.get(150) == b"0" and er.get(11) == cl.encode(), er
    return er


# --- garbled: dropped, no Reject, MsgSeqNum not consumed ----------------------------------------------


@pytest.mark.parametrize("checksum", [b"wrong", b"ABC", b"1"], ids=["wrong", "letters", "short"])
def test_bad_checksum_is_dropped_without_consuming_seq(gateway: Gateway, checksum: bytes) -> None:
    c = session(gateway, f"W_CK_{checksum.decode()}")
    good = c.build("D", nos("CK1"))  # seq 2
    bad = with_checksum(good, wrong_checksum(good) if checksum == b"wrong" else checksum)
    assert bad != good
    c.send_raw(bad)
    c.seq = 2
    c.ping("after-bad")  # seq 2 again: the garbled message consumed nothing, and nothing answered it
    c.send_raw(c.build("D", nos("CK1")))  # now properly, seq 3
    expect_ack(c, "CK1")
    c.ping("end")
    c.close()


@pytest.mark.parametrize("delta", [-7, 9], ids=["shorter", "longer"])
def test_wrong_body_length_is_dropped_without_consuming_seq(gateway: Gateway, delta: int) -> None:
    c = session(gateway, f"W_BL_{delta + 10}")
    raw = c.build("D", nos("BL1"))
    declared = len(body_of(raw)) + delta
    c.send_raw(with_body_length(raw, str(declared).encode()))
    c.seq = 2
    c.ping("after-bad")  # with "longer", these bytes complete the declared length; the framer resyncs on 10=
    c.send_msg("D", nos("BL1"))
    expect_ack(c, "BL1")
    c.close()


def test_body_length_not_a_number_disconnects_that_session_only(gateway: Gateway) -> None:
    a = session(gateway, "W_BLNAN_A")
    b = session(gateway, "W_BLNAN_B")
    a.send_raw(a.build("1", [(112, "x")]).replace(b"\x019=", b"\x019=x", 1))
    dropped(a)  # unframeable: no Reject, just the close
    b.ping("still-here")
    b.send_msg("D", nos("B1"))
    expect_ack(b, "B1")
    a.close()
    b.close()


# --- session-level Reject (3) with SessionRejectReason (373) -------------------------------------------


def _swap_35_49(body: bytes) -> bytes:
    fields = body.split(b"\x01")
    fields[0], fields[1] = fields[1], fields[0]
    return b"\x01".join(fields)


# (id, MsgType, body fields, raw body transform, SessionRejectReason, RefTagID)
REJECTS = [
    ("missing-symbol", "D", [(t, v) for t, v in nos("R") if t != 55], None, 1, 55),
    ("missing-transacttime", "D", [(t, v) for t, v in nos("R") if t != 60], None, 1, 60),
    ("cancel-missing-origclordid", "F", [(11, "RC"), (55, "ACME"), (54, "1"), (38, "1"), (60, ts())], None, 1, 41),
    ("testrequest-missing-testreqid", "1", [], None, 1, 112),
    ("qty-not-a-number", "D", nos("R", o38="ten"), None, 6, 38),
    ("price-not-a-number", "D", nos("R", o44="9O.00"), None, 6, 44),
    ("bad-timestamp", "D", nos("R", o60="2024-01-01T00:00:00"), None, 6, 60),
    ("side-out-of-range", "D", nos("R", o54="Z"), None, 5, 54),
    ("qty-zero", "D", nos("R", o38="0"), None, 5, 38),
    ("ordtype-out-of-range", "D", nos("R", o40="Z"), None, 5, 40),
    ("tag-without-value", "D", nos("R"), lambda b: b.replace(b"\x0155=ACME\x01", b"\x0155=ACME\x0158=\x01"), 4, 58),
    ("duplicate-tag", "D", nos("R"), lambda b: b.replace(b"\x0155=ACME\x01", b"\x0155=ACME\x0155=ACME\x01"), 13, 55),
    ("invalid-tag-number", "D", nos("R"), lambda b: b + b"5x5=1\x01", 0, None),
    ("header-tag-after-body", "D", nos("R"), lambda b: b + b"43=N\x01", 14, 43),
    ("msgtype-not-third", "0", [], _swap_35_49, 14, 35),
    ("unknown-msgtype", "ZZ", [(58, "?")], None, 11, 35),
    ("unknown-msgtype-letter", "U", [], None, 11, 35),
]


@pytest.mark.parametrize(
    ("name", "msg_type", "fields", "transform", "reason", "ref_tag"), REJECTS, ids=[r[0] for r in REJECTS]
)
def test_session_reject(
    gateway: Gateway,
    name: str,
    msg_type: str,
    fields: list[tuple[int, str]],
    transform: Callable[[bytes], bytes] | None,
    reason: int,
    ref_tag: int | None,
) -> None:
    c = session(gateway, f"W_REJ_{name}")
    raw = c.build(msg_type, fields)  # seq 2
    if transform is not None:
        raw = frame_fix(transform(body_of(raw)))
    c.send_raw(raw)
    rej = c.next_msg()
    assert rej.get(35) == b"3", rej
    assert fix_str(rej, 45) == "2"
    assert fix_str(rej, 373) == str(reason), rej
    assert fix_str(rej, 371) == (None if ref_tag is None else str(ref_tag)), rej
    if msg_type != "0":  # with MsgType out of place the codec still names it
        assert fix_str(rej, 372) == msg_type
    assert rej.get(58)
    # The rejected message consumed its MsgSeqNum (3 is next, no ResendRequest), and the session goes on.
    c.ping("after-reject")
    c.send_msg("D", nos("OK1"))
    expect_ack(c, "OK1")
    c.close()


def test_comp_id_problem_rejects_then_logs_out(gateway: Gateway) -> None:
    c = session(gateway, "W_COMPID")
    c.send_msg("D", nos("C1"), target="SOMEONE")
    msgs = c.until_closed()
    assert [m.get(35) for m in msgs] == [b"3", b"5"]
    assert fix_str(msgs[0], 373) == "9" and fix_str(msgs[0], 371) == "56"
    c.close()


def test_unsupported_application_message_gets_business_reject(gateway: Gateway) -> None:
    c = session(gateway, "W_BMR")
    # A well-formed ExecutionReport from the client: valid FIX, not something a client may send here.
    er = [(37, "1"), (17, "E1"), (150, "0"), (39, "0"), (55, "ACME"), (54, "1"), (151, "1"), (14, "0"), (6, "0")]
    c.send_msg("8", er)
    j = c.next_msg()
    assert j.get(35) == b"j" and fix_str(j, 380) == "3" and fix_str(j, 372) == "8" and fix_str(j, 45) == "2"
    c.ping("after-j")
    c.close()


# --- disconnects: garbage, oversize, wrong first message ------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\xff" * 64, b"8=FIX.4.2\x019=5\x0135=0\x0110=000\x01"],
    ids=["http", "binary", "fix42"],
)
def test_garbage_disconnects_that_session_only(gateway: Gateway, data: bytes) -> None:
    other = session(gateway, f"W_GB_OTHER_{len(data)}")
    other.send_msg("D", nos("G1"))
    expect_ack(other, "G1")
    c = session(gateway, f"W_GB_{len(data)}")
    c.send_raw(data)
    dropped(c)
    other.ping("still-here")
    other.send_msg("F", [(11, "G1C"), (41, "G1"), (55, "ACME"), (54, "1"), (38, "1"), (60, ts())])
    cxl = other.next_msg()
    assert cxl.get(150) == b"4" and cxl.get(11) == b"G1C"
    # garbage instead of a Logon: closed as well
    pre = WireClient(gateway.fix_port, "W_GB_PRE")
    pre.send_raw(data)
    dropped(pre)
    other.ping("still-here-2")
    other.close()
    c.close()
    pre.close()


def test_order_then_garbage_in_one_write(gateway: Gateway) -> None:
    """The order before the garbage is processed; its ack comes back by resend after the next Logon."""
    c = session(gateway, "W_ORDER_GARBAGE")
    c.send_raw(c.build("D", nos("OG1")) + b"GARBAGE")  # seq 2, then an unframeable stream
    c.until_closed()
    c.close()
    c = WireClient(gateway.fix_port, "W_ORDER_GARBAGE")
    c.seq = 3
    reply = c.logon_resume()
    assert reply is not None and reply.get(35) == b"A", reply
    # seq 2 was processed: the gateway must not ask for it again
    c.send_msg("2", [(7, "2"), (16, "0")])
    again = c.next_msg()
    assert again.get(35) == b"8" and again.get(11) == b"OG1" and again.get(43) == b"Y", again
    gap = c.next_msg()  # our Logon (seq 3) is administrative: a gap fill stands in for it
    assert gap.get(35) == b"4" and gap.get(123) == b"Y" and gap.get(36) == b"4", gap
    c.ping("after")
    c.close()


def test_order_and_logout_in_one_write(gateway: Gateway) -> None:
    """The ack is numbered and sent before the Logout that answers the Logout behind the order."""
    c = session(gateway, "W_ORDER_LOGOUT")
    c.send_raw(c.build("D", nos("OL1")) + c.build("5"))  # seq 2 and 3 in one TCP write
    msgs = c.until_closed()
    assert [(m.get(35), m.get(11)) for m in msgs] == [(b"8", b"OL1"), (b"5", None)]  # the ack, then the Logout
    assert [fix_str(m, 34) for m in msgs] == ["2", "3"]
    c.close()
    c = WireClient(gateway.fix_port, "W_ORDER_LOGOUT")
    c.seq = 4
    reply = c.logon_resume()
    assert reply is not None and fix_str(reply, 34) == "4"
    c.ping("no-resend-request")
    c.close()


def test_bad_first_bytes_are_not_logged_as_gateway_failures(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    """Bad input before a Logon is a refused connection, not an internal error with a traceback."""
    c = WireClient(gateway.fix_port, "W_LOG")
    c.send_raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a TLS ClientHello on the FIX port
    assert c.until_closed() == []
    c.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


def test_message_over_size_limit_disconnects_that_session_only(gateway: Gateway) -> None:
    limit = gateway.config.fix.max_message_size
    other = session(gateway, "W_BIG_OTHER")
    c = session(gateway, "W_BIG")
    # just under the limit: fine
    big_id = "x" * (limit - 200)
    c.send_msg("1", [(112, big_id)])
    hb = c.next_msg()
    assert hb.get(35) == b"0" and len(hb.get(112)) == len(big_id)
    # over it: disconnected (its BodyLength alone gives it away; the rest need not even arrive)
    with contextlib.suppress(ConnectionError):  # the gateway may close before it read it all
        c.send_raw(c.build("1", [(112, "y" * (limit + 1))]))
    dropped(c)
    other.ping("still-here")
    # an oversize first message
    pre = WireClient(gateway.fix_port, "W_BIG_PRE")
    logon = [(98, "0"), (108, "30"), (141, "Y"), (553, "demo"), (554, "demo"), (58, "z" * limit)]
    with contextlib.suppress(ConnectionError):
        pre.send_raw(pre.build("A", logon))
    dropped(pre)
    # a size-limit stream without any framing at all
    raw = WireClient(gateway.fix_port, "W_BIG_RAW")
    raw.send_raw(b"8=FIX.4.4\x019=" + b"9" * 20)
    dropped(raw)
    other.send_msg("D", nos("BIG1"))
    expect_ack(other, "BIG1")
    for x in (other, c, pre, raw):
        x.close()


def test_first_message_must_be_a_valid_logon(gateway: Gateway) -> None:
    c = WireClient(gateway.fix_port, "W_FIRST_D")
    c.send_msg("D", nos("F1"))
    dropped(c)
    c = WireClient(gateway.fix_port, "W_FIRST_BAD")
    c.send_msg("A", [(98, "0"), (553, "demo"), (554, "demo")])  # HeartBtInt(108) missing
    dropped(c)
    c = WireClient(gateway.fix_port, "W_FIRST_NEG")
    c.send_msg("A", [(98, "0"), (108, "-5"), (553, "demo"), (554, "demo")])  # UInt: malformed
    dropped(c)
    c.close()


def test_logon_split_into_tiny_writes(gateway: Gateway) -> None:
    c = WireClient(gateway.fix_port, "W_TINY")
    data = c.build("A", [(98, "0"), (108, "30"), (141, "Y"), (553, "demo"), (554, "demo")])
    data += c.build("D", nos("T1")) + c.build("1", [(112, "tiny")])
    for i in range(0, len(data), 7):
        c.send_raw(data[i : i + 7])
    assert c.next_msg().get(35) == b"A"
    expect_ack(c, "T1")
    hb = c.next_msg()
    assert hb.get(35) == b"0" and hb.get(112) == b"tiny"
    c.close()


# --- sequence gaps and their recovery ------------------------------------------------------------------


def test_gap_is_requested_and_filled_by_poss_dup_resend(gateway: Gateway) -> None:
    c = session(gateway, "W_GAP")
    missed = c.build("D", nos("GAP2"))  # seq 2, "lost"
    c.send_msg("D", nos("GAP3"))  # seq 3
    rr = c.next_msg()
    assert rr.get(35) == b"2" and fix_str(rr, 7) == "2" and fix_str(rr, 16) == "0"
    c.send_msg("D", nos("GAP4"))  # seq 4: beyond the gap as well, no second ResendRequest
    c.send_msg("1", [(112, "queued")])  # seq 5, queued too
    # the resend: same message, PossDupFlag=Y with OrigSendingTime
    orig_time = fix_str(simplefix_parse(missed), 52)
    c.send_raw(c.build("D", nos("GAP2"), seq=2, poss_dup=True, orig_sending_time=orig_time))
    # everything is processed in MsgSeqNum order once the gap is closed
    expect_ack(c, "GAP2")
    expect_ack(c, "GAP3")
    expect_ack(c, "GAP4")
    hb = c.next_msg()
    assert hb.get(35) == b"0" and hb.get(112) == b"queued"
    c.ping("in-sequence")  # seq 6
    c.close()


def test_gap_filled_by_sequence_reset_gap_fill(gateway: Gateway) -> None:
    c = session(gateway, "W_GAPFILL")
    c.seq = 4
    c.send_msg("D", nos("GF4"))  # 2 and 3 skipped
    rr = c.next_msg()
    assert rr.get(35) == b"2" and fix_str(rr, 7) == "2"
    c.send_msg("4", [(123, "Y"), (36, "4")], seq=2, poss_dup=True)
    expect_ack(c, "GF4")
    c.ping("after-fill")  # seq 5
    c.close()


def test_resend_request_beyond_a_gap_is_answered_at_once(gateway: Gateway) -> None:
    """Both sides missed something: our ResendRequest must not wait for theirs (no deadlock)."""
    c = session(gateway, "W_RR_GAP")
    c.send_msg("D", nos("RG2"))  # 2
    expect_ack(c, "RG2")  # gateway 2
    c.seq = 4  # 3 "lost"
    c.send_msg("2", [(7, "2"), (16, "0")])  # 4
    again = c.next_msg()
    assert (fix_str(again, 35), fix_str(again, 34), fix_str(again, 43), fix_str(again, 11)) == ("8", "2", "Y", "RG2")
    rr = c.next_msg()  # and the gateway asks for our 3
    assert (fix_str(rr, 35), fix_str(rr, 7)) == ("2", "3")
    c.send_msg("4", [(123, "Y"), (36, "5")], seq=3, poss_dup=True)
    c.ping("both-recovered")  # 5
    c.close()


def test_malformed_message_beyond_a_gap(gateway: Gateway) -> None:
    c = session(gateway, "W_REJ_GAP")
    c.seq = 3
    c.send_msg("D", [(t, v) for t, v in nos("MG3") if t != 55])  # seq 3, expected 2, and Symbol missing
    msgs = [c.next_msg(), c.next_msg()]
    assert sorted(fix_str(m, 35) or "" for m in msgs) == ["2", "3"]  # Reject (45=3) and a ResendRequest for 2
    rej = next(m for m in msgs if m.get(35) == b"3")
    assert (fix_str(rej, 45), fix_str(rej, 373), fix_str(rej, 371)) == ("3", "1", "55")
    rr = next(m for m in msgs if m.get(35) == b"2")
    assert fix_str(rr, 7) == "2"
    c.send_msg("4", [(123, "Y"), (36, "3")], seq=2, poss_dup=True)  # fills 2; 3 was consumed by the Reject
    c.ping("after")  # 4
    c.close()


def test_sequence_reset_reset_mode(gateway: Gateway) -> None:
    c = session(gateway, "W_SEQRESET")
    c.send_msg("4", [(36, "20")], seq=999)  # reset mode: MsgSeqNum ignored, NewSeqNo moves forward
    c.seq = 20
    c.ping("at-20")
    c.send_msg("4", [(36, "5")], seq=21)  # backwards: Reject 5 on tag 36
    rej = c.next_msg()
    assert rej.get(35) == b"3" and fix_str(rej, 373) == "5" and fix_str(rej, 371) == "36"
    c.seq = 21
    c.ping("still-21")
    c.close()


def test_resend_request_from_gateway_on_logon_with_gap(gateway: Gateway) -> None:
    c = session(gateway, "W_LOGONGAP")
    c.send_msg("5")  # seq 2
    assert [m.get(35) for m in c.until_closed()] == [b"5"]
    c.close()
    c = WireClient(gateway.fix_port, "W_LOGONGAP")
    c.seq = 6  # 3..5 never arrived
    reply = c.logon_resume()
    assert reply is not None and reply.get(35) == b"A" and fix_str(reply, 34) == "3"
    rr = c.next_msg()
    assert rr.get(35) == b"2" and fix_str(rr, 7) == "3" and fix_str(rr, 16) == "0"
    c.send_msg("4", [(123, "Y"), (36, "7")], seq=3, poss_dup=True)
    c.ping("resumed")  # seq 7
    c.close()


# --- PossDupFlag and a too-low MsgSeqNum -----------------------------------------------------------------


def test_poss_dup_below_expected_is_ignored(gateway: Gateway) -> None:
    c = session(gateway, "W_POSSDUP")
    first = c.build("D", nos("PD1"))  # seq 2
    c.send_raw(first)
    expect_ack(c, "PD1")
    orig_time = fix_str(simplefix_parse(first), 52)
    c.send_raw(c.build("D", nos("PD1"), seq=2, poss_dup=True, orig_sending_time=orig_time))
    c.ping("no-duplicate-ack")  # seq 3: the Heartbeat comes next, no second ack, no Reject
    c.send_msg("H", [(11, "PD1"), (55, "ACME"), (54, "1")])
    st = c.next_msg()
    assert st.get(150) == b"I" and st.get(39) == b"0" and st.get(151) == b"1"
    c.close()


def test_poss_dup_at_expected_seq_is_processed(gateway: Gateway) -> None:
    c = session(gateway, "W_POSSDUP_NEW")
    c.send_msg("D", nos("PN1"), poss_dup=True)  # a resend of something the gateway never saw: processed
    expect_ack(c, "PN1")
    c.close()


def test_seq_too_low_without_poss_dup_logs_out(gateway: Gateway) -> None:
    c = session(gateway, "W_TOOLOW")
    c.send_msg("D", nos("TL1"))  # seq 2
    expect_ack(c, "TL1")
    c.send_msg("D", nos("TL2"), seq=2)
    msgs = c.until_closed()
    assert [m.get(35) for m in msgs] == [b"5"]
    assert fix_str(msgs[0], 58) == "MsgSeqNum too low, expecting 3 but received 2"
    c.close()
    # on Logon too: resuming with a MsgSeqNum below the expected one
    c = WireClient(gateway.fix_port, "W_TOOLOW")
    c.seq = 2
    reply = c.logon_resume()
    assert reply is not None and reply.get(35) == b"5" and b"too low" in reply.get(58)
    assert c.until_closed() == []
    c.close()


# --- ResendRequest answered from the outbound store ------------------------------------------------------


def test_resend_request_answered_from_store(gateway: Gateway) -> None:
    c = session(gateway, "W_RESEND")  # our Logon is gateway seq 1
    c.send_msg("D", nos("RS1"))
    ack1 = expect_ack(c, "RS1")  # 2
    c.ping("hb")  # Heartbeat: 3
    c.send_msg("D", nos("RS2"))
    ack2 = expect_ack(c, "RS2")  # 4
    c.ping("hb2")  # 5
    c.send_msg("2", [(7, "1"), (16, "0")])
    got = [c.next_msg() for _ in range(5)]
    summary = [(fix_str(m, 35), fix_str(m, 34), fix_str(m, 43), fix_str(m, 123), fix_str(m, 36)) for m in got]
    assert summary == [
        ("4", "1", "Y", "Y", "2"),  # our Logon: administrative, so a SequenceReset-GapFill
        ("8", "2", "Y", None, None),  # the ack again, PossDupFlag=Y
        ("4", "3", "Y", "Y", "4"),  # the Heartbeat
        ("8", "4", "Y", None, None),
        ("4", "5", "Y", "Y", "6"),
    ]
    for orig, again in ((ack1, got[1]), (ack2, got[3])):
        assert fix_str(again, 122) == fix_str(orig, 52)  # OrigSendingTime is the first SendingTime
        for tag in (11, 37, 17, 150, 39, 38, 151, 14):
            assert again.get(tag) == orig.get(tag)
    # a resend consumes no sequence numbers: the next Heartbeat is 6
    assert fix_str(c.ping("after-resend"), 34) == "6"
    # a bounded range
    c.send_msg("2", [(7, "2"), (16, "2")])
    again = c.next_msg()
    assert (fix_str(again, 35), fix_str(again, 34), fix_str(again, 11)) == ("8", "2", "RS1")
    c.ping("after-range")
    # an invalid range: Reject 5 on BeginSeqNo
    c.send_msg("2", [(7, "5"), (16, "3")])
    rej = c.next_msg()
    assert rej.get(35) == b"3" and fix_str(rej, 373) == "5" and fix_str(rej, 371) == "7"
    c.close()


# --- heartbeats and test requests ------------------------------------------------------------------------


def test_heartbeat_and_test_request_timers(gateway: Gateway) -> None:
    """HeartBtInt 1 s: the gateway sends Heartbeats and TestRequests; an unanswered TestRequest disconnects."""
    silent = session(gateway, "W_HB_SILENT", heartbeat=1)
    silent_msgs: list[simplefix.FixMessage] = []
    reader = threading.Thread(target=lambda: silent_msgs.extend(silent.until_closed(20.0)), daemon=True)
    reader.start()
    live = session(gateway, "W_HB_LIVE", heartbeat=1)
    seen: set[bytes] = set()
    while seen != {b"0", b"1"}:
        m = live.next_msg(10.0)
        seen.add(m.get(35))
        if m.get(35) == b"1":  # answer the TestRequest with its TestReqID
            live.send_msg("0", [(112, fix_str(m, 112) or "")])
    reader.join(20.0)
    assert not reader.is_alive()
    types = [m.get(35) for m in silent_msgs]
    assert b"1" in types, types  # a TestRequest, then the close
    # the answering session is still up
    live.send_msg("D", nos("HB1"))
    while (m := live.next_msg(10.0)).get(35) != b"8":
        if m.get(35) == b"1":
            live.send_msg("0", [(112, fix_str(m, 112) or "")])
    assert m.get(150) == b"0" and m.get(11) == b"HB1"
    live.close()
    silent.close()


# --- logout, duplicate sessions -------------------------------------------------------------------------


def test_logout_handshake_and_resume(gateway: Gateway) -> None:
    c = session(gateway, "W_LOGOUT")
    c.send_msg("D", nos("LO1"))  # 2
    expect_ack(c, "LO1")  # gateway 2
    c.send_msg("5", [(58, "bye")])  # 3
    msgs = c.until_closed()
    assert [(m.get(35), fix_str(m, 34)) for m in msgs] == [(b"5", "3")]
    c.close()
    # sequence numbers continue on the next connection (no ResetSeqNumFlag)
    c = WireClient(gateway.fix_port, "W_LOGOUT")
    c.seq = 4
    reply = c.logon_resume()
    assert reply is not None and reply.get(35) == b"A" and fix_str(reply, 34) == "4"
    c.send_msg("F", [(11, "LO1C"), (41, "LO1"), (55, "ACME"), (54, "1"), (38, "1"), (60, ts())])
    cxl = c.next_msg()
    assert cxl.get(150) == b"4" and fix_str(cxl, 34) == "5"
    c.close()


def test_second_logon_on_a_live_session_logs_out(gateway: Gateway) -> None:
    c = session(gateway, "W_RELOGON")
    c.send_msg("A", [(98, "0"), (108, "30"), (553, "demo"), (554, "demo")])
    assert [m.get(35) for m in c.until_closed()] == [b"5"]
    c.close()


def test_same_comp_id_twice_refuses_the_second_connection(gateway: Gateway) -> None:
    first = session(gateway, "W_TWICE")
    second = WireClient(gateway.fix_port, "W_TWICE")
    second.send_msg("A", [(98, "0"), (108, "30"), (141, "Y"), (553, "demo"), (554, "demo")])
    dropped(second)
    first.ping("first-unaffected")  # and its sequence numbers were not reset by the intruder
    first.send_msg("D", nos("TW1"))
    assert fix_str(expect_ack(first, "TW1"), 34) == "3"
    first.close()
    second.close()


def simplefix_parse(raw: bytes) -> simplefix.FixMessage:
    p = simplefix.FixParser()
    p.append_buffer(raw)
    msg = p.get_message()
    assert msg is not None
    return msg
