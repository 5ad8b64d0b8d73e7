"""The operator's console: server-rendered pages over the caller briefs, memories and archived calls.

Served by the local runtime at ``/console`` (``routes``), or on this machine against a deployed
stack's archive and Mem0 (``agentic-memory console --stack``, ``command``). What it shows and changes
is computed in ``views``; who may see it is decided in ``access``.
"""
