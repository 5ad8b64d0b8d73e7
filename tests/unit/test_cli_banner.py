"""The banner `make run` prints names the headers the configuration expects."""

from pathlib import Path

from agentic_memory.settings import Settings
from local_runtime.cli import _banner


def test_the_banner_names_the_configured_workspace_key_header(tmp_path: Path) -> None:
    # Given a workspace whose pre-call webhook sends its key in a header of its own naming
    settings = Settings.from_environment(
        {
            "ELEVENLABS_WORKSPACE_KEY": "wsk_test",
            "ELEVENLABS_HMAC_KEY": "hmac_test",
            "AGENTIC_MEMORY_HOME": str(tmp_path),
            "WORKSPACE_KEY_HEADER": "X-Acme-Key",
        }
    )

    # When the runtime prints its banner
    banner = _banner("http://127.0.0.1:8080", settings, [], 1.0)

    # Then the pre-call line names that header
    assert "  pre-call webhook   POST http://127.0.0.1:8080/client-data   (header X-Acme-Key)" in banner
    assert "X-Workspace-Key" not in banner
