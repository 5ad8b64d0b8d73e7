"""What an add with inference "extracts": a deterministic stand-in for Mem0's LLM, not a model of it.

Mem0 runs an LLM over the conversation and keeps a few facts, consolidating ones the user already has
(``docs/mem0-platform.md``, ``infer``); the rule here is the stand-in's own (see ``extracted_facts``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# At most this many facts per add: Mem0 keeps the few facts worth remembering from a conversation, not
# every sentence. The number is the stand-in's choice, not a figure Mem0 publishes.
MAX_FACTS_PER_ADD = 10
_FACT_MIN_WORDS = 4
_FIRST_PERSON = frozenset({"i", "i'm", "i've", "i'd", "i'll", "my", "me", "mine", "we", "our", "us"})
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def extracted_facts(messages: Iterable[Mapping[str, Any]], known: set[str]) -> list[str]:
    """What the emulator "extracts" from an add with inference: a deterministic stand-in for Mem0's LLM.

    Each sentence the *user* says in the first person ("I", "my", "we", ...) with at least four words
    is a fact, kept as said; the assistant's turns give none. A fact the user already has (same words,
    ignoring case and punctuation) is not added again, as Mem0 consolidates; at most
    ``MAX_FACTS_PER_ADD`` per add, in the order they were said.
    """
    facts: list[str] = []
    seen = set(known)
    for message in messages:
        content = message.get("content")
        if message.get("role") != "user" or not isinstance(content, str):
            continue
        for sentence in (part.strip() for part in _SENTENCE.findall(content)):
            words = re.findall(r"[a-z']+", sentence.lower())
            key = normalised(sentence)
            if len(words) < _FACT_MIN_WORDS or not _FIRST_PERSON & set(words) or key in seen:
                continue
            seen.add(key)
            facts.append(sentence)
            if len(facts) == MAX_FACTS_PER_ADD:
                return facts
    return facts


def normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))
