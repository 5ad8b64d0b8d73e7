"""The stack in a box: every stack as the Pulumi program synthesizes it, run from the Lambda artifact
on Python 3.12 against moto's server (IAM enforced) and the Mem0 Platform emulator.

Session-wide, built once: the artifact (unzipped as Lambda's task root), the runtime's SDK, moto's
server. Per stack, on first use: the synthesized graph read into a ``StackPlan``, its resources and
IAM users created in moto, and a Mem0 emulator that accepts the stack's generated Mem0 key. The
functions' execution environments belong to the test that starts them.

Cold starts measured on the way are written to ``build/stack-in-a-box/cold-starts.json`` and shown
in pytest's terminal summary (with or without ``-s``).
"""

import json
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

from box_aws import MotoServer, deploy  # noqa: E402
from box_graph import plan_of  # noqa: E402
from box_lambda import LambdaSetup  # noqa: E402
from box_runtime import (  # noqa: E402
    BOX_BUILD_DIR,
    RuntimeUnavailable,
    build_artifact,
    find_python312,
    host_architecture,
    install_runtime_sdk,
    unzip_task_root,
)
from box_stack import COLD_STARTS, BoxStack, Functions, record_cold_start, start_environment  # noqa: E402

from agentic_memory.local.mem0_emulator import start_emulator  # noqa: E402
from infra.synth import STACKS, close_mocks, synthesize  # noqa: E402

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
        pytest.fail(str(missing), pytrace=False)
    artifact = build_artifact(architecture)
    task_root = unzip_task_root(artifact, tmp_path_factory.mktemp("var-task"))
    logs = BOX_BUILD_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return LambdaSetup(python=python, task_root=task_root, sdk=sdk, logs=logs)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    BOX_BUILD_DIR.mkdir(parents=True, exist_ok=True)
    server = MotoServer(BOX_BUILD_DIR / "moto-server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def boxed_stacks(moto_server: MotoServer) -> Iterator[Callable[[str], BoxStack]]:
    """``get(stack)``: the stack synthesized, deployed into moto and given a Mem0, once per session."""
    built: dict[str, BoxStack] = {}

    def get(stack: str) -> BoxStack:
        if stack not in built:
            plan = plan_of(synthesize(stack))
            deployed = deploy(plan, moto_server)
            by_name = {parameter.name: parameter.value for parameter in plan.parameters}
            secrets = {
                variable.removesuffix("_PARAMETER"): by_name[name]
                for function in plan.functions.values()
                for variable, name in function.environment.items()
                if variable.endswith("_PARAMETER") and name in by_name
            }
            # The emulator accepts exactly the key the functions will read from SSM.
            mem0 = start_emulator(api_keys=[secrets["MEM0_API_KEY"]], profile="none")
            built[stack] = BoxStack(plan, deployed, mem0, secrets)
        return built[stack]

    yield get
    for box in built.values():
        box.mem0.stop()
    close_mocks()


@pytest.fixture(params=STACKS)
def box(request: pytest.FixtureRequest, boxed_stacks: Callable[[str], BoxStack]) -> BoxStack:
    return boxed_stacks(request.param)


@pytest.fixture
def functions(box: BoxStack, lambda_setup: LambdaSetup) -> Iterator[Functions]:
    environments = {key: start_environment(box, key, lambda_setup) for key in box.plan.functions}
    yield Functions(box, environments)
    for environment in environments.values():
        environment.stop()
        record_cold_start(environment.cold_start)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if COLD_STARTS:
        COLD_START_REPORT.parent.mkdir(parents=True, exist_ok=True)
        COLD_START_REPORT.write_text(json.dumps([asdict(c) for c in COLD_STARTS], indent=2) + "\n")


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
    terminalreporter.write_line(f"{'function':<22}{'n':>3}" + "".join(f"{t:>{w}}" for t, w, _ in _COLUMNS))
    for function in sorted({c.function for c in COLD_STARTS}):
        samples = [c for c in COLD_STARTS if c.function == function]
        cells = []
        for _, width, values in _COLUMNS:
            found = values(samples)
            cells.append(f"{statistics.median(found):>{width}.0f}" if found else f"{'-':>{width}}")
        terminalreporter.write_line(f"{function:<22}{len(samples):>3}" + "".join(cells))
    terminalreporter.write_line(f"(medians; every sample in {COLD_START_REPORT.relative_to(REPOSITORY)})")
