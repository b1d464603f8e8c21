"""The FIX 4.4 order-entry gateway (in progress).

``python -m pyengine.gateway`` runs a first slice on embedded defaults: FIX 4.4
logon, NewOrderSingle and OrderCancelRequest mapped onto a journaled engine,
ExecutionReports written only after the per-iteration journal commit, and HTTP
``/health`` and ``/metrics``. Modules: ``config`` (TOML < environment < flags),
``auth`` (scrypt password hashes), ``session``/``seqstore`` (FIX session state
machine and its persistent store), ``orders`` (application mapping), ``server``.
Also `orders` maps G, H and q. Not yet: risk and rate limits, kill switch, JWT.
"""
