"""Whose memory a call reads and writes: the caller's across the workspace, or the caller's with one agent.

``MEMORY_SCOPE`` chooses (``settings.ScopeSettings``):

- ``caller`` (the default): one memory per caller, shared by every agent of the workspace. Mem0's
  ``user_id`` is the caller's key and the brief is ``profiles/{caller}.json``.
- ``caller_and_agent``: one memory per caller *and* agent, so two unrelated agents of one workspace
  keep what their callers said apart. Mem0's ``user_id`` is ``{caller}~{agent_id}`` and the brief is
  ``profiles/{agent_id}/{caller}.json``.

The scoped ``user_id`` (rather than Mem0's own ``agent_id`` entity) works the same in every store we
run (Mem0 Platform, the embedded engine, the emulator): each scope's memories are one ``user_id`` to
add, search, list and delete, with no filter that a store could ignore. ``~`` appears in no caller
key and no agent id (``archive_keys``), so a scoped id never equals a caller's own. A caller's
memories with every agent are found from the agents of their archived calls and briefs
(``local_runtime.operations.footprint``), which is how ``forget`` erases them all.
"""

from collections.abc import Iterable
from enum import StrEnum

from . import archive_keys

AGENT_SEPARATOR = "~"


class MemoryScope(StrEnum):
    CALLER = "caller"
    CALLER_AND_AGENT = "caller_and_agent"


class AgentNotNamed(Exception):
    """A scope per caller and agent, and no agent named: nothing may be read (it could be anyone's)."""


def scoped_agent(agent_id: str | None, scope: MemoryScope) -> str | None:
    """The agent segment a scope keys by: None under ``caller``; the agent's id (encoded when it is
    not a safe id) under ``caller_and_agent``. Raises ``AgentNotNamed`` when that scope has none."""
    if scope is MemoryScope.CALLER:
        return None
    if not agent_id:
        raise AgentNotNamed("MEMORY_SCOPE=caller_and_agent and no agent_id was sent")
    return archive_keys.id_segment(agent_id)


def memory_user_id(caller_id: str, agent_id: str | None, scope: MemoryScope) -> str:
    """Mem0's ``user_id`` for a caller's memories in ``scope``: ``+15551234567`` or
    ``+15551234567~agent_7101k5…``. Raises ``AgentNotNamed`` as ``scoped_agent`` does."""
    return scoped_user_id(caller_id, scoped_agent(agent_id, scope))


def scoped_user_id(caller_id: str, agent_segment: str | None) -> str:
    return caller_id if agent_segment is None else f"{caller_id}{AGENT_SEPARATOR}{agent_segment}"


def every_user_id(caller_id: str, agent_ids: Iterable[str]) -> list[str]:
    """Every ``user_id`` the caller's memories may be under, in either scope: theirs, then one per agent."""
    agents = sorted({archive_keys.id_segment(agent) for agent in agent_ids if agent})
    return [caller_id, *(scoped_user_id(caller_id, agent) for agent in agents)]
