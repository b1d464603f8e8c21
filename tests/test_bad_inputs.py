"""Malformed arguments raise clear exceptions; business errors are events, never exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from scenario import E, Script, rejected

import pyengine
from pyengine import COMMAND_DTYPE, EVENT_DTYPE, Engine
from pyengine.batch import commands, event_dicts


@contextmanager
def raises_exactly(exc: type[Exception], message: str) -> Iterator[None]:
    with pytest.raises(exc) as info:
        yield
    assert str(info.value) == message


def submit_kwargs(**overrides: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "symbol": "ACME",
        "order_id": 1,
        "account": "a",
        "side": "buy",
        "qty": 5,
        "price": 100,
    }
    kw.update(overrides)
    return kw


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"side": "BUY"}, 'unknown side "BUY"; expected one of buy, sell'),
        ({"side": "long"}, 'unknown side "long"; expected one of buy, sell'),
        (
            {"type": "iceberg"},
            'unknown order type "iceberg"; expected one of limit, market, stop, stop_limit',
        ),
        ({"tif": "day"}, 'unknown time in force "day"; expected one of gtc, ioc, fok'),
        (
            {"stp": "cancel"},
            'unknown self-trade prevention mode "cancel"; '
            "expected one of none, cancel_newest, cancel_oldest, cancel_both, decrement",
        ),
        ({"qty": -1}, "qty must not be negative, got -1"),
        ({"order_id": -5}, "order_id must not be negative, got -5"),
        ({"display_qty": -2}, "display_qty must not be negative, got -2"),
        ({"display_qty": 0}, "display_qty must be positive, got 0"),
        ({"price": None}, "limit orders need a price"),
        ({"type": "market"}, "market orders take no price"),
        ({"type": "stop", "stop_price": 100}, "stop orders take no price"),
        ({"type": "stop", "price": None}, "stop orders need a stop_price"),
        ({"type": "stop_limit"}, "stop_limit orders need a stop_price"),
        ({"type": "stop_limit", "price": None, "stop_price": 100}, "stop_limit orders need a price"),
        ({"stop_price": 100}, "limit orders take no stop_price"),
        ({"type": "market", "price": None, "stop_price": 100}, "market orders take no stop_price"),
        ({"account": ""}, "account must not be empty"),
    ],
)
def test_submit_value_errors(eng: Engine, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        eng.submit(**submit_kwargs(**overrides))
    assert str(info.value) == message
    assert eng.seq == 0 and eng.live_orders == 0
    eng.check_invariants()


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"qty": "5"}, r"qty must be an int, not str"),
        ({"qty": 5.0}, r"qty must be an int, not float"),
        ({"price": 100.0}, r"argument 'price'.*'float'"),
        ({"price": "100"}, r"argument 'price'.*'str'"),
        ({"order_id": 1.5}, r"order_id must be an int, not float"),
        ({"symbol": None}, r"argument 'symbol'.*'NoneType'"),
        ({"symbol": b"ACME"}, r"argument 'symbol'.*'bytes'"),
        ({"account": None}, r"argument 'account'.*'NoneType'"),
        ({"account": 7}, r"argument 'account'.*'int'"),
        ({"side": None}, r"argument 'side'.*'NoneType'"),
        ({"post_only": "yes"}, r"argument 'post_only'.*'str'"),
        ({"ts": 1.5}, r"argument 'ts'.*'float'"),
    ],
)
def test_submit_type_errors(eng: Engine, overrides: dict[str, Any], pattern: str) -> None:
    with pytest.raises(TypeError, match=pattern):
        eng.submit(**submit_kwargs(**overrides))
    assert eng.seq == 0


def test_unknown_keyword_is_a_type_error(eng: Engine) -> None:
    with pytest.raises(TypeError, match="display"):
        eng.submit(**submit_kwargs(display=5))
    with pytest.raises(TypeError):
        eng.submit("ACME", 1, "a", "buy", 5, 100, "ioc")  # type: ignore[call-arg]  # tif is keyword-only


def test_a_failing_call_changes_nothing(eng: Engine) -> None:
    """An exception means the command was not applied: no events, no new account, same hash."""
    h = eng.state_hash()
    for bad in ({"side": "up"}, {"tif": "day"}, {"stp": "x"}, {"qty": -1}, {"display_qty": 0}):
        with pytest.raises(ValueError):
            eng.submit(**submit_kwargs(account="never-seen", **bad))
        assert eng.accounts() == [], f"submit(..., account='never-seen', {bad}) raised but registered the account"
    assert eng.state_hash() == h


def test_cancel_and_amend_argument_errors(s: Script) -> None:
    eng = s.eng
    s.rest("ACME", 1, "a", "buy", 5, 100)
    with raises_exactly(ValueError, "order_id must not be negative, got -1"):
        eng.cancel("ACME", -1)
    with raises_exactly(ValueError, "amend needs at least one of qty, price, stop_price"):
        eng.amend("ACME", 1)
    with raises_exactly(ValueError, "amend needs at least one of qty, price, stop_price"):
        eng.amend("ACME", 1, qty=None, price=None, stop_price=None, ts=5)
    with raises_exactly(ValueError, "qty must not be negative, got -3"):
        eng.amend("ACME", 1, qty=-3)
    with raises_exactly(ValueError, "order_id must not be negative, got -1"):
        eng.amend("ACME", -1, qty=3)
    with pytest.raises(TypeError, match="argument 'price'"):
        eng.amend("ACME", 1, price=100.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        eng.amend("ACME", 1, 5)  # type: ignore[call-arg]  # qty is keyword-only
    with pytest.raises(TypeError, match="argument 'symbol'"):
        eng.cancel(None, 1)  # type: ignore[arg-type]
    with raises_exactly(ValueError, 'unknown side "both"; expected one of buy, sell'):
        eng.mass_cancel("a", side="both")
    with pytest.raises(TypeError, match="argument 'account'"):
        eng.mass_cancel(None)  # type: ignore[arg-type]
    assert eng.seq == 1
    eng.check_invariants()
    # Business errors are events, not exceptions.
    s.amend("ACME", 2, qty=3, expect=[rejected("unknown_order")])
    s.cancel("ACME", 2, expect=[rejected("unknown_order")])
    s.submit("ACME", 1, "a", "buy", 0, 100, expect=[rejected("duplicate_order_id")])
    s.submit("ACME", 2, "a", "buy", 0, 100, expect=[rejected("invalid_qty")])


@pytest.mark.parametrize(
    "query",
    [
        lambda e: e.bbo("NOPE"),
        lambda e: e.depth("NOPE"),
        lambda e: e.depth("NOPE", levels=3),
        lambda e: e.order("NOPE", 1),
        lambda e: e.last_trade_price("NOPE"),
        lambda e: e.instrument_id("NOPE"),
    ],
)
def test_queries_on_unknown_symbol_raise_key_error(eng: Engine, query: Any) -> None:
    with pytest.raises(KeyError, match='unknown instrument "NOPE"'):
        query(eng)


def test_query_argument_errors(eng: Engine) -> None:
    with pytest.raises(ValueError, match="order_id must not be negative"):
        eng.order("ACME", -1)
    with pytest.raises(TypeError):
        eng.bbo(None)  # type: ignore[arg-type]
    with pytest.raises((OverflowError, ValueError)):
        eng.depth("ACME", levels=-1)
    assert eng.open_orders("nobody") == []


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("X",), {"tick_size": 0}, "tick_size must be positive"),
        (("X",), {"tick_size": -5}, "tick_size must be positive"),
        (("X",), {"lot_size": 0}, "lot_size must be positive"),
        (("X",), {"lot_size": -1}, "lot_size must not be negative, got -1"),
        (("X",), {"min_qty": 0}, "min_qty must be positive"),
        (("X",), {"min_qty": -1}, "min_qty must not be negative, got -1"),
        (("X",), {"max_qty": -1}, "max_qty must not be negative, got -1"),
        (("X",), {"min_qty": 10, "max_qty": 5}, "min_qty must not exceed max_qty"),
        (("X",), {"lot_size": 10, "min_qty": 15}, "min_qty must be a multiple of lot_size"),
        (("X",), {"lot_size": 10, "max_qty": 15}, "max_qty must be a multiple of lot_size"),
        (("X",), {"lot_size": 10, "max_qty": 5}, "max_qty must be a multiple of lot_size"),
        (("X",), {"price_band": 0}, "price_band must be positive"),
        (("X",), {"price_band": -1}, "price_band must be positive"),
        (("",), {}, "symbol must not be empty"),
        (("ACME",), {}, 'instrument "ACME" already exists'),
        (("ACME",), {"tick_size": 2}, 'instrument "ACME" already exists'),
    ],
)
def test_add_instrument_value_errors(eng: Engine, args: tuple[str], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        eng.add_instrument(*args, **kwargs)
    assert str(info.value) == message
    assert eng.instruments() == ["ACME", "LOT", "BAND"]
    eng.check_invariants()


def test_add_instrument_type_errors(eng: Engine) -> None:
    with pytest.raises(TypeError):
        eng.add_instrument(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        eng.add_instrument("X", tick_size=0.5)  # type: ignore[arg-type]
    assert "X" not in eng.instruments()


# ---- batch API -------------------------------------------------------------------------------


def test_submit_batch_wrong_dtype_is_a_type_error(eng: Engine) -> None:
    bad = np.zeros(3, dtype=np.uint8)
    with pytest.raises(TypeError, match=r"commands must have dtype pyengine\.COMMAND_DTYPE"):
        eng.submit_batch(bad)
    with pytest.raises(TypeError, match="COMMAND_DTYPE"):
        eng.submit_batch(np.zeros(2, dtype=EVENT_DTYPE))
    with pytest.raises(TypeError, match="COMMAND_DTYPE"):
        eng.submit_batch(np.zeros(pyengine.COMMAND_RECORD_SIZE, dtype=np.uint8))  # right size, wrong dtype
    with pytest.raises(TypeError):
        eng.submit_batch(12345)
    with pytest.raises(TypeError):
        eng.submit_batch("not a buffer")
    assert eng.seq == 0


def test_submit_batch_partial_record_is_a_value_error(eng: Engine) -> None:
    size = pyengine.COMMAND_RECORD_SIZE
    for n in (1, size - 1, size + 1, 3 * size - 7):
        with pytest.raises(ValueError, match=f"command buffer of {n} bytes is not a whole number of {size}-byte"):
            eng.submit_batch(bytes(n))
    assert eng.seq == 0


def test_submit_batch_accepts_raw_bytes(eng: Engine) -> None:
    arr = commands(
        eng,
        [
            {
                "op": "submit",
                "symbol": "ACME",
                "order_id": 1,
                "account": "a",
                "side": "buy",
                "qty": 5,
                "price": 100,
                "ts": 3,
            }
        ],
    )
    out = eng.submit_batch(arr.tobytes())
    assert event_dicts(eng, out)[0]["kind"] == "accepted"
    assert len(eng.submit_batch(b"")) == 0
    assert eng.submit_batch(np.zeros(0, dtype=COMMAND_DTYPE)).dtype == EVENT_DTYPE


def test_event_dicts_wrong_dtype(eng: Engine) -> None:
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        event_dicts(eng, np.zeros(1, dtype=COMMAND_DTYPE))


def test_commands_helper_argument_errors(eng: Engine) -> None:
    with pytest.raises(ValueError, match="unknown op 'replace'"):
        commands(eng, [{"op": "replace"}])
    with pytest.raises(ValueError, match="unknown side 'up'"):
        commands(eng, [{"op": "submit", "symbol": "ACME", "order_id": 1, "account": "a", "side": "up", "qty": 1}])
    with pytest.raises(ValueError, match="unknown submit fields"):
        commands(
            eng,
            [
                {
                    "op": "submit",
                    "symbol": "ACME",
                    "order_id": 1,
                    "account": "a",
                    "side": "buy",
                    "qty": 1,
                    "colour": "red",
                }
            ],
        )
    with pytest.raises(KeyError):
        commands(eng, [{"op": "cancel", "symbol": "NOPE", "order_id": 1}])


def one_record(eng: Engine, **fields: int) -> np.ndarray[Any, np.dtype[np.void]]:
    arr = commands(
        eng,
        [
            {
                "op": "submit",
                "symbol": "LOT",
                "order_id": 77,
                "account": "a",
                "side": "buy",
                "qty": 20,
                "price": 100,
                "ts": 9,
            }
        ],
    )
    for key, value in fields.items():
        arr[0][key] = value
    return arr


@pytest.mark.parametrize(
    "fields",
    [
        {"op": 4},
        {"op": 255},
        {"side": 2},
        {"side": 255},
        {"type": 4},
        {"tif": 3},
        {"stp": 5},
        {"account": 999},  # an account id never registered
        {"op": 3, "side": 7, "flags": 32},  # mass cancel with a bad side code
    ],
)
def test_batch_record_with_invalid_codes_is_rejected_invalid_command(eng: Engine, fields: dict[str, int]) -> None:
    arr = one_record(eng, **fields)
    out = event_dicts(eng, eng.submit_batch(arr))
    assert len(out) == 1
    ev = out[0]
    assert ev["kind"] == "rejected" and ev["reason"] == "invalid_command"
    assert ev["seq"] == 1 and ev["ts"] == 9 and ev["symbol"] == "LOT"
    assert ev["order_id"] == 77
    assert eng.live_orders == 0
    eng.check_invariants()
    # The engine goes on normally afterwards.
    good = one_record(eng)
    assert [d["kind"] for d in event_dicts(eng, eng.submit_batch(good))] == ["accepted"]


def test_batch_amend_with_nothing_to_change_is_invalid_amend(s: Script) -> None:
    s.rest("ACME", 1, "a", "buy", 5, 100)
    arr = commands(s.eng, [{"op": "amend", "symbol": "ACME", "order_id": 1, "ts": 4}])
    out = event_dicts(s.eng, s.eng.submit_batch(arr))
    assert [(d["kind"], d["reason"], d["order_id"]) for d in out] == [("rejected", "invalid_amend", 1)]
    s.eng.check_invariants()


def test_batch_unknown_instrument_id(s: Script) -> None:
    arr = one_record(s.eng, instrument=42)
    out = event_dicts(s.eng, s.eng.submit_batch(arr))
    assert [(d["kind"], d["reason"], d["symbol"]) for d in out] == [("rejected", "unknown_instrument", None)]
    s.submit("ACME", 1, "a", "buy", 1, 1, expect=[E("accepted", seq=2)])
