"""One memoir interview call: an hour or more of alternating turns with facts planted in it.

A call is built as exchanges (the agent speaks, the caller answers); the facts' exchanges are put in
where the running word count reaches each fact's planned fraction of the call, and the fraction
actually reached is recorded afterwards (it is what the position buckets use).
"""

import random
from dataclasses import dataclass, field

from .talk import CALLER_BACKCHANNELS, Family, agent_prompt, caller_sentences

AGENT, CALLER = "agent", "user"
# Spoken words per minute, and the pause between turns (seconds), for time_in_call_secs.
WORDS_PER_MINUTE = (145, 155)
TURN_GAP_SECONDS = 0.6
# Speaking time; with the pauses between turns a call lasts about two minutes more.
MINUTES = (62, 82)
# Caller turns: a backchannel, a answer of a paragraph or a long monologue (words), by share.
CALLER_TURNS = ((0.12, (1, 3)), (0.58, (30, 140)), (0.30, (150, 400)))
GREETINGS = (
    "Oh hello, dear. Not too bad, thank you. The knees are playing up, but mustn't grumble.",
    "Hello, love. I'm very well today, the sun's out and I've had my porridge.",
    "Hello there. A bit tired, I didn't sleep well, but I've been looking forward to this.",
)


@dataclass
class PlantedFact:
    """A fact to put in a call: the agent's question, the caller's answer, and whether the question
    is needed to understand the answer. After building: the turn indices and reached fraction."""

    key: str
    agent_turn: str
    caller_turn: str
    needs_question: bool
    planned_fraction: float
    evidence: list[int] = field(default_factory=list)
    position: float = 0.0


@dataclass
class Turn:
    role: str
    message: str
    time_in_call_secs: int = 0


def build_call(
    rng: random.Random,
    family: Family,
    themes: tuple[str, str],
    facts: list[PlantedFact],
    distractors: list[str],
) -> tuple[list[Turn], int]:
    """The call's turns and its duration (seconds); fills in each fact's evidence and position."""
    minutes = rng.uniform(*MINUTES)
    words_per_minute = rng.uniform(*WORDS_PER_MINUTE)
    budget = minutes * words_per_minute
    opening = [
        (AGENT, f"Hello {family.name}, it's Ada from the Memoir Project. How are you today?"),
        (CALLER, rng.choice(GREETINGS)),
        (
            AGENT,
            f"Today I thought we might talk about {themes[0]}, and perhaps {themes[1]}. Is that all right?",
        ),
        (CALLER, "Yes, that would be lovely."),
    ]
    closing = [
        (
            AGENT,
            f"That's wonderful, {family.name}. I think we'll stop there for today. Thank you "
            f"for all of that.",
        ),
        (CALLER, "Thank you, dear. I've enjoyed it. Same time next week?"),
        (AGENT, f"Same time next week. Bye {family.name}!"),
        (CALLER, "Bye now!"),
    ]
    fact_words = sum(len(f"{f.agent_turn} {f.caller_turn}".split()) for f in facts)
    filler = _filler_exchanges(rng, family, distractors, budget - fact_words - _words(opening + closing))
    exchanges = _with_facts_planted(filler, facts, budget)
    turns = [Turn(role, text) for role, text in opening]
    for exchange in exchanges:
        if isinstance(exchange, PlantedFact):
            exchange.evidence = [len(turns), len(turns) + 1] if exchange.needs_question else [len(turns) + 1]
            turns += [Turn(AGENT, exchange.agent_turn), Turn(CALLER, exchange.caller_turn)]
        else:
            turns += [Turn(role, text) for role, text in exchange]
    turns += [Turn(role, text) for role, text in closing]
    duration = _timed(turns, words_per_minute)
    _record_positions(turns, facts)
    return turns, duration


Exchange = list[tuple[str, str]]


def _filler_exchanges(
    rng: random.Random, family: Family, distractors: list[str], words: float
) -> list[Exchange]:
    exchanges: list[Exchange] = []
    previous = ""
    while words > 0:
        prompt = agent_prompt(family, rng)
        while prompt == previous:  # an interviewer does not ask the same thing twice in a row
            prompt = agent_prompt(family, rng)
        previous = prompt
        exchange = [(AGENT, prompt), (CALLER, _caller_turn(rng, family, distractors))]
        exchanges.append(exchange)
        words -= _words(exchange)
    return exchanges


def _caller_turn(rng: random.Random, family: Family, distractors: list[str]) -> str:
    draw = rng.random()
    for share, (low, high) in CALLER_TURNS:
        if draw < share:
            if high <= 3:
                return rng.choice(CALLER_BACKCHANNELS)
            return caller_sentences(family, rng, rng.randint(low, high), distractors)
        draw -= share
    raise AssertionError("the caller turn shares add up to one")


def _with_facts_planted(
    filler: list[Exchange], facts: list[PlantedFact], budget: float
) -> list[Exchange | PlantedFact]:
    """The filler with each fact inserted where the running word count reaches its planned fraction."""
    pending = sorted(facts, key=lambda fact: fact.planned_fraction)
    out: list[Exchange | PlantedFact] = []
    spoken = 0
    for exchange in filler:
        while pending and spoken >= pending[0].planned_fraction * budget:
            out.append(pending.pop(0))
        out.append(exchange)
        spoken += _words(exchange)
    return out + pending


def _timed(turns: list[Turn], words_per_minute: float) -> int:
    """Set each turn's start (whole seconds into the call); returns the call's duration in seconds."""
    seconds_per_word = 60 / words_per_minute
    clock = 0.0
    for turn in turns:
        turn.time_in_call_secs = int(clock)
        clock += len(turn.message.split()) * seconds_per_word + TURN_GAP_SECONDS
    return int(clock) + 1


def _record_positions(turns: list[Turn], facts: list[PlantedFact]) -> None:
    """Each fact's position: the words spoken before its answer, as a fraction of the call's words."""
    before = [0]
    for turn in turns:
        before.append(before[-1] + len(turn.message.split()))
    for fact in facts:
        fact.position = round(before[fact.evidence[-1]] / before[-1], 4)


def _words(exchange: Exchange) -> int:
    return sum(len(text.split()) for _, text in exchange)
