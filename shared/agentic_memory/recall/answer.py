"""The search tool's answer: lexical and semantic results fused, cut to what fits, every memory dated.

    memories = answer(index, query, semantic_records, max_chars=2_800)
    # ["[8 May 2023] Agent: What was your first dog called?\\nCaller: Rex, a scruffy terrier.", …]

**Fusion.** Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): an item's score is the
sum over the lists it is in of ``weight / (RRF_K + rank)``, with ``RRF_K`` = 60. It needs no
calibration between BM25 and cosine scores, and a list that did not arrive in time adds nothing.
The lists: the index's BM25 ranking of passages, and the memory store's semantic results. A
semantic result whose text is one of the index's passages (the embedded engine stores exactly
those) counts for that passage; one that is not (a fact Mem0 extracted) is an item of its own.

**Summaries** (ElevenLabs' call summary, or the factual memory the store keeps) weigh
``SUMMARY_WEIGHT`` and at most one is answered: they say that a topic came up, not what was said.

**Sizing.** Memories are added best first until ``max_chars`` (the characters of all memory texts)
is reached. A passage is answered as the part of it around its best-matching turn (at most
``SNIPPET_MAX_CHARS``), and passages of one call that overlap or touch are merged into one memory,
so the budget goes to different moments, not to the same lines twice.

**Dates.** Each memory starts with its call's date in the caller's zone (``[8 May 2023]``): a
"when did I tell you…" is answered by the text the agent receives.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..call_time import call_zone, local_time
from ..memory_building import clip_words
from ..ports import MemoryRecord
from ..retention import record_time
from .index import CallInfo, Passage, RecallIndex, digest, query_terms
from .passages import AGENT, CALLER, SHORT_TURN_CHARS, Segment

RRF_K = 60
SUMMARY_WEIGHT = 0.5
SEMANTIC_WEIGHT = 1.0
LEXICAL_CANDIDATES = 60
SNIPPET_MAX_CHARS = 450
FACT_MAX_CHARS = 500
SUMMARY_MAX_CHARS = 400
# Below this many characters left, no further memory is worth adding.
MIN_USEFUL_CHARS = 120
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip
_WORD = re.compile(r"\w+")
# Words match a query term by their first letters: a cheap stand-in for the index's porter stemmer
# ("dogs" and "dog", "married" and "marry"), used only to place the snippet inside a passage.
_STEM_CHARS = 5


@dataclass
class _Candidate:
    key: tuple[str, str]
    score: float = 0.0
    passage: Passage | None = None
    record: MemoryRecord | None = None


@dataclass
class _Selection:
    """Chosen turn ranges per call, each with the rank it was chosen at (merged ranges keep the best),
    and the loose items (facts, one summary) with theirs: the answer is rendered in rank order."""

    ranges: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    order: list[tuple[int, str, object]] = field(default_factory=list)
    summary_taken: bool = False

    @property
    def next_rank(self) -> int:
        return len(self.order) + sum(len(ranges) for ranges in self.ranges.values())


def call_date(started_at: datetime, zone: str) -> str:
    """``8 May 2023``: the call's calendar day in the caller's zone (``zone``; UTC when unknown)."""
    local = local_time(started_at, call_zone(zone))
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}"


def answer(
    index: RecallIndex | None,
    query: str,
    semantic: Sequence[MemoryRecord] | None,
    max_chars: int,
    oldest_kept: datetime | None = None,
) -> list[str]:
    """The memories for ``query``: at most ``max_chars`` characters in all, best first, each dated.

    ``index`` may be None (no call indexed yet) and ``semantic`` None (the store did not answer in
    time); with neither, the answer is empty. Calls that started before ``oldest_kept`` are left out.
    """
    candidates = _fused(index, query, semantic or (), oldest_kept)
    builder = _Answer(index, query, max_chars)
    for candidate in candidates:
        if builder.full:
            break
        builder.offer(candidate)
    return builder.render()


def _fused(
    index: RecallIndex | None, query: str, semantic: Sequence[MemoryRecord], oldest_kept: datetime | None
) -> list[_Candidate]:
    fused: dict[tuple[str, str], _Candidate] = {}

    def credit(key: tuple[str, str], rank: int, weight: float) -> _Candidate:
        candidate = fused.setdefault(key, _Candidate(key))
        candidate.score += weight / (RRF_K + rank)
        return candidate

    kept = _KeptCalls(index, oldest_kept)
    if index is not None:
        for rank, hit in enumerate(index.lexical_search(query, LEXICAL_CANDIDATES), start=1):
            if not kept(hit.passage.conversation_id):
                continue
            weight = SUMMARY_WEIGHT if hit.passage.kind == "summary" else 1.0
            candidate = credit(_passage_key(hit.passage), rank, weight)
            candidate.passage = hit.passage
    known = index.passages_by_digest(digest(r.text) for r in semantic) if index is not None else {}
    for rank, record in enumerate(semantic, start=1):
        passage = known.get(digest(record.text))
        if passage is not None:
            if kept(passage.conversation_id):
                credit(_passage_key(passage), rank, SEMANTIC_WEIGHT).passage = passage
            continue
        if oldest_kept is not None and (moment := record_time(record)) is not None and moment < oldest_kept:
            continue
        factual = record.metadata.get("type") == "factual"
        candidate = credit(("fact", record.id), rank, SUMMARY_WEIGHT if factual else SEMANTIC_WEIGHT)
        candidate.record = record
    return sorted(fused.values(), key=lambda c: c.score, reverse=True)


class _KeptCalls:
    """Whether a call is within retention (its start not before ``oldest_kept``), looked up once."""

    def __init__(self, index: RecallIndex | None, oldest_kept: datetime | None) -> None:
        self._index, self._oldest_kept = index, oldest_kept
        self._known: dict[str, bool] = {}

    def __call__(self, conversation_id: str) -> bool:
        if self._oldest_kept is None or self._index is None:
            return True
        if conversation_id not in self._known:
            call = self._index.call(conversation_id)
            self._known[conversation_id] = call is not None and call.started_at >= self._oldest_kept
        return self._known[conversation_id]


def _passage_key(passage: Passage) -> tuple[str, str]:
    return ("passage", str(passage.id))


class _Answer:
    def __init__(self, index: RecallIndex | None, query: str, max_chars: int) -> None:
        self._index = index
        self._stems = {term[:_STEM_CHARS] for term in query_terms(query)}
        self._max_chars = max_chars
        self._chosen = _Selection()
        self._calls: dict[str, CallInfo | None] = {}
        self._range_texts: dict[tuple[str, int, int], str] = {}

    @property
    def full(self) -> bool:
        return self._max_chars - self._length(self.render()) < MIN_USEFUL_CHARS

    def offer(self, candidate: _Candidate) -> None:
        if candidate.passage is not None and candidate.passage.kind == "summary":
            self._offer_summary(candidate.passage.conversation_id, None)
        elif candidate.passage is not None:
            self._offer_passage(candidate.passage)
        elif candidate.record is not None and candidate.record.metadata.get("type") == "factual":
            self._offer_summary(str(candidate.record.metadata.get("conversation_id", "")), candidate.record)
        elif candidate.record is not None:
            fact = candidate.record
            self._try(lambda selection: selection.order.append((selection.next_rank, "fact", fact)))

    def _offer_passage(self, passage: Passage) -> None:
        assert self._index is not None  # noqa: S101 - passages come from the index
        segments = self._index.segments(passage.conversation_id, passage.first, passage.last)
        # The turns around the best-matching one: a unit found by meaning can be a whole minute of talk.
        first, last = self._snippet(segments, passage.first)
        # An answer comes with the question it answers, when that is just before the range.
        asked = self._question_before(passage.conversation_id, first, segments[first - passage.first])
        if asked is not None and self._try(
            lambda selection: _add_range(selection, passage.conversation_id, asked, last)
        ):
            return
        if not self._try(lambda selection: _add_range(selection, passage.conversation_id, first, last)):
            within = segments[first - passage.first : last - passage.first + 1]
            best = first + _best_segment(within, self._stems)
            self._try(lambda selection: _add_range(selection, passage.conversation_id, best, best))

    def _question_before(self, conversation_id: str, first: int, opening: Segment) -> int | None:
        """The position of the agent's turn just before a range that opens with the caller, or None."""
        if first == 0 or opening.speaker != CALLER or self._index is None:
            return None
        before = self._index.segments(conversation_id, first - 1, first - 1)
        return first - 1 if before and before[0].speaker == AGENT else None

    def _offer_summary(self, conversation_id: str, record: MemoryRecord | None) -> None:
        if self._chosen.summary_taken:
            return

        def take(selection: _Selection) -> None:
            selection.summary_taken = True
            selection.order.append((selection.next_rank, "summary", record or conversation_id))

        self._try(take)

    def _try(self, change: Callable[[_Selection], object]) -> bool:
        """Apply ``change`` to a copy of the selection; keep it only when the answer still fits."""
        trial = _Selection(
            {k: list(v) for k, v in self._chosen.ranges.items()},
            list(self._chosen.order),
            self._chosen.summary_taken,
        )
        change(trial)
        if self._length(self._render(trial)) > self._max_chars:
            return False
        self._chosen = trial
        return True

    def _snippet(self, segments: list[Segment], offset: int) -> tuple[int, int]:
        """The turns around the passage's best-matching one, within ``SNIPPET_MAX_CHARS``: after an
        agent's question the answer first, before a caller's turn the question it answers first, then
        outwards."""
        best = _best_segment(segments, self._stems)
        first = last = best
        length = len(segments[best].line)
        steps = (1, -1) if segments[best].speaker == AGENT else (-1, 1)
        grew = True
        while grew:
            grew = False
            for step in steps:
                at = (first if step < 0 else last) + step
                if 0 <= at < len(segments) and length + 1 + len(segments[at].line) <= SNIPPET_MAX_CHARS:
                    length += 1 + len(segments[at].line)
                    first, last = (at, last) if step < 0 else (first, at)
                    grew = True
        return first + offset, last + offset

    def render(self) -> list[str]:
        return self._render(self._chosen)

    def _render(self, selection: _Selection) -> list[str]:
        ranked: list[tuple[int, str]] = [
            (rank, self._range_text(conversation_id, first, last))
            for conversation_id, ranges in selection.ranges.items()
            for first, last, rank in ranges
        ]
        for rank, kind, item in selection.order:
            if kind == "fact" and isinstance(item, MemoryRecord):
                ranked.append((rank, f"{_record_date(item)}{clip_words(item.text.strip(), FACT_MAX_CHARS)}"))
            elif kind == "summary":
                ranked.append((rank, self._summary_text(item)))
        return [text for _, text in sorted(ranked, key=lambda pair: pair[0]) if text]

    def _range_text(self, conversation_id: str, first: int, last: int) -> str:
        # Every trial renders the whole answer: each range is read from the index once.
        key = (conversation_id, first, last)
        if key not in self._range_texts:
            assert self._index is not None  # noqa: S101 - ranges come from the index
            lines = "\n".join(s.line for s in self._index.segments(conversation_id, first, last))
            self._range_texts[key] = f"{self._date_of(conversation_id)}{lines}"
        return self._range_texts[key]

    def _summary_text(self, item: object) -> str:
        if isinstance(item, MemoryRecord):
            return f"{_record_date(item)}{clip_words(item.text.strip(), SUMMARY_MAX_CHARS)}"
        call = self._call(str(item))
        if call is None or not call.summary:
            return ""
        summary = clip_words(call.summary, SUMMARY_MAX_CHARS)
        return f"{self._date_of(call.conversation_id)}Summary of the call: {summary}"

    def _date_of(self, conversation_id: str) -> str:
        call = self._call(conversation_id)
        return f"[{call_date(call.started_at, call.zone)}] " if call is not None else ""

    def _call(self, conversation_id: str) -> CallInfo | None:
        if conversation_id not in self._calls:
            self._calls[conversation_id] = self._index.call(conversation_id) if self._index else None
        return self._calls[conversation_id]

    @staticmethod
    def _length(texts: Iterable[str]) -> int:
        return sum(len(text) for text in texts)


def _add_range(selection: _Selection, conversation_id: str, first: int, last: int) -> None:
    """Add the turn range to the call's, merging it with any range it overlaps or touches (the merged
    range keeps the best rank of its parts)."""
    rank = selection.next_rank
    ranges = selection.ranges.setdefault(conversation_id, [])
    merged = (first, last, rank)
    kept: list[tuple[int, int, int]] = []
    for start, end, earlier in ranges:
        if start <= merged[1] + 1 and merged[0] <= end + 1:
            merged = (min(start, merged[0]), max(end, merged[1]), min(earlier, merged[2]))
        else:
            kept.append((start, end, earlier))
    selection.ranges[conversation_id] = sorted([*kept, merged])


def _best_segment(segments: Sequence[Segment], stems: set[str]) -> int:
    """The index of the segment with the most query stems (ties: the longer, more telling one)."""

    def matches(segment: Segment) -> tuple[int, int]:
        return (_stem_matches(segment, stems), int(len(segment.text) >= SHORT_TURN_CHARS))

    return max(range(len(segments)), key=lambda i: matches(segments[i]))


def _stem_matches(segment: Segment, stems: set[str]) -> int:
    """How many query stems the segment holds; a character pair of Chinese or Japanese ("妹 妹", see
    ``index.query_terms``) counts where its characters stand together."""
    text = unicodedata.normalize("NFKC", segment.text)
    words = {word[:_STEM_CHARS] for word in _WORD.findall(text.lower())}
    pairs = sum(1 for stem in stems if " " in stem and stem.replace(" ", "") in text)
    return len(stems & words) + pairs


def _record_date(record: MemoryRecord) -> str:
    moment = record_time(record)
    if moment is None:
        return ""
    zone = str(record.metadata.get("timezone") or "UTC")
    return f"[{call_date(moment, zone)}] "
