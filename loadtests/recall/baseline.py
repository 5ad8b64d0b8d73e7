"""The baseline: plain BM25 over one caller's raw turns (SQLite FTS5 from the standard library).

Each turn is one document, dated and with its speaker, ``[8 May 2023] Caller: …`` / ``Agent: …``,
so that temporal questions are judged the same way as the product's answers. The query is the
question's words, each quoted, OR-ed together; FTS5 ranks by ``bm25()`` (k1 1.2, b 0.75).
"""

import re
import sqlite3
from collections.abc import Iterable, Sequence

TOKENIZER = "porter unicode61 remove_diacritics 2"
SPEAKERS = {"agent": "Agent", "user": "Caller"}


def dated_turn(day: str, role: str, message: str) -> str:
    """``[8 May 2023] Caller: …``: one BM25 document."""
    return f"[{day}] {SPEAKERS.get(role, role)}: {message}"


def match_query(question: str) -> str:
    """``"what" OR "was" OR "dog"``: every distinct word, quoted (so no word is read as an operator)."""
    words = dict.fromkeys(word.lower() for word in re.findall(r"\w+", question))
    return " OR ".join(f'"{word}"' for word in words)


class CallerTurns:
    """BM25 over one caller's turns, in memory. ``ranked`` gives the documents best first."""

    def __init__(self, documents: Iterable[str]) -> None:
        self._db = sqlite3.connect(":memory:")
        self._db.execute(f"CREATE VIRTUAL TABLE turns USING fts5(text, tokenize='{TOKENIZER}')")
        self._db.executemany("INSERT INTO turns(text) VALUES (?)", ((text,) for text in documents))

    def ranked(self, question: str, limit: int = 200) -> list[str]:
        query = match_query(question)
        if not query:
            return []
        rows = self._db.execute(
            "SELECT text FROM turns WHERE turns MATCH ? ORDER BY bm25(turns) LIMIT ?", (query, limit)
        )
        return [text for (text,) in rows]

    def close(self) -> None:
        self._db.close()


def equal_characters(ranked: Sequence[str], budget: int) -> list[str]:
    """Turns in rank order until their characters reach ``budget``. The turn that reaches it is
    kept whole, so the baseline gets at least the product's characters and at most one turn more
    (a fair cut for the baseline: the product is never compared with less text than it gave)."""
    taken: list[str] = []
    used = 0
    for text in ranked:
        if used >= budget:
            break
        taken.append(text)
        used += len(text)
    return taken


def fts5_available() -> bool:
    try:
        sqlite3.connect(":memory:").execute(
            f"CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='{TOKENIZER}')"
        )
    except sqlite3.OperationalError:
        return False
    return True
