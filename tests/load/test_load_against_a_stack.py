"""``make load HOST=…`` refuses what cannot be a stack's load test before any traffic: a HOST that is
not a URL, a stack that demands the tool key when none is given. The made-up callers it would use are
the ones it lists for clean-up."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import run_load
import scenarios

KEYS = {"ELEVENLABS_WORKSPACE_KEY": "wsk_test", "ELEVENLABS_HMAC_KEY": "whsec_test"}


class _ToolKeyRequired(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": "unauthorized", "detail": "missing X-Tool-Key header"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stack_requiring_the_tool_key() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ToolKeyRequired)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def stack_keys_without_pulumi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("ELEVENLABS_TOOL_KEY", raising=False)
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    "host", ["abc123.execute-api.eu-west-1.amazonaws.com", "ftp://example.com", "https://"]
)
def test_a_host_that_is_not_a_url_is_refused(tmp_path, capsys, stack_keys_without_pulumi, host):
    status = run_load.main(["--host", host, "--results-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("make load: HOST must be the stack's API URL, https://") and repr(host) in err


def test_a_stack_that_demands_the_tool_key_is_refused_without_one(
    tmp_path, capsys, stack_keys_without_pulumi, stack_requiring_the_tool_key
):
    status = run_load.main(
        ["--host", stack_requiring_the_tool_key, "--stack", "staging", "--results-dir", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "demands X-Tool-Key" in err and "pulumi config get -s staging elevenlabs:toolKey" in err
    assert not list(tmp_path.rglob("callers.txt")), "refused before any caller was made up"


def test_the_listed_callers_are_the_ones_the_pool_draws():
    listed = set(run_load.caller_numbers(seed=4242, size=50))
    pool = scenarios.CallerPool(size=50, seed=4242)
    drawn = {pool.pick(returning_ratio=0) for _ in range(500)}
    assert drawn <= listed and len(listed) == 50
    assert all(number.startswith("+1555") for number in listed)
