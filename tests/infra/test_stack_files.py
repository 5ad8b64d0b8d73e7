"""The repository's stack files, the ones a team edits (docs/deployment.md §4), against what holds in
any deployment: every key known and every value valid, secrets only as ciphertext, the synthesized
graph within every policy, prod keeping its data, no two stacks sharing a Mem0 project
(infra.stack_checks). No value a team may choose is pinned here: those pins are on the fixtures.

AGENTIC_MEMORY_STACK_DIR points these tests at another folder of stack files (test_stack_checks.py
runs them so on a copy edited the way the guide says).
"""

import os
from pathlib import Path

import pytest

from infra.graph import REPOSITORY
from infra.stack_checks import check_stack_file, shared_mem0_projects
from infra.synth import settings_of, stacks_in

STACK_DIR = Path(os.environ.get("AGENTIC_MEMORY_STACK_DIR") or REPOSITORY)
STACKS_HERE = stacks_in(STACK_DIR)


def test_there_are_stack_files_to_check():
    assert STACKS_HERE, f"no Pulumi.<stack>.yaml in {STACK_DIR}"


@pytest.mark.parametrize("stack", STACKS_HERE)
def test_each_stack_file_passes_what_any_deployment_must(stack):
    problems, settings = check_stack_file(stack, STACK_DIR)
    assert problems == [], "\n".join(problems)
    assert settings is not None and settings.stack == stack


def test_no_two_stacks_share_a_mem0_project():
    problems = shared_mem0_projects({stack: settings_of(stack, STACK_DIR) for stack in STACKS_HERE})
    assert problems == {}, problems
