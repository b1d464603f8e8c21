"""200 concurrent FIX sessions on one gateway, while about 10% of them misbehave.

180 good sessions (90 buying as ``demo``/DEMO1, 90 selling as ``demo2``/DEMO2) each send 10 limit orders on ACME at
one price, so buys and sells cross and, the totals being equal, every order ends fully filled. Meanwhile 20 bad
sessions send garbage, oversize messages, bad checksums, invalid messages, too-low sequence numbers or garbage
instead of a Logon. The bad ones are disconnected or rejected as the rules say; the good ones get every ack and every
fill, and the fills are consistent: each trade is reported once to each side, with the same price and quantity.

Clients are asyncio raw sockets in the test thread; messages are built and parsed by simplefix.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import simplefix  # type: ignore[import-untyped]
from gatewaykit import RunningGateway, fix_message, ts, with_checksum, wrong_checksum

from pyengine.gateway.server import Gateway

GOOD = 180
BAD_KINDS = ("garbage", "oversize", "checksum", "reject", "too_low", "no_logon")
BAD = 20
ORDERS = 10
PRICE = "100.00"
TIMEOUT = 60.0  # only against hangs


def qty(k: int) -> int:
    return k % 3 + 1


@dataclass
class Conn:
    comp_id: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    seq: int = 1
    parser: simplefix.FixParser = field(default_factory=simplefix.FixParser)
    received: list[simplefix.FixMessage] = field(default_factory=list)

    def build(self, msg_type: str, fields: list[tuple[int, str]], seq: int | None = None) -> bytes:
        if seq is None:
            seq, self.seq = self.seq, self.seq + 1
        return fix_message(self.comp_id, seq, msg_type, fields)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_and_expect_close(self, data: bytes) -> None:
        """Send what gets us disconnected: the gateway may close before it read everything (then a reset)."""
        with contextlib.suppress(ConnectionError):
            await self.send(data)
        assert [m.get(35) for m in await self.until_closed()] in ([], [b"5"]), self.comp_id  # no Reject

    async def next(self) -> simplefix.FixMessage | None:
        """The next message, or None once the gateway closed the connection."""
        while True:
            msg = self.parser.get_message()
            if msg is not None:
                self.received.append(msg)
                return msg
            try:
                data = await self.reader.read(65536)
            except ConnectionError:
                return None
            if not data:
                return None
            self.parser.append_buffer(data)

    async def next_of(self, msg_type: bytes) -> simplefix.FixMessage:
        msg = await self.next()
        assert msg is not None, f"{self.comp_id}: connection closed"
        assert msg.get(35) == msg_type, f"{self.comp_id}: expected 35={msg_type!r}, got {msg}"
        return msg

    async def until_closed(self) -> list[simplefix.FixMessage]:
        out = []
        while (msg := await self.next()) is not None:
            out.append(msg)
        return out

    async def logout(self) -> None:
        await self.send(self.build("5", []))
        assert [m.get(35) for m in await self.until_closed()] == [b"5"], self.comp_id

    def close(self) -> None:
        self.writer.close()


async def connect(port: int, comp_id: str, user: str | None, gate: asyncio.Semaphore) -> Conn:
    """Connect (at most a few at a time: the listen backlog) and, with a ``user``, log on."""
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conn = Conn(comp_id, reader, writer)
        if user is not None:
            await conn.send(conn.build("A", [(98, "0"), (108, "30"), (553, user), (554, user)]))
            await conn.next_of(b"A")
    return conn


def order(conn: Conn, cl: str, side: str, qty: int, price: str = PRICE, symbol: str = "ACME") -> bytes:
    fields = [(11, cl), (55, symbol), (54, side), (38, str(qty)), (40, "2"), (44, price), (59, "1"), (60, ts())]
    return conn.build("D", fields)


@dataclass
class Outcome:
    comp_id: str
    side: str
    acks: set[str] = field(default_factory=set)
    fills: list[simplefix.FixMessage] = field(default_factory=list)
    filled: dict[str, int] = field(default_factory=dict)


async def good_session(conn: Conn, side: str, go: asyncio.Event) -> Outcome:
    out = Outcome(conn.comp_id, side)
    want = {f"{conn.comp_id}-{k}": qty(k) for k in range(ORDERS)}
    await go.wait()

    async def sender() -> None:
        for k, cl in enumerate(want):
            await conn.send(order(conn, cl, side, qty(k)))
            await asyncio.sleep(0)  # interleave with everyone else

    sending = asyncio.create_task(sender())
    while len(out.acks) < ORDERS or any(out.filled.get(cl, 0) < q for cl, q in want.items()):
        msg = await conn.next()
        assert msg is not None, f"{conn.comp_id}: disconnected"
        assert msg.get(35) == b"8", f"{conn.comp_id}: unexpected {msg}"
        cl = msg.get(11).decode()
        assert cl in want, msg
        if msg.get(150) == b"0":
            assert cl not in out.acks, f"two acks for {cl}"
            out.acks.add(cl)
        else:
            assert msg.get(150) == b"F", f"{conn.comp_id}: unexpected {msg}"
            out.fills.append(msg)
            out.filled[cl] = out.filled.get(cl, 0) + int(msg.get(32))
            assert int(msg.get(14)) == out.filled[cl] and int(msg.get(151)) == want[cl] - out.filled[cl], msg
            assert msg.get(39) == (b"2" if out.filled[cl] == want[cl] else b"1"), msg
    await sending
    await conn.logout()
    return out


async def bad_session(conn: Conn, kind: str, go: asyncio.Event) -> str:
    """Misbehave as ``kind`` says and check the gateway's answer; returns ``kind``."""
    await go.wait()
    if kind == "no_logon":  # garbage instead of a Logon
        await conn.send_and_expect_close(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 20)  # TLS, say
        return kind
    # a valid order first, on another symbol and far from any counterparty (it never trades)
    await conn.send(order(conn, f"{conn.comp_id}-ok", "1", 1, price="1000.00", symbol="BTC-USD"))
    assert (await conn.next_of(b"8")).get(150) == b"0"
    if kind == "garbage":
        await conn.send_and_expect_close(b"GET / HTTP/1.1\r\nHost: gateway\r\n\r\n")
    elif kind == "oversize":
        await conn.send_and_expect_close(conn.build("1", [(112, "x" * 70_000)]))
    elif kind == "checksum":
        good = order(conn, f"{conn.comp_id}-bad", "1", 1, "1000.00", "BTC-USD")
        bad = with_checksum(good, wrong_checksum(good))
        await conn.send(bad)  # dropped: no answer, MsgSeqNum not consumed
        conn.seq -= 1
        await conn.send(conn.build("1", [(112, "after-checksum")]))
        hb = await conn.next_of(b"0")
        assert hb.get(112) == b"after-checksum"
        await conn.logout()
    elif kind == "reject":
        fields = [(11, f"{conn.comp_id}-bad"), (54, "1"), (38, "1"), (40, "2"), (44, "1000.00"), (60, ts())]
        await conn.send(conn.build("D", fields))  # Symbol(55) missing
        rej = await conn.next_of(b"3")
        assert rej.get(373) == b"1" and rej.get(371) == b"55"
        await conn.send(conn.build("1", [(112, "after-reject")]))
        assert (await conn.next_of(b"0")).get(112) == b"after-reject"
        await conn.logout()
    else:
        assert kind == "too_low"
        await conn.send(conn.build("1", [(112, "x")], seq=1))
        bye = await conn.next_of(b"5")
        assert b"too low" in bye.get(58)
        assert await conn.until_closed() == []
    return kind


async def run_all(port: int) -> tuple[list[Outcome], list[str]]:
    gate = asyncio.Semaphore(32)
    specs: list[tuple[str, str | None, str]] = []  # comp id, user, role
    for i in range(GOOD):
        specs.append((f"MANY_G{i:03d}", "demo" if i % 2 == 0 else "demo2", "1" if i % 2 == 0 else "2"))
    for i in range(BAD):
        kind = BAD_KINDS[i % len(BAD_KINDS)]
        specs.append((f"MANY_B{i:03d}", None if kind == "no_logon" else ("demo", "demo2")[i % 2], kind))
    conns = await asyncio.gather(*(connect(port, comp, user, gate) for comp, user, _ in specs))
    go = asyncio.Event()
    good = [good_session(c, role, go) for c, (_, _, role) in zip(conns, specs, strict=True) if role in ("1", "2")]
    bad = [bad_session(c, role, go) for c, (_, _, role) in zip(conns, specs, strict=True) if role not in ("1", "2")]
    go.set()  # everybody at once
    try:
        results = await asyncio.gather(asyncio.gather(*good), asyncio.gather(*bad))
    finally:
        for c in conns:
            c.close()
    return results[0], results[1]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningGateway]:
    gw = RunningGateway(tmp_path)
    yield gw
    gw.stop()


def _book(running: RunningGateway) -> tuple[object, object]:
    async def read() -> tuple[object, object]:
        gw: Gateway = running.gw
        assert gw.engine is not None
        gw.engine.check_invariants()
        return gw.engine.depth("ACME"), gw.engine.depth("BTC-USD")

    return asyncio.run_coroutine_threadsafe(read(), running.loop).result(10)


def test_200_sessions_trade_while_some_misbehave(running: RunningGateway) -> None:
    outcomes, bad = asyncio.run(asyncio.wait_for(run_all(running.gw.fix_port), TIMEOUT))

    assert Counter(bad) == Counter(BAD_KINDS[i % len(BAD_KINDS)] for i in range(BAD))
    assert len(outcomes) == GOOD
    per_session = sum(qty(k) for k in range(ORDERS))
    buys = sells = 0
    trades: dict[bytes, list[simplefix.FixMessage]] = defaultdict(list)
    for out in outcomes:
        assert len(out.acks) == ORDERS, out.comp_id  # every order acked
        assert sum(out.filled.values()) == per_session, out.comp_id  # and fully filled
        for f in out.fills:
            assert f.get(54) == out.side.encode() and f.get(31) == PRICE.encode()
            trades[f.get(17).rstrip(b"M")].append(f)
        if out.side == "1":
            buys += sum(out.filled.values())
        else:
            sells += sum(out.filled.values())
    assert buys == sells == GOOD // 2 * per_session
    # each trade: one report to the taker (ExecID = engine seq) and one to the maker (seq + "M"), opposite sides
    for exec_id, reports in trades.items():
        assert sorted(r.get(17) for r in reports) == [exec_id, exec_id + b"M"], reports
        assert {r.get(54) for r in reports} == {b"1", b"2"}
        assert len({(r.get(31), r.get(32)) for r in reports}) == 1
    # the book: nothing left at the crossing price; of the bad sessions' far orders only those of demo (DEMO1):
    # demo2 has cancel-on-disconnect
    (bids, asks), (btc_bids, btc_asks) = _book(running)  # type: ignore[misc]
    assert bids == [] and asks == []
    demo_bad = sum(1 for i in range(BAD) if BAD_KINDS[i % len(BAD_KINDS)] != "no_logon" and i % 2 == 0)
    assert btc_asks == [] and btc_bids == [(100_000, demo_bad, demo_bad)]
