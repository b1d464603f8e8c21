"""The gateway's network server: FIX 4.4 acceptor and an HTTP endpoint on asyncio (uvloop if installed).

One :class:`Gateway` owns the engine (journal under ``<data_dir>/engine``), the FIX listener and the HTTP
listener. Everything written to a FIX client goes through one :class:`~pyengine.gateway.outbox.Outbox`,
flushed at the end of each event-loop iteration: an ExecutionReport is never written before its command is
durable in the journal (pipelined group commit; the fdatasync runs on a worker thread).

Per session: a token bucket (the user's ``rate_limit``/``rate_burst``) admits application messages; one over
the limit is answered with a reject whose text starts ``rate_limit:``, and a session that keeps flooding
(:data:`MAX_THROTTLED_IN_A_ROW` refusals without an admitted message between) is logged out. A user with
``cancel_on_disconnect`` has the orders its session entered cancelled when the connection ends.

HTTP: see :mod:`pyengine.gateway.httpapi` (health, metrics, the admin kill switch).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import re
import signal
import time
from pathlib import Path
from typing import Final, cast

from pyengine._engine import Engine
from pyengine.fix import FixDisconnect, FixFramer, FixGarbled, FixSessionReject
from pyengine.gateway.config import GatewayConfig, User
from pyengine.gateway.httpapi import AdminActions, HttpApi
from pyengine.gateway.jwt_auth import Authenticator, JwtError, JwtVerifier
from pyengine.gateway.orderlog import OrderLog
from pyengine.gateway.orders import OrderRouter, Outbound
from pyengine.gateway.outbox import Outbox
from pyengine.gateway.risk import KillSwitch, TokenBucket
from pyengine.gateway.seqstore import SeqStore
from pyengine.gateway.session import Deliver, Disconnect, FixSession, Send, store_for_resend

__all__ = ["SENDER_COMP_ID", "Gateway", "run"]

SENDER_COMP_ID: Final = "PYENGINE"
MAX_THROTTLED_IN_A_ROW: Final = 1000
LOGON_USER_FILE: Final = "user"
_COMP_ID_RE: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_log = logging.getLogger(__name__)


class _Refused(Exception):
    """A connection dropped before it has a session: bad first bytes, a bad or busy SenderCompID."""


class _Connection:
    def __init__(self, writer: asyncio.WriteTransport) -> None:
        self.writer = writer
        self.first = b""  # bytes before the first complete message (its SenderCompID names the session)
        self.ended = False
        self.session: FixSession | None = None
        self.key = ""
        self.user: User | None = None
        self.bucket: TokenBucket | None = None
        self.throttled_in_a_row = 0


class _FixProtocol(asyncio.Protocol):
    """One FIX connection: bytes in go to the gateway as they arrive; it writes through the outbox."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.conn: _Connection | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport has the WriteTransport methods without subclassing it
        self.conn = _Connection(cast(asyncio.WriteTransport, transport))
        self.gateway._all.add(self.conn)

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        assert conn is not None
        if conn.ended:
            return
        try:
            if self.gateway._on_data(conn, data):
                return
        except _Refused as e:
            _log.info("FIX connection from %s refused: %s", conn.writer.get_extra_info("peername"), e)
        except Exception:
            _log.exception("FIX connection %s failed", conn.key or "?")
        self.gateway._end(conn)

    def eof_received(self) -> bool:
        if self.conn is not None:
            self.gateway._end(self.conn)  # answer what is owed, then close our side too
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.gateway._end(self.conn)


class Gateway:
    """The running gateway; ``await start()``, then ``await stop()`` (or :func:`run` for the CLI)."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.data_dir = Path(config.journal.data_dir)
        self.engine: Engine | None = None
        self.router: OrderRouter | None = None
        self.fix_port = 0
        self.http_port = 0
        self._fix_server: asyncio.base_events.Server | None = None
        self._http_server: asyncio.base_events.Server | None = None
        self._conns: dict[str, _Connection] = {}  # logged-on (or logging-on) sessions by client CompID
        self._offline: dict[str, SeqStore] = {}  # stores of disconnected sessions that reports were kept for
        self.order_log: OrderLog | None = None
        self._all: set[_Connection] = set()
        self.outbox: Outbox | None = None
        self._dirty_stores: set[SeqStore] = set()
        self._order_log_syncing = False
        self.failed = asyncio.Event()  # set when the journal can no longer be trusted: the process must stop
        self._flush_scheduled = False
        self._timer: asyncio.Task[None] | None = None
        self._started = time.time()
        self.throttled = 0
        self.cancelled_on_disconnect = 0
        self.verifier = JwtVerifier(config.jwt) if config.jwt.jwks_url is not None else None
        self.auth = Authenticator(config, self.verifier)
        self._refreshing: asyncio.Future[None] | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.verifier is not None:
            try:  # a JWKS outage must not keep password logons out: tokens wait for the next refresh
                await asyncio.get_running_loop().run_in_executor(None, self.verifier.load_keys)
            except JwtError as e:
                _log.error("JWKS %s: %s; JWT logons are refused until it loads", self.config.jwt.jwks_url, e)
        # auto_commit off: the outbox commits every iteration; a sync inside submit would only stall the loop.
        eng = Engine.open(self.data_dir / "engine", fsync=self.config.journal.fsync, auto_commit=False)
        present = set(eng.instruments())
        for inst in self.config.instruments:
            if inst.symbol not in present:
                eng.add_instrument(
                    inst.symbol, inst.tick_size, inst.lot_size, inst.min_qty, inst.max_qty, inst.price_band
                )
        eng.commit()
        self.engine = eng
        self.order_log = OrderLog(
            self.data_dir / "orders.log",
            fsync_every_flush=self.config.journal.fsync == "always",
            keep_done=self.config.journal.done_orders_kept,
        )
        self.router = OrderRouter(
            eng,
            self.config,
            kill_switch=KillSwitch(self.data_dir / "kill_switch.json"),
            order_log=self.order_log,
        )
        self.outbox = Outbox(
            eng, self.order_log, self.config.journal.fsync, self._journal_failed, before_release=self._flush_stores
        )
        self._cancel_orphans_on_disconnect()
        fix, http = self.config.fix, self.config.http
        api = HttpApi(
            AdminActions(
                health=self.health,
                metrics=self.metrics_text,
                authenticate=self._authenticate,
                authenticate_token=self._authenticate_token,
                kill=self.kill,
                enable=self.enable,
                disabled=lambda: sorted(self.router.risk.kill_switch.disabled) if self.router else [],
            )
        )
        loop = asyncio.get_running_loop()
        # A Protocol, not streams: data arrives by callback, with no task wake-up and coroutine step per read.
        self._fix_server = await loop.create_server(lambda: _FixProtocol(self), fix.host, fix.port)
        self._http_server = await asyncio.start_server(api.handle, http.host, http.port)
        self.fix_port = self._fix_server.sockets[0].getsockname()[1]
        self.http_port = self._http_server.sockets[0].getsockname()[1]
        self._timer = asyncio.create_task(self._tick())
        # Start-up state (configuration, restored orders) lives as long as the process: keep it out of every
        # later collection, so full collections cost what the traffic left behind, not what start-up built.
        gc.collect()
        gc.freeze()

    async def stop(self, grace: float = 3.0) -> None:
        """Stop accepting, commit, log every session out, wait (up to ``grace`` s) for answers, close."""
        for server in (self._fix_server, self._http_server):
            if server is not None:
                server.close()
        self._flush_now()
        for conn in list(self._all):
            if conn.session is not None:
                self._apply(conn, conn.session.logout("gateway shutting down"))
        self._flush_now()
        deadline = time.monotonic() + grace
        while any(c.session is not None and not c.session.closed for c in self._all) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        for conn in list(self._all):
            self._close(conn)
        for store in self._offline.values():
            store.close()
        self._offline.clear()
        if self.outbox is not None:
            self.outbox.close()
        if self.engine is not None and not self.failed.is_set():
            self.engine.commit()
            self.engine.close()
            self.engine = None
        if self.order_log is not None:
            self.order_log.close()

    def _cancel_orphans_on_disconnect(self) -> None:
        """After a crash, cancel what cancel-on-disconnect sessions left live: their connections are gone."""
        assert self.router is not None
        for key in self.router.sessions_with_live_orders():
            try:
                username = (self._session_dir(key) / LOGON_USER_FILE).read_text()
                cod = self.config.user(username).cancel_on_disconnect
            except (OSError, KeyError):
                continue
            if cod:
                out = self.router.cancel_session_orders(key)
                _log.warning(
                    "session %s (user %s) was not connected at start: %d orders cancelled",
                    key,
                    username,
                    sum(1 for o in out if o[0] == key and o[1] == "8"),
                )
                self._schedule_flush()
                self._route(out)
        self._flush_now()

    # --- output: group commit ---------------------------------------------------------------------

    def _queue(self, conn: _Connection, data: bytes) -> None:
        assert self.outbox is not None
        self.outbox.write(conn.writer, data)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush_stores(self) -> None:
        """Session stores reach the OS before any byte reaches a client; only those written to are visited."""
        if self._dirty_stores:
            stores = list(self._dirty_stores)
            self._dirty_stores.clear()  # cleared in place: every store holds this set's add() as on_dirty
            for store in stores:
                store.flush()

    def _flush(self) -> None:
        """End of an event-loop iteration: the group commit (see :mod:`pyengine.gateway.outbox`)."""
        self._flush_scheduled = False
        if self.outbox is not None:
            self.outbox.flush()  # flushes the session stores first when bytes can go out

    def _flush_now(self) -> None:
        """Commit and write everything now, on this thread (shutdown, disconnects, the kill switch)."""
        self._flush_scheduled = False
        if self.outbox is not None:
            self.outbox.flush_now()
        else:
            self._flush_stores()

    def _journal_failed(self, error: BaseException) -> None:
        """An fdatasync failed: acknowledge nothing more, drop every connection, and let the process stop."""
        for conn in list(self._all):
            conn.writer.abort()
        self.failed.set()

    def _close(self, conn: _Connection) -> None:
        if conn.session is not None and self._conns.get(conn.key) is conn:
            del self._conns[conn.key]
            conn.session.store.close()
            if conn.user is not None and conn.user.cancel_on_disconnect and self.router is not None:
                out = self.router.cancel_session_orders(conn.key)
                self.cancelled_on_disconnect += sum(1 for o in out if o[0] == conn.key)
                self._schedule_flush()
                self._route(out)
                self._flush_now()
        self._all.discard(conn)
        if not conn.writer.is_closing():
            conn.writer.close()

    # --- FIX --------------------------------------------------------------------------------------

    def _authenticate(self, username: str, password: str) -> User | None:
        user = self.auth.authenticate(username, password)
        if user is None:
            _log.info("logon of %r refused: %s", username, self.auth.last_error)
        return user

    def _logon(self, key: str, username: str, password: str) -> User | None:
        """A session's Logon check; who logged on is kept beside the session for restarts (cancel-on-disconnect)."""
        user = self._authenticate(username, password)
        if user is not None:
            path = self._session_dir(key) / LOGON_USER_FILE
            if not path.exists() or path.read_text() != user.username:
                path.write_text(user.username)
        return user

    def _authenticate_token(self, token: str) -> User | None:
        """An admin's bearer token (HTTP): the user named by a valid JWT."""
        if self.verifier is None:
            return None
        try:
            return self.config.user(self.verifier.verify(token).username)
        except (JwtError, KeyError) as e:
            _log.info("bearer token refused: %s", e)
            return None

    def _refresh_keys(self) -> None:
        """Reload the JWKS in a worker thread when the verifier wants it (rotation, staleness); never blocks."""
        if self.verifier is None or not self.verifier.refresh_wanted:
            return
        if self._refreshing is not None and not self._refreshing.done():
            return

        def reload() -> None:
            assert self.verifier is not None
            try:
                self.verifier.maybe_refresh()
            except JwtError as e:
                _log.error("JWKS %s: %s", self.config.jwt.jwks_url, e)

        self._refreshing = asyncio.get_running_loop().run_in_executor(None, reload)

    # --- admin ------------------------------------------------------------------------------------

    async def kill(self, account: str) -> int:
        """Kill switch: disable ``account`` and cancel its orders; returns once the cancels are durable."""
        assert self.router is not None
        cancelled, out = self.router.kill(account)
        _log.warning("kill switch: account %s disabled, %d orders cancelled", account, cancelled)
        self._schedule_flush()
        self._route(out)
        self._flush_now()
        return cancelled

    def enable(self, account: str) -> None:
        assert self.router is not None
        self.router.enable(account)
        _log.warning("kill switch: account %s re-enabled", account)

    def _apply(self, conn: _Connection, actions: list[Send | Deliver | Disconnect]) -> bool:
        """Carry out session actions; False once the session disconnected."""
        session = conn.session
        assert session is not None
        for action in actions:
            if isinstance(action, Send):
                self._queue(conn, action.data)
            elif isinstance(action, Deliver):
                if conn.user is None:
                    user = session.account
                    assert isinstance(user, User)
                    conn.user = user
                assert self.router is not None
                if conn.bucket is None:
                    conn.bucket = TokenBucket(conn.user.rate_limit, conn.user.rate_burst)
                if not conn.bucket.take():
                    if not self._throttle(conn, action):
                        return False
                    continue
                conn.throttled_in_a_row = 0
                self._schedule_flush()
                self._route(self.router.handle(conn.key, conn.user, action.msg))
            else:
                self._flush_now()
                return False
        return not session.closed

    def _feed(self, conn: _Connection, data: bytes) -> bool:
        """Received bytes, one delivered message at a time so its reports are numbered before what follows."""
        assert conn.session is not None
        actions = conn.session.step(data)
        while self._apply(conn, actions):
            if not actions or not isinstance(actions[-1], Deliver):
                return True
            actions = conn.session.step()
        return False

    def _throttle(self, conn: _Connection, action: Deliver) -> bool:
        """Refuse a message over the rate limit; False once the session is logged out for flooding."""
        assert conn.session is not None and conn.user is not None and self.router is not None
        self.throttled += 1
        conn.throttled_in_a_row += 1
        if conn.throttled_in_a_row > MAX_THROTTLED_IN_A_ROW:
            _log.warning("session %s logged out: %d messages over its rate limit", conn.key, conn.throttled_in_a_row)
            return self._apply(conn, conn.session.logout("rate_limit: too many messages over the rate limit"))
        text = f"rate_limit: more than {conn.user.rate_limit:g} messages/s (burst {conn.user.rate_burst})"
        self._route([self.router.throttled(conn.key, action.msg, text)])
        return True

    def _route(self, outbound: list[Outbound]) -> None:
        if not outbound:
            return
        assert self.outbox is not None
        write = self.outbox.write
        conns = self._conns
        for key, msg_type, fields in outbound:
            conn = conns.get(key)
            if conn is None or conn.session is None:
                self._keep_for_later(key, msg_type, fields)
                continue
            try:
                write(conn.writer, conn.session.send_app(msg_type, fields))
            except RuntimeError:  # connected but not logged on (yet, or any more): its own store keeps it
                store_for_resend(conn.session.store, SENDER_COMP_ID, key, msg_type, fields)
        self._schedule_flush()

    def _keep_for_later(self, key: str, msg_type: str, fields: list[tuple[int, str | int | bytes]]) -> None:
        """A report for a session that is not connected goes into its store, for a resend after its next logon."""
        if not _COMP_ID_RE.fullmatch(key):
            return  # an order adopted from the journal without a session (see OrderRouter._restore)
        store = self._offline.get(key)
        if store is None:
            store = self._offline[key] = self._new_store(key)
        store_for_resend(store, SENDER_COMP_ID, key, msg_type, fields)

    def _new_store(self, key: str) -> SeqStore:
        return SeqStore(
            self._session_dir(key),
            fsync=self.config.journal.fsync == "always",
            buffered=True,
            on_dirty=self._dirty_stores.add,
        )

    def _session_dir(self, key: str) -> Path:
        return self.data_dir / "sessions" / key

    def _open_session(self, conn: _Connection, first: bytes) -> bool:
        """Peek the client's SenderCompID (49) on its first message and create its FixSession."""
        peek = FixFramer(max_message_size=self.config.fix.max_message_size, validate=False)
        peek.push(first)
        try:
            msg = peek.next()
        except (FixDisconnect, FixGarbled, FixSessionReject) as e:
            raise _Refused(f"unreadable first message: {e}") from None
        if msg is None:
            return False
        key = msg.get(49) or ""
        if not _COMP_ID_RE.fullmatch(key):
            raise _Refused(f"invalid SenderCompID {key[:64]!r}")
        if key in self._conns:
            raise _Refused(f"SenderCompID {key!r} is already connected")
        store = self._offline.pop(key, None)
        if store is None:
            store = self._new_store(key)
        conn.key = key
        conn.session = FixSession(
            SENDER_COMP_ID,
            key,
            store,
            lambda username, password: self._logon(key, username, password),
            self.config.fix.heartbeat_interval,
            max_message_size=self.config.fix.max_message_size,
        )
        self._conns[key] = conn
        return True

    def _on_data(self, conn: _Connection, data: bytes) -> bool:
        """Bytes from a FIX connection; False once it is to be closed."""
        if conn.session is None:
            conn.first += data
            if len(conn.first) > self.config.fix.max_message_size:
                raise _Refused("no complete first message within the size limit")
            if not self._open_session(conn, conn.first):
                return True
            data, conn.first = conn.first, b""
        return self._feed(conn, data)

    def _end(self, conn: _Connection) -> None:
        """A FIX connection is over (either side closed it, or it failed): answer what is owed, then close."""
        if conn.ended:
            return
        conn.ended = True
        self._flush_now()
        self._close(conn)  # a transport's close() still sends what is buffered

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for conn in list(self._all):
                if conn.session is not None and not self._apply(conn, conn.session.on_timer()):
                    self._close(conn)
            if self.order_log is not None and self.config.journal.fsync == "batch" and not self._order_log_syncing:
                # Bounds what a power loss can take from the ClOrdID map to ~1 s; fsync in a worker thread
                # (it releases the GIL) so the loop does not stall on the disk.
                self.order_log.flush()
                self._order_log_syncing = True
                fd = self.order_log.fileno()
                done = asyncio.get_running_loop().run_in_executor(None, os.fsync, fd)
                done.add_done_callback(self._order_log_synced)
            self._refresh_keys()

    def _order_log_synced(self, done: asyncio.Future[None]) -> None:
        self._order_log_syncing = False
        if not done.cancelled() and done.exception() is not None:
            _log.error("fsync of %s failed: %s", self.data_dir / "orders.log", done.exception())

    # --- HTTP -------------------------------------------------------------------------------------

    def health(self) -> dict[str, object]:
        eng = self.engine
        return {
            "status": "ok",
            "sessions": len(self._conns),
            "journal_seq": eng.journal_seq if eng else None,
            "uptime_s": round(time.time() - self._started, 3),
        }

    def metrics_text(self) -> str:
        eng, router = self.engine, self.router
        risk = router.risk if router else None
        lines = [
            "# TYPE pyengine_sessions gauge",
            f"pyengine_sessions {sum(1 for c in self._conns.values() if c.user is not None)}",
            "# TYPE pyengine_orders_received_total counter",
            f"pyengine_orders_received_total {router.orders_received if router else 0}",
            "# TYPE pyengine_events_total counter",
            f"pyengine_events_total {router.events if router else 0}",
            "# TYPE pyengine_journal_seq gauge",
            f"pyengine_journal_seq {(eng.journal_seq or 0) if eng else 0}",
            "# TYPE pyengine_risk_rejects_total counter",
            f"pyengine_risk_rejects_total {router.risk_rejects if router else 0}",
            "# TYPE pyengine_throttled_total counter",
            f"pyengine_throttled_total {self.throttled}",
            "# TYPE pyengine_cancelled_on_disconnect_total counter",
            f"pyengine_cancelled_on_disconnect_total {self.cancelled_on_disconnect}",
            "# TYPE pyengine_accounts_disabled gauge",
            f"pyengine_accounts_disabled {len(risk.kill_switch.disabled) if risk else 0}",
        ]
        return "\n".join(lines) + "\n"


async def _serve(config: GatewayConfig) -> int:
    gw = Gateway(config)
    await gw.start()
    print(f"pyengine gateway: FIX on {config.fix.host}:{gw.fix_port}, HTTP on {config.http.host}:{gw.http_port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(gw.failed.wait())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()
    await asyncio.wait_for(gw.stop(), 9.0)
    return 1 if gw.failed.is_set() else 0


def run(config: GatewayConfig) -> int:
    """Serve until SIGTERM/SIGINT (exit status 0), or until the journal fails (1); uvloop when installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_serve(config))
    return uvloop.run(_serve(config))
