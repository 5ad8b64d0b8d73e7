"""A ten-minute, 120-turn call: the transcription the memory bound of issue 10 is measured on.

A memoir interview: sixty exchanges, each an agent question and the caller's answer of one or two
sentences, about 10 seconds apiece. Most answers state something about the caller in the first
person; some are acknowledgements ("Yes, that's right."). Every answer differs, so nothing is
deduplicated by accident.
"""

import copy
import json
from typing import Any

from agentic_memory.elevenlabs.post_call import PostCallTranscription
from agentic_memory.ports import Archive
from agentic_memory.post_call import archive_key_for, parse_event
from agentic_memory.settings import IdentitySettings
from devtools.fixtures import load_fixture

TEN_MINUTES = 600
EXCHANGES = 60
CALLER = "+15550100142"  # the number in the transcription_twilio_inbound fixture

_TOPICS = (
    ("Where did you grow up?", "I grew up in {place}, in a terraced house near the {thing}."),
    ("What did your father do?", "My father worked as a {job} for nearly thirty years in {place}."),
    ("Do you remember your first school?", "I went to the {thing} school in {place} until I was eleven."),
    ("What was your first job?", "My first job was as a {job}, and I earned two pounds a week."),
    ("Did you have any pets back then?", "We had a dog called {name} who followed me to the {thing}."),
    ("Is that right?", "Yes, that's right, it was a long time ago now."),
)
_PLACES = ("Leeds", "York", "Whitby", "Hull", "Harrogate", "Scarborough", "Ripon", "Selby", "Otley", "Ilkley")
_THINGS = ("mill", "chapel", "railway", "market", "canal", "bakery", "harbour", "abbey", "quarry", "park")
_JOBS = ("miner", "baker", "clerk", "joiner", "porter", "weaver", "printer", "butcher", "tailor", "driver")
_NAMES = ("Biscuit", "Pepper", "Rusty", "Bramble", "Toffee", "Skip", "Nell", "Patch", "Sooty", "Jess")


def long_call_turns(exchanges: int = EXCHANGES) -> list[dict[str, Any]]:
    """``2 * exchanges`` transcript turns, agent first, 5 seconds apart."""
    turns: list[dict[str, Any]] = []
    for n in range(exchanges):
        question, answer = _TOPICS[n % len(_TOPICS)]
        round_ = n // len(_TOPICS)
        details = {
            "place": _PLACES[round_ % 10],
            "thing": _THINGS[(n + round_) % 10],
            "job": _JOBS[(n * 3 + round_) % 10],
            "name": _NAMES[round_ % 10],
        }
        said = answer.format(**details)
        if "{" not in answer:
            said = f"{said} That was in {1950 + n}."
        turns.append({"role": "agent", "message": f"Thank you. {question}", "time_in_call_secs": 10 * n})
        turns.append({"role": "user", "message": said, "time_in_call_secs": 10 * n + 5})
    return turns


def long_call_payload(
    conversation_id: str = "conv_long_call_0001", exchanges: int = EXCHANGES
) -> dict[str, Any]:
    """A ``post_call_transcription`` webhook body for a 120-turn, ten-minute call from ``CALLER``."""
    payload = copy.deepcopy(load_fixture("transcription_twilio_inbound"))
    data = payload["data"]
    data["conversation_id"] = conversation_id
    data["transcript"] = long_call_turns(exchanges)
    data["metadata"]["call_duration_secs"] = TEN_MINUTES
    return payload


def archive_long_call(
    archive: Archive, conversation_id: str = "conv_long_call_0001", exchanges: int = EXCHANGES
) -> str:
    """Archive the long call as the post-call webhook would; return its archive key."""
    body = json.dumps(long_call_payload(conversation_id, exchanges)).encode("utf-8")
    key = archive_key_for(parse_event(body), IdentitySettings())
    archive.put_new(key, body, "application/json")
    return key


def long_call(conversation_id: str = "conv_long_call_0001") -> PostCallTranscription:
    return PostCallTranscription.model_validate(long_call_payload(conversation_id))
