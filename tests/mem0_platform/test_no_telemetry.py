"""The store in a fresh interpreter, as a Lambda would load it: it imports no SDK and no telemetry,
and every connection it opens goes to the configured base URL."""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    connects = []
    def audit(event, args):
        if event == "socket.connect":
            connects.append(repr(args[1]))
    sys.addaudithook(audit)

    from agentic_memory.adapters.mem0_platform import Mem0PlatformStore
    at_import = [name for name in ("urllib3", "http.client", "ssl") if name in sys.modules]
    from devtools.mem0_emulator import start_emulator
    from agentic_memory.ports import ChatMessage

    emulator = start_emulator(api_keys=["m0-key-for-this-run"])
    store = Mem0PlatformStore("m0-key-for-this-run", emulator.url)
    store.add("+15550142001", [ChatMessage(role="user", content="My dog is Biscuit")], {"type": "semantic"})
    store.search("+15550142001", "dog", 3)
    store.list_all("+15550142001")
    store.delete_all("+15550142001")
    emulator.stop()
    heavy = ("mem0", "posthog", "httpx", "requests", "boto3", "pydantic_settings")
    print(json.dumps({
        "port": emulator.port,
        "at_import": at_import,
        "urllib3": "urllib3" in sys.modules,
        "connects": connects,
        "loaded": [name for name in heavy if name in sys.modules],
        "threads": [t.name for t in threading.enumerate() if "posthog" in t.name.lower()],
    }))
    """
)


def test_the_store_sends_nothing_but_its_own_requests():
    # When the store runs its four operations in a fresh interpreter
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # Then it opened connections only to the emulator on loopback (one, kept alive)
    assert report["connects"] == [repr(("127.0.0.1", report["port"]))]
    # And loaded no SDK, no telemetry client and no third-party HTTP stack but its own (urllib3)
    assert report["loaded"] == []
    assert report["urllib3"]
    # And importing the store loaded no HTTP stack at all: the first call (or prepare()) does
    assert report["at_import"] == []
    assert report["threads"] == []
