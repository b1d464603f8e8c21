"""One peer on one workload, against our per-call and batch APIs, in its own process.

    PYTHONPATH=bench python -m peers.worker --peer nanobook --workload ec_single --size 300000

prints one JSON object on stdout (progress on stderr). ``bench/run.py`` starts one worker
per (peer, workload) under a time limit, so a peer that hangs or crashes is reported as
"did not finish" and the suite goes on.

Ours per-call is the fast positional API (``Engine.submit_limit``, ``cancel_order``, ...;
``pyengine.batch.to_fast_calls``), timed with the peers' loop ``for fn, args in calls: fn(*args)``;
ours batch is one ``submit_batch(commands, out=events)`` into a preallocated, reused event array.

Method: the workload is generated once; every run starts from a fresh, prefilled book
(ours: ``Engine.clone()`` of the prefilled engine; a peer: a new book, the prefill replayed
through the adapter; neither timed). A round times our per-call API, our batch API and
the peer once each, in an order that rotates from round to round; a ratio is the median
over rounds of (ours / peer) in the same round, so drift of the machine hits both sides.
Then one more replay per per-call API reads ``perf_counter_ns`` around every call for the
latency percentiles, and keeps the calls' results to check what the peer did (trades,
volume, resting orders) against our engine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from latency import summarize  # type: ignore[import-not-found, unused-ignore]

import pyengine
from pyengine import workloads as wl
from pyengine.batch import bind_calls, to_fast_calls

from . import load
from .base import AMEND_PRICE, AMEND_QTY, Adapter, Call, Outcome, Unsupported, op_kinds, ops_from_commands

BoundCall = tuple[Callable[..., Any], tuple[Any, ...]]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def bind(eng: pyengine.Engine, calls: Sequence[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> list[BoundCall]:
    """Our fast per-call API (``pyengine.batch.to_fast_calls``) bound to ``eng`` as ``(fn, args)``."""
    return bind_calls(eng, calls)


def time_ours_call(bound: list[BoundCall]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for fn, args in bound:
        fn(*args)
    return time.perf_counter() - t0


def time_peer(calls: list[Call]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for fn, args in calls:
        fn(*args)
    return time.perf_counter() - t0


def latency_ours(eng: pyengine.Engine, bound: list[BoundCall]) -> tuple[list[int], Outcome]:
    """Per-call latency samples, and what the replay did (counted outside the timed interval)."""
    now = time.perf_counter_ns
    samples = [0] * len(bound)
    trades = volume = 0
    gc.collect()
    for i, (fn, args) in enumerate(bound):
        t0 = now()
        evs = fn(*args)
        t1 = now()
        samples[i] = t1 - t0
        for e in evs:
            if e.kind == "trade":
                trades += 1
                volume += e.qty
        del evs  # freed here: results kept alive would make the collector's passes ever longer
    return samples, Outcome(trades, volume, eng.live_orders)


def latency_peer(adapter: Adapter, calls: list[Call]) -> tuple[list[int], tuple[int, int]]:
    """Per-call latency samples of a peer, and the (trades, volume) its results tally."""
    now = time.perf_counter_ns
    tally = adapter.tally
    samples = [0] * len(calls)
    trades = volume = 0
    gc.collect()
    for i, (fn, args) in enumerate(calls):
        t0 = now()
        r = fn(*args)
        t1 = now()
        samples[i] = t1 - t0
        t, v = tally(r)
        trades += t
        volume += v
        del r
    return samples, (trades, volume)


class PeerError(Exception):
    """The peer raised while it replayed commands (its failure, not the benchmark's)."""


def as_peer(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, a call into the peer: what it raises becomes a :class:`PeerError`."""
    try:
        return fn(*args)
    except Exception as e:
        raise PeerError(f"{type(e).__name__}: {e}") from e


def replay(calls: list[Call]) -> None:
    for fn, args in calls:
        fn(*args)


def run(peer: str, workload: str, size: int, seed: int, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {"peer": peer, "workload": workload, "size": size, "seed": seed}
    try:
        return _run(out, peer, workload, size, seed, rounds)
    except PeerError as e:
        return out | {"status": "dnf", "reason": f"did not finish: {peer} raised {e} (seed {seed})"}


def _run(out: dict[str, Any], peer: str, workload: str, size: int, seed: int, rounds: int) -> dict[str, Any]:
    try:
        adapter: Adapter = load(peer)
    except Exception as e:  # a peer that does not import is reported, not fatal
        return out | {"status": "unavailable", "reason": f"cannot import: {type(e).__name__}: {e}"}
    out |= {"name": adapter.name, "version": adapter.version(), "kind": adapter.kind, "notes": list(adapter.notes)}

    w = wl.generate(workload, seed=seed, size=size)
    n = len(w.commands)
    out |= {"prefill": len(w.prefill), "commands": n}
    prefill_ops = ops_from_commands(w.prefill)
    kinds = op_kinds(ops_from_commands(w.commands)) | op_kinds(prefill_ops)
    try:
        out["emulated"] = adapter.plan(kinds)
    except Unsupported as e:
        return out | {"status": "skipped", "reason": str(e)}
    log(f"phase: {peer} {workload}: {len(w.prefill):,} prefill, {n:,} commands")

    def prefilled_peer() -> tuple[Any, Outcome]:
        book = adapter.new_book(w)
        as_peer(replay, adapter.compile(book, prefill_ops, w.prefill))
        return book, as_peer(adapter.outcome, book, (0, 0))

    # Memory per resting order after the prefill: a peer whose book lives on the Python
    # heap is measured with tracemalloc (what the prefill allocated and still holds: book and
    # adapter id map); a compiled one (nanobook's Rust heap) by the growth of resident memory,
    # measured first, while the process has freed little that the book could reuse. Ours:
    # Engine.memory_bytes (the engine's own accounting of its heap).
    memory: dict[str, Any] = {}
    if len(w.prefill) >= 10_000:
        log("phase: memory (peer prefill)")
        book = adapter.new_book(w)
        pre = adapter.compile(book, prefill_ops, w.prefill)
        gc.collect()
        if adapter.python_heap:
            tracemalloc.start()
            as_peer(replay, pre)
            gc.collect()
            grown: int | None = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            how = "tracemalloc"
        else:
            r0 = rss_bytes()
            as_peer(replay, pre)
            gc.collect()
            r1 = rss_bytes()
            grown = None if r0 is None or r1 is None else r1 - r0
            how = "RSS growth"
        resting = as_peer(adapter.outcome, book, (0, 0)).resting
        del pre, book
        gc.collect()
        if grown is not None and resting:
            memory = {"peer_resting": resting, "peer_bytes_per_order": round(grown / resting, 1), "peer_method": how}
    base = w.engine()
    if memory and base.live_orders:
        memory |= {
            "ours_resting": base.live_orders,
            "ours_engine_bytes_per_order": round(base.memory_bytes / base.live_orders, 1),
        }
    out["memory"] = memory or None
    calls = to_fast_calls(base, w.commands)

    # One untimed per-call replay: our open quantity after each amend (for peers whose
    # modify takes the new open quantity).
    leaves: dict[int, int] = {}
    if AMEND_PRICE in kinds or AMEND_QTY in kinds:
        for i, (fn, args) in enumerate(bind(base.clone(), calls)):
            evs = fn(*args)
            if getattr(getattr(fn, "func", fn), "__name__", "").startswith("amend"):
                leaves.update((i, e.leaves_qty) for e in evs if e.kind == "amended")
    ops = ops_from_commands(w.commands, leaves)

    def fresh_peer() -> tuple[Any, list[Call], Outcome]:
        log("phase: peer prefill")
        book, before = prefilled_peer()
        return book, adapter.compile(book, ops, w.commands), before

    # Our batch API writes into one preallocated event array, reused by every round
    # (sized by an untimed replay and written once, as a streaming caller's buffer is).
    events_out = np.empty(len(base.clone().submit_batch(w.commands)) + 1024, dtype=pyengine.EVENT_DTYPE)
    events_out.view(np.uint8)[:] = 0
    names = ("ours_call", "ours_batch", "peer")
    runs: list[dict[str, float]] = []
    for r in range(rounds):
        secs: dict[str, float] = {}
        for k in range(3):
            which = names[(k + r) % 3]
            if which == "ours_call":
                secs[which] = time_ours_call(bind(base.clone(), calls))
            elif which == "ours_batch":
                eng = base.clone()
                gc.collect()
                t0 = time.perf_counter()
                eng.submit_batch(w.commands, out=events_out)
                secs[which] = time.perf_counter() - t0
                del eng
            else:
                _book, pcalls, _ = fresh_peer()
                log(f"phase: round {r + 1}/{rounds} peer (timed)")
                secs[which] = as_peer(time_peer, pcalls)
                del _book, pcalls
            log(f"phase: round {r + 1}/{rounds} {which} {n / secs[which]:,.0f}/s")
        runs.append({k: n / s for k, s in secs.items()})

    del events_out
    log("phase: latency ours")
    ours_eng = base.clone()
    ours_samples, ours_outcome = latency_ours(ours_eng, bind(ours_eng, calls))
    del ours_eng
    log("phase: latency peer")
    book, pcalls, before = fresh_peer()
    peer_samples, tallied = as_peer(latency_peer, adapter, pcalls)
    after = as_peer(adapter.outcome, book, tallied)
    peer_outcome = Outcome(after.trades - before.trades, after.volume - before.volume, after.resting)
    del pcalls, book

    med = statistics.median
    out |= {
        "status": "ok",
        "rounds": [{k: round(v) for k, v in r.items()} for r in runs],
        "ours_call_ops": med(r["ours_call"] for r in runs),
        "ours_batch_ops": med(r["ours_batch"] for r in runs),
        "peer_ops": med(r["peer"] for r in runs),
        "ratio_call": med(r["ours_call"] / r["peer"] for r in runs),
        "ratio_batch": med(r["ours_batch"] / r["peer"] for r in runs),
        "latency": {"ours_call": summarize(ours_samples, curve=True), "peer": summarize(peer_samples, curve=True)},
        "outcome": {"ours": ours_outcome.as_dict(), "peer": peer_outcome.as_dict()},
    }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer", required=True)
    ap.add_argument("--workload", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    result = run(args.peer, args.workload, args.size, args.seed, args.rounds)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
