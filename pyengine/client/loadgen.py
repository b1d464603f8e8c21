"""Open-loop FIX load generator: ``python -m pyengine.client load --sessions N --rate R --duration S``.

N FIX sessions (SenderCompIDs ``LOAD001``, ``LOAD002``, ...) send limit orders at a fixed aggregate rate.
Order *i* is scheduled at ``start + i / rate`` and goes to session ``i % N``; the sender never waits for an
answer (open loop), and an order's latency is the arrival of its first ExecutionReport minus its scheduled
time, so queueing in the client or the gateway is counted, not hidden (no coordinated omission).

The flow keeps the book bounded however long the run: every order is a GTC limit order at one price
(``--price``, default 100.00) on one symbol, and session *s* sends its *k*-th order as a buy when ``k + s``
is even, else a sell. Each session alternates sides and each batch of N orders is half buys, half sells, so
orders cross at once and at most about N orders rest at any time; sessions alternate between the logins
(by default ``demo`` and ``demo2``), so most trades are between two accounts. One price also keeps every
order inside the gateway's price collar.

The sending itself (and why the sender spins) is :mod:`pyengine.client.loadworker`; the plan and the result
are :mod:`pyengine.client.loadplan`. This module runs the workers, in this process or, with ``--processes
K``, in K worker processes sharing the sessions round robin: they log on, start at one agreed instant, and
their HdrHistograms are merged exactly. It also draws the progress line and holds the command line. The
library entry point is :func:`run_load`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from pyengine.client.argtypes import non_negative_float, port, positive_float, positive_int, price
from pyengine.client.loadplan import DEFAULT_LOGINS, LoadError, LoadPlan, LoadResult, Login, WorkerResult, merge_results
from pyengine.client.loadsession import LoadStats
from pyengine.client.loadworker import LOGON_PER_SESSION_S, run_coroutine, run_worker, session_indices
from pyengine.client.progress import ProgressBar

__all__ = ["LoadError", "LoadPlan", "LoadResult", "Login", "add_load_parser", "run_load", "run_load_command"]

PASSWORD_ENV: Final = "PYENGINE_CLIENT_PASSWORD"
#: Seconds a worker process may take to start (import, spawn) before its logons count.
_SPAWN_S: Final = 20.0


class _ProgressThread:
    """Redraws the progress line from ``counts()`` -> (sent, answered) until stopped; the rate is per interval."""

    def __init__(self, bar: ProgressBar | None, total: int, counts: Callable[[], tuple[int, int]]) -> None:
        self.bar, self.total, self.counts = bar, total, counts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-progress", daemon=True)
        self._last: tuple[float, int] | None = None
        self._rate = 0.0

    def __enter__(self) -> _ProgressThread:
        if self.bar is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.bar is not None:
            self._thread.join()
            self._draw(final=True)
            self.bar.close()

    def _draw(self, final: bool = False) -> None:
        assert self.bar is not None
        sent, answered = self.counts()
        if not sent:
            return  # still logging on
        now = time.monotonic()
        if self._last is not None and now > self._last[0]:
            self._rate = (sent - self._last[1]) / (now - self._last[0])
        self._last = (now, sent)
        extra = f"sent, {answered:,} answered, {sent - answered:,} in flight"
        if not final:
            extra += f", {self._rate:,.0f}/s"
        # The bar ends (a newline on a terminal) only once every order was sent and the run is over.
        self.bar(sent if final or sent < self.total else self.total - 1, self.total, extra)

    def _run(self) -> None:
        interval = 0.2 if self.bar is not None and self.bar.tty else 0.5
        while not self._stop.wait(interval):
            self._draw()


def _run_in_process(plan: LoadPlan, bar: ProgressBar | None) -> list[WorkerResult]:
    stats = LoadStats()

    async def start() -> int:
        return time.perf_counter_ns() + 20_000_000

    with _ProgressThread(bar, plan.total_orders, lambda: (stats.sent_total, stats.answered_total)):
        return [run_coroutine(run_worker(plan, range(plan.sessions), stats, start))]


def _child_main(plan: LoadPlan, worker: int, conn: multiprocessing.connection.Connection, counts: Any) -> None:
    """A worker process: log on, say ``ready``, wait for the start instant, run, send the result back."""

    async def start() -> int:
        conn.send(("ready", None))
        loop = asyncio.get_running_loop()
        kind, value = await loop.run_in_executor(None, conn.recv)
        if kind != "start":
            raise LoadError("aborted")
        return int(time.perf_counter_ns() + (int(value) - time.time_ns()))

    def publish(stats: LoadStats) -> None:  # called by the worker about every 0.1 s
        counts[0], counts[1] = stats.sent_total, stats.answered_total

    answer: tuple[str, Any]
    try:
        answer = (
            "result",
            run_coroutine(run_worker(plan, session_indices(plan, worker), LoadStats(), start, publish)),
        )
    except LoadError as e:
        answer = ("error", str(e))
    except BaseException as e:  # a worker must always answer, or the parent waits for nothing
        answer = ("error", f"worker {worker} failed: {type(e).__name__}: {e}")
    try:
        conn.send(answer)
    except OSError:
        pass  # the parent has gone (it aborted the run)
    finally:
        conn.close()


def _run_processes(plan: LoadPlan, bar: ProgressBar | None) -> list[WorkerResult]:
    ctx = multiprocessing.get_context("spawn")
    workers = []
    for w in range(plan.processes):
        parent, child = ctx.Pipe()
        counts = ctx.Array("q", 2, lock=False)
        proc = ctx.Process(target=_child_main, args=(plan, w, child, counts), name=f"load-worker-{w}", daemon=True)
        proc.start()
        child.close()
        workers.append((proc, parent, counts))

    def receive(conn: multiprocessing.connection.Connection, deadline: float, what: str) -> tuple[str, Any]:
        if not conn.poll(max(0.0, deadline - time.monotonic())):
            raise LoadError(f"a worker process did not {what} in time")
        try:
            msg: tuple[str, Any] = conn.recv()
        except EOFError:
            raise LoadError("a worker process exited unexpectedly") from None
        if msg[0] == "error":
            raise LoadError(str(msg[1]))
        return msg

    try:
        deadline = time.monotonic() + _SPAWN_S + plan.timeout + LOGON_PER_SESSION_S * plan.sessions
        for _, conn, _ in workers:
            receive(conn, deadline, "log on")
        start_wall = time.time_ns() + 100_000_000
        for _, conn, _ in workers:
            conn.send(("start", start_wall))

        def counts() -> tuple[int, int]:
            return sum(int(c[0]) for _, _, c in workers), sum(int(c[1]) for _, _, c in workers)

        deadline = time.monotonic() + plan.warmup + plan.duration + plan.drain + 30.0
        with _ProgressThread(bar, plan.total_orders, counts):
            return [receive(conn, deadline, "finish")[1] for _, conn, _ in workers]
    finally:
        for _, conn, _ in workers:
            with contextlib.suppress(OSError, ValueError):
                conn.send(("abort", None))
            conn.close()
        for proc, _, _ in workers:
            proc.join(5.0)
            if proc.is_alive():
                proc.kill()
                proc.join()


def run_load(plan: LoadPlan, progress: ProgressBar | None = None) -> LoadResult:
    """Run ``plan`` and return the merged result; LoadError when it cannot run, ValueError for a bad plan."""
    plan.check()
    if not plan.run_tag:
        plan = replace(plan, run_tag=secrets.token_hex(3))
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = _run_in_process(plan, progress) if plan.processes == 1 else _run_processes(plan, progress)
    return merge_results(plan, parts, started)


# --- command line -----------------------------------------------------------------------------------


def add_load_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``load`` subcommand to an ``add_subparsers()`` object."""
    p: argparse.ArgumentParser = sub.add_parser(
        "load",
        help="open-loop load: N sessions sending orders at a fixed total rate; latency percentiles",
        description="N FIX sessions send limit orders at a fixed total rate (open loop); latency is measured "
        "from each order's scheduled send time to its first ExecutionReport.",
    )
    p.add_argument("--sessions", type=positive_int, default=1, help="FIX sessions (default 1)")
    p.add_argument("--rate", type=positive_float, required=True, help="orders per second, all sessions together")
    p.add_argument("--duration", type=positive_float, required=True, help="seconds measured")
    p.add_argument("--warmup", type=non_negative_float, default=0.0, help="seconds at the same rate, not measured")
    p.add_argument("--host", default="127.0.0.1", help="gateway FIX host (default 127.0.0.1)")
    p.add_argument("--port", type=port, default=9878, help="gateway FIX port (default 9878)")
    p.add_argument(
        "--username",
        action="append",
        help="Username (553); repeat to alternate sessions between users (default: demo and demo2)",
    )
    p.add_argument(
        "--password",
        action="append",
        help=f"Password (554), one per --username or one for all; default ${PASSWORD_ENV}, else demo",
    )
    p.add_argument("--symbol", default="ACME", help="instrument (default ACME)")
    p.add_argument("--price", type=price, default="100.00", help="limit price of every order (default 100.00)")
    p.add_argument("--qty", type=positive_int, default=1, help="quantity of every order (default 1)")
    p.add_argument("--comp-id-prefix", default="LOAD", help="SenderCompIDs are PREFIX001, PREFIX002, ...")
    p.add_argument("--processes", type=positive_int, default=1, help="worker processes sharing the sessions")
    p.add_argument("--timeout", type=positive_float, default=10.0, help="connect/logon timeout in seconds")
    p.add_argument("--drain", type=non_negative_float, default=10.0, help="seconds to wait for the last acks")
    p.add_argument(
        "--spin-us",
        type=non_negative_float,
        default=2000.0,
        help="spin (one core) when the next order is nearer than this many us, for sub-ms send times; "
        "0 = never spin, send in ~1 ms batches (default 2000)",
    )
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON to PATH")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    return p


def _logins(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[Login, ...]:
    users: list[str] | None = args.username
    passwords: list[str] | None = args.password
    if not users:
        if passwords:
            parser.error("--password needs --username")
        return tuple(Login(u, p) for u, p in DEFAULT_LOGINS)
    if not passwords:
        passwords = [os.environ.get(PASSWORD_ENV, "demo")]
    if len(passwords) == 1:
        passwords = passwords * len(users)
    if len(passwords) != len(users):
        parser.error(f"{len(users)} --username but {len(passwords)} --password (give one, or one per user)")
    return tuple(Login(u, p) for u, p in zip(users, passwords, strict=True))


def run_load_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``load``: run, print the report (stdout), write ``--json``; 0 if every order was answered, else 1."""
    plan = LoadPlan(
        host=args.host,
        port=args.port,
        logins=_logins(args, parser),
        sessions=args.sessions,
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        symbol=args.symbol,
        price=args.price,
        qty=args.qty,
        comp_id_prefix=args.comp_id_prefix,
        processes=args.processes,
        timeout=args.timeout,
        drain=args.drain,
        spin_us=args.spin_us,
    )
    try:
        plan.check()
    except ValueError as e:
        parser.error(str(e))
    bar = None if args.quiet else ProgressBar("load", unit="orders")
    try:
        result = run_load(plan, bar)
    except LoadError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 1
    for line in result.report_lines():
        print(line)
    if args.json is not None:
        try:
            args.json.write_text(json.dumps(result.to_json(), indent=2) + "\n")
        except OSError as e:
            print(f"error: cannot write {args.json}: {e.strerror or e}", file=sys.stderr)
            return 1
    if result.sent and result.rejected == result.sent:
        print("error: every order was rejected (see the reasons above)", file=sys.stderr)
    return 0 if result.ok else 1
