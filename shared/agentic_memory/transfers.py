"""Every agent a conversation visited: a transfer (``transfer_to_agent``) hands the caller to another.

Under ``MEMORY_SCOPE=caller_and_agent`` a conversation is remembered by each agent that took part in
it (its memories, its brief and its recall index), so that the billing agent the front desk
transferred to knows the refund it settled when the caller rings billing next week.

The agents come, first seen first, from (SDK ``GetConversationResponseModel`` and transcript models,
elevenlabs-python, checked July 2026):

- ``data.agent_id``: the agent the conversation started with (always first);
- ``data.visited_agents[].agent_id``: the agents that took part, in first-seen transcript order;
- ``transcript[].agent_metadata.agent_id``: the agent that said each agent turn;
- ``transcript[].tool_results[].result`` of ``result_type`` ``transfer_to_agent_success``: the
  ``from_agent`` and ``to_agent`` of each transfer (or the same object in ``result_value``, a string).

Any of these may be missing (older payloads carry none of them): the conversation is then the first
agent's, as before.
"""

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from .elevenlabs import post_call as wire
from .scope import MemoryScope, scoped_agent

TRANSFER_SUCCESS = "transfer_to_agent_success"


def conversation_agents(data: wire.TranscriptionData) -> tuple[str, ...]:
    """The agent ids of the conversation, the one it started with first, each once."""
    seen: dict[str, None] = {}
    for agent in _mentioned_agents(data):
        if isinstance(agent, str) and agent.strip():
            seen.setdefault(agent.strip(), None)
    return tuple(seen)


def agents_in_scope(data: wire.TranscriptionData, scope: MemoryScope) -> list[str | None]:
    """The agent segments whose memory the conversation goes into: ``[None]`` (the caller's one
    memory) under ``caller``; one per visited agent under ``caller_and_agent`` (``scope.scoped_agent``)."""
    if scope is MemoryScope.CALLER:
        return [None]
    segments = (scoped_agent(agent, scope) for agent in conversation_agents(data))
    return list(dict.fromkeys(segment for segment in segments if segment is not None))


def visits(data: wire.TranscriptionData, agent_segment: str | None) -> bool:
    """True when the conversation belongs to the memory of ``agent_segment`` (an agent's segment,
    ``scope.scoped_agent``; None: the caller's one memory, which every conversation belongs to)."""
    return agent_segment is None or agent_segment in agents_in_scope(data, MemoryScope.CALLER_AND_AGENT)


def _mentioned_agents(data: wire.TranscriptionData) -> Iterator[Any]:
    yield data.agent_id
    for visited in data.visited_agents:
        yield visited.agent_id
    for turn in data.transcript:
        if turn.agent_metadata is not None:
            yield turn.agent_metadata.agent_id
        for result in turn.tool_results or ():
            transfer = _transfer_of(result)
            if transfer is not None:
                yield transfer.get("from_agent")
                yield transfer.get("to_agent")


def _transfer_of(result: wire.ToolResult) -> dict[str, Any] | None:
    """The successful transfer a tool result records, or None."""
    candidates: list[Any] = [result.result]
    if result.result is None and result.result_value and "transfer_to_agent" in result.result_value:
        with contextlib.suppress(ValueError):  # not JSON: no transfer to read
            candidates.append(json.loads(result.result_value))
    for candidate in candidates:
        if isinstance(candidate, dict) and candidate.get("result_type") == TRANSFER_SUCCESS:
            return candidate
    return None
