"""The embedded memory store against the real engine: Mem0's ``Memory``, embedded Qdrant on disk and the
ONNX MiniLM model, in a temporary folder. One store is shared by the module (opening it imports Mem0
and loads the model); tests that write use callers of their own.

Every test here runs under an audit hook that refuses, and records, any connection or DNS lookup that
would leave the machine, including those made while Mem0 is imported and opened.
"""

import ipaddress
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agentic_memory.errors import MemoryUnavailable
from agentic_memory.ports import ChatMessage, MemoryRecord
from local_runtime.adapters import mem0_local
from local_runtime.adapters.embedding.onnx_minilm import (
    EmbeddingModelError,
    OnnxMiniLmEmbedder,
    shared_embedder,
)
from local_runtime.adapters.mem0_local import EmbeddedMemoryStore, LlmNotConfigured

MARIA = "+15550001001"
JOE = "+15550001002"
CALL_METADATA = {
    "type": "semantic",
    "agent_id": "agent_reception",
    "timestamp": "2026-05-04T10:00:00+00:00",
    "call_duration_seconds": 95,
}
MARIAS_CALL = [
    ChatMessage(
        role="assistant", content="Hello, you're through to Northside Grooming. Who am I speaking with?"
    ),
    ChatMessage(role="user", content="Hi, this is Maria Lopez."),
    ChatMessage(role="user", content="I have a dog named Biscuit"),
    ChatMessage(role="user", content="I'd like to book a grooming appointment for next Tuesday morning."),
    ChatMessage(role="assistant", content="Tuesday at 9 works. Shall I send a text reminder?"),
    ChatMessage(role="user", content="Yes please, and my new address is 42 Elm Street."),
]
JOES_CALL = [
    ChatMessage(role="user", content="My cat Whiskers needs her vaccinations."),
    ChatMessage(role="user", content="I am allergic to penicillin, by the way."),
    ChatMessage(role="assistant", content="Noted. We can see Whiskers on Friday afternoon."),
]


# -- the network guard ------------------------------------------------------------------------------

_network_attempts: list[str] = []
_guard_armed = False


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse_off_machine_traffic(event: str, args: tuple[Any, ...]) -> None:
    if not _guard_armed:
        return
    if event == "socket.connect" and isinstance(args[1], tuple) and not _is_loopback(args[1][0]):
        target = f"connect {args[1][0]}"
    elif event == "socket.getaddrinfo" and not _is_loopback(args[0]):
        target = f"resolve {args[0]}"
    else:
        return
    _network_attempts.append(target)
    raise ConnectionRefusedError(f"the embedded memory store must stay offline (tried to {target})")


sys.addaudithook(_refuse_off_machine_traffic)  # hooks cannot be removed: it acts only while armed


@pytest.fixture(scope="module", autouse=True)
def offline() -> Iterator[list[str]]:
    global _guard_armed
    _guard_armed = True
    try:
        yield _network_attempts
    finally:
        _guard_armed = False


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(offline: list[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedMemoryStore]:
    """Given Maria's and Joe's calls stored in one store."""
    memory_store = EmbeddedMemoryStore(tmp_path_factory.mktemp("home") / "memory")
    memory_store.open()
    memory_store.add(MARIA, MARIAS_CALL, {**CALL_METADATA, "conversation_id": "conv_maria_1"})
    memory_store.add(JOE, JOES_CALL, {**CALL_METADATA, "conversation_id": "conv_joe_1"})
    yield memory_store
    memory_store.close()


@pytest.fixture(scope="module")
def embedder() -> OnnxMiniLmEmbedder:
    return shared_embedder()  # the instance the store uses: the model is loaded once for the module


def _cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


# -- the embedder ---------------------------------------------------------------------------------


def test_embedder_gives_unit_vectors_of_384_dimensions(embedder: OnnxMiniLmEmbedder) -> None:
    # When
    vectors = embedder.embed_many(["I have a dog named Biscuit", "ok", "word " * 1000])

    # Then: padding and the 256-token cut leave every vector whole and unit length
    assert [len(v) for v in vectors] == [384, 384, 384]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert _cosine(vectors[0], embedder.embed("I have a dog named Biscuit")) == pytest.approx(1.0, abs=1e-5)


def test_embedder_places_paraphrases_closer_than_unrelated_sentences(embedder: OnnxMiniLmEmbedder) -> None:
    # Given
    fact, question, unrelated = embedder.embed_many(
        ["I have a dog named Biscuit", "what pet does the caller have", "The invoice is due on Friday"]
    )

    # Then
    assert _cosine(fact, question) > _cosine(fact, unrelated) + 0.2


def test_embedder_refuses_a_model_file_that_is_not_the_pinned_one() -> None:
    # Given
    embedder = OnnxMiniLmEmbedder(expected_sha256="0" * 64)

    # When / Then
    with pytest.raises(EmbeddingModelError, match="sha256"):
        embedder.embed("hello")


# -- the store ------------------------------------------------------------------------------------


def test_search_finds_the_fact_behind_a_paraphrased_question(store: EmbeddedMemoryStore) -> None:
    # When
    hits = store.search(MARIA, "what pet does the caller have", limit=3)

    # Then
    assert hits[0].text == "I have a dog named Biscuit"
    assert len(hits) == 3
    assert all(hit.score is not None for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score or 0.0 for hit in hits), reverse=True)


def test_callers_never_see_each_others_memories(store: EmbeddedMemoryStore) -> None:
    # When
    joes_hits = store.search(JOE, "what pet does the caller have", limit=10)
    joes_memories = store.list_all(JOE)

    # Then
    assert joes_hits[0].text == "My cat Whiskers needs her vaccinations."
    assert {m.text for m in joes_memories} == {m.content for m in JOES_CALL}
    assert not {h.text for h in joes_hits} & {m.content for m in MARIAS_CALL}
    assert store.list_all("+15550009999") == []


def test_metadata_round_trips_with_the_role_of_each_message(store: EmbeddedMemoryStore) -> None:
    # When
    memories = store.list_all(MARIA)

    # Then: oldest first, each with the call's metadata and its own role (agent_id included, which
    # Mem0 would drop from metadata)
    assert [m.text for m in memories] == [m.content for m in MARIAS_CALL]
    for memory, message in zip(memories, MARIAS_CALL, strict=True):
        assert dict(memory.metadata) == {
            **CALL_METADATA,
            "conversation_id": "conv_maria_1",
            "role": message.role,
        }
        assert memory.created_at is not None
        assert memory.score is None


def test_list_all_returns_every_memory_not_mem0s_default_twenty(store: EmbeddedMemoryStore) -> None:
    # Given 25 memories, more than Mem0's get_all returns by default
    caller = "+15550001003"
    notes = [
        ChatMessage(role="user", content=f"Reminder number {n}: call back about order {n}") for n in range(25)
    ]
    ids = store.add(caller, notes, {"type": "factual", "conversation_id": "conv_many"})

    # When
    memories = store.list_all(caller)

    # Then
    assert len(ids) == 25
    assert {m.id for m in memories} == set(ids)


def test_delete_all_erases_one_caller_and_counts_what_it_erased(store: EmbeddedMemoryStore) -> None:
    # Given
    caller = "+15550001004"
    store.add(caller, JOES_CALL, {"type": "semantic", "conversation_id": "conv_erase"})

    # When
    deleted = store.delete_all(caller)

    # Then
    assert deleted == len(JOES_CALL)
    assert store.list_all(caller) == []
    assert store.search(caller, "cat", limit=3) == []
    assert store.delete_all(caller) == 0
    assert len(store.list_all(JOE)) == len(JOES_CALL)


def test_delete_erases_one_memory_by_id(store: EmbeddedMemoryStore) -> None:
    # Given a caller with two memories
    caller = "+15550001009"
    first, second = store.add(caller, JOES_CALL[:2], {"type": "semantic", "conversation_id": "conv_one"})

    # When one is deleted by its id (the console's "delete one memory")
    deleted = store.delete(first)

    # Then only that one is gone, and deleting it again finds nothing
    assert deleted is True
    assert [record.id for record in store.list_all(caller)] == [second]
    assert store.delete(first) is False


def test_update_replaces_one_memorys_text_and_keeps_its_metadata(store: EmbeddedMemoryStore) -> None:
    # Given a caller's memory
    caller = "+15550001011"
    (memory_id,) = store.add(caller, JOES_CALL[:1], {"type": "factual", "conversation_id": "conv_upd"})
    # When the operator's correction rewrites it
    assert store.update(memory_id, "User name is Eleanor.") is True
    # Then the same memory says the new text, keeps its metadata, and is found by it
    (record,) = store.list_all(caller)
    assert (record.id, record.text, record.metadata.get("conversation_id")) == (
        memory_id,
        "User name is Eleanor.",
        "conv_upd",
    )
    assert store.search(caller, "Eleanor", limit=1)[0].id == memory_id
    assert store.update("00000000-0000-0000-0000-000000000000", "x") is False


def test_threads_may_share_one_store(store: EmbeddedMemoryStore) -> None:
    # Given four threads that each write, then read, for the same new caller at the same time
    caller = "+15550001005"

    def write_then_read(n: int) -> list[MemoryRecord]:
        store.add(
            caller, [ChatMessage(role="user", content=f"My parking spot is number {n}")], {"type": "semantic"}
        )
        return store.search(caller, "where does the caller park", limit=4)

    # When
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(write_then_read, range(4)))

    # Then: nothing was lost or failed, and each thread saw at least its own write
    assert len(store.list_all(caller)) == 4
    assert all(len(hits) >= 1 for hits in results)


def test_a_caller_out_of_time_gets_memory_unavailable(store: EmbeddedMemoryStore) -> None:
    with pytest.raises(MemoryUnavailable):
        store.search(MARIA, "pet", limit=3, timeout=0)


def test_a_second_instance_cannot_open_a_folder_in_use(store: EmbeddedMemoryStore) -> None:
    # Given the module's store, open in this process
    intruder = EmbeddedMemoryStore(store.directory)

    # When / Then: embedded Qdrant locks its folder to one owner
    with pytest.raises(MemoryUnavailable, match="already accessed"):
        intruder.list_all(MARIA)


def test_memories_survive_closing_and_reopening_the_folder(tmp_path: Path) -> None:
    # Given
    first = EmbeddedMemoryStore(tmp_path / "memory")
    ids = first.add(MARIA, MARIAS_CALL[:3], {**CALL_METADATA, "conversation_id": "conv_persisted"})
    first.close()

    # When
    with EmbeddedMemoryStore(tmp_path / "memory") as reopened:
        memories = reopened.list_all(MARIA)
        hits = reopened.search(MARIA, "what pet does the caller have", limit=1)

    # Then
    assert [m.id for m in memories] == ids
    assert memories[0].metadata["conversation_id"] == "conv_persisted"
    assert hits[0].text == "I have a dog named Biscuit"


def test_mem0_is_never_given_a_way_to_call_an_llm() -> None:
    # Given the LLM class registered with Mem0 (Mem0 builds one at init, even when it never infers)
    no_llm = mem0_local.Mem0NoLlm(None)

    # When / Then
    with pytest.raises(LlmNotConfigured, match="infer=False"):
        no_llm.generate_response([{"role": "user", "content": "extract facts"}])


def test_a_whole_lifecycle_attempts_no_connection_and_never_loads_torch(
    offline: list[str], tmp_path: Path
) -> None:
    # When: open, write, read, erase and close a store of its own, under the guard
    with EmbeddedMemoryStore(tmp_path / "memory") as fresh:
        fresh.add(MARIA, MARIAS_CALL, {**CALL_METADATA, "conversation_id": "conv_offline"})
        fresh.search(MARIA, "what pet does the caller have", limit=3)
        fresh.list_all(MARIA)
        fresh.delete_all(MARIA)

    # Then: nothing tried to leave the machine in this module, Mem0's import and telemetry included
    assert offline == []
    assert "torch" not in sys.modules
