"""Hostile HTTP against the local runtime (``agentic-memory serve`` in a subprocess), over raw sockets.

The runtime mirrors API Gateway and Lambda: bodies over 6 MB are 413 without being kept, chunked bodies are
re-assembled (and refused past the limit), errors are JSON. The runtime is uvicorn (h11) with Starlette:
where a request is not valid HTTP, h11 decides that it is a 400 (answered in the runtime's JSON).
After everything here the process is alive, ``GET /health`` is 200, and nothing was written outside
``$AGENTIC_MEMORY_HOME``'s own folders.
The last test of this module checks that, so keep it last.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hostile_support import (
    CALLER,
    NORMALISED_PHONE_FORMS,
    TALLY,
    TRAVERSAL_IDS,
    json_bytes,
    layout_problem,
    with_value,
)
from runtime_support import RawAnswer, RuntimeProcess, exchange_raw, head, health_status, listing, raw_answer

from agentic_memory.signature import HEADER, sign
from devtools.fixtures import fixture_bytes, load_fixture

pytestmark = pytest.mark.integration

MB = 1024 * 1024
# queue/ is the processing queue's spool (the durable local stand-in for SQS), added after the brief's list.
WRITABLE_IN_HOME = {"archive", "memory", "dead-letter", "queue"}
# runtime.json: where operator commands find the running runtime (local_runtime/admin.py), written at start;
# runtime.lock: the runtime's hold on its home, one runtime per data folder (local_runtime/home.py).
ALLOWED_IN_HOME = WRITABLE_IN_HOME | {"dev-keys.json", "runtime.log", "runtime.json", "runtime.lock"}
POST_ROUTES = ("/client-data", "/retrieve", "/post-call")


def assert_json_error(answer: RawAnswer, status: int, error: str | None = None) -> None:
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers.get("content-type", "").startswith("application/json"), answer.headers
    body = answer.json()
    assert set(body) == {"error", "detail"}, body
    if error is not None:
        assert body["error"] == error


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module: a new httpx client per request costs tens of milliseconds."""
    with httpx.Client(timeout=20) as client:
        yield client


def post(
    http: httpx.Client, runtime: RuntimeProcess, path: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    response = http.post(f"{runtime.url}{path}", content=body, headers=headers)
    TALLY[(f"runtime {path}", response.status_code)] += 1
    return response


def signed(runtime: RuntimeProcess, body: bytes) -> dict[str, str]:
    return {HEADER: sign(body, runtime.keys.hmac), "Content-Type": "application/json"}


def workspace(runtime: RuntimeProcess) -> dict[str, str]:
    return {"X-Workspace-Key": runtime.keys.workspace, "Content-Type": "application/json"}


# --- bodies over the limit ------------------------------------------------------------------------


@pytest.mark.parametrize("path", POST_ROUTES + ("/nowhere",))
def test_an_announced_7_mb_body_is_refused_before_any_of_it_is_sent(hostile_runtime, path):
    # Given a request that announces 7 MB and sends none of it
    started = time.monotonic()
    answer = exchange_raw(
        hostile_runtime,
        path,
        [head("POST", path, {"Content-Length": str(7 * MB), "Content-Type": "application/json"})],
    )
    # Then the runtime answers at once (413, or 404 for a path it does not serve) instead of waiting for it
    assert_json_error(answer, 404 if path == "/nowhere" else 413)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_chunked_body_growing_past_6_mb_is_413_when_it_crosses_the_limit(hostile_runtime, path):
    # Given six 1 MB chunks (exactly the limit), then the first kilobyte of a seventh, and no more
    megabyte = b"x" * MB
    parts = [head("POST", path, {"Transfer-Encoding": "chunked"})]
    parts += [b"100000\r\n" + megabyte + b"\r\n"] * 6 + [b"100000\r\n" + b"x" * 1024]
    answer = exchange_raw(hostile_runtime, path, parts, timeout=20)
    assert_json_error(answer, 413, "payload_too_large")


@pytest.mark.parametrize("size_line", [b"700000", b"7fffffffffffffff"], ids=["7 MB", "2**63"])
def test_a_single_chunk_announced_over_6_mb_is_413_once_it_crosses_the_limit(hostile_runtime, size_line):
    # A chunk size is framing, which uvicorn reads: the runtime counts the bytes that arrive.
    body = [b"x" * MB] * 6 + [b"x" * 1024]
    parts = [head("POST", "/post-call", {"Transfer-Encoding": "chunked"}), size_line + b"\r\n", *body]
    answer = exchange_raw(hostile_runtime, "/post-call", parts, timeout=20)
    assert_json_error(answer, 413, "payload_too_large")


def test_a_chunk_size_of_2000_hex_digits_is_a_json_400(hostile_runtime):
    # h11 reads chunk sizes of at most 20 hex digits; more is malformed framing.
    parts = [head("POST", "/post-call", {"Transfer-Encoding": "chunked"}), b"f" * 2000 + b"\r\n"]
    assert_json_error(exchange_raw(hostile_runtime, "/post-call", parts), 400, "bad_request")


def test_an_oversized_audio_body_naming_traversal_ids_records_nothing(hostile_runtime):
    # The runtime reads the first bytes of a refused audio body to record which call it was: ids from
    # there must pass the same checks as any other id.
    prefix = b'{"type": "post_call_audio", "data": {"agent_id": "../../escape", "conversation_id": "../x", '
    headers = {"Content-Length": str(7 * MB), "Content-Type": "application/json"}
    before = listing(hostile_runtime.sandbox)
    answer = exchange_raw(hostile_runtime, "/post-call", [head("POST", "/post-call", headers), prefix])
    assert_json_error(answer, 413)
    new = listing(hostile_runtime.sandbox) - before
    assert {path for path in new if not path.startswith("home/memory/")} == set()


def _post_with_urllib(url: str, body: bytes) -> tuple[int, bytes]:
    # urllib sends the whole body before it reads, and asks for Connection: close.
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _post_with_httpx(url: str, body: bytes) -> tuple[int, bytes]:
    with httpx.Client(timeout=30) as client:
        response = client.post(url, content=body, headers={"Content-Type": "application/json"})
        return response.status_code, response.content


def _post_with_curl(url: str, body: bytes) -> tuple[int, bytes]:
    if shutil.which("curl") is None:
        pytest.skip("no curl on this machine")
    # Without Expect: 100-continue curl sends the body at once, as most webhook senders do.
    command = ["curl", "-sS", "-X", "POST", "-H", "Expect:", "-H", "Content-Type: application/json"]
    command += ["--data-binary", "@-", "-w", "\n%{http_code}", url]
    done = subprocess.run(command, input=body, capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    answer, _, status = done.stdout.rpartition(b"\n")
    return int(status), answer


@pytest.mark.parametrize(
    "client", [_post_with_urllib, _post_with_httpx, _post_with_curl], ids=lambda c: c.__name__
)
def test_an_8_mb_body_gets_a_413_the_client_can_read(hostile_runtime, client):
    # Given an ordinary HTTP client sending an 8 MB body at once (over the 6 MB limit)
    for path in ("/post-call", "/retrieve"):
        # When the runtime refuses it
        status, answer = client(f"{hostile_runtime.url}{path}", b"x" * (8 * MB))
        # Then the client reads the JSON 413, not a connection reset
        assert status == 413, answer[:300]
        assert json.loads(answer)["error"] == "payload_too_large"


# --- malformed framing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chunks",
    [b"zz\r\n", b"\r\n", b";extension-only\r\n", b"1\r\nab\r\nzz\r\n", b"0x\r\n", b"\x00\xff\r\n"],
    ids=repr,
)
def test_malformed_chunked_encoding_is_a_json_400(hostile_runtime, chunks):
    parts = [head("POST", "/retrieve", {"Transfer-Encoding": "chunked"}), chunks]
    assert_json_error(exchange_raw(hostile_runtime, "/retrieve", parts), 400, "bad_request")


def test_a_negative_chunk_size_is_a_json_400_at_once(hostile_runtime):
    # Found here: int("-1", 16) passed, and rfile.read(-1) read to the end of the stream, past the limit.
    parts = [head("POST", "/retrieve", {"Transfer-Encoding": "chunked"}), b"-1\r\n", b"x" * 1024]
    assert_json_error(exchange_raw(hostile_runtime, "/retrieve", parts, timeout=3), 400)


@pytest.mark.parametrize("length", ["abc", "-1", "1,1", "0x10", "1e3", ""], ids=repr)
def test_a_content_length_that_is_not_a_number_is_a_json_400(hostile_runtime, length):
    parts = [head("POST", "/client-data", {"Content-Length": length, **workspace(hostile_runtime)}), b"{}"]
    assert_json_error(exchange_raw(hostile_runtime, "/client-data", parts), 400)


def test_a_content_length_of_superscript_digits_is_a_json_400(hostile_runtime):
    # Found here: "\xb2".isdigit() is true but int() refuses it; the connection was dropped unanswered.
    request = b"POST /client-data HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \xb2\r\n\r\n{}"
    assert_json_error(exchange_raw(hostile_runtime, "/client-data", [request]), 400)


def test_a_body_shorter_than_its_content_length_is_answered_when_the_client_stops(hostile_runtime):
    parts = [
        head("POST", "/client-data", {"Content-Length": "100", **workspace(hostile_runtime)}),
        b'{"agent_',
    ]
    answer = exchange_raw(hostile_runtime, "/client-data", parts, half_close=True)
    assert_json_error(answer, 400)


# --- methods and paths ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/client-data"),
        ("GET", "/post-call"),
        ("PUT", "/retrieve"),
        ("DELETE", "/post-call"),
        ("PUT", "/client-data"),
        ("DELETE", "/retrieve"),
    ],
)
def test_a_wrong_method_on_a_route_is_a_json_405(hostile_runtime, method, path):
    answer = exchange_raw(hostile_runtime, path, [head(method, path, {"Content-Length": "0"})])
    assert_json_error(answer, 405, "method_not_allowed")


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS"])
def test_any_other_method_on_a_route_is_a_json_405(hostile_runtime, method):
    # Found here: methods without a do_X handler got the standard library's 501 text/html page.
    answer = exchange_raw(
        hostile_runtime, "/client-data", [head(method, "/client-data", {"Content-Length": "0"})]
    )
    assert_json_error(answer, 405)


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/client-data/",
        "/CLIENT-DATA",
        "/post-call/../client-data",
        "/health/../post-call",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/client-data%00",
        "/client-data;x=1",
        "/" + "a" * 8000,
        "http://elsewhere.example/nope",
    ],
    ids=lambda t: repr(t[:40]),
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_path_is_a_json_404(hostile_runtime, target, method):
    answer = exchange_raw(hostile_runtime, "unknown path", [head(method, target, {"Content-Length": "0"})])
    assert_json_error(answer, 404, "not_found")


def test_a_path_of_raw_non_ascii_bytes_is_a_json_400(hostile_runtime):
    # A request target is visible ASCII (RFC 9112); h11 refuses raw Latin-1 bytes as malformed.
    answer = exchange_raw(
        hostile_runtime, "unknown path", [head("GET", "/\u00e9\u00e8", {"Content-Length": "0"})]
    )
    assert_json_error(answer, 400, "bad_request")


# --- garbage in the request line and header block -------------------------------------------------

GARBAGE: dict[str, tuple[bytes, set[int]]] = {
    "binary request line": (b"\x00\x01\x02garbage\r\n\r\n", {400}),
    "a method only": (b"GET\r\n\r\n", {400}),
    # h11 reads any HTTP/d.d version and answers as HTTP/1.1.
    "an unknown HTTP version": (b"GET /health HTTP/9.9\r\n\r\n", {200}),
    "a header line without a colon": (
        b"POST /retrieve HTTP/1.1\r\nHost: x\r\nthis line has no colon\r\nContent-Length: 2\r\n\r\n{}",
        {400},
    ),
    # h11 refuses a header name that is not a token, a NUL in a value, a header block or request line
    # over 16 KB (uvicorn answers 400 where 431/414 would be more precise) and HTTP/1.1 without Host.
    "non-UTF-8 header bytes": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-\xff\xfe: \xc0\xc1\r\n\r\n", {400}),
    "NUL in a header value": (b"GET /nowhere HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", {400}),
    "a 70 KB header line": (b"GET /health HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", {400}),
    "150 headers": (
        b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n",
        {200},
    ),
    "150 headers without Host": (
        b"GET /health HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n",
        {400},
    ),
    "a 70 KB request line": (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", {400}),
    "a folded header": (b"GET /nowhere HTTP/1.1\r\nHost: x\r\nX-A: one\r\n  two\r\n\r\n", {404}),
    "the workspace key header twice": (
        b"POST /client-data HTTP/1.1\r\nHost: x\r\nX-Workspace-Key: a\r\nX-Workspace-Key: b\r\n"
        b"Content-Length: 2\r\n\r\n{}",
        {401},
    ),
}


@pytest.mark.parametrize("name", GARBAGE)
def test_a_garbage_request_gets_a_protocol_answer_and_the_runtime_survives(hostile_runtime, name):
    request, expected = GARBAGE[name]
    answer = raw_answer(hostile_runtime, [request])
    TALLY[("runtime garbage", answer.status)] += 1
    assert answer.status in expected, (answer.status, answer.body[:200])
    if answer.status >= 400:
        assert_json_error(answer, answer.status)
    assert health_status(hostile_runtime.url) == 200


# --- hostile bodies through HTTP, into the filesystem archive -------------------------------------


def test_traversal_ids_over_http_are_encoded_and_never_reach_the_filesystem(hostile_runtime, http):
    transcription = load_fixture("transcription_twilio_inbound")
    initiation = load_fixture("precall_twilio_inbound")
    statuses = []
    for hostile in TRAVERSAL_IDS:
        for path in (("data", "conversation_id"), ("data", "metadata", "phone_call", "external_number")):
            body = json_bytes(with_value(transcription, path, hostile))
            statuses.append(
                (
                    hostile,
                    path[-1],
                    post(http, hostile_runtime, "/post-call", body, signed(hostile_runtime, body)),
                )
            )
        for field in ("caller_id", "call_sid"):
            body = json_bytes(with_value(initiation, (field,), hostile))
            statuses.append(
                (
                    hostile,
                    field,
                    post(http, hostile_runtime, "/client-data", body, workspace(hostile_runtime)),
                )
            )
        response = http.get(
            f"{hostile_runtime.url}/retrieve", params={"query": "dog", "user_id": hostile}, timeout=10
        )
        TALLY[("runtime /retrieve", response.status_code)] += 1
        statuses.append((hostile, "user_id", response))
    # Ids that fit no key are encoded into one safe segment (issue 11): every call starts and every
    # signed event is kept; only a blank search user id names nobody (a 400). The layout check after
    # the module proves nothing landed outside the archive's folders.
    wrong = [
        (h, f, r.status_code)
        for h, f, r in statuses
        if r.status_code != (400 if f == "user_id" and not h.strip() else 200)
        and not (f == "user_id" and len(h) > 256 and r.status_code == 400)
    ]
    assert wrong == []


def test_separators_around_a_number_over_http_land_under_the_clean_number(hostile_runtime, http):
    transcription = load_fixture("transcription_twilio_inbound")
    for index, form in enumerate(NORMALISED_PHONE_FORMS):
        payload = with_value(transcription, ("data", "metadata", "phone_call", "external_number"), form)
        payload = with_value(payload, ("data", "conversation_id"), f"conv_hostile_normalised_{index}")
        body = json_bytes(payload)
        assert (
            post(http, hostile_runtime, "/post-call", body, signed(hostile_runtime, body)).status_code == 200
        )
        archived = (
            hostile_runtime.home / "archive" / "post-call" / CALLER / f"conv_hostile_normalised_{index}.json"
        )
        assert archived.read_bytes() == body


@pytest.mark.parametrize(
    ("path", "body", "credentials"),
    [
        ("/client-data", b'{"agent_id": "a\\ud800", "caller_id": "+15550100142"}', lambda r, b: workspace(r)),
        (
            "/client-data",
            b'{"agent_id": "a", "caller_id": "+15550100142", "conversation_id": "\\udfff"}',
            lambda r, b: workspace(r),
        ),
        ("/retrieve", b'{"query": "\\ud800", "user_id": "+15550100142"}', lambda r, b: {}),
        (
            "/post-call",
            fixture_bytes("transcription_twilio_inbound").replace(b"Biscuit", b"Bis\\ud800cuit", 1),
            signed,
        ),
    ],
    ids=["pre-call agent_id", "pre-call conversation_id", "retrieve query", "post-call transcript"],
)
def test_escaped_lone_surrogates_over_http_get_a_json_answer(hostile_runtime, http, path, body, credentials):
    response = post(http, hostile_runtime, path, body, credentials(hostile_runtime, body))
    assert response.status_code in (200, 400), response.text
    response.json()


# --- many bad requests at once --------------------------------------------------------------------


def request_bytes(
    method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    return (
        head(method, target, {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})})
        + body
    )


def bad_requests(runtime: RuntimeProcess) -> list[tuple[str, list[bytes], int]]:
    """(name, what to send on a connection of its own, the status it must get)."""
    transcription = fixture_bytes("transcription_twilio_inbound")
    unsafe = json_bytes(
        with_value(load_fixture("transcription_twilio_inbound"), ("data", "conversation_id"), "../x")
    )
    return [
        (
            "wrong workspace key",
            [request_bytes("POST", "/client-data", b"{}", {"X-Workspace-Key": "no"})],
            401,
        ),
        ("malformed pre-call", [request_bytes("POST", "/client-data", b"{", workspace(runtime))], 400),
        (
            "forged signature",
            [request_bytes("POST", "/post-call", transcription, {HEADER: "t=1,v0=00"})],
            401,
        ),
        (
            "unsafe conversation id",
            [request_bytes("POST", "/post-call", unsafe, signed(runtime, unsafe))],
            200,  # signed: kept under post-call/other/, never refused (issue 11)
        ),
        # Encoded into a caller of its own, who has no memories (issue 11).
        ("unsafe user id", [request_bytes("GET", "/retrieve?query=q&user_id=..%2F..%2Fx")], 200),
        ("unknown path", [request_bytes("GET", "/nowhere")], 404),
        ("wrong method", [request_bytes("GET", "/post-call")], 405),
        ("announced 7 MB", [head("POST", "/post-call", {"Content-Length": str(7 * MB)})], 413),
        ("malformed chunks", [head("POST", "/retrieve", {"Transfer-Encoding": "chunked"}), b"zz\r\n"], 400),
    ]


def test_many_concurrent_bad_requests_are_each_answered_with_their_status(hostile_runtime):
    cases = bad_requests(hostile_runtime) * 20
    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(
            pool.map(
                lambda case: (case[0], raw_answer(hostile_runtime, case[1], timeout=20).status, case[2]),
                cases,
            )
        )
    for _, status, _ in statuses:
        TALLY[("runtime concurrent", status)] += 1
    wrong = [(name, status, expected) for name, status, expected in statuses if status != expected]
    assert wrong == []
    assert health_status(hostile_runtime.url) == 200


def test_connections_arriving_while_the_runtime_is_busy_wait_in_its_backlog(hostile_runtime):
    # Found here: a listen backlog of 5 (socketserver's default) held 6 waiting connections and dropped
    # the rest, so bursts of clients saw resets or waited for SYN retransmissions.
    # Given the runtime paused, as a busy process would be, so that it accepts no connection for a moment
    waiting: list[socket.socket] = []
    os.kill(hostile_runtime.process.pid, signal.SIGSTOP)
    try:
        # When 20 clients connect one after the other (on loopback a handshake takes microseconds)
        for _ in range(20):
            try:
                waiting.append(socket.create_connection(("127.0.0.1", hostile_runtime.port), timeout=0.2))
            except OSError:
                break  # the kernel dropped the SYN: the listen backlog is full
    finally:
        os.kill(hostile_runtime.process.pid, signal.SIGCONT)
        for sock in waiting:
            sock.close()
    # Then the kernel holds every one of them until the runtime accepts it
    assert len(waiting) == 20, f"only {len(waiting)} connections fit in the listen backlog"
    assert health_status(hostile_runtime.url) == 200


# --- after all of it (keep this test last) --------------------------------------------------------


def test_after_every_hostile_request_the_runtime_is_alive_and_wrote_only_inside_its_folders(hostile_runtime):
    # Then the process still runs and answers its health check
    assert hostile_runtime.alive(), hostile_runtime.output()[-3000:]
    assert health_status(hostile_runtime.url) == 200
    # And nothing appeared beside its home, and the home holds only the runtime's own folders and files
    now = listing(hostile_runtime.sandbox)
    assert {path.split("/")[0] for path in now} == {"home"}
    assert {path.split("/")[1] for path in now if path.count("/") >= 1} <= ALLOWED_IN_HOME
    new = now - hostile_runtime.listing_at_start
    assert all(path.split("/")[1] in WRITABLE_IN_HOME for path in new), sorted(new)[:20]
    # And every archived file sits at a key of the archive layout
    archive = hostile_runtime.home / "archive"
    # (a dot name is a write in progress, never a key: processing may still be writing one now)
    files = [
        p.relative_to(archive).as_posix()
        for p in archive.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    ]
    assert files, "the hostile run archived nothing at all: the checks above would be vacuous"
    assert [problem for key in files if (problem := layout_problem(key))] == []
    # And the queue's spool and the dead-letter folder only name keys of that layout
    records = [p for folder in ("queue", "dead-letter") for p in (hostile_runtime.home / folder).glob("*")]
    assert all(p.is_file() and p.parent.parent == hostile_runtime.home for p in records)
    keys = [json.loads(p.read_text())["key"] for p in records]
    assert [problem for key in keys if (problem := layout_problem(key))] == []
