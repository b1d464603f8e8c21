"""The load generator's worker: the sessions of one process, logged on, driven open loop, drained, logged out.

Order *i* of the run is scheduled at ``t0 + i / rate`` and belongs to session ``i % sessions``; a worker sends
only the orders of its own sessions, so several worker processes given the same plan and the same ``t0``
together send the whole schedule.

Timing: the driver sleeps on the event loop while the next order is more than ``plan.spin_us`` away (2 ms by
default) and otherwise spins (yielding to the loop on every turn), because event-loop timers have millisecond
resolution and would add up to a millisecond to every measured latency. A spinning worker uses a whole core;
on a small machine that competes with the gateway, and the figures include it. ``spin_us=0`` never spins:
the worker then sends in batches on each timer tick, costing only the CPU the orders need, and the measured
latencies include up to about a millisecond of that batching.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

from pyengine.client.loadplan import LoadError, LoadPlan, WorkerResult
from pyengine.client.loadsession import LoadSession, LoadStats

__all__ = ["LOGON_PER_SESSION_S", "run_coroutine", "run_worker", "session_indices"]

#: At most this many orders are encoded before the worker yields to the event loop (to read replies).
_MAX_BATCH: Final = 1000
#: How often a worker calls its ``publish`` callback (progress counts for a parent process).
_PUBLISH_S: Final = 0.1
#: The gateway checks one password at a time (scrypt, tens of ms): each session adds this to the logon wait.
LOGON_PER_SESSION_S: Final = 0.1

_T = TypeVar("_T")


def session_indices(plan: LoadPlan, worker: int) -> list[int]:
    return list(range(worker, plan.sessions, plan.processes))


def _transact_time(wall_ns: int) -> str:
    secs, rest = divmod(wall_ns, 1_000_000_000)
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(secs)) + f".{rest // 1_000_000:03d}"


async def _wait(aw: Awaitable[_T], timeout: float, what: str) -> _T:
    try:
        return await asyncio.wait_for(aw, timeout)
    except TimeoutError:
        raise LoadError(f"{what}: no answer within {timeout:g}s") from None


async def _connect(plan: LoadPlan, session: int, stats: LoadStats) -> LoadSession:
    loop = asyncio.get_running_loop()
    comp_id = plan.comp_id(session)
    try:
        _, proto = await asyncio.wait_for(
            loop.create_connection(lambda: LoadSession(comp_id, stats), plan.host, plan.port), plan.timeout
        )
    except ConnectionRefusedError:
        msg = f"cannot connect to {plan.host}:{plan.port}: connection refused (is the gateway running?)"
        raise LoadError(msg) from None
    except TimeoutError:
        raise LoadError(f"cannot connect to {plan.host}:{plan.port}: timed out after {plan.timeout:g}s") from None
    except OSError as e:
        raise LoadError(f"cannot connect to {plan.host}:{plan.port}: {e.strerror or e}") from None
    return proto


async def _log_on(plan: LoadPlan, indices: Sequence[int], stats: LoadStats) -> dict[int, LoadSession]:
    """Connect and log every session on; on any failure close them all and raise LoadError."""
    sessions: dict[int, LoadSession] = {}

    async def one(s: int) -> None:
        sess = await _connect(plan, s, stats)
        sessions[s] = sess
        login = plan.login(s)
        sess.logon(login.username, login.password)
        timeout = plan.timeout + LOGON_PER_SESSION_S * plan.sessions
        failure = await _wait(asyncio.shield(sess.logged_on), timeout, f"logon of {sess.comp_id}")
        if failure is not None:
            raise LoadError(f"{sess.comp_id} (user {login.username}): {failure}")

    results = await asyncio.gather(*(one(s) for s in indices), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        for sess in sessions.values():
            sess.close()
        first = failures[0]
        if not isinstance(first, LoadError):
            raise first
        more = f" (and {len(failures) - 1} more session(s) failed)" if len(failures) > 1 else ""
        raise LoadError(f"{first}{more}")
    return sessions


async def _drive(plan: LoadPlan, sessions: dict[int, LoadSession], stats: LoadStats, t0: int) -> None:
    """Send every order of these sessions at its scheduled time (open loop)."""
    n, total, rate = plan.sessions, plan.total_orders, plan.rate
    period = 1e9 / rate
    by_index: list[LoadSession | None] = [sessions.get(s) for s in range(n)]
    tag = f"L{plan.run_tag}-"
    symbol, price, qty = plan.symbol, plan.price, plan.qty
    spin_ns = int(plan.spin_us * 1000)
    next_i = 0
    while next_i < total:
        now = time.perf_counter_ns()
        # A sender that fell behind catches up in bounded batches, reading replies in between.
        due = min(total, int((now - t0) / period) + 1, next_i + _MAX_BATCH) if now >= t0 else 0
        if due > next_i:
            stats.send_lag.record((now - (t0 + int(next_i * period))) // 1000)
            wall = time.time_ns()
            ttime = _transact_time(wall)
            touched: set[LoadSession] = set()
            for i in range(next_i, due):
                s = i % n
                sess = by_index[s]
                if sess is None:
                    continue
                side = "1" if (i // n + s) % 2 == 0 else "2"
                cl = f"{tag}{i}"
                fields: list[tuple[int, str | int | bytes]] = [
                    (11, cl),
                    (55, symbol),
                    (54, side),
                    (38, qty),
                    (40, "2"),
                    (44, price),
                    (59, "1"),
                    (60, ttime),
                ]
                sess.add_order(cl, fields, t0 + int(i * period), now, wall)
                touched.add(sess)
            for sess in touched:
                sess.flush()
            next_i = due
            if next_i >= total:
                break
        wait = t0 + int(next_i * period) - time.perf_counter_ns()
        if spin_ns == 0:  # event-loop timers round below a millisecond down to zero: never ask for less
            await asyncio.sleep(max(wait / 1e9, 0.001))
        elif wait > spin_ns:
            await asyncio.sleep((wait - spin_ns // 2) / 1e9)
        else:
            await asyncio.sleep(0)


async def _drain(plan: LoadPlan, sessions: dict[int, LoadSession]) -> None:
    """Wait (up to ``plan.drain`` s) until every order sent has been answered or its session is gone."""
    deadline = time.monotonic() + plan.drain
    while time.monotonic() < deadline:
        if all(not sess.pending or not sess.is_open for sess in sessions.values()):
            return
        await asyncio.sleep(0.005)


async def _log_out(sessions: dict[int, LoadSession]) -> None:
    for sess in sessions.values():
        sess.logout()
    closing = [sess.closed for sess in sessions.values() if sess.is_open]
    if closing:
        await asyncio.wait(closing, timeout=2.0)
    for sess in sessions.values():
        sess.close()


async def _publish_loop(stats: LoadStats, publish: Callable[[LoadStats], None]) -> None:
    while True:
        publish(stats)
        await asyncio.sleep(_PUBLISH_S)


async def run_worker(
    plan: LoadPlan,
    indices: Sequence[int],
    stats: LoadStats,
    start: Callable[[], Awaitable[int]],
    publish: Callable[[LoadStats], None] | None = None,
) -> WorkerResult:
    """Log the sessions ``indices`` on, wait for ``start()`` (the perf_counter_ns start instant), run, report."""
    sessions = await _log_on(plan, indices, stats)
    publisher = asyncio.create_task(_publish_loop(stats, publish)) if publish is not None else None
    try:
        t0 = await start()
        stats.measure_start = t0 + int(plan.warmup_orders * (1e9 / plan.rate))  # as _drive computes send times
        await _drive(plan, sessions, stats, t0)
        await _drain(plan, sessions)
        unacked = sum(sess.unanswered() for sess in sessions.values())
        await _log_out(sessions)
    finally:
        if publisher is not None:
            publisher.cancel()
        for sess in sessions.values():
            sess.close()
    if publish is not None:
        publish(stats)
    errors = list(stats.errors)
    if stats.errors_dropped:
        errors.append(f"... and {stats.errors_dropped} more distinct error(s)")
    return WorkerResult(
        sent=stats.sent,
        acked=stats.acked,
        rejected=stats.rejected,
        unacked=unacked,
        not_sent=stats.not_sent,
        last_send_s=max(0, stats.last_send - stats.measure_start) / 1e9,
        last_ack_s=max(0, stats.last_ack - stats.measure_start) / 1e9,
        latency=stats.latency.encode(),
        wire=stats.wire.encode(),
        send_lag=stats.send_lag.encode(),
        reject_reasons=dict(stats.reject_reasons),
        errors=errors,
    )


def run_coroutine(coro: Awaitable[_T]) -> _T:
    """Run on uvloop when it is installed (as the gateway does), else on the default loop."""

    async def main() -> _T:
        return await coro

    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())
