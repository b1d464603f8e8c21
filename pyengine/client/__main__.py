"""``python -m pyengine.client``: send orders, cancels, replaces and status requests to the gateway over FIX.

::

    python -m pyengine.client order --symbol ACME --side buy --qty 10 --price 100.00
    python -m pyengine.client cancel --symbol ACME --orig-clordid ID
    python -m pyengine.client replace --symbol ACME --orig-clordid ID --qty 5 --price 101.00
    python -m pyengine.client status --symbol ACME --clordid ID
    python -m pyengine.client watch --seconds 10
    python -m pyengine.client interactive          # a prompt: buy/sell/cancel/replace/status/orders/quit
    python -m pyengine.client load --sessions 10 --rate 5000 --duration 10

Each one-shot command logs on, sends its request, prints each message received as one line, waits for the reply (or
``--timeout``), logs out and exits 0; a reject, timeout or connection failure prints ``error: ...`` on
stderr and exits 1 (2 for bad arguments). The password comes from ``--password``, else the environment
variable ``PYENGINE_CLIENT_PASSWORD``, else ``demo``. ClOrdIDs stay known to the gateway per
SenderCompID, so cancel/replace/status from a later run must use the same ``--sender-comp-id``.
``interactive`` (alias ``shell``) keeps one session for many commands (:mod:`pyengine.client.interactive`);
``load`` is the open-loop load generator (:mod:`pyengine.client.loadgen`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Final

from pyengine.client.argtypes import positive_int, price
from pyengine.client.fixclient import Fields, FixClient, FixClientError, describe, reply_outcome, transact_time
from pyengine.client.interactive import ClientShell
from pyengine.client.loadgen import add_load_parser, run_load_command

__all__ = ["PASSWORD_ENV", "main"]

PASSWORD_ENV: Final = "PYENGINE_CLIENT_PASSWORD"
_SIDES: Final = {"buy": "1", "sell": "2"}
_ORD_TYPES: Final = {"market": "1", "limit": "2", "stop": "3", "stop_limit": "4"}
_TIFS: Final = {"gtc": "1", "ioc": "3", "fok": "4"}
#: After the awaited reply, keep printing what else arrives (e.g. fills after an ack) for this long.
_QUIET: Final = 0.2


def _new_clordid() -> str:
    return "C" + uuid.uuid4().hex[:15].upper()


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--host", default="127.0.0.1", help="gateway FIX host (default 127.0.0.1)")
    common.add_argument("--port", type=int, default=9878, help="gateway FIX port (default 9878)")
    common.add_argument("--username", default="demo", help="Username (553), default demo")
    common.add_argument("--password", default=None, help=f"Password (554); default ${PASSWORD_ENV}, else demo")
    common.add_argument("--sender-comp-id", default="CLIENT", help="SenderCompID (49), default CLIENT")
    common.add_argument("--target-comp-id", default="PYENGINE", help="TargetCompID (56), default PYENGINE")
    common.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for a reply (default 5)")

    parser = argparse.ArgumentParser(prog="python -m pyengine.client", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("order", parents=[common], help="send a NewOrderSingle (D)")
    p.add_argument("--symbol", required=True)
    p.add_argument("--side", required=True, choices=sorted(_SIDES))
    p.add_argument("--qty", required=True, type=positive_int)
    p.add_argument("--price", type=price, help="limit price (required for limit and stop_limit)")
    p.add_argument("--type", default="limit", choices=list(_ORD_TYPES), dest="ord_type")
    p.add_argument("--tif", default="gtc", choices=list(_TIFS))
    p.add_argument("--stop-price", type=price, help="StopPx (99), for stop and stop_limit")
    p.add_argument("--post-only", action="store_true", help="ExecInst (18) = 6")
    p.add_argument("--display-qty", type=positive_int, help="iceberg MaxFloor (111)")
    p.add_argument("--account", help="Account (1); default the user's first account")
    p.add_argument("--clordid", help="ClOrdID (11); default a random one")

    p = sub.add_parser("cancel", parents=[common], help="send an OrderCancelRequest (F)")
    p.add_argument("--symbol", required=True)
    p.add_argument("--orig-clordid", required=True)
    p.add_argument("--side", choices=sorted(_SIDES), default="buy", help="Side (54), default buy")
    p.add_argument("--qty", type=positive_int, default=None, help="OrderQty (38), default 1 (informational)")
    p.add_argument("--clordid", help="ClOrdID (11) of the cancel; default a random one")

    p = sub.add_parser("replace", parents=[common], help="send an OrderCancelReplaceRequest (G)")
    p.add_argument("--symbol", required=True)
    p.add_argument("--orig-clordid", required=True)
    p.add_argument("--qty", type=positive_int)
    p.add_argument("--price", type=price)
    p.add_argument("--stop-price", type=price)
    p.add_argument("--type", default="limit", choices=list(_ORD_TYPES), dest="ord_type", help="OrdType (40)")
    p.add_argument(
        "--side", choices=sorted(_SIDES), help="Side (54); default looked up with an OrderStatusRequest first"
    )
    p.add_argument("--clordid", help="new ClOrdID (11); default a random one")

    p = sub.add_parser("status", parents=[common], help="send an OrderStatusRequest (H)")
    p.add_argument("--symbol", required=True)
    p.add_argument("--clordid", required=True)
    p.add_argument("--side", choices=sorted(_SIDES), default="buy", help="Side (54), default buy (informational)")

    p = sub.add_parser("watch", parents=[common], help="log on and print execution reports until Ctrl-C")
    p.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")

    sub.add_parser(
        "interactive",
        aliases=["shell"],
        parents=[common],
        help="log on once and type orders, cancels, replaces and status requests at a prompt",
    )
    add_load_parser(sub)
    return parser


def _request(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str, str, Fields]:
    """(MsgType, ClOrdID, fields) of the request a command sends."""
    cmd = args.command
    cl = args.clordid or _new_clordid()
    if cmd == "order":
        if args.ord_type in ("limit", "stop_limit") and args.price is None:
            parser.error(f"--price is required for --type {args.ord_type}")
        if args.ord_type in ("stop", "stop_limit") and args.stop_price is None:
            parser.error(f"--stop-price is required for --type {args.ord_type}")
        fields: Fields = [(11, cl)]
        if args.account:
            fields.append((1, args.account))
        fields += [(55, args.symbol), (54, _SIDES[args.side]), (38, args.qty), (40, _ORD_TYPES[args.ord_type])]
        if args.price is not None:
            fields.append((44, args.price))
        if args.stop_price is not None:
            fields.append((99, args.stop_price))
        fields.append((59, _TIFS[args.tif]))
        if args.post_only:
            fields.append((18, "6"))
        if args.display_qty is not None:
            fields.append((111, args.display_qty))
        fields.append((60, transact_time()))
        return "D", cl, fields
    if cmd == "cancel":
        fields = [(11, cl), (41, args.orig_clordid), (55, args.symbol), (54, _SIDES[args.side])]
        fields += [(38, args.qty or 1), (60, transact_time())]
        return "F", cl, fields
    if cmd == "replace":
        if args.qty is None and args.price is None and args.stop_price is None:
            parser.error("replace needs --qty, --price or --stop-price")
        fields = [(11, cl), (41, args.orig_clordid), (55, args.symbol)]
        if args.side:
            fields.append((54, _SIDES[args.side]))
        fields.append((40, _ORD_TYPES[args.ord_type]))
        if args.qty is not None:
            fields.append((38, args.qty))
        if args.price is not None:
            fields.append((44, args.price))
        if args.stop_price is not None:
            fields.append((99, args.stop_price))
        fields.append((60, transact_time()))
        return "G", cl, fields
    fields = [(11, cl), (55, args.symbol)]
    if args.side:
        fields.append((54, _SIDES[args.side]))
    return "H", cl, fields


def _lookup_side(client: FixClient, args: argparse.Namespace) -> str:
    """The Side (54) of order ``--orig-clordid``, asked for with an OrderStatusRequest (H)."""
    orig = args.orig_clordid
    client.send("H", [(11, orig), (55, args.symbol), (54, "1")])
    deadline = time.monotonic() + args.timeout
    while (left := deadline - time.monotonic()) > 0:
        msg = client.recv(left)
        if msg is None:
            break
        if msg.msg_type == "8" and msg.get(150) == "I":
            side = msg.get(54)
            if msg.get(39) == "8" and msg.get(58):
                client.logout()
                raise FixClientError(f"replace: order {orig!r}: {msg.get(58)}")
            if side in ("1", "2"):
                return side
        elif msg.msg_type in ("3", "5", "j"):
            print(describe(msg), flush=True)
            client.logout()
            raise FixClientError(f"replace: could not look up order {orig!r}: {msg.get(58) or describe(msg)}")
    client.logout()
    raise FixClientError(f"replace: no status for order {orig!r} within {args.timeout:g}s (pass --side)")


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command == "load":
        return run_load_command(args, parser)
    password = args.password
    if password is None:
        password = os.environ.get(PASSWORD_ENV, "demo")
    session_only = args.command in ("watch", "interactive", "shell")
    request = None if session_only else _request(args, parser)
    with FixClient(
        args.host, args.port, sender=args.sender_comp_id, target=args.target_comp_id, timeout=args.timeout
    ) as client:
        print(describe(client.logon(args.username, password)), flush=True)
        if request is None:
            if args.command == "watch":
                return _watch(client, args.seconds)
            return ClientShell(client, args.timeout).run()
        msg_type, cl, fields = request
        if msg_type == "G" and args.side is None:
            fields.insert(3, (54, _lookup_side(client, args)))
        seq = client.send(msg_type, fields)
        deadline = time.monotonic() + args.timeout
        result: str | None = None
        while result is None:
            left = deadline - time.monotonic()
            msg = client.recv(left) if left > 0 else None
            if msg is None:
                client.logout()
                raise FixClientError(f"no reply to ClOrdID {cl} within {args.timeout:g}s")
            if msg.msg_type != "0":
                print(describe(msg), flush=True)
            result = reply_outcome(msg, cl, seq, msg_type)
        if result.startswith("logged out"):
            client.close()
            raise FixClientError(result)
        # Print what follows right away (fills after an ack, the rest of a sweep).
        quiet_deadline = time.monotonic() + max(_QUIET, 0.0)
        while (left := quiet_deadline - time.monotonic()) > 0:
            msg = client.recv(left)
            if msg is None:
                break
            if msg.msg_type != "0":
                print(describe(msg), flush=True)
            quiet_deadline = time.monotonic() + _QUIET
        client.logout()
        if result:
            raise FixClientError(result)
        return 0


def _watch(client: FixClient, seconds: float | None) -> int:
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        while True:
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                break
            msg = client.recv(min(left, 1.0))
            if msg is None or msg.msg_type == "0":
                continue
            print(describe(msg), flush=True)
            if msg.msg_type == "5":
                client.close()
                raise FixClientError(f"logged out by the gateway: {msg.get(58) or 'no reason given'}")
    except KeyboardInterrupt:
        pass
    client.logout()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 success, 1 failure, 2 bad arguments)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args, parser)
    except FixClientError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
