"""pytest-benchmark: the per-call API against the batch API on the shared workloads.

Each round replays a whole workload on a freshly prefilled engine; the prefill
(and, for the per-call API, binding the precomputed calls to that engine) runs
in pedantic ``setup`` and is not timed. Divide the commands of a workload
(``extra_info["commands"]``) by the round time for commands/s; the suite
stores it as ``extra_info["commands_per_s_median"]``.

    python -m pytest bench/ --benchmark-only
    python -m pytest bench/ --benchmark-only --benchmark-group-by=param:prepared
"""

from __future__ import annotations

from typing import Any

from conftest import ROUNDS, BoundCall, Prepared, record_rate

from pyengine import Engine


def replay_calls(calls: list[BoundCall]) -> int:
    """Per-call API: one Python call per command; returns the number of events."""
    n = 0
    for fn, args, kwargs in calls:
        n += len(fn(*args, **kwargs))
    return n


def replay_batch(eng: Engine, commands: Any) -> int:
    """Batch API: one call for the whole command array; returns the number of events."""
    return len(eng.submit_batch(commands))


def test_per_call(benchmark: Any, prepared: Prepared) -> None:
    def setup() -> tuple[tuple[list[BoundCall]], dict[str, Any]]:
        return (prepared.bound_calls(prepared.fresh_engine()),), {}

    benchmark.group = f"{prepared.workload.name} ({prepared.n_commands:,} commands)"
    events = benchmark.pedantic(replay_calls, setup=setup, rounds=ROUNDS, iterations=1)
    record_rate(benchmark, prepared.n_commands)
    assert events == prepared.batch_events


def test_batch(benchmark: Any, prepared: Prepared) -> None:
    def setup() -> tuple[tuple[Engine, Any], dict[str, Any]]:
        return (prepared.fresh_engine(), prepared.workload.commands), {}

    benchmark.group = f"{prepared.workload.name} ({prepared.n_commands:,} commands)"
    events = benchmark.pedantic(replay_batch, setup=setup, rounds=ROUNDS, iterations=1)
    record_rate(benchmark, prepared.n_commands)
    assert events == prepared.batch_events
