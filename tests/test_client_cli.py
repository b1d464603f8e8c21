"""The ``python -m pyengine.client`` CLI against an in-process gateway on 127.0.0.1 (ephemeral ports)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from gatewaykit import RunningGateway, gateway

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


def _shell(gw: Gateway, comp_id: str, script: str, user: str = "demo") -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pyengine.client", "interactive", "--port", str(gw.fix_port)]
    cmd += ["--sender-comp-id", comp_id, "--username", user, "--password", user, "--timeout", "5"]
    return subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=60)


def test_interactive_session(gateway: Gateway) -> None:
    script = "\n".join(
        [
            "help",
            "buy ACME 10 100.00 id=IA1",
            "sell ACME 4 100.00 ioc id=IA2",
            "status IA1",
            "replace IA1 8 99.00",
            "orders",
            "cancel IA1",
            "bogus 1 2",
            "buy ACME x 100.00",
            "buy ACME 1 100.00 sideways",
            "cancel NOPE",
            "status NOPE",
            "status NOPE ACME",
            "",
            "sell ACME 1 100.001",
            "quit",
            "buy ACME 1 100.00 id=AFTER_QUIT",
        ]
    )
    proc = _shell(gateway, "CLI_I", script + "\n")
    out, err = proc.stdout, proc.stderr
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    lines = out.splitlines()
    assert lines[0].startswith("Logon ")
    assert any(line.startswith("buy SYMBOL QTY PRICE|market") for line in lines), out  # help
    assert "ExecutionReport ExecType=0 OrdStatus=0 ClOrdID=IA1" in out
    fills = [line for line in lines if line.startswith("ExecutionReport ExecType=F")]
    assert any("ClOrdID=IA2" in f and "LastQty=4" in f for f in fills), out  # the taker
    assert any("ClOrdID=IA1" in f and "OrdStatus=1" in f for f in fills), out  # the maker, printed as it came
    assert "ExecType=I OrdStatus=1 ClOrdID=IA1" in out
    (replaced,) = [line for line in lines if "ExecType=5" in line]
    assert "OrigClOrdID=IA1" in replaced and "Price=99.00" in replaced
    # The orders table: the replaced order under its new ClOrdID, the IOC filled.
    head = next(i for i, line in enumerate(lines) if line.startswith("ClOrdID"))
    table = lines[head : head + 3]
    assert table[0].split() == ["ClOrdID", "Side", "Symbol", "Qty", "Price", "TIF", "Status", "Cum", "Leaves"]
    assert table[1].split()[1:] == ["buy", "ACME", "8", "99.00", "gtc", "partially", "filled", "4", "4"]
    assert table[2].split() == ["IA2", "sell", "ACME", "4", "100.00", "ioc", "filled", "4", "0"]
    assert "ExecType=4 OrdStatus=4" in out and "OrigClOrdID=IA1" in out
    # Bad input: a clear error each time, and the session goes on.
    assert "error: unknown command 'bogus' (type help)" in err
    assert "error: QTY must be a whole number, got 'x'" in err
    assert "error: unknown order option 'sideways'" in err
    assert "error: ClOrdID 'NOPE' was not sent by this session; give its SYMBOL and SIDE" in err
    assert "error: ClOrdID 'NOPE' was not sent by this session; give its SYMBOL: status NOPE SYMBOL" in err
    assert "error: status request failed: unknown order" in err
    assert "error: order rejected:" in err  # price off tick: the gateway's reject, the session goes on
    assert lines[-1] == "logged out"
    assert "AFTER_QUIT" not in out


def test_interactive_end_of_input_logs_out(gateway: Gateway) -> None:
    proc = _shell(gateway, "CLI_EOF", "buy BTC-USD 1 49.50 ioc\n", user="demo2")
    assert proc.returncode == 0, proc.stderr
    assert "ExecutionReport ExecType=0" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "logged out" and proc.stderr == ""


def test_interactive_bad_password(gateway: Gateway) -> None:
    cmd = [sys.executable, "-m", "pyengine.client", "shell", "--port", str(gateway.fix_port), "--password", "nope"]
    proc = subprocess.run(cmd, input="quit\n", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: logon refused:") and "Traceback" not in proc.stderr


def test_interactive_gateway_logs_out(tmp_path: Path) -> None:
    # The gateway shuts down under the shell: the reader thread reports it, the next command ends the shell (1).
    running = RunningGateway(tmp_path)
    cmd = [sys.executable, "-m", "pyengine.client", "shell", "--port", str(running.gw.fix_port)]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        assert proc.stdout.readline().startswith("Logon ")
        running.stop()
        assert proc.stderr is not None
        first_err = proc.stderr.readline()  # printed by the reader thread as soon as the Logout arrives
        out, err = proc.communicate("orders\n", timeout=30)
        err = first_err + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, (out, err)
    assert "Logout Text=gateway shutting down" in out
    assert "error: logged out by the gateway: gateway shutting down" in err and "Traceback" not in err
