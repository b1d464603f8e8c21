"""The gateway configuration's data model: instruments, accounts and their limits, users, and the scalar
sections; plus the embedded demo data the gateway runs on with no configuration at all.

Loaded and validated by :func:`pyengine.gateway.config.load_config`; everything here is a frozen dataclass.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from pyengine.gateway.auth import hash_password

FSYNC_POLICIES: Final = ("always", "batch", "none")
MAX_PRICE_SCALE: Final = 18
I64_MAX: Final = 2**63 - 1
U64_MAX: Final = 2**64 - 1


@dataclass(frozen=True)
class Instrument:
    """A tradable instrument. ``tick_size``, ``price_band`` are in integer price units; quantities in lots' units.

    ``price_scale`` is the number of decimals in a FIX price: price units = decimal price * 10**price_scale,
    and that must be an exact multiple of ``tick_size`` (see :meth:`price_units`).
    """

    symbol: str
    tick_size: int = 1
    lot_size: int = 1
    min_qty: int | None = None
    max_qty: int | None = None
    price_band: int | None = None
    price_scale: int = 0

    def price_units(self, text: str) -> int:
        """Convert a FIX decimal price string to integer price units exactly; ValueError if off-scale or off-tick."""
        key = (self.price_scale, self.tick_size, text)
        units = _PRICE_UNITS.get(key)
        if units is None:
            units = self._parse_price(text)
            if len(_PRICE_UNITS) >= _PRICE_TEXT_MAX:
                _PRICE_UNITS.clear()
            _PRICE_UNITS[key] = units  # only prices that passed every check are cached
        return units

    def _parse_price(self, text: str) -> int:
        if not _DECIMAL_RE.fullmatch(text):
            raise ValueError(f"{self.symbol}: price {text!r} is not a plain decimal number")
        whole, _, frac = text.partition(".")
        frac = frac.rstrip("0")  # trailing zeros are exact: "100.10" at scale 1 is fine
        if len(frac) > self.price_scale:
            raise ValueError(f"{self.symbol}: price {text} has more than {self.price_scale} decimals")
        magnitude = int(whole.lstrip("-") + frac.ljust(self.price_scale, "0"))
        units = -magnitude if whole.startswith("-") else magnitude
        if not -I64_MAX <= units <= I64_MAX:
            raise ValueError(f"{self.symbol}: price {text} is out of range")
        if units % self.tick_size:
            raise ValueError(f"{self.symbol}: price {text} is not a multiple of the tick size {self.tick_str()}")
        return units

    def price_text(self, units: int) -> str:
        """Format integer price units as a FIX decimal string with ``price_scale`` decimals."""
        text = _PRICE_TEXT.get((self.price_scale, units))
        if text is None:
            if self.price_scale == 0:
                text = str(units)
            else:
                sign = "-" if units < 0 else ""
                whole, frac = divmod(abs(units), 10**self.price_scale)
                text = f"{sign}{whole}.{frac:0{self.price_scale}d}"
            if len(_PRICE_TEXT) >= _PRICE_TEXT_MAX:
                _PRICE_TEXT.clear()  # prices cluster near the touch: a small cache that restarts is enough
            _PRICE_TEXT[(self.price_scale, units)] = text
        return text

    def tick_str(self) -> str:
        return self.price_text(self.tick_size)


_DECIMAL_RE: Final = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
_PRICE_TEXT: dict[tuple[int, int], str] = {}
_PRICE_UNITS: dict[tuple[int, int, str], int] = {}  # (price_scale, tick_size, text) -> units, valid prices only
_PRICE_TEXT_MAX: Final = 65536


@dataclass(frozen=True)
class AccountLimits:
    """Pre-trade risk limits; ``None`` disables a limit.

    - ``max_order_qty``: largest quantity of one order.
    - ``max_notional``: largest decimal price * quantity of one order, in the quote currency.
    - ``price_collar_bps``: a limit price further than this many basis points from the last trade is refused.
    - ``max_open_orders``: most resting orders the account may have at once.
    """

    max_order_qty: int | None = None
    max_notional: int | None = None
    price_collar_bps: int | None = None
    max_open_orders: int | None = None


@dataclass(frozen=True)
class Account:
    name: str
    limits: AccountLimits = field(default_factory=AccountLimits)


@dataclass(frozen=True)
class User:
    """A FIX/HTTP login. ``password_hash`` is an :func:`~pyengine.gateway.auth.hash_password` string.

    ``rate_limit`` (messages per second) and ``rate_burst`` size the per-session token bucket.
    """

    username: str
    password_hash: str = field(repr=False)
    accounts: tuple[str, ...] = ()
    admin: bool = False
    rate_limit: float = 1000.0
    rate_burst: int = 2000
    cancel_on_disconnect: bool = False


@dataclass(frozen=True)
class FixConfig:
    host: str = "127.0.0.1"
    port: int = 9878
    heartbeat_interval: int = 30
    max_message_size: int = 65536


@dataclass(frozen=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class JournalConfig:
    data_dir: Path = Path("./data")
    fsync: str = "batch"
    done_orders_kept: int = 1_000_000


@dataclass(frozen=True)
class JwtConfig:
    """When ``jwks_url`` is set, a Logon password may carry a JWT checked against these keys and claims."""

    jwks_url: str | None = None
    issuer: str | None = None
    audience: str | None = None


@dataclass(frozen=True)
class IntegrationsConfig:
    kafka_bootstrap: str | None = None
    redis_url: str | None = None
    s3_bucket: str | None = None


@dataclass(frozen=True)
class GatewayConfig:
    fix: FixConfig = field(default_factory=FixConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    journal: JournalConfig = field(default_factory=JournalConfig)
    jwt: JwtConfig = field(default_factory=JwtConfig)
    integrations: IntegrationsConfig = field(default_factory=IntegrationsConfig)
    instruments: tuple[Instrument, ...] = ()
    accounts: tuple[Account, ...] = ()
    users: tuple[User, ...] = ()
    config_file: Path | None = None

    def instrument(self, symbol: str) -> Instrument:
        for inst in self.instruments:
            if inst.symbol == symbol:
                return inst
        raise KeyError(symbol)

    def account(self, name: str) -> Account:
        for acc in self.accounts:
            if acc.name == name:
                return acc
        raise KeyError(name)

    def user(self, username: str) -> User:
        for user in self.users:
            if user.username == username:
                return user
        raise KeyError(username)


# ---------------------------------------------------------------------------------------- embedded demo data

#: Demo username → password. Public (documented in the README), hence refused on a non-loopback bind.
DEMO_CREDENTIALS: Final[Mapping[str, str]] = {"demo": "demo", "demo2": "demo2", "admin": "admin"}


def demo_instruments() -> tuple[Instrument, ...]:
    return (
        Instrument("ACME", tick_size=1, lot_size=1, min_qty=1, max_qty=1_000_000, price_scale=2),
        Instrument("BTC-USD", tick_size=50, lot_size=1, min_qty=1, max_qty=10_000, price_scale=2),
    )


def demo_accounts() -> tuple[Account, ...]:
    limits = AccountLimits(
        max_order_qty=1_000_000, max_notional=1_000_000_000, price_collar_bps=1000, max_open_orders=100_000
    )
    return (Account("DEMO1", limits), Account("DEMO2", limits))


@functools.cache
def _demo_hashes() -> Mapping[str, str]:
    return {name: hash_password(password) for name, password in DEMO_CREDENTIALS.items()}


def demo_users() -> tuple[User, ...]:
    """The demo users; their hashes are computed once per process (fresh salt) with ``hash_password``."""
    hashes = _demo_hashes()
    rate, burst = 100_000.0, 20_000  # high, so the load generator can use the demo logins
    return (
        User("demo", hashes["demo"], ("DEMO1",), rate_limit=rate, rate_burst=burst),
        User("demo2", hashes["demo2"], ("DEMO2",), rate_limit=rate, rate_burst=burst, cancel_on_disconnect=True),
        User("admin", hashes["admin"], ("DEMO1", "DEMO2"), admin=True, rate_limit=rate, rate_burst=burst),
    )
