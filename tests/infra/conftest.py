"""Offline infrastructure tests: the Pulumi program runs against Pulumi's own mocks (no CLI, engine,
provider plugin or AWS account), with config read from stack files and generated values for the
secret keys.

The tests' pinned expectations and snapshots are on stack files of their own (tests/infra/fixtures,
see infra_fixtures.py); the repository's stack files, which a team edits, are checked against what
holds in any deployment (test_stack_files.py). Each stack is synthesized once per session; the tests
then read plain recorded data.
"""

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

# pulumi_aws announces its deprecated classes (BucketV2, ...) when a service module is first imported,
# which for infra's modules happens while the tests are being collected.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="pulumi_aws")

REPOSITORY = Path(__file__).resolve().parents[2]
# infra/ is the Pulumi program, not an installed package: make it importable as `infra`.
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from infra_fixtures import FIXTURE_STACKS, synthesize_fixture  # noqa: E402

from infra.graph import Synthesis  # noqa: E402
from infra.synth import GraphMonitor, close_mocks, use_mocks  # noqa: E402

COMPONENT_TEST_REGION = "eu-west-1"


def pytest_configure(config: pytest.Config) -> None:
    # The same, for service modules first imported while a test runs.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_aws")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A @pulumi.runtime.test whose decorator is forgotten returns its Output unawaited: fail, not warn.
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.filterwarnings("error::pytest.PytestReturnNotNoneWarning"))


@pytest.fixture(scope="session", autouse=True)
def close_the_mocks_loop_at_the_end() -> Iterator[None]:
    yield
    close_mocks()


@pytest.fixture(scope="session")
def synthesized() -> dict[str, Synthesis]:
    """The fixture stacks, synthesized."""
    return {stack: synthesize_fixture(stack) for stack in FIXTURE_STACKS}


@pytest.fixture(params=FIXTURE_STACKS)
def stack(request: pytest.FixtureRequest, synthesized: dict[str, Synthesis]) -> Synthesis:
    return synthesized[request.param]


@pytest.fixture
def mocks() -> Iterator[GraphMonitor]:
    """Fresh mocks for one component test (a stack named "test", no config but the region)."""
    yield use_mocks(
        "agentic-memory", "test", COMPONENT_TEST_REGION, {"aws:region": COMPONENT_TEST_REGION}, []
    )
