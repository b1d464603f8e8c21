"""What a load run is asked to do (:class:`LoadPlan`) and what it measured (:class:`LoadResult`).

A plan is a frozen, picklable value so worker processes receive it as is; each worker returns a
:class:`WorkerResult` with its histograms encoded, and :func:`merge_results` adds them up exactly
(HdrHistogram merge) into the one result that is printed and written as JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from pyengine.client.histogram import LatencyHistogram, Summary

__all__ = ["DEFAULT_LOGINS", "LoadError", "LoadPlan", "LoadResult", "Login", "WorkerResult", "merge_results"]

#: Sessions alternate between these (username, password) pairs unless told otherwise.
DEFAULT_LOGINS: Final = (("demo", "demo"), ("demo2", "demo2"))


class LoadError(Exception):
    """The load could not run (gateway unreachable, logon refused, ...): the message is for the user as is."""


@dataclass(frozen=True)
class Login:
    username: str
    password: str


@dataclass(frozen=True)
class LoadPlan:
    """What to run; validated by :meth:`check`. ``logins[s % len(logins)]`` logs session ``s`` on."""

    host: str = "127.0.0.1"
    port: int = 9878
    logins: tuple[Login, ...] = tuple(Login(u, p) for u, p in DEFAULT_LOGINS)
    sessions: int = 1
    rate: float = 1000.0
    duration: float = 10.0
    warmup: float = 0.0
    symbol: str = "ACME"
    price: str = "100.00"
    qty: int = 1
    comp_id_prefix: str = "LOAD"
    processes: int = 1
    timeout: float = 10.0
    drain: float = 10.0
    #: Spin (a whole core) instead of sleeping when the next order is nearer than this; 0 = never spin.
    spin_us: float = 2000.0
    #: Starts every ClOrdID of the run; empty = a fresh random one per :func:`run_load` call, since the gateway
    #: keeps a session's ClOrdIDs for its lifetime and refuses duplicates.
    run_tag: str = ""

    def check(self) -> None:
        """Raise ValueError naming the first bad setting."""
        if self.sessions <= 0:
            raise ValueError(f"--sessions must be positive, got {self.sessions}")
        if not self.rate > 0:
            raise ValueError(f"--rate must be positive, got {self.rate:g}")
        if not self.duration > 0:
            raise ValueError(f"--duration must be positive, got {self.duration:g}")
        if not self.warmup >= 0:
            raise ValueError(f"--warmup must not be negative, got {self.warmup:g}")
        if not 1 <= self.processes <= self.sessions:
            raise ValueError(f"--processes must be between 1 and --sessions ({self.sessions}), got {self.processes}")
        if not self.logins:
            raise ValueError("at least one login is needed")
        if self.qty <= 0:
            raise ValueError(f"--qty must be positive, got {self.qty}")
        if not 0 < self.port < 65536:
            raise ValueError(f"--port must be 1..65535, got {self.port}")
        if not self.spin_us >= 0:
            raise ValueError(f"--spin-us must not be negative, got {self.spin_us:g}")
        if self.total_orders == 0:
            raise ValueError("--rate x --duration is less than one order")

    @property
    def total_orders(self) -> int:
        """Orders scheduled, warm-up included."""
        return round(self.rate * (self.warmup + self.duration))

    @property
    def warmup_orders(self) -> int:
        return min(round(self.rate * self.warmup), self.total_orders)

    def comp_id(self, session: int) -> str:
        return f"{self.comp_id_prefix}{session + 1:03d}"

    def login(self, session: int) -> Login:
        return self.logins[session % len(self.logins)]

    def describe(self) -> dict[str, Any]:
        """The plan for reports: everything but the passwords."""
        d = asdict(self)
        d["logins"] = [login.username for login in self.logins]
        return d


@dataclass
class WorkerResult:
    """One worker process's counts and histograms (encoded), with times relative to the measurement start."""

    sent: int
    acked: int
    rejected: int
    unacked: int
    not_sent: int
    last_send_s: float
    last_ack_s: float
    latency: str
    wire: str
    send_lag: str
    reject_reasons: dict[str, int]
    errors: list[str]


@dataclass
class LoadResult:
    """The merged outcome of a run; :meth:`to_json` is what ``--json`` writes."""

    plan: LoadPlan
    sent: int
    acked: int
    rejected: int
    unacked: int
    not_sent: int
    achieved_rate: float
    send_rate: float
    latency: LatencyHistogram
    wire: LatencyHistogram
    send_lag: LatencyHistogram
    reject_reasons: dict[str, int]
    errors: list[str]
    started_utc: str

    @property
    def ok(self) -> bool:
        """Every measured order was sent and answered, no session failed and not everything was rejected."""
        return not self.errors and self.unacked == 0 and self.not_sent == 0 and self.rejected < self.sent

    def to_json(self) -> dict[str, Any]:
        return {
            "started_utc": self.started_utc,
            "plan": self.plan.describe(),
            "offered_rate": self.plan.rate,
            "sent": self.sent,
            "acked": self.acked,
            "rejected": self.rejected,
            "unacked": self.unacked,
            "not_sent": self.not_sent,
            "achieved_rate": round(self.achieved_rate, 1),
            "send_rate": round(self.send_rate, 1),
            "latency_us": dict(self.latency.summary()),
            "wire_latency_us": dict(self.wire.summary()),
            "send_lag_us": dict(self.send_lag.summary()),
            "reject_reasons": self.reject_reasons,
            "errors": self.errors,
            "ok": self.ok,
            "latency_hdr": self.latency.encode(),
        }

    def report_lines(self) -> list[str]:
        p = self.plan
        lines = [
            f"load: {p.sessions} session(s) in {p.processes} process(es), offered {p.rate:,.0f} orders/s for "
            f"{p.duration:g} s (+{p.warmup:g} s warm-up) to {p.host}:{p.port}, {p.symbol} at {p.price}",
            f"sent {self.sent:,}  acked {self.acked:,}  rejected {self.rejected:,}  unacked {self.unacked:,}"
            + (f"  not sent {self.not_sent:,}" if self.not_sent else ""),
            f"achieved {self.achieved_rate:,.0f} acks/s ({self.achieved_rate / p.rate:.1%} of offered), "
            f"send rate {self.send_rate:,.0f}/s",
            "latency from scheduled send (us): " + _summary_text(self.latency.summary()),
            "latency from actual send (us):    " + _summary_text(self.wire.summary()),
            "client send lag per batch (us):   " + _summary_text(self.send_lag.summary()),
        ]
        for reason, n in sorted(self.reject_reasons.items(), key=lambda kv: -kv[1]):
            lines.append(f"rejected {n:,}: {reason}")
        lines.append("errors: " + ("none" if not self.errors else ""))
        lines += [f"  {e}" for e in self.errors]
        return lines


def _summary_text(s: Summary) -> str:
    if not s["count"]:
        return "no samples"
    return (
        f"p50 {s['p50']:,}  p90 {s['p90']:,}  p99 {s['p99']:,}  p99.9 {s['p99_9']:,}  max {s['max']:,}"
        f"  ({s['count']:,} samples)"
    )


def merge_results(plan: LoadPlan, parts: Sequence[WorkerResult], started_utc: str) -> LoadResult:
    latency, wire, lag = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()
    reasons: Counter[str] = Counter()
    errors: list[str] = []
    for part in parts:
        latency.merge_encoded(part.latency)
        wire.merge_encoded(part.wire)
        lag.merge_encoded(part.send_lag)
        reasons.update(part.reject_reasons)
        errors += [e for e in part.errors if e not in errors]
    sent = sum(p.sent for p in parts)
    acked = sum(p.acked for p in parts)
    last_ack = max((p.last_ack_s for p in parts), default=0.0)
    last_send = max((p.last_send_s for p in parts), default=0.0)
    unacked = sum(p.unacked for p in parts)
    if unacked:
        errors.append(f"{unacked:,} order(s) not answered within {plan.drain:g}s after the last send")
    return LoadResult(
        plan=plan,
        sent=sent,
        acked=acked,
        rejected=sum(p.rejected for p in parts),
        unacked=unacked,
        not_sent=sum(p.not_sent for p in parts),
        achieved_rate=acked / max(plan.duration, last_ack),
        send_rate=sent / max(plan.duration, last_send),
        latency=latency,
        wire=wire,
        send_lag=lag,
        reject_reasons=dict(reasons),
        errors=errors,
        started_utc=started_utc,
    )
