"""Dry synthesis: run the real program for one stack against Pulumi's mocks and record the graph.

    python -m infra.synth prod          # print the graph the offline tests check and snapshot
    python -m infra.stack_checks        # check every Pulumi.<stack>.yaml (infra/stack_checks.py)

No CLI, engine, provider plugin or AWS account is involved (none can be installed here): config
comes from ``Pulumi.<stack>.yaml`` as the CLI would hand it over, secret keys get generated test
values, and the mocks answer with made-up ARNs and ids in a made-up account. What this proves is the
wiring and the intent; what it cannot prove (provider-side validation, IAM semantics, quotas) needs
``pulumi preview`` against an account.

Relies on three internals of the pulumi SDK (the root-stack context variable, the mock monitor and
``rpc.deserialize_properties``), which is why ``pulumi`` is pinned exactly in pyproject.toml.
"""

import asyncio
import hashlib
import json
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.sync_await import _ensure_event_loop
from pydantic import ValidationError

from infra import program
from infra.graph import REPOSITORY, ResourceNode, Synthesis, graph_json
from infra.secret_config import SECRETS, required_secrets
from infra.settings import (
    MEM0_NAMESPACE,
    PROJECT_NAMESPACE,
    StackSettings,
    StackSettingsError,
    explain,
    parse_config_value,
    settings_from_config,
    unknown_config_keys,
)

# The stacks the project ships stack files for; a deployment may add or drop some (stacks_in).
STACKS = ("dev", "staging", "prod")
# Made up: a documentation-style account id, so no ARN here can point at a real account.
MOCK_ACCOUNT_ID = "111111111111"
ROOT_STACK = "pulumi:pulumi:Stack"
_CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"


def stack_file(stack: str, directory: Path = REPOSITORY) -> Path:
    return directory / f"Pulumi.{stack}.yaml"


def stacks_in(directory: Path = REPOSITORY) -> tuple[str, ...]:
    """The stacks that have a stack file in ``directory`` (``Pulumi.<stack>.yaml``), sorted."""
    return tuple(
        sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in directory.glob("Pulumi.*.yaml"))
    )


def stack_file_config(stack: str, directory: Path = REPOSITORY) -> dict[str, Any]:
    """The ``config`` map of a stack file, as YAML values (``encryptionsalt`` and the like are not config)."""
    document = yaml.safe_load(stack_file(stack, directory).read_text()) or {}
    return dict(document.get("config") or {})


def _cli_string(value: Any) -> str:
    # What the CLI hands the program: structured values as JSON, booleans in lower case.
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_SECRET_KEYS = frozenset(spec.config_key for spec in SECRETS)


def settings_of(stack: str, directory: Path = REPOSITORY) -> StackSettings:
    """The typed settings a stack file yields, without running the program.

    Raises StackSettingsError naming the file, and each unknown key or unusable value, as the program does.
    """
    raw = stack_file_config(stack, directory)
    project = {
        k.split(":", 1)[1]: parse_config_value(_cli_string(v))
        for k, v in raw.items()
        if k.startswith(PROJECT_NAMESPACE + ":")
    }
    mem0 = {
        k.split(":", 1)[1]: parse_config_value(_cli_string(v))
        for k, v in raw.items()
        # A secret is no setting, even written in plain text (the stack checks say that one).
        if k.startswith(MEM0_NAMESPACE + ":") and not isinstance(v, dict) and k not in _SECRET_KEYS
    }
    region = raw.get("aws:region")
    problems = unknown_config_keys(raw)
    try:
        settings = settings_from_config(
            PROJECT_NAMESPACE, stack, None if region is None else str(region), {**project, "mem0": mem0}
        )
    except ValidationError as error:
        problems += explain(error)
    if problems:
        raise StackSettingsError(f"{stack_file(stack, directory).name} (stack {stack})", problems)
    return settings


def stack_config(
    stack: str, secret_values: Mapping[str, str | None] | None = None, directory: Path = REPOSITORY
) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """(config, secret keys, secret values used) for ``stack``.

    Encrypted (``secure:``) entries cannot be decrypted without the CLI; they, and every secret the
    stack requires, get a generated value. ``secret_values`` (config key -> value) adds or overrides
    secrets: ``""`` asks for a generated value, ``None`` leaves the secret unset.
    """
    config: dict[str, str] = {}
    wanted: dict[str, str | None] = {}
    for key, value in stack_file_config(stack, directory).items():
        if isinstance(value, dict) and "secure" in value:
            wanted[key] = ""
        else:
            config[key] = _cli_string(value)
    required = set(required_secrets(settings_of(stack, directory)))
    for spec in SECRETS:
        if spec.variable in required:
            wanted.setdefault(spec.config_key, "")
    wanted.update(secret_values or {})
    generated = {
        key: value or f"test-{key.replace(':', '-')}-{secrets.token_hex(12)}"
        for key, value in wanted.items()
        if value is not None
    }
    config.update(generated)
    return config, sorted(generated), generated


class RecordingMocks(pulumi.runtime.Mocks):
    """Echo every resource's inputs back and add the computed attributes the program reads."""

    def __init__(self, region: str, account_id: str = MOCK_ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:
            return "", {}
        computed = computed_state(args.typ, args.name, dict(args.inputs), self.region, self.account_id)
        resource_id = computed.pop("id", None) or f"{args.name}-id"
        return resource_id, {**args.inputs, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == _CALLER_IDENTITY:
            identity = {
                "accountId": self.account_id,
                "arn": f"arn:aws:iam::{self.account_id}:user/deployer",
                "userId": "AIDAMOCKDEPLOYER",
                "id": self.account_id,
            }
            return identity, []
        # Fail loudly: an invoke the mocks do not know would otherwise quietly return nothing.
        raise NotImplementedError(f"no mock answer for invoke {args.token}")


def _short_id(name: str, length: int = 10) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def computed_state(
    type_: str, name: str, inputs: Mapping[str, Any], region: str, account: str
) -> dict[str, Any]:
    """Plausible provider-computed attributes, derived from the name so they never change between runs."""
    physical = inputs.get("name") or f"{name}-{_short_id(name, 7)}"
    arn = f"arn:aws:{{service}}:{region}:{account}:{{resource}}"
    if type_ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{inputs.get('bucketPrefix', name)}{_short_id(name, 12)}"
        return {"id": bucket, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}
    if type_ == "aws:sqs/queue:Queue":
        return {
            "id": f"https://sqs.{region}.amazonaws.com/{account}/{physical}",
            "url": f"https://sqs.{region}.amazonaws.com/{account}/{physical}",
            "arn": arn.format(service="sqs", resource=physical),
        }
    if type_ == "aws:lambda/function:Function":
        function_arn = arn.format(service="lambda", resource=f"function:{physical}")
        return {"id": physical, "arn": function_arn, "version": "1", "qualifiedArn": f"{function_arn}:1",
                "invokeArn": _invoke_arn(region, function_arn)}  # fmt: skip
    if type_ == "aws:lambda/alias:Alias":
        alias_arn = arn.format(
            service="lambda", resource=f"function:{inputs['functionName']}:{inputs['name']}"
        )
        return {"arn": alias_arn, "invokeArn": _invoke_arn(region, alias_arn)}
    if type_ == "aws:cloudwatch/logGroup:LogGroup":
        return {"id": physical, "arn": arn.format(service="logs", resource=f"log-group:{physical}")}
    if type_ == "aws:iam/role:Role":
        return {"id": physical, "name": physical, "arn": f"arn:aws:iam::{account}:role/{physical}"}
    if type_ == "aws:kms/key:Key":
        key_id = f"{_short_id(name, 8)}-0000-4000-8000-{_short_id(name + 'key', 12)}"
        return {"id": key_id, "keyId": key_id, "arn": arn.format(service="kms", resource=f"key/{key_id}")}
    if type_ == "aws:ssm/parameter:Parameter":
        resource = f"parameter/{physical.lstrip('/')}"
        return {"id": physical, "version": 1, "arn": arn.format(service="ssm", resource=resource)}
    if type_ == "aws:cloudwatch/eventRule:EventRule":
        return {"id": physical, "arn": arn.format(service="events", resource=f"rule/{physical}")}
    if type_ == "aws:sns/topic:Topic":
        return {"id": physical, "arn": arn.format(service="sns", resource=physical)}
    if type_ == "aws:apigatewayv2/api:Api":
        api_id = _short_id(name)
        return {"id": api_id, "apiEndpoint": f"https://{api_id}.execute-api.{region}.amazonaws.com",
                "executionArn": arn.format(service="execute-api", resource=api_id)}  # fmt: skip
    return {"id": f"{name}-{_short_id(name, 7)}"}


def _invoke_arn(region: str, function_arn: str) -> str:
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


class GraphMonitor(MockMonitor):
    """The mock monitor, also recording each registration's parent, dependencies and provider."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.nodes: dict[str, ResourceNode] = {}
        self._prefix = ""

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            _ensure_event_loop()
            urn = self._short(response.urn)
            self.nodes[urn] = ResourceNode(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=self._short(request.parent),
                depends_on=tuple(sorted(self._short(d) for d in request.dependencies)),
                # A provider reference is "<provider urn>::<provider id>".
                provider=self._short(request.provider.rsplit("::", 1)[0]) if request.provider else "",
                inputs=rpc.deserialize_properties(request.object),
            )
        return response

    @staticmethod
    def _short(urn: str) -> str:
        # urn:pulumi:<stack>::<project>::<type>::<name> -> <type>::<name>; the root stack's name holds
        # the stack's name, so it is left out to keep stacks comparable.
        short = urn.split("::", 2)[2] if urn.count("::") >= 3 else urn
        return ROOT_STACK if short.startswith(ROOT_STACK + "::") else short


_current_loop: asyncio.AbstractEventLoop | None = None


def use_mocks(
    project: str, stack: str, region: str, config: Mapping[str, str], secret_keys: list[str]
) -> GraphMonitor:
    """Point the Pulumi runtime at fresh recording mocks for ``stack``.

    Each call starts from a clean slate: a new event loop (Python 3.12+ no longer makes one
    implicitly), the stack's config, and no root stack resource (``set_mocks`` would otherwise keep
    the previous stack's root as every new resource's parent).
    """
    global _current_loop
    if _current_loop is not None and not _current_loop.is_running():
        _current_loop.close()
    _current_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_current_loop)
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    pulumi.runtime.settings.ROOT.set(None)
    monitor = GraphMonitor(RecordingMocks(region))
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor)
    # set_mocks schedules the root stack's registration on the loop; let it finish now, or a test that
    # never runs the loop leaves it pending (and asyncio complains when the loop is closed).
    pending = asyncio.all_tasks(_current_loop)
    if pending:
        _current_loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    return monitor


def close_mocks() -> None:
    """Close the event loop the last ``use_mocks`` opened (end of a test session)."""
    global _current_loop
    if _current_loop is not None and not _current_loop.is_running():
        _current_loop.close()
    _current_loop = None


def synthesize(
    stack: str, secret_values: Mapping[str, str | None] | None = None, directory: Path = REPOSITORY
) -> Synthesis:
    """Run the real program (``infra.program.main``) for ``stack``, its stack file read from
    ``directory``, and return what it registered."""
    config, secret_keys, used = stack_config(stack, secret_values, directory)
    monitor = use_mocks(PROJECT_NAMESPACE, stack, config.get("aws:region", "us-east-1"), config, secret_keys)
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        program.main(require_artifact=False)
        root = pulumi.runtime.settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}))
        return pulumi.Output.all(**exported).apply(outputs.update)

    run()
    return Synthesis(stack=stack, nodes=dict(monitor.nodes), outputs=outputs, secret_values=used)


def main(argv: list[str] | None = None) -> int:
    known = stacks_in(REPOSITORY)
    stacks = (argv if argv is not None else sys.argv[1:]) or list(known)
    for stack in stacks:
        if stack not in known:
            print(f"no stack file Pulumi.{stack}.yaml: one of {', '.join(known)}", file=sys.stderr)
            return 2
        try:
            sys.stdout.write(graph_json(synthesize(stack)))
        except StackSettingsError as error:
            print(error, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
