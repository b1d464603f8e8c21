"""The gateway's scalar settings: each one's TOML key, environment variable, flag, default and check, and the
``--help`` parser built from them.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from pyengine.gateway.model import FSYNC_POLICIES

T = TypeVar("T")


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
        "journal.done_orders_kept",
        "PYENGINE_DONE_ORDERS_KEPT",
        "--done-orders-kept",
        int,
        1_000_000,
        "finished orders remembered for OrderStatusRequest and duplicate-ClOrdID checks (oldest forgotten first)",
        _range(0, 1_000_000_000, "done orders kept"),
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
