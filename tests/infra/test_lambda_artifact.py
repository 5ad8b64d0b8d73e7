"""The Lambda artifact: locked, reproducible, small, exactly what the handlers import, and importable.

The ``integration`` tests build real artifacts with pip (wheels come from the package index the
first time, then from build/wheelhouse). The Lambda build targets CPython 3.12 on manylinux, which
cannot be imported here, so the import tests build the same way for this machine's interpreter.
"""

import hashlib
import importlib.util
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
    FORBIDDEN_DISTRIBUTIONS,
    HANDLER_MODULES,
    MAX_UNZIPPED_BYTES,
    Target,
    application_files,
    application_tree,
    handler_closure,
)

# Third-party packages of the local runtime: never loaded by a function.
LOCAL_ONLY_IMPORTS = ("mem0", "numpy", "onnxruntime", "tokenizers", "torch", "qdrant_client")
# Application modules that serve only the local runtime and tests (with their subpackages).
LOCAL_ONLY_MODULES = ("local_runtime", "devtools")
APPLICATION = ("agentic_memory", "services")
# What the Lambda runtime adds to the path next to the artifact: boto3 and what it imports.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


def is_local_only(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in LOCAL_ONLY_MODULES)


def module_name(inside: str) -> str:
    """``agentic_memory/adapters/__init__.py`` -> ``agentic_memory.adapters``."""
    return inside.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


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


def test_no_handler_reaches_a_local_only_module():
    # The wiring builds only what each function uses, so nothing of the local runtime is reachable.
    closure = handler_closure()
    reached = sorted(module for module in closure.modules if is_local_only(module))
    assert not reached, "\n".join(" → ".join(closure.chain(module)) for module in reached)


def test_the_application_files_are_the_handlers_closure_and_nothing_else():
    shipped = [inside for _, inside in application_files()]
    modules_with_source = {m for m in handler_closure().modules if application_tree().source(m) is not None}
    assert {module_name(inside) for inside in shipped if inside.endswith(".py")} == modules_with_source
    assert set(HANDLER_MODULES) <= modules_with_source
    assert "agentic_memory/__init__.py" in shipped and "services/__init__.py" in shipped
    assert not [path for path in shipped if "__pycache__" in path or path.endswith(".pyc")]
    assert not [path for path in shipped if path.endswith("minilm_tokenizer.json")]


def test_every_product_module_ships_so_a_path_tells_which_part_a_file_belongs_to():
    # Given the product's folders (shared/agentic_memory, services): the artifact carries them whole;
    # what only the local runtime or the tests use lives in local_runtime/ or devtools/
    tree = application_tree()
    product = {
        module_name(str(path.relative_to(folder.parent)))
        for folder, package in packaging.APPLICATION_PACKAGES
        if package in APPLICATION
        for path in folder.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    # When the handlers' closure is taken, then it is every product module and none of another part
    shipped = {m for m in handler_closure().modules if tree.source(m) is not None}
    assert product - shipped == set(), "a product module that does not ship belongs elsewhere"
    assert shipped - product == set()


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


def first_party_entries(artifact: packaging.Artifact) -> set[str]:
    with zipfile.ZipFile(artifact.zip_path) as archive:
        return {name for name in archive.namelist() if name.split("/")[0] in APPLICATION}


@pytest.mark.integration
def test_the_artifact_stays_small_and_carries_no_local_runtime(lambda_artifact):
    assert lambda_artifact.unzipped_bytes <= MAX_UNZIPPED_BYTES
    with zipfile.ZipFile(lambda_artifact.zip_path) as archive:
        names = archive.namelist()
        assert sum(entry.file_size for entry in archive.infolist()) == lambda_artifact.unzipped_bytes
    top_level = {canonical(name.split("/")[0].split("-")[0]) for name in names}
    assert not top_level & (FORBIDDEN_DISTRIBUTIONS | {"mem0"})
    assert not [name for name in names if name.endswith((".pyc", ".pyo")) or name.startswith("bin/")]
    # The one compiled dependency is built for the function's architecture and Python.
    [core] = [
        name for name in names if name.startswith("pydantic_core/_pydantic_core") and name.endswith(".so")
    ]
    assert "cpython-312-aarch64-linux-gnu" in core
    assert "largest entries" in lambda_artifact.report()


@pytest.mark.integration
def test_every_module_a_handler_imports_is_in_the_zip(lambda_artifact):
    in_zip = {module_name(name) for name in first_party_entries(lambda_artifact) if name.endswith(".py")}
    closure = {m for m in handler_closure().modules if application_tree().source(m) is not None}
    assert not closure - in_zip, "handlers import modules the artifact lacks"


@pytest.mark.integration
def test_the_zip_carries_no_application_file_that_no_handler_reaches(lambda_artifact):
    entries = first_party_entries(lambda_artifact)
    closure = handler_closure().modules
    assert not {name for name in entries if name.endswith(".py") and module_name(name) not in closure}
    # Data files only where a reached module reads them; none of the local runtime's.
    assert {name for name in entries if not name.endswith(".py")} == {
        inside for _, inside in application_files() if not inside.endswith(".py")
    }
    assert not [name for name in entries if is_local_only(module_name(name))]


@pytest.fixture(scope="session")
def host_tree(host_artifact, tmp_path_factory) -> Path:
    """The host artifact's zip, unzipped: what the import tests run from (not the build's own tree)."""
    tree = tmp_path_factory.mktemp("host-unzipped")
    with zipfile.ZipFile(host_artifact.zip_path) as archive:
        archive.extractall(tree)
    return tree


@pytest.fixture(scope="session")
def runtime_provided(tmp_path_factory) -> Path:
    """A folder holding only the development environment's boto3 and what it imports, as links."""
    folder = tmp_path_factory.mktemp("runtime-provided")
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, f"{name} is not installed in the development environment"
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (folder / source.name).symlink_to(source)
    return folder


def run_in_clean_interpreter(path: list[Path], statements: str) -> subprocess.CompletedProcess[str]:
    """Run ``statements`` in a clean interpreter whose path holds only ``path`` and the standard library
    (-I: no environment, no user site; -S: no site-packages; -B: no bytecode)."""
    probe = f"import importlib, sys\nsys.path[:0] = {[str(p) for p in path]!r}\n{statements}\n"
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", probe], capture_output=True, text=True, timeout=60, cwd="/"
    )


def load_handler_and_its_closure(
    tree: Path, runtime_provided: Path, handler: str, reachable: list[str]
) -> subprocess.CompletedProcess[str]:
    """Import ``handler`` and then every module in ``reachable`` from ``tree`` in a clean interpreter;
    it exits non-zero if one is missing, if the handler's import loads boto3 or the local runtime, if
    anything loads the local runtime, or if an application module comes from anywhere but ``tree``."""
    statements = f"""
local_only = set({LOCAL_ONLY_IMPORTS!r})
importlib.import_module({handler!r})
# The handler's import (the Lambda init) loads neither boto3 nor the local runtime.
at_import = sorted({{m.split(".")[0] for m in sys.modules}} & (local_only | {{"boto3"}}))
# The imports inside functions run only on some invocations: import every module they can reach now.
for module in {reachable!r}:
    importlib.import_module(module)
afterwards = sorted({{m.split(".")[0] for m in sys.modules}} & local_only)
elsewhere = sorted(name for name, m in sys.modules.items() if name.split(".")[0] in {APPLICATION!r}
                   and not str(getattr(m, "__file__", None) or "").startswith({str(tree)!r}))
print("at import:", at_import, "| local-only:", afterwards, "| not from the artifact:", elsewhere)
sys.exit(1 if at_import or afterwards or elsewhere else 0)
"""
    return run_in_clean_interpreter([tree, runtime_provided], statements)


@pytest.mark.integration
@pytest.mark.parametrize("handler", HANDLER_MODULES)
def test_each_handler_and_everything_it_can_import_load_from_the_unzipped_artifact(
    host_tree, runtime_provided, handler
):
    # Given a clean interpreter with only the unzipped artifact and the runtime's boto3 on its path
    reachable = sorted(handler_closure([handler]).modules)
    # When the handler is imported and then every module it can reach, then all of it loads from the zip
    result = load_handler_and_its_closure(host_tree, runtime_provided, handler, reachable)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_module_the_zip_lacks_fails_the_check_even_when_imported_only_inside_a_function(
    tmp_path, runtime_provided
):
    # Given an unzipped artifact whose handler imports a helper lazily, and the helper left out
    for name, text in {
        "services/__init__.py": "",
        "services/lazy/__init__.py": "",
        "services/lazy/handler.py": "def lambda_handler(event, context):\n    from . import helper\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    reachable = ["services", "services.lazy", "services.lazy.handler", "services.lazy.helper"]
    # When the check runs, then the handler's own import passes but the walk of its closure fails
    result = load_handler_and_its_closure(tmp_path, runtime_provided, "services.lazy.handler", reachable)
    assert result.returncode != 0
    assert "No module named 'services.lazy.helper'" in result.stderr
