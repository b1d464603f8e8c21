"""The gateway's configuration: one model, filled from embedded defaults < TOML file < environment < flags.

::

    from pyengine.gateway.config import load_config

    config = load_config(None)              # sys.argv[1:] and os.environ
    config.fix.port, config.journal.fsync, config.instrument("ACME").price_scale

With no file, variables or flags the gateway runs on the embedded defaults: FIX on 127.0.0.1:9878, HTTP
on 127.0.0.1:8080, a journal under ``./data`` with ``fsync="batch"``, no JWT, Kafka, Redis or S3, and the
demo instruments, accounts and users below. The demo users' passwords are public, so a configuration that
binds FIX or HTTP to anything but loopback is refused while a demo user still has its demo password.

Demo credentials (username / password → accounts):

- ``demo`` / ``demo`` → ``DEMO1``
- ``demo2`` / ``demo2`` → ``DEMO2`` (cancel-on-disconnect on)
- ``admin`` / ``admin`` → ``DEMO1``, ``DEMO2``, admin (may use the kill switch)

Scalar settings can come from all three layers; see :data:`OPTIONS` (or ``--help``) for each one's TOML key,
environment variable and flag. Instruments, accounts and users come from the TOML file only, as arrays of
tables; a file that has ``[[users]]`` replaces the demo users entirely (likewise instruments and accounts)::

    [fix]
    host = "0.0.0.0"
    port = 9878

    [journal]
    data_dir = "/var/lib/pyengine"
    fsync = "always"

    [[instruments]]
    symbol = "ACME"
    tick_size = 1          # in price units
    lot_size = 1
    price_scale = 2        # FIX price "12.34" is 1234 price units

    [[accounts]]
    name = "ACC1"
    limits = { max_order_qty = 10000, max_notional = 1000000, price_collar_bps = 500, max_open_orders = 100 }

    [[users]]
    username = "alice"
    password_hash = "scrypt$16384$8$1$..."    # printf '%s' PASSWORD | python -m pyengine.gateway.auth hash
    accounts = ["ACC1"]

Every problem is a ``ValueError`` naming where the value came from (TOML key path, environment variable);
a bad flag is an argparse error (exit status 2). Unknown TOML keys are errors, so a typo never silently
falls back to a default.
"""

from __future__ import annotations

import argparse
import functools
import ipaddress
import os
import re
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Final, TypeVar

from pyengine.gateway.auth import hash_password, parse_hash, verify_password

__all__ = [
    "CONFIG_ENV",
    "DEMO_CREDENTIALS",
    "FSYNC_POLICIES",
    "OPTIONS",
    "Account",
    "AccountLimits",
    "FixConfig",
    "GatewayConfig",
    "HttpConfig",
    "Instrument",
    "IntegrationsConfig",
    "JournalConfig",
    "JwtConfig",
    "Option",
    "User",
    "build_parser",
    "demo_accounts",
    "demo_instruments",
    "demo_users",
    "is_loopback",
    "load_config",
    "validate",
]

FSYNC_POLICIES: Final = ("always", "batch", "none")
MAX_PRICE_SCALE: Final = 18
_I64_MAX: Final = 2**63 - 1
_U64_MAX: Final = 2**64 - 1

T = TypeVar("T")

# --------------------------------------------------------------------------------------------- the model


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
        if not _DECIMAL_RE.fullmatch(text):
            raise ValueError(f"{self.symbol}: price {text!r} is not a plain decimal number")
        scaled = Decimal(text).scaleb(self.price_scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{self.symbol}: price {text} has more than {self.price_scale} decimals")
        units = int(scaled)
        if not -_I64_MAX <= units <= _I64_MAX:
            raise ValueError(f"{self.symbol}: price {text} is out of range")
        if units % self.tick_size:
            raise ValueError(f"{self.symbol}: price {text} is not a multiple of the tick size {self.tick_str()}")
        return units

    def price_text(self, units: int) -> str:
        """Format integer price units as a FIX decimal string with ``price_scale`` decimals."""
        if self.price_scale == 0:
            return str(units)
        sign = "-" if units < 0 else ""
        whole, frac = divmod(abs(units), 10**self.price_scale)
        return f"{sign}{whole}.{frac:0{self.price_scale}d}"

    def tick_str(self) -> str:
        return self.price_text(self.tick_size)


_DECIMAL_RE: Final = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")


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


# ---------------------------------------------------------------------------------------- value checks


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1 (also written ``[::1]``)."""
    h = host.strip().lower().strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def _check_port(v: int) -> int:
    if not 1 <= v <= 65535:
        raise ValueError(f"port {v} is outside 1..65535")
    return v


def _check_host(v: str) -> str:
    if not v or any(c.isspace() for c in v):
        raise ValueError(f"host {v!r} must be a non-empty name or address without spaces")
    return v


def _check_fsync(v: str) -> str:
    if v not in FSYNC_POLICIES:
        raise ValueError(f"fsync {v!r} must be one of {', '.join(FSYNC_POLICIES)}")
    return v


def _check_nonempty(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty")
    return v


def _range(low: int, high: int, what: str) -> Callable[[int], int]:
    def check(v: int) -> int:
        if not low <= v <= high:
            raise ValueError(f"{what} {v} is outside {low}..{high}")
        return v

    return check


def _check_url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def check(v: str) -> str:
        if not any(v.startswith(s + "://") and len(v) > len(s) + 3 for s in schemes):
            raise ValueError(f"URL {v!r} must start with {' or '.join(s + '://' for s in schemes)}")
        return v

    return check


def _check_bootstrap(v: str) -> str:
    for server in v.split(","):
        host, sep, port = server.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"bootstrap server {server.strip()!r} must be host:port (comma-separated list)")
    return v


_BUCKET_RE: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _check_bucket(v: str) -> str:
    if not _BUCKET_RE.fullmatch(v) or ".." in v:
        raise ValueError(f"S3 bucket name {v!r} must be 3-63 characters of a-z, 0-9, '.', '-'")
    return v


# ------------------------------------------------------------------------------------------ scalar options


@dataclass(frozen=True)
class Option:
    """One scalar setting: its TOML key (``section.name``), environment variable, flag and check."""

    key: str
    env: str
    flag: str
    kind: type  # int or str
    default: object
    help: str
    check: Callable[[object], object]
    optional: bool = False  # may be unset (None); an empty string from env/flag unsets it

    @property
    def section(self) -> str:
        return self.key.partition(".")[0]

    @property
    def name(self) -> str:
        return self.key.partition(".")[2]

    @property
    def dest(self) -> str:
        return self.key.replace(".", "__")


def _opt(
    key: str, env: str, flag: str, kind: type[T], default: T | None, help: str, check: Callable[[T], T], **kw: bool
) -> Option:
    return Option(key, env, flag, kind, default, help, check, **kw)  # type: ignore[arg-type]


_ident: Callable[[str], str] = _check_nonempty

#: Every scalar setting, in ``--help`` order.
OPTIONS: Final[tuple[Option, ...]] = (
    _opt("fix.host", "PYENGINE_FIX_HOST", "--fix-host", str, "127.0.0.1", "FIX acceptor listen address", _check_host),
    _opt("fix.port", "PYENGINE_FIX_PORT", "--fix-port", int, 9878, "FIX acceptor listen port", _check_port),
    _opt(
        "fix.heartbeat_interval",
        "PYENGINE_HEARTBEAT_INTERVAL",
        "--heartbeat-interval",
        int,
        30,
        "heartbeat interval in seconds (HeartBtInt) when the client does not ask for one",
        _range(1, 3600, "heartbeat interval"),
    ),
    _opt(
        "fix.max_message_size",
        "PYENGINE_MAX_MESSAGE_SIZE",
        "--max-message-size",
        int,
        65536,
        "largest FIX message in bytes; a bigger one disconnects its session",
        _range(128, 1 << 24, "max message size"),
    ),
    _opt(
        "http.host",
        "PYENGINE_HTTP_HOST",
        "--http-host",
        str,
        "127.0.0.1",
        "HTTP (health, metrics, admin) address",
        _check_host,
    ),
    _opt("http.port", "PYENGINE_HTTP_PORT", "--http-port", int, 8080, "HTTP listen port", _check_port),
    _opt(
        "journal.data_dir",
        "PYENGINE_DATA_DIR",
        "--data-dir",
        str,
        "./data",
        "directory of the journal and session state",
        _check_nonempty,
    ),
    _opt(
        "journal.fsync",
        "PYENGINE_FSYNC",
        "--fsync",
        str,
        "batch",
        "journal fsync policy: always, batch (group commit) or none",
        _check_fsync,
    ),
    _opt(
        "jwt.jwks_url",
        "PYENGINE_JWKS_URL",
        "--jwks-url",
        str,
        None,
        "JWKS URL; when set, a Logon password may be a JWT (needs an issuer)",
        _check_url(("https", "http")),
        optional=True,
    ),
    _opt(
        "jwt.issuer", "PYENGINE_JWT_ISSUER", "--jwt-issuer", str, None, "required JWT iss claim", _ident, optional=True
    ),
    _opt(
        "jwt.audience",
        "PYENGINE_JWT_AUDIENCE",
        "--jwt-audience",
        str,
        None,
        "required JWT audience (aud, or client_id for access tokens)",
        _ident,
        optional=True,
    ),
    _opt(
        "kafka.bootstrap_servers",
        "PYENGINE_KAFKA_BOOTSTRAP",
        "--kafka-bootstrap",
        str,
        None,
        "Kafka bootstrap servers host:port[,host:port...]; unset = no Kafka",
        _check_bootstrap,
        optional=True,
    ),
    _opt(
        "redis.url",
        "PYENGINE_REDIS_URL",
        "--redis-url",
        str,
        None,
        "Redis URL; unset = no Redis",
        _check_url(("redis", "rediss", "unix")),
        optional=True,
    ),
    _opt(
        "s3.bucket",
        "PYENGINE_S3_BUCKET",
        "--s3-bucket",
        str,
        None,
        "S3 bucket for snapshots; unset = no S3",
        _check_bucket,
        optional=True,
    ),
)

_OPTIONS_BY_KEY: Final = {o.key: o for o in OPTIONS}
_SECTIONS: Final = tuple(dict.fromkeys(o.section for o in OPTIONS))
_LISTS: Final = ("instruments", "accounts", "users")
CONFIG_ENV: Final = "PYENGINE_CONFIG"


def _flag_type(opt: Option) -> Callable[[str], object]:
    def convert(text: str) -> object:
        try:
            return _from_string(opt, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    return convert


def _from_string(opt: Option, text: str) -> object:
    """An environment variable's or a flag's text → a checked value (``None`` for an empty optional)."""
    if opt.optional and text == "":
        return None
    if opt.kind is int:
        try:
            value: object = int(text.strip(), 10)
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
    else:
        value = text
    return opt.check(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pyengine.gateway",
        description=(
            "FIX 4.4 order-entry gateway. Settings come from embedded defaults, overridden by a TOML file, "
            "overridden by environment variables, overridden by these flags. With none of them the gateway "
            "listens on loopback only with demo instruments, accounts and users (demo/demo, demo2/demo2, "
            "admin/admin); demo passwords are refused on a non-loopback address."
        ),
        epilog=(
            "Instruments, accounts and users are configured in the TOML file only ([[instruments]], [[accounts]], "
            "[[users]]); see pyengine/gateway/config.py. Hash a password for the file with: "
            "printf '%s' PASSWORD | python -m pyengine.gateway.auth hash. "
            "An empty environment variable or flag value unsets an optional setting."
        ),
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help=f"TOML configuration file [default: none] [env: {CONFIG_ENV}]",
    )
    for opt in OPTIONS:
        default = "unset" if opt.default is None else opt.default
        parser.add_argument(
            opt.flag,
            dest=opt.dest,
            metavar=opt.name.upper().rsplit("_", 1)[-1] if opt.kind is str else "N",
            type=_flag_type(opt),
            default=argparse.SUPPRESS,
            help=f"{opt.help} [default: {default}] [env: {opt.env}] [toml: {opt.key}]".replace("%", "%%"),
        )
    return parser


# ------------------------------------------------------------------------------------------- TOML reading

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

    def get_int(self, key: str, default: int | None, low: int = 1, high: int = _I64_MAX) -> int | None:
        v = self.raw(key)
        if v is _MISSING:
            return default
        if not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"{self.at(key)}: expected an integer, got {_type_name(v)}")
        if not low <= v <= high:
            raise ValueError(f"{self.at(key)}: {v} is outside {low}..{high}")
        return v

    def get_req_int(self, key: str, default: int, low: int = 1, high: int = _I64_MAX) -> int:
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
        lot_size=t.get_req_int("lot_size", 1, high=_U64_MAX),
        min_qty=t.get_int("min_qty", None, high=_U64_MAX),
        max_qty=t.get_int("max_qty", None, high=_U64_MAX),
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
            max_order_qty=lt.get_int("max_order_qty", None, high=_U64_MAX),
            max_notional=lt.get_int("max_notional", None, high=2**127),
            price_collar_bps=lt.get_int("price_collar_bps", None, high=1_000_000),
            max_open_orders=lt.get_int("max_open_orders", None, high=_U64_MAX),
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


# ------------------------------------------------------------------------------------------- assembling


def _unique(names: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate {what} {name!r}")
        seen.add(name)


def _check_demo_credentials(config: GatewayConfig, sources: Mapping[str, str]) -> None:
    public = [
        (key, host)
        for key, host in (("fix.host", config.fix.host), ("http.host", config.http.host))
        if not is_loopback(host)
    ]
    if not public:
        return
    demo = [
        u.username
        for u in config.users
        if u.username in DEMO_CREDENTIALS and verify_password(DEMO_CREDENTIALS[u.username], u.password_hash)
    ]
    if demo:
        binds = ", ".join(f"{key}={host!r} (from {sources.get(key, 'default')})" for key, host in public)
        raise ValueError(
            f"refusing to listen on a non-loopback address ({binds}) while user(s) {', '.join(demo)} still have "
            "the public demo password; configure your own [[users]] with password hashes in the TOML file "
            "(printf '%s' PASSWORD | python -m pyengine.gateway.auth hash), or bind to 127.0.0.1"
        )


def load_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> GatewayConfig:
    """Build the configuration from defaults < TOML (``--config`` or ``$PYENGINE_CONFIG``) < environment < flags.

    ``argv`` defaults to ``sys.argv[1:]`` and ``env`` to ``os.environ``. A bad flag exits through argparse
    (status 2); every other problem is a ValueError.
    """
    if env is None:
        env = os.environ
    parser = build_parser()
    ns = parser.parse_args(list(sys.argv[1:] if argv is None else argv))

    layers = _Layers(values={o.key: o.default for o in OPTIONS}, sources={})
    config_path: str | None = ns.config if ns.config is not None else (env.get(CONFIG_ENV) or None)
    if config_path is not None:
        _read_toml(Path(config_path), layers)
    for opt in OPTIONS:
        text = env.get(opt.env)
        if text is None:
            continue
        try:
            layers.values[opt.key] = _from_string(opt, text)
        except ValueError as exc:
            raise ValueError(f"environment variable {opt.env}={text!r}: {exc}") from None
        layers.sources[opt.key] = f"environment {opt.env}"
    for opt in OPTIONS:
        if hasattr(ns, opt.dest):
            layers.values[opt.key] = getattr(ns, opt.dest)
            layers.sources[opt.key] = f"flag {opt.flag}"

    v = layers.values
    config = GatewayConfig(
        fix=FixConfig(
            host=_s(v["fix.host"]),
            port=_i(v["fix.port"]),
            heartbeat_interval=_i(v["fix.heartbeat_interval"]),
            max_message_size=_i(v["fix.max_message_size"]),
        ),
        http=HttpConfig(host=_s(v["http.host"]), port=_i(v["http.port"])),
        journal=JournalConfig(data_dir=Path(_s(v["journal.data_dir"])), fsync=_s(v["journal.fsync"])),
        jwt=JwtConfig(jwks_url=_os(v["jwt.jwks_url"]), issuer=_os(v["jwt.issuer"]), audience=_os(v["jwt.audience"])),
        integrations=IntegrationsConfig(
            kafka_bootstrap=_os(v["kafka.bootstrap_servers"]),
            redis_url=_os(v["redis.url"]),
            s3_bucket=_os(v["s3.bucket"]),
        ),
        instruments=demo_instruments() if layers.instruments is None else layers.instruments,
        accounts=demo_accounts() if layers.accounts is None else layers.accounts,
        users=demo_users() if layers.users is None else layers.users,
        config_file=None if config_path is None else Path(config_path),
    )
    validate(config, layers.sources)
    return config


def _s(v: object) -> str:
    assert isinstance(v, str)
    return v


def _os(v: object) -> str | None:
    assert v is None or isinstance(v, str)
    return v


def _i(v: object) -> int:
    assert isinstance(v, int)
    return v


def validate(config: GatewayConfig, sources: Mapping[str, str] | None = None) -> None:
    """Cross-field checks on a complete configuration; ValueError on the first problem."""
    sources = sources or {}
    if not config.instruments:
        raise ValueError("no instruments configured")
    _unique([i.symbol for i in config.instruments], "instrument symbol")
    _unique([a.name for a in config.accounts], "account name")
    _unique([u.username for u in config.users], "username")
    for inst in config.instruments:
        if inst.max_qty is not None and inst.max_qty < inst.lot_size:
            raise ValueError(f"instrument {inst.symbol}: max_qty {inst.max_qty} is below lot_size {inst.lot_size}")
    account_names = {a.name for a in config.accounts}
    for user in config.users:
        for name in user.accounts:
            if name not in account_names:
                raise ValueError(
                    f"user {user.username}: unknown account {name!r} (configured: "
                    f"{', '.join(sorted(account_names)) or 'none'})"
                )
        if not user.accounts and not user.admin:
            raise ValueError(f"user {user.username}: no accounts to trade and not an admin")
    if config.jwt.jwks_url is not None and config.jwt.issuer is None:
        raise ValueError("jwt.jwks_url is set but jwt.issuer is not: tokens must be checked against an issuer")
    if config.fix.host == config.http.host and config.fix.port == config.http.port:
        raise ValueError(f"FIX and HTTP both listen on {config.fix.host}:{config.fix.port}")
    _check_demo_credentials(config, sources)
