"""akhil4n-orderbook (pure Python, ``import orderbook``); glue in :mod:`.sorteddict_book`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orderbook  # type: ignore[import-not-found, unused-ignore]

from .sorteddict_book import LimitFactory, MarketFactory, SortedDictBookAdapter


@dataclass
class Akhil4nAdapter(SortedDictBookAdapter):
    name: str = "akhil4n-orderbook"
    dist: str = "akhil4n-orderbook"
    kind: str = "pure Python"

    def classes(self) -> tuple[type, tuple[Any, Any], LimitFactory, MarketFactory]:
        sides = (orderbook.OrderSide.BID, orderbook.OrderSide.ASK)
        return orderbook.OrderBook, sides, orderbook.Order, orderbook.MarketOrder
