"""Pre-trade risk: per-account limits, open-order counts, the kill switch, and per-session rate limits.

Every check runs before a command reaches the engine (and so before it is journaled): a refused order costs
nothing but its reject. A refusal is a :class:`RiskReject` whose ``text`` starts with a stable reason code
(``max_order_qty: ...``, ``max_notional: ...``, ``price_collar: ...``, ``max_open_orders: ...``,
``kill_switch: ...``, ``rate_limit: ...``) so a client can act on it without parsing prose; ``reason`` is the
FIX OrdRejReason (103) to send.

Notional and collar arithmetic is exact integer arithmetic on price units (``price * 10**-price_scale``).
A market order has no price: its notional is estimated at the far touch (the best opposite price), or at the
last trade when the opposite side is empty; the engine's price band bounds how far it can walk.

The kill switch state is persisted (``<data_dir>/kill_switch.json``, written atomically) so a disabled
account stays disabled across gateway restarts until an admin re-enables it.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Final

from pyengine.gateway.config import AccountLimits, GatewayConfig, Instrument

__all__ = ["KillSwitch", "RiskGate", "RiskReject", "TokenBucket"]

#: FIX OrdRejReason (103) values used here.
ORDER_EXCEEDS_LIMIT: Final = 3
BROKER_OPTION: Final = 0
OTHER: Final = 99


class RiskReject(Exception):
    """An order refused by a pre-trade check; ``text`` starts with the reason code."""

    def __init__(self, code: str, detail: str, reason: int = ORDER_EXCEEDS_LIMIT) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.text = f"{code}: {detail}"
        self.reason = reason


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; one token per message."""

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, now: float | None = None) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"token bucket needs rate > 0 and burst >= 1, got {rate}, {burst}")
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._last = time.monotonic() if now is None else now

    def take(self, now: float | None = None) -> bool:
        """Spend one token if there is one; False means the message is over the limit."""
        t = time.monotonic() if now is None else now
        self._tokens = min(self.burst, self._tokens + (t - self._last) * self.rate)
        self._last = t
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class KillSwitch:
    """The set of disabled accounts, persisted as JSON beside the journal."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.disabled: set[str] = set()
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            raise ValueError(f"kill switch state {path}: unreadable ({e}); fix or remove it") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("disabled"), list):
            raise ValueError(f'kill switch state {path}: expected {{"disabled": [accounts]}}')
        self.disabled = {str(a) for a in raw["disabled"]}

    def set(self, account: str, disabled: bool) -> None:
        if disabled:
            self.disabled.add(account)
        else:
            self.disabled.discard(account)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump({"disabled": sorted(self.disabled)}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class RiskGate:
    """Pre-trade checks for one gateway; also counts each account's open orders."""

    def __init__(self, config: GatewayConfig, kill_switch: KillSwitch) -> None:
        self.limits: dict[str, AccountLimits] = {a.name: a.limits for a in config.accounts}
        self.kill_switch = kill_switch
        self.open_orders: Counter[str] = Counter()

    def check_enabled(self, account: str) -> None:
        if account in self.kill_switch.disabled:
            raise RiskReject(
                "kill_switch", f"account {account} is disabled until an admin re-enables it", BROKER_OPTION
            )

    def check_order(
        self,
        account: str,
        inst: Instrument,
        qty: int,
        price: int | None,
        stop_price: int | None,
        *,
        last_trade: int | None,
        far_touch: int | None,
        new_order: bool,
    ) -> None:
        """Raise RiskReject if an order (or an amended order's new terms) breaks a limit of ``account``."""
        self.check_enabled(account)
        limits = self.limits.get(account)
        if limits is None:
            return
        if limits.max_order_qty is not None and qty > limits.max_order_qty:
            raise RiskReject("max_order_qty", f"quantity {qty} is above the account limit {limits.max_order_qty}")
        if new_order and limits.max_open_orders is not None and self.open_orders[account] >= limits.max_open_orders:
            raise RiskReject("max_open_orders", f"account {account} already has {limits.max_open_orders} open orders")
        if limits.price_collar_bps is not None and last_trade is not None and last_trade > 0:
            for what, p in (("price", price), ("stop price", stop_price)):
                # |p - last| / last > bps / 10_000, cross-multiplied to stay in integers
                if p is not None and abs(p - last_trade) * 10_000 > limits.price_collar_bps * last_trade:
                    raise RiskReject(
                        "price_collar",
                        f"{what} {inst.price_text(p)} is more than {limits.price_collar_bps} bps from the last "
                        f"trade {inst.price_text(last_trade)}",
                        OTHER,
                    )
        if limits.max_notional is not None:
            basis = price if price is not None else (far_touch if far_touch is not None else last_trade)
            if basis is None and stop_price is not None:
                basis = stop_price
            if basis is not None and abs(basis) * qty > limits.max_notional * 10**inst.price_scale:
                raise RiskReject(
                    "max_notional",
                    f"{qty} x {inst.price_text(abs(basis))} is above the account limit {limits.max_notional}",
                )

    def opened(self, account: str) -> None:
        self.open_orders[account] += 1

    def closed(self, account: str) -> None:
        if self.open_orders[account] > 0:
            self.open_orders[account] -= 1
