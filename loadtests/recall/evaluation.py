"""Judging every answer, and what BM25 over the raw turns returns for the same question."""

from collections.abc import Sequence

from .baseline import CallerTurns, dated_turn, equal_characters
from .dataset import Dataset, call_date, spoken_date, turn_index
from .harness import Answer
from .report import Outcome
from .scoring import Evidence, is_hit


def evaluate(data: Dataset, answers: Sequence[Answer]) -> list[Outcome]:
    """One outcome per question (in the data set's order; ``answers`` in the same order). BM25 is
    given the product's characters for that question, and separately its number of results."""
    turns = turn_index(data)
    baselines = {
        caller["caller_id"]: CallerTurns(
            dated_turn(spoken_date(call_date(call, caller["timezone"])), turn["role"], turn["message"])
            for call in caller["calls"]
            for turn in call["turns"]
        )
        for caller in data["callers"]
    }
    outcomes = []
    try:
        for question, answer in zip(data["questions"], answers, strict=True):
            evidence = []
            for turn_id in question["evidence"]:
                caller, call, turn = turns[turn_id]
                evidence.append(Evidence(turn["message"], call_date(call, caller["timezone"])))
            ranked = baselines[question["caller_id"]].ranked(question["question"])
            equal = equal_characters(ranked, answer.characters)
            same_count = ranked[: len(answer.memories)]
            outcomes.append(
                Outcome(
                    question=question,
                    product_hit=is_hit(question["kind"], evidence, answer.memories),
                    product_characters=answer.characters,
                    product_results=len(answer.memories),
                    latency_ms=answer.latency_ms,
                    bm25_equal_characters_hit=is_hit(question["kind"], evidence, equal),
                    bm25_characters=sum(len(text) for text in equal),
                    bm25_results=len(equal),
                    bm25_same_results_hit=is_hit(question["kind"], evidence, same_count),
                    note=answer.note,
                    memories=tuple(answer.memories),
                )
            )
    finally:
        for baseline in baselines.values():
            baseline.close()
    return outcomes
