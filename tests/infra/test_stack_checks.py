"""The checks every stack file must pass (infra.stack_checks): a team's stack files edited the way the
guide says pass them, in this process and through the infra suite itself; each check catches the
mistake it exists for, naming the key and the stack."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.graph import REPOSITORY
from infra.stack_checks import check_stack_file, check_stack_files
from infra.synth import stacks_in

# The repository's stack files as they are: a team may add a stack or drop one (guide §3).
STACKS = stacks_in()

# What `pulumi config set --secret` writes: ciphertext under `secure:`, and the stack's salt on top.
SALT = "v1:1bq9GFrn0uQ=:v1:mUoPdNDSzIu2hC1Y:9mEfxKfxAZr0rZNGO0GRxVnMCg59Lw=="


def ciphertext(label: str) -> dict[str, str]:
    return {"secure": f"v1:{label.encode().hex()[:24]}Zm9vYmFyYmF6cXV4"}


def copy_stack_files(target: Path) -> Path:
    for path in [REPOSITORY / "Pulumi.yaml", *REPOSITORY.glob("Pulumi.*.yaml")]:
        shutil.copy(path, target / path.name)
    return target


def pulumi_writes(directory: Path, stack: str, **config: Any) -> None:
    """Set config keys in ``directory``'s Pulumi.<stack>.yaml the way the CLI rewrites the file: the
    salt line first (added by the first secret), then the config map with the new keys."""
    path = directory / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text()) or {}
    document.setdefault("config", {}).update(config)
    ordered = {"encryptionsalt": SALT, **{k: v for k, v in document.items() if k != "encryptionsalt"}}
    path.write_text(yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True))


def a_teams_edits(directory: Path) -> None:
    """docs/deployment.md §4: region, secrets for every stack, and prod's alarm e-mail and numbers."""
    for stack in STACKS:
        secrets = {
            "elevenlabs:workspaceKey": ciphertext(f"{stack}-workspace"),
            "elevenlabs:hmacKey": ciphertext(f"{stack}-hmac"),
            "mem0:apiKey": ciphertext(f"{stack}-mem0"),
            "elevenlabs:toolKey": ciphertext(f"{stack}-tool"),
        }
        pulumi_writes(directory, stack, **{"aws:region": "eu-west-1"}, **secrets)
    if "prod" not in STACKS:
        return
    pulumi_writes(
        directory,
        "prod",
        **{
            "agentic-memory:alarmEmail": "oncall@example.com",
            "agentic-memory:agentPhoneNumbers": ["+15551234567"],
            "agentic-memory:returningGreeting": "Welcome back, {name}! How can I help today?",
            "agentic-memory:functions": {"retention": {"memoryMb": 1024}},
        },
    )


@pytest.fixture
def edited(tmp_path: Path) -> Path:
    directory = copy_stack_files(tmp_path)
    a_teams_edits(directory)
    return directory


def test_a_teams_stack_files_edited_as_the_guide_says_pass_every_check(edited):
    # Given the repository's stack files with a team's region, secrets (as Pulumi writes them), alarm
    # e-mail, numbers, greeting and a partial function override
    assert (edited / "Pulumi.prod.yaml").read_text().startswith("encryptionsalt: v1:")
    # When every stack file is checked
    results = check_stack_files(edited)
    # Then every stack passes
    assert set(results) == set(STACKS)
    assert results == {stack: [] for stack in STACKS}


def test_the_infra_suite_stays_green_on_a_teams_stack_files(edited):
    # When the suite's checks of the repository's stack files run on the team's copy, as `make test` would
    environment = {**os.environ, "AGENTIC_MEMORY_STACK_DIR": str(edited)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/infra/test_stack_files.py"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )
    # Then they pass (that they read the copy, not the repository, is the next test's point)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"{len(STACKS) + 2} passed" in run.stdout


def test_the_suite_checks_the_folder_it_is_pointed_at(edited):
    # Given a team's copy where staging and prod name one Mem0 project
    pulumi_writes(edited, "staging", **{"mem0:project": "shared"})
    pulumi_writes(edited, "prod", **{"mem0:project": "shared"})
    environment = {**os.environ, "AGENTIC_MEMORY_STACK_DIR": str(edited)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/infra/test_stack_files.py"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )
    # Then the suite fails, naming the shared project
    assert run.returncode != 0 and "'shared' is also" in run.stdout


@pytest.mark.parametrize(
    ("stack", "config", "expected"),
    [
        (
            "prod",
            {"agentic-memory:retentionDay": 30},
            "Pulumi.prod.yaml: agentic-memory:retentionDay is not a setting; "
            "did you mean agentic-memory:retentionDays?",
        ),
        (
            "staging",
            {"agentic-memory:logRetentionDays": 8},
            "Pulumi.staging.yaml: agentic-memory:logRetentionDays: CloudWatch keeps logs",
        ),
        (
            "dev",
            {"agentic-memory:functions": {"retention": {"memorymb": 1024}}},
            "Pulumi.dev.yaml: agentic-memory:functions.retention.memorymb is not a setting; "
            "did you mean agentic-memory:functions.retention.memoryMb?",
        ),
        (
            "dev",
            {"mem0:apiKey": "m0-plain-text-key"},
            "Pulumi.dev.yaml: mem0:apiKey is a secret in plain text",
        ),
        (
            "dev",
            {"agentic-memory:alarmEmail": ciphertext("mail")},
            "Pulumi.dev.yaml: agentic-memory:alarmEmail is encrypted but is not a secret",
        ),
        ("dev", {"aws:region": "Ireland"}, "Pulumi.dev.yaml: aws:region: String should match pattern"),
        (
            "prod",
            {"agentic-memory:archive": {"forceDestroy": True, "versioning": True}},
            "Pulumi.prod.yaml: agentic-memory:archive.forceDestroy must be false",
        ),
        (
            "prod",
            {
                "agentic-memory:archive": {
                    "versioning": True,
                    "lifecycle": [{"id": "all-expires", "prefix": "", "expireAfterDays": 365}],
                }
            },
            "Pulumi.prod.yaml: agentic-memory:archive.lifecycle rule all-expires expires post-call/",
        ),
        (
            "staging",
            {"agentic-memory:requireToolKey": False},
            "Pulumi.staging.yaml: agentic-memory:requireToolKey must be true in staging",
        ),
        ("prod", {"mem0:project": None}, "Pulumi.prod.yaml: mem0:project is required in prod"),
    ],
    ids=[
        "misspelt",
        "invalid",
        "misspelt-field",
        "plain-secret",
        "encrypted-setting",
        "region",
        "prod-destroyable",
        "prod-expires",
        "open-tool",
        "no-mem0-project",
    ],
)
def test_each_check_catches_its_mistake_naming_the_key_and_the_stack(tmp_path, stack, config, expected):
    # Given the repository's stack files with one mistake
    directory = copy_stack_files(tmp_path)
    pulumi_writes(directory, stack, **config)
    if None in config.values():
        path = directory / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        document["config"] = {k: v for k, v in document["config"].items() if v is not None}
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    # When that stack file is checked
    problems, _ = check_stack_file(stack, directory)
    # Then the problem names the file, the key and what is wrong
    assert any(problem.startswith(expected) for problem in problems), problems


def test_stacks_that_share_a_mem0_project_are_refused_both_ways(edited):
    pulumi_writes(edited, "staging", **{"mem0:project": "acme-memories"})
    pulumi_writes(edited, "prod", **{"mem0:project": "acme-memories"})
    results = check_stack_files(edited)
    assert results["dev"] == []
    for stack, other in (("staging", "prod"), ("prod", "staging")):
        assert results[stack] == [
            f"Pulumi.{stack}.yaml: mem0:project 'acme-memories' is also {other}'s: give each stack a Mem0 "
            "project (and API key) of its own"
        ]


def test_the_checks_command_says_ok_or_fail_per_stack(edited, capsys):
    from infra.stack_checks import main

    assert main([str(edited)]) == 0
    assert capsys.readouterr().out.splitlines() == ["dev: ok", "prod: ok", "staging: ok"]
    pulumi_writes(edited, "dev", **{"agentic-memory:retentionDay": 30})
    assert main([str(edited)]) == 1
    out = capsys.readouterr().out
    assert "dev: FAIL" in out and "did you mean agentic-memory:retentionDays?" in out
