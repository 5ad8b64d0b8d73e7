"""The stack in a box: every stack as the Pulumi program synthesizes it (from the tests' own stack files,
tests/infra/fixtures), run from the Lambda artifact
on Python 3.12 against moto's server (IAM enforced) and the Mem0 Platform emulator.

Session-wide, built once: the artifact (unzipped as Lambda's task root), the runtime's SDK, moto's
server. Per stack, on first use: the synthesized graph read into a ``StackPlan``, its resources and
IAM users created in moto, and a Mem0 emulator that accepts the stack's generated Mem0 key. The
functions' execution environments belong to the test that starts them.

Cold starts measured on the way are written to ``build/stack-in-a-box/cold-starts.json`` and shown
in pytest's terminal summary (with or without ``-s``).
"""

import json
import shutil
import statistics
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
# infra/ is the Pulumi program, not an installed package (as in tests/infra/conftest.py).
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))
warnings.filterwarnings("ignore", category=DeprecationWarning, module="pulumi_aws")

from box_aws import MotoServer  # noqa: E402
from box_graph import StackPlan, plan_of  # noqa: E402
from box_lambda import ExecutionEnvironment, LambdaSetup  # noqa: E402
from box_runtime import (  # noqa: E402
    BOX_BUILD_DIR,
    RuntimeUnavailable,
    build_artifact,
    find_python312,
    host_architecture,
    install_runtime_sdk,
    unzip_task_root,
)
from box_stack import (  # noqa: E402
    COLD_STARTS,
    DEV_IMPORTS,
    BoxStack,
    Functions,
    box_up,
    record_cold_start,
    start_environment,
)

from infra.synth import close_mocks, stacks_in, synthesize  # noqa: E402

# The tests' own stack files (tests/infra/fixtures), as the infra tests use: a team's edits to the
# repository's stack files (another region, its numbers, its secrets) change nothing the box pins.
FIXTURES = REPOSITORY / "tests" / "infra" / "fixtures"
STACKS = stacks_in(FIXTURES)

COLD_START_REPORT = BOX_BUILD_DIR / "cold-starts.json"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_aws")


@pytest.fixture(scope="session")
def lambda_setup(tmp_path_factory: pytest.TempPathFactory) -> LambdaSetup:
    try:
        python = find_python312()
        sdk = install_runtime_sdk(python)
        architecture = host_architecture()
    except RuntimeUnavailable as missing:
        unavailable = str(missing)
    else:
        unavailable = ""
    if unavailable:
        pytest.fail(unavailable, pytrace=False)
    artifact = build_artifact(architecture)
    task_root = unzip_task_root(artifact, tmp_path_factory.mktemp("var-task"))
    # The functions' logs of this session only (they are what to read when a scenario fails).
    logs = BOX_BUILD_DIR / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    return LambdaSetup(python=python, task_root=task_root, sdk=sdk, logs=logs)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    BOX_BUILD_DIR.mkdir(parents=True, exist_ok=True)
    server = MotoServer(BOX_BUILD_DIR / "moto-server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def plans() -> Iterator[Callable[[str], StackPlan]]:
    """``plan(stack)``: the stack synthesized by the program, read into a plan, once per session."""
    synthesized: dict[str, StackPlan] = {}

    def plan(stack: str) -> StackPlan:
        if stack not in synthesized:
            synthesized[stack] = plan_of(synthesize(stack, directory=FIXTURES))
        return synthesized[stack]

    yield plan
    close_mocks()


@pytest.fixture(scope="session")
def boxed_stacks(
    moto_server: MotoServer, plans: Callable[[str], StackPlan]
) -> Iterator[Callable[[str], BoxStack]]:
    """``get(stack)``: the stack deployed into moto and given a Mem0, once per session."""
    built: dict[str, BoxStack] = {}

    def get(stack: str) -> BoxStack:
        if stack not in built:
            built[stack] = box_up(plans(stack), moto_server)
        return built[stack]

    yield get
    for box in built.values():
        box.mem0.stop()


@pytest.fixture(params=STACKS)
def box(request: pytest.FixtureRequest, boxed_stacks: Callable[[str], BoxStack]) -> BoxStack:
    return boxed_stacks(request.param)


@pytest.fixture
def functions(box: BoxStack, lambda_setup: LambdaSetup) -> Iterator[Functions]:
    environments: dict[str, ExecutionEnvironment] = {}
    try:
        for key in box.plan.functions:
            environments[key] = start_environment(box, key, lambda_setup)
        yield Functions(box, environments)
    finally:
        for environment in environments.values():
            environment.stop()
            record_cold_start(environment.cold_start, "scenario")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if COLD_STARTS:
        COLD_START_REPORT.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "python": sys.version.split()[0],
            "lambda_environments": [asdict(c) for c in COLD_STARTS],
            "development_imports": DEV_IMPORTS,
        }
        COLD_START_REPORT.write_text(json.dumps(report, indent=2) + "\n")


# (column title, width, what it shows for one function's samples)
_COLUMNS = (
    ("spawn+import", 14, lambda samples: [c.spawn_to_ready_ms for c in samples]),
    ("import", 9, lambda samples: [c.init_ms for c in samples]),
    ("1st invoke", 12, lambda samples: [c.first_invocation_ms for c in samples]),
    ("cold total", 12, lambda samples: [c.cold_total_ms for c in samples]),
    ("warm", 8, lambda samples: [w for c in samples for w in c.warm_invocation_ms]),
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not COLD_STARTS:
        return
    terminalreporter.section("stack in a box: cold starts on Python 3.12 from the artifact (ms)")
    terminalreporter.write_line(
        f"{'function':<22}{'measured in':<13}{'n':>3}" + "".join(f"{t:>{w}}" for t, w, _ in _COLUMNS)
    )
    for function, source in sorted({(c.function, c.source) for c in COLD_STARTS}):
        samples = [c for c in COLD_STARTS if (c.function, c.source) == (function, source)]
        cells = []
        for _, width, values in _COLUMNS:
            found = values(samples)
            cells.append(f"{statistics.median(found):>{width}.0f}" if found else f"{'-':>{width}}")
        terminalreporter.write_line(f"{function:<22}{source:<13}{len(samples):>3}" + "".join(cells))
    for function in sorted({d["function"] for d in DEV_IMPORTS}):
        imports = [d["import_ms"] for d in DEV_IMPORTS if d["function"] == function]
        terminalreporter.write_line(
            f"{function:<22}{'dev venv':<13}{len(imports):>3}{'':>14}{statistics.median(imports):>9.0f}"
            f"   (import only, Python {sys.version_info[0]}.{sys.version_info[1]} development environment)"
        )
    terminalreporter.write_line(f"(medians; every sample in {COLD_START_REPORT.relative_to(REPOSITORY)})")
