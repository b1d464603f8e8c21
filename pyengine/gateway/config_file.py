"""Reading the gateway's TOML configuration file: typed tables that reject unknown keys, and the parsers
of ``[[instruments]]``, ``[[accounts]]`` and ``[[users]]``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

from pyengine.gateway.auth import parse_hash
from pyengine.gateway.model import I64_MAX, MAX_PRICE_SCALE, U64_MAX, Account, AccountLimits, Instrument, User
from pyengine.gateway.options import _LISTS, _OPTIONS_BY_KEY, _SECTIONS, OPTIONS

T = TypeVar("T")

_MISSING: Final = object()


def _type_name(v: object) -> str:
    return {bool: "boolean", int: "integer", float: "float", str: "string", list: "array", dict: "table"}.get(
        type(v), type(v).__name__
    )


class _Table:
    """Typed access to one TOML table at ``path``, rejecting keys nobody asked for."""

    def __init__(self, data: object, path: str, known: Sequence[str]) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a table, got {_type_name(data)}")
        self.data: dict[str, object] = data
        self.path = path
        for key in data:
            if key not in known:
                raise ValueError(f"{self.at(key)}: unknown key (expected one of: {', '.join(known)})")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str) -> object:
        return self.data.get(key, _MISSING)

    def get_str(self, key: str, default: object = _MISSING) -> str:
        v = self.raw(key)
        if v is _MISSING:
            if default is _MISSING:
                raise ValueError(f"{self.at(key)}: required")
            return default  # type: ignore[return-value]
        if not isinstance(v, str):
            raise ValueError(f"{self.at(key)}: expected a string, got {_type_name(v)}")
        if not v.strip():
            raise ValueError(f"{self.at(key)}: must not be empty")
        return v

    def get_int(self, key: str, default: int | None, low: int = 1, high: int = I64_MAX) -> int | None:
        v = self.raw(key)
        if v is _MISSING:
            return default
        if not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"{self.at(key)}: expected an integer, got {_type_name(v)}")
        if not low <= v <= high:
            raise ValueError(f"{self.at(key)}: {v} is outside {low}..{high}")
        return v

    def get_req_int(self, key: str, default: int, low: int = 1, high: int = I64_MAX) -> int:
        v = self.get_int(key, default, low, high)
        assert v is not None
        return v

    def get_float(self, key: str, default: float) -> float:
        v = self.raw(key)
        if v is _MISSING:
            return default
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise ValueError(f"{self.at(key)}: expected a number, got {_type_name(v)}")
        if not 0 < v < float("inf"):
            raise ValueError(f"{self.at(key)}: {v} must be a positive finite number")
        return float(v)

    def get_bool(self, key: str, default: bool) -> bool:
        v = self.raw(key)
        if v is _MISSING:
            return default
        if not isinstance(v, bool):
            raise ValueError(f"{self.at(key)}: expected true or false, got {_type_name(v)}")
        return v

    def get_str_list(self, key: str) -> tuple[str, ...]:
        v = self.raw(key)
        if v is _MISSING:
            return ()
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ValueError(f"{self.at(key)}: expected an array of strings")
        return tuple(v)

    def get_table_list(self, key: str) -> list[object]:
        v = self.data[key]
        if not isinstance(v, list):
            raise ValueError(f"{self.at(key)}: expected an array of tables ([[{key}]]), got {_type_name(v)}")
        return v


def _symbol_like(table: _Table, key: str) -> str:
    v = table.get_str(key)
    if any(c.isspace() or not c.isprintable() or c in "\x01=|" for c in v) or len(v) > 64:
        raise ValueError(f"{table.at(key)}: {v!r} must be 1-64 printable characters without spaces, '=' or '|'")
    return v


def _parse_instrument(data: object, path: str) -> Instrument:
    t = _Table(data, path, ("symbol", "tick_size", "lot_size", "min_qty", "max_qty", "price_band", "price_scale"))
    inst = Instrument(
        symbol=_symbol_like(t, "symbol"),
        tick_size=t.get_req_int("tick_size", 1),
        lot_size=t.get_req_int("lot_size", 1, high=U64_MAX),
        min_qty=t.get_int("min_qty", None, high=U64_MAX),
        max_qty=t.get_int("max_qty", None, high=U64_MAX),
        price_band=t.get_int("price_band", None),
        price_scale=t.get_req_int("price_scale", 0, low=0, high=MAX_PRICE_SCALE),
    )
    if inst.min_qty is not None and inst.max_qty is not None and inst.min_qty > inst.max_qty:
        raise ValueError(f"{path}: min_qty {inst.min_qty} is above max_qty {inst.max_qty}")
    return inst


def _parse_account(data: object, path: str) -> Account:
    t = _Table(data, path, ("name", "limits"))
    raw_limits = t.raw("limits")
    limits = AccountLimits()
    if raw_limits is not _MISSING:
        limit_keys = ("max_order_qty", "max_notional", "price_collar_bps", "max_open_orders")
        lt = _Table(raw_limits, t.at("limits"), limit_keys)
        limits = AccountLimits(
            max_order_qty=lt.get_int("max_order_qty", None, high=U64_MAX),
            max_notional=lt.get_int("max_notional", None, high=2**127),
            price_collar_bps=lt.get_int("price_collar_bps", None, high=1_000_000),
            max_open_orders=lt.get_int("max_open_orders", None, high=U64_MAX),
        )
    return Account(_symbol_like(t, "name"), limits)


def _parse_user(data: object, path: str) -> User:
    t = _Table(
        data,
        path,
        ("username", "password_hash", "accounts", "admin", "rate_limit", "rate_burst", "cancel_on_disconnect"),
    )
    password_hash = t.get_str("password_hash")
    try:
        parse_hash(password_hash)
    except ValueError as exc:
        raise ValueError(f"{t.at('password_hash')}: {exc}") from None
    return User(
        username=_symbol_like(t, "username"),
        password_hash=password_hash,
        accounts=t.get_str_list("accounts"),
        admin=t.get_bool("admin", False),
        rate_limit=t.get_float("rate_limit", User.rate_limit),
        rate_burst=t.get_req_int("rate_burst", User.rate_burst, high=2**32),
        cancel_on_disconnect=t.get_bool("cancel_on_disconnect", False),
    )


_Parser = Callable[[object, str], T]


def _parse_list(doc: _Table, key: str, parse: _Parser[T]) -> tuple[T, ...]:
    return tuple(parse(item, f"{key}[{i}]") for i, item in enumerate(doc.get_table_list(key)))


@dataclass
class _Layers:
    """Scalar values with where each came from, and the record lists (None = keep the demo data)."""

    values: dict[str, object]
    sources: dict[str, str]
    instruments: tuple[Instrument, ...] | None = None
    accounts: tuple[Account, ...] | None = None
    users: tuple[User, ...] | None = None


def _read_toml(path: Path, layers: _Layers) -> None:
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ValueError(f"config file {path}: not found") from None
    except OSError as exc:
        raise ValueError(f"config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {path}: invalid TOML: {exc}") from None
    try:
        top = _Table(doc, "", (*_SECTIONS, *_LISTS))
        for section in _SECTIONS:
            if section not in doc:
                continue
            names = [o.name for o in OPTIONS if o.section == section]
            sec = _Table(doc[section], section, names)
            for name, raw in sec.data.items():
                opt = _OPTIONS_BY_KEY[f"{section}.{name}"]
                if opt.kind is int and (not isinstance(raw, int) or isinstance(raw, bool)):
                    raise ValueError(f"{opt.key}: expected an integer, got {_type_name(raw)}")
                if opt.kind is str and not isinstance(raw, str):
                    raise ValueError(f"{opt.key}: expected a string, got {_type_name(raw)}")
                try:
                    layers.values[opt.key] = opt.check(raw)
                except ValueError as exc:
                    raise ValueError(f"{opt.key}: {exc}") from None
                layers.sources[opt.key] = f"{path} {opt.key}"
        if "instruments" in doc:
            layers.instruments = _parse_list(top, "instruments", _parse_instrument)
        if "accounts" in doc:
            layers.accounts = _parse_list(top, "accounts", _parse_account)
        if "users" in doc:
            layers.users = _parse_list(top, "users", _parse_user)
    except ValueError as exc:
        raise ValueError(f"config file {path}: {exc}") from None
