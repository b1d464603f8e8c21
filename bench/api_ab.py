"""Our Python APIs against each other, interleaved in one process (A/B on a noisy machine).

    PYTHONPATH=. python bench/api_ab.py ec_single 1000000 5

One line per run: throughput (median over rounds, the order of the APIs reversed every
other round) of the keyword per-call API (``submit(symbol, ..., ts=...)``, what reports
before 2026-11-26 called "per-call"), the fast positional API (``submit_limit``,
``cancel_order``, ...), ``submit_batch(commands)`` and ``submit_batch(commands, out=buf)``
into a reused array; then per-call p50/p99 latency of both per-call APIs (one replay each,
``perf_counter_ns`` around every call). Every run starts from ``Engine.clone()`` of the
prefilled engine; translation, binding and cloning are not timed.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import numpy as np

import pyengine
from pyengine import workloads as wl
from pyengine.batch import bind_calls, to_calls, to_fast_calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload")
    ap.add_argument("size", type=int)
    ap.add_argument("rounds", type=int, nargs="?", default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    w = wl.generate(a.workload, seed=a.seed, size=a.size)
    base = w.engine()
    n = len(w.commands)
    keyword, fast = to_calls(base, w.commands), to_fast_calls(base, w.commands)
    buf = np.empty(len(base.clone().submit_batch(w.commands)) + 1024, dtype=pyengine.EVENT_DTYPE)
    buf.view(np.uint8)[:] = 0

    def t_keyword() -> float:
        eng = base.clone()
        bound = [(getattr(eng, m), args, kw) for m, args, kw in keyword]
        gc.collect()
        t0 = time.perf_counter()
        for fn, args, kw in bound:
            fn(*args, **kw)
        return n / (time.perf_counter() - t0)

    def t_fast() -> float:
        bound = bind_calls(base.clone(), fast)
        gc.collect()
        t0 = time.perf_counter()
        for fn, args in bound:
            fn(*args)
        return n / (time.perf_counter() - t0)

    def t_batch() -> float:
        eng = base.clone()
        gc.collect()
        t0 = time.perf_counter()
        eng.submit_batch(w.commands)
        return n / (time.perf_counter() - t0)

    def t_batch_out() -> float:
        eng = base.clone()
        gc.collect()
        t0 = time.perf_counter()
        eng.submit_batch(w.commands, out=buf)
        return n / (time.perf_counter() - t0)

    apis: dict[str, Callable[[], float]] = {
        "keyword": t_keyword,
        "fast": t_fast,
        "batch": t_batch,
        "batch_out": t_batch_out,
    }
    runs: dict[str, list[float]] = {k: [] for k in apis}
    for r in range(a.rounds):
        for k in list(apis) if r % 2 == 0 else list(apis)[::-1]:
            runs[k].append(apis[k]())
    med = {k: statistics.median(v) for k, v in runs.items()}

    def latency(use_keyword: bool) -> tuple[int, int]:
        eng = base.clone()
        now = time.perf_counter_ns
        samples: list[int] = []
        if use_keyword:
            for fn, args, kw in [(getattr(eng, m), args, kw) for m, args, kw in keyword]:
                t0 = now()
                fn(*args, **kw)
                samples.append(now() - t0)
        else:
            for fn, args in bind_calls(eng, fast):
                t0 = now()
                fn(*args)
                samples.append(now() - t0)
        return int(np.percentile(samples, 50)), int(np.percentile(samples, 99))

    rates = ", ".join(f"{k} {v / 1e6:.2f}M/s" for k, v in med.items())
    print(
        f"{a.workload} size={a.size} commands={n}: {rates} | fast/keyword x{med['fast'] / med['keyword']:.2f}, "
        f"batch_out/batch x{med['batch_out'] / med['batch']:.2f} | p50/p99 ns keyword {latency(True)}, "
        f"fast {latency(False)}"
    )


if __name__ == "__main__":
    main()
