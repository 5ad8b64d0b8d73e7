"""The recall benchmark's parts that need no server: the data set, the hit check, the BM25 baseline."""

import json
import re
from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from recall import generate
from recall.baseline import CallerTurns, dated_turn, equal_characters, match_query
from recall.dataset import DEFAULT_PATH, call_date, load, spoken_date, turn_index
from recall.harness import Ingest, webhook_body
from recall.report import Outcome, markdown, summary
from recall.scoring import Evidence, is_hit, names_day, third_of

from agentic_memory.post_call import parse_event

MAY_8 = date(2023, 5, 8)


@pytest.fixture(scope="module")
def shipped():
    return load(DEFAULT_PATH)


# The generator


def test_the_shipped_data_set_is_what_the_seed_generates(shipped):
    # Given the seed recorded in the shipped file, when the set is generated again, then it is identical
    assert json.loads(json.dumps(generate.generate(shipped["seed"]))) == shipped


def test_another_seed_gives_other_calls_with_the_same_shape():
    # Given two seeds, when both sets are generated, then the words differ but the counts do not
    first, second = (generate.generate(seed, generate.CALLERS[:1]) for seed in (1, 2))
    assert first["callers"][0]["calls"][0]["turns"] != second["callers"][0]["calls"][0]["turns"]
    assert len(first["questions"]) == len(second["questions"])


def test_there_are_enough_questions_of_every_kind(shipped):
    kinds = Counter(question["kind"] for question in shipped["questions"])
    assert 150 <= sum(kinds.values()) <= 300
    assert kinds["single-hop"] >= 100 and kinds["multi-hop"] >= 20 and kinds["temporal"] >= 20


def test_single_hop_facts_are_spread_over_every_third_of_a_call(shipped):
    thirds = Counter(third_of(q["positions"][0]) for q in shipped["questions"] if q["kind"] == "single-hop")
    assert min(thirds.values()) >= 0.25 * sum(thirds.values())


def test_calls_are_an_hour_or_more_of_alternating_turns(shipped):
    for caller in shipped["callers"]:
        assert re.fullmatch(r"\+155501001\d\d|\+447700900\d{3}", caller["caller_id"])
        ZoneInfo(caller["timezone"])
        assert 6 <= len(caller["calls"]) <= 8
        for call in caller["calls"]:
            roles = [turn["role"] for turn in call["turns"]]
            assert roles == ["agent", "user"] * (len(roles) // 2)
            words = sum(len(turn["message"].split()) for turn in call["turns"])
            assert 9_000 <= words <= 13_500
            assert 60 * 60 <= call["call_duration_secs"] <= 90 * 60
            assert call["transcript_summary"].startswith("The caller talked about")
            times = [turn["time_in_call_secs"] for turn in call["turns"]]
            assert times == sorted(times)


def test_evidence_is_a_caller_answer_with_at_most_its_question_before_it(shipped):
    turns = turn_index(shipped)
    for question in shipped["questions"]:
        for turn_id in question["evidence"]:
            _, _, turn = turns[turn_id]
            assert len(turn["message"]) <= 500
            conversation, index = turn_id.rsplit(":", 1)
            if turn["role"] == "agent":
                assert f"{conversation}:{int(index) + 1}" in question["evidence"]
        assert turns[question["evidence"][-1]][2]["role"] == "user"


def test_no_other_turn_of_the_caller_holds_an_evidence_text(shipped):
    # The hit check looks for the text inside the answer: it must not be found in any other turn
    turns = turn_index(shipped)
    said = {
        caller["caller_id"]: [t["message"] for c in caller["calls"] for t in c["turns"]]
        for caller in shipped["callers"]
    }
    for question in shipped["questions"]:
        for turn_id in question["evidence"]:
            text = turns[turn_id][2]["message"]
            assert sum(text in message for message in said[question["caller_id"]]) == 1


def test_a_multi_hop_question_needs_two_calls(shipped):
    for question in (q for q in shipped["questions"] if q["kind"] == "multi-hop"):
        calls = {turn_id.rsplit(":", 1)[0] for turn_id in question["evidence"]}
        assert len(calls) == 2


def test_a_temporal_answer_is_the_calls_date_in_the_callers_timezone(shipped):
    turns = turn_index(shipped)
    for question in (q for q in shipped["questions"] if q["kind"] == "temporal"):
        caller, call, _ = turns[question["evidence"][0]]
        assert question["answer"] == spoken_date(call_date(call, caller["timezone"]))


def test_questions_paraphrase_instead_of_naming_the_answer(shipped):
    for question in (q for q in shipped["questions"] if q["kind"] != "temporal"):
        assert question["answer"].lower() not in question["question"].lower()


def test_no_digit_run_could_be_taken_for_an_account_or_card_number(shipped):
    for _, _, turn in turn_index(shipped).values():
        assert not re.search(r"\d{5,}", turn["message"])


def test_every_call_is_a_transcription_the_product_accepts(shipped):
    # Given a call of the data set, when it is built as a webhook, then the product's parser reads it whole
    caller = shipped["callers"][1]
    call = caller["calls"][0]
    body = json.dumps(webhook_body(caller, call, "agent_recall_test")).encode()
    event = parse_event(body)
    assert event.data.metadata.phone_call.external_number == caller["caller_id"]
    assert len(event.data.transcript) == len(call["turns"])


# The hit check


def test_a_hit_needs_every_evidence_turn_whatever_the_whitespace():
    evidence = [Evidence("What was your first job?", MAY_8), Evidence("Woolworths. I was fifteen.", MAY_8)]
    assert is_hit(
        "single-hop", evidence, ["Agent: What was your  first job?\nCaller: Woolworths.\nI was fifteen."]
    )
    assert not is_hit("single-hop", evidence, ["Caller: Woolworths. I was fifteen."])


def test_a_turn_split_over_two_memories_still_counts():
    evidence = [Evidence("We had a terrier called Rex.", MAY_8)]
    assert is_hit("multi-hop", evidence, ["… We had a terrier", "called Rex."])


def test_a_temporal_hit_needs_the_date_in_the_memory_that_holds_the_turn():
    evidence = [Evidence("We had a terrier called Rex.", MAY_8)]
    assert is_hit("temporal", evidence, ["[8 May 2023] Caller: We had a terrier called Rex."])
    assert is_hit("temporal", evidence, ["Call on May 8, 2023: We had a terrier called Rex."])
    assert not is_hit("temporal", evidence, ["Caller: We had a terrier called Rex.", "Call on 8 May 2023."])
    assert not is_hit("temporal", evidence, ["[18 May 2023] Caller: We had a terrier called Rex."])


def test_days_are_read_as_spoken_only():
    assert names_day("Monday 8 May 2023, morning", MAY_8)
    assert not names_day("28 May 2023", MAY_8)
    assert not names_day("8 May 2024", MAY_8)


# The BM25 baseline


def test_equal_characters_keeps_the_turn_that_reaches_the_budget_whole():
    ranked = ["a" * 40, "b" * 40, "c" * 40]
    assert equal_characters(ranked, 50) == ["a" * 40, "b" * 40]
    assert equal_characters(ranked, 40) == ["a" * 40]
    assert equal_characters(ranked, 0) == []
    assert equal_characters(ranked, 10_000) == ranked


def test_the_query_quotes_every_word_so_none_is_an_operator():
    assert (
        match_query("Dad's dog, NOT the cat OR near?")
        == '"dad" OR "s" OR "dog" OR "not" OR "the" OR "cat" OR "or" OR "near"'
    )


def test_bm25_ranks_the_turn_with_the_rare_words_first():
    # Given dated turns, one naming the rare word, when the question uses a stemmed form, then it comes first
    turns = [
        dated_turn("8 May 2023", "user", text) for text in ("We walked the dog.", "The terriers barked.")
    ]
    turns += [dated_turn("9 May 2023", "agent", "What was the dog called?")]
    index = CallerTurns(turns)
    ranked = index.ranked("Which terrier did you have?")
    index.close()
    assert ranked[0] == "[8 May 2023] Caller: The terriers barked."


# The figures


def _outcome(kind, position, product_hit, bm25_hit, characters=3_000):
    question = {
        "id": "q",
        "caller_id": "+15550100131",
        "kind": kind,
        "question": "?",
        "answer": "",
        "evidence": [],
        "positions": [position],
    }
    return Outcome(question, product_hit, characters, 3, 20.0, bm25_hit, characters + 200, 6, bm25_hit)


def test_recall_is_reported_per_kind_and_per_third_beside_bm25():
    # Given a hit and a miss for the product where BM25 missed both, when the run is summed up
    outcomes = [_outcome("single-hop", 0.1, True, False), _outcome("single-hop", 0.9, False, False)]
    figures = summary(outcomes, "memoir", Ingest(calls=2, total_seconds=4.0, post_seconds=0.1), 9.0)
    # Then recall is a share, per third too, and the ratio to BM25 is undefined (BM25 found nothing)
    assert figures["recall"]["product"]["all"] == 0.5
    assert figures["recall"]["product"]["single-hop, first third"] == 1.0
    assert figures["recall"]["product"]["single-hop, last third"] == 0.0
    assert figures["recall"]["product"]["temporal"] is None
    assert figures["product_to_bm25_equal_characters"] is None
    assert figures["ingest_seconds"]["per_call_mean"] == 2.0
    assert "| all (2) | 0.50 | 0.00 | 0.00 |" in markdown(figures)
