"""Peer adapters: each maps the shared workloads onto one peer's API (see :mod:`.base`).

Peers are imported lazily, by :func:`load`, so a peer that is not installed or fails to
import is reported with its error while the others still run.
"""

from __future__ import annotations

import importlib

from .base import Adapter

#: peer name -> (module, adapter class), in report order.
PEERS: dict[str, tuple[str, str]] = {
    "nanobook": ("nanobook_adapter", "NanobookAdapter"),
    "cython-orderbook": ("cython_orderbook_adapter", "CythonOrderbookAdapter"),
    "pyorderbook": ("pyorderbook_adapter", "PyorderbookAdapter"),
    "akhil4n-orderbook": ("akhil4n_adapter", "Akhil4nAdapter"),
    "reference": ("reference_adapter", "ReferenceAdapter"),
}


def load(name: str) -> Adapter:
    """The adapter of peer ``name``; raises ImportError (with the peer's error) when it cannot be imported."""
    module, cls = PEERS[name]
    adapter: Adapter = getattr(importlib.import_module(f".{module}", __name__), cls)()
    return adapter
