"""The gateway configuration model: defaults < TOML < environment < flags, validation, demo credentials, hashing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyengine.gateway.auth import hash_password, parse_hash, verify_password
from pyengine.gateway.config import (
    DEMO_CREDENTIALS,
    OPTIONS,
    GatewayConfig,
    Instrument,
    build_parser,
    is_loopback,
    load_config,
)

ALICE_HASH = hash_password("correct horse battery staple")

ALICE_USERS = f"""
[[accounts]]
name = "ACC1"

[[users]]
username = "alice"
password_hash = "{ALICE_HASH}"
accounts = ["ACC1"]
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return str(path)


def load_toml(
    tmp_path: Path, text: str, env: dict[str, str] | None = None, argv: list[str] | None = None
) -> GatewayConfig:
    return load_config(["--config", write(tmp_path, text), *(argv or [])], env or {})


# --------------------------------------------------------------------------------------------- defaults


def test_defaults() -> None:
    c = load_config([], {})
    assert (c.fix.host, c.fix.port) == ("127.0.0.1", 9878)
    assert (c.http.host, c.http.port) == ("127.0.0.1", 8080)
    assert c.journal.data_dir == Path("./data")
    assert c.journal.fsync == "batch"
    assert c.fix.heartbeat_interval == 30
    assert c.fix.max_message_size == 65536
    assert (c.jwt.jwks_url, c.jwt.issuer, c.jwt.audience) == (None, None, None)
    assert (c.integrations.kafka_bootstrap, c.integrations.redis_url, c.integrations.s3_bucket) == (None, None, None)
    assert c.config_file is None
    assert [i.symbol for i in c.instruments] == ["ACME", "BTC-USD"]
    assert c.instrument("BTC-USD").price_scale == 2
    assert [a.name for a in c.accounts] == ["DEMO1", "DEMO2"]
    assert {u.username for u in c.users} == set(DEMO_CREDENTIALS)
    assert c.user("admin").admin and not c.user("demo").admin
    for user in c.users:
        assert verify_password(DEMO_CREDENTIALS[user.username], user.password_hash)
        assert not verify_password("wrong", user.password_hash)
        assert all(c.account(a) for a in user.accounts)


def test_argv_none_reads_sys_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["gateway", "--fix-port", "7001"])
    assert load_config(None, {}).fix.port == 7001


def test_password_hash_not_in_repr() -> None:
    c = load_config([], {})
    assert "scrypt$" not in repr(c.users[0])


# --------------------------------------------------------------------------------------------- layering

FULL_TOML = f"""
[fix]
host = "127.0.0.2"
port = 7000
heartbeat_interval = 10
max_message_size = 4096

[http]
host = "localhost"
port = 7080

[journal]
data_dir = "/tmp/journal"
fsync = "always"
done_orders_kept = 77

[jwt]
jwks_url = "https://cognito-idp.example/.well-known/jwks.json"
issuer = "https://cognito-idp.example/pool"
audience = "client123"

[kafka]
bootstrap_servers = "127.0.0.1:9092,127.0.0.1:9093"

[redis]
url = "redis://127.0.0.1:6379/0"

[s3]
bucket = "pyengine-snapshots"

[[instruments]]
symbol = "XYZ"
tick_size = 5
lot_size = 10
min_qty = 10
max_qty = 1000
price_band = 500
price_scale = 3

[[accounts]]
name = "ACC1"
limits = {{ max_order_qty = 100, max_notional = 5000, price_collar_bps = 250, max_open_orders = 7 }}

[[accounts]]
name = "ACC2"

[[users]]
username = "alice"
password_hash = "{ALICE_HASH}"
accounts = ["ACC1", "ACC2"]
admin = true
rate_limit = 50.5
rate_burst = 20
cancel_on_disconnect = true
"""


def test_toml_overrides_defaults(tmp_path: Path) -> None:
    c = load_toml(tmp_path, FULL_TOML)
    assert (c.fix.host, c.fix.port, c.fix.heartbeat_interval, c.fix.max_message_size) == ("127.0.0.2", 7000, 10, 4096)
    assert (c.http.host, c.http.port) == ("localhost", 7080)
    assert (c.journal.data_dir, c.journal.fsync, c.journal.done_orders_kept) == (Path("/tmp/journal"), "always", 77)
    assert c.jwt.issuer == "https://cognito-idp.example/pool" and c.jwt.audience == "client123"
    assert c.integrations.kafka_bootstrap == "127.0.0.1:9092,127.0.0.1:9093"
    assert c.integrations.redis_url == "redis://127.0.0.1:6379/0"
    assert c.integrations.s3_bucket == "pyengine-snapshots"
    assert c.instruments == (Instrument("XYZ", 5, 10, 10, 1000, 500, 3),)
    acc1 = c.account("ACC1").limits
    assert (acc1.max_order_qty, acc1.max_notional, acc1.price_collar_bps, acc1.max_open_orders) == (100, 5000, 250, 7)
    assert c.account("ACC2").limits.max_order_qty is None
    (alice,) = c.users
    assert alice.accounts == ("ACC1", "ACC2") and alice.admin and alice.cancel_on_disconnect
    assert (alice.rate_limit, alice.rate_burst) == (50.5, 20)
    assert verify_password("correct horse battery staple", alice.password_hash)
    assert c.config_file == Path(tmp_path / "gateway.toml")


def test_partial_toml_keeps_other_defaults(tmp_path: Path) -> None:
    c = load_toml(tmp_path, "[fix]\nport = 7000\n")
    assert c.fix.port == 7000 and c.fix.host == "127.0.0.1" and c.http.port == 8080
    assert [i.symbol for i in c.instruments] == ["ACME", "BTC-USD"]
    assert {u.username for u in c.users} == set(DEMO_CREDENTIALS)


def test_config_path_from_env(tmp_path: Path) -> None:
    path = write(tmp_path, "[fix]\nport = 7001\n")
    assert load_config([], {"PYENGINE_CONFIG": path}).fix.port == 7001
    other = tmp_path / "other.toml"
    other.write_text("[fix]\nport = 7002\n")
    assert load_config(["--config", str(other)], {"PYENGINE_CONFIG": path}).fix.port == 7002


ENV_ALL = {
    "PYENGINE_FIX_HOST": "127.0.0.3",
    "PYENGINE_FIX_PORT": "7100",
    "PYENGINE_HEARTBEAT_INTERVAL": "15",
    "PYENGINE_MAX_MESSAGE_SIZE": "8192",
    "PYENGINE_HTTP_HOST": "::1",
    "PYENGINE_HTTP_PORT": "7180",
    "PYENGINE_DATA_DIR": "/tmp/envdata",
    "PYENGINE_FSYNC": "none",
    "PYENGINE_DONE_ORDERS_KEPT": "5000",
    "PYENGINE_JWKS_URL": "https://env.example/jwks.json",
    "PYENGINE_JWT_ISSUER": "https://env.example",
    "PYENGINE_JWT_AUDIENCE": "envaud",
    "PYENGINE_KAFKA_BOOTSTRAP": "localhost:19092",
    "PYENGINE_REDIS_URL": "rediss://localhost:6380",
    "PYENGINE_S3_BUCKET": "env-bucket",
}


def test_env_overrides_toml(tmp_path: Path) -> None:
    assert set(ENV_ALL) == {o.env for o in OPTIONS}
    c = load_toml(tmp_path, FULL_TOML, env=ENV_ALL)
    assert (c.fix.host, c.fix.port, c.fix.heartbeat_interval, c.fix.max_message_size) == ("127.0.0.3", 7100, 15, 8192)
    assert (c.http.host, c.http.port) == ("::1", 7180)
    assert (c.journal.data_dir, c.journal.fsync, c.journal.done_orders_kept) == (Path("/tmp/envdata"), "none", 5000)
    assert (c.jwt.jwks_url, c.jwt.issuer, c.jwt.audience) == (
        "https://env.example/jwks.json",
        "https://env.example",
        "envaud",
    )
    assert c.integrations.kafka_bootstrap == "localhost:19092"
    assert c.integrations.redis_url == "rediss://localhost:6380"
    assert c.integrations.s3_bucket == "env-bucket"
    assert c.users[0].username == "alice"  # records still come from the file


def test_empty_env_unsets_optional(tmp_path: Path) -> None:
    c = load_toml(tmp_path, FULL_TOML, env={"PYENGINE_REDIS_URL": "", "PYENGINE_S3_BUCKET": ""})
    assert c.integrations.redis_url is None and c.integrations.s3_bucket is None
    assert c.integrations.kafka_bootstrap is not None


def test_flags_override_env(tmp_path: Path) -> None:
    flags = [
        "--fix-host=127.0.0.4",
        "--fix-port=7200",
        "--heartbeat-interval=20",
        "--max-message-size=2048",
        "--http-host=127.0.0.5",
        "--http-port=7280",
        "--data-dir=/tmp/flagdata",
        "--fsync=batch",
        "--done-orders-kept=0",
        "--jwks-url=http://flag.example/jwks",
        "--jwt-issuer=flag-iss",
        "--jwt-audience=flag-aud",
        "--kafka-bootstrap=kafka:9092",
        "--redis-url=unix:///tmp/redis.sock",
        "--s3-bucket=flag.bucket",
    ]
    assert {f.partition("=")[0] for f in flags} == {o.flag for o in OPTIONS}
    c = load_toml(tmp_path, FULL_TOML, env=ENV_ALL, argv=flags)
    assert (c.fix.host, c.fix.port, c.fix.heartbeat_interval, c.fix.max_message_size) == ("127.0.0.4", 7200, 20, 2048)
    assert (c.http.host, c.http.port) == ("127.0.0.5", 7280)
    assert (c.journal.data_dir, c.journal.fsync, c.journal.done_orders_kept) == (Path("/tmp/flagdata"), "batch", 0)
    assert (c.jwt.jwks_url, c.jwt.issuer, c.jwt.audience) == ("http://flag.example/jwks", "flag-iss", "flag-aud")
    assert c.integrations.kafka_bootstrap == "kafka:9092"
    assert c.integrations.redis_url == "unix:///tmp/redis.sock"
    assert c.integrations.s3_bucket == "flag.bucket"


def test_flag_empty_unsets_optional(tmp_path: Path) -> None:
    c = load_toml(tmp_path, FULL_TOML, env=ENV_ALL, argv=["--kafka-bootstrap="])
    assert c.integrations.kafka_bootstrap is None
    assert c.integrations.redis_url == "rediss://localhost:6380"


def test_help_lists_every_option() -> None:
    text = build_parser().format_help()
    flat = " ".join(text.split())
    assert "--config" in flat and "PYENGINE_CONFIG" in flat
    for opt in OPTIONS:
        assert opt.flag in flat and opt.env in flat and f"toml: {opt.key}" in flat
        default = "unset" if opt.default is None else str(opt.default)
        assert f"[default: {default}] [env: {opt.env}]" in flat
    for action in build_parser()._actions:
        for s in action.option_strings:
            assert s in flat


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        load_config(["--help"], {})
    assert exc.value.code == 0
    assert "PYENGINE_FIX_PORT" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PYENGINE_FIX_PORT": "0"}, r"PYENGINE_FIX_PORT='0': port 0 is outside 1\.\.65535"),
        ({"PYENGINE_HTTP_PORT": "65536"}, "PYENGINE_HTTP_PORT.*outside 1..65535"),
        ({"PYENGINE_FIX_PORT": "abc"}, "PYENGINE_FIX_PORT.*not an integer"),
        ({"PYENGINE_FSYNC": "sometimes"}, "PYENGINE_FSYNC.*always, batch, none"),
        ({"PYENGINE_FIX_HOST": ""}, "PYENGINE_FIX_HOST.*non-empty"),
        ({"PYENGINE_HEARTBEAT_INTERVAL": "0"}, "heartbeat interval 0"),
        ({"PYENGINE_MAX_MESSAGE_SIZE": "10"}, "max message size 10"),
        ({"PYENGINE_DONE_ORDERS_KEPT": "-1"}, "done orders kept -1"),
        ({"PYENGINE_REDIS_URL": "localhost:6379"}, "PYENGINE_REDIS_URL.*redis://"),
        ({"PYENGINE_KAFKA_BOOTSTRAP": "localhost"}, "PYENGINE_KAFKA_BOOTSTRAP.*host:port"),
        ({"PYENGINE_S3_BUCKET": "Bad_Bucket"}, "PYENGINE_S3_BUCKET.*S3 bucket"),
        ({"PYENGINE_JWKS_URL": "ftp://x"}, "PYENGINE_JWKS_URL.*https://"),
        ({"PYENGINE_JWKS_URL": "https://x/jwks"}, "jwt.issuer is not"),
        ({"PYENGINE_HTTP_PORT": "9878"}, "FIX and HTTP both listen"),
    ],
)
def test_env_validation(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_config([], env)


@pytest.mark.parametrize(
    "argv",
    [
        ["--fix-port", "0"],
        ["--http-port", "70000"],
        ["--fix-port", "x"],
        ["--fsync", "sometimes"],
        ["--redis-url", "nope"],
        ["--no-such-flag"],
    ],
)
def test_flag_validation_is_argparse_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        load_config(argv, {})
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err


def test_flag_error_message_is_specific(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        load_config(["--fix-port", "0"], {})
    assert "port 0 is outside 1..65535" in capsys.readouterr().err


def _inst(extra: str) -> str:
    return f'[[instruments]]\nsymbol = "XYZ"\n{extra}\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[fix]\nprot = 1\n", r"fix\.prot: unknown key"),
        ("[fxi]\nport = 1\n", "fxi: unknown key"),
        ("bogus = 1\n", "bogus: unknown key"),
        (_inst("tick_sise = 1"), r"instruments\[0\]\.tick_sise: unknown key"),
        ('[[accounts]]\nname = "A"\nlimits = { max_qty = 1 }\n', r"accounts\[0\]\.limits\.max_qty: unknown key"),
        (
            f'[[users]]\nusername = "u"\npassword_hash = "{ALICE_HASH}"\nacounts = []\n',
            r"users\[0\]\.acounts: unknown key",
        ),
        ("[fix]\nport = 0\n", r"fix\.port: port 0 is outside 1\.\.65535"),
        ("[fix]\nport = 70000\n", r"fix\.port: port 70000"),
        ('[fix]\nport = "9878"\n', r"fix\.port: expected an integer, got string"),
        ("[fix]\nhost = 1\n", r"fix\.host: expected a string"),
        ('[journal]\nfsync = "sometimes"\n', r"journal\.fsync: fsync 'sometimes' must be one of always, batch, none"),
        ("fix = 1\n", "fix: expected a table"),
        (_inst("tick_size = 0"), r"instruments\[0\]\.tick_size: 0 is outside"),
        (_inst("tick_size = -5"), r"instruments\[0\]\.tick_size: -5 is outside"),
        (_inst("lot_size = 0"), r"instruments\[0\]\.lot_size: 0 is outside"),
        (_inst("tick_size = true"), r"instruments\[0\]\.tick_size: expected an integer, got boolean"),
        (_inst("price_scale = 19"), r"instruments\[0\]\.price_scale: 19 is outside 0\.\.18"),
        (_inst("price_scale = -1"), r"instruments\[0\]\.price_scale: -1 is outside 0\.\.18"),
        (_inst("min_qty = 10\nmax_qty = 5"), r"instruments\[0\]: min_qty 10 is above max_qty 5"),
        (_inst("price_band = 0"), r"instruments\[0\]\.price_band: 0 is outside"),
        ('[[instruments]]\nsymbol = ""\n', r"instruments\[0\]\.symbol: must not be empty"),
        ('[[instruments]]\nsymbol = "A B"\n', r"instruments\[0\]\.symbol: 'A B' must be"),
        ("[[instruments]]\ntick_size = 1\n", r"instruments\[0\]\.symbol: required"),
        ('[[instruments]]\nsymbol = "X"\n[[instruments]]\nsymbol = "X"\n', "duplicate instrument symbol 'X'"),
        ("instruments = []\n", "no instruments configured"),
        ("instruments = 3\n", "instruments: expected an array of tables"),
        ('[[accounts]]\nname = "A"\nlimits = { max_order_qty = 0 }\n', r"limits\.max_order_qty: 0 is outside"),
        ('[[accounts]]\nname = "A"\n[[accounts]]\nname = "A"\n', "duplicate account name 'A'"),
        # The demo users trade DEMO1/DEMO2, which a file with its own accounts no longer has.
        ('[[accounts]]\nname = "A"\n', "user demo: unknown account 'DEMO1'"),
        ('[[users]]\nusername = "u"\npassword_hash = "plain"\n', r"users\[0\]\.password_hash: malformed password hash"),
        (
            f'[[users]]\nusername = "u"\npassword_hash = "{ALICE_HASH}"\naccounts = ["NOPE"]\n',
            "user u: unknown account 'NOPE'",
        ),
        (f'[[users]]\nusername = "u"\npassword_hash = "{ALICE_HASH}"\n', "user u: no accounts"),
        (
            f'[[users]]\nusername = "u"\npassword_hash = "{ALICE_HASH}"\naccounts = ["DEMO1"]\nrate_limit = 0\n',
            r"users\[0\]\.rate_limit: 0 must be a positive",
        ),
        (
            f'[[users]]\nusername = "u"\npassword_hash = "{ALICE_HASH}"\naccounts = ["DEMO1"]\nadmin = "yes"\n',
            r"users\[0\]\.admin: expected true or false",
        ),
        (
            f'[[users]]\nusername = "u"\npassword_hash = "{ALICE_HASH}"\naccounts = ["DEMO1"]\n' * 2,
            "duplicate username 'u'",
        ),
        ("[fix\n", "invalid TOML"),
    ],
)
def test_toml_validation(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_toml(tmp_path, text)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        load_config(["--config", str(tmp_path / "missing.toml")], {})


# --------------------------------------------------------------------------------------------- demo credentials


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "LOCALHOST"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.1", "example.com", "192.168.1.1", ""])
def test_non_loopback_hosts(host: str) -> None:
    assert not is_loopback(host)


def test_demo_credentials_allowed_on_loopback() -> None:
    assert load_config(["--fix-host", "127.0.0.1", "--http-host", "localhost"], {}).fix.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("argv", "env", "culprit"),
    [
        (["--fix-host", "0.0.0.0"], {}, "fix.host='0.0.0.0' (from flag --fix-host)"),
        ([], {"PYENGINE_HTTP_HOST": "0.0.0.0"}, "http.host='0.0.0.0' (from environment PYENGINE_HTTP_HOST)"),
    ],
)
def test_demo_credentials_refused_on_public_bind(argv: list[str], env: dict[str, str], culprit: str) -> None:
    with pytest.raises(ValueError, match="demo password") as exc:
        load_config(argv, env)
    assert culprit in str(exc.value)
    assert "demo, demo2, admin" in str(exc.value)


def test_demo_credentials_refused_from_toml(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"gateway.toml fix\.host"):
        load_toml(tmp_path, '[fix]\nhost = "0.0.0.0"\n')


def test_public_bind_allowed_with_own_users(tmp_path: Path) -> None:
    c = load_toml(tmp_path, '[fix]\nhost = "0.0.0.0"\n[http]\nhost = "0.0.0.0"\n' + ALICE_USERS)
    assert c.fix.host == "0.0.0.0" and [u.username for u in c.users] == ["alice"]


def test_demo_username_with_new_password_is_fine(tmp_path: Path) -> None:
    toml = f'[[users]]\nusername = "demo"\npassword_hash = "{ALICE_HASH}"\naccounts = ["DEMO1"]\n'
    assert load_toml(tmp_path, toml, argv=["--fix-host", "0.0.0.0"]).fix.host == "0.0.0.0"


def test_demo_password_hashed_again_in_toml_is_refused(tmp_path: Path) -> None:
    toml = f'[[users]]\nusername = "admin"\npassword_hash = "{hash_password("admin")}"\nadmin = true\n'
    assert load_toml(tmp_path, toml).user("admin").admin  # fine on loopback
    with pytest.raises(ValueError, match=r"user\(s\) admin still have"):
        load_toml(tmp_path, toml, argv=["--fix-host", "0.0.0.0"])


# --------------------------------------------------------------------------------------------- instruments' prices


def test_price_units_exact() -> None:
    btc = Instrument("BTC-USD", tick_size=50, price_scale=2)
    assert btc.price_units("12345.50") == 1234550
    assert btc.price_units("12345.5") == 1234550
    assert btc.price_units("12345") == 1234500
    assert btc.price_units("-1.00") == -100
    assert btc.price_text(1234550) == "12345.50"
    assert btc.price_text(-100) == "-1.00"
    assert btc.price_text(5) == "0.05"
    assert Instrument("X").price_units("42") == 42 and Instrument("X").price_text(42) == "42"


@pytest.mark.parametrize("text", ["12345.51", "1.001", "1e3", "NaN", " 1", "+1", "1.", ".5", "", "1_000"])
def test_price_units_rejects_inexact(text: str) -> None:
    with pytest.raises(ValueError):
        Instrument("BTC-USD", tick_size=50, price_scale=2).price_units(text)


# --------------------------------------------------------------------------------------------- password hashing


def test_hash_verify_round_trip() -> None:
    stored = hash_password("s3cret")
    parts = stored.split("$")
    assert parts[:4] == ["scrypt", "16384", "8", "1"]
    n, r, p, salt, digest = parse_hash(stored)
    assert (n, r, p, len(salt), len(digest)) == (2**14, 8, 1, 16, 32)
    assert verify_password("s3cret", stored)
    assert not verify_password("s3cret ", stored)
    assert not verify_password("", stored)
    assert hash_password("s3cret") != stored  # fresh salt each time


def test_unicode_password() -> None:
    stored = hash_password("pässwörd ✓")
    assert verify_password("pässwörd ✓", stored)
    assert not verify_password("passwort", stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain",
        "bcrypt$16384$8$1$AAAA$AAAA",
        "scrypt$16384$8$1$AAAA",
        "scrypt$16384$8$1$AAAA$AAAA$AAAA",
        "scrypt$x$8$1$AAAA$AAAA",
        "scrypt$16383$8$1$AAAA$AAAA",
        "scrypt$16384$0$1$AAAA$AAAA",
        "scrypt$16384$8$0$AAAA$AAAA",
        "scrypt$1048576$64$1$AAAA$AAAA",
        "scrypt$16384$8$1$not*base64$AAAA",
        "scrypt$16384$8$1$AAAA$",
        "scrypt$-16384$8$1$AAAA$AAAA",
    ],
)
def test_malformed_hash(stored: str) -> None:
    with pytest.raises(ValueError, match="malformed password hash"):
        verify_password("x", stored)


def test_auth_cli_hash() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pyengine.gateway.auth", "hash"],
        input="tops3cret\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert verify_password("tops3cret", out)
    bad = subprocess.run([sys.executable, "-m", "pyengine.gateway.auth"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr
