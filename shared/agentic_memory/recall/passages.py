"""A call cut into what recall indexes: *segments* (one speaker's words) and overlapping *passages*.

    segments = segments_of(turns)          # [Segment("Agent", "What was your first dog called?"), …]
    windows = passage_windows(segments)    # [(0, 3), (2, 5), …]: inclusive segment ranges

A **segment** is one turn, or one piece of a turn too long for the embedder (cut at sentence ends,
else at a word, into pieces of at most ``SEGMENT_MAX_CHARS``). Every segment names who spoke:
``Agent`` or ``Caller``.

A **passage** is a window of consecutive segments of at most ``PASSAGE_MAX_CHARS`` (its lines
joined), so that it fits the embedder's window: all-MiniLM-L6-v2 reads 256 word pieces, about
1,000 characters of English, and ignores the rest (model card; shared facts in
docs/recall.md). Windows overlap: each starts at the middle of the one before, so every segment is
in about two passages and a question stays with its answer whoever asked it. A window never ends on
an agent's turn when the caller's answer that follows still fits, and never consists of a short
turn alone ("Bye Margaret!", "Mm-hmm."): short turns ride with their neighbours. Any call length
works: the number of passages grows with what was said, with no cap that merges turns into blobs.

A **unit** is what a semantic store without an LLM keeps of the call (``semantic_windows``): the
call cut into consecutive windows, as few as the store's bound on memories per call requires.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

AGENT = "Agent"
CALLER = "Caller"
# Measured on the memoir benchmark (docs/recall.md): passages of 900, 600, 420, 320 and 260
# characters gave evidence recall 0.23, 0.37, 0.47, 0.51 and 0.47 on its first caller: small
# passages rank sharper, in BM25 and in the embedder, until they lose their context.
SEGMENT_MAX_CHARS = 240
PASSAGE_MAX_CHARS = 320
# A semantic store's unit (``semantic_windows``): within the embedder's window.
UNIT_MAX_CHARS = 1_000
# A turn this short says little on its own (a sign-off, a backchannel): never a passage by itself.
SHORT_TURN_CHARS = 40

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Turn:
    """One spoken turn: ``speaker`` is ``AGENT`` or ``CALLER``; ``text`` is what was said."""

    speaker: str
    text: str


@dataclass(frozen=True)
class Segment:
    speaker: str
    text: str

    @property
    def line(self) -> str:
        return f"{self.speaker}: {self.text}"


def segments_of(turns: Iterable[Turn]) -> list[Segment]:
    """Each non-empty turn as one segment, or as several when it is longer than ``SEGMENT_MAX_CHARS``."""
    segments: list[Segment] = []
    for turn in turns:
        text = " ".join(turn.text.split())
        segments.extend(Segment(turn.speaker, piece) for piece in _pieces(text))
    return segments


def passage_windows(segments: Sequence[Segment]) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` segment ranges of the passages, in order, overlapping by about half."""
    windows: list[tuple[int, int]] = []
    start = 0
    while start < len(segments):
        end = _window_end(segments, start)
        windows.append((start, end))
        if end == len(segments) - 1:
            break
        # The next window starts half-way through this one, and always moves on.
        start = max(start + 1, start + (end - start + 1) // 2)
    return windows


def semantic_windows(segments: Sequence[Segment], bound: int) -> list[tuple[int, int]]:
    """Inclusive segment ranges for a semantic store that may keep at most ``bound`` memories of the
    call: consecutive, not overlapping, together covering the call, each at most ``UNIT_MAX_CHARS``.

    They are as small as the bound allows (at least ``PASSAGE_MAX_CHARS``), since a small text embeds
    sharper; a call too dense for the bound even at ``UNIT_MAX_CHARS`` gives an evenly spread
    selection of them (the lexical passages still cover it all).
    """
    if not segments or bound < 1:
        return []
    total = sum(len(segment.line) + 1 for segment in segments)
    size = min(UNIT_MAX_CHARS, max(PASSAGE_MAX_CHARS, -(-total // bound)))
    windows = _consecutive_windows(segments, size)
    # Windows end at turns, not at the exact size: grow them until the bound holds, or they are full.
    while len(windows) > bound and size < UNIT_MAX_CHARS:
        size = min(UNIT_MAX_CHARS, size + size // 10 + 1)
        windows = _consecutive_windows(segments, size)
    if len(windows) > bound:
        windows = [windows[i * len(windows) // bound] for i in range(bound)]
    return windows


def _consecutive_windows(segments: Sequence[Segment], size: int) -> list[tuple[int, int]]:
    windows: list[tuple[int, int]] = []
    start = 0
    while start < len(segments):
        end = _window_end(segments, start, size)
        windows.append((start, end))
        start = end + 1
    return windows


def passage_text(segments: Sequence[Segment]) -> str:
    return "\n".join(segment.line for segment in segments)


def _window_end(segments: Sequence[Segment], start: int, max_chars: int = PASSAGE_MAX_CHARS) -> int:
    end = start
    length = len(segments[start].line)
    while end + 1 < len(segments) and length + 1 + len(segments[end + 1].line) <= max_chars:
        end += 1
        length += 1 + len(segments[end].line)
    # A question at the end whose answer did not fit goes to the next window, with its answer.
    if end > start and segments[end].speaker == AGENT and end + 1 < len(segments):
        end -= 1
    # A short turn alone (a sign-off at the end, say) takes the turn before it along.
    if end == start and len(segments[start].text) < SHORT_TURN_CHARS and end + 1 < len(segments):
        end += 1
    return end


def _pieces(text: str) -> list[str]:
    if not text:
        return []
    if len(text) <= SEGMENT_MAX_CHARS:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in _sentences(text):
        if current and len(current) + 1 + len(sentence) > SEGMENT_MAX_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        pieces.append(current)
    return pieces


def _sentences(text: str) -> Iterable[str]:
    """Sentences of ``text``; one longer than a segment is cut at words (or mid-word, for no spaces)."""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > SEGMENT_MAX_CHARS:
            cut = sentence.rfind(" ", SEGMENT_MAX_CHARS // 2, SEGMENT_MAX_CHARS)
            cut = cut if cut > 0 else SEGMENT_MAX_CHARS
            yield sentence[:cut]
            sentence = sentence[cut:].lstrip()
        if sentence:
            yield sentence
