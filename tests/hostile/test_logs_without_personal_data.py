"""Logs without personal data (issue 6, item 7): everything the runtime writes during a whole call, at DEBUG.

A local runtime runs with ``LOG_LEVEL=DEBUG`` (and Powertools at DEBUG too), and serves one complete call:
the pre-call, a search by GET and one by POST, the signed transcription and the audio, then, once both are
processed, the pre-call of the next call. Everything the process wrote to stdout and stderr is then read:
it must hold no full phone number, no transcript or summary text, no secret and no audio.
"""

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile_support import AGENT_NUMBER, CALLER, HostileKeys
from runtime_support import start_runtime

from agentic_memory.signature import HEADER, sign
from devtools.fixtures import fixture_bytes, load_fixture

pytestmark = pytest.mark.integration

TRANSCRIPTION = load_fixture("transcription_twilio_inbound")
AUDIO = load_fixture("audio")
# What the caller and the agent said, the call's summary, the collected name and the search the agent ran.
PERSONAL_TEXT = (
    "I'd like to book a check-up for my dog Biscuit",
    "my grandson's wedding is in June",
    "Thursday at ten is perfect",
    "Is Biscuit due for anything in particular",
    "wedding takes place and Biscuit travels with her",
    "Check-up booked for Biscuit",
    "The caller gave her first name",
    "upcoming family events",
    "Margaret",
)
# The basicConfig format of `agentic-memory serve`: "LEVEL logger.name: message".
_STDLIB_LINE = re.compile(r"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.\-]+): ")
_POWERTOOLS_LINE = re.compile(r'^\{"level":"\w+".*?"service":"([\w\-]+)"')


@dataclass(frozen=True)
class CapturedCall:
    output: str
    keys: HostileKeys
    answers: dict[str, Any]


def phone_number_pattern(number: str) -> re.Pattern[str]:
    """The national number's ten digits, with or without separators between them (any format)."""
    digits = number[-10:]
    return re.compile(r"[\s().\-/]?".join(digits))


def sources_of(lines: Iterable[str], wanted: Iterable[str]) -> set[str]:
    """The loggers that wrote a line holding one of ``wanted`` (a continuation line is its first line's)."""
    found, source = set(), "process output"
    for line in lines:
        if match := _STDLIB_LINE.match(line) or _POWERTOOLS_LINE.match(line):
            source = match.group(1)
        if any(text in line for text in wanted):
            found.add(source)
    return found


def wait_for(check: Any, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture(scope="module")
def captured_call(tmp_path_factory: pytest.TempPathFactory) -> CapturedCall:
    keys = HostileKeys.generate()
    debug = {"LOG_LEVEL": "DEBUG", "POWERTOOLS_LOG_LEVEL": "DEBUG", "ELEVENLABS_TOOL_KEY": keys.tool}
    runtime = start_runtime(tmp_path_factory.mktemp("logged-call"), keys, debug)
    url, answers = runtime.url, {}
    workspace = {"X-Workspace-Key": keys.workspace, "Content-Type": "application/json"}
    tool = {"X-Tool-Key": keys.tool}
    try:
        initiation = fixture_bytes("precall_twilio_inbound")
        answers["first pre-call"] = httpx.post(
            f"{url}/client-data", content=initiation, headers=workspace, timeout=10
        )
        query = load_fixture("tool_search_get")["query_string"]
        answers["search by GET"] = httpx.get(f"{url}/retrieve", params=query, headers=tool, timeout=10)
        search = fixture_bytes("tool_search_post")
        answers["search by POST"] = httpx.post(f"{url}/retrieve", content=search, headers=tool, timeout=10)
        for name in ("transcription_twilio_inbound", "audio"):
            body = fixture_bytes(name)
            signed = {HEADER: sign(body, keys.hmac), "Content-Type": "application/json"}
            answers[name] = httpx.post(f"{url}/post-call", content=body, headers=signed, timeout=10)
        data = AUDIO["data"]
        mp3 = Path(
            runtime.home,
            "archive",
            "post-call",
            "audio-only",
            data["agent_id"],
            f"{data['conversation_id']}.mp3",
        )
        answers["processed"] = wait_for(
            lambda: mp3.is_file() and runtime.output().count('"message":"post-call event processed"') >= 2
        )
        answers["next pre-call"] = httpx.post(
            f"{url}/client-data", content=initiation, headers=workspace, timeout=10
        )
    finally:
        runtime.stop()  # flushes and closes its output
    return CapturedCall(output=runtime.output(), keys=keys, answers=answers)


def test_the_capture_holds_every_step_of_the_call(captured_call):
    # (The level cannot be read back from the output once no logger writes DEBUG lines; the fixture sets it.)
    answers = captured_call.answers
    assert all(answers[step].status_code == 200 for step in answers if step != "processed"), answers
    assert answers["processed"], captured_call.output[-3000:]
    assert answers["first pre-call"].json()["dynamic_variables"]["returning_caller"] == "no"
    assert answers["next pre-call"].json()["dynamic_variables"]["caller_name"] == "Margaret"
    output = captured_call.output
    for message, times in [
        ("pre-call answered", 2),
        ("memories searched", 2),
        ("post-call event acknowledged", 2),
        ("post-call event processed", 2),
    ]:
        assert output.count(f'"message":"{message}"') >= times, message
    assert "********0142" in output, "the masked caller is expected in the pre-call log line"


@pytest.mark.parametrize("number", [CALLER, AGENT_NUMBER], ids=["caller", "agent"])
def test_no_full_phone_number_is_logged(captured_call, number):
    found = phone_number_pattern(number).findall(captured_call.output)
    assert found == [], sources_of(captured_call.output.splitlines(), found)


def test_no_secret_is_logged(captured_call):
    keys = captured_call.keys
    secrets = [keys.workspace, keys.next_workspace, keys.hmac, keys.previous_hmac, keys.tool]
    random_parts = [secret.rsplit("_", 1)[1] for secret in secrets]
    leaked = [value for value in secrets + random_parts if value in captured_call.output]
    assert leaked == [], sources_of(captured_call.output.splitlines(), leaked)


def test_no_audio_is_logged(captured_call):
    audio = AUDIO["data"]["full_audio"]
    slices = [audio[:48], audio[len(audio) // 2 : len(audio) // 2 + 48], audio[-48:]]
    assert [s for s in slices if s in captured_call.output] == []
    assert re.findall(r"[A-Za-z0-9+/=]{120,}", captured_call.output) == []


def test_no_transcript_summary_or_name_is_logged(captured_call):
    # Found here: at DEBUG, 'mem0.memory.main' logged "Creating memory with data=..." for every memory.
    lines = captured_call.output.splitlines()
    leaked = [text for text in PERSONAL_TEXT if text in captured_call.output]
    assert leaked == [], f"{leaked} logged by {sorted(sources_of(lines, leaked))}"
