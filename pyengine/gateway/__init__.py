"""The FIX 4.4 order-entry gateway (in progress).

Present so far: ``config`` (TOML < environment < flags, embedded demo defaults),
``auth`` (scrypt password hashes), ``seqstore`` (persistent per-session sequence
numbers and outbound store) and ``session`` (the transport-agnostic FIX session
state machine). The network server, ``python -m pyengine.gateway``, is not built yet.
"""
