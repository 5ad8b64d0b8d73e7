"""The agent's own phone numbers, learned from its calls, so outbound pre-calls need no configuration.

The initiation webhook carries no direction: on an outbound call ``caller_id`` is the agent's own
number. ``AGENT_PHONE_NUMBERS`` lists those numbers by hand; besides it, the processor records every
number an agent has made or taken a call on, from each transcription's
``metadata.phone_call.agent_number`` (or, without it, the direction-aware system variable: on an
outbound call ``system__caller_id`` is the agent, on an inbound one ``system__called_number``), in
``agents/{agent_id}/numbers.json``: ``{"agent_id": "...", "numbers": ["+15550100001", ...]}``.

The pre-call reads that small object within its budget and keeps it per execution environment for
``CACHE_SECONDS`` (a number learned meanwhile is seen after at most that long elsewhere; the local
runtime, where processor and pre-call share the process, sees it at once).
"""

import json
import logging
import threading
import time
import weakref
from collections.abc import Collection
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from . import archive_keys, background
from .elevenlabs.post_call import TranscriptionData
from .errors import ArchiveKeyMissing
from .identity import normalise_phone_number
from .ports import Archive

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
# What the pre-call gives the read at most, of what remains of its budget: the memory read needs the rest.
BUDGET_SHARE = 0.4

_cache: "weakref.WeakKeyDictionary[Archive, dict[str, tuple[float, frozenset[str]]]]" = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def numbers_key(agent_id: str) -> str:
    return f"{archive_keys.AGENTS_PREFIX}{archive_keys.id_segment(agent_id)}/numbers.json"


def agent_number_of(data: TranscriptionData, default_country_code: str = "1") -> str | None:
    """The agent's own number on this call in E.164, or None for calls without a phone (web, SDK)."""
    phone_call = data.metadata.phone_call
    if phone_call is None:
        return None
    if phone_call.agent_number:
        return normalise_phone_number(phone_call.agent_number, default_country_code)
    client_data = data.conversation_initiation_client_data
    variables = client_data.dynamic_variables if client_data is not None else {}
    agent_variable = {"outbound": "system__caller_id", "inbound": "system__called_number"}
    name = agent_variable.get(phone_call.direction or "")
    value = variables.get(name) if name else None
    return normalise_phone_number(value, default_country_code) if isinstance(value, str) else None


def learn_agent_number(archive: Archive, data: TranscriptionData, default_country_code: str = "1") -> bool:
    """Record the call's agent number for its agent; True when it was new (the object was written).

    Read, add, write: two processors learning two new numbers at once may keep only one, and the
    other is learned again from the agent's next call on it.
    """
    number = agent_number_of(data, default_country_code)
    if number is None:
        return False
    known = read_numbers(archive, data.agent_id)
    if number in known:
        return False
    record = {"agent_id": data.agent_id, "numbers": sorted(known | {number})}
    archive.put(numbers_key(data.agent_id), json.dumps(record).encode("utf-8"), "application/json")
    with _lock:
        # The local runtime's pre-call shares this process: it sees the number at once.
        _cache.get(archive, {}).pop(data.agent_id, None)
    return True


def read_numbers(archive: Archive, agent_id: str) -> frozenset[str]:
    """The numbers learned for ``agent_id`` (empty when none is); a damaged object counts as none."""
    try:
        record = json.loads(archive.get(numbers_key(agent_id)))
    except ArchiveKeyMissing:
        return frozenset()
    except ValueError:
        log.warning("the learned agent numbers are unreadable; they are learned again")
        return frozenset()
    numbers = record.get("numbers") if isinstance(record, dict) else None
    return frozenset(n for n in numbers if isinstance(n, str)) if isinstance(numbers, list) else frozenset()


def known_agent_numbers(
    archive: Archive, agent_id: str, configured: Collection[str], timeout: float
) -> frozenset[str]:
    """``configured`` and the numbers learned for ``agent_id``, read within ``timeout`` seconds.

    Cached per archive and agent for ``CACHE_SECONDS``. A read that is late or fails adds nothing
    (the call is then taken as inbound); a late read still fills the cache when it completes.
    """
    now = time.monotonic()
    with _lock:
        cached = _cache.get(archive, {}).get(agent_id)
    if cached is not None and cached[0] > now:
        return frozenset(configured) | cached[1]
    read = background.submit(read_numbers, archive, agent_id)
    read.add_done_callback(lambda done: _remember(archive, agent_id, done))
    try:
        learned = read.result(timeout=max(timeout, 0.0))
    except FutureTimeout:
        log.warning("the learned agent numbers were not read in time; the call is taken as inbound")
        return frozenset(configured)
    except Exception as error:  # the archive's trouble must not stop a call
        log.warning("the learned agent numbers could not be read: %s", type(error).__name__)
        return frozenset(configured)
    return frozenset(configured) | learned


def _remember(archive: Archive, agent_id: str, done: "Future[frozenset[str]]") -> None:
    if done.cancelled() or done.exception() is not None:
        return
    with _lock:
        _cache.setdefault(archive, {})[agent_id] = (time.monotonic() + CACHE_SECONDS, done.result())
