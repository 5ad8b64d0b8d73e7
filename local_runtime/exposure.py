"""What ``serve`` exposes beyond this machine: off loopback, ``/retrieve`` needs a tool key.

Without ``ELEVENLABS_TOOL_KEY`` the search tool answers anyone who names a caller with that caller's
memories. On 127.0.0.1 only this machine can ask; on 0.0.0.0 (``make run BIND=0.0.0.0``) the whole
network can, so ``serve`` refuses unless the operator says so with ``--allow-open-retrieve``.
"""

import ipaddress

ALLOW_FLAG = "--allow-open-retrieve"


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def open_retrieve_refusal(host: str, tool_key_set: bool, allowed: bool) -> str | None:
    """Why ``serve`` must not start on ``host``, in one line; None when it may."""
    if is_loopback(host) or tool_key_set or allowed:
        return None
    return (
        f"refusing to serve on {host} without ELEVENLABS_TOOL_KEY: /retrieve would give any caller's "
        f"memories to anyone on the network; set ELEVENLABS_TOOL_KEY (ElevenLabs sends it as X-Tool-Key), "
        f"or pass {ALLOW_FLAG} (make run ALLOW_OPEN_RETRIEVE=1) to serve it open"
    )
