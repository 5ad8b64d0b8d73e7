"""Driving a running emulator: the ``/_emulator/`` admin API and the Python handle ``Mem0Emulator``.

Both change behaviour (latency, faults, outages), inspect the request log, the stored memories and
counters, run pending extractions and reset. The admin endpoints take no auth and listen on loopback
only: ``GET|POST /_emulator/config``, ``GET|DELETE /_emulator/requests``, ``GET /_emulator/memories``,
``GET /_emulator/stats``, ``POST /_emulator/settle``, ``POST /_emulator/reset``. ``start_emulator``
starts one in background threads. Nothing here is a Mem0 fact: the admin API is the emulator's own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import ssl
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from devtools.mem0_emulator.behaviour import Behaviour
from devtools.mem0_emulator.latency import PROFILES
from devtools.mem0_emulator.platform_api import EmulatorState
from devtools.mem0_emulator.query import int_or
from devtools.mem0_emulator.records import RecordedRequest
from devtools.mem0_emulator.server import EmulatorServer


class _Admin:
    """The ``/_emulator/`` endpoints, for tests, ``make run`` and Locust to drive the emulator."""

    def __init__(self, emulator: Mem0Emulator) -> None:
        self.emulator = emulator

    def handle(self, method: str, path: str, query: Mapping[str, list[str]], raw: bytes) -> tuple[int, Any]:
        emulator = self.emulator
        try:
            body = json.loads(raw) if raw else {}
            if (method, path) == ("GET", "/_emulator/config"):
                return 200, emulator.behaviour.to_json()
            if (method, path) == ("POST", "/_emulator/config"):
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
                changes = dict(body)
                seconds = changes.pop("outage_seconds", None)
                behaviour = emulator.change(changes, seconds)
                # An outage closes connections, this one included: its effect waits for the answer to leave.
                timer = threading.Timer(0.05, emulator.apply_outage)
                timer.daemon = True
                timer.start()
                return 200, behaviour.to_json()
            if (method, path) == ("GET", "/_emulator/requests"):
                since = int_or(query.get("since"), 0)
                records = [r.to_json() for r in emulator.requests() if r.seq > since]
                return 200, {"requests": records}
            if (method, path) == ("DELETE", "/_emulator/requests"):
                emulator.clear_requests()
                return 200, {"status": "cleared"}
            if (method, path) == ("GET", "/_emulator/memories"):
                users = query.get("user_id")
                return 200, {"results": emulator.memories(users[-1] if users else None)}
            if (method, path) == ("GET", "/_emulator/stats"):
                return 200, emulator.stats()
            if (method, path) == ("POST", "/_emulator/settle"):
                return 200, {"settled": emulator.settle()}
            if (method, path) == ("POST", "/_emulator/reset"):
                emulator.reset()
                return 200, {"status": "reset"}
        except (ValueError, KeyError, TypeError) as error:
            return 400, {"detail": str(error)}
        return 404, {"detail": "Not found."}


class Mem0Emulator:
    """A running emulator: ``url``, ``configure``, ``requests``, ``memories``, ``reset``, ``stop``."""

    def __init__(self, state: EmulatorState, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.state = state
        self.tls = tls
        self._admin = _Admin(self)
        self._lock = threading.RLock()
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._restore_timer: threading.Timer | None = None
        self._listen(host, port)
        self.host, self.port = host, self._bound_port

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def behaviour(self) -> Behaviour:
        return self.state.behaviour

    def configure(self, outage_seconds: float | None = None, **changes: Any) -> Behaviour:
        """Change behaviour (see ``Behaviour.changed``); ``outage_seconds`` ends an outage by itself."""
        behaviour = self.change(changes, outage_seconds)
        self.apply_outage()
        return behaviour

    def change(self, changes: Mapping[str, Any], outage_seconds: float | None = None) -> Behaviour:
        """Change behaviour without yet opening or closing the listener (see ``apply_outage``)."""
        with self._lock:
            with self.state.lock:
                self.state.behaviour = self.state.behaviour.changed(changes)
                behaviour = self.state.behaviour
            if self._restore_timer is not None:
                self._restore_timer.cancel()
                self._restore_timer = None
            if behaviour.outage is not None and outage_seconds:
                self._restore_timer = threading.Timer(
                    float(outage_seconds), self.configure, kwargs={"outage": None}
                )
                self._restore_timer.daemon = True
                self._restore_timer.start()
            return behaviour

    def apply_outage(self) -> None:
        """Stop listening for a ``refuse`` outage, listen again after it, drop connections during one."""
        with self._lock:
            outage = self.state.behaviour.outage
            if outage == "refuse" and self._server is not None:
                self._stop_listening()
            elif outage != "refuse" and self._server is None and not self.state.stopping.is_set():
                self._listen(self.host, self.port)
            if outage is not None:
                self._drop_open_connections()

    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return [dataclasses.replace(r, headers=dict(r.headers)) for r in self.state.log]

    def clear_requests(self) -> None:
        with self.state.lock:
            self.state.log.clear()

    def memories(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Stored memories, oldest first, as the list endpoint shows them (optionally one user's)."""
        with self.state.lock:
            stored = list(self.state.memories.values())
        return [m.as_listed() for m in stored if user_id is None or m.user_id == user_id]

    def stats(self) -> dict[str, int]:
        with self.state.lock:
            return {
                "connections_accepted": self.state.connections_accepted,
                "requests": self.state.sequence,
                "memories": len(self.state.memories),
            }

    @property
    def connections_accepted(self) -> int:
        return self.state.connections_accepted

    def reset(self) -> None:
        """Forget memories and requests, and go back to the behaviour the emulator started with."""
        with self.state.lock:
            self.state.memories.clear()
            self.state.events.clear()
            self.state.log.clear()
        self.configure(**_start_settings(self.state.start_behaviour))

    def settle(self) -> int:
        """Let every pending add with inference finish now (its memories appear); return how many."""
        return self.state.settle()

    def stop(self) -> None:
        with self._lock:
            if self._restore_timer is not None:
                self._restore_timer.cancel()
            self.state.stopping.set()
            self._stop_listening()

    def __enter__(self) -> Mem0Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- listening -----------------------------------------------------------------------------------

    def _listen(self, host: str, port: int) -> None:
        server = EmulatorServer((host, port), self.state, self._admin, self.tls)
        self._bound_port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="mem0-emulator", daemon=True
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        self._drop_open_connections()

    def _drop_open_connections(self) -> None:
        with self.state.lock:
            connections = list(self.state.open_connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _start_settings(behaviour: Behaviour) -> dict[str, Any]:
    return {
        "latency": behaviour.latency,
        "latency_by_operation": dict(behaviour.latency_by_operation),
        "error_rate": behaviour.error_rate,
        "error_status": behaviour.error_status,
        "rate_limit_rate": behaviour.rate_limit_rate,
        "retry_after_seconds": behaviour.retry_after_seconds,
        "malformed_rate": behaviour.malformed_rate,
        "malformed": behaviour.malformed,
        "outage": behaviour.outage,
        "fault_operations": behaviour.fault_operations,
        "next_faults": behaviour.next_faults,
        "extraction_seconds": behaviour.extraction_seconds,
    }


def start_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    profile: str = "none",
    api_keys: Iterable[str] = (),
    *,
    seed: int = 0,
    org_id: str = "org_emulated",
    project_id: str = "proj_emulated",
    tls: ssl.SSLContext | None = None,
    **behaviour: Any,
) -> Mem0Emulator:
    """Start an emulator in background threads. ``behaviour`` takes ``Behaviour``'s fields; ``tls``, a
    server-side context, makes it answer https (to test a client's TLS path)."""
    keys = tuple(api_keys)
    if not keys:
        raise ValueError("give the emulator at least one API key to accept")
    start = Behaviour(latency=PROFILES[profile]).changed(behaviour)
    return Mem0Emulator(EmulatorState(keys, start, seed, org_id, project_id), host, port, tls)
