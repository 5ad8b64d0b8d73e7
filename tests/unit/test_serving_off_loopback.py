"""``serve`` off loopback: /retrieve would give callers' memories to the network without a tool key."""

import pytest

from local_runtime.exposure import ALLOW_FLAG, is_loopback, open_retrieve_refusal


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses_serve_without_a_tool_key(host):
    assert is_loopback(host)
    assert open_retrieve_refusal(host, tool_key_set=False, allowed=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "my-laptop.local"])
def test_any_other_address_needs_a_tool_key_or_the_explicit_flag(host):
    # Without either, serve refuses, naming the key and the flag
    refusal = open_retrieve_refusal(host, tool_key_set=False, allowed=False)
    assert refusal is not None and "ELEVENLABS_TOOL_KEY" in refusal and ALLOW_FLAG in refusal
    # With a tool key, or the operator's explicit flag, it serves
    assert open_retrieve_refusal(host, tool_key_set=True, allowed=False) is None
    assert open_retrieve_refusal(host, tool_key_set=False, allowed=True) is None
