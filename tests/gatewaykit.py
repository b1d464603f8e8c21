"""Shared helpers of the gateway tests: an in-process gateway on ephemeral ports and a simplefix client."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import simplefix  # type: ignore[import-untyped]

from pyengine.gateway.config import GatewayConfig, load_config
from pyengine.gateway.server import Gateway

__all__ = ["Client", "RunningGateway", "gateway", "logged_on"]


class RunningGateway:
    """A Gateway on ephemeral ports, its event loop in a daemon thread; ``config`` replaces the defaults."""

    def __init__(self, tmp: Path, config: GatewayConfig | None = None, argv: tuple[str, ...] = ()) -> None:
        if config is None:
            config = load_config(["--data-dir", str(tmp), *argv], env={})
        config = dataclasses.replace(
            config,
            fix=dataclasses.replace(config.fix, port=0),
            http=dataclasses.replace(config.http, port=0),
        )
        self.gw = Gateway(config)
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.gw.start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        assert started.wait(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.gw.stop(grace=1.0), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = RunningGateway(tmp_path_factory.mktemp("gw"))
    yield running.gw
    running.stop()


class Client:
    def __init__(self, port: int, comp_id: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.comp_id = comp_id
        self.seq = 1
        self.parser = simplefix.FixParser()

    def send(self, msg_type: str, fields: list[tuple[int, str]]) -> None:
        m = simplefix.FixMessage()
        m.append_pair(8, "FIX.4.4")
        m.append_pair(35, msg_type)
        m.append_pair(49, self.comp_id)
        m.append_pair(56, "PYENGINE")
        m.append_pair(34, self.seq)
        m.append_utc_timestamp(52, precision=3)
        for tag, value in fields:
            m.append_pair(tag, value)
        if msg_type in ("D", "F"):
            m.append_utc_timestamp(60, precision=3)
        self.seq += 1
        self.sock.sendall(m.encode())

    def recv(self, timeout: float = 5.0) -> simplefix.FixMessage | None:
        deadline = time.monotonic() + timeout
        while True:
            msg = self.parser.get_message()
            if msg is not None:
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                return None
            self.parser.append_buffer(data)

    def recv_type(self, msg_type: bytes) -> simplefix.FixMessage:
        while True:
            msg = self.recv()
            assert msg is not None, "connection closed"
            assert msg.get(35) != b"3", f"session Reject: {msg}"
            if msg.get(35) == msg_type:
                return msg

    def logon(self, username: str = "demo", password: str = "demo") -> simplefix.FixMessage | None:
        self.send("A", [(98, "0"), (108, "30"), (141, "Y"), (553, username), (554, password)])
        return self.recv()

    def order(self, cl: str, side: str, qty: int, price: str, symbol: str = "ACME", **extra: str) -> None:
        fields = [(11, cl), (55, symbol), (54, side), (38, str(qty)), (40, "2"), (44, price), (59, "1")]
        fields += [(int(k[1:]), v) for k, v in extra.items()]
        self.send("D", fields)

    def close(self) -> None:
        self.sock.close()


def logged_on(gw: Gateway, comp_id: str, user: str = "demo") -> Client:
    c = Client(gw.fix_port, comp_id)
    msg = c.logon(user, user)
    assert msg is not None and msg.get(35) == b"A"
    return c
