"""Runs every (peer, workload) comparison in its own worker process (``bench/peers/worker.py``).

A worker reports each phase on stderr; one that shows no progress for ``stall_s`` seconds
(a peer stuck in a call), runs longer than ``limit_s``, crashes or prints no result is
killed or recorded as "did not finish" / "error" with the seed and the command that
reproduces it, and the suite goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from progress import Progress  # type: ignore[import-not-found, unused-ignore]

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

#: Peers in report order (names of bench/peers PEERS).
PEERS = ("nanobook", "cython-orderbook", "pyorderbook", "akhil4n-orderbook", "reference")
#: Workloads of the peer comparison per mode.
QUICK_WORKLOADS = ("liquibook_insert", "mixed_70_20_10", "ec_single")
FULL_WORKLOADS = (
    "liquibook_insert",
    "mixed_70_20_10",
    "ec_single",
    "aggressive_walk",
    "cancel_only",
    "deep_book",
    "multi_symbol",
)
#: Largest workload size per peer, (quick, full): a slower peer replays a smaller instance
#: of the same workload, and our APIs are measured on that same instance in its worker.
SIZE_CAP: dict[str, tuple[int, int]] = {
    "nanobook": (100_000, 1_000_000),
    "cython-orderbook": (50_000, 200_000),
    "akhil4n-orderbook": (50_000, 200_000),
    "pyorderbook": (20_000, 100_000),
    "reference": (10_000, 50_000),
}


@dataclass(frozen=True)
class Limits:
    rounds: int
    stall_s: float
    limit_s: float


QUICK = Limits(rounds=3, stall_s=10.0, limit_s=60.0)
FULL = Limits(rounds=5, stall_s=45.0, limit_s=900.0)


def plan(quick: bool, sizes: dict[str, tuple[int, int]]) -> list[tuple[str, str, int]]:
    """(peer, workload, size) of every worker, workload by workload."""
    mode = 0 if quick else 1
    names = QUICK_WORKLOADS if quick else FULL_WORKLOADS
    return [(p, w, min(sizes[w][mode], SIZE_CAP[p][mode])) for w in names for p in PEERS]


def worker_command(peer: str, workload: str, size: int, seed: int, rounds: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "peers.worker",
        "--peer",
        peer,
        "--workload",
        workload,
        "--size",
        str(size),
        "--seed",
        str(seed),
        "--rounds",
        str(rounds),
    ]


def _pump(stream: Any, sink: deque[str], stamp: list[float]) -> None:
    for line in stream:
        sink.append(line.rstrip("\n"))
        stamp[0] = time.monotonic()


def run_one(peer: str, workload: str, size: int, seed: int, limits: Limits, progress: Progress) -> dict[str, Any]:
    """One worker, watched; returns its JSON result or a dnf/error record."""
    cmd = worker_command(peer, workload, size, seed, limits.rounds)
    repro = f"PYTHONPATH=bench python -m peers.worker --peer {peer} --workload {workload} --size {size} --seed {seed}"
    base: dict[str, Any] = {"peer": peer, "workload": workload, "size": size, "seed": seed, "repro": repro}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(BENCH), *filter(None, [env.get("PYTHONPATH")])])
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        return base | {"status": "error", "reason": f"cannot start the worker: {e}"}
    err: deque[str] = deque(maxlen=40)
    out: deque[str] = deque()
    stamp = [t0]
    threads = [
        threading.Thread(target=_pump, args=(proc.stderr, err, stamp), daemon=True),
        threading.Thread(target=_pump, args=(proc.stdout, out, [t0]), daemon=True),
    ]
    for t in threads:
        t.start()
    killed = ""
    while proc.poll() is None:
        time.sleep(0.2)
        now = time.monotonic()
        phase = next((ln for ln in reversed(err) if ln.startswith("phase: ")), "phase: starting")[7:]
        progress.status(f"{peer} on {workload} ({size:,}): {phase} [{now - t0:.0f}s]")
        if now - stamp[0] > limits.stall_s:
            killed = f"no progress for {limits.stall_s:.0f} s in phase '{phase}'"
        elif now - t0 > limits.limit_s:
            killed = f"over the {limits.limit_s:.0f} s limit in phase '{phase}'"
        if killed:
            proc.kill()
            proc.wait()
            break
    for t in threads:
        t.join(timeout=5)
    elapsed = round(time.monotonic() - t0, 1)
    base["elapsed_s"] = elapsed
    if killed:
        return base | {"status": "dnf", "reason": f"did not finish: {killed}, killed (seed {seed})"}
    if proc.returncode is not None and proc.returncode < 0:
        return base | {
            "status": "dnf",
            "reason": f"did not finish: the worker died of signal {-proc.returncode} (seed {seed})",
        }
    if proc.returncode != 0 or not out:
        tail = " | ".join(ln for ln in err if not ln.startswith("phase: "))[-600:]
        reason = f"worker exited with status {proc.returncode}: {tail or 'no output'}"
        return base | {"status": "error", "reason": reason}
    try:
        result: dict[str, Any] = json.loads(out[-1])
    except ValueError as e:
        return base | {"status": "error", "reason": f"unreadable worker output: {e}"}
    return base | result


def run_all(tasks: list[tuple[str, str, int]], seed: int, quick: bool, progress: Progress) -> list[dict[str, Any]]:
    """Runs the (peer, workload, size) tasks of :func:`plan` one after the other."""
    limits = QUICK if quick else FULL
    results = []
    for peer, workload, size in tasks:
        r = run_one(peer, workload, size, seed, limits, progress)
        results.append(r)
        if r["status"] == "ok":
            msg = (
                f"peers: {workload} vs {peer} ({r['commands']:,} commands): per-call x{r['ratio_call']:.2f}, "
                f"batch x{r['ratio_batch']:.2f}" + (" (emulated ops)" if r.get("emulated") else "")
            )
        else:
            msg = f"peers: {workload} vs {peer}: {r['status']}: {r.get('reason', '')}"
        progress.advance(msg)
    return results
