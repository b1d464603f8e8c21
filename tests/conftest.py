"""Fixtures: an engine with a few instruments, and a Script that checks every step."""

from __future__ import annotations

import pytest
from scenario import Script

from pyengine import Engine

#: symbol -> add_instrument keyword arguments of the standard test engine.
INSTRUMENTS: dict[str, dict[str, int]] = {
    "ACME": {"tick_size": 1, "lot_size": 1},
    "LOT": {"tick_size": 5, "lot_size": 10, "min_qty": 20, "max_qty": 1000},
    "BAND": {"tick_size": 1, "lot_size": 1, "price_band": 10},
}


def make_engine() -> Engine:
    eng = Engine()
    for i, (symbol, spec) in enumerate(INSTRUMENTS.items()):
        assert eng.add_instrument(symbol, **spec) == i
    eng.check_invariants()
    return eng


@pytest.fixture
def eng() -> Engine:
    return make_engine()


@pytest.fixture
def s(eng: Engine) -> Script:
    return Script(eng)
