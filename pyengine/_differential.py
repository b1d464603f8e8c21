"""Differential testing of the compiled engine against :mod:`pyengine.reference`.

Shared by ``tests/test_differential.py`` and ``bench/differential_campaign.py``:

* :data:`INSTRUMENTS` / :data:`ACCOUNTS`: the fixed universe every stream runs in;
* :func:`generate`: a seeded random command stream (:class:`StreamGenerator`);
* :class:`Differential`: both engines side by side, one command at a time, comparing
  the events, every instrument's full depth, bbo and last trade, every account's open
  orders, seq and accounts after each step, and calling ``check_invariants()``;
* :func:`run_and_compare`: a whole command list, returning the first :class:`Divergence` or None;
* :func:`shrink`: delta debugging (ddmin) of a diverging command list;
* :func:`reproducer`: Python source that replays a command list and reports its divergence.

A command is ``(method, kwargs)``: an :class:`pyengine.Engine` method name and its
keyword arguments, e.g. ``("cancel", {"symbol": "ACME", "order_id": 7, "ts": 12})``.
Generated streams only hold well-formed arguments (nothing raises ValueError or
TypeError); business-invalid values (off tick, off lot, unknown ids, ...) are
frequent on purpose.
"""

from __future__ import annotations

import operator
import pprint
import random
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pyengine._engine import Engine
from pyengine.reference import ReferenceEngine

__all__ = [
    "ACCOUNTS",
    "INSTRUMENTS",
    "Command",
    "Differential",
    "Divergence",
    "StreamGenerator",
    "generate",
    "reproducer",
    "run_and_compare",
    "run_stream",
    "shrink",
]

Command = tuple[str, dict[str, Any]]

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
U64_MAX = 2**64 - 1

#: symbol -> add_instrument keyword arguments, in registration order.
INSTRUMENTS: dict[str, dict[str, int]] = {
    "ACME": {"tick_size": 1, "lot_size": 1},
    "LOT": {"tick_size": 5, "lot_size": 10, "min_qty": 20, "max_qty": 1000},
    "BAND": {"tick_size": 1, "lot_size": 1, "price_band": 10},
    # Far-apart prices (the ladder's outlier path) and huge quantities (u64 overflow checks).
    "WIDE": {"tick_size": 1, "lot_size": 1},
}
SYMBOLS = tuple(INSTRUMENTS)
ACCOUNTS = ("a", "b", "c", "d")
UNKNOWN_SYMBOL = "NOPE"
UNKNOWN_ACCOUNT = "ghost"
#: Distances (in ticks, either way from the mid) of the far-away prices sent to WIDE.
FAR_OFFSETS = (300, 600, 5_000, 10**6, 2**40, 2**62, I64_MAX - 2**21)
#: Distances reaching the i64 limits (they once made the Rust ladder's window arithmetic
#: overflow; see the regressions in tests/test_differential.py). On by default.
EDGE_OFFSETS = (I64_MAX, I64_MAX - 7)
#: Where each instrument's prices start (they drift as the stream goes).
MIDS = {"ACME": 1000, "LOT": 5000, "BAND": 100, "WIDE": 0}

ORDER_FIELDS = (
    "symbol",
    "order_id",
    "account",
    "side",
    "type",
    "tif",
    "stp",
    "post_only",
    "price",
    "stop_price",
    "qty",
    "leaves_qty",
    "filled_qty",
    "display_qty",
    "visible_qty",
    "status",
)
_order_tuple = operator.attrgetter(*ORDER_FIELDS)
_view_tuple = operator.itemgetter(*ORDER_FIELDS)
ALL_LEVELS = 1 << 30


# ---- the command stream -------------------------------------------------------------


class StreamGenerator:
    """Seeded random commands over :data:`INSTRUMENTS` and :data:`ACCOUNTS`; call it for the next one.

    Every command is well-formed on its own, whatever the state, so any sub-list of a
    stream is still a valid stream, which is what shrinking needs. Prices cluster around
    a slowly drifting mid per instrument so that orders cross, rest and trigger stops
    (stop prices sit in the same range, mostly not yet due, so stops wait and cascade).
    Order ids are mostly fresh per instrument, sometimes reused (duplicates) or huge.
    Cancels and amends aim at live orders: with `live_ids` (symbol -> ids of its live
    orders, e.g. ``ReferenceEngine.order_ids``) at the real ones, without it ("blind")
    at the GTC orders and stops this generator sent recently; the rest at recent,
    random or unknown ids.
    """

    def __init__(
        self, seed: int, live_ids: Callable[[str], Sequence[int]] | None = None, *, edge_prices: bool = True
    ) -> None:
        self.rng = random.Random(seed)
        self.live_ids = live_ids
        self.far = FAR_OFFSETS + (EDGE_OFFSETS if edge_prices else ())
        self.ts = 0
        self.mid = dict(MIDS)
        self.next_id = dict.fromkeys(SYMBOLS, 1)
        #: Ids of orders sent that may well be live (GTC limits and stops), per symbol.
        self.maybe_live: dict[str, list[int]] = {sym: [] for sym in SYMBOLS}

    def __call__(self) -> Command:
        rng = self.rng
        self.ts += 1
        for sym in SYMBOLS:
            if rng.random() < 0.02:
                tick = INSTRUMENTS[sym]["tick_size"]
                step = rng.choice((-tick, tick))
                if abs(self.mid[sym] + step - MIDS[sym]) <= 30 * tick:
                    self.mid[sym] += step
        r = rng.random()
        if r < 0.64:
            return self.submit()
        if r < 0.74:
            sym = self.symbol()
            return ("cancel", {"symbol": sym, "order_id": self.old_id(sym, forget=True), "ts": self.ts})
        if r < 0.99:
            return self.amend()
        return self.mass_cancel()

    # -- fields

    def symbol(self) -> str:
        return self.rng.choices((*SYMBOLS, UNKNOWN_SYMBOL), weights=(35, 25, 20, 17, 3))[0]

    def tick(self, sym: str) -> int:
        return INSTRUMENTS.get(sym, INSTRUMENTS["ACME"])["tick_size"]

    def lot(self, sym: str) -> int:
        return INSTRUMENTS.get(sym, INSTRUMENTS["ACME"])["lot_size"]

    def near(self, sym: str, side: str) -> int:
        """A price near the mid, mostly on the passive side, sometimes through it."""
        rng, tick = self.rng, self.tick(sym)
        mid = self.mid.get(sym, 1000)
        off = rng.randint(-2, 8) * tick
        price = mid - off if side == "buy" else mid + off
        r = rng.random()
        if sym == "LOT" and r < 0.05:
            price += rng.randint(1, tick - 1)  # off tick
        elif sym == "BAND" and r < 0.10:
            price += rng.choice((-1, 1)) * rng.randint(8, 20)  # around the band edge
        elif sym == "WIDE" and r < 0.20:
            far = rng.choice(self.far)
            price = max(I64_MIN + 1, min(I64_MAX, mid + rng.choice((-1, 1)) * far))
        elif r < 0.003:
            price = I64_MIN  # refused as overflow
        return price

    def qty(self, sym: str) -> int:
        rng, lot = self.rng, self.lot(sym)
        r = rng.random()
        if r < 0.01:
            return 0
        if sym == "LOT" and r < 0.06:
            return lot * rng.randint(0, 5) + rng.randint(1, lot - 1)  # off lot
        if sym == "LOT" and r < 0.08:
            return 1000 + lot * rng.randint(1, 5)  # above max
        if sym == "WIDE" and r < 0.06:
            return rng.choice((2**62, 3 * 2**62, 2**63, U64_MAX))  # huge: level totals may overflow
        return lot * rng.randint(1, 10)

    def account(self) -> str:
        return self.rng.choice(ACCOUNTS)

    def new_id(self, sym: str) -> int:
        rng = self.rng
        r = rng.random()
        if sym not in self.next_id:
            return rng.randint(0, 50)
        if r < 0.05:
            return max(0, self.next_id[sym] - rng.randint(1, 20))  # maybe a duplicate of a live order
        if r < 0.06:
            return U64_MAX - rng.randint(0, 2)
        self.next_id[sym] += 1
        return self.next_id[sym] - 1

    def old_id(self, sym: str, *, forget: bool = False) -> int:
        """An id for a cancel or amend: mostly one that may be live, sometimes any or an unknown one."""
        rng = self.rng
        top = self.next_id.get(sym, 0) or max(self.next_id.values())
        r = rng.random()
        if self.live_ids is not None and sym in self.next_id:
            live = self.live_ids(sym)
            if r < 0.80 and live:
                return rng.choice(live)
        else:
            candidates = self.maybe_live.get(sym, [])
            if r < 0.75 and candidates:
                i = rng.randrange(len(candidates))
                return candidates.pop(i) if forget else candidates[i]
        if r < 0.90:
            return max(0, top - rng.randint(1, 25))
        if r < 0.97:
            return rng.randint(0, top)
        return top + 1000  # unknown

    # -- commands

    def submit(self) -> Command:
        rng = self.rng
        sym = self.symbol()
        side = rng.choice(("buy", "sell"))
        type_ = rng.choices(("limit", "market", "stop", "stop_limit"), weights=(55, 10, 15, 20))[0]
        tif_weights = {"limit": (70, 15, 15), "market": (20, 50, 30), "stop": (50, 25, 25), "stop_limit": (70, 15, 15)}
        tif = rng.choices(("gtc", "ioc", "fok"), weights=tif_weights[type_])[0]
        qty = self.qty(sym)
        kw: dict[str, Any] = {
            "symbol": sym,
            "order_id": self.new_id(sym),
            "account": self.account(),
            "side": side,
            "qty": qty,
        }
        if type_ in ("stop", "stop_limit"):
            tick = self.tick(sym)
            # Mostly not yet due (buy stops above the mid, sell stops below), some due at once.
            away = rng.randint(-2, 8) * tick
            stop = self.mid.get(sym, 1000) + (away if side == "buy" else -away)
            if sym == "LOT" and rng.random() < 0.03:
                stop += 1  # off tick
            kw["stop_price"] = stop
            if type_ == "stop_limit":
                slip = rng.randint(-2, 4) * tick
                kw["price"] = stop + slip if side == "buy" else stop - slip
        elif type_ == "limit":
            kw["price"] = self.near(sym, side)
        kw["type"] = type_
        kw["tif"] = tif
        rests = type_ in ("limit", "stop_limit") and tif == "gtc"
        if rng.random() < (0.12 if type_ == "limit" and tif == "gtc" else 0.02):
            kw["post_only"] = True
        r = rng.random()
        lot = self.lot(sym)
        if qty >= 2**40:
            if r < 0.3:
                kw["display_qty"] = qty // 2 - (qty // 2) % lot or qty  # few slices only
        elif rests and r < 0.15 and qty > 0:
            kw["display_qty"] = lot * rng.randint(1, max(1, qty // lot))
        elif r < 0.02:
            kw["display_qty"] = rng.choice((qty + lot, lot, lot + 1 if lot > 1 else 2))  # mostly invalid
        if rng.random() < 0.45:
            kw["stp"] = rng.choice(("cancel_newest", "cancel_oldest", "cancel_both", "decrement"))
        if sym in self.maybe_live and (rests or type_ == "stop"):
            self.maybe_live[sym].append(kw["order_id"])
            del self.maybe_live[sym][:-60]
        kw["ts"] = self.ts
        return ("submit", kw)

    def amend(self) -> Command:
        rng = self.rng
        sym = self.symbol()
        kw: dict[str, Any] = {"symbol": sym, "order_id": self.old_id(sym)}
        which = rng.choices(
            ("qty", "price", "qty+price", "stop", "stop+qty", "stop+price", "all"), weights=(35, 25, 15, 12, 5, 5, 3)
        )[0]
        lot, tick = self.lot(sym), self.tick(sym)
        if "qty" in which or which == "all":
            q = lot * rng.randint(0, 12)
            if sym == "LOT" and rng.random() < 0.05:
                q += 3  # off lot
            kw["qty"] = q
        if "price" in which or which == "all":
            kw["price"] = self.near(sym, rng.choice(("buy", "sell")))
        if "stop" in which or which == "all":
            stop = self.mid.get(sym, 1000) + rng.randint(-8, 8) * tick
            if sym == "LOT" and rng.random() < 0.03:
                stop += 2
            kw["stop_price"] = stop
        kw["ts"] = self.ts
        return ("amend", kw)

    def mass_cancel(self) -> Command:
        rng = self.rng
        kw: dict[str, Any] = {"account": UNKNOWN_ACCOUNT if rng.random() < 0.1 else self.account()}
        if rng.random() < 0.5:
            kw["symbol"] = self.symbol()
        if rng.random() < 0.5:
            kw["side"] = rng.choice(("buy", "sell"))
        kw["ts"] = self.ts
        return ("mass_cancel", kw)


def generate(seed: int, n: int) -> list[Command]:
    """`n` commands of the seeded random stream `seed`, generated blind (without looking at any engine)."""
    gen = StreamGenerator(seed)
    return [gen() for _ in range(n)]


# ---- running and comparing -------------------------------------------------------------


@dataclass
class Divergence:
    """The first point where the engine and the reference disagree."""

    step: int  # index of the command in the list (0-based)
    command: Command
    what: str  # "events", "state: <part>", "invariants", "engine raised <exception>", "reference raised"
    expected: Any  # the reference's side
    actual: Any  # the engine's side

    def __str__(self) -> str:
        lines = [f"divergence at command #{self.step} (0-based): {self.what}", f"command: {self.command!r}"]
        if self.what == "events" and isinstance(self.expected, list) and isinstance(self.actual, list):
            lines.append("events (reference | engine):")
            for i in range(max(len(self.expected), len(self.actual))):
                want = self.expected[i] if i < len(self.expected) else None
                got = self.actual[i] if i < len(self.actual) else None
                mark = "  " if want == got else "!!"
                lines.append(f" {mark} reference: {_brief(want)}")
                if want != got:
                    lines.append(f" {mark} engine:    {_brief(got)}")
        else:
            lines.append("expected (reference):")
            lines.append(_indent(pprint.pformat(self.expected, width=110)))
            lines.append("actual (engine):")
            lines.append(_indent(pprint.pformat(self.actual, width=110)))
        return "\n".join(lines)


def _brief(event: dict[str, Any] | None) -> str:
    if event is None:
        return "(none)"
    return ", ".join(f"{k}={v!r}" for k, v in event.items() if v is not None and k != "ts")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def engine_state(eng: Engine) -> dict[str, Any]:
    """Everything observable of the compiled engine, as plain data."""
    state: dict[str, Any] = {"seq": eng.seq, "accounts": eng.accounts(), "live_orders": eng.live_orders}
    for sym in SYMBOLS:
        state[f"depth {sym}"] = eng.depth(sym, ALL_LEVELS)
        state[f"bbo {sym}"] = eng.bbo(sym)
        state[f"last_trade {sym}"] = eng.last_trade_price(sym)
    for acct in state["accounts"]:
        state[f"open_orders {acct}"] = [_order_tuple(o) for o in eng.open_orders(acct)]
    return state


def reference_state(ref: ReferenceEngine) -> dict[str, Any]:
    """The same observations of the reference model."""
    state: dict[str, Any] = {"seq": ref.seq, "accounts": ref.accounts(), "live_orders": ref.live_orders}
    for sym in SYMBOLS:
        state[f"depth {sym}"] = ref.depth(sym, ALL_LEVELS)
        state[f"bbo {sym}"] = ref.bbo(sym)
        state[f"last_trade {sym}"] = ref.last_trade_price(sym)
    for acct in state["accounts"]:
        state[f"open_orders {acct}"] = [_view_tuple(o) for o in ref.open_orders(acct)]
    return state


def _readable(key: str, value: Any) -> Any:
    if key.startswith("open_orders") and isinstance(value, list):
        return [dict(zip(ORDER_FIELDS, o, strict=True)) for o in value]
    return value


class Differential:
    """The compiled engine and the reference, fed the same commands one at a time."""

    def __init__(self) -> None:
        self.engine = Engine()
        self.reference = ReferenceEngine()
        for sym, spec in INSTRUMENTS.items():
            self.engine.add_instrument(sym, **spec)
            self.reference.add_instrument(sym, **spec)
        self.steps = 0

    def step(self, cmd: Command, *, check_state: bool = True) -> Divergence | None:
        """Applies `cmd` to both engines and compares; the first disagreement, or None."""
        index = self.steps
        self.steps += 1
        method, kwargs = cmd
        try:
            got = [e.to_dict() for e in getattr(self.engine, method)(**kwargs)]
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a Rust panic arrives as pyo3's PanicException (a BaseException)
            return Divergence(index, cmd, f"engine raised {type(exc).__name__}", None, f"{type(exc).__name__}: {exc}")
        try:
            want = getattr(self.reference, method)(**kwargs)
        except Exception:
            return Divergence(index, cmd, "reference raised", traceback.format_exc(), got)
        if got != want:
            return Divergence(index, cmd, "events", want, got)
        try:
            self.engine.check_invariants()
        except AssertionError as exc:
            return Divergence(index, cmd, "invariants", None, str(exc))
        if check_state:
            return self.compare_state(index, cmd)
        return None

    def compare_state(self, index: int, cmd: Command) -> Divergence | None:
        actual, expected = engine_state(self.engine), reference_state(self.reference)
        if actual == expected:
            return None
        for key in sorted(set(actual) | set(expected)):
            a, e = actual.get(key), expected.get(key)
            if a != e:
                return Divergence(index, cmd, f"state: {key}", _readable(key, e), _readable(key, a))
        raise AssertionError("unreachable: states differ but no part does")


def run_and_compare(commands: Sequence[Command], *, check_state: bool = True) -> Divergence | None:
    """Runs `commands` on fresh engines; the first divergence, or None."""
    diff = Differential()
    for cmd in commands:
        divergence = diff.step(cmd, check_state=check_state)
        if divergence is not None:
            return divergence
    return None


def run_stream(
    seed: int, n: int, *, check_state: bool = True, edge_prices: bool = True
) -> tuple[list[Command], Divergence | None]:
    """Generates and runs `n` commands of stream `seed`, stopping at the first divergence.

    Cancels and amends aim at the reference's live orders as they are at that step, so
    the stream depends on the seed and on the model (both deterministic). Returns the
    commands run (explicit, so :func:`shrink` and :func:`reproducer` need no generator)
    and the divergence, if any.
    """
    diff = Differential()
    gen = StreamGenerator(seed, live_ids=diff.reference.order_ids, edge_prices=edge_prices)
    commands: list[Command] = []
    for _ in range(n):
        cmd = gen()
        commands.append(cmd)
        divergence = diff.step(cmd, check_state=check_state)
        if divergence is not None:
            return commands, divergence
    return commands, None


# ---- shrinking and reproducers -----------------------------------------------------------


#: Keyword arguments that can be dropped from a command without making it malformed.
_OPTIONAL = {"submit": ("stp", "display_qty", "post_only", "tif"), "mass_cancel": ("symbol", "side")}


def shrink(
    commands: Sequence[Command],
    fails: Callable[[list[Command]], bool] | None = None,
    *,
    deadline_s: float = 120.0,
) -> list[Command]:
    """A smaller list that still `fails`, by delta debugging.

    The default `fails` is "diverges the same way" (same :attr:`Divergence.what`); it also
    cuts everything after the diverging step first. Then ddmin (Zeller): try dropping each
    of n chunks, refining the chunks when none can go, down to single commands; then try
    dropping optional arguments one at a time and renumbering the timestamps 1, 2, ...
    Stops after `deadline_s` seconds with the best list so far.
    """
    current = list(commands)
    if fails is None:
        first = run_and_compare(commands)
        if first is None:
            return current
        what = first.what
        current = current[: first.step + 1]

        def fails(cs: list[Command]) -> bool:
            divergence = run_and_compare(cs)
            return divergence is not None and divergence.what == what

    stop_at = time.monotonic() + deadline_s
    n = 2
    while len(current) >= 2 and time.monotonic() < stop_at:
        size = -(-len(current) // n)
        chunks = [current[i : i + size] for i in range(0, len(current), size)]
        for i in range(len(chunks)):
            complement = [c for j, chunk in enumerate(chunks) if j != i for c in chunk]
            if fails(complement):
                current = complement
                n = max(n - 1, 2)
                break
            if time.monotonic() >= stop_at:
                break
        else:
            if size == 1:
                break
            n = min(2 * n, len(current))
    for i in range(len(current)):
        for key in _OPTIONAL.get(current[i][0], ()):
            method, kwargs = current[i]
            if key in kwargs and time.monotonic() < stop_at:
                trial = [*current[:i], (method, {k: v for k, v in kwargs.items() if k != key}), *current[i + 1 :]]
                if fails(trial):
                    current = trial
    renumbered = [(method, {**kwargs, "ts": i + 1}) for i, (method, kwargs) in enumerate(current)]
    if all("ts" in kwargs for _, kwargs in current) and fails(renumbered):
        current = renumbered
    return current


def reproducer(commands: Sequence[Command], divergence: Divergence | None = None, title: str = "") -> str:
    """Python source that replays `commands` on both engines and reports the divergence."""
    doc = [title or "A divergence between pyengine.Engine and pyengine.reference.ReferenceEngine.", ""]
    doc.append("Run from the repository root: python <this file>  (exit status 1 while the divergence is there)")
    if divergence is not None:
        doc += ["", *str(divergence).splitlines()]
    body = "\n".join(doc).replace('"""', "'''").replace("\\", "\\\\")
    lines = [
        "# ruff: noqa",
        f'"""{body}\n"""',
        "",
        "import os",
        "import sys",
        "",
        "sys.path.insert(0, os.getcwd())  # run from the repository root: this checkout's pyengine",
        "",
        "from pyengine._differential import run_and_compare",
        "",
    ]
    lines.append("COMMANDS = [")
    lines += [f"    {cmd!r}," for cmd in commands]
    lines += [
        "]",
        "",
        'if __name__ == "__main__":',
        "    divergence = run_and_compare(COMMANDS)",
        '    print(divergence or "no divergence")',
        "    raise SystemExit(1 if divergence else 0)",
        "",
    ]
    return "\n".join(lines)
