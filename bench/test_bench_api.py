"""pytest-benchmark: the per-call API against the batch API on the shared workloads.

Each round replays a whole workload on a freshly prefilled engine; the prefill
(and, for the per-call API, binding the precomputed calls to that engine) runs
in pedantic ``setup`` and is not timed. Divide the commands of a workload
(``extra_info["commands"]``) by the round time for commands/s; the suite
stores it as ``extra_info["commands_per_s_median"]``.

    python -m pytest bench/ --benchmark-only
    python -m pytest bench/ --benchmark-only --benchmark-group-by=param:prepared

``test_per_call`` is the keyword API (``submit(symbol, ..., ts=...)``), ``test_per_call_fast``
the fast positional API (``submit_limit``, ``cancel_order``, ...). ``test_peers`` and
``test_ours_beside_peers`` (our fast per-call API) form one group with each peer adapter
(``bench/peers``) on the same small workload.
"""

from __future__ import annotations

from typing import Any

from conftest import PEER_SIZE, PEER_WORKLOAD, ROUNDS, SEED, BoundCall, PeerCase, Prepared, record_rate
from peers.base import Call, Outcome

from pyengine import Engine
from pyengine import workloads as wl
from pyengine.batch import Call as NamedCall
from pyengine.batch import bind_calls, to_calls, to_fast_calls

_FAST: dict[str, list[NamedCall]] = {}


def replay_calls(calls: list[BoundCall]) -> int:
    """Per-call API: one Python call per command; returns the number of events."""
    n = 0
    for fn, args, kwargs in calls:
        n += len(fn(*args, **kwargs))
    return n


def replay_fast(calls: list[Call]) -> int:
    """Fast per-call API: ``fn(*args)`` per command (positional ids and codes); returns the number of events."""
    n = 0
    for fn, args in calls:
        n += len(fn(*args))
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


def test_per_call_fast(benchmark: Any, prepared: Prepared) -> None:
    name = prepared.workload.name
    if name not in _FAST:
        _FAST[name] = to_fast_calls(prepared.fresh_engine(), prepared.workload.commands)

    def setup() -> tuple[tuple[list[Call]], dict[str, Any]]:
        return (bind_calls(prepared.fresh_engine(), _FAST[name]),), {}

    benchmark.group = f"{name} ({prepared.n_commands:,} commands)"
    events = benchmark.pedantic(replay_fast, setup=setup, rounds=ROUNDS, iterations=1)
    record_rate(benchmark, prepared.n_commands)
    assert events == prepared.batch_events


def test_batch(benchmark: Any, prepared: Prepared) -> None:
    def setup() -> tuple[tuple[Engine, Any], dict[str, Any]]:
        return (prepared.fresh_engine(), prepared.workload.commands), {}

    benchmark.group = f"{prepared.workload.name} ({prepared.n_commands:,} commands)"
    events = benchmark.pedantic(replay_batch, setup=setup, rounds=ROUNDS, iterations=1)
    record_rate(benchmark, prepared.n_commands)
    assert events == prepared.batch_events


PEER_GROUP = f"{PEER_WORKLOAD} ({PEER_SIZE:,} commands): ours and the peers"


def replay_peer(calls: list[Call]) -> None:
    """A peer adapter's calls, the loop bench/run.py times."""
    for fn, args in calls:
        fn(*args)


def test_peers(benchmark: Any, peer_case: PeerCase) -> None:
    def setup() -> tuple[tuple[list[Call]], dict[str, Any]]:
        return (peer_case.fresh_calls(),), {}

    benchmark.group = PEER_GROUP
    benchmark.pedantic(replay_peer, setup=setup, rounds=ROUNDS, iterations=1)
    record_rate(benchmark, len(peer_case.workload.commands))
    eng = peer_case.workload.engine()
    events = [
        e
        for evs in (getattr(eng, m)(*a, **k) for m, a, k in to_calls(eng, peer_case.workload.commands))
        for e in evs
        if e.kind == "trade"
    ]
    ours = Outcome(len(events), sum(e.qty for e in events), eng.live_orders)
    assert peer_case.outcome() == ours  # the peer matched exactly like our engine


def test_ours_beside_peers(benchmark: Any) -> None:
    w = wl.generate(PEER_WORKLOAD, seed=SEED, size=PEER_SIZE)
    calls = to_fast_calls(w.engine(), w.commands)

    def setup() -> tuple[tuple[list[Call]], dict[str, Any]]:
        return (bind_calls(w.engine(), calls),), {}

    benchmark.group = PEER_GROUP
    benchmark.pedantic(replay_fast, setup=setup, rounds=ROUNDS, iterations=1)
    record_rate(benchmark, len(w.commands))
