"""Policy checks over the synthesized stacks: every stack passes every policy, and every policy
catches the violation it exists for (planted into a copy of a real stack)."""

import dataclasses
import json

import pytest
from pulumi.runtime import rpc

from infra.functions import FUNCTIONS
from infra.graph import Synthesis
from infra.policies import POLICIES, is_wildcard_resource, violations

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"


def test_every_stack_passes_every_policy(stack):
    assert violations(stack) == {}


def changed(synthesis: Synthesis, type_: str, name: str, **inputs) -> Synthesis:
    """A copy of ``synthesis`` with some inputs of one resource replaced (None removes one)."""
    node = synthesis.named(type_, name)
    new_inputs = {**node.inputs, **inputs}
    new_inputs = {key: value for key, value in new_inputs.items() if value is not None}
    nodes = {**synthesis.nodes, node.urn: dataclasses.replace(node, inputs=new_inputs)}
    return dataclasses.replace(synthesis, nodes=nodes)


def without(synthesis: Synthesis, type_: str, name: str) -> Synthesis:
    node = synthesis.named(type_, name)
    return dataclasses.replace(synthesis, nodes={k: v for k, v in synthesis.nodes.items() if k != node.urn})


def with_statement(synthesis: Synthesis, function_key: str, statement: dict) -> Synthesis:
    node = synthesis.named(ROLE_POLICY, f"{function_key}-permissions")
    policy = node.document("policy")
    policy["Statement"].append(statement)
    return changed(synthesis, ROLE_POLICY, f"{function_key}-permissions", policy=json.dumps(policy))


def secret(value):
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


@pytest.fixture
def dev(synthesized):
    return synthesized["dev"]


def found(check_name: str, synthesis: Synthesis) -> list[str]:
    return POLICIES[check_name](synthesis)


@pytest.mark.parametrize(
    "plant",
    [
        lambda s: changed(s, BLOCK, "archive-public-access-block", restrictPublicBuckets=False),
        lambda s: without(s, BLOCK, "archive-public-access-block"),
        lambda s: without(s, "aws:s3/bucketPolicy:BucketPolicy", "archive-tls-only"),
        lambda s: without(
            s, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "archive-encryption",
        ),
        lambda s: changed(s, "aws:s3/bucket:Bucket", "archive", acl="public-read"),
        lambda s: changed(
            s, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "archive-ownership",
            rule={"objectOwnership": "ObjectWriter"},
        ),
    ],
    ids=["block-off", "no-block", "no-tls-policy", "unencrypted", "public-acl", "acls"],
)  # fmt: skip
def test_a_public_or_unencrypted_bucket_is_caught(dev, plant):
    assert found("buckets are private and encrypted", plant(dev))


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/client-data/*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:111111111111:key/*",
         "Condition": {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}},
        {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": "AgenticMemory"}}},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::bucket"},
    ],
    ids=["wildcard-action", "star-resource", "every-key", "star-even-with-condition", "not-action"],
)  # fmt: skip
def test_a_wildcard_permission_is_caught_even_behind_a_condition(dev, statement):
    assert found("no wildcard IAM action or resource", with_statement(dev, "retrieve", statement))


def test_a_public_principal_is_caught(dev):
    queue_policy = dev.named("aws:sqs/queuePolicy:QueuePolicy", "post-call-events-accepts-archive-events")
    policy = queue_policy.document("policy")
    policy["Statement"][0]["Principal"] = "*"
    planted = changed(dev, queue_policy.type, queue_policy.name, policy=json.dumps(policy))
    assert any("any principal" in v for v in found("no wildcard IAM action or resource", planted))


def test_deny_statements_may_use_wildcards(dev):
    statement = {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
    assert not found("no wildcard IAM action or resource", with_statement(dev, "retrieve", statement))


@pytest.mark.parametrize(
    ("resource", "wildcard"),
    [
        ("*", True),
        ("arn:aws:s3:::*", True),
        ("arn:aws:logs:*:*:*", True),
        ("arn:aws:kms:us-east-1:111111111111:key/*", True),
        ("arn:aws:ssm:us-east-1:111111111111:parameter/*", True),
        ("arn:aws:lambda:us-east-1:*:function:x", True),
        ("arn:aws:s3:::bucket*", True),
        ("arn:aws:s3:::bucket", False),
        ("arn:aws:s3:::bucket/post-call/*", False),
        ("arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/f:*", False),
        ("arn:aws:ssm:us-east-1:111111111111:parameter/agentic-memory/dev/mem0-api-key", False),
        ("arn:aws:sqs:us-east-1:111111111111:queue", False),
    ],
)
def test_what_counts_as_a_wildcard_resource(resource, wildcard):
    assert is_wildcard_resource(resource) is wildcard


def test_a_secret_value_in_a_function_environment_is_caught(dev):
    function = dev.named("aws:lambda/function:Function", "retrieve")
    variables = dict(function.inputs["environment"]["variables"])
    leaked = dict(variables, EXTRA=f"prefix-{dev.secret_values['mem0:apiKey']}")
    planted = changed(dev, function.type, function.name, environment={"variables": leaked})
    assert any("mem0:apiKey" in v for v in found("no secret in any function environment", planted))


@pytest.mark.parametrize(
    "environment",
    [
        {"variables": {"MEM0_API_KEY": "looks-harmless"}},
        secret({"variables": {"A": "b"}}),
    ],
    ids=["secret-looking-name", "secret-marked-block"],
)
def test_a_secret_shaped_environment_is_caught(dev, environment):
    planted = changed(dev, "aws:lambda/function:Function", "retrieve", environment=environment)
    assert found("no secret in any function environment", planted)


def test_a_log_group_without_retention_is_caught(dev):
    planted = changed(dev, "aws:cloudwatch/logGroup:LogGroup", "retrieve-logs", retentionInDays=None)
    assert found("retention is set everywhere", planted)


def test_a_function_logging_to_an_unmanaged_group_is_caught(dev):
    function = dev.named("aws:lambda/function:Function", "post-call")
    logging = dict(function.inputs["loggingConfig"], logGroup="/somewhere/else")
    planted = changed(dev, function.type, function.name, loggingConfig=logging)
    assert found("retention is set everywhere", planted)


def test_a_queue_without_explicit_retention_is_caught(dev):
    planted = changed(dev, "aws:sqs/queue:Queue", "post-call-events-dlq", messageRetentionSeconds=None)
    assert found("retention is set everywhere", planted)


@pytest.mark.parametrize("alarm", ["post-call-p95-over-budget", "post-call-processor-errors"])
def test_a_function_without_its_alarms_is_caught(dev, alarm):
    planted = without(dev, "aws:cloudwatch/metricAlarm:MetricAlarm", alarm)
    assert found("every function is behind alarms", planted)


def test_an_alarm_that_notifies_nobody_does_not_count(dev):
    planted = changed(dev, "aws:cloudwatch/metricAlarm:MetricAlarm", "retrieve-errors", alarmActions=[])
    assert found("every function is behind alarms", planted)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.key)
def test_a_function_that_reads_a_prefix_may_also_list_it(spec):
    # S3 answers a missing key 404 only to a caller with s3:ListBucket, otherwise 403: without it a
    # new caller's absent brief would read as an archive failure. moto answers 404 either way, so the
    # stack-in-a-box suite cannot catch a missing ListBucket; this check does, from the table.
    assert set(spec.archive.read) <= set(spec.archive.list), spec.key
