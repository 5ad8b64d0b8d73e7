"""What the Lambda python3.12 runtime gives a function: the interpreter, its SDK, and the artifact.

- **The interpreter.** CPython 3.12, the runtime's version, found under pyenv (or on ``PATH``, or
  named by ``STACK_IN_A_BOX_PYTHON``) and checked by running it. Where it is absent the suite fails
  and says how to get it: running the handlers on the development interpreter would prove the code,
  not the product.
- **The runtime's SDK.** The python3.12 runtime ships boto3/botocore; the artifact must not carry
  them (infra.packaging refuses them). Installed once into ``build/stack-in-a-box/`` with the
  runtime's own pip, so reruns are offline.
- **The artifact.** Built by ``infra.packaging`` from the same lock as a deployment, for this
  machine's architecture (the stacks deploy arm64; the lock pins the same versions for both), and
  unzipped as Lambda does into the task root.
"""

import os
import platform
import shutil
import subprocess
import zipfile
from pathlib import Path

from infra import packaging
from infra.graph import REPOSITORY

BOX_BUILD_DIR = REPOSITORY / "build" / "stack-in-a-box"
# The boto3/botocore the Lambda python3.12 runtime includes. AWS lists them per runtime under
# "Runtime-included SDK versions" at https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html;
# update this pin when that page does.
LAMBDA_RUNTIME_SDK_VERSION = "1.40.4"
LAMBDA_PYTHON = "3.12"
PYTHON_OVERRIDE_VARIABLE = "STACK_IN_A_BOX_PYTHON"
_ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


class RuntimeUnavailable(RuntimeError):
    """The Lambda runtime cannot be reproduced on this machine; the message says what is missing."""


def host_architecture() -> str:
    machine = platform.machine().lower()
    if machine not in _ARCHITECTURES:
        raise RuntimeUnavailable(f"Lambda runs on x86_64 or arm64, not on this {machine} machine")
    return _ARCHITECTURES[machine]


def find_python312() -> Path:
    """The first candidate that really is CPython 3.12: the override, pyenv's versions, then ``PATH``."""
    candidates, places = _python_candidates()
    for candidate in candidates:
        if _is_python312(candidate):
            return candidate
    tried = ", ".join(str(c) for c in candidates) or "no candidate"
    raise RuntimeUnavailable(
        "the stack-in-a-box suite runs the functions on CPython 3.12, the Lambda runtime's version, and "
        f"found none. Looked in {'; '.join(places)} (tried: {tried}). Install it (`pyenv install 3.12`, "
        f"or the distribution's python3.12) or point {PYTHON_OVERRIDE_VARIABLE} at a python3.12 executable."
    )


def _python_candidates() -> tuple[list[Path], list[str]]:
    candidates: list[Path] = []
    places: list[str] = []
    if os.environ.get(PYTHON_OVERRIDE_VARIABLE):
        candidates.append(Path(os.environ[PYTHON_OVERRIDE_VARIABLE]))
        places.append(f"${PYTHON_OVERRIDE_VARIABLE}")
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    # Newest 3.12 patch release first: versions/3.12.10 sorts after 3.12.9 by its numbers.
    versions = sorted(
        (pyenv_root / "versions").glob(f"{LAMBDA_PYTHON}.*"),
        key=lambda path: [int(part) if part.isdigit() else -1 for part in path.name.split(".")],
        reverse=True,
    )
    candidates += [version / "bin" / f"python{LAMBDA_PYTHON}" for version in versions]
    places.append(f"{pyenv_root}/versions/{LAMBDA_PYTHON}.*")
    on_path = shutil.which(f"python{LAMBDA_PYTHON}")
    if on_path:
        candidates.append(Path(on_path))
    places.append(f"python{LAMBDA_PYTHON} on PATH")
    return candidates, places


def _is_python312(executable: Path) -> bool:
    if not executable.is_file():
        return False
    try:
        reported = subprocess.run(
            [
                str(executable),
                "-I",
                "-S",
                "-c",
                "import sys; print(sys.implementation.name, *sys.version_info[:2])",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return False
    return reported == ["cpython", *LAMBDA_PYTHON.split(".")]


def install_runtime_sdk(python: Path) -> Path:
    """boto3/botocore as the runtime ships them, in a folder of their own (installed once)."""
    target = BOX_BUILD_DIR / f"lambda-runtime-sdk-{LAMBDA_RUNTIME_SDK_VERSION}"
    done = target / ".installed"
    if done.is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    command = [
        str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--only-binary=:all:", "--cache-dir", str(REPOSITORY / "build" / "pip-cache"),
        "--target", str(target),
        f"boto3=={LAMBDA_RUNTIME_SDK_VERSION}", f"botocore=={LAMBDA_RUNTIME_SDK_VERSION}",
    ]  # fmt: skip
    installed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if installed.returncode != 0:
        raise RuntimeUnavailable(
            f"could not install the Lambda runtime's SDK (boto3=={LAMBDA_RUNTIME_SDK_VERSION}) with "
            f"{python} -m pip:\n{installed.stderr[-2000:]}"
        )
    shutil.rmtree(target / "bin", ignore_errors=True)
    done.write_text(f"boto3=={LAMBDA_RUNTIME_SDK_VERSION}\nbotocore=={LAMBDA_RUNTIME_SDK_VERSION}\n")
    return target


def build_artifact(architecture: str) -> packaging.Artifact:
    """The deployment zip for ``architecture``, built as ``make package`` builds it."""
    return packaging.build(packaging.Target.lambda_runtime(architecture), output_dir=BOX_BUILD_DIR / "lambda")


def unzip_task_root(artifact: packaging.Artifact, task_root: Path) -> Path:
    """The zip's contents where Lambda puts them (``/var/task``); nothing else is on the code path."""
    with zipfile.ZipFile(artifact.zip_path) as archive:
        archive.extractall(task_root)
    # Read-only, as /var/task is: nothing a function does may depend on writing beside its code.
    for path in sorted(task_root.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    task_root.chmod(0o555)
    return task_root
