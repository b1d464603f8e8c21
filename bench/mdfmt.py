"""Number formatting and Markdown tables of the benchmark report."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from latency import PCT_KEYS  # type: ignore[import-not-found, unused-ignore]

PCT_HEADER = ["p50", "p90", "p99", "p99.9", "max"]


def fmt_rate(x: float | None) -> str:
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    return f"{x / 1e3:.1f}K"


def fmt_ns(ns: float | None) -> str:
    if ns is None:
        return "-"
    if ns >= 10_000_000:
        return f"{ns / 1e6:.1f} ms"
    if ns >= 1_000_000:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 10_000:
        return f"{ns / 1e3:.0f} µs"
    if ns >= 1_000:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def fmt_ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str = "") -> str:
    """A Markdown table; ``align`` has one l/r per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def pct_cells(p: dict[str, Any]) -> list[str]:
    return [fmt_ns(p[k]) for k, _ in PCT_KEYS] + [fmt_ns(p["max_ns"])]
