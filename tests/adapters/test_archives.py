"""The ``Archive`` contract, run against every implementation, plus what each adapter adds to it."""

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY

from agentic_memory.adapters.s3_archive import S3Archive
from agentic_memory.errors import ArchiveKeyMissing, ArchiveUnavailable
from agentic_memory.ports import Archive
from local_runtime.adapters.filesystem_archive import FilesystemArchive
from services.error_answers import answer_for

CALLER_KEY = "post-call/+15551234567/conv_1.json"
JSON = "application/json"
# Every byte value, as in an MP3: nothing may be decoded, normalised or truncated on the way.
BINARY_BODY = bytes(range(256))


@pytest.fixture(
    params=[pytest.param("filesystem"), pytest.param("s3", marks=pytest.mark.integration)],
)
def durable_archive(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    """The adapters whose atomicity comes from the storage rather than from a lock in our process."""
    if request.param == "filesystem":
        return FilesystemArchive(tmp_path / "archive")
    s3_archive: S3Archive = request.getfixturevalue("s3_archive")
    return s3_archive


# --- The contract every archive keeps ---


def test_put_new_stores_an_absent_key(archive: Archive) -> None:
    # When
    created = archive.put_new(CALLER_KEY, BINARY_BODY, "audio/mpeg")

    # Then
    assert created is True
    assert archive.get(CALLER_KEY) == BINARY_BODY
    assert archive.exists(CALLER_KEY)


def test_put_new_of_a_present_key_is_a_duplicate_and_keeps_the_first_body(archive: Archive) -> None:
    # Given
    archive.put_new(CALLER_KEY, b'{"delivery": 1}', JSON)

    # When
    created = archive.put_new(CALLER_KEY, b'{"delivery": 2}', JSON)

    # Then
    assert created is False
    assert archive.get(CALLER_KEY) == b'{"delivery": 1}'


def test_put_overwrites_a_present_key(archive: Archive) -> None:
    # Given
    archive.put(CALLER_KEY, b"first", JSON)

    # When
    archive.put(CALLER_KEY, b"second", JSON)

    # Then
    assert archive.get(CALLER_KEY) == b"second"


def test_get_of_a_missing_key_raises_archive_key_missing(archive: Archive) -> None:
    # Given
    archive.put("post-call/+15551234567/conv_other.json", b"{}", JSON)

    # When / Then
    with pytest.raises(ArchiveKeyMissing):
        archive.get(CALLER_KEY)


def test_exists_is_false_for_a_missing_key_and_for_a_mere_prefix(archive: Archive) -> None:
    # Given
    archive.put(CALLER_KEY, b"{}", JSON)

    # When / Then
    assert archive.exists("post-call/+15551234567/conv_2.json") is False
    assert archive.exists("post-call/+15551234567") is False


def test_keys_lists_exactly_the_keys_under_a_prefix_in_order(archive: Archive) -> None:
    # Given: neighbours that share the prefix as a string but not as a caller
    wanted = [
        "post-call/+15551234567/conv_1.json",
        "post-call/+15551234567/conv_2.json",
        "post-call/+15551234567/conv_a-b.json",
    ]
    unwanted = [
        "post-call/+155512345670/conv_1.json",
        "post-call/audio-only/agent_1/conv_1.mp3",
        "client-data/+15551234567/20260101T000000000Z_CA1/received.json",
    ]
    for key in reversed(wanted + unwanted):
        archive.put(key, b"{}", JSON)

    # When
    listed = list(archive.keys("post-call/+15551234567/"))

    # Then
    assert listed == wanted


def test_keys_matches_a_prefix_that_ends_inside_a_segment(archive: Archive) -> None:
    # Given
    for key in ["post-call/+15551234567/conv_1.json", "post-call/+15559999999/conv_2.json", "postbox/x"]:
        archive.put(key, b"{}", JSON)

    # When
    listed = list(archive.keys("post-call/+1555"))

    # Then
    assert listed == ["post-call/+15551234567/conv_1.json", "post-call/+15559999999/conv_2.json"]


def test_keys_of_a_prefix_with_nothing_under_it_is_empty(archive: Archive) -> None:
    # Given
    archive.put(CALLER_KEY, b"{}", JSON)

    # When
    listed = list(archive.keys("client-data/"))

    # Then
    assert listed == []


def test_keys_of_the_empty_prefix_lists_everything_in_order(archive: Archive) -> None:
    # Given: "a-b" sorts before "a/b" as a string, although a directory walk would meet "a/" first
    for key in ["a/b", "a-b", "a0"]:
        archive.put(key, b"{}", JSON)

    # When
    listed = list(archive.keys(""))

    # Then
    assert listed == ["a-b", "a/b", "a0"]


def test_delete_removes_a_key_and_frees_it_for_put_new(archive: Archive) -> None:
    # Given
    archive.put_new(CALLER_KEY, b"old", JSON)

    # When
    archive.delete(CALLER_KEY)

    # Then
    assert archive.exists(CALLER_KEY) is False
    assert list(archive.keys("post-call/")) == []
    assert archive.put_new(CALLER_KEY, b"new", JSON) is True
    assert archive.get(CALLER_KEY) == b"new"


def test_delete_of_a_missing_key_is_silent(archive: Archive) -> None:
    # When
    archive.delete(CALLER_KEY)

    # Then
    assert archive.exists(CALLER_KEY) is False


def test_exactly_one_of_eight_concurrent_put_new_wins(durable_archive: Archive) -> None:
    # Given: eight deliveries of the same event, released at once
    start = threading.Barrier(8)
    outcomes: dict[int, bool] = {}

    def deliver(attempt: int) -> None:
        start.wait()
        outcomes[attempt] = durable_archive.put_new(CALLER_KEY, f"delivery {attempt}".encode(), JSON)

    threads = [threading.Thread(target=deliver, args=(attempt,)) for attempt in range(8)]

    # When
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then: one winner, and its body is the one stored
    winners = [attempt for attempt, created in outcomes.items() if created]
    assert len(outcomes) == 8
    assert len(winners) == 1
    assert durable_archive.get(CALLER_KEY) == f"delivery {winners[0]}".encode()
    assert list(durable_archive.keys("post-call/")) == [CALLER_KEY]


# --- FilesystemArchive ---

UNSAFE_KEYS = ["../x", "/abs", "a//b", "a\\b", "a/../../x", "a/./b", "a/", "", "a\x00b", ".hidden/x"]


def _operations(archive: FilesystemArchive) -> dict[str, Callable[[str], object]]:
    return {
        "put_new": lambda key: archive.put_new(key, b"x", JSON),
        "put": lambda key: archive.put(key, b"x", JSON),
        "get": archive.get,
        "exists": archive.exists,
        "delete": archive.delete,
    }


@pytest.mark.parametrize("operation", ["put_new", "put", "get", "exists", "delete"])
@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_filesystem_archive_refuses_keys_that_could_leave_its_root(
    tmp_path: Path, key: str, operation: str
) -> None:
    # Given
    archive = FilesystemArchive(tmp_path / "archive")

    # When / Then
    with pytest.raises(ValueError):
        _operations(archive)[operation](key)
    assert sorted(path.name for path in tmp_path.iterdir()) in ([], ["archive"])
    assert not (tmp_path / "x").exists()


def test_filesystem_archive_refuses_a_key_that_a_symlink_leads_outside(tmp_path: Path) -> None:
    # Given: a link inside the root pointing at a directory outside it
    root, outside = tmp_path / "archive", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    archive = FilesystemArchive(root)

    # When / Then
    with pytest.raises(ValueError):
        archive.put("escape/x.json", b"x", JSON)
    assert list(outside.iterdir()) == []


def test_filesystem_archive_refuses_a_prefix_that_climbs_out(tmp_path: Path) -> None:
    # Given
    archive = FilesystemArchive(tmp_path / "archive")

    # When / Then
    with pytest.raises(ValueError):
        list(archive.keys("../"))


def test_filesystem_archive_stores_keys_as_files_under_its_root(tmp_path: Path) -> None:
    # Given
    archive = FilesystemArchive(tmp_path / "archive")

    # When
    archive.put_new(CALLER_KEY, b"{}", JSON)

    # Then
    assert (tmp_path / "archive" / "post-call" / "+15551234567" / "conv_1.json").read_bytes() == b"{}"


def test_filesystem_archive_never_lists_a_temporary_file_left_by_a_crash(tmp_path: Path) -> None:
    # Given: a write interrupted before its rename left its temporary file behind
    archive = FilesystemArchive(tmp_path / "archive")
    archive.put(CALLER_KEY, b"{}", JSON)
    (tmp_path / "archive" / "post-call" / "+15551234567" / ".tmp-interrupted").write_bytes(b"{")

    # When
    listed = list(archive.keys(""))

    # Then
    assert listed == [CALLER_KEY]


def test_filesystem_archive_cleans_up_its_temporary_file_when_a_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a file system that fails the final link
    archive = FilesystemArchive(tmp_path / "archive")

    def failing_link(source: object, target: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "link", failing_link)

    # When
    with pytest.raises(OSError):
        archive.put_new(CALLER_KEY, b"{}", JSON)

    # Then
    assert list((tmp_path / "archive" / "post-call" / "+15551234567").iterdir()) == []
    assert archive.exists(CALLER_KEY) is False


def test_filesystem_archive_delete_leaves_no_directory_named_after_the_caller(tmp_path: Path) -> None:
    # Given: the only event archived for this caller, next to another caller's
    archive = FilesystemArchive(tmp_path / "archive")
    archive.put(CALLER_KEY, b"{}", JSON)
    archive.put("post-call/+15559999999/conv_2.json", b"{}", JSON)

    # When
    archive.delete(CALLER_KEY)

    # Then
    assert not (tmp_path / "archive" / "post-call" / "+15551234567").exists()
    assert archive.exists("post-call/+15559999999/conv_2.json")


# --- S3Archive ---


def test_botocore_knows_if_none_match_on_put_object() -> None:
    # Given: the botocore that will be bundled or found in the Lambda runtime
    import botocore.session

    service = botocore.session.get_session().get_service_model("s3")

    # When
    put_object_parameters = service.operation_model("PutObject").input_shape.members

    # Then: without it boto3 rejects IfNoneMatch and every post-call write would fail
    assert "IfNoneMatch" in put_object_parameters


def test_importing_the_s3_adapter_does_not_import_boto3() -> None:
    # Given
    probe = "import sys, agentic_memory.adapters.s3_archive; print('boto' in ' '.join(sys.modules))"

    # When
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    # Then
    assert result.stdout.strip() == "False"


@pytest.mark.integration
def test_moto_server_answers_412_to_a_duplicate_conditional_write(s3_client: Any, s3_bucket: str) -> None:
    # Given: moto_server 5.2.0 answered 500 here (getmoto/moto#10018); the S3 tests need 5.2.5's 412
    s3_client.put_object(Bucket=s3_bucket, Key=CALLER_KEY, Body=b"1", IfNoneMatch="*")

    # When
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        s3_client.put_object(Bucket=s3_bucket, Key=CALLER_KEY, Body=b"2", IfNoneMatch="*")

    # Then
    assert raised.value.response["Error"]["Code"] == "PreconditionFailed"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


@pytest.mark.integration
def test_s3_archive_builds_a_client_that_gives_up_quickly(s3_archive: S3Archive) -> None:
    # When
    config = s3_archive.client.meta.config

    # Then: well inside a webhook's patience, instead of botocore's 60 s and 60 s
    assert config.connect_timeout <= 1
    assert config.read_timeout <= 2
    assert config.tcp_keepalive is True


@pytest.mark.integration
def test_s3_archive_retries_a_busy_s3_once_then_reports_it_unavailable(
    always_busy_endpoint: tuple[str, list[str]], fake_aws_environment: dict[str, str]
) -> None:
    # Given: an S3 that answers every request 503 SlowDown
    endpoint, requests_seen = always_busy_endpoint
    archive = S3Archive("archive-test", endpoint_url=endpoint, region="us-east-1")

    # When
    with pytest.raises(ArchiveUnavailable) as raised:
        archive.put(CALLER_KEY, b"{}", JSON)

    # Then: the first request and one retry (botocore's max_attempts=2 would have sent three)
    assert len(requests_seen) == 2
    assert raised.value.detail == "S3 PutObject failed: SlowDown (HTTP 503)"


def _unreachable_operations() -> dict[str, Callable[[S3Archive], object]]:
    return {
        "put_new": lambda archive: archive.put_new(CALLER_KEY, b"{}", JSON),
        "put": lambda archive: archive.put(CALLER_KEY, b"{}", JSON),
        "get": lambda archive: archive.get(CALLER_KEY),
        "exists": lambda archive: archive.exists(CALLER_KEY),
        "keys": lambda archive: list(archive.keys("post-call/")),
    }


@pytest.mark.integration
@pytest.mark.parametrize("operation", ["put_new", "put", "get", "exists", "keys"])
def test_s3_archive_reports_an_unreachable_endpoint_as_unavailable_without_secrets(
    closed_loopback_endpoint: str, fake_aws_environment: dict[str, str], operation: str
) -> None:
    # Given: nothing listens on the endpoint
    archive = S3Archive("archive-test", endpoint_url=closed_loopback_endpoint, region="us-east-1")

    # When
    with pytest.raises(ArchiveUnavailable) as raised:
        _unreachable_operations()[operation](archive)

    # Then: the detail may reach an HTTP response, so no credentials and no caller number
    detail = raised.value.detail
    assert "EndpointConnectionError" in detail
    assert fake_aws_environment["aws_secret_access_key"] not in detail
    assert fake_aws_environment["aws_access_key_id"] not in detail
    assert "+15551234567" not in detail
    assert answer_for(raised.value).status == 503


@pytest.fixture
def stubbed_s3(fake_aws_environment: dict[str, str]) -> Iterator[tuple[S3Archive, Any]]:
    """An S3Archive whose client answers from a script: for S3 answers moto cannot produce on demand."""
    import botocore.session
    from botocore.stub import Stubber

    client = botocore.session.get_session().create_client("s3", **fake_aws_environment)
    with Stubber(client) as stubber:
        yield S3Archive("archive-test", client=client), stubber
        stubber.assert_no_pending_responses()


def test_s3_put_new_retries_a_conflict_once_and_then_succeeds(stubbed_s3: tuple[S3Archive, Any]) -> None:
    # Given: a 409 ConditionalRequestConflict, then a clean write
    archive, stubber = stubbed_s3
    stubber.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
    stubber.add_response("put_object", {})

    # When
    created = archive.put_new(CALLER_KEY, b"{}", JSON)

    # Then
    assert created is True


def test_s3_put_new_after_two_conflicts_is_a_duplicate_if_the_key_landed(
    stubbed_s3: tuple[S3Archive, Any],
) -> None:
    # Given: two conflicts, and the racing writer's object is there
    archive, stubber = stubbed_s3
    stubber.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
    stubber.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
    stubber.add_response("head_object", {})

    # When
    created = archive.put_new(CALLER_KEY, b"{}", JSON)

    # Then
    assert created is False


def test_s3_put_new_after_two_conflicts_is_unavailable_if_nothing_landed(
    stubbed_s3: tuple[S3Archive, Any],
) -> None:
    # Given: two conflicts, and still no object under the key
    archive, stubber = stubbed_s3
    stubber.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
    stubber.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
    stubber.add_client_error("head_object", "404", http_status_code=404)

    # When / Then: a 5xx, so ElevenLabs delivers the event again
    with pytest.raises(ArchiveUnavailable):
        archive.put_new(CALLER_KEY, b"{}", JSON)


def test_s3_put_new_treats_a_server_error_as_unavailable_not_as_a_duplicate(
    stubbed_s3: tuple[S3Archive, Any],
) -> None:
    # Given: the 500 that moto_server 5.2.0 gave instead of 412 (getmoto/moto#10018)
    archive, stubber = stubbed_s3
    stubber.add_client_error("put_object", "InternalError", http_status_code=500)

    # When / Then: never acknowledge an event that may not be stored
    with pytest.raises(ArchiveUnavailable) as raised:
        archive.put_new(CALLER_KEY, b"{}", JSON)
    assert raised.value.detail == "S3 PutObject failed: InternalError (HTTP 500)"


def test_s3_exists_does_not_mistake_access_denied_for_absence(stubbed_s3: tuple[S3Archive, Any]) -> None:
    # Given: a 403, and a role that may not list the key's prefix either
    archive, stubber = stubbed_s3
    stubber.add_client_error("head_object", "403", http_status_code=403)
    stubber.add_client_error("list_objects_v2", "AccessDenied", http_status_code=403)

    # When / Then: a missing permission never reads as "absent"
    with pytest.raises(ArchiveUnavailable):
        archive.exists(CALLER_KEY)


def test_s3_a_403_for_a_key_the_prefix_listing_does_not_hold_is_a_missing_key(
    stubbed_s3: tuple[S3Archive, Any],
) -> None:
    # Given: S3's 403 for a missing key to a role whose ListBucket is limited to its prefixes
    archive, stubber = stubbed_s3
    stubber.add_client_error("get_object", "AccessDenied", http_status_code=403)
    listing = {"Contents": [], "KeyCount": 0, "IsTruncated": False, "Name": "bucket", "Prefix": CALLER_KEY}
    stubber.add_response("list_objects_v2", listing, {"Bucket": ANY, "Prefix": CALLER_KEY, "MaxKeys": 1})

    # When / Then: the listing settles it: the key is missing (a new caller's brief, say)
    with pytest.raises(ArchiveKeyMissing):
        archive.get_versioned(CALLER_KEY)


def test_s3_a_403_for_a_key_that_exists_stays_a_denial(stubbed_s3: tuple[S3Archive, Any]) -> None:
    archive, stubber = stubbed_s3
    stubber.add_client_error("get_object", "AccessDenied", http_status_code=403)
    listing = {"Contents": [{"Key": CALLER_KEY}], "KeyCount": 1, "IsTruncated": False}
    stubber.add_response("list_objects_v2", listing, {"Bucket": ANY, "Prefix": CALLER_KEY, "MaxKeys": 1})

    with pytest.raises(ArchiveUnavailable):
        archive.get(CALLER_KEY)
