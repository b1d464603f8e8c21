#!/usr/bin/env python3
"""One command, one dated benchmark report: ``python3 bench/run.py [--quick]``.

Steps (a progress bar goes to stderr, the finished report to stdout):

1. core: builds and runs the Rust latency program
   (``cargo run --release -p pyengine-core --example latency -- [--quick] --json TMP``):
   core throughput, closed-loop latency percentiles, open-loop fixed-rate latency, memory;
2. Python API: per-call API and batch API throughput (commands/s, median of 3 runs,
   each on a fresh clone of the prefilled engine) on the same workloads and sizes as
   the core run, and per-call latency percentiles (``time.perf_counter_ns`` around
   each call; HdrHistogram when the ``hdrhistogram`` package is installed, else numpy);
3. memory per resting order, ``Engine.memory_bytes / Engine.live_orders``, after the
   prefill of cancel_only and deep_book (1M orders quick, 10M full);
4. peers: every peer of ``bench/peers`` against our per-call and batch APIs, one worker
   process per (peer, workload) under a time limit (``peer_runs.py``), ratios from
   interleaved rounds, latency percentiles, memory per resting order;
5. writes ``bench/results/<UTC date>-<quick|full>.md``, the same data as ``.json`` and two
   PNG plots (``plots.py``): per-call latency percentile curves and throughput bars.

Exits 1 if the core program or the benchmark's own code in a worker failed (a peer that
hangs or raises is reported as "did not finish", not a failure). See bench/README.md
for the workloads, the peers and the method.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import peer_report
import plots
from latency import HISTOGRAM, summarize, timer_cost
from mdfmt import PCT_HEADER, fmt_ns, fmt_rate, fmt_ratio, pct_cells, table
from peer_runs import PEERS, plan, run_all
from progress import Progress

import pyengine
from pyengine import workloads as wl
from pyengine.batch import bind_calls, to_calls, to_fast_calls

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

#: workload -> (quick size, full size); the same as SIZES in engine/examples/latency.rs,
#: so that the batch/core ratio compares the very same commands.
SIZES: dict[str, tuple[int, int]] = {
    "ec_single": (300_000, 3_000_000),
    "liquibook_insert": (200_000, 1_000_000),
    "mixed_70_20_10": (200_000, 1_000_000),
    "aggressive_walk": (100_000, 100_000),
    "cancel_only": (200_000, 1_000_000),
    "deep_book": (1_000_000, 10_000_000),
    "multi_symbol": (100_000, 1_000_000),
}
#: Workloads of the Python measurements in --quick mode (all of SIZES in full mode).
QUICK_WORKLOADS = ("mixed_70_20_10", "ec_single")
#: Resting orders for the memory-per-order measurement: (quick, full).
MEMORY_WORKLOADS = ("cancel_only", "deep_book")
MEMORY_SIZE = (1_000_000, 10_000_000)
#: Generous peak process memory per resting order while generating and prefilling
#: (command arrays + engine + one growth step); measured ~340 B/order for deep_book at 10M.
PEAK_BYTES_PER_ORDER = 450
RUNS = 3

_T0 = time.perf_counter()
#: The progress bar of the run (steps: core, each Python workload, memory, each peer worker, plots).
PROGRESS = Progress(1)


def log(msg: str) -> None:
    PROGRESS.log(msg)


# ---- the core (Rust) run ---------------------------------------------------------------


def run_core(quick: bool, seed: int) -> tuple[dict[str, Any] | None, str]:
    """Builds and runs the Rust latency example; returns (its JSON, error message or "")."""
    with tempfile.TemporaryDirectory(prefix="pyengine-bench-") as tmp:
        path = Path(tmp) / "core.json"
        cmd = ["cargo", "run", "--release", "-p", "pyengine-core", "--example", "latency", "--"]
        cmd += ["--quick"] if quick else []
        cmd += ["--seed", str(seed), "--json", str(path)]
        log("core: " + " ".join(cmd))
        try:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        except OSError as e:
            return None, f"cannot run cargo: {e}"
        assert proc.stdout is not None
        for line in proc.stdout:  # stream cargo's and the program's output as progress
            PROGRESS.log("    " + line.rstrip())
        rc = proc.wait()
        if rc != 0:
            return None, f"`{' '.join(cmd)}` exited with status {rc}"
        try:
            return json.loads(path.read_text()), ""
        except (OSError, ValueError) as e:
            return None, f"cannot read the core JSON: {e}"


# ---- the Python API --------------------------------------------------------------------

Call = tuple[str, tuple[Any, ...], dict[str, Any]]
BoundCall = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def bind(eng: pyengine.Engine, calls: Iterable[Call]) -> list[BoundCall]:
    """``[(eng.submit, args, kwargs), ...]``: the keyword per-call API calls bound to ``eng``."""
    methods = {name: getattr(eng, name) for name in ("submit", "cancel", "amend", "mass_cancel")}
    return [(methods[m], a, k) for m, a, k in calls]


def batch_buffer(base: pyengine.Engine, commands: Any) -> np.ndarray[Any, np.dtype[np.void]]:
    """The event array the batch runs write into: sized by one untimed replay, written once."""
    n = len(base.clone().submit_batch(commands))
    out = np.empty(n + 1024, dtype=pyengine.EVENT_DTYPE)
    out.view(np.uint8)[:] = 0  # touch every page now, as a reused buffer would be
    return out


def time_batch(base: pyengine.Engine, commands: Any, out: Any) -> tuple[float, int]:
    """One batch replay on a clone of ``base``, events into ``out``: (seconds, events)."""
    eng = base.clone()
    gc.collect()
    t0 = time.perf_counter()
    events = eng.submit_batch(commands, out=out)
    secs = time.perf_counter() - t0
    return secs, len(events)


def time_per_call(base: pyengine.Engine, calls: list[Call]) -> float:
    """One fast per-call replay on a clone of ``base``; only the loop is timed. Returns seconds."""
    bound = bind_calls(base.clone(), calls)
    gc.collect()
    t0 = time.perf_counter()
    for fn, args in bound:
        fn(*args)
    return time.perf_counter() - t0


def time_keyword_calls(base: pyengine.Engine, calls: list[Call]) -> float:
    """One replay through the keyword per-call API (``submit(...)``, for information). Returns seconds."""
    bound = bind(base.clone(), calls)
    gc.collect()
    t0 = time.perf_counter()
    for fn, args, kwargs in bound:
        fn(*args, **kwargs)
    return time.perf_counter() - t0


def per_call_latency(base: pyengine.Engine, calls: list[Call]) -> tuple[list[int], int]:
    """One fast per-call replay with ``perf_counter_ns`` around each call: (samples ns, events)."""
    bound = bind_calls(base.clone(), calls)
    now = time.perf_counter_ns
    samples = [0] * len(bound)
    n_events = 0
    gc.collect()
    for i, (fn, args) in enumerate(bound):
        t0 = now()
        evs = fn(*args)
        t1 = now()
        samples[i] = t1 - t0
        n_events += len(evs)
        del evs  # freed here, outside the next call's interval
    return samples, n_events


def measure_workload(name: str, size: int, seed: int) -> dict[str, Any]:
    """Throughput of both APIs, per-call latency and memory of one workload."""
    t = time.perf_counter()
    w = wl.generate(name, seed=seed, size=size)
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    base = w.engine()
    prefill_s = time.perf_counter() - t
    n = len(w.commands)
    t = time.perf_counter()
    calls = to_fast_calls(base, w.commands)
    to_calls_s = time.perf_counter() - t
    keyword_calls = to_calls(base, w.commands)
    out = batch_buffer(base, w.commands)
    log(
        f"python: {name} size {size:,}: {len(w.prefill):,} prefill, {n:,} commands "
        f"(generate {gen_s:.2f} s, prefill {prefill_s:.2f} s, to_calls {to_calls_s:.2f} s)"
    )
    batch_runs: list[float] = []
    call_runs: list[float] = []
    keyword_runs: list[float] = []
    batch_events = 0
    for run in range(RUNS):  # interleaved, so that drift affects the APIs alike
        secs, batch_events = time_batch(base, w.commands, out)
        batch_runs.append(n / secs)
        call_runs.append(n / time_per_call(base, calls))
        keyword_runs.append(n / time_keyword_calls(base, keyword_calls))
        log(
            f"python: {name} run {run + 1}/{RUNS}: batch {fmt_rate(batch_runs[-1])}/s, "
            f"per-call {fmt_rate(call_runs[-1])}/s, keyword per-call {fmt_rate(keyword_runs[-1])}/s"
        )
    del out, keyword_calls
    samples, call_events = per_call_latency(base, calls)
    latency = summarize(samples)
    log(
        f"python: {name} per-call latency p50 {fmt_ns(latency['p50_ns'])}, p99 {fmt_ns(latency['p99_ns'])}, "
        f"max {fmt_ns(latency['max_ns'])}"
    )
    if call_events != batch_events:
        log(f"WARNING: {name}: per-call API gave {call_events} events, batch API {batch_events}")
    return {
        "name": name,
        "size": size,
        "prefill": len(w.prefill),
        "commands": n,
        "generate_s": round(gen_s, 3),
        "prefill_s": round(prefill_s, 3),
        "to_calls_s": round(to_calls_s, 3),
        "events_batch": batch_events,
        "events_per_call": call_events,
        "batch_ops": float(np.median(batch_runs)),
        "batch_runs_ops": [round(x) for x in batch_runs],
        "per_call_ops": float(np.median(call_runs)),
        "per_call_runs_ops": [round(x) for x in call_runs],
        "keyword_call_ops": float(np.median(keyword_runs)),
        "keyword_call_runs_ops": [round(x) for x in keyword_runs],
        "per_call_latency": latency,
        "live_orders_after_prefill": base.live_orders,
        "memory_bytes_after_prefill": base.memory_bytes,
    }


def mem_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def measure_memory(name: str, size: int, seed: int) -> dict[str, Any]:
    """``memory_bytes / live_orders`` after the prefill of workload ``name`` at ``size``."""
    note = ""
    avail = mem_available()
    wanted = size
    while avail is not None and size > 100_000 and size * PEAK_BYTES_PER_ORDER > avail * 0.7:
        size //= 10
    if size != wanted and avail is not None:
        note = f"scaled down from {wanted:,}: {avail / 2**30:.1f} GiB available"
        log(f"memory: {name}: {note}")
    t = time.perf_counter()
    w = wl.generate(name, seed=seed, size=size)
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    eng = w.engine()
    prefill_s = time.perf_counter() - t
    live, heap = eng.live_orders, eng.memory_bytes
    del eng, w
    gc.collect()
    log(
        f"memory: {name} size {size:,}: {live:,} live orders, {heap / 2**20:.1f} MiB, "
        f"{heap / max(live, 1):.1f} B/order (generate {gen_s:.2f} s, prefill {prefill_s:.2f} s)"
    )
    return {
        "name": name,
        "size": size,
        "live_orders": live,
        "memory_bytes": heap,
        "bytes_per_order": round(heap / live, 1) if live else None,
        "generate_s": round(gen_s, 3),
        "prefill_s": round(prefill_s, 3),
        "note": note,
    }


# ---- environment -----------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _cmd(*args: str) -> str:
    try:
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def machine_info() -> dict[str, Any]:
    cpuinfo = _read("/proc/cpuinfo")
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")),
        platform.processor() or platform.machine(),
    )
    cores: set[tuple[str, str]] = set()
    phys = core = ""
    for ln in [*cpuinfo.splitlines(), ""]:
        if ln.startswith("physical id"):
            phys = ln.split(":", 1)[1].strip()
        elif ln.startswith("core id"):
            core = ln.split(":", 1)[1].strip()
        elif not ln.strip() and core:
            cores.add((phys, core))
            phys = core = ""
    mem_total = next(
        (int(ln.split()[1]) * 1024 for ln in _read("/proc/meminfo").splitlines() if ln.startswith("MemTotal:")), None
    )
    commit = _cmd("git", "rev-parse", "HEAD")
    dirty = bool(_cmd("git", "status", "--porcelain", "--untracked-files=no"))
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    return {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "physical_cores": len(cores) or None,
        "usable_cpus": affinity,
        "memory_bytes": mem_total,
        "os": f"{platform.system()} {platform.release()}",
        "clocksource": _read("/sys/devices/system/clocksource/clocksource0/current_clocksource") or "unknown",
        "governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor") or "n/a",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "rustc": _cmd("rustc", "--version") or "not found",
        "pyengine": pyengine.__version__,
        "numpy": np.__version__,
        "histogram": HISTOGRAM,
        "git_commit": (commit + (" (tracked files modified)" if dirty else "")) if commit else "unknown",
    }


# ---- formatting ------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    core = report["core"]
    core_by_name = {w["name"]: w for w in core["workloads"]} if core else {}
    py = report["python"]
    m = report["machine"]
    out: list[str] = []
    add = out.append
    add(f"# pyengine benchmark report: {report['date_utc']} UTC ({report['mode']})\n")
    add(
        f"Seed {report['seed']}. Generated by `python3 bench/run.py{' --quick' if report['mode'] == 'quick' else ''}` "
        f"in {report['elapsed_s']:.0f} s on {m['cpu']} ({m['logical_cpus']} logical CPUs); "
        "workloads and method: [bench/README.md](../README.md).\n"
    )
    load1 = report["load_average_at_start"].split()[0]
    if load1 != "?" and float(load1) > 0.5:
        add(
            f"**Note: the load average was {report['load_average_at_start']} when the run started: other work "
            "was running on this machine and perturbs the figures.**\n"
        )

    add("## Targets\n")
    add(
        "Ratios measured in this run (per-workload figures; a target is met only if met on every workload it was "
        "measured on; workloads where the peer needed an emulated operation do not count for the nanobook and "
        "cython-orderbook targets). The peer figures are in *Peers, in the same run* below.\n"
    )
    add(
        table(
            ["target", "measured (ours / peer)", "verdict"],
            peer_report.targets(report["peers"], py["workloads"], core),
            "lll",
        )
        + "\n"
    )

    add("## Summary\n")
    rows = []
    for r in py["workloads"]:
        c = core_by_name.get(r["name"])
        rows.append(
            [
                r["name"],
                f"{r['commands']:,}",
                fmt_rate(c["throughput_ops"]) if c else "-",
                fmt_rate(r["batch_ops"]),
                fmt_rate(r["per_call_ops"]),
                fmt_ns(c["latency"]["p50_ns"]) if c else "-",
                fmt_ns(c["latency"]["p99_ns"]) if c else "-",
                fmt_ns(r["per_call_latency"]["p50_ns"]),
                fmt_ns(r["per_call_latency"]["p99_ns"]),
            ]
        )
    add(
        table(
            [
                "workload",
                "commands",
                "core ops/s",
                "batch ops/s",
                "per-call ops/s",
                "core p50",
                "core p99",
                "per-call p50",
                "per-call p99",
            ],
            rows,
        )
        + "\n"
    )

    add("## Core (Rust) throughput and closed-loop latency\n")
    if core:
        tc = core["timer_cost"]
        quick = " -- --quick" if core["mode"] == "quick" else ""
        add(
            f"`cargo run --release -p pyengine-core --example latency{quick}`: one thread, one engine; "
            "ops/s = commands / elapsed for the whole replay (median of "
            f"{len(core['workloads'][0]['throughput_runs_ops'])} run(s)). Latency per command, back to back; "
            f"each sample includes one `Instant::now()` (p50 {tc['p50_ns']} ns, not subtracted).\n"
        )
        rows = [
            [
                w["name"],
                f"{w['size']:,}",
                f"{w['prefill']:,}",
                f"{w['commands']:,}",
                fmt_rate(w["throughput_ops"]),
                *pct_cells(w["latency"]),
                f"{w['latency']['mean_ns']:.0f} ns",
            ]
            for w in core["workloads"]
        ]
        add(table(["workload", "size", "prefill", "commands", "ops/s", *PCT_HEADER, "mean"], rows) + "\n")
    else:
        add(f"Not available: {report['core_error']}\n")

    add("## Python API throughput\n")
    add(
        f"Commands/s, median of {RUNS} runs, each on a fresh `Engine.clone()` of the prefilled engine "
        "(clone, prefill and the per-call translation are not timed). *Per-call*: the fast positional API, "
        "one `Engine.submit_limit/submit_market/cancel_order/amend_price/amend_qty` call per command (integer "
        "ids and codes) from a precomputed list of bound methods and argument tuples "
        "(`pyengine.batch.to_fast_calls`), timed as `for fn, args in calls: fn(*args)`, the peers' loop; "
        "*keyword per-call* (information): the keyword API `Engine.submit/cancel/amend(symbol, ..., ts=...)` "
        "(`pyengine.batch.to_calls`), `fn(*args, **kwargs)`; *batch*: one `Engine.submit_batch(commands, "
        "out=events)` call writing into a preallocated event array reused from run to run (allocated and "
        "written once before timing, as the command array is). The core figure is the Rust run above on the "
        "same workload, seed and size.\n"
    )
    rows = []
    for r in py["workloads"]:
        c = core_by_name.get(r["name"])
        core_ops = c["throughput_ops"] if c and c["commands"] == r["commands"] else None
        rows.append(
            [
                r["name"],
                f"{r['commands']:,}",
                fmt_rate(r["per_call_ops"]),
                " / ".join(fmt_rate(x) for x in r["per_call_runs_ops"]),
                fmt_rate(r.get("keyword_call_ops")),
                fmt_rate(r["batch_ops"]),
                " / ".join(fmt_rate(x) for x in r["batch_runs_ops"]),
                fmt_ratio(r["batch_ops"], r["per_call_ops"]),
                fmt_rate(core_ops),
                fmt_ratio(r["batch_ops"], core_ops),
                fmt_ratio(r["per_call_ops"], core_ops),
            ]
        )
    add(
        table(
            [
                "workload",
                "commands",
                "per-call ops/s",
                "per-call runs",
                "keyword per-call ops/s",
                "batch ops/s",
                "batch runs",
                "batch / per-call",
                "core ops/s",
                "batch / core",
                "per-call / core",
            ],
            rows,
        )
        + "\n"
    )
    mismatch = [r["name"] for r in py["workloads"] if r["events_batch"] != r["events_per_call"]]
    add(
        "Both APIs gave the same number of events on every workload.\n"
        if not mismatch
        else f"**Event counts of the two APIs differ on: {', '.join(mismatch)}.**\n"
    )

    add("## Python per-call latency\n")
    tc = py["timer_cost"]
    add(
        f"One replay; `time.perf_counter_ns()` read before and after each call, so a sample is one API call "
        f"(argument passing, the engine, building the returned event list) plus one clock read "
        f"(p50 {fmt_ns(tc['p50_ns'])}, p99 {fmt_ns(tc['p99_ns'])}; not subtracted). Closed loop, back to back. "
        f"Percentiles: {py['histogram']}.\n"
    )
    rows = [
        [
            r["name"],
            f"{r['per_call_latency']['count']:,}",
            *pct_cells(r["per_call_latency"]),
            fmt_ns(r["per_call_latency"]["mean_ns"]),
        ]
        for r in py["workloads"]
    ]
    add(table(["workload", "calls", *PCT_HEADER, "mean"], rows) + "\n")
    if report["peers"]:
        add(peer_report.render(report["peers"], report["peer_versions"]))
        plots_ = report.get("plots") or {}
        if plots_:
            add(
                "The per-call latency curves (ours, each peer, and the core's closed-loop percentiles) and the "
                "throughput of every API (the core and our APIs from the same-size runs above where the workload has "
                "one, else from the largest peer instance; each peer at its own size, as in the table):\n"
            )
            add("\n".join(f"![{k}]({v})" for k, v in plots_.items()) + "\n")
        else:
            add(f"Plots: {report.get('plot_note', 'skipped')}.\n")

    add("## Memory per resting order\n")
    add(
        "`Engine.memory_bytes / Engine.live_orders` after the prefill through `submit_batch`, measured from Python "
        "(capacity as the engine grew it: order slab, free list, price ladders, id index).\n"
    )
    rows = [
        [
            r["name"],
            f"{r['size']:,}",
            f"{r['live_orders']:,}",
            f"{r['memory_bytes'] / 2**20:,.1f} MiB",
            f"{r['bytes_per_order']:.1f}",
            f"{r['prefill_s']:.2f} s",
            r["note"] or "",
        ]
        for r in report["memory"]
    ]
    add(
        table(["workload", "size", "live orders", "memory", "bytes/order", "prefill time", "note"], rows, "lrrrrrl")
        + "\n"
    )
    if core:
        add(
            f"Core run (`Engine::heap_bytes()`; *reserved*: slab pre-sized before the prefill); "
            f"`ORDER_RECORD_BYTES` = {core['order_record_bytes']}:\n"
        )
        rows = [
            [
                x["name"],
                f"{x['live_orders']:,}",
                f"{x['bytes_per_order']:.1f}",
                "-" if x["bytes_per_order_reserved"] is None else f"{x['bytes_per_order_reserved']:.1f}",
            ]
            for x in core["memory"]
        ]
        add(table(["workload", "live orders", "bytes/order", "reserved bytes/order"], rows) + "\n")

    add("## Open loop, fixed rate (core, ec_single)\n")
    if core:
        add(
            "Commands are sent on a fixed schedule; latency = completion time - scheduled send time, so queueing "
            "behind a slow command counts (no coordinated omission). An achieved rate below the target means "
            "the engine cannot keep up and latency grows with the backlog.\n"
        )
        rows = []
        for o in core["open_loop"]["runs"]:
            saturated = o["achieved_ops"] < 0.98 * o["target_ops"]
            rows.append(
                [
                    fmt_rate(o["target_ops"]),
                    f"{o['commands']:,}",
                    fmt_rate(o["achieved_ops"]),
                    *pct_cells(o["latency"]),
                    "saturated" if saturated else "",
                ]
            )
        add(table(["target ops/s", "commands", "achieved ops/s", *PCT_HEADER, ""], rows, "rrrrrrrrl") + "\n")
    else:
        add(f"Not available: {report['core_error']}\n")

    add("## Machine\n")
    rows = [
        ["CPU", m["cpu"]],
        [
            "cores",
            f"{m['logical_cpus']} logical, {m['physical_cores'] or '?'} physical, "
            f"{m['usable_cpus'] or '?'} usable by this process",
        ],
        ["memory", f"{m['memory_bytes'] / 2**30:.1f} GiB" if m["memory_bytes"] else "?"],
        ["OS", m["os"]],
        ["clocksource", m["clocksource"]],
        ["CPU governor", m["governor"]],
        ["load average at start (1/5/15 min)", report["load_average_at_start"]],
        ["Python", m["python"]],
        ["numpy", m["numpy"]],
        ["rustc", m["rustc"]],
        ["pyengine", m["pyengine"]],
        ["git commit", m["git_commit"]],
        ["date (UTC)", report["date_utc"]],
    ]
    add(table(["", ""], rows, "ll") + "\n")
    return "\n".join(out)


def peer_versions() -> dict[str, str]:
    """Installed version of every peer (or why it is missing), without importing it here."""
    out = {}
    for peer in PEERS:
        dist = "pyengine" if peer == "reference" else peer
        try:
            out[peer] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[peer] = "not installed"
    return out


def make_plots(report: dict[str, Any], out: Path, stem: str) -> tuple[dict[str, str], str]:
    """The PNGs of the report: ({title: file name}, note why there are none)."""
    if not report["peers"]:
        return {}, "skipped (no peer comparison in this run)"
    files = {"per-call latency percentiles": f"{stem}-latency.png", "throughput": f"{stem}-throughput.png"}
    title = f"{report['date_utc']} UTC ({report['mode']}), seed {report['seed']}"
    try:
        plots.latency_curves(
            report["peers"], report["core"], f"per-call latency, {title}", out / files["per-call latency percentiles"]
        )
        plots.throughput_bars(
            report["peers"],
            report["core"],
            report["python"]["workloads"],
            f"throughput, {title}",
            out / files["throughput"],
        )
    except ImportError:
        return {}, "skipped (matplotlib is not installed)"
    except Exception as e:  # a broken plotting setup must not lose the report
        return {}, f"skipped (plotting failed: {e!r})"
    return files, ""


# ---- main -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, ec_single and mixed_70_20_10 only (< 2 min)")
    ap.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="report directory (default bench/results)")
    ap.add_argument("--no-core", action="store_true", help="skip the Rust latency program")
    ap.add_argument("--no-peers", action="store_true", help="skip the peer comparison")
    args = ap.parse_args(argv)
    mode = "quick" if args.quick else "full"
    started = datetime.now(UTC)
    load_at_start = load_average()
    if load_at_start != "?" and float(load_at_start.split()[0]) > 0.5:
        log(f"WARNING: load average {load_at_start}: other work on this machine will perturb the figures")
    names = QUICK_WORKLOADS if args.quick else tuple(SIZES)
    peer_plan = [] if args.no_peers else plan(args.quick, SIZES)
    global PROGRESS
    PROGRESS = Progress(1 + len(names) + len(MEMORY_WORKLOADS) + len(peer_plan) + 1)
    log(f"pyengine {pyengine.__version__} benchmark, {mode} mode, seed {args.seed}")

    PROGRESS.status("core: cargo run --release --example latency")
    core, core_error = (None, "skipped (--no-core)") if args.no_core else run_core(args.quick, args.seed)
    PROGRESS.advance(f"core: {core_error}" if core_error else "core: done")

    py: dict[str, Any] = {"histogram": HISTOGRAM, "timer_cost": timer_cost(), "workloads": []}
    for name in names:
        PROGRESS.status(f"python: {name}")
        py["workloads"].append(measure_workload(name, SIZES[name][0 if args.quick else 1], args.seed))
        gc.collect()
        PROGRESS.advance()

    memory = []
    mem_size = MEMORY_SIZE[0 if args.quick else 1]
    for name in MEMORY_WORKLOADS:
        PROGRESS.status(f"memory: {name}")
        memory.append(measure_memory(name, mem_size, args.seed))
        PROGRESS.advance()

    peers = run_all(peer_plan, args.seed, args.quick, PROGRESS) if peer_plan else []

    report: dict[str, Any] = {
        "tool": "bench/run.py",
        "date_utc": started.strftime("%Y-%m-%d %H:%M:%S"),
        "mode": mode,
        "seed": args.seed,
        "machine": machine_info(),
        "load_average_at_start": load_at_start,
        "core": core,
        "core_error": core_error,
        "python": py,
        "memory": memory,
        "peers": peers,
        "peer_versions": peer_versions(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{started:%Y-%m-%d}-{mode}"
    report["plots"], report["plot_note"] = make_plots(report, args.out, stem)
    PROGRESS.advance("plots: " + (", ".join(report["plots"].values()) or report["plot_note"]))
    report["elapsed_s"] = round(time.perf_counter() - _T0, 1)
    md_path, json_path = args.out / f"{stem}.md", args.out / f"{stem}.json"
    text = render(report)
    md_path.write_text(text)
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    print(text)
    log(
        f"wrote {md_path.relative_to(ROOT) if md_path.is_relative_to(ROOT) else md_path} and "
        f"{json_path.name} in {report['elapsed_s']:.1f} s"
    )
    PROGRESS.close()
    crashed = [f"{r['peer']} on {r['workload']}" for r in peers if r["status"] == "error"]
    if crashed:
        log(f"FAILED: the worker crashed for {', '.join(crashed)}")
    return 0 if (core is not None or args.no_core) and not crashed else 1


if __name__ == "__main__":
    sys.exit(main())
