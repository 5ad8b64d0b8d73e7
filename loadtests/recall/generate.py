"""The memoir data set: elderly callers interviewed about their lives, with planted, annotated facts.

    .venv/bin/python -m loadtests.recall.generate [--seed 1947] [--out fixtures/recall/memoir.json]

Deterministic from the seed (no LLM, no download). The shape (``dataset.py`` reads it)::

    {"name", "seed", "regenerate", "agent_id",
     "callers": [{"caller_id": E.164, "name", "timezone": IANA,
                  "calls": [{"conversation_id", "start_time_unix_secs", "call_duration_secs",
                             "transcript_summary", "turns": [{"role": "agent"|"user", "message",
                                                              "time_in_call_secs"}]}]}],
     "questions": [{"id", "caller_id", "kind": "single-hop"|"multi-hop"|"temporal", "question",
                    "answer", "evidence": ["<conversation_id>:<turn index>", ...],
                    "positions": [fraction of the call's words before each fact, 0..1]}]}
"""

import argparse
import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from .calls import PlantedFact, Turn, build_call
from .catalogue import BRIDGES, PAIRS, SINGLE, TARGETS, TOPICS, Topic
from .dataset import DEFAULT_PATH, spoken_date
from .talk import Family

SEED = 1947
NAME = "memoir"
REGENERATE = ".venv/bin/python -m loadtests.recall.generate --seed 1947 --out fixtures/recall/memoir.json"
AGENT_ID = "agent_memoir_interviewer"
TEMPORAL_PER_CALLER = 8
TEMPORAL_FORMS = ("When did we talk about {about}?", "When did you tell me about {about}?")
THEMES = (
    "childhood and family",
    "school years",
    "courtship and marriage",
    "working life",
    "raising a family",
    "holidays and travel",
    "friends and neighbours",
    "later life",
)
# Where in the call a fact may be planned, by third (fractions of the call's words).
THIRDS = ((0.02, 0.31), (0.36, 0.64), (0.69, 0.97))


@dataclass(frozen=True)
class SaidFact:
    """Where a planted fact ended up: its evidence turn ids, position (0..1) and the call's start."""

    evidence: list[str]
    position: float
    start: datetime


@dataclass(frozen=True)
class CallerSpec:
    name: str
    caller_id: str  # fictional ranges: +1 555 01xx, +44 7700 900xxx
    timezone: str
    spouse: str
    calls: int
    first_call: str  # ISO date of the first call
    evening: bool = False  # calls at 20:00 local: the next day in UTC west of Greenwich


CALLERS = (
    CallerSpec("Margaret", "+447700900123", "Europe/London", "husband", 8, "2023-03-06"),
    CallerSpec("Harold", "+15550100131", "America/Chicago", "wife", 7, "2023-04-12", evening=True),
    CallerSpec("Dorothy", "+447700900457", "Europe/London", "husband", 6, "2023-09-18"),
    CallerSpec("Walter", "+15550100158", "America/New_York", "wife", 7, "2024-01-09"),
    CallerSpec("Edith", "+15550100176", "America/Los_Angeles", "husband", 6, "2024-05-02", evening=True),
)


def generate(seed: int = SEED, callers: tuple[CallerSpec, ...] = CALLERS) -> dict:
    """The whole data set as a JSON-ready dict (see the module's docstring)."""
    out_callers, questions = [], []
    for spec in callers:
        caller, caller_questions = _caller(random.Random(f"{seed}:{spec.caller_id}"), spec)
        out_callers.append(caller)
        questions += caller_questions
    for number, question in enumerate(questions, 1):
        question["id"] = f"q{number:03d}"
    return {
        "name": NAME,
        "seed": seed,
        "regenerate": REGENERATE,
        "agent_id": AGENT_ID,
        "callers": out_callers,
        "questions": questions,
    }


def _caller(rng: random.Random, spec: CallerSpec) -> tuple[dict, list[dict]]:
    values = _values(rng)
    family = Family(rng, spec.spouse, spec.name)
    slots = {"spouse": spec.spouse, "name": spec.name}
    distractors = _distractor_lines(rng, values)
    plan = _plan(rng, spec.calls)
    said: dict[str, SaidFact] = {}
    calls = []
    for index, (keys, start) in enumerate(zip(plan, _call_starts(rng, spec), strict=True)):
        facts = [_planted(rng, TOPICS[key], values, slots, family, fraction) for key, fraction in keys]
        themes = tuple(rng.sample(THEMES, 2))
        turns, duration = build_call(rng, family, (themes[0], themes[1]), facts, distractors)
        conversation_id = f"conv_memoir_{spec.name.lower()}_{index + 1:02d}"
        for fact in facts:
            said[fact.key] = SaidFact(
                [f"{conversation_id}:{turn}" for turn in fact.evidence], fact.position, start
            )
        calls.append(
            {
                "conversation_id": conversation_id,
                "start_time_unix_secs": int(start.timestamp()),
                "call_duration_secs": duration,
                "transcript_summary": f"The caller talked about {themes[0]} and {themes[1]}.",
                "turns": [_turn(turn) for turn in turns],
            }
        )
    caller = {"caller_id": spec.caller_id, "name": spec.name, "timezone": spec.timezone, "calls": calls}
    _check(caller, values, said)
    return caller, _questions(rng, spec, values, said, slots)


def _values(rng: random.Random) -> dict[str, str]:
    """One value per topic, none of which names another (``Halifax`` inside ``Halifax in Nova Scotia``)."""
    chosen: dict[str, str] = {}
    for topic in (*SINGLE, *BRIDGES, *TARGETS):
        candidates = [v for v in topic.values if not any(_overlap(v, other) for other in chosen.values())]
        chosen[topic.key] = rng.choice(candidates)
    return chosen


def _overlap(a: str, b: str) -> bool:
    return bool(_mentions(a, b) or _mentions(b, a))


def _mentions(text: str, value: str) -> bool:
    if value[1:] not in text:  # the quick answer, for most of the hundreds of thousands of checks
        return False
    # "a stonemason" is also "A stonemason" at the start of an answer.
    pattern = f"[{re.escape(value[:1])}{re.escape(value[:1].upper())}]{re.escape(value[1:])}"
    return re.search(rf"(?<![\w']){pattern}(?![\w])", text) is not None


def _distractor_lines(rng: random.Random, values: dict[str, str]) -> list[str]:
    """Lines about other people's dogs, streets, jobs…: each topic's distractors with values that
    are not the caller's (nor mention one of them), three draws per template."""
    lines = []
    for topic in TOPICS.values():
        others = [v for v in topic.values if not any(_overlap(v, mine) for mine in values.values())]
        for template in topic.distractors:
            for other in rng.sample(others, min(3, len(others))):
                lines.append(_capitalise_start(template.format(other=other)))
    return lines


def _plan(rng: random.Random, calls: int) -> list[list[tuple[str, float]]]:
    """Which facts go in which call, with a planned fraction: bridges before their targets, every call
    with facts in each third, counts balanced."""
    per_call: list[list[str]] = [[] for _ in range(calls)]
    for bridge, target in PAIRS.items():
        early = rng.randrange(calls - 1)
        per_call[early].append(bridge)
        per_call[rng.randrange(early + 1, calls)].append(target)
    singles = [topic.key for topic in SINGLE]
    rng.shuffle(singles)
    for key in singles:
        fewest = min(len(keys) for keys in per_call)
        rng.choice([keys for keys in per_call if len(keys) == fewest]).append(key)
    plan = []
    for call, keys in enumerate(per_call):
        rng.shuffle(keys)
        # Each call starts its round of thirds one further on, so that the thirds get equal shares.
        plan.append([(key, round(rng.uniform(*THIRDS[(n + call) % 3]), 3)) for n, key in enumerate(keys)])
    return plan


def _call_starts(rng: random.Random, spec: CallerSpec) -> list[datetime]:
    """Local start times: one call every five to twelve days, mornings, or evenings for some callers."""
    zone = ZoneInfo(spec.timezone)
    day = datetime.fromisoformat(spec.first_call)
    starts = []
    for _ in range(spec.calls):
        hour = rng.choice((20, 21)) if spec.evening and rng.random() < 0.5 else rng.choice((10, 11, 14, 15))
        starts.append(day.replace(hour=hour, minute=rng.choice((0, 15, 30)), tzinfo=zone))
        day += timedelta(days=rng.randint(5, 12))
    return starts


def _planted(
    rng: random.Random,
    topic: Topic,
    values: dict[str, str],
    slots: dict[str, str],
    family: Family,
    fraction: float,
) -> PlantedFact:
    """The fact's two turns. A brief answer needs the agent's question to make sense (both are
    evidence); a full one stands alone and gets a sentence or two of context, within 500 characters."""
    bridge = next((values[b] for b, t in PAIRS.items() if t == topic.key), "")
    fill = {
        **slots,
        "value": values[topic.key],
        "Value": _capitalise_start(values[topic.key]),
        "bridge": bridge,
    }
    brief = bool(topic.says_briefly) and rng.random() < 0.35
    answer = _capitalise_start(rng.choice(topic.says_briefly if brief else topic.says).format(**fill))
    for _ in range(rng.randint(0, 2)):
        longer = f"{answer} {family.fill(rng.choice(_CONTEXT), rng)}"
        if len(longer) <= 500:
            answer = longer
    return PlantedFact(
        key=topic.key,
        agent_turn=rng.choice(topic.agent_asks).format(**fill),
        caller_turn=answer,
        needs_question=brief,
        planned_fraction=fraction,
    )


# Context a caller adds after a fact: plain sentences, no names that could be another fact's value.
_CONTEXT = (
    "Those were the days.",
    "I can see it now, clear as anything.",
    "Mother always said I had a memory like an elephant.",
    "{Sister} would tell you the same.",
    "Funny how it all comes back.",
    "It was a different world then.",
    "We didn't have two pennies to rub together, but we managed.",
)


def _questions(
    rng: random.Random,
    spec: CallerSpec,
    values: dict[str, str],
    said: dict[str, SaidFact],
    slots: dict[str, str],
) -> list[dict]:
    questions = []

    def add(kind: str, text: str, answer: str, facts: list[SaidFact]) -> None:
        questions.append(
            {
                "id": "",
                "caller_id": spec.caller_id,
                "kind": kind,
                "question": text.format(**slots),
                "answer": answer,
                "evidence": [turn for fact in facts for turn in fact.evidence],
                "positions": [fact.position for fact in facts],
            }
        )

    for topic in (*SINGLE, *BRIDGES):
        add("single-hop", rng.choice(topic.asks), values[topic.key], [said[topic.key]])
    for bridge, target in PAIRS.items():
        add("multi-hop", TOPICS[target].asks[0], values[target], [said[bridge], said[target]])
    for topic in rng.sample([t for t in (*SINGLE, *BRIDGES) if t.about], TEMPORAL_PER_CALLER):
        fact = said[topic.key]
        about = topic.about.format(**slots)
        add("temporal", rng.choice(TEMPORAL_FORMS).format(about=about), spoken_date(fact.start), [fact])
    return questions


def _check(caller: dict, values: dict[str, str], said: dict[str, SaidFact]) -> None:
    """A value must be said only in the turns that plant it (its bridge's target names it too), every
    evidence turn fits 500 characters, and no digit run could be taken for an account number."""
    where = {key: set(fact.evidence) for key, fact in said.items()}
    for bridge, target in PAIRS.items():
        where[bridge] |= where[target]
    texts = {
        f"{call['conversation_id']}:{n}": turn["message"]
        for call in caller["calls"]
        for n, turn in enumerate(call["turns"])
    }
    for key, value in values.items():
        mentioned = {turn for turn, text in texts.items() if _mentions(text, value)}
        if not mentioned or not mentioned <= where[key]:
            raise ValueError(
                f"{caller['name']}: {key} value {value!r} is said in {sorted(mentioned - where[key])}"
            )
    for turns in where.values():
        for turn in turns:
            if len(texts[turn]) > 500:
                raise ValueError(f"evidence turn {turn} is {len(texts[turn])} characters")
    for turn, text in texts.items():
        if re.search(r"\d{5,}", text):
            raise ValueError(f"turn {turn} has a long digit run")


def _turn(turn: Turn) -> dict:
    return {"role": turn.role, "message": turn.message, "time_in_call_secs": turn.time_in_call_secs}


def _capitalise_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def write(data: dict, path: Path) -> None:
    """One call's turns per line block: small enough to ship, readable in a diff."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    data = generate(args.seed)
    write(data, args.out)
    calls = sum(len(c["calls"]) for c in data["callers"])
    print(f"{args.out}: {len(data['callers'])} callers, {calls} calls, {len(data['questions'])} questions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
