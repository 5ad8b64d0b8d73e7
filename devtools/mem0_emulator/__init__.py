"""A Mem0 Platform stand-in on loopback, for tests, ``make run`` (opt-in) and the load tests.

It speaks the endpoints and JSON shapes ``mem0ai`` 2.x uses (``docs/mem0-platform.md``) over real HTTP,
keeps memories in memory and behaves as the Platform documents; latency and faults can be injected at
start and at run time. One module per job, each depending only on those listed after it:

- ``cli`` (and ``__main__``): ``python -m devtools.mem0_emulator --port 0 --profile published|none|slow``;
- ``admin``: the ``/_emulator/`` admin API, the ``Mem0Emulator`` handle and ``start_emulator``;
- ``server``: the HTTP server, routing, auth, injected faults and latency;
- ``platform_api``: what each Mem0 endpoint does (``EmulatorState``);
- ``query``: the filter language and the search score; ``extraction``: the stand-in for Mem0's LLM;
- ``records``: requests, memories and events as stored; ``behaviour``: faults and latency per operation;
- ``latency``: the latency model and profiles (Mem0's published search latency).

Python: ``start_emulator(port=0, profile="published", api_keys=[key])`` returns a handle with ``url``,
``configure(...)``, ``requests()``, ``memories()``, ``reset()`` and ``stop()``.
"""

from devtools.mem0_emulator.admin import Mem0Emulator, start_emulator
from devtools.mem0_emulator.behaviour import FAULTS, OPERATIONS, OUTAGES, Behaviour
from devtools.mem0_emulator.cli import main
from devtools.mem0_emulator.extraction import MAX_FACTS_PER_ADD, extracted_facts
from devtools.mem0_emulator.latency import PROFILES, PUBLISHED_SEARCH_LATENCY, Latency, LatencyKind
from devtools.mem0_emulator.platform_api import EmulatorState
from devtools.mem0_emulator.query import ApiError, lexical_score
from devtools.mem0_emulator.records import ENTITY_FIELDS, AddEvent, RecordedRequest, StoredMemory

__all__ = [
    "ENTITY_FIELDS",
    "FAULTS",
    "MAX_FACTS_PER_ADD",
    "OPERATIONS",
    "OUTAGES",
    "PROFILES",
    "PUBLISHED_SEARCH_LATENCY",
    "AddEvent",
    "ApiError",
    "Behaviour",
    "EmulatorState",
    "Latency",
    "LatencyKind",
    "Mem0Emulator",
    "RecordedRequest",
    "StoredMemory",
    "extracted_facts",
    "lexical_score",
    "main",
    "start_emulator",
]
