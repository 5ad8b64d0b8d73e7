"""The Lambda artifact: one reproducible zip with the application and its locked dependencies.

    python -m infra.packaging build --arch arm64     # or: make package ARCH=arm64
    python -m infra.packaging lock                   # after changing [project].dependencies

No Docker: pip installs the locked manylinux wheels for CPython 3.12 and the chosen architecture
(``--only-binary=:all:``, so nothing is compiled on the build host). The zip is deterministic: sorted
entries, fixed timestamps and permissions, no bytecode, so the same sources and lock give the same
bytes and sha256 on the same machine. Downloads are cached under ``build/``.

The five functions share this one artifact, which carries exactly the application modules their
handlers can import (read statically from the source, see ``infra.import_closure``) and the data
files those modules read: nothing of the local runtime (local_runtime/) or the development tools
(devtools/), which pull in mem0ai and numpy and would multiply the size and the cold start. A handler
that reaches one of them fails the build, naming the import chain.

``ensure_artifact`` (what ``pulumi up`` and ``make package`` run) reuses the last zip when a hash of
its inputs (the lock, the application files that ship, this packaging code, the target) is the one
recorded beside it, and builds otherwise.
"""

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from infra import dependency_lock, import_closure
from infra.dependency_lock import (
    LAMBDA_PLATFORM_TAGS,
    LAMBDA_PYTHON_VERSION,
    LOCK_FILE,
    REPOSITORY,
    Pin,
    canonical,
    pinned_requirements,
    read_lock,
    write_lock,
)
from infra.import_closure import Closure, SourceTree, UnresolvedImport, data_files, find_closure

BUILD_DIR = REPOSITORY / "build"
ARTIFACT_DIR = BUILD_DIR / "lambda"
MAX_UNZIPPED_BYTES = 15_000_000

# (source folder, top-level package) of every first-party package, so that the import closure sees an
# import of any of them. Only the product's (agentic_memory, services) may end up in the artifact.
APPLICATION_PACKAGES = (
    (REPOSITORY / "shared" / "agentic_memory", "agentic_memory"),
    (REPOSITORY / "services", "services"),
    (REPOSITORY / "local_runtime", "local_runtime"),
    (REPOSITORY / "devtools", "devtools"),
)
# Never in the artifact: boto3/botocore come with the Lambda runtime, the rest belong to the local runtime.
FORBIDDEN_DISTRIBUTIONS = frozenset(
    {"boto3", "botocore", "s3transfer", "mem0ai", "numpy", "onnxruntime", "tokenizers", "torch"}
)
HANDLER_MODULES = (
    "services.conversation_initiation.handler",
    "services.search_memory.handler",
    "services.post_call.handler",
    "services.post_call.processor",
    "services.retention.handler",
    # The handler paths of the original layout, kept as aliases for deployments and tests outside this
    # repository that name them (docs/architecture.md, "Names kept from the original system").
    "services.client_data.handler",
    "services.retrieve.handler",
)
# The local runtime and operator CLI, and the development tools (Mem0 emulator, fakes, fixtures): a
# handler reaching one of them is a wiring defect, so the build stops rather than ship it.
NEVER_SHIPPED = ("local_runtime", "devtools")
# What decides the artifact besides the application and the lock: a change here must rebuild it.
PACKAGING_CODE = tuple(Path(str(module.__file__)) for module in (dependency_lock, import_closure)) + (
    Path(__file__),
)

# The earliest date a zip entry can carry; any fixed value makes the archive reproducible.
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_UNIX = 3
_READABLE_FILE = 0o100644


class ArtifactError(RuntimeError):
    """The artifact cannot be built or breaks one of its limits."""


@dataclass(frozen=True)
class Target:
    """Where the artifact will run: the Lambda platform, or this machine's interpreter (for import tests)."""

    name: str
    python_version: str | None
    platforms: tuple[str, ...]
    hash_checked: bool

    @classmethod
    def lambda_runtime(cls, architecture: str) -> "Target":
        if architecture not in LAMBDA_PLATFORM_TAGS:
            raise ArtifactError(
                f"unknown architecture {architecture!r}: use one of {sorted(LAMBDA_PLATFORM_TAGS)}"
            )
        return cls(
            name=f"lambda-py{LAMBDA_PYTHON_VERSION}-{architecture}",
            python_version=LAMBDA_PYTHON_VERSION,
            platforms=LAMBDA_PLATFORM_TAGS[architecture],
            hash_checked=True,
        )

    @classmethod
    def this_interpreter(cls) -> "Target":
        # The lock's hashes are for cp312 manylinux wheels; here the same versions are installed
        # without them, as wheels for the interpreter running the build.
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        return cls(name=f"host-py{version}-{platform}", python_version=None, platforms=(), hash_checked=False)

    def pip_target_options(self) -> list[str]:
        if self.python_version is None:
            return ["--only-binary=:all:"]
        options = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.python_version]
        return options + [option for platform in self.platforms for option in ("--platform", platform)]


@dataclass(frozen=True)
class Artifact:
    """A built zip: ``tree`` is the folder it was made from (left in place by the build that made it),
    ``inputs_sha256`` the hash of what it was built from, ``reused`` true when this run did not build
    it but found it already built from the same inputs."""

    zip_path: Path
    tree: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    file_count: int
    bytes_by_top_level: dict[str, int]
    inputs_sha256: str
    reused: bool

    def report(self) -> str:
        def megabytes(size: int) -> str:
            return f"{size / 1_000_000:.2f} MB"

        largest = sorted(self.bytes_by_top_level.items(), key=lambda item: (-item[1], item[0]))[:10]
        lines = [
            f"Lambda artifact {self.zip_path}",
            f"  sha256    {self.sha256}",
            f"  zipped    {megabytes(self.zipped_bytes)}",
            f"  unzipped  {megabytes(self.unzipped_bytes)} in {self.file_count} files"
            f" (limit {megabytes(MAX_UNZIPPED_BYTES)})",
            "  largest entries (unzipped):",
            *[f"    {name:<40} {megabytes(size):>10}" for name, size in largest],
        ]
        return "\n".join(lines)


def artifact_path(architecture: str, output_dir: Path | None = None) -> Path:
    """Where ``build`` puts the zip for ``architecture``, and where the Pulumi program looks for it."""
    return _zip_path(Target.lambda_runtime(architecture), output_dir or ARTIFACT_DIR)


def inputs_record(zip_path: Path) -> Path:
    """The JSON file beside the zip: ``{"inputs_sha256": ..., "zip_sha256": ...}`` of the last build."""
    return zip_path.with_name(zip_path.name + ".inputs.json")


def ensure_artifact(
    target: Target, output_dir: Path | None = None, say: Callable[[str], None] = print
) -> Artifact:
    """The zip for ``target``: the last one when its inputs are unchanged (and it is the zip recorded
    with them), else a fresh build. ``say`` hears which, in one line each.

    Raises ArtifactError (and LockOutdated) as ``build`` does, even when a zip could be reused.
    """
    output_dir = output_dir or ARTIFACT_DIR
    zip_path = _zip_path(target, output_dir)
    read_lock(LOCK_FILE)  # a lock made for other dependencies is refused, reused zip or not
    files = application_files()
    inputs = inputs_digest(target, files)
    recorded = _read_record(zip_path)
    if not zip_path.is_file():
        why = "no previous build"
    elif recorded.get("inputs_sha256") != inputs:
        why = "inputs changed"
    elif _sha256(zip_path) != recorded.get("zip_sha256"):
        why = "the zip is not the one recorded with these inputs"
    else:
        artifact = _measure(_tree_path(target, output_dir), zip_path, inputs, reused=True)
        say(f"Lambda artifact: reusing {_shown(zip_path)} (inputs unchanged, sha256 {artifact.sha256})")
        return artifact
    say(f"Lambda artifact: building {_shown(zip_path)} for {target.name} ({why})")
    artifact = _build(target, output_dir, files, inputs)
    say(f"Lambda artifact: built {_shown(zip_path)} (sha256 {artifact.sha256})")
    return artifact


def build(target: Target, output_dir: Path | None = None) -> Artifact:
    """Install the locked wheels and the application into a fresh tree, then zip it reproducibly.

    Raises ArtifactError when a handler reaches a module that must never ship or that does not exist,
    when the tree holds a forbidden distribution, or when the zip breaks the size limit.
    """
    files = application_files()
    return _build(target, output_dir or ARTIFACT_DIR, files, inputs_digest(target, files))


def inputs_digest(target: Target, files: Sequence[tuple[Path, str]]) -> str:
    """sha256 over everything a build reads: the target, the lock, the packaging code and ``files``
    (``application_files()``). Each part is labelled and length-prefixed, so no two inputs collide."""
    digest = hashlib.sha256()

    def add(label: str, content: bytes) -> None:
        digest.update(f"{label}\0{len(content)}\0".encode())
        digest.update(content)

    add("target", json.dumps(asdict(target), sort_keys=True).encode())
    add("lock", LOCK_FILE.read_bytes())
    for code in PACKAGING_CODE:
        add(f"packaging/{code.name}", code.read_bytes())
    for source, inside in files:
        add(f"application/{inside}", source.read_bytes())
    return digest.hexdigest()


def _zip_path(target: Target, output_dir: Path) -> Path:
    return output_dir / f"agentic-memory-{target.name}.zip"


def _tree_path(target: Target, output_dir: Path) -> Path:
    return output_dir / f"{target.name}-tree"


def _read_record(zip_path: Path) -> dict[str, str]:
    try:
        recorded = json.loads(inputs_record(zip_path).read_text())
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _shown(path: Path) -> str:
    return str(path.relative_to(REPOSITORY)) if path.is_relative_to(REPOSITORY) else str(path)


def _build(target: Target, output_dir: Path, files: Sequence[tuple[Path, str]], inputs: str) -> Artifact:
    pins = read_lock(LOCK_FILE)
    output_dir.mkdir(parents=True, exist_ok=True)
    requirements = output_dir / f"{target.name}-requirements.txt"
    requirements.write_text(pinned_requirements(pins, with_hashes=target.hash_checked))

    wheelhouse = _fetch_wheels(target, pins, requirements)
    tree = _tree_path(target, output_dir)
    shutil.rmtree(tree, ignore_errors=True)
    _install_wheels(target, requirements, wheelhouse, tree)
    _copy_application(files, tree)
    _prune(tree)
    _refuse_forbidden(tree)

    zip_path = _zip_path(target, output_dir)
    _write_zip(tree, zip_path)
    artifact = _measure(tree, zip_path, inputs, reused=False)
    if artifact.unzipped_bytes > MAX_UNZIPPED_BYTES:
        raise ArtifactError(
            f"artifact is {artifact.unzipped_bytes} bytes unzipped, over {MAX_UNZIPPED_BYTES}"
        )
    record = {"inputs_sha256": inputs, "zip_sha256": artifact.sha256}
    inputs_record(zip_path).write_text(json.dumps(record, indent=2) + "\n")
    return artifact


def _pip(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *arguments], check=True)


def _fetch_wheels(target: Target, pins: Sequence[Pin], requirements: Path) -> Path:
    """Download the wheels once into build/wheelhouse/<target>; later builds reuse them offline."""
    wheelhouse = BUILD_DIR / "wheelhouse" / target.name
    wheelhouse.mkdir(parents=True, exist_ok=True)
    if not all(_has_wheel(wheelhouse, pin, target.hash_checked) for pin in pins):
        _pip(
            "download", "--quiet", "--no-deps", "--cache-dir", str(BUILD_DIR / "pip-cache"),
            "--dest", str(wheelhouse), "-r", str(requirements), *target.pip_target_options(),
        )  # fmt: skip
    return wheelhouse


def _has_wheel(wheelhouse: Path, pin: Pin, hash_checked: bool) -> bool:
    for wheel in wheelhouse.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        same_release = canonical(name) == pin.canonical_name and version == pin.version
        if same_release and (
            not hash_checked or hashlib.sha256(wheel.read_bytes()).hexdigest() in pin.sha256
        ):
            return True
    return False


def _install_wheels(target: Target, requirements: Path, wheelhouse: Path, tree: Path) -> None:
    _pip(
        "install", "--quiet", "--no-index", "--find-links", str(wheelhouse), "--no-deps", "--no-compile",
        "--target", str(tree), "-r", str(requirements), *target.pip_target_options(),
    )  # fmt: skip


# (source folder, package name) pairs; None stands for APPLICATION_PACKAGES, read when called.
Packages = Sequence[tuple[Path, str]] | None


def application_tree(packages: Packages = None) -> SourceTree:
    return SourceTree({package: source for source, package in packages or APPLICATION_PACKAGES})


def handler_closure(handlers: Sequence[str] = HANDLER_MODULES, packages: Packages = None) -> Closure:
    """Every application module the handlers can import (see ``infra.import_closure``).

    Raises ArtifactError when one of them is NEVER_SHIPPED, naming the chain ``handler → … → module``,
    or when an import names an application module that does not exist.
    """
    try:
        closure = find_closure(application_tree(packages), handlers)
    except UnresolvedImport as error:
        raise ArtifactError(str(error)) from error
    refused = sorted(
        m for m in closure.modules if any(m == n or m.startswith(n + ".") for n in NEVER_SHIPPED)
    )
    if refused:
        chains = "\n".join("  " + " → ".join(closure.chain(module)) for module in refused)
        raise ArtifactError(f"the handlers reach modules that must never ship:\n{chains}")
    return closure


def application_files(
    handlers: Sequence[str] = HANDLER_MODULES, packages: Packages = None
) -> list[tuple[Path, str]]:
    """(source file, path inside the artifact) for every application file that ships, sorted: the
    modules of ``handler_closure`` and the data files they read. Raises ArtifactError as it does."""
    tree = application_tree(packages)
    modules = handler_closure(handlers, packages).modules
    sources = [source for module in modules if (source := tree.source(module)) is not None]
    return sorted(((path, tree.inside(path)) for path in {*sources, *data_files(tree, modules)}), key=_inside)


def _inside(file: tuple[Path, str]) -> str:
    return file[1]


def _copy_application(files: Sequence[tuple[Path, str]], tree: Path) -> None:
    for source, inside in files:
        destination = tree / inside
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def _prune(tree: Path) -> None:
    # Console scripts carry the build host's interpreter path in their shebang; Lambda never runs them.
    shutil.rmtree(tree / "bin", ignore_errors=True)
    for cache in sorted(tree.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)
    for compiled in [*tree.rglob("*.pyc"), *tree.rglob("*.pyo")]:
        compiled.unlink()


def _refuse_forbidden(tree: Path) -> None:
    present = {canonical(path.name.split("-")[0]) for path in tree.glob("*.dist-info")}
    present |= {canonical(path.name) for path in tree.iterdir() if path.is_dir()}
    found = sorted(present & FORBIDDEN_DISTRIBUTIONS)
    if found:
        raise ArtifactError(f"the artifact must not contain {', '.join(found)}")


def _tree_files(tree: Path) -> list[tuple[str, Path]]:
    return sorted((path.relative_to(tree).as_posix(), path) for path in tree.rglob("*") if path.is_file())


def _write_zip(tree: Path, zip_path: Path) -> None:
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for inside, path in _tree_files(tree):
            entry = zipfile.ZipInfo(inside, date_time=_ZIP_TIMESTAMP)
            entry.create_system = _UNIX
            # Lambda runs the code as another user: every file must be world-readable.
            entry.external_attr = _READABLE_FILE << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes(), compresslevel=9)
    partial.replace(zip_path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _measure(tree: Path, zip_path: Path, inputs: str, reused: bool) -> Artifact:
    # Read from the zip itself, so that a reused artifact is measured the same way as a fresh one.
    with zipfile.ZipFile(zip_path) as archive:
        entries = [entry for entry in archive.infolist() if not entry.is_dir()]
    by_top_level: dict[str, int] = {}
    for entry in entries:
        top = entry.filename.split("/")[0]
        by_top_level[top] = by_top_level.get(top, 0) + entry.file_size
    return Artifact(
        zip_path=zip_path,
        tree=tree,
        sha256=_sha256(zip_path),
        zipped_bytes=zip_path.stat().st_size,
        unzipped_bytes=sum(by_top_level.values()),
        file_count=len(entries),
        bytes_by_top_level=by_top_level,
        inputs_sha256=inputs,
        reused=reused,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.packaging", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    build_command = commands.add_parser(
        "build", help="build the Lambda zip, or reuse the last one if its inputs are unchanged (the default)"
    )
    build_command.add_argument("--arch", choices=sorted(LAMBDA_PLATFORM_TAGS), default="arm64")
    build_command.add_argument(
        "--this-interpreter", action="store_true", help="build for this machine instead (import tests)"
    )
    commands.add_parser(
        "lock", help="re-resolve pyproject.toml's dependencies into infra/lambda-requirements.lock"
    )
    arguments = parser.parse_args(argv)

    try:
        if arguments.command == "lock":
            pins = write_lock()
            print(f"locked {len(pins)} distributions: {', '.join(f'{p.name}=={p.version}' for p in pins)}")
            return 0
        architecture = getattr(arguments, "arch", "arm64")
        this_interpreter = getattr(arguments, "this_interpreter", False)
        target = Target.this_interpreter() if this_interpreter else Target.lambda_runtime(architecture)
        print(ensure_artifact(target).report())
        return 0
    except (ArtifactError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
