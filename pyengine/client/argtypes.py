"""argparse value converters shared by the client commands: a bad value is an argparse error (exit 2)."""

from __future__ import annotations

import argparse
import math
from decimal import Decimal, InvalidOperation

__all__ = ["non_negative_float", "port", "positive_float", "positive_int", "price"]


def price(text: str) -> str:
    """A positive decimal price, kept as text so it reaches the wire exactly as typed."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal price: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"price must be positive: {text!r}")
    return text


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def port(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return value


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def positive_float(text: str) -> float:
    value = _float(text)
    if not value > 0 or math.isinf(value):  # NaN fails the comparison
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = _float(text)
    if not value >= 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value
