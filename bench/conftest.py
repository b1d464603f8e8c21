"""Fixtures of the pytest-benchmark suite (``python -m pytest bench/ --benchmark-only``).

Workloads come from :mod:`pyengine.workloads` (the shared, seeded generators of
``bench-workloads.md``). Generating a workload and translating it to per-call
API calls is done once per session; every benchmark round then starts from a
freshly prefilled engine built in the pedantic ``setup`` (not timed).

``test_peers`` puts our APIs and every peer adapter of ``bench/peers`` side by side on
one small workload (``PEER_WORKLOAD`` at ``PEER_SIZE``); ``bench/run.py`` is the full
comparison (every workload, each peer in its own process, ratios, latency, memory).

``tests/`` is the project's test suite (``testpaths = ["tests"]``); this
directory is collected only when named: ``python -m pytest bench/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from peers import PEERS, load
from peers.base import Adapter, Call, Outcome, Unsupported, op_kinds, ops_from_commands

from pyengine import Engine
from pyengine import workloads as wl
from pyengine.batch import to_calls

SEED = 1

#: workload -> generator size. Moderate, so the whole suite runs in well under a minute.
SIZES: dict[str, int] = {
    "mixed_70_20_10": 100_000,
    "ec_single": 100_000,
    "liquibook_insert": 100_000,
    "cancel_only": 100_000,
}

#: Rounds per benchmark (each round = one full replay on a fresh engine).
ROUNDS = 5

BoundCall = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


@dataclass
class Prepared:
    """One workload, its per-call translation and the reference event count."""

    workload: wl.Workload
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]
    batch_events: int

    @property
    def n_commands(self) -> int:
        return len(self.workload.commands)

    def fresh_engine(self) -> Engine:
        """A new engine with the instruments, accounts and prefill applied."""
        return self.workload.engine()

    def bound_calls(self, eng: Engine) -> list[BoundCall]:
        """The per-call API calls bound to ``eng``: ``[(eng.submit, args, kwargs), ...]``."""
        methods = {name: getattr(eng, name) for name in {m for m, _, _ in self.calls}}
        return [(methods[m], a, k) for m, a, k in self.calls]


_CACHE: dict[str, Prepared] = {}


def prepare(name: str) -> Prepared:
    """Generates workload ``name`` at its suite size (cached for the session)."""
    if name not in _CACHE:
        w = wl.generate(name, seed=SEED, size=SIZES[name])
        eng = w.engine()
        calls = to_calls(eng, w.commands)
        batch_events = len(w.engine().submit_batch(w.commands))
        _CACHE[name] = Prepared(w, calls, batch_events)
    return _CACHE[name]


@pytest.fixture(params=list(SIZES), scope="session")
def prepared(request: pytest.FixtureRequest) -> Prepared:
    """Each benchmark workload in turn."""
    return prepare(request.param)


def record_rate(benchmark: Any, n_commands: int) -> None:
    """Adds commands and commands/s (from the median round) to the benchmark's extra_info."""
    benchmark.extra_info["commands"] = n_commands
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None and stats.stats.median > 0:
        benchmark.extra_info["commands_per_s_median"] = round(n_commands / stats.stats.median)


#: The side-by-side workload of ``test_peers``: every peer supports it natively.
PEER_WORKLOAD = "liquibook_insert"
PEER_SIZE = 20_000


@dataclass
class PeerCase:
    """One peer adapter on the side-by-side workload."""

    adapter: Adapter
    workload: wl.Workload

    def fresh_calls(self) -> list[Call]:
        """A new peer book with the prefill applied, and the workload compiled onto it."""
        book = self.adapter.new_book(self.workload)
        for fn, args in self.adapter.compile(book, ops_from_commands(self.workload.prefill), self.workload.prefill):
            fn(*args)
        return self.adapter.compile(book, ops_from_commands(self.workload.commands), self.workload.commands)

    def outcome(self) -> Outcome:
        """Trades, volume and resting orders after one replay (to compare with our engine)."""
        book = self.adapter.new_book(self.workload)
        calls = self.adapter.compile(book, ops_from_commands(self.workload.commands), self.workload.commands)
        trades = volume = 0
        for fn, args in calls:
            t, v = self.adapter.tally(fn(*args))
            trades, volume = trades + t, volume + v
        return self.adapter.outcome(book, (trades, volume))


@pytest.fixture(params=list(PEERS), scope="session")
def peer_case(request: pytest.FixtureRequest) -> PeerCase:
    """Each peer in turn; skipped when it is not installed or lacks an operation of the workload."""
    try:
        adapter = load(request.param)
    except Exception as e:
        pytest.skip(f"{request.param} cannot be imported: {e}")
    w = wl.generate(PEER_WORKLOAD, seed=SEED, size=PEER_SIZE)
    try:
        adapter.plan(op_kinds(ops_from_commands(w.commands)))
    except Unsupported as e:
        pytest.skip(str(e))
    return PeerCase(adapter, w)
