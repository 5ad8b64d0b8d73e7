"""The Lambda artifact: one reproducible zip with the application and its locked dependencies.

    python -m infra.packaging build --arch arm64     # or: make package ARCH=arm64
    python -m infra.packaging lock                   # after changing [project].dependencies

No Docker: pip installs the locked manylinux wheels for CPython 3.12 and the chosen architecture
(``--only-binary=:all:``, so nothing is compiled on the build host). The zip is deterministic: sorted
entries, fixed timestamps and permissions, no bytecode, so the same sources and lock give the same
bytes and sha256 on the same machine. Downloads are cached under ``build/``.

The four functions share this one artifact; each handler imports only its own graph. The
local-runtime modules (embedded Mem0, ONNX embedder, the local server) are left out: they pull in
mem0ai and numpy, which would multiply the size and the cold start.
"""

import argparse
import hashlib
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.dependency_lock import (
    LAMBDA_PLATFORM_TAGS,
    LAMBDA_PYTHON_VERSION,
    REPOSITORY,
    Pin,
    canonical,
    pinned_requirements,
    read_lock,
    write_lock,
)

BUILD_DIR = REPOSITORY / "build"
ARTIFACT_DIR = BUILD_DIR / "lambda"
MAX_UNZIPPED_BYTES = 15_000_000

# (source folder, name of the package inside the artifact)
APPLICATION_PACKAGES = (
    (REPOSITORY / "shared" / "agentic_memory", "agentic_memory"),
    (REPOSITORY / "services", "services"),
)
# The local runtime only: these import mem0ai, numpy, onnxruntime and tokenizers.
EXCLUDED_APPLICATION_PATHS = (
    "agentic_memory/local/",
    "agentic_memory/adapters/mem0_local.py",
    "agentic_memory/adapters/embedding/",
)
# Never in the artifact: boto3/botocore come with the Lambda runtime, the rest belong to the local runtime.
FORBIDDEN_DISTRIBUTIONS = frozenset(
    {"boto3", "botocore", "s3transfer", "mem0ai", "numpy", "onnxruntime", "tokenizers", "torch"}
)
HANDLER_MODULES = (
    "services.client_data.handler",
    "services.retrieve.handler",
    "services.post_call.handler",
    "services.post_call.processor",
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
    zip_path: Path
    tree: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    file_count: int
    bytes_by_top_level: dict[str, int]

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
    return (output_dir or ARTIFACT_DIR) / f"agentic-memory-{Target.lambda_runtime(architecture).name}.zip"


def build(target: Target, output_dir: Path | None = None) -> Artifact:
    """Install the locked wheels and the application into a fresh tree, then zip it reproducibly."""
    output_dir = output_dir or ARTIFACT_DIR
    pins = read_lock()
    output_dir.mkdir(parents=True, exist_ok=True)
    requirements = output_dir / f"{target.name}-requirements.txt"
    requirements.write_text(pinned_requirements(pins, with_hashes=target.hash_checked))

    wheelhouse = _fetch_wheels(target, pins, requirements)
    tree = output_dir / f"{target.name}-tree"
    shutil.rmtree(tree, ignore_errors=True)
    _install_wheels(target, requirements, wheelhouse, tree)
    _copy_application(tree)
    _prune(tree)
    _refuse_forbidden(tree)

    zip_path = output_dir / f"agentic-memory-{target.name}.zip"
    _write_zip(tree, zip_path)
    artifact = _measure(tree, zip_path)
    if artifact.unzipped_bytes > MAX_UNZIPPED_BYTES:
        raise ArtifactError(
            f"artifact is {artifact.unzipped_bytes} bytes unzipped, over {MAX_UNZIPPED_BYTES}"
        )
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


def application_files() -> Iterator[tuple[Path, str]]:
    """(source file, path inside the artifact) for every application file that ships."""
    for source_dir, package in APPLICATION_PACKAGES:
        for path in sorted(source_dir.rglob("*")):
            inside = f"{package}/{path.relative_to(source_dir).as_posix()}"
            if path.is_file() and not _is_cache(inside) and not inside.startswith(EXCLUDED_APPLICATION_PATHS):
                yield path, inside


def _is_cache(path: str) -> bool:
    return "__pycache__/" in path or path.endswith((".pyc", ".pyo"))


def _copy_application(tree: Path) -> None:
    for source, inside in application_files():
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


def _measure(tree: Path, zip_path: Path) -> Artifact:
    files = _tree_files(tree)
    by_top_level: dict[str, int] = {}
    for inside, path in files:
        top = inside.split("/")[0]
        by_top_level[top] = by_top_level.get(top, 0) + path.stat().st_size
    return Artifact(
        zip_path=zip_path,
        tree=tree,
        sha256=hashlib.sha256(zip_path.read_bytes()).hexdigest(),
        zipped_bytes=zip_path.stat().st_size,
        unzipped_bytes=sum(by_top_level.values()),
        file_count=len(files),
        bytes_by_top_level=by_top_level,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.packaging", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    build_command = commands.add_parser("build", help="build the Lambda zip (the default)")
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
        print(build(target).report())
        return 0
    except (ArtifactError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
