"""Markdown of the peer comparison and of the targets (bench/run.py's report)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from mdfmt import PCT_HEADER, fmt_rate, pct_cells, table  # type: ignore[import-not-found, unused-ignore]

#: Targets of the Python side (ratios, one run).
TARGET_CALL_NANOBOOK = 2.0
TARGET_CALL_CYTHON = 5.0
TARGET_BATCH_NANOBOOK = 10.0
TARGET_BATCH_CORE = 0.5
TARGET_CALL_REFERENCE = 50.0


def _ok(results: Iterable[dict[str, Any]], peer: str, native_only: bool) -> list[dict[str, Any]]:
    return [r for r in results if r["peer"] == peer and r["status"] == "ok" and not (native_only and r["emulated"])]


def check(r: dict[str, Any]) -> str:
    """Whether the peer did what our engine did: same trades, volume and resting orders."""
    ours, peer = r["outcome"]["ours"], r["outcome"]["peer"]
    if ours == peer:
        return "same trades, volume, book"
    diffs = [f"{k} {peer[k]:,} (ours {ours[k]:,})" for k in ("trades", "volume", "resting") if ours[k] != peer[k]]
    return "differs: " + ", ".join(diffs)


def status_note(r: dict[str, Any]) -> str:
    if r["status"] != "ok":
        return f"**{r['status']}**: {r['reason']}"
    return "emulated: " + "; ".join(r["emulated"]) if r["emulated"] else "native"


def _verdict(values: Sequence[float], goal: float) -> str:
    if not values:
        return "not measured"
    return "**met**" if min(values) >= goal else "**missed**"


def targets(peers: list[dict[str, Any]], python: list[dict[str, Any]], core: dict[str, Any] | None) -> list[list[str]]:
    """Rows: target, where it was measured, figures, verdict (met only if met on every workload)."""
    rows: list[list[str]] = []

    def per_workload(rs: list[dict[str, Any]], key: str) -> tuple[list[float], str]:
        vals = [r[key] for r in rs]
        return vals, ", ".join(f"{r['workload']} x{r[key]:.2f}" for r in rs) or "-"

    nb = _ok(peers, "nanobook", native_only=True)
    cy = _ok(peers, "cython-orderbook", native_only=True)
    ref = _ok(peers, "reference", native_only=False)
    for label, rs, key, goal in (
        (f"per-call API >= {TARGET_CALL_NANOBOOK:g}x nanobook", nb, "ratio_call", TARGET_CALL_NANOBOOK),
        (
            f"per-call API >= {TARGET_CALL_CYTHON:g}x cython-orderbook (its native workloads)",
            cy,
            "ratio_call",
            TARGET_CALL_CYTHON,
        ),
        (f"batch API >= {TARGET_BATCH_NANOBOOK:g}x nanobook per-call", nb, "ratio_batch", TARGET_BATCH_NANOBOOK),
        (f"API >= {TARGET_CALL_REFERENCE:g}x reference model, judged on the batch API", ref, "ratio_batch",
         TARGET_CALL_REFERENCE),
        (f"per-call API vs reference model (information: {TARGET_CALL_REFERENCE:g}x per call is out of reach "
         "in CPython, see bench/README.md)", ref, "ratio_call", None),
    ):
        vals, text = per_workload(rs, key)
        rows.append([label, text, _verdict(vals, goal) if goal is not None else "not judged"])
    core_by = {w["name"]: w for w in core["workloads"]} if core else {}
    pairs = [
        (p, core_by[p["name"]])
        for p in python
        if p["name"] in core_by and core_by[p["name"]]["commands"] == p["commands"]
    ]
    vals = [p["batch_ops"] / c["throughput_ops"] for p, c in pairs]
    text = ", ".join(f"{p['name']} x{v:.2f}" for (p, _), v in zip(pairs, vals, strict=True)) or "-"
    rows.append(
        [
            f"batch API within 2x of the core (batch / core >= {TARGET_BATCH_CORE:g})",
            text,
            _verdict(vals, TARGET_BATCH_CORE),
        ]
    )
    return rows


def render(peers: list[dict[str, Any]], versions: dict[str, str]) -> str:
    out: list[str] = []
    add = out.append
    add("## Peers, in the same run\n")
    add(
        "Each (peer, workload) runs in its own process (`bench/peers/worker.py`), under a time limit. A slower peer "
        "replays a smaller instance of the workload (same generator and seed, smaller `size`), and our APIs are "
        "measured on that same instance in the same process: every round times our per-call API, our batch API "
        "and the peer once each, in rotating order, each on a freshly prefilled book; a ratio is the median over "
        "rounds of ours / peer within the round, so the machine's drift hits both sides. The peer's timed loop is "
        "`for fn, args in calls: fn(*args)` over calls prepared before timing; where the peer's API needs glue "
        "(its own order ids or order objects, an emulated operation), that glue is timed as the peer's. "
        "*Check*: trades, traded volume and resting orders after the replay, peer against our engine.\n"
    )
    rows = []
    for r in peers:
        if r["status"] == "ok":
            rows.append(
                [
                    r["workload"],
                    r["peer"],
                    f"{r['commands']:,}",
                    fmt_rate(r["peer_ops"]),
                    fmt_rate(r["ours_call_ops"]),
                    fmt_rate(r["ours_batch_ops"]),
                    f"x{r['ratio_call']:.2f}",
                    f"x{r['ratio_batch']:.2f}",
                    check(r),
                    status_note(r),
                ]
            )
        else:
            rows.append([r["workload"], r["peer"], "-", "-", "-", "-", "-", "-", "-", status_note(r)])
    add(
        table(
            [
                "workload",
                "peer",
                "commands",
                "peer ops/s",
                "ours per-call",
                "ours batch",
                "per-call / peer",
                "batch / peer",
                "check",
                "operations",
            ],
            rows,
            "llrrrrrrll",
        )
        + "\n"
    )

    add("### Per-call latency, ours and the peers\n")
    add(
        "One more replay per API with `time.perf_counter_ns()` around every call (closed loop; the sample includes "
        "the adapter's glue for a peer). Ours from the largest instance of the workload. Percentiles from "
        "HdrHistogram.\n"
    )
    rows = []
    for name in dict.fromkeys(r["workload"] for r in peers):
        rs = [r for r in peers if r["workload"] == name and r["status"] == "ok"]
        if not rs:
            continue
        biggest = max(rs, key=lambda r: r["commands"])
        rows.append([name, f"**ours per-call** ({biggest['commands']:,})", *pct_cells(biggest["latency"]["ours_call"])])
        rows += [[name, f"{r['peer']} ({r['commands']:,})", *pct_cells(r["latency"]["peer"])] for r in rs]
    add(table(["workload", "API (calls)", *PCT_HEADER], rows, "llrrrrr") + "\n")

    mem = [r for r in peers if r["status"] == "ok" and r.get("memory")]
    if mem:
        add("### Memory per resting order, ours and the peers\n")
        add(
            "After the prefill of the workload (at least 10,000 orders): for a peer whose book lives on the Python "
            "heap, what the prefill allocated and still holds (`tracemalloc`: book and the adapter's id map); for "
            "nanobook (Rust heap), how much the worker's resident memory grew over the prefill. Ours: "
            "`Engine.memory_bytes / live_orders` (the engine's capacity, including slab pages not yet touched).\n"
        )
        rows = [
            [
                r["workload"],
                r["peer"],
                f"{r['memory']['peer_resting']:,}",
                f"{r['memory']['peer_bytes_per_order']:.0f} ({r['memory']['peer_method']})",
                f"{r['memory'].get('ours_engine_bytes_per_order', 0):.0f}",
            ]
            for r in mem
        ]
        add(table(["workload", "peer", "resting orders", "peer B/order", "ours B/order"], rows, "llrrr") + "\n")

    add("### Peers\n")
    notes: dict[str, dict[str, Any]] = {}
    for r in peers:
        if r.get("name"):
            notes.setdefault(r["peer"], r)
    rows = []
    for peer, version in versions.items():
        r = notes.get(peer, {})
        rows.append([peer, version, r.get("kind", ""), "; ".join(r.get("notes", []))])
    add(table(["peer", "version", "kind", "notes"], rows, "llll") + "\n")
    bad = [r for r in peers if r["status"] in ("dnf", "error", "unavailable")]
    if bad:
        add("Did not finish or failed (reproduce each alone with the command shown):\n")
        for r in bad:
            add(
                f"* {r['peer']} on {r['workload']} (size {r['size']:,}, seed {r['seed']}): {r['reason']}  \n"
                f"  `{r['repro']}`"
            )
        add("")
    skipped = [r for r in peers if r["status"] == "skipped"]
    if skipped:
        add("Skipped: " + "; ".join(f"{r['peer']} on {r['workload']}: {r['reason']}" for r in skipped) + "\n")
    return "\n".join(out)
