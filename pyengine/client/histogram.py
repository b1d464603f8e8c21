"""Latency histograms in microseconds: a typed face on HdrHistogram (the ``hdrhistogram`` package, ``hdrh``).

HdrHistogram keeps every sample at 3 significant digits in fixed memory, so a long run at 100,000 orders/s
costs no more than a short one, and histograms from several processes merge exactly: a worker process sends
:meth:`LatencyHistogram.encode` (compressed, base64 text), the parent adds it with :meth:`merge_encoded`.
"""

from __future__ import annotations

from typing import Final, TypedDict

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

__all__ = ["MAX_US", "PERCENTILES", "LatencyHistogram", "Summary"]

#: Highest trackable latency: 10 minutes; larger samples are clamped to it (and still counted).
MAX_US: Final = 600_000_000
#: (key, percentile) reported everywhere (text, JSON, bench report).
PERCENTILES: Final = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99_9", 99.9))


class Summary(TypedDict):
    """The figures of one histogram, in microseconds (``count`` samples)."""

    count: int
    mean: float
    p50: int
    p90: int
    p99: int
    p99_9: int
    max: int


class LatencyHistogram:
    """Microsecond samples from 1 µs to :data:`MAX_US`, 3 significant digits."""

    def __init__(self) -> None:
        self._h = HdrHistogram(1, MAX_US, 3)

    def record(self, micros: int) -> None:
        """Add one sample; below 1 µs counts as 1 µs, above :data:`MAX_US` as :data:`MAX_US`."""
        self._h.record_value(1 if micros < 1 else (MAX_US if micros > MAX_US else micros))

    @property
    def count(self) -> int:
        return int(self._h.get_total_count())

    def percentile(self, pct: float) -> int:
        return int(self._h.get_value_at_percentile(pct)) if self.count else 0

    def summary(self) -> Summary:
        if not self.count:
            return Summary(count=0, mean=0.0, p50=0, p90=0, p99=0, p99_9=0, max=0)
        p = {key: self.percentile(pct) for key, pct in PERCENTILES}
        return Summary(
            count=self.count,
            mean=round(float(self._h.get_mean_value()), 1),
            p50=p["p50"],
            p90=p["p90"],
            p99=p["p99"],
            p99_9=p["p99_9"],
            max=int(self._h.get_max_value()),
        )

    def encode(self) -> str:
        """The histogram as compressed base64 text (HdrHistogram's V2 encoding), for merging elsewhere."""
        data = self._h.encode()
        return data.decode("ascii") if isinstance(data, bytes) else str(data)

    def merge_encoded(self, encoded: str) -> None:
        """Add the samples of a histogram produced by :meth:`encode`."""
        if encoded:
            self._h.decode_and_add(encoded.encode("ascii"))

    def merge(self, other: LatencyHistogram) -> None:
        self._h.add(other._h)
