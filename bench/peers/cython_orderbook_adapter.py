"""cython-orderbook (Cython build of the akhil4n-orderbook design); glue in :mod:`.sorteddict_book`.

Its ``Order(side, quantity, price=None)`` takes the price last; a market order is an
``Order`` without a price passed to ``add_market_order``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cython_orderbook  # type: ignore[import-not-found, unused-ignore]

from .sorteddict_book import LimitFactory, MarketFactory, SortedDictBookAdapter

_Order = cython_orderbook.Order


def _limit(side: Any, price: int, qty: int) -> Any:
    return _Order(side, qty, price)


@dataclass
class CythonOrderbookAdapter(SortedDictBookAdapter):
    name: str = "cython-orderbook"
    dist: str = "cython-orderbook"
    kind: str = "Cython"

    def classes(self) -> tuple[type, tuple[Any, Any], LimitFactory, MarketFactory]:
        sides = (cython_orderbook.OrderSide.BID, cython_orderbook.OrderSide.ASK)
        return cython_orderbook.OrderBook, sides, _limit, _Order
