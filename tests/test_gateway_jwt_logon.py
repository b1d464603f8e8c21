"""JWT through the running gateway: FIX Logon with a token as the password, and a bearer token on the
admin endpoint, against a real JWKS served on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gatewaykit import Client, RunningGateway
from test_gateway_jwt import CLIENT_ID, ISSUER, RSA_IMPOSTOR, JwksServer, claims_for, server, sign

from pyengine.gateway.server import Gateway

__all__ = ["server"]  # the JWKS fixture, used by name


@pytest.fixture
def gw(tmp_path: Path, server: JwksServer) -> Iterator[Gateway]:
    argv = ("--jwks-url", server.url, "--jwt-issuer", ISSUER, "--jwt-audience", CLIENT_ID)
    running = RunningGateway(tmp_path, argv=argv)
    yield running.gw
    running.stop()


def _logon(gw: Gateway, comp_id: str, username: str, password: str) -> bytes:
    c = Client(gw.fix_port, comp_id)
    try:
        msg = c.logon(username, password)
        assert msg is not None
        return bytes(msg.get(35))
    finally:
        c.close()


def _get(gw: Gateway, path: str, auth: str) -> int:
    with socket.create_connection(("127.0.0.1", gw.http_port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    if status == 200:
        assert "disabled" in json.loads(data.partition(b"\r\n\r\n")[2])
    return status


def test_fix_logon_with_a_token(gw: Gateway) -> None:
    assert _logon(gw, "J_OK", "demo", sign(claims_for("id", "demo"))) == b"A"
    assert _logon(gw, "J_ACCESS", "demo", sign(claims_for("access", "demo"))) == b"A"
    assert _logon(gw, "J_PW", "demo", "demo") == b"A"  # passwords still work beside tokens
    assert _logon(gw, "J_OTHER", "demo", sign(claims_for("id", "demo2"))) == b"5"  # someone else's token
    assert _logon(gw, "J_EXP", "demo", sign(claims_for("id", "demo", exp=int(time.time()) - 3600))) == b"5"
    assert _logon(gw, "J_FORGED", "demo", sign(claims_for("id", "demo"), key=RSA_IMPOSTOR)) == b"5"
    assert gw.auth.last_error  # why the last logon was refused, for the log


def test_admin_endpoint_accepts_an_admin_bearer_token(gw: Gateway) -> None:
    assert _get(gw, "/admin/kill-switch", "Bearer " + sign(claims_for("access", "admin"))) == 200
    assert _get(gw, "/admin/kill-switch", "Bearer " + sign(claims_for("access", "demo"))) == 403
    assert _get(gw, "/admin/kill-switch", "Bearer not.a.token") == 401
    basic = "Basic " + base64.b64encode(b"admin:admin").decode()
    assert _get(gw, "/admin/kill-switch", basic) == 200


def test_gateway_starts_while_the_jwks_is_down(tmp_path: Path, server: JwksServer) -> None:
    server.status = 500
    argv = ("--jwks-url", server.url, "--jwt-issuer", ISSUER, "--jwt-audience", CLIENT_ID)
    running = RunningGateway(tmp_path, argv=argv)
    try:
        assert _logon(running.gw, "J_DOWN_PW", "demo", "demo") == b"A"
        assert _logon(running.gw, "J_DOWN_TOK", "demo", sign(claims_for("id", "demo"))) == b"5"
    finally:
        running.stop()
