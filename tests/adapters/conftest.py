"""Fixtures for the archive adapters: moto's S3 server on loopback, fake credentials, a bucket per test.

The S3 adapter is exercised against a real HTTP server (moto's), not the in-process ``mock_aws``
patch, so the adapter's own client, timeouts, retries and error parsing are what get tested.
"""

import http.server
import secrets
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentic_memory.adapters.s3_archive import S3Archive
from agentic_memory.ports import Archive
from devtools.fakes import InMemoryArchive
from local_runtime.adapters.filesystem_archive import FilesystemArchive

# Anything that could point boto3 at real credentials or a real endpoint on the developer's machine.
_AMBIENT_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


@pytest.fixture(scope="session")
def fake_aws_credentials() -> dict[str, str]:
    """Client keyword arguments. Generated per run: these tests can never use, or print, a real key."""
    return {
        "aws_access_key_id": "AKIAFAKE" + secrets.token_hex(6).upper(),
        "aws_secret_access_key": secrets.token_urlsafe(30),
        "region_name": "us-east-1",
    }


@pytest.fixture
def fake_aws_environment(
    monkeypatch: pytest.MonkeyPatch, fake_aws_credentials: dict[str, str], tmp_path: Path
) -> dict[str, str]:
    """The fake credentials as the environment boto3 reads, undone after the test by monkeypatch."""
    for name in _AMBIENT_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", fake_aws_credentials["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", fake_aws_credentials["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", fake_aws_credentials["region_name"])
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return fake_aws_credentials


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible HTTP server on a free loopback port, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_client(moto_s3_endpoint: str, fake_aws_environment: dict[str, str]) -> Any:
    """A plain boto3 client on the moto server, for arranging and inspecting state behind the adapter."""
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=moto_s3_endpoint, **fake_aws_environment)


@pytest.fixture
def s3_bucket(s3_client: Any) -> str:
    """A fresh bucket per test, so tests sharing the server never see each other's keys."""
    name = f"archive-test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_archive(moto_s3_endpoint: str, s3_bucket: str, fake_aws_environment: dict[str, str]) -> S3Archive:
    # No client passed: the adapter builds its own from the environment, with its real timeouts.
    return S3Archive(s3_bucket, endpoint_url=moto_s3_endpoint, region=fake_aws_environment["region_name"])


@pytest.fixture
def closed_loopback_endpoint() -> Iterator[str]:
    """An endpoint that refuses connections: a port bound (so nobody else takes it) but not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        yield f"http://127.0.0.1:{port}"


class _AlwaysBusyHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request 503 SlowDown, as S3 does under load, and counts the requests."""

    requests_seen: list[str]

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.requests_seen.append(self.path)
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output to the assertions


@pytest.fixture
def always_busy_endpoint() -> Iterator[tuple[str, list[str]]]:
    """A loopback endpoint that refuses every PUT with 503, and the paths of the requests it saw."""
    requests_seen: list[str] = []
    handler = type("Handler", (_AlwaysBusyHandler,), {"requests_seen": requests_seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", requests_seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# Each archive test runs against every Archive: the in-memory fake, the filesystem and S3 (moto).
@pytest.fixture(
    params=[
        pytest.param("memory"),
        pytest.param("filesystem"),
        pytest.param("s3", marks=pytest.mark.integration),
    ]
)
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    if request.param == "memory":
        return InMemoryArchive()
    if request.param == "filesystem":
        return FilesystemArchive(tmp_path / "archive")
    s3_archive: S3Archive = request.getfixturevalue("s3_archive")
    return s3_archive
