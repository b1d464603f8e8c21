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

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyengine.gateway.auth import verify_password
from pyengine.gateway.config_file import _Layers, _read_toml
from pyengine.gateway.model import (
    DEMO_CREDENTIALS,
    FSYNC_POLICIES,
    Account,
    AccountLimits,
    FixConfig,
    GatewayConfig,
    HttpConfig,
    Instrument,
    IntegrationsConfig,
    JournalConfig,
    JwtConfig,
    User,
    demo_accounts,
    demo_instruments,
    demo_users,
)
from pyengine.gateway.options import CONFIG_ENV, OPTIONS, Option, _from_string, build_parser, is_loopback

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
        journal=JournalConfig(
            data_dir=Path(_s(v["journal.data_dir"])),
            fsync=_s(v["journal.fsync"]),
            done_orders_kept=_i(v["journal.done_orders_kept"]),
        ),
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
