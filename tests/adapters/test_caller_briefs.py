"""Conditional writes on every archive, and caller briefs updated by two calls processed at once.

The concurrency tests use the real conditional writes of the filesystem archive (compare-and-swap
under a lock file) and of S3 (``If-Match`` / ``If-None-Match`` on moto's server).
"""

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentic_memory.adapters.s3_archive import S3Archive
from agentic_memory.archive_keys import profile_key, transcription_key
from agentic_memory.caller_profile import CallFacts, GivenName
from agentic_memory.errors import ArchiveKeyMissing
from agentic_memory.ports import Archive
from agentic_memory.profile_store import correct_name, read_profile, rebuild_profile, record_call
from devtools.fixtures import load_fixture
from local_runtime.adapters.filesystem_archive import FilesystemArchive

MARGARET = "+15550100142"
KEY = profile_key(MARGARET)
JSON = "application/json"
START = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=[pytest.param("filesystem"), pytest.param("s3", marks=pytest.mark.integration)])
def durable_archive(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    if request.param == "filesystem":
        return FilesystemArchive(tmp_path / "archive")
    s3_archive: S3Archive = request.getfixturevalue("s3_archive")
    return s3_archive


def a_call(number: int, name: str | None = None) -> CallFacts:
    at = START + timedelta(days=number)
    given = (
        GivenName(name=name, source="data_collection", at=at, conversation_id=f"conv_{number}")
        if name
        else None
    )
    return CallFacts(
        conversation_id=f"conv_{number}", agent_id="agent_a", at=at, name=given, summary=f"call {number}"
    )


# --- The conditional-write contract ---


def test_a_first_write_needs_the_key_absent(archive: Archive) -> None:
    assert archive.put_if_version(KEY, b"one", JSON, None) is True
    assert archive.put_if_version(KEY, b"two", JSON, None) is False
    assert archive.get(KEY) == b"one"


def test_a_write_needs_the_version_it_read(archive: Archive) -> None:
    # Given a stored object and its version
    archive.put(KEY, b"one", JSON)
    body, version = archive.get_versioned(KEY)
    assert body == b"one"
    # When another writer changes it first
    assert archive.put_if_version(KEY, b"two", JSON, version) is True
    # Then a write on the old version is refused, and one on the new version goes through
    assert archive.put_if_version(KEY, b"stale", JSON, version) is False
    _, newer = archive.get_versioned(KEY)
    assert archive.put_if_version(KEY, b"three", JSON, newer) is True
    assert archive.get(KEY) == b"three"


def test_a_write_on_a_deleted_object_is_refused(archive: Archive) -> None:
    archive.put(KEY, b"one", JSON)
    _, version = archive.get_versioned(KEY)
    archive.delete(KEY)
    assert archive.put_if_version(KEY, b"two", JSON, version) is False
    assert not archive.exists(KEY)


def test_a_missing_object_has_no_version(archive: Archive) -> None:
    with pytest.raises(ArchiveKeyMissing):
        archive.get_versioned(KEY)


def test_the_filesystem_lock_is_no_key(tmp_path: Path) -> None:
    archive = FilesystemArchive(tmp_path / "archive")
    archive.put_if_version(KEY, b"one", JSON, None)
    assert list(archive.keys("")) == [KEY]


# --- Briefs under concurrency ---


class _BothReadFirst:
    """Makes two writers collide for certain: both read the same version, then one writes first.

    Wraps a real archive; only the order of the two threads is arranged, the writes are the
    adapter's own conditional writes.
    """

    def __init__(self, inner: Archive) -> None:
        self.inner = inner
        self._both_read = threading.Barrier(2, timeout=10)
        self._first_written = threading.Event()
        self._first_writer: str | None = None
        self._lock = threading.Lock()
        self._reads = 0
        self.refused = 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        read = self.inner.get_versioned(key)
        with self._lock:
            self._reads += 1
            first_two = self._reads <= 2
        if first_two:
            self._both_read.wait()  # the retry after the refused write reads on its own
        return read

    def put_if_version(self, key: str, body: bytes, content_type: str, version: str | None) -> bool:
        me = threading.current_thread().name
        with self._lock:
            if self._first_writer is None:
                self._first_writer = me
        if self._first_writer != me:
            self._first_written.wait(timeout=10)
        written = self.inner.put_if_version(key, body, content_type, version)
        if self._first_writer == me:
            self._first_written.set()
        if not written:
            self.refused += 1
        return written


def test_two_calls_of_one_caller_processed_at_once_both_count(durable_archive: Archive) -> None:
    # Given a caller with one call in the brief
    record_call(durable_archive, MARGARET, a_call(1, "Margaret"))
    colliding = _BothReadFirst(durable_archive)
    # When two more calls are recorded by two threads that read the same version of the brief
    errors: list[BaseException] = []

    def record(number: int, name: str) -> None:
        try:
            record_call(colliding, MARGARET, a_call(number, name))  # type: ignore[arg-type]
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=record, args=(2, "Maggie"), name="first"),
        threading.Thread(target=record, args=(3, "Peggy"), name="second"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Then one write was refused and retried, and the brief counts all three calls
    assert errors == []
    assert colliding.refused == 1
    profile = read_profile(durable_archive, MARGARET)
    assert profile is not None
    assert profile.call_count == 3
    assert set(profile.conversations) == {"conv_1", "conv_2", "conv_3"}
    assert profile.name.name == "Peggy"
    assert [n.name for n in profile.earlier_names] == ["Maggie", "Margaret"]


def test_many_calls_recorded_at_once_are_each_counted_once(tmp_path: Path) -> None:
    # Given the filesystem archive and eight threads, each recording its own call twice
    archive = FilesystemArchive(tmp_path / "archive")
    numbers = list(range(8))

    def record(number: int) -> None:
        record_call(archive, MARGARET, a_call(number))
        record_call(archive, MARGARET, a_call(number))  # a redelivery

    threads = [threading.Thread(target=record, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Then every call is counted exactly once
    profile = read_profile(archive, MARGARET)
    assert profile is not None
    assert profile.call_count == 8
    assert set(profile.conversations) == {f"conv_{n}" for n in numbers}


def test_a_duplicate_writes_nothing(archive: Archive) -> None:
    # Given a recorded call
    assert record_call(archive, MARGARET, a_call(1, "Margaret")) is True
    before = archive.get_versioned(KEY)
    # When it is recorded again
    # Then nothing is written
    assert record_call(archive, MARGARET, a_call(1, "Margaret")) is False
    assert archive.get_versioned(KEY) == before


def test_a_missing_brief_is_a_new_caller(archive: Archive) -> None:
    assert read_profile(archive, MARGARET) is None


# --- Corrections by an operator (the console) ---


def test_an_operator_corrects_the_name_and_the_former_name_is_kept(archive: Archive) -> None:
    # Given a brief whose name was misheard
    record_call(archive, MARGARET, a_call(1, "Margret"))
    corrected_at = START + timedelta(days=5)
    # When an operator corrects it
    brief = correct_name(archive, MARGARET, "Margaret", corrected_at)
    # Then the stored brief carries the name from the operator, at that time, and the old one as history
    assert brief is not None and read_profile(archive, MARGARET) == brief
    assert brief.name is not None
    assert (brief.name.name, brief.name.source, brief.name.at) == ("Margaret", "operator", corrected_at)
    assert [old.name for old in brief.earlier_names] == ["Margret"]
    assert brief.call_count == 1
    # And a later call that names nobody keeps the correction
    record_call(archive, MARGARET, a_call(7))
    after = read_profile(archive, MARGARET)
    assert after is not None and after.name is not None and after.name.name == "Margaret"


def test_a_correction_writes_no_brief_for_an_unknown_caller(archive: Archive) -> None:
    assert correct_name(archive, MARGARET, "Margaret", START) is None
    assert read_profile(archive, MARGARET) is None


def test_a_rebuild_keeps_the_operators_name_until_a_later_call_names_the_caller(archive: Archive) -> None:
    # Given a caller whose misheard name an operator corrected after their first call
    event = load_fixture("transcription_twilio_inbound")
    caller = event["data"]["metadata"]["phone_call"]["external_number"]
    archive.put(transcription_key(caller, event["data"]["conversation_id"]), json.dumps(event).encode(), JSON)
    assert rebuild_profile(archive, caller) is not None
    corrected_at = datetime.now(UTC)
    correct_name(archive, caller, "Maggie", corrected_at)
    # When the brief is rebuilt from the archive
    rebuilt = rebuild_profile(archive, caller)
    # Then the correction stands, with the name the call gave as history
    assert rebuilt is not None and rebuilt.name is not None
    assert (rebuilt.name.name, rebuilt.name.source) == ("Maggie", "operator")
    assert [old.name for old in rebuilt.earlier_names] == ["Margaret"]


def test_an_unreadable_brief_is_rebuilt_from_the_archive_when_a_call_comes(archive: Archive) -> None:
    # Given Margaret's archived first call and a brief of hers that no longer reads
    event = load_fixture("transcription_twilio_inbound")
    caller = event["data"]["metadata"]["phone_call"]["external_number"]
    archive.put(transcription_key(caller, event["data"]["conversation_id"]), json.dumps(event).encode(), JSON)
    archive.put(profile_key(caller), b"{not a brief", JSON)
    # When a later call is recorded
    later = a_call(900)
    assert record_call(archive, caller, later) is True
    # Then the brief holds both calls, with the name the archived call gave
    brief = read_profile(archive, caller)
    assert brief is not None and brief.name is not None
    assert (brief.call_count, brief.name.name) == (2, "Margaret")
    assert [note.conversation_id for note in brief.recent_calls] == [
        "conv_900",
        event["data"]["conversation_id"],
    ]
