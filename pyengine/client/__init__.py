"""FIX 4.4 initiator client for the pyengine gateway.

Run ``python -m pyengine.client --help``: ``order``, ``cancel``, ``replace``, ``status`` and ``watch``
subcommands, each logging on, sending one request, printing every reply as a readable line and logging out.
The reusable blocking session is :class:`pyengine.client.fixclient.FixClient`.
"""

from pyengine.client.fixclient import FixClient, FixClientError, describe

__all__ = ["FixClient", "FixClientError", "describe"]
