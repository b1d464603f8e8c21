"""Differential tests: the compiled engine against the pure-Python reference model.

Both engines get the same commands; after every command the event lists
(``Event.to_dict()`` against the reference's dicts), the full depth, bbo and last
trade of every instrument, the open orders of every account, seq and the account
list must agree, and ``check_invariants()`` must pass (``pyengine._differential``).

* ``test_hypothesis_state_machine``: Hypothesis rule-based machine; on a divergence
  Hypothesis shrinks the steps and the failure message holds a reproducer.
* ``test_seeded_streams``: 100,000 commands of seeded random streams (the same
  generator as ``bench/differential_campaign.py``); on a divergence the stream is
  shrunk by delta debugging and printed as a Python reproducer.
* ``ENGINE_REGRESSIONS``: minimal reproducers of engine bugs found this way, as xfails.
"""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule

from pyengine._differential import (
    ACCOUNTS,
    FAR_OFFSETS,
    INSTRUMENTS,
    MIDS,
    UNKNOWN_ACCOUNT,
    UNKNOWN_SYMBOL,
    Command,
    Differential,
    generate,
    reproducer,
    run_and_compare,
    run_stream,
    shrink,
)

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1

# ---- the Hypothesis state machine ---------------------------------------------------------

T = TypeVar("T")


def mostly(common: st.SearchStrategy[T], *rare: st.SearchStrategy[T], odds: int = 8) -> st.SearchStrategy[T]:
    """`common`, and each of `rare` about 1/`odds` as often (shrinks towards `common`)."""
    return st.sampled_from([common] * odds + list(rare)).flatmap(lambda strategy: strategy)


#: ACME and LOT most, so that orders meet; the unknown symbol now and then.
symbols = mostly(st.sampled_from(("ACME", "ACME", "LOT", "LOT", "BAND", "WIDE")), st.just(UNKNOWN_SYMBOL), odds=20)
accounts = st.sampled_from(ACCOUNTS)
sides = st.sampled_from(("buy", "sell"))
#: A small id range, so that cancels and amends hit live orders and duplicates happen.
order_ids = st.integers(1, 12)


def spec(sym: str) -> dict[str, int]:
    return INSTRUMENTS.get(sym, INSTRUMENTS["ACME"])


def prices(sym: str) -> st.SearchStrategy[int]:
    """Mostly near the instrument's mid; sometimes off tick, outside the band, far away or i64::MIN."""
    tick = spec(sym)["tick_size"]
    mid = MIDS.get(sym, 1000)
    near = st.integers(-3, 3).map(lambda k: mid + k * tick)
    odd: list[st.SearchStrategy[int]] = []
    if tick > 1:
        odd.append(st.integers(-5, 5).map(lambda k: mid + k * tick + 1))
    if sym == "BAND":
        odd.append(st.integers(-20, 20).map(lambda k: mid + k))
    if sym == "WIDE":  # far-apart levels: the ladder's outlier map and window moves
        far = st.tuples(st.sampled_from(FAR_OFFSETS), st.sampled_from((-1, 1))).map(lambda t: mid + t[0] * t[1])
        odd += [far, far]
    away = st.sampled_from((mid - 1000 * tick, mid + 1000 * tick))
    return mostly(near, *odd, mostly(away, st.just(I64_MIN)), odds=12)


def quantities(sym: str) -> st.SearchStrategy[int]:
    lot = spec(sym)["lot_size"]
    good = st.integers(1, 8).map(lambda k: k * lot)
    if sym == "LOT":
        good = st.integers(2, 8).map(lambda k: k * lot)
    odd: list[st.SearchStrategy[int]] = [st.just(0)]
    if lot > 1:
        odd.append(st.integers(0, 8).map(lambda k: k * lot + 3))
    if sym == "LOT":
        odd += [st.just(1010), st.just(lot)]  # above max, below min
    if sym == "WIDE":
        odd.append(st.sampled_from((2**62, 2**63, 2**64 - 1)))
    return mostly(good, *odd, odds=15)


@st.composite
def submits(draw: st.DrawFn, types: tuple[str, ...] = ("limit", "market", "stop", "stop_limit")) -> dict[str, Any]:
    sym = draw(symbols)
    lot = spec(sym)["lot_size"]
    type_ = draw(st.sampled_from(types))
    qty = draw(quantities(sym))
    kw: dict[str, Any] = {
        "symbol": sym,
        "order_id": draw(order_ids),
        "account": draw(accounts),
        "side": draw(sides),
        "qty": qty,
    }
    if type_ in ("limit", "stop_limit"):
        kw["price"] = draw(prices(sym))
    if type_ in ("stop", "stop_limit"):
        kw["stop_price"] = draw(prices(sym))
    kw["type"] = type_
    kw["tif"] = draw(mostly(st.just("gtc"), st.just("ioc"), st.just("fok"), odds=4))
    if draw(mostly(st.just(False), st.just(True))):
        kw["post_only"] = True
    if qty >= 2**40:  # huge orders: only a few iceberg slices, or the match loop would run for ever
        display = draw(st.sampled_from((None, qty)))
    else:
        display = draw(mostly(st.none(), st.integers(1, 8).map(lambda k: k * lot), st.just(lot + 1), odds=6))
    if display is not None:
        kw["display_qty"] = display
    stp_modes = st.sampled_from(("cancel_newest", "cancel_oldest", "cancel_both", "decrement"))
    stp = draw(mostly(st.just("none"), stp_modes, odds=1))
    if stp != "none":
        kw["stp"] = stp
    return kw


@st.composite
def amend_fields(draw: st.DrawFn, sym: str) -> dict[str, Any]:
    lot = spec(sym)["lot_size"]
    kw: dict[str, Any] = {}
    fields = draw(st.sets(st.sampled_from(("qty", "price", "stop_price")), min_size=1))
    if "qty" in fields:
        kw["qty"] = draw(mostly(st.integers(0, 10).map(lambda k: k * lot), st.just(lot + 3)))
    if "price" in fields:
        kw["price"] = draw(prices(sym))
    if "stop_price" in fields:
        kw["stop_price"] = draw(prices(sym))
    return kw


@st.composite
def mass_cancels(draw: st.DrawFn) -> dict[str, Any]:
    kw: dict[str, Any] = {"account": draw(mostly(accounts, st.just(UNKNOWN_ACCOUNT)))}
    symbol = draw(st.one_of(st.none(), symbols))
    if symbol is not None:
        kw["symbol"] = symbol
    side = draw(st.one_of(st.none(), sides))
    if side is not None:
        kw["side"] = side
    return kw


class DifferentialMachine(RuleBasedStateMachine):
    """Random command sequences, compared with the reference after every step.

    Submitted (symbol, order id) pairs go to the `orders` bundle, from which most
    cancels and amends pick their target; others use any id.
    """

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.diff = Differential()
        self.log: list[Command] = []

    def run(self, method: str, kwargs: dict[str, Any]) -> None:
        cmd: Command = (method, {**kwargs, "ts": len(self.log) + 1})
        self.log.append(cmd)
        divergence = self.diff.step(cmd)
        assert divergence is None, f"{divergence}\n\nReproducer:\n{reproducer(self.log, divergence)}"

    def submitted(self, kw: dict[str, Any]) -> tuple[str, int]:
        self.run("submit", kw)
        return kw["symbol"], kw["order_id"]

    @rule(target=orders, kw=submits())
    def submit(self, kw: dict[str, Any]) -> tuple[str, int]:
        return self.submitted(kw)

    @rule(target=orders, kw=submits(types=("limit",)))
    def submit_limit(self, kw: dict[str, Any]) -> tuple[str, int]:
        return self.submitted(kw)

    @rule(target=orders, kw=submits(types=("limit",)))
    def submit_another_limit(self, kw: dict[str, Any]) -> tuple[str, int]:
        return self.submitted(kw)

    @rule(target=orders, kw=submits(types=("stop", "stop_limit")))
    def submit_stop(self, kw: dict[str, Any]) -> tuple[str, int]:
        return self.submitted(kw)

    @rule(order=orders)
    def cancel(self, order: tuple[str, int]) -> None:
        self.run("cancel", {"symbol": order[0], "order_id": order[1]})

    @rule(symbol=symbols, order_id=order_ids)
    def cancel_any(self, symbol: str, order_id: int) -> None:
        self.run("cancel", {"symbol": symbol, "order_id": order_id})

    @rule(order=orders, data=st.data())
    def amend(self, order: tuple[str, int], data: st.DataObject) -> None:
        symbol, order_id = order
        self.run("amend", {"symbol": symbol, "order_id": order_id, **data.draw(amend_fields(symbol))})

    @rule(order=orders, data=st.data())
    def amend_again(self, order: tuple[str, int], data: st.DataObject) -> None:
        self.amend(order, data)

    @rule(symbol=symbols, order_id=order_ids, data=st.data())
    def amend_any(self, symbol: str, order_id: int, data: st.DataObject) -> None:
        self.run("amend", {"symbol": symbol, "order_id": order_id, **data.draw(amend_fields(symbol))})

    @rule(kw=mass_cancels())
    def mass_cancel(self, kw: dict[str, Any]) -> None:
        self.run("mass_cancel", kw)


DifferentialMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_hypothesis_state_machine = DifferentialMachine.TestCase


# ---- seeded random streams ------------------------------------------------------------------

SEEDS = range(5)
COMMANDS_PER_SEED = 20_000  # 100,000 in all


@pytest.mark.parametrize("seed", SEEDS)
def test_seeded_streams(seed: int) -> None:
    commands, divergence = run_stream(seed, COMMANDS_PER_SEED)
    if divergence is None:
        assert len(commands) == COMMANDS_PER_SEED
        return
    small = shrink(commands, deadline_s=120)
    final = run_and_compare(small)
    code = reproducer(small, final, title=f"Seed {seed}: shrunk from {len(commands)} to {len(small)} commands.")
    print(code)
    pytest.fail(f"{divergence}\n\nShrunk reproducer ({len(small)} commands):\n{code}", pytrace=False)


# ---- the tooling itself -------------------------------------------------------------------------


def test_shrink_finds_the_two_commands_that_matter() -> None:
    commands: list[Command] = [("cancel", {"symbol": "ACME", "order_id": i, "ts": i}) for i in range(200)]

    def fails(cs: list[Command]) -> bool:
        ids = {c[1]["order_id"] for c in cs}
        return {17, 143} <= ids

    assert [c[1]["order_id"] for c in shrink(commands, fails)] == [17, 143]


def test_reproducer_replays_the_commands() -> None:
    commands = generate(99, 300)  # a blind stream: the generator without access to any engine
    assert run_and_compare(commands) is None
    code = reproducer(commands, None, title="no divergence expected")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    with pytest.raises(SystemExit) as exit_info:
        exec(compile(code, "<reproducer>", "exec"), namespace)
    assert exit_info.value.code == 0
    assert namespace["COMMANDS"] == commands


# ---- engine bugs found by these tests ---------------------------------------------------------------

M = I64_MAX


def _w(method: str, ts: int, **kwargs: Any) -> Command:
    return (method, {"symbol": "WIDE", **kwargs, "ts": ts})


#: Minimal reproducers of engine bugs these tests found, kept as regressions.
#:
#: ladder_* -- the price ladder's window arithmetic (`base + span`, `top_key()`) overflowed i64 when
#: the window was built or re-centred next to key i64::MAX, so a level was filed as an outlier while
#: the window covered its key; the next cancel, amend or fill there panicked. Fixed in
#: engine/src/level.rs (`window_base` keeps `base + span` inside i64).
ENGINE_REGRESSIONS: dict[str, list[Command]] = {
    # Expected: cancelled (user) for order 2 (once a PanicException).
    "ladder_recentre_overflow_cancel": [
        _w("submit", 1, order_id=1, account="a", side="buy", qty=1, price=100),
        _w("submit", 2, order_id=2, account="a", side="buy", qty=1, price=M),
        _w("cancel", 3, order_id=1),  # the window empties and re-centres on the level at i64::MAX
        _w("cancel", 4, order_id=2),
    ],
    # Expected: accepted, trade at i64::MAX (maker 1 filled), the rest of 3 rests at 12 (once a PanicException).
    "ladder_recentre_overflow_fill": [
        _w("submit", 1, order_id=1, account="a", side="buy", qty=1, price=M),
        _w("submit", 2, order_id=2, account="a", side="buy", qty=1, price=6),
        _w("cancel", 3, order_id=2),
        _w("submit", 4, order_id=3, account="b", side="sell", qty=2, price=12),
    ],
}


# Regressions: these once made the engine panic (fixed in level.rs: window_base keeps base + span in i64).
@pytest.mark.parametrize("name", sorted(ENGINE_REGRESSIONS))
def test_engine_regressions(name: str) -> None:
    divergence = run_and_compare(ENGINE_REGRESSIONS[name])
    assert divergence is None, str(divergence)
