"""PNG plots of the benchmark report (matplotlib, Agg backend): latency curves and throughput bars."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

#: Colours per series, so every plot names a peer the same way.
COLOURS = {
    "core": "#444444",
    "ours batch": "#1f77b4",
    "ours per-call": "#2ca02c",
    "nanobook": "#d62728",
    "cython-orderbook": "#ff7f0e",
    "pyorderbook": "#9467bd",
    "akhil4n-orderbook": "#8c564b",
    "reference": "#7f7f7f",
}


def _pyplot() -> Any:
    import matplotlib  # type: ignore[import-not-found, unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

    return plt


def _nines(pct: float) -> float:
    """x position of a percentile: 0 at p0, 1 at p90, 2 at p99, 3 at p99.9 ..."""
    return -math.log10(max(1.0 - pct / 100.0, 1e-6))


def latency_curves(peers: list[dict[str, Any]], core: dict[str, Any] | None, title: str, path: Path) -> None:
    """One panel per workload: per-call latency percentiles of ours and each peer (log scale), core points."""
    plt = _pyplot()
    workloads = list(dict.fromkeys(r["workload"] for r in peers if r["status"] == "ok"))
    if not workloads:
        raise ValueError("no peer result to plot")
    core_by = {w["name"]: w for w in core["workloads"]} if core else {}
    cols = min(len(workloads), 4)
    rows = -(-len(workloads) // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.9 * rows), squeeze=False, sharey=True)
    axes = [ax for row in grid for ax in row]
    for ax in axes[len(workloads) :]:
        ax.set_visible(False)
    ticks = [50.0, 90.0, 99.0, 99.9, 99.99]
    for ax, name in zip(axes, workloads, strict=False):
        rs = [r for r in peers if r["workload"] == name and r["status"] == "ok"]
        biggest = max(rs, key=lambda r: r["commands"])  # our per-call curve from the largest instance
        series = [("ours per-call", biggest["latency"]["ours_call"]["curve"])]
        series += [(r["peer"], r["latency"]["peer"]["curve"]) for r in rs]
        top = _nines(99.99) + 0.6
        for label, curve in series:
            pts = [(top if q >= 100 else _nines(q), max(v, 1)) for q, v in curve if q >= 50]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, label=label, color=COLOURS.get(label))
        c = core_by.get(name)
        if c:
            lat = c["latency"]
            pts = [
                (_nines(50), lat["p50_ns"]),
                (_nines(90), lat["p90_ns"]),
                (_nines(99), lat["p99_ns"]),
                (_nines(99.9), lat["p99_9_ns"]),
                (top, lat["max_ns"]),
            ]
            ax.plot(
                [p[0] for p in pts],
                [max(p[1], 1) for p in pts],
                marker="s",
                ms=3,
                ls="--",
                label="core (Rust)",
                color=COLOURS["core"],
            )
        ax.set_xticks([_nines(q) for q in ticks] + [top], [f"p{q:g}" for q in ticks] + ["max"])
        ax.set_yscale("log")
        ax.set_title(name)
        ax.grid(True, which="both", alpha=0.3)
    for row in grid:
        row[0].set_ylabel("latency per call (ns, log)")
    handles: dict[str, Any] = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    axes[0].legend(list(handles.values()), list(handles), fontsize=7, loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def throughput_bars(
    peers: list[dict[str, Any]],
    core: dict[str, Any] | None,
    python: list[dict[str, Any]],
    title: str,
    path: Path,
) -> None:
    """Grouped bars per workload: core, our batch and per-call APIs, each peer (ops/s, log scale).

    Core and our APIs come from the same-size runs of the report's core and Python sections
    where the workload has one, else from the largest peer instance; peers at their own sizes.
    """
    plt = _pyplot()
    workloads = list(dict.fromkeys(r["workload"] for r in peers))
    core_by = {w["name"]: w for w in core["workloads"]} if core else {}
    py_by = {w["name"]: w for w in python}
    peer_names = list(dict.fromkeys(r["peer"] for r in peers))
    labels = ["core", "ours batch", "ours per-call", *peer_names]
    fig, ax = plt.subplots(figsize=(max(7.0, 2.2 * len(workloads)), 4.8))
    width = 0.8 / len(labels)
    for j, label in enumerate(labels):
        xs, ys = [], []
        for i, name in enumerate(workloads):
            rs = [r for r in peers if r["workload"] == name and r["status"] == "ok"]
            same_size = name in py_by and name in core_by and core_by[name]["commands"] == py_by[name]["commands"]
            if label == "core":
                v = core_by[name]["throughput_ops"] if same_size else None
            elif label.startswith("ours") and name in py_by:
                v = py_by[name]["batch_ops" if label == "ours batch" else "per_call_ops"]
            elif label.startswith("ours"):
                key = "ours_batch_ops" if label == "ours batch" else "ours_call_ops"
                v = max(rs, key=lambda r: r["commands"])[key] if rs else None
            else:
                v = next((r["peer_ops"] for r in rs if r["peer"] == label), None)
            x = i - 0.4 + (j + 0.5) * width
            if v:
                xs.append(x)
                ys.append(v)
            elif any(r["peer"] == label and r["workload"] == name for r in peers):
                status = next(r["status"] for r in peers if r["peer"] == label and r["workload"] == name)
                ax.text(
                    x,
                    0.02,
                    status,
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color=COLOURS.get(label),
                    transform=ax.get_xaxis_transform(),
                )
        ax.bar(xs, ys, width, label=label, color=COLOURS.get(label))
    ax.set_xticks(range(len(workloads)), workloads)
    ax.set_yscale("log")
    ax.set_ylabel("commands per second (log)")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
