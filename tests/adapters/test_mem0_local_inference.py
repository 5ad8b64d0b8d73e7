"""The embedded engine and a ten-minute call: passages without an LLM, Mem0's extraction with one.

The LLM is a stub chat-completions server on 127.0.0.1 started by the test. It answers Mem0 2.2.1's
single extraction call (``ADDITIVE_EXTRACTION_PROMPT`` with ``response_format: json_object``; the new
messages arrive as ``role: content`` lines under ``## New Messages``) with ``{"memory": [{"id",
"text", "attributed_to"}]}``, the facts chosen by the emulator's stand-in extraction.
"""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from long_calls import CALLER, archive_long_call

from agentic_memory.errors import MemoryUnavailable
from agentic_memory.memory_building import MAX_MEMORIES_PER_CALL
from agentic_memory.ports import ChatMessage
from agentic_memory.post_call import process_archived_event
from agentic_memory.settings import ProcessorSettings, Settings
from devtools.fakes import InMemoryArchive
from devtools.mem0_emulator import extracted_facts
from local_runtime.adapters.mem0_local import EmbeddedMemoryStore, OpenAICompatibleLlm
from local_runtime.backends import memory_store_for

CONVERSATION = "conv_long_call_0001"
MODEL = "stub-extractor-1"
LLM_KEY = "sk-stub-0123456789"


class _ChatCompletions(BaseHTTPRequestHandler):
    server: "_StubLlm"

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.requests.append({"path": self.path, "headers": headers, "body": request})
        prompt = request["messages"][-1]["content"]
        new_messages = prompt.split("## New Messages\n", 1)[1].split("\n\n## ", 1)[0]
        said = [
            {"role": role, "content": content}
            for role, _, content in (line.partition(": ") for line in new_messages.splitlines())
        ]
        facts = extracted_facts(said, known=set())
        memory = [{"id": str(n), "text": fact, "attributed_to": "user"} for n, fact in enumerate(facts)]
        answer = {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": 0,
            "model": request["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps({"memory": memory})},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _StubLlm(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[dict[str, Any]]


@pytest.fixture(scope="module")
def stub_llm() -> Iterator[_StubLlm]:
    server = _StubLlm(("127.0.0.1", 0), _ChatCompletions)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _base_url(server: _StubLlm) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def _process_long_call(store: EmbeddedMemoryStore) -> tuple[InMemoryArchive, str]:
    archive = InMemoryArchive()
    key = archive_long_call(archive, CONVERSATION)
    process_archived_event(key, ProcessorSettings(), archive, store)
    return archive, key


def test_without_an_llm_a_ten_minute_call_is_at_most_twenty_memories(tmp_path: Path) -> None:
    # Given the embedded engine as it comes (no LLM)
    with EmbeddedMemoryStore(tmp_path / "memory") as store:
        assert not store.infers
        # When a 120-turn call is processed
        _process_long_call(store)
        stored = store.list_all(CALLER)
        # Then it is the summary and the recall index's passages (it was 121 memories, one per line)
        assert 10 < len(stored) <= MAX_MEMORIES_PER_CALL
        passages = [r.text for r in stored if r.metadata["type"] == "semantic"]
        lines = [line for text in passages for line in text.splitlines()]
        assert all(line.startswith(("Agent: ", "Caller: ")) for line in lines)
        # And a passage is what the search tool finds for a question about the call
        (best,) = store.search(CALLER, "growing up in Leeds by the mill", limit=1)
        assert "Caller: I grew up in Leeds" in best.text


def test_with_an_llm_mem0_extracts_the_facts_of_the_call(tmp_path: Path, stub_llm: _StubLlm) -> None:
    # Given the embedded engine with an OpenAI-compatible LLM configured
    llm = OpenAICompatibleLlm(base_url=_base_url(stub_llm), model=MODEL, api_key=LLM_KEY)
    with EmbeddedMemoryStore(tmp_path / "memory", llm=llm) as store:
        assert store.infers
        stub_llm.requests.clear()
        # When a 120-turn call is processed
        archive, key = _process_long_call(store)
        stored = store.list_all(CALLER)
        # Then Mem0 asked the LLM once and stored the facts it extracted, with the call's metadata
        (request,) = stub_llm.requests
        assert request["path"] == "/v1/chat/completions"
        assert request["body"]["model"] == MODEL
        assert request["headers"]["authorization"] == f"Bearer {LLM_KEY}"
        facts = [r for r in stored if r.metadata["type"] == "semantic"]
        assert len(facts) == 10 and len(stored) == 11 <= MAX_MEMORIES_PER_CALL
        assert {r.metadata["conversation_id"] for r in facts} == {CONVERSATION}
        assert "I grew up in Leeds, in a terraced house near the mill." in {r.text for r in facts}
        # And processing the call again adds nothing and asks the LLM nothing
        assert process_archived_event(key, ProcessorSettings(), archive, store).skipped == "already_processed"
        assert len(store.list_all(CALLER)) == 11 and len(stub_llm.requests) == 1


def test_an_llm_that_cannot_be_reached_leaves_the_call_to_be_processed_again(tmp_path: Path) -> None:
    llm = OpenAICompatibleLlm(base_url="http://127.0.0.1:9/v1", model=MODEL)
    with EmbeddedMemoryStore(tmp_path / "memory", llm=llm) as store:
        conversation = [ChatMessage(role="user", content="My dog is called Biscuit.")]
        with pytest.raises(MemoryUnavailable):
            store.add_inferred(CALLER, conversation, {"type": "semantic", "conversation_id": "c1"})


def test_the_llm_comes_from_the_embedded_llm_settings(tmp_path: Path) -> None:
    environment = {
        "AGENTIC_MEMORY_HOME": str(tmp_path),
        "EMBEDDED_LLM_BASE_URL": "http://127.0.0.1:11434/v1",
        "EMBEDDED_LLM_MODEL": "llama3.2",
        "EMBEDDED_LLM_API_KEY": LLM_KEY,
    }
    store = memory_store_for(Settings.from_environment(environment))
    assert isinstance(store, EmbeddedMemoryStore) and store.infers
    assert store.llm == OpenAICompatibleLlm("http://127.0.0.1:11434/v1", "llama3.2", LLM_KEY)
    assert LLM_KEY not in repr(store.llm)
    without = memory_store_for(Settings.from_environment({"AGENTIC_MEMORY_HOME": str(tmp_path)}))
    assert isinstance(without, EmbeddedMemoryStore) and not without.infers
