"""One caller's recall index: every call's segments and passages, ranked by BM25 (SQLite FTS5).

    index = RecallIndex.load(body)          # body: bytes from the archive, or None for a new index
    index.add_call(call)                    # False when the conversation is in it already
    hits = index.lexical_search("what was your first dog called", limit=40)
    body = index.dump()                     # gzip-compressed SQLite database, for the archive

Why SQLite: its FTS5 extension ranks with ``bm25()`` (k1 = 1.2, b = 0.75) and ships in Python's
standard library, so the index costs the Lambda artifact nothing, and a whole index moves as one
object (``Connection.serialize``/``deserialize``, Python 3.11+). The full-text table is
*contentless* (``content=''``): it keeps the terms only, and the words live once, in ``segments``,
so a passage's text is rebuilt from its segment range. FTS5 must be compiled into the SQLite that
Python links: Debian's and pyenv's builds here (3.40) have it; ``require_fts5`` says so at start-up,
since Lambda's older Python images linked a SQLite without it (aws/aws-lambda-base-images#116).

Schema (``SCHEMA_VERSION``): ``calls`` (one row a conversation: start time in UTC, the caller's
zone, agent, summary), ``segments`` (conversation, position, speaker, text), ``passages`` (id,
conversation, first and last segment, kind ``transcript`` or ``summary``, a digest of its text) and
``passage_terms`` (FTS5, rowid = passage id, porter stemming, diacritics folded).
"""

import gzip
import hashlib
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .passages import Segment, passage_text, passage_windows, semantic_windows

SCHEMA_VERSION = "1"
TOKENIZER = "porter unicode61 remove_diacritics 2"
# transcript: ranked by BM25; summary: ElevenLabs' summary, ranked too; unit: what the semantic store
# keeps of the call (not ranked here), so that its results are recognised by their digest.
PassageKind = Literal["transcript", "summary", "unit"]
SUMMARY_SPEAKER = "Summary"
_WORD = re.compile(r"\w+")
# Scripts written without spaces between words: Han (CJK ideographs, extension A, compatibility),
# hiragana and katakana, Thai.
_UNSPACED_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
_UNSPACED = re.compile(f"([{_UNSPACED_CHARS}])")
_UNSPACED_RUNS = re.compile(f"([{_UNSPACED_CHARS}]+)")
# Words that carry no meaning of their own in a question: left out of the query, so that "what was
# the name of the dog" ranks by "name" and "dog". BM25's idf would weigh them low, but every passage
# holds them, so OR-ing them in costs time for nothing.
_STOPWORD_TEXT = """a an and are as at be been but by can could did do does for from had has have how i if
    in is it its me my of on or our she so than that the their them then there these they this to tell
    told us was we were what when where which who whom why will with would you your he his her him
    about again any all also am just like"""
STOPWORDS = frozenset(_WORD.findall(_STOPWORD_TEXT))
MAX_QUERY_TERMS = 32


class IndexUnavailable(Exception):
    """The SQLite this Python links cannot hold a recall index (no FTS5)."""


@dataclass(frozen=True)
class IndexedCall:
    """What the index keeps of one call. ``started_at`` is aware (UTC); ``zone`` an IANA name or "UTC"."""

    conversation_id: str
    started_at: datetime
    zone: str
    agent_id: str
    segments: tuple[Segment, ...]
    summary: str = ""
    duration_seconds: int = 0
    # How many units a semantic store may keep of this call (``passages.semantic_windows``).
    unit_bound: int = 0
    # The names the call gives the caller (``caller_profile.names_given``): an operator's name
    # correction replaces them in what was said (``corrections.corrected_indexed_call``).
    names_given: tuple[str, ...] = ()


@dataclass(frozen=True)
class Passage:
    id: int
    conversation_id: str
    first: int
    last: int
    kind: PassageKind


@dataclass(frozen=True)
class LexicalHit:
    passage: Passage
    # FTS5's bm25(): more negative is a better match.
    score: float


@dataclass(frozen=True)
class CallInfo:
    conversation_id: str
    started_at: datetime
    zone: str
    agent_id: str
    summary: str


@dataclass
class IndexFigures:
    calls: int = 0
    segments: int = 0
    passages: int = 0
    characters: int = 0


def fts5_available() -> bool:
    try:
        with sqlite3.connect(":memory:") as connection:
            connection.execute(f"CREATE VIRTUAL TABLE probe USING fts5(body, tokenize='{TOKENIZER}')")
        return True
    except sqlite3.OperationalError:
        return False


def require_fts5() -> None:
    """Raises ``IndexUnavailable`` naming the SQLite version when FTS5 is missing."""
    if not fts5_available():
        raise IndexUnavailable(f"SQLite {sqlite3.sqlite_version} was built without FTS5: no recall index")


def digest(text: str) -> str:
    """A short stable digest of a passage's text, to recognise it in another store's results."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def searchable(text: str) -> str:
    """``text`` as the full-text table reads it: compatibility forms folded (NFKC: full-width
    "ＰＥＮＩＣＩＬＬＩＮ" and "３０" and half-width "ﾜｸﾁﾝ", as Japanese typing makes them, read as
    "PENICILLIN", "30", "ワクチン"), and each character of a script written without spaces (Han, kana,
    Thai) a word of its own. FTS5's unicode61 tokenizer would take a whole run of such text, up to the
    next punctuation, as one word, so "乌鲁木齐" could never match inside a sentence."""
    return _UNSPACED.sub(r" \1 ", unicodedata.normalize("NFKC", text))


def query_terms(query: str) -> list[str]:
    """The terms of ``query`` that rank: lower-cased words, stopwords out; a run of a script written
    without spaces gives its overlapping character pairs, each a phrase ("妹 妹") of ``searchable``'s
    words (the usual bigram indexing of Chinese and Japanese). First ``MAX_QUERY_TERMS``, no repeats."""
    terms: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFKC", query).lower()):
        for term in _terms_of(word):
            if (
                term not in STOPWORDS
                and term not in terms
                and (len(term) > 1 or term.isdigit() or _UNSPACED.match(term))
            ):
                terms.append(term)
    return terms[:MAX_QUERY_TERMS]


def _terms_of(word: str) -> list[str]:
    terms: list[str] = []
    for run in _UNSPACED_RUNS.split(word):
        if not run:
            continue
        if not _UNSPACED.match(run) or len(run) == 1:
            terms.append(run)
        else:
            terms.extend(f"{run[i]} {run[i + 1]}" for i in range(len(run) - 1))
    return terms


class RecallIndex:
    """An open index, in memory. Not thread-safe: one per request or per update."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def load(cls, body: bytes | None) -> "RecallIndex":
        """The index ``body`` holds (``dump``'s bytes), or a new empty one for None.

        Raises ``IndexUnavailable`` without FTS5, ``ValueError`` for a body that is no index.
        """
        connection = sqlite3.connect(":memory:", check_same_thread=False)
        if body is None:
            require_fts5()
            _create(connection)
            return cls(connection)
        try:
            connection.deserialize(gzip.decompress(body))
            version = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except (OSError, EOFError, sqlite3.DatabaseError) as error:
            raise ValueError(f"not a recall index: {error}") from None
        if version is None or version[0] != SCHEMA_VERSION:
            raise ValueError(f"recall index schema {version and version[0]} is not {SCHEMA_VERSION}")
        return cls(connection)

    def dump(self) -> bytes:
        return gzip.compress(self._db.serialize(), compresslevel=6, mtime=0)

    def close(self) -> None:
        self._db.close()

    # ---- writing ----

    def has_call(self, conversation_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM calls WHERE conversation_id = ?", (conversation_id,))
        return row.fetchone() is not None

    def add_call(self, call: IndexedCall) -> bool:
        """Index one call; False (and no change) when its conversation is indexed already."""
        if self.has_call(call.conversation_id):
            return False
        with self._db:
            self._db.execute(
                "INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?)",
                (
                    call.conversation_id,
                    call.started_at.isoformat(),
                    call.zone,
                    call.agent_id,
                    call.summary,
                    call.duration_seconds,
                ),
            )
            self._db.executemany(
                "INSERT INTO segments VALUES (?, ?, ?, ?)",
                [(call.conversation_id, i, s.speaker, s.text) for i, s in enumerate(call.segments)],
            )
            for first, last in passage_windows(call.segments):
                text = passage_text(call.segments[first : last + 1])
                self._add_passage(call.conversation_id, first, last, "transcript", text)
            if call.summary:
                self._add_passage(call.conversation_id, -1, -1, "summary", call.summary)
            for first, last in semantic_windows(call.segments, call.unit_bound):
                text = passage_text(call.segments[first : last + 1])
                self._add_passage(call.conversation_id, first, last, "unit", text, ranked=False)
        return True

    def remove_call(self, conversation_id: str) -> bool:
        """Drop one call (its terms, passages and segments); False when it was not indexed."""
        if not self.has_call(conversation_id):
            return False
        with self._db:
            for passage in self._passages_of(conversation_id):
                if passage.kind == "unit":
                    continue  # never in the full-text table
                text = self.passage_text(passage)
                self._db.execute(
                    "INSERT INTO passage_terms(passage_terms, rowid, body) VALUES ('delete', ?, ?)",
                    (passage.id, searchable(text)),
                )
            for table in ("passages", "segments", "calls"):
                self._db.execute(f"DELETE FROM {table} WHERE conversation_id = ?", (conversation_id,))  # noqa: S608
        return True

    def _add_passage(
        self, conversation_id: str, first: int, last: int, kind: PassageKind, text: str, ranked: bool = True
    ) -> None:
        cursor = self._db.execute(
            "INSERT INTO passages(conversation_id, first, last, kind, digest) VALUES (?, ?, ?, ?, ?)",
            (conversation_id, first, last, kind, digest(text)),
        )
        if ranked:
            self._db.execute(
                "INSERT INTO passage_terms(rowid, body) VALUES (?, ?)", (cursor.lastrowid, searchable(text))
            )

    # ---- reading ----

    def lexical_search(self, query: str, limit: int) -> list[LexicalHit]:
        """The best ``limit`` passages for ``query`` by BM25, best first; [] for a query of stopwords."""
        terms = query_terms(query)
        if not terms:
            return []
        expression = " OR ".join(f'"{term}"' for term in terms)
        rows = self._db.execute(
            "SELECT p.id, p.conversation_id, p.first, p.last, p.kind, bm25(passage_terms) AS score "
            "FROM passage_terms JOIN passages p ON p.id = passage_terms.rowid "
            "WHERE passage_terms MATCH ? ORDER BY score LIMIT ?",
            (expression, limit),
        )
        return [LexicalHit(Passage(*row[:5]), row[5]) for row in rows]

    def passages_by_digest(self, digests: Iterable[str]) -> dict[str, Passage]:
        wanted = list(dict.fromkeys(digests))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._db.execute(
            f"SELECT digest, id, conversation_id, first, last, kind FROM passages WHERE digest IN ({marks})",  # noqa: S608
            wanted,
        )
        return {row[0]: Passage(*row[1:]) for row in rows}

    def segments(self, conversation_id: str, first: int, last: int) -> list[Segment]:
        rows = self._db.execute(
            "SELECT speaker, text FROM segments WHERE conversation_id = ? AND position BETWEEN ? AND ? "
            "ORDER BY position",
            (conversation_id, first, last),
        )
        return [Segment(speaker, text) for speaker, text in rows]

    def segment_count(self, conversation_id: str) -> int:
        row = self._db.execute("SELECT count(*) FROM segments WHERE conversation_id = ?", (conversation_id,))
        return int(row.fetchone()[0])

    def passage_text(self, passage: Passage) -> str:
        if passage.kind == "summary":
            call = self.call(passage.conversation_id)
            return call.summary if call else ""
        return passage_text(self.segments(passage.conversation_id, passage.first, passage.last))

    def call(self, conversation_id: str) -> CallInfo | None:
        row = self._db.execute(
            "SELECT conversation_id, started_at, zone, agent_id, summary FROM calls "
            "WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            return None
        return CallInfo(row[0], datetime.fromisoformat(row[1]), row[2], row[3], row[4])

    def calls(self) -> list[CallInfo]:
        rows = self._db.execute("SELECT conversation_id FROM calls ORDER BY started_at")
        return [info for (conversation_id,) in rows.fetchall() if (info := self.call(conversation_id))]

    def figures(self) -> IndexFigures:
        count = self._db.execute
        return IndexFigures(
            calls=int(count("SELECT count(*) FROM calls").fetchone()[0]),
            segments=int(count("SELECT count(*) FROM segments").fetchone()[0]),
            passages=int(count("SELECT count(*) FROM passages").fetchone()[0]),
            characters=int(count("SELECT coalesce(sum(length(text)), 0) FROM segments").fetchone()[0]),
        )

    def _passages_of(self, conversation_id: str) -> Sequence[Passage]:
        rows = self._db.execute(
            "SELECT id, conversation_id, first, last, kind FROM passages WHERE conversation_id = ?",
            (conversation_id,),
        )
        return [Passage(*row) for row in rows.fetchall()]


def _create(connection: sqlite3.Connection) -> None:
    with connection:
        connection.executescript(
            f"""
            CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES ('schema', '{SCHEMA_VERSION}');
            CREATE TABLE calls(
                conversation_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, zone TEXT NOT NULL,
                agent_id TEXT NOT NULL, summary TEXT NOT NULL, duration_seconds INTEGER NOT NULL);
            CREATE TABLE segments(
                conversation_id TEXT NOT NULL, position INTEGER NOT NULL, speaker TEXT NOT NULL,
                text TEXT NOT NULL, PRIMARY KEY (conversation_id, position)) WITHOUT ROWID;
            CREATE TABLE passages(
                id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, first INTEGER NOT NULL,
                last INTEGER NOT NULL, kind TEXT NOT NULL, digest TEXT NOT NULL);
            CREATE INDEX passages_by_conversation ON passages(conversation_id);
            CREATE INDEX passages_by_digest ON passages(digest);
            CREATE VIRTUAL TABLE passage_terms USING fts5(body, content='', tokenize='{TOKENIZER}');
            """
        )
