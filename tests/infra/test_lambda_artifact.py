"""The Lambda artifact: locked, reproducible, small, without the local runtime, and importable.

The ``integration`` tests build real artifacts with pip (wheels come from the package index the
first time, then from build/wheelhouse). The Lambda build targets CPython 3.12 on manylinux, which
cannot be imported here, so the import test builds the same way for this machine's interpreter.
"""

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import packaging
from infra.dependency_lock import (
    LOCK_FILE,
    PYPROJECT,
    LockOutdated,
    canonical,
    declared_dependencies,
    parse_pins,
    read_lock,
)
from infra.packaging import (
    EXCLUDED_APPLICATION_PATHS,
    FORBIDDEN_DISTRIBUTIONS,
    HANDLER_MODULES,
    MAX_UNZIPPED_BYTES,
    Target,
    application_files,
)

LOCAL_ONLY_IMPORTS = ("mem0", "numpy", "onnxruntime", "tokenizers", "torch", "qdrant_client", "boto3")


def requirement_name(requirement: str) -> str:
    return canonical(
        requirement.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip()
    )


def test_the_lock_pins_every_declared_dependency_with_hashes():
    pins = {pin.canonical_name: pin for pin in read_lock()}
    for requirement in declared_dependencies():
        assert requirement_name(requirement) in pins
    assert all(pin.sha256 for pin in pins.values()), "every pin is hash-checked"
    # pydantic-core is the one compiled wheel: one hash per Lambda architecture.
    assert len(pins["pydantic-core"].sha256) == 2
    assert not FORBIDDEN_DISTRIBUTIONS & set(pins)


def test_a_lock_made_for_other_dependencies_is_refused(tmp_path):
    changed = tmp_path / "pyproject.toml"
    changed.write_text(PYPROJECT.read_text().replace('"pydantic>=2.7,<3"', '"pydantic>=2.8,<3"'))
    assert changed.read_text() != PYPROJECT.read_text()
    with pytest.raises(LockOutdated, match="python -m infra.packaging lock"):
        read_lock(LOCK_FILE, changed)


def test_pins_parse_from_pips_hash_format():
    text = "a-b==1.0 \\\n    --hash=sha256:" + "0" * 64 + " \\\n    --hash=sha256:" + "1" * 64 + "\nc==2\n"
    pins = parse_pins(text)
    assert [(p.name, p.version, len(p.sha256)) for p in pins] == [("a-b", "1.0", 2), ("c", "2", 0)]


def test_the_lambda_target_asks_pip_for_cp312_manylinux_wheels_only():
    options = Target.lambda_runtime("arm64").pip_target_options()
    assert "--only-binary=:all:" in options
    assert options[options.index("--python-version") + 1] == "3.12"
    assert options[options.index("--implementation") + 1] == "cp"
    # Both tags: with one alone pip silently picks old releases or a placeholder wheel.
    platforms = [options[i + 1] for i, option in enumerate(options) if option == "--platform"]
    assert platforms == ["manylinux2014_aarch64", "manylinux_2_28_aarch64"]
    assert "manylinux2014_x86_64" in Target.lambda_runtime("x86_64").pip_target_options()
    with pytest.raises(packaging.ArtifactError):
        Target.lambda_runtime("riscv")


def test_application_files_leave_out_the_local_runtime_and_caches():
    shipped = [inside for _, inside in application_files()]
    assert "services/client_data/handler.py" in shipped
    assert "agentic_memory/adapters/ssm_parameters.py" in shipped
    assert not [path for path in shipped if path.startswith(EXCLUDED_APPLICATION_PATHS)]
    assert not [path for path in shipped if "__pycache__" in path or path.endswith(".pyc")]
    assert not [path for path in shipped if path.endswith("minilm_tokenizer.json")]


def test_the_zip_is_byte_for_byte_reproducible(tmp_path):
    # Given the same files written at different times, in different orders
    for tree, names in ((tmp_path / "one", ["b.py", "a/c.py"]), (tmp_path / "two", ["a/c.py", "b.py"])):
        for name in names:
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).write_text(f"# {name}\n")
    # When both are zipped
    packaging._write_zip(tmp_path / "one", tmp_path / "one.zip")
    packaging._write_zip(tmp_path / "two", tmp_path / "two.zip")
    # Then the archives are identical, sorted, with fixed dates and world-readable files
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        entries = archive.infolist()
    assert [e.filename for e in entries] == ["a/c.py", "b.py"]
    assert {e.date_time for e in entries} == {(1980, 1, 1, 0, 0, 0)}
    assert {e.external_attr >> 16 for e in entries} == {0o100644}


# --- real builds --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def lambda_artifact(tmp_path_factory):
    return packaging.build(Target.lambda_runtime("arm64"), tmp_path_factory.mktemp("lambda-arm64"))


@pytest.fixture(scope="session")
def host_artifact(tmp_path_factory):
    return packaging.build(Target.this_interpreter(), tmp_path_factory.mktemp("host"))


@pytest.mark.integration
def test_the_same_inputs_build_the_same_bytes(lambda_artifact, tmp_path):
    again = packaging.build(Target.lambda_runtime("arm64"), tmp_path)
    assert again.sha256 == lambda_artifact.sha256
    assert again.zip_path.read_bytes() == lambda_artifact.zip_path.read_bytes()
    assert hashlib.sha256(again.zip_path.read_bytes()).hexdigest() == again.sha256


@pytest.mark.integration
def test_the_artifact_stays_small_and_carries_no_local_runtime(lambda_artifact):
    assert lambda_artifact.unzipped_bytes <= MAX_UNZIPPED_BYTES
    with zipfile.ZipFile(lambda_artifact.zip_path) as archive:
        names = archive.namelist()
        assert sum(entry.file_size for entry in archive.infolist()) == lambda_artifact.unzipped_bytes
    top_level = {canonical(name.split("/")[0].split("-")[0]) for name in names}
    assert not top_level & (FORBIDDEN_DISTRIBUTIONS | {"mem0"})
    assert not [name for name in names if name.startswith(EXCLUDED_APPLICATION_PATHS)]
    assert not [name for name in names if name.endswith((".pyc", ".pyo")) or name.startswith("bin/")]
    for module in HANDLER_MODULES:
        assert module.replace(".", "/") + ".py" in names
    # The one compiled dependency is built for the function's architecture and Python.
    [core] = [
        name for name in names if name.startswith("pydantic_core/_pydantic_core") and name.endswith(".so")
    ]
    assert "cpython-312-aarch64-linux-gnu" in core
    assert "largest entries" in lambda_artifact.report()


def import_in_clean_interpreter(tree: Path, statements: str) -> subprocess.CompletedProcess[str]:
    """Run ``statements`` in a clean interpreter with only ``tree`` on its path, like the Lambda
    runtime minus boto3 (-I: no environment, no user site; -S: no site-packages; -B: no bytecode),
    then fail if anything of the local runtime was loaded."""
    probe = (
        "import importlib, pkgutil, sys\n"
        f"sys.path.insert(0, {str(tree)!r})\n"
        f"{statements}\n"
        f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({LOCAL_ONLY_IMPORTS!r}))\n"
        "print('local-only modules loaded:', loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path("/"),
    )


@pytest.mark.integration
@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_each_handler_imports_from_the_built_tree_alone(host_artifact, module):
    # When the handler module is imported, then it loads, and nothing of the local runtime comes with it
    result = import_in_clean_interpreter(host_artifact.tree, f"importlib.import_module({module!r})")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration
def test_every_module_that_ships_imports_without_boto3_or_the_local_runtime(host_artifact):
    # Adapters are imported lazily by the handlers; each must still import on its own.
    walk = (
        "import agentic_memory, services\n"
        "for package in (agentic_memory, services):\n"
        "    for found in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(found.name)\n"
    )
    result = import_in_clean_interpreter(host_artifact.tree, walk)
    assert result.returncode == 0, result.stdout + result.stderr
