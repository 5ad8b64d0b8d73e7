"""The tests' own stack files (tests/infra/fixtures/Pulumi.<stack>.yaml): pinned values, snapshots and
comparisons between stacks are made on these, so that a team's edits to the repository's stack files
(their region, alarm address, numbers, encrypted secrets) change no expectation. The repository's own
stack files are checked by tests/infra/test_stack_files.py against what must hold in any deployment.
"""

from collections.abc import Mapping
from pathlib import Path

from infra.graph import Synthesis
from infra.settings import StackSettings
from infra.synth import settings_of, stack_config, stacks_in, synthesize

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_STACKS = stacks_in(FIXTURES)
FIXTURE_REGION = "us-east-1"


def fixture_settings(stack: str) -> StackSettings:
    return settings_of(stack, FIXTURES)


def fixture_config(
    stack: str, secret_values: Mapping[str, str | None] | None = None
) -> tuple[dict[str, str], list[str], dict[str, str]]:
    return stack_config(stack, secret_values, FIXTURES)


def synthesize_fixture(stack: str, secret_values: Mapping[str, str | None] | None = None) -> Synthesis:
    return synthesize(stack, secret_values, FIXTURES)
