"""The ``python -m pyengine.client`` CLI against an in-process gateway on 127.0.0.1 (ephemeral ports)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from gatewaykit import gateway

from pyengine.client.__main__ import main
from pyengine.gateway.server import Gateway

# The in-process gateway fixture is shared with the gateway's own tests.
__all__ = ["gateway"]


def _cli(gw: Gateway, comp_id: str, *argv: str, user: str = "demo") -> list[str]:
    return [
        *argv,
        "--port",
        str(gw.fix_port),
        "--sender-comp-id",
        comp_id,
        "--username",
        user,
        "--password",
        user,
        "--timeout",
        "5",
    ]


def _lines(out: str, prefix: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(prefix)]


def test_order_ack_fill_cancel_status(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    order = ["order", "--symbol", "ACME", "--side", "buy", "--qty", "10", "--price", "100.00"]
    assert main(_cli(gateway, "CLI_A", *order, "--clordid", "CA1", "--account", "DEMO1")) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Logon ")
    (ack,) = _lines(out, "ExecutionReport")
    assert "ExecType=0 OrdStatus=0 ClOrdID=CA1" in ack and "Symbol=ACME Side=buy" in ack
    assert "LeavesQty=10 CumQty=0" in ack

    sell = ["order", "--symbol", "ACME", "--side", "sell", "--qty", "4", "--price", "100.00", "--tif", "ioc"]
    assert main(_cli(gateway, "CLI_B", *sell, "--clordid", "CB1", user="demo2")) == 0
    out = capsys.readouterr().out
    fills = [line for line in _lines(out, "ExecutionReport") if "ExecType=F" in line]
    assert fills, out
    assert "ClOrdID=CB1" in fills[-1] and "OrdStatus=2" in fills[-1] and "LastPx=100.00 LastQty=4" in fills[-1]

    assert main(_cli(gateway, "CLI_A", "status", "--symbol", "ACME", "--clordid", "CA1")) == 0
    (status,) = _lines(capsys.readouterr().out, "ExecutionReport")
    assert "ExecType=I OrdStatus=1" in status and "LeavesQty=6 CumQty=4" in status

    replace = ["replace", "--symbol", "ACME", "--orig-clordid", "CA1", "--qty", "8", "--price", "99.00"]
    assert main(_cli(gateway, "CLI_A", *replace, "--clordid", "CA2")) == 0
    (rep,) = _lines(capsys.readouterr().out, "ExecutionReport")
    assert "ExecType=5" in rep and "ClOrdID=CA2 OrigClOrdID=CA1" in rep and "Price=99.00" in rep

    cancel = ["cancel", "--symbol", "ACME", "--orig-clordid", "CA2", "--side", "buy"]
    assert main(_cli(gateway, "CLI_A", *cancel, "--clordid", "CA3")) == 0
    (cxl,) = _lines(capsys.readouterr().out, "ExecutionReport")
    assert "ExecType=4 OrdStatus=4 ClOrdID=CA3 OrigClOrdID=CA2" in cxl

    # Cancelling it again: OrderCancelReject, exit 1, a clear message and no traceback.
    assert main(_cli(gateway, "CLI_A", *cancel)) == 1
    captured = capsys.readouterr()
    assert _lines(captured.out, "OrderCancelReject")
    assert captured.err.startswith("error: cancel rejected:") and "Traceback" not in captured.err


def test_order_reject(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    order = ["order", "--symbol", "ACME", "--side", "buy", "--qty", "1", "--price", "100.001"]
    assert main(_cli(gateway, "CLI_R", *order)) == 1
    captured = capsys.readouterr()
    assert "ExecType=8" in captured.out
    assert captured.err.startswith("error: order rejected:")


def test_bad_password(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _cli(gateway, "CLI_BAD", "watch", "--seconds", "1")
    argv[argv.index("--password") + 1] = "wrong"
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: logon refused:") and "invalid username or password" in err


def test_password_from_environment(
    gateway: Gateway, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYENGINE_CLIENT_PASSWORD", "demo2")
    argv = ["watch", "--seconds", "0.2", "--port", str(gateway.fix_port), "--sender-comp-id", "CLI_ENV"]
    assert main([*argv, "--username", "demo2"]) == 0
    assert capsys.readouterr().out.startswith("Logon ")


def test_watch_prints_reports(gateway: Gateway) -> None:
    # A resting order of session CLI_W (user demo: no cancel-on-disconnect), then watch that session while
    # demo2 trades against it: the maker's fill report goes to the watcher.
    rest = ["order", "--symbol", "BTC-USD", "--side", "sell", "--qty", "2", "--price", "50.00"]
    assert main(_cli(gateway, "CLI_W", *rest, "--clordid", "W1")) == 0
    watch = [sys.executable, "-m", "pyengine.client", "watch", "--seconds", "3", "--port", str(gateway.fix_port)]
    proc = subprocess.Popen(
        [*watch, "--sender-comp-id", "CLI_W", "--username", "demo", "--password", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("Logon ")
        take = ["order", "--symbol", "BTC-USD", "--side", "buy", "--qty", "2", "--price", "50.00"]
        assert main(_cli(gateway, "CLI_W2", *take, "--clordid", "W2", user="demo2")) == 0
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    fills = [line for line in out.splitlines() if line.startswith("ExecutionReport ExecType=F")]
    assert fills and "ClOrdID=W1" in fills[0] and "OrdStatus=2" in fills[0] and "LastQty=2" in fills[0], out


def test_connection_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["order", "--symbol", "ACME", "--side", "buy", "--qty", "1", "--price", "1", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot connect to 127.0.0.1:{port}: connection refused")


def test_subprocess_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run(
        [sys.executable, "-m", "pyengine.client", "status", "--symbol", "ACME", "--clordid", "X", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert "connection refused" in proc.stderr and "Traceback" not in proc.stderr
