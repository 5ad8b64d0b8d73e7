"""`pulumi up` builds what it deploys: the program builds the Lambda zip, or reuses the last one when a
hash of its inputs (lock, shipped application files, packaging code, target) is unchanged, and says which.

These tests build from a copy of the application and the lock in a temporary folder, with pip's two
steps (download, install) stubbed out: what is checked is the decision and the zip of application
files, not the wheels (test_lambda_artifact.py builds real ones).
"""

import json
import runpy
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pytest
from infra_fixtures import fixture_config

from infra import packaging, program
from infra.dependency_lock import LOCK_FILE
from infra.packaging import Target
from infra.synth import PROJECT_NAMESPACE, use_mocks

FUNCTION = "aws:lambda/function:Function"


@dataclass
class Sandbox:
    """A copy of what a build reads, and what happened to it: the targets built, the lines said."""

    source: Path
    lock: Path
    output: Path
    built: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)

    def ensure(self, target: Target | None = None) -> packaging.Artifact:
        return packaging.ensure_artifact(target or Target.lambda_runtime("arm64"), say=self.said.append)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    box = Sandbox(source=tmp_path / "source", lock=tmp_path / LOCK_FILE.name, output=tmp_path / "lambda")
    for folder, package in packaging.APPLICATION_PACKAGES:
        shutil.copytree(folder, box.source / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(LOCK_FILE, box.lock)
    copies = tuple((box.source / package, package) for _, package in packaging.APPLICATION_PACKAGES)
    monkeypatch.setattr(packaging, "APPLICATION_PACKAGES", copies)
    monkeypatch.setattr(packaging, "LOCK_FILE", box.lock)
    monkeypatch.setattr(packaging, "ARTIFACT_DIR", box.output)

    def install_nothing(target: Target, requirements: Path, wheelhouse: Path, tree: Path) -> None:
        box.built.append(target.name)
        tree.mkdir(parents=True)

    monkeypatch.setattr(packaging, "_fetch_wheels", lambda target, pins, requirements: tmp_path / "wheels")
    monkeypatch.setattr(packaging, "_install_wheels", install_nothing)
    return box


def append_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + line + "\n")


def test_unchanged_inputs_reuse_the_last_zip_and_say_so(sandbox):
    # Given a first build
    first = sandbox.ensure()
    # When the artifact is asked for again with nothing changed
    second = sandbox.ensure()
    # Then the same zip is handed back without building, and the log says why
    assert sandbox.built == ["lambda-py3.12-arm64"]
    assert (first.reused, second.reused) == (False, True)
    assert (second.zip_path, second.sha256) == (first.zip_path, first.sha256)
    assert sandbox.said[0].startswith("Lambda artifact: building ")
    assert sandbox.said[0].endswith("(no previous build)")
    assert sandbox.said[-1] == (
        f"Lambda artifact: reusing {first.zip_path} (inputs unchanged, sha256 {first.sha256})"
    )
    # And the inputs' hash is recorded beside the zip
    record = json.loads(packaging.inputs_record(first.zip_path).read_text())
    assert record == {"inputs_sha256": first.inputs_sha256, "zip_sha256": first.sha256}


SHIPPED_INPUTS = (
    "source/services/search_memory/handler.py",
    "source/agentic_memory/identity.py",
    LOCK_FILE.name,
)


@pytest.mark.parametrize("changed", SHIPPED_INPUTS)
def test_a_change_to_what_ships_rebuilds(sandbox, tmp_path, changed):
    # Given a build, when a shipped application file or the lock changes
    first = sandbox.ensure()
    append_line(tmp_path / changed, "# changed")
    again = sandbox.ensure()
    # Then the artifact is built again, from inputs with another hash
    assert len(sandbox.built) == 2 and not again.reused
    assert again.inputs_sha256 != first.inputs_sha256
    assert "(inputs changed)" in sandbox.said[-2] and sandbox.said[-1].startswith("Lambda artifact: built ")


def test_a_change_to_a_file_that_does_not_ship_reuses(sandbox):
    sandbox.ensure()
    append_line(sandbox.source / "local_runtime/cli.py", "# changed")
    assert sandbox.ensure().reused
    assert len(sandbox.built) == 1


def test_a_zip_that_is_not_the_recorded_one_is_rebuilt(sandbox):
    # Given a build whose zip is then replaced
    first = sandbox.ensure()
    first.zip_path.write_bytes(b"not the zip that was built")
    # When asked again, then it is rebuilt, byte for byte the same as before
    again = sandbox.ensure()
    assert len(sandbox.built) == 2 and again.sha256 == first.sha256
    assert "(the zip is not the one recorded with these inputs)" in sandbox.said[-2]


def test_the_target_and_the_packaging_code_are_inputs(sandbox, tmp_path, monkeypatch):
    files = packaging.application_files()
    arm, x86 = Target.lambda_runtime("arm64"), Target.lambda_runtime("x86_64")
    assert packaging.inputs_digest(arm, files) != packaging.inputs_digest(x86, files)
    # A change to the code that builds the zip changes the hash too.
    code = tmp_path / "packaging.py"
    shutil.copyfile(packaging.PACKAGING_CODE[-1], code)
    before = packaging.inputs_digest(arm, files)
    append_line(code, "# changed")
    monkeypatch.setattr(packaging, "PACKAGING_CODE", (*packaging.PACKAGING_CODE[:-1], code))
    assert packaging.inputs_digest(arm, files) != before


def test_the_offline_synthesis_builds_nothing(monkeypatch):
    def refuse(*arguments: object, **options: object) -> None:
        raise AssertionError("the offline synthesis must not build the artifact")

    monkeypatch.setattr(packaging, "ensure_artifact", refuse)
    archive = program.lambda_code("arm64", require_artifact=False)
    assert isinstance(archive, pulumi.FileArchive)
    assert archive.path == str(packaging.artifact_path("arm64"))


def run_entry_point(stack: str):
    """Run infra/ the way the Pulumi CLI does (as a script), against fresh mocks; returns the monitor."""
    config, secret_keys, _ = fixture_config(stack)
    monitor = use_mocks(PROJECT_NAMESPACE, stack, "us-east-1", config, secret_keys)

    @pulumi.runtime.test
    def run() -> None:
        runpy.run_path(str(packaging.REPOSITORY / "infra"), run_name="__main__")

    run()
    return monitor


def test_the_entry_point_pulumi_runs_builds_the_artifact_it_deploys(sandbox, monkeypatch, synthesized):
    # Given a fresh clone: no artifact built yet
    logged: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *arguments, **options: logged.append(message))
    # When Pulumi runs the program for dev (an arm64 stack)
    monitor = run_entry_point("dev")
    # Then it builds the zip for the stack's architecture, logs it, and every function deploys that zip
    assert sandbox.built == ["lambda-py3.12-arm64"]
    assert logged[0].startswith("Lambda artifact: building ")
    zip_path = packaging.artifact_path("arm64")
    assert zip_path.is_file()
    codes = {node.inputs["code"].path for node in monitor.nodes.values() if node.type == FUNCTION}
    assert codes == {str(zip_path)}
    assert set(monitor.nodes) == set(synthesized["dev"].nodes)
    # And the next run reuses it
    run_entry_point("dev")
    assert sandbox.built == ["lambda-py3.12-arm64"]
    assert logged[-1].startswith("Lambda artifact: reusing ")
