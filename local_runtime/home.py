"""The local data folder (``$AGENTIC_MEMORY_HOME``): where it is by default, and who may use it.

**Where.** Unset, it is the repository's ``.agentic-memory`` when the package runs from a checkout
(``make install`` installs it editable), else the per-user data folder
(``$XDG_DATA_HOME/agentic-memory``, by default ``~/.local/share/agentic-memory``). Either way it is an
absolute path fixed by the installation, not by the working directory, so an operator command run
anywhere reaches the runtime's data. A relative ``AGENTIC_MEMORY_HOME`` is resolved once, at start.

**Who.** One process at a time: the runtime for its whole life, or an operator command that opens the
data itself. Embedded Qdrant locks its own folder too, but a second runtime would start without memory
and take over ``runtime.json``. The holder takes ``fcntl.flock`` on ``runtime.lock`` (released by the
kernel when the process dies, so a runtime killed with SIGKILL leaves nothing stale behind) and writes
its pid and command there; the runtime's URL is in ``runtime.json`` (``admin.announce``).
"""

import contextlib
import fcntl
import json
import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

HOME_VARIABLE = "AGENTIC_MEMORY_HOME"
LOCK_FILE = "runtime.lock"
# What a runtime or an operator command leaves in the home once it has stored anything.
DATA_FOLDERS = ("archive", "memory")


def default_home() -> Path:
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "local_runtime").is_dir():
        return checkout / ".agentic-memory"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser().resolve() / "agentic-memory"


def adopt_home(environ: MutableMapping[str, str]) -> Path:
    """Make ``AGENTIC_MEMORY_HOME`` absolute in ``environ`` (the default when unset) and return it, so
    that every part of the command (settings, keys, the console) reads the same folder."""
    given = environ.get(HOME_VARIABLE)
    home = Path(given).expanduser().resolve() if given else default_home()
    environ[HOME_VARIABLE] = str(home)
    return home


def home_from(environ: MutableMapping[str, str] | None = None) -> Path:
    given = (os.environ if environ is None else environ).get(HOME_VARIABLE)
    return Path(given).expanduser().resolve() if given else default_home()


def has_local_data(home: Path) -> bool:
    """Whether a runtime or a command has ever stored anything in ``home``."""
    return any((home / folder).is_dir() for folder in DATA_FOLDERS)


@dataclass(frozen=True)
class Holder:
    """Who holds a home: its pid, its command (``serve``, ``agentic-memory forget``) and, for a
    runtime that is ready, its URL."""

    pid: int | None
    command: str
    url: str | None

    def describe(self) -> str:
        what = "a runtime" if self.command == "serve" else f"`{self.command}`"
        where = f", {self.url}" if self.url else (", starting" if self.command == "serve" else "")
        return f"{what} (pid {self.pid if self.pid is not None else '?'}{where})"


class HomeInUse(Exception):
    def __init__(self, home: Path, holder: Holder) -> None:
        super().__init__(f"{home} is in use by {holder.describe()}")
        self.home = home
        self.holder = holder


class HomeLock:
    """The exclusive use of a home, until ``release`` (or the process's end)."""

    def __init__(self, home: Path, descriptor: int) -> None:
        self.home = home
        self._descriptor: int | None = descriptor

    @classmethod
    def acquire(cls, home: Path, command: str) -> "HomeLock":
        """Take ``home`` for ``command``; ``HomeInUse`` naming the holder when another process has it."""
        home.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise HomeInUse(home, holder_of(home)) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, json.dumps({"pid": os.getpid(), "command": command}).encode())
        return cls(home, descriptor)

    def release(self) -> None:
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is not None:
            os.close(descriptor)  # closing the descriptor releases the lock


def in_use(home: Path) -> Holder | None:
    """The holder of ``home``, or None when nobody holds it (a ``runtime.json`` there is then stale)."""
    path = home / LOCK_FILE
    if not path.is_file():
        return None
    descriptor = os.open(path, os.O_RDONLY)
    try:
        # A shared lock is granted only while no process holds the exclusive one.
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return holder_of(home)
    finally:
        os.close(descriptor)
    return None


def holder_of(home: Path) -> Holder:
    """What the holder wrote in the lock file, with the URL from ``runtime.json`` when it is the same
    process's (the file may be from an earlier runtime)."""
    found: dict[str, object] = {}
    with contextlib.suppress(OSError, ValueError):
        found = json.loads((home / LOCK_FILE).read_text())
    pid = found.get("pid") if isinstance(found.get("pid"), int) else None
    url = None
    with contextlib.suppress(OSError, ValueError, AttributeError):
        announced = json.loads((home / "runtime.json").read_text())
        if pid is not None and announced.get("pid") == pid:
            url = str(announced["url"])
    return Holder(pid=pid if isinstance(pid, int) else None, command=str(found.get("command", "?")), url=url)
