"""``make clean`` keeps the local data; ``make clean-data`` (or ``make clean DATA=1``) removes it, saying
what, and refuses while a runtime or an operator command holds it."""

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")


def checkout(tmp_path: Path) -> Path:
    """A folder with the Makefile, a venv, a cache and local data (stand-ins, not the real ones)."""
    shutil.copy(MAKEFILE, tmp_path / "Makefile")
    for folder in (".venv/bin", ".pytest_cache", ".agentic-memory/archive/post-call"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / ".agentic-memory/archive/post-call/conv.json").write_text("{}")
    return tmp_path


def make(folder: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"AGENTIC_MEMORY_HOME", "MAKEFLAGS", "DATA"}}
    return subprocess.run(
        ["make", "-s", *targets], cwd=folder, env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_make_clean_removes_the_venv_and_caches_and_keeps_the_data(tmp_path):
    folder = checkout(tmp_path)
    done = make(folder, "clean")
    assert done.returncode == 0, done.stderr
    assert not (folder / ".venv").exists() and not (folder / ".pytest_cache").exists()
    assert (folder / ".agentic-memory/archive/post-call/conv.json").is_file()
    assert f"kept the local data in {folder / '.agentic-memory'}" in done.stdout


@pytest.mark.parametrize("targets", [["clean-data"], ["clean", "DATA=1"]])
def test_asked_for_it_the_data_goes_after_saying_what(tmp_path, targets):
    folder = checkout(tmp_path)
    done = make(folder, *targets)
    assert done.returncode == 0, done.stderr
    assert f"removing the local data in {folder / '.agentic-memory'}" in done.stdout
    assert not (folder / ".agentic-memory").exists()


def test_the_data_of_a_running_runtime_is_not_removed(tmp_path):
    folder = checkout(tmp_path)
    # Given a runtime holding the folder (its lock, as local_runtime/home.py takes it)
    lock = os.open(folder / ".agentic-memory/runtime.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        done = make(folder, "clean-data")
    finally:
        os.close(lock)
    assert done.returncode != 0 and "is in use" in done.stderr
    assert (folder / ".agentic-memory/archive/post-call/conv.json").is_file()
