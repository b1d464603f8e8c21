"""``python -m pyengine.client load`` against an in-process gateway: counts add up, JSON complete, clean errors.

No timing is asserted: the machine running the tests may be slow or busy; only counts and shapes are.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gatewaykit import gateway

from pyengine.client.__main__ import main
from pyengine.client.histogram import LatencyHistogram
from pyengine.client.loadgen import LoadPlan, run_load
from pyengine.gateway.server import Gateway

__all__ = ["gateway"]

SUMMARY_KEYS = {"count", "mean", "p50", "p90", "p99", "p99_9", "max"}


def _load(gw: Gateway, prefix: str, *argv: str) -> list[str]:
    return ["load", "--port", str(gw.fix_port), "--comp-id-prefix", prefix, "--quiet", *argv]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_short_load_every_order_acked(gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "load.json"
    argv = _load(gateway, "LGA", "--sessions", "5", "--rate", "500", "--duration", "2", "--json", str(out_json))
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "sent 1,000  acked 1,000  rejected 0  unacked 0" in out
    assert "latency from scheduled send (us): p50 " in out and "(1,000 samples)" in out
    assert "errors: none" in out

    result: dict[str, Any] = json.loads(out_json.read_text())
    assert result["sent"] == result["acked"] == 1000
    assert result["rejected"] == result["unacked"] == result["not_sent"] == 0
    assert result["ok"] is True and result["errors"] == []
    assert result["offered_rate"] == 500.0 and result["achieved_rate"] > 0 and result["send_rate"] > 0
    for key in ("latency_us", "wire_latency_us", "send_lag_us"):
        assert set(result[key]) == SUMMARY_KEYS
    lat = result["latency_us"]
    assert lat["count"] == 1000
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]
    assert result["wire_latency_us"]["count"] == 1000
    assert result["plan"]["sessions"] == 5 and result["plan"]["logins"] == ["demo", "demo2"]
    assert "password" not in json.dumps(result["plan"])
    # The encoded histogram decodes to the same samples.
    h = LatencyHistogram()
    h.merge_encoded(result["latency_hdr"])
    assert h.count == 1000 and h.summary()["max"] == lat["max"]


def test_warmup_is_not_counted(gateway: Gateway) -> None:
    plan = LoadPlan(port=gateway.fix_port, sessions=2, rate=400, duration=1, warmup=0.5, comp_id_prefix="LGW")
    result = run_load(plan)
    assert result.ok, result.errors
    assert result.sent == result.acked == 400
    assert result.latency.count == 400


def test_same_plan_twice_new_clordids(gateway: Gateway) -> None:
    # The gateway remembers a session's ClOrdIDs: a second run of the same plan must not reuse them.
    plan = LoadPlan(port=gateway.fix_port, sessions=2, rate=200, duration=0.5, comp_id_prefix="LGT")
    for _ in range(2):
        result = run_load(plan)
        assert result.ok and result.rejected == 0, result.reject_reasons


def test_rejects_counted_by_reason(gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "rejects.json"
    argv = _load(gateway, "LGR", "--sessions", "2", "--rate", "200", "--duration", "1", "--price", "100.001")
    assert main([*argv, "--json", str(out_json)]) == 1
    captured = capsys.readouterr()
    assert "error: every order was rejected" in captured.err and "Traceback" not in captured.err
    result = json.loads(out_json.read_text())
    assert result["sent"] == result["acked"] == result["rejected"] == 200 and result["ok"] is False
    ((reason, count),) = result["reject_reasons"].items()  # one reason: ids and numbers do not split it
    assert count == 200 and "decimals" in reason and "100.001" not in reason


def test_processes_merge_histograms(gateway: Gateway) -> None:
    plan = LoadPlan(port=gateway.fix_port, sessions=4, rate=400, duration=1, processes=2, comp_id_prefix="LGP")
    result = run_load(plan)
    assert result.ok, result.errors
    assert result.sent == result.acked == 400
    assert result.latency.count == result.wire.count == 400


def test_single_user_sessions(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _load(gateway, "LGU", "--sessions", "3", "--rate", "300", "--duration", "1", "--spin-us", "0")
    assert main([*argv, "--username", "demo2", "--password", "demo2"]) == 0
    assert "sent 300  acked 300" in capsys.readouterr().out


def test_bad_password(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _load(gateway, "LGB", "--sessions", "2", "--rate", "100", "--duration", "1")
    assert main([*argv, "--username", "demo", "--password", "wrong"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: LGB00")
    assert "logon refused" in captured.err and "invalid username or password" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_unreachable_gateway(capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    assert main(["load", "--port", str(port), "--rate", "10", "--duration", "1", "--sessions", "3"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot connect to 127.0.0.1:{port}: connection refused")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rate", "0", "--duration", "1"], "must be positive"),
        (["--rate", "-5", "--duration", "1"], "must be positive"),
        (["--rate", "abc", "--duration", "1"], "not a number"),
        (["--rate", "10", "--duration", "1", "--sessions", "0"], "must be positive"),
        (["--rate", "10", "--duration", "0"], "must be positive"),
        (["--rate", "10", "--duration", "1", "--sessions", "2", "--processes", "3"], "--processes must be"),
        (["--rate", "10", "--duration", "1", "--port", "70000"], "not a TCP port"),
        (["--rate", "0.1", "--duration", "1"], "less than one order"),
        (["--rate", "10", "--duration", "1", "--password", "x"], "--password needs --username"),
        (["--rate", "10", "--duration", "1", "--spin-us", "-1"], "must not be negative"),
    ],
)
def test_bad_arguments(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["load", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_subprocess_progress_and_errors(gateway: Gateway) -> None:
    # The CLI as a user runs it: periodic progress lines on a non-terminal stderr, the report on stdout.
    cmd = [sys.executable, "-m", "pyengine.client", "load", "--port", str(gateway.fix_port)]
    cmd += ["--comp-id-prefix", "LGS", "--sessions", "2", "--rate", "200", "--duration", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "load: 200/200 orders (100%)" in proc.stderr and "Traceback" not in proc.stderr
    assert "sent 200  acked 200" in proc.stdout

    bad = subprocess.run(
        [*cmd[:4], "--port", str(_free_port()), "--rate", "5", "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "connection refused" in bad.stderr and "Traceback" not in bad.stderr
