"""The archive as files under one directory: the local runtime's stand-in for the S3 bucket.

Keys map to relative paths (``post-call/+15551234567/conv_1.json``). Every write goes to a hidden
temporary file in the target directory first, so a reader or a crash never leaves a half-written
object under a key, and both the file and its directory are fsynced before a write returns: the
post-call webhook answers 200 only once the event is durable.
"""

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from agentic_memory.errors import ArchiveKeyMissing

# Temporary files start with a dot; keys may not, so a temporary file can never be listed as a key.
_TEMP_PREFIX = ".tmp-"
# How often a write re-creates a directory that a concurrent delete() pruned under it.
_WRITE_ATTEMPTS = 3
# Serialises conditional writes (put_if_version); a dot name is never listed as a key.
_LOCK_FILE = ".conditional-writes.lock"


class FilesystemArchive:
    """``Archive`` over a directory. ``content_type`` is not stored: the key's extension carries it.

    Unlike S3, a key cannot also be the folder of other keys (``a`` and ``a/b``); our layout never
    does that. Key segments may not start with a dot, which is reserved for temporary files.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put_new(self, key: str, body: bytes, content_type: str) -> bool:
        target = self._path_for(key)
        temporary = self._write_temporary(target.parent, body)
        try:
            # A hard link fails if the name exists, so exactly one concurrent writer wins; unlike
            # O_EXCL on the final name, readers never see the winner's file before it is complete.
            os.link(temporary, target)
        except FileExistsError:
            return False
        finally:
            temporary.unlink(missing_ok=True)
        _fsync_directory(target.parent)
        return True

    def put(self, key: str, body: bytes, content_type: str) -> None:
        target = self._path_for(key)
        temporary = self._write_temporary(target.parent, body)
        try:
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)

    def get(self, key: str) -> bytes:
        try:
            return self._path_for(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            # A directory or a path through a file is no object in S3 either.
            raise ArchiveKeyMissing(key) from None

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        body = self.get(key)
        return body, _version_of(body)

    def get_if_changed(self, key: str, version: str | None) -> tuple[bytes, str] | None:
        body, current = self.get_versioned(key)
        return None if current == version else (body, current)

    def put_if_version(self, key: str, body: bytes, content_type: str, version: str | None) -> bool:
        """Compare-and-swap on the content's SHA-256, under an exclusive lock on one lock file.

        The lock (``flock``) holds across threads and processes, so the server and an operator
        command rebuilding briefs exclude each other. One lock for the whole archive: its name
        names no caller, and the critical section is one small read and one write.
        """
        target = self._path_for(key)
        with self._exclusive_lock():
            try:
                current: str | None = _version_of(target.read_bytes())
            except (FileNotFoundError, NotADirectoryError):
                current = None
            if current != version:
                return False
            self.put(key, body, content_type)
            return True

    def exists(self, key: str) -> bool:
        return self._path_for(key).is_file()

    def archived_at(self, key: str) -> datetime:
        """When ``key`` was written (the file's modification time, UTC); ArchiveKeyMissing if absent."""
        try:
            return datetime.fromtimestamp(self._path_for(key).stat().st_mtime, tz=UTC)
        except FileNotFoundError:
            raise ArchiveKeyMissing(key) from None

    def keys(self, prefix: str) -> Iterator[str]:
        # Prefixes are plain string prefixes, as in S3: only walk the deepest directory they name.
        directory_part = prefix.rpartition("/")[0]
        start = self._path_for(directory_part) if directory_part else self.root
        if not start.is_dir():
            return iter(())
        found = []
        for directory, subdirectories, files in os.walk(start):
            subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                key = (Path(directory) / name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        # Sorting str by code point gives S3's order (UTF-8 byte order), not the directory walk's.
        return iter(sorted(found))

    def delete(self, key: str) -> None:
        target = self._path_for(key)
        try:
            target.unlink()
        except FileNotFoundError:
            return
        _fsync_directory(self._prune_empty_directories(target.parent))

    @contextlib.contextmanager
    def _exclusive_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.root / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def _path_for(self, key: str) -> Path:
        """The file for ``key``; ValueError for anything that could name a path outside the root.

        Keys are validated by ``archive_keys`` before they get here; this is defence in depth.
        """
        if not key or "\\" in key or "\x00" in key or key.startswith("/"):
            raise ValueError("unsafe archive key")
        for segment in key.split("/"):
            if segment in ("", ".", "..") or segment.startswith("."):
                raise ValueError("unsafe archive key")
        path = self.root / key
        # Catches a symlink inside the root that points elsewhere.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError("archive key resolves outside the archive root")
        return path

    def _write_temporary(self, directory: Path, body: bytes) -> Path:
        descriptor, name = self._create_temporary_file(directory)
        temporary = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(body)
                file.flush()
                os.fsync(file.fileno())
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return temporary

    def _create_temporary_file(self, directory: Path) -> tuple[int, str]:
        # delete() may prune the directory between our mkdir and mkstemp: then create it again.
        for _ in range(_WRITE_ATTEMPTS - 1):
            with contextlib.suppress(FileNotFoundError):
                self._make_directories(directory)
                return tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)
        self._make_directories(directory)
        return tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)

    def _make_directories(self, directory: Path) -> None:
        missing = []
        while not directory.is_dir():
            missing.append(directory)
            directory = directory.parent
        for created in reversed(missing):
            with contextlib.suppress(FileExistsError):
                created.mkdir()
            # A new directory's entry lives in its parent: fsync that too, or a crash can lose it.
            _fsync_directory(created.parent)

    def _prune_empty_directories(self, directory: Path) -> Path:
        """Remove ``directory`` and its ancestors below the root while empty; return the survivor.

        Directories are named after callers: erasing a caller must not leave their number behind.
        """
        root = self.root.resolve()
        while directory.resolve() != root and directory.resolve().is_relative_to(root):
            try:
                directory.rmdir()
            except FileNotFoundError:
                pass  # a concurrent delete pruned it first: carry on upwards
            except OSError:  # not empty: nothing above it is empty either
                return directory
            directory = directory.parent
        return directory


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _version_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
