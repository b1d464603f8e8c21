"""Latency summaries shared by bench/run.py and the peer worker: HdrHistogram percentiles."""

from __future__ import annotations

import time
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np

#: (JSON key, percentile); the keys are those of the core JSON (engine/examples/latency.rs).
PCT_KEYS = (("p50_ns", 50.0), ("p90_ns", 90.0), ("p99_ns", 99.0), ("p99_9_ns", 99.9))
#: Percentiles of the latency curves in the plots (100 = max).
CURVE_PCTS = (0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0)

try:
    from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped, unused-ignore]

    HISTOGRAM = f"HdrHistogram (hdrhistogram {metadata.version('hdrhistogram')}, 3 significant digits)"
except ImportError:  # pragma: no cover - optional dependency
    HdrHistogram = None
    HISTOGRAM = "numpy.percentile (hdrhistogram not installed)"


def summarize(samples: Sequence[int], curve: bool = False) -> dict[str, Any]:
    """count, mean, p50, p90, p99, p99.9 and max of nanosecond samples (and the plot curve if asked)."""
    arr = np.asarray(samples, dtype=np.int64)
    out: dict[str, Any] = {"count": len(arr), "mean_ns": round(float(arr.mean()), 1) if len(arr) else 0.0}
    if not len(arr):
        return out | {key: 0 for key, _ in PCT_KEYS} | {"max_ns": 0}
    pcts = [q for _, q in PCT_KEYS] + (list(CURVE_PCTS) if curve else [])
    if HdrHistogram is not None:
        h = HdrHistogram(1, 3_600_000_000_000, 3)
        record = h.record_value
        for v in arr.tolist():
            record(max(v, 1))
        values = [int(h.get_max_value()) if q >= 100 else int(h.get_value_at_percentile(q)) for q in pcts]
        out["max_ns"] = int(h.get_max_value())
    else:
        values = [int(v) for v in np.percentile(arr, pcts, method="higher")]
        out["max_ns"] = int(arr.max())
    for (key, _), v in zip(PCT_KEYS, values, strict=False):
        out[key] = v
    if curve:
        out["curve"] = [[q, v] for q, v in zip(CURVE_PCTS, values[len(PCT_KEYS) :], strict=True)]
    return out


def timer_cost(n: int = 200_000) -> dict[str, Any]:
    """Cost of one ``time.perf_counter_ns()`` call (difference of back-to-back reads)."""
    now = time.perf_counter_ns
    samples = [0] * n
    for i in range(n):
        a = now()
        samples[i] = now() - a
    return summarize(samples)
