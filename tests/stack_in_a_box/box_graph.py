"""What the box takes from a synthesized stack: only what the program itself registered.

``infra.synth.synthesize`` runs the real Pulumi program against Pulumi's mocks; this module reads the
resulting graph into plain records (functions with their handler, environment, timeout and role
policy; the archive bucket and its notification; the queue, its redrive policy and its dead-letter
queue; the event source mapping; the secret parameters and their key). Nothing here restates the
stack: if the program changes an environment variable or a policy, the box runs with the change.

Values the provider computes (ARNs, the KMS key id) are the mocks' inventions. ``mock_arn`` recomputes
them with the mocks' own function, so that ``box_aws`` can map each one to the real resource moto
creates.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.graph import ResourceNode, Synthesis, unwrap_secrets
from infra.synth import MOCK_ACCOUNT_ID, computed_state

FUNCTION = "aws:lambda/function:Function"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
QUEUE = "aws:sqs/queue:Queue"
EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
PARAMETER = "aws:ssm/parameter:Parameter"
KMS_KEY = "aws:kms/key:Key"
PROVIDER = "pulumi:providers:aws"


@dataclass(frozen=True)
class FunctionPlan:
    key: str  # the component name: client-data, retrieve, post-call, post-call-processor
    name: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, str]
    logging: Mapping[str, str]
    policies: Mapping[str, Any]  # policy name -> document, as attached to the function's role

    def alias_arn(self, region: str, account: str) -> str:
        return f"arn:aws:lambda:{region}:{account}:function:{self.name}:live"


@dataclass(frozen=True)
class QueuePlan:
    name: str
    mock_arn: str
    visibility_timeout_seconds: int
    retention_seconds: int
    redrive: Mapping[str, Any] | None  # {"deadLetterTargetArn", "maxReceiveCount"}


@dataclass(frozen=True)
class NotificationPlan:
    queue_arn: str  # a mock ARN: one of the queues'
    events: tuple[str, ...]
    prefix: str
    suffix: str


@dataclass(frozen=True)
class MappingPlan:
    queue_arn: str
    function_arn: str
    batch_size: int
    response_types: tuple[str, ...]


@dataclass(frozen=True)
class ParameterPlan:
    name: str
    mock_arn: str
    value: str
    key_arn: str  # a mock ARN: the stack's KMS key


@dataclass(frozen=True)
class StackPlan:
    stack: str
    region: str
    bucket: str
    versioned: bool
    functions: Mapping[str, FunctionPlan]
    queues: Mapping[str, QueuePlan]  # by mock ARN
    notifications: tuple[NotificationPlan, ...]
    mapping: MappingPlan
    parameters: tuple[ParameterPlan, ...]
    key_mock_arn: str
    key_description: str

    def queue(self, mock_arn: str) -> QueuePlan:
        return self.queues[mock_arn]

    @property
    def processing_queue(self) -> QueuePlan:
        return self.queues[self.mapping.queue_arn]

    @property
    def dead_letter_queue(self) -> QueuePlan:
        redrive = self.processing_queue.redrive
        assert redrive, "the processing queue has no redrive policy"
        return self.queues[redrive["deadLetterTargetArn"]]

    def function_for_handler(self, handler: str) -> FunctionPlan:
        [function] = [f for f in self.functions.values() if f.handler == handler]
        return function

    @property
    def processor(self) -> FunctionPlan:
        [function] = [
            f for f in self.functions.values() if self.mapping.function_arn.endswith(f":{f.name}:live")
        ]
        return function


def mock_arn(node: ResourceNode, region: str) -> str:
    """The ARN the mocks gave ``node`` (and wrote into every policy that names it)."""
    arn: str = computed_state(node.type, node.name, node.plain_inputs(), region, MOCK_ACCOUNT_ID)["arn"]
    return arn


def plan_of(synthesis: Synthesis) -> StackPlan:
    [provider] = synthesis.of_type(PROVIDER)
    region = str(provider.inputs["region"])
    [bucket] = synthesis.of_type(BUCKET)
    [key] = synthesis.of_type(KMS_KEY)
    [mapping] = synthesis.of_type(EVENT_SOURCE_MAPPING)
    return StackPlan(
        stack=synthesis.stack,
        region=region,
        bucket=str(synthesis.outputs["archiveBucketName"]),
        versioned=any(
            (node.plain_inputs().get("versioningConfiguration") or {}).get("status") == "Enabled"
            for node in synthesis.of_type(BUCKET_VERSIONING)
            if bucket.urn in node.depends_on or node.parent == bucket.parent
        ),
        functions={node.name: _function(synthesis, node) for node in synthesis.of_type(FUNCTION)},
        queues={
            arn: plan
            for arn, plan in ((mock_arn(q, region), _queue(q, region)) for q in synthesis.of_type(QUEUE))
        },
        notifications=tuple(
            NotificationPlan(
                queue_arn=target["queueArn"],
                events=tuple(target["events"]),
                prefix=target.get("filterPrefix", ""),
                suffix=target.get("filterSuffix", ""),
            )
            for node in synthesis.of_type(NOTIFICATION)
            for target in node.plain_inputs().get("queues", [])
        ),
        mapping=MappingPlan(
            queue_arn=mapping.inputs["eventSourceArn"],
            function_arn=mapping.inputs["functionName"],
            batch_size=int(mapping.inputs["batchSize"]),
            response_types=tuple(mapping.inputs.get("functionResponseTypes") or ()),
        ),
        parameters=tuple(
            ParameterPlan(
                name=node.inputs["name"],
                mock_arn=mock_arn(node, region),
                value=str(unwrap_secrets(node.inputs["value"])),
                key_arn=node.inputs["keyId"],
            )
            for node in synthesis.of_type(PARAMETER)
        ),
        key_mock_arn=mock_arn(key, region),
        key_description=str(key.inputs.get("description", "")),
    )


def _function(synthesis: Synthesis, node: ResourceNode) -> FunctionPlan:
    inputs = node.plain_inputs()
    roles = [
        computed_state(ROLE, r.name, r.plain_inputs(), "", MOCK_ACCOUNT_ID) for r in synthesis.of_type(ROLE)
    ]
    [role] = [role for role in roles if role["arn"] == inputs["role"]]
    # A role policy names its role by id (the role's physical name).
    policies = {
        policy.name: policy.document("policy")
        for policy in synthesis.of_type(ROLE_POLICY)
        if policy.plain_inputs().get("role") == role["id"]
    }
    return FunctionPlan(
        key=node.name,
        name=inputs["name"],
        handler=inputs["handler"],
        timeout_seconds=int(inputs["timeout"]),
        memory_mb=int(inputs["memorySize"]),
        environment={name: str(value) for name, value in inputs["environment"]["variables"].items()},
        logging={name: str(value) for name, value in (inputs.get("loggingConfig") or {}).items()},
        policies=policies,
    )


def _queue(node: ResourceNode, region: str) -> QueuePlan:
    inputs = node.plain_inputs()
    redrive = inputs.get("redrivePolicy")
    return QueuePlan(
        name=inputs["name"],
        mock_arn=mock_arn(node, region),
        visibility_timeout_seconds=int(inputs.get("visibilityTimeoutSeconds", 30)),
        retention_seconds=int(inputs.get("messageRetentionSeconds", 345600)),
        redrive=json.loads(redrive) if isinstance(redrive, str) else redrive,
    )
