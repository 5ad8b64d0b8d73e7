"""Property: whatever a call stores through the Platform store comes back from it unchanged, texts,
roles and metadata, over real HTTP through the emulator."""

import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentic_memory.adapters.mem0_platform import Mem0PlatformStore
from agentic_memory.ports import ChatMessage
from devtools.mem0_emulator import Mem0Emulator, start_emulator

# Text as JSON carries it: any character but lone surrogates, which UTF-8 cannot encode.
texts = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=80).filter(str.strip)
messages = st.lists(
    st.builds(ChatMessage, role=st.sampled_from(["user", "assistant"]), content=texts), min_size=1, max_size=6
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), texts)
metadata = st.dictionaries(
    st.text(min_size=1, max_size=20).filter(
        lambda k: k not in ("role", "message_role", "elevenlabs_agent_id")
    ),
    scalars,
    max_size=5,
).map(lambda m: {**m, "type": "semantic", "agent_id": "agent_7f3a"})


@pytest.fixture(scope="module")
def platform() -> Iterator[tuple[Mem0Emulator, Mem0PlatformStore]]:
    key = f"m0-test-{secrets.token_hex(16)}"
    emulator = start_emulator(api_keys=[key])
    store = Mem0PlatformStore(key, emulator.url, page_size=4, read_timeout=5.0)
    yield emulator, store
    store.close()
    emulator.stop()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conversation=messages, call_metadata=metadata)
def test_what_is_stored_is_what_is_listed(
    platform: tuple[Mem0Emulator, Mem0PlatformStore],
    conversation: list[ChatMessage],
    call_metadata: dict[str, Any],
):
    _, store = platform
    caller = f"+1555{uuid.uuid4().int % 10**7:07d}"
    ids = store.add(caller, conversation, call_metadata)
    records = store.list_all(caller)
    assert sorted(ids) == sorted(r.id for r in records)
    assert sorted((r.text, r.metadata["role"]) for r in records) == sorted(
        (m.content, m.role) for m in conversation
    )
    for record in records:
        assert {k: v for k, v in record.metadata.items() if k != "role"} == call_metadata
    assert store.delete_all(caller) == len(conversation)
