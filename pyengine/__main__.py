"""`python -m pyengine`: run a workload through the engine and report.

    python -m pyengine run [--workload NAME] [--size N] [--seed S] [--api batch|call]
    python -m pyengine demo

The order-entry gateway (`python -m pyengine.gateway`) is the production main job;
this command exercises the matching core alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from pyengine import Engine
from pyengine import workloads as wl
from pyengine.batch import event_dicts, to_calls


def _run(args: argparse.Namespace) -> int:
    work = wl.generate(args.workload, seed=args.seed, size=args.size)
    eng = work.engine()
    print(
        f"workload {work.name}: seed {args.seed}, {len(work.prefill):,} prefill, "
        f"{len(work.commands):,} commands, {len(work.instruments)} instrument(s)"
    )
    if args.api == "batch":
        start = time.perf_counter()
        events = eng.submit_batch(work.commands)
        elapsed = time.perf_counter() - start
        kinds = Counter(e["kind"] for e in event_dicts(eng, events[: min(len(events), 200_000)]))
        n_events = len(events)
    else:
        calls = [(getattr(eng, m), a, k) for m, a, k in to_calls(eng, work.commands)]
        start = time.perf_counter()
        n_events = 0
        kinds = Counter()
        for fn, a, k in calls:
            evs = fn(*a, **k)
            n_events += len(evs)
        elapsed = time.perf_counter() - start
    rate = len(work.commands) / elapsed if elapsed > 0 else float("inf")
    print(f"api {args.api}: {rate:,.0f} commands/s, {n_events:,} events in {elapsed:.3f} s")
    if kinds:
        print("event kinds (first 200k): " + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()))
    symbol = work.instruments[0]["symbol"]
    bids, asks = eng.depth(symbol, levels=5)
    print(f"{symbol} depth: bids {bids}  asks {asks}")
    print(f"live orders {eng.live_orders:,}, last seq {eng.seq:,}, state hash {eng.state_hash():016x}")
    eng.check_invariants()
    print("invariants: ok")
    return 0


def _demo(_: argparse.Namespace) -> int:
    eng = Engine()
    eng.add_instrument("ACME", tick_size=1, lot_size=1)
    steps = [
        ("submit", dict(symbol="ACME", order_id=1, account="alice", side="buy", qty=10, price=100)),
        ("submit", dict(symbol="ACME", order_id=2, account="bob", side="sell", qty=4, type="market")),
        ("submit", dict(symbol="ACME", order_id=3, account="carol", side="sell", qty=50, price=105, display_qty=10)),
        (
            "submit",
            dict(
                symbol="ACME",
                order_id=4,
                account="dave",
                side="buy",
                qty=5,
                type="stop_limit",
                stop_price=104,
                price=106,
            ),
        ),
        ("amend", dict(symbol="ACME", order_id=1, qty=6)),
        ("submit", dict(symbol="ACME", order_id=5, account="erin", side="buy", qty=12, price=105)),
    ]
    for method, kwargs in steps:
        print(f"> {method} {kwargs}")
        for ev in getattr(eng, method)(**kwargs):
            print(f"    {ev!r}")
    print("depth:", eng.depth("ACME"))
    eng.check_invariants()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyengine", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="replay a seeded workload and report throughput and state")
    run.add_argument("--workload", default="mixed_70_20_10", choices=wl.NAMES)
    run.add_argument("--size", type=int, default=1_000_000, help="measured commands (default 1,000,000)")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--api", choices=("batch", "call"), default="batch")
    sub.add_parser("demo", help="a scripted session printing every event")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    if args.size <= 0:
        parser.error("--size must be positive")
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
