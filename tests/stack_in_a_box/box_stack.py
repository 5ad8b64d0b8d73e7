"""One stack in the box: its plan, its resources in moto, its Mem0, and its functions' environments.

Shared by the fixtures (conftest.py) and the tests, which import it by name.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from box_aws import DeployedStack, MotoServer, deploy
from box_events import EventSourceMapping, api_request
from box_graph import StackPlan
from box_lambda import ColdStart, ExecutionEnvironment, LambdaSetup, lambda_environment

from agentic_memory.signature import HEADER, sign
from devtools.mem0_emulator import Mem0Emulator, start_emulator

# Every cold start measured in this session (the first invocation of each environment).
COLD_STARTS: list[ColdStart] = []
# The same handlers' import times in the development interpreter, for comparison.
DEV_IMPORTS: list[dict[str, Any]] = []


@dataclass
class BoxStack:
    """One stack in the box: its plan, its resources in moto, its Mem0, its secrets by variable."""

    plan: StackPlan
    deployed: DeployedStack
    mem0: Mem0Emulator
    secrets: dict[str, str] = field(default_factory=dict)  # e.g. ELEVENLABS_HMAC_KEY -> value

    @property
    def stack(self) -> str:
        return self.plan.stack

    @property
    def workspace_key_header(self) -> str:
        """The header the pre-call key arrives in: as the stack configures it, else X-Workspace-Key."""
        return self.plan.functions["client-data"].environment.get("WORKSPACE_KEY_HEADER", "X-Workspace-Key")


@dataclass
class Functions:
    """The execution environments of one stack, by function key."""

    box: BoxStack
    environments: dict[str, ExecutionEnvironment]

    def __getitem__(self, key: str) -> ExecutionEnvironment:
        return self.environments[key]

    def logs(self) -> str:
        return "\n".join(f"--- {key} ---\n{env.log_tail()}" for key, env in self.environments.items())

    def deliver_and_process(self, body: bytes) -> list[str]:
        """A post-call webhook signed with the stack's HMAC key, answered 200, then the queue drained
        into the processor without a failure: the archive keys the processor was notified of."""
        headers = {HEADER: sign(body, self.box.secrets["ELEVENLABS_HMAC_KEY"])}
        delivered = self["post-call"].invoke(api_request("POST", "/post-call", body, headers))
        assert delivered["statusCode"] == 200, (delivered, self["post-call"].log_tail())
        delivery = EventSourceMapping(self.box.deployed, self["post-call-processor"]).drain()
        failures = f"{delivery.failures()}\n{self['post-call-processor'].log_tail()}"
        assert delivery.errors == [] and delivery.failed_ids == [], failures
        return delivery.notified()


def box_up(plan: StackPlan, server: MotoServer) -> BoxStack:
    """``plan`` deployed into ``server``, with a Mem0 emulator that accepts the stack's Mem0 key."""
    deployed = deploy(plan, server)
    by_name = {parameter.name: parameter.value for parameter in plan.parameters}
    secrets = {
        variable.removesuffix("_PARAMETER"): by_name[name]
        for function in plan.functions.values()
        for variable, name in function.environment.items()
        if variable.endswith("_PARAMETER") and name in by_name
    }
    # Exactly the key the functions will read from SSM.
    mem0 = start_emulator(api_keys=[secrets["MEM0_API_KEY"]], profile="none")
    return BoxStack(plan, deployed, mem0, secrets)


def start_environment(
    box: BoxStack, key: str, setup: LambdaSetup, overrides: Mapping[str, str] | None = None
) -> ExecutionEnvironment:
    """A fresh execution environment of ``key`` with its user's credentials; its cold start is kept.
    ``overrides``: variables set on top of the synthesized ones (a scenario's shorter delays)."""
    function = box.plan.functions[key]
    credentials = box.deployed.credentials[key]
    environment = lambda_environment(
        function,
        setup,
        box.plan.region,
        {"access_key_id": credentials.access_key_id, "secret_access_key": credentials.secret_access_key},
        {
            "AWS_ENDPOINT_URL": box.deployed.server.endpoint,
            "MEM0_BASE_URL": box.mem0.url,
            **(overrides or {}),
        },
    )
    arn = function.alias_arn(box.plan.region, box.deployed.server.account)
    return ExecutionEnvironment(box.stack, function, setup, environment, arn)


def record_cold_start(cold_start: ColdStart, source: str) -> None:
    """Keep a cold start for the report, labelled with what measured it (when it was invoked at all)."""
    if cold_start.first_invocation_ms:
        cold_start.source = source
        COLD_STARTS.append(cold_start)
