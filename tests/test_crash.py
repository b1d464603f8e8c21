"""kill -9 at random moments: no acknowledged command is lost and recovery always works.

A child process trades through `Engine.open(dir)` and prints `ACK <journal seq>`
once a command is durable. The parent SIGKILLs it at a random moment, recovers,
and checks that every acknowledged command is in the journal, that the recovered
state equals a fresh replay of the journal from its first record, and that
recovery never fails on a torn tail.
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from pyengine import Engine
from pyengine.journal import inspect, replay

CHILD = Path(__file__).with_name("crash_child.py")
ROUNDS = 50


def run_and_kill(path: Path, seed: int, fsync: str, rng: random.Random) -> int:
    """Runs the child until a random number of acks (or a random early moment); returns the last acked seq."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), str(seed), fsync],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acked = 0
    try:
        if rng.random() < 0.15:
            time.sleep(rng.uniform(0.0, 0.3))  # sometimes during start-up or recovery
        else:
            want = rng.randint(1, 300)
            assert proc.stdout is not None
            for line in proc.stdout:
                acked = int(line.split()[1])
                want -= 1
                if want == 0:
                    break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"child ended on its own ({proc.returncode}): {err}"
    return acked


def test_sigkill_never_loses_an_acknowledged_command(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    path = tmp_path / "journal"
    max_acked = 0
    kills_with_acks = 0
    for round_no in range(ROUNDS):
        fsync = "always" if round_no % 2 else "batch"
        acked = run_and_kill(path, seed=round_no, fsync=fsync, rng=rng)
        kills_with_acks += acked > 0
        max_acked = max(max_acked, acked)

        info = inspect(path)  # never corrupt: at worst a torn tail
        eng = Engine.open(path, fsync="batch")
        try:
            assert (eng.journal_seq or 0) >= max_acked, f"round {round_no}: acknowledged seq {max_acked} lost"
            eng.check_invariants()
            fresh, summary = replay(path)
            assert summary["torn_tail"] is None, "recovery should have truncated the torn tail"
            assert fresh.state_hash() == eng.state_hash(), f"round {round_no}: recovered state != fresh replay"
            assert fresh.seq == eng.seq
            assert info["last_seq"] is None or info["last_seq"] >= max_acked
        finally:
            eng.close()
    assert kills_with_acks >= ROUNDS // 2
    assert max_acked > 0
