"""Fixture of the hostile runtime suite: a local runtime in a subprocess inside a sandbox folder of its own.

The hostile keys, the settings with rotation in progress and the tally printed after the run are in
``tests/conftest.py``: the hostile tests of each capability (``conversation_initiation/``,
``search_memory/``, ``post_call/``) use them too."""

from collections.abc import Iterator

import pytest
from hostile_support import HostileKeys
from runtime_support import RuntimeProcess, start_runtime


@pytest.fixture(scope="module")
def hostile_runtime(
    tmp_path_factory: pytest.TempPathFactory, hostile_keys: HostileKeys
) -> Iterator[RuntimeProcess]:
    running = start_runtime(tmp_path_factory.mktemp("hostile-runtime"), hostile_keys)
    yield running
    running.stop()
