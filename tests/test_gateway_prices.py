"""FIX decimal prices <-> integer price units: the fast string arithmetic agrees with Decimal, exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyengine.gateway.model import Instrument

I64_MAX = 2**63 - 1


def _reference(text: str, scale: int) -> int | None:
    scaled = Decimal(text).scaleb(scale)
    if scaled != scaled.to_integral_value():
        return None
    units = int(scaled)
    return units if -I64_MAX <= units <= I64_MAX else None


@given(
    whole=st.integers(min_value=-(10**20), max_value=10**20),
    frac=st.text(alphabet="0123456789", min_size=0, max_size=8),
    scale=st.integers(min_value=0, max_value=6),
)
def test_price_units_matches_decimal(whole: int, frac: str, scale: int) -> None:
    text = f"{whole}.{frac}" if frac else str(whole)
    inst = Instrument("X", tick_size=1, price_scale=scale)
    expected = _reference(text, scale)
    if expected is None:
        with pytest.raises(ValueError):
            inst.price_units(text)
    else:
        assert inst.price_units(text) == expected
        assert inst.price_units(inst.price_text(expected)) == expected


@pytest.mark.parametrize("text", ["1e3", "1.", ".5", "--1", "+1", " 1", "1,5", "NaN", "inf", "", "१२"])
def test_price_units_refuses_non_plain_decimals(text: str) -> None:
    with pytest.raises(ValueError, match="plain decimal"):
        Instrument("X", price_scale=2).price_units(text)


def test_price_text_negative_and_cached() -> None:
    inst = Instrument("X", price_scale=2)
    assert [inst.price_text(u) for u in (-5, 0, 12345, 12345)] == ["-0.05", "0.00", "123.45", "123.45"]
    assert Instrument("Y", price_scale=0).price_text(-7) == "-7"
