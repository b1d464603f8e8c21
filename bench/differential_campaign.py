"""Long differential campaign: the compiled engine against the Python reference model.

    python bench/differential_campaign.py --commands 10000000 [--seed S] [--workers 2]

Runs seeded random command streams (``pyengine._differential``, the generator and the
step-by-step comparison that ``tests/test_differential.py`` uses) in chunks of
``--chunk`` commands, each on fresh engines, spread over ``--workers`` processes.
Chunk ``i`` of campaign seed ``S`` is stream ``S * 1_000_000 + i``. Prints progress
(commands done, rate, divergences) and a summary. On the first divergence it shrinks
the chunk's commands by delta debugging, writes a Python reproducer to
``bench/results/divergence-<stream seed>.py`` and exits with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's pyengine, whatever else is installed

from pyengine._differential import Divergence, reproducer, run_and_compare, run_stream, shrink  # noqa: E402

CHUNK_SEEDS_PER_CAMPAIGN = 1_000_000

Task = tuple[int, int, bool]
Result = tuple[int, int, float, Divergence | None]


def run_chunk(task: Task) -> Result:
    """Runs one chunk: (stream seed, commands run, seconds, divergence or None)."""
    stream_seed, size, edge_prices = task
    start = time.perf_counter()
    commands, divergence = run_stream(stream_seed, size, edge_prices=edge_prices)
    return stream_seed, len(commands), time.perf_counter() - start, divergence


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Sends file descriptor 2 to /dev/null for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def write_reproducer(
    out_dir: Path, stream_seed: int, size: int, edge_prices: bool, deadline_s: float
) -> tuple[Path, int, int]:
    """Shrinks the diverging chunk and writes its reproducer; returns (path, original length, shrunk length)."""
    with quiet_stderr():  # a Rust panic prints its message (and backtrace) at every replay
        commands, _ = run_stream(stream_seed, size, edge_prices=edge_prices)
        small = shrink(commands, deadline_s=deadline_s)
        divergence = run_and_compare(small)
    title = (
        f"Differential campaign divergence: stream seed {stream_seed} (edge_prices={edge_prices}),\n"
        f"shrunk from {len(commands)} to {len(small)} commands."
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"divergence-{stream_seed}.py"
    path.write_text(reproducer(small, divergence, title=title))
    return path, len(commands), len(small)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=1_000_000, help="total commands (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=None, help="campaign seed (default: random, printed)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--chunk", type=int, default=20_000, help="commands per chunk / fresh engines (default 20,000)")
    parser.add_argument(
        "--no-edge-prices",
        dest="edge_prices",
        action="store_false",
        help="keep prices away from the i64 limits (they are sent by default)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where reproducers go")
    parser.add_argument("--shrink-seconds", type=float, default=300.0, help="time budget of the shrinker")
    parser.add_argument("--progress-seconds", type=float, default=10.0, help="seconds between progress lines")
    args = parser.parse_args(argv)

    seed = args.seed if args.seed is not None else random.randrange(1, 1_000_000)
    chunks = -(-args.commands // args.chunk)
    if chunks > CHUNK_SEEDS_PER_CAMPAIGN:
        parser.error("too many chunks for one campaign seed; raise --chunk")
    sizes = [min(args.chunk, args.commands - i * args.chunk) for i in range(chunks)]
    tasks: list[Task] = [(seed * CHUNK_SEEDS_PER_CAMPAIGN + i, sizes[i], args.edge_prices) for i in range(chunks)]
    print(
        f"differential campaign: seed {seed}, {args.commands:,} commands in {chunks} chunks of {args.chunk:,}, "
        f"{args.workers} workers, edge prices {'on' if args.edge_prices else 'off'}",
        flush=True,
    )

    start = time.perf_counter()
    last_report = start
    done = 0
    chunks_done = 0
    busy_seconds = 0.0
    found: tuple[int, int, Divergence] | None = None
    with multiprocessing.Pool(args.workers) as pool:
        for stream_seed, ran, seconds, divergence in pool.imap_unordered(run_chunk, tasks):
            done += ran
            chunks_done += 1
            busy_seconds += seconds
            if divergence is not None:
                size = sizes[stream_seed - seed * CHUNK_SEEDS_PER_CAMPAIGN]
                found = (stream_seed, size, divergence)
                pool.terminate()
                break
            now = time.perf_counter()
            if now - last_report >= args.progress_seconds or chunks_done == chunks:
                last_report = now
                elapsed = now - start
                print(
                    f"  {done:>12,} / {args.commands:,} commands  {chunks_done}/{chunks} chunks  "
                    f"{done / elapsed:>8,.0f} commands/s  elapsed {elapsed:7.1f} s  divergences 0",
                    flush=True,
                )
    elapsed = time.perf_counter() - start

    print(
        f"summary: seed {seed}, {done:,} commands in {elapsed:.1f} s = {done / max(elapsed, 1e-9):,.0f} commands/s "
        f"({done / max(busy_seconds, 1e-9):,.0f} per worker), divergences {0 if found is None else 1}",
        flush=True,
    )
    if found is None:
        return 0
    stream_seed, size, divergence = found
    print(f"DIVERGENCE in stream {stream_seed} (campaign seed {seed}):\n{divergence}", flush=True)
    print(f"shrinking (up to {args.shrink_seconds:.0f} s) ...", flush=True)
    path, before, after = write_reproducer(args.out, stream_seed, size, args.edge_prices, args.shrink_seconds)
    print(f"reproducer ({before} -> {after} commands): {path}", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
