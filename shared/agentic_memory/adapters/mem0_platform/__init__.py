"""Mem0 Platform (Mem0 Cloud) behind the ``MemoryStore`` port: a thin REST client on urllib3.

Not ``mem0ai.MemoryClient``: importing it costs about a second, its constructor pings the API, its
timeout is 300 s and it sends telemetry. This client speaks the same v3 wire format
(``tests/mem0_platform/test_parity_with_mem0ai.py`` pins it against what mem0ai 2.2.1 sends) and behaves as
a voice call needs:

* **Nothing happens at import or construction.** The first call connects. A keep-alive connection is
  reused across invocations; idle ones wait in a small pool so that threads can overlap calls. An
  idle connection the server has closed (say while the Lambda was frozen) is noticed and replaced
  before it is used.
* **Every call has a deadline**: ``timeout`` is what the caller can still wait (reads default to
  ``read_timeout``, writes to ``write_timeout``). Connecting, sending and every receive together stay
  within it, not each of them on its own.
* **At most one retry, for reads only** (search, list), on a connection error or a 5xx, and only
  while time remains. ``add`` is never retried: a lost answer may hide a stored memory.
* **Failures are domain errors**: ``Mem0PlatformError``, a ``MemoryUnavailable`` carrying its kind,
  the status and the response detail (never the key; the user id masked). No telemetry of any kind.

Wire decisions, where the Platform differs from the port:

* **Roles.** The port stores messages verbatim; the Platform does that with ``infer: false`` but
  keeps only ``user`` messages ("direct import"). So every message is sent as ``user`` and its real
  role travels in metadata as ``message_role``: one request per role present (two at most per add).
  An add with inference (``add_inferred``) sends the conversation as it was, agent turns as
  ``assistant``, in one request with ``infer: true``: Mem0 extracts and consolidates the facts, and
  answers ``{"event_id", "status": "PENDING"}`` before it has (the memories appear later, each with
  the metadata sent).
* **Agent id.** ``agent_id`` is a Mem0 entity, and a filter on ``user_id`` alone only matches
  memories whose agent, app and run are null (implicit null scoping). The ElevenLabs agent id we keep
  in metadata therefore travels as ``elevenlabs_agent_id``; reads put both names back.
* **Org and project.** mem0ai 2.x resolves them from the API key and sends neither (1.0.x put them in
  every query string), so they are kept for reference and not sent.
* **Delete.** As ``MemoryClient.delete_all(user_id=...)``: ``DELETE /v1/memories/?user_id=...``. Its
  answer carries no count, so the memories are listed first.

Modules: ``store`` (the port's operations, retries, scrubbing), ``wire`` (bodies and answers ↔ the
ports' types, no I/O), ``transport`` (one HTTP exchange with a deadline), ``errors``.
"""

from .errors import Mem0PlatformError
from .store import Mem0PlatformStore

__all__ = ["Mem0PlatformError", "Mem0PlatformStore"]
