"""The gateway's HTTP endpoint: health, Prometheus metrics, and the authenticated admin kill switch.

::

    GET  /health                       200 JSON {"status": "ok", ...}
    GET  /metrics                      200 Prometheus text format
    GET  /admin/kill-switch            200 {"disabled": [accounts]}
    POST /admin/kill-switch            {"account": "ACC1"} -> cancel all its orders, disable it
    POST /admin/enable                 {"account": "ACC1"} -> accept its orders again

Admin requests authenticate as a gateway user with ``admin = true``: ``Authorization: Basic`` (username and
password) or ``Authorization: Bearer <JWT>`` when a JWKS URL is configured. Errors are JSON
``{"error": "..."}`` with 400 (bad request body), 401 (no or bad credentials), 403 (not an admin), 404
(unknown path or account), 405 (wrong method), 413 (body too large).

HTTP/1.1 with ``Connection: close``: one request per connection, which is all health checks, Prometheus and
an operator's curl need.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from pyengine.gateway.config import User

__all__ = ["AdminActions", "HttpApi"]

MAX_BODY: Final = 65536
MAX_HEAD: Final = 16384
_REASONS: Final = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
}


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class AdminActions:
    """What the HTTP endpoint needs from the gateway."""

    health: Callable[[], dict[str, object]]
    metrics: Callable[[], str]
    authenticate: Callable[[str, str], User | None]  # username, password
    authenticate_token: Callable[[str], User | None]  # a bearer JWT; None when tokens are not configured
    kill: Callable[[str], Awaitable[int]]  # account -> orders cancelled; KeyError if unknown
    enable: Callable[[str], None]  # KeyError if unknown
    disabled: Callable[[], list[str]]


class HttpApi:
    def __init__(self, actions: AdminActions) -> None:
        self.actions = actions

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                status, ctype, body = await asyncio.wait_for(self._request(reader), 10.0)
            except _HttpError as e:
                status, ctype, body = e.status, "application/json", json.dumps({"error": e.message})
            raw = body.encode()
            head = f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nContent-Type: {ctype}\r\n"
            if status == 401:
                head += 'WWW-Authenticate: Basic realm="pyengine", Bearer\r\n'
            head += f"Content-Length: {len(raw)}\r\nConnection: close\r\n\r\n"
            writer.write(head.encode() + raw)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _request(self, reader: asyncio.StreamReader) -> tuple[int, str, str]:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            raise _HttpError(400, "request head too large")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise _HttpError(400, "malformed request line")
        method, path = parts[0], parts[1].split("?", 1)[0]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, sep, value = line.partition(":")
                if not sep:
                    raise _HttpError(400, f"malformed header line {line[:40]!r}")
                headers[name.strip().lower()] = value.strip()
        body = await self._body(reader, headers)
        if path == "/health":
            _method(method, "GET")
            return 200, "application/json", json.dumps(self.actions.health())
        if path == "/metrics":
            _method(method, "GET")
            return 200, "text/plain; version=0.0.4", self.actions.metrics()
        if path in ("/admin/kill-switch", "/admin/enable"):
            self._admin(headers)
            if path == "/admin/kill-switch" and method == "GET":
                return 200, "application/json", json.dumps({"disabled": self.actions.disabled()})
            _method(method, "POST")
            account = _account(body)
            try:
                if path == "/admin/enable":
                    self.actions.enable(account)
                    result: dict[str, object] = {"account": account, "disabled": False}
                else:
                    cancelled = await self.actions.kill(account)
                    result = {"account": account, "disabled": True, "cancelled": cancelled}
            except KeyError:
                raise _HttpError(404, f"unknown account {account!r}") from None
            return 200, "application/json", json.dumps(result)
        raise _HttpError(404, f"no such path {path!r}")

    @staticmethod
    async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        text = headers.get("content-length", "0")
        if not text.isdigit():
            raise _HttpError(400, f"bad Content-Length {text!r}")
        length = int(text)
        if length > MAX_BODY:
            raise _HttpError(413, f"body of {length} bytes is over the {MAX_BODY}-byte limit")
        return await reader.readexactly(length) if length else b""

    def _admin(self, headers: dict[str, str]) -> User:
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        user: User | None = None
        if scheme.lower() == "basic":
            try:
                username, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise _HttpError(401, "malformed Basic credentials") from None
            if not sep:
                raise _HttpError(401, "malformed Basic credentials")
            user = self.actions.authenticate(username, password)
        elif scheme.lower() == "bearer" and value:
            user = self.actions.authenticate_token(value)
        else:
            raise _HttpError(401, "authentication required (Basic or Bearer)")
        if user is None:
            raise _HttpError(401, "bad credentials")
        if not user.admin:
            raise _HttpError(403, f"user {user.username} is not an admin")
        return user


def _method(method: str, allowed: str) -> None:
    if method != allowed:
        raise _HttpError(405, f"method {method} not allowed here (use {allowed})")


def _account(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _HttpError(400, 'body must be JSON like {"account": "ACC1"}') from None
    account = doc.get("account") if isinstance(doc, dict) else None
    if not isinstance(account, str) or not account:
        raise _HttpError(400, 'body must be JSON like {"account": "ACC1"}')
    return account
