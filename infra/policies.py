"""Policy checks over a synthesized stack, each returning its violations (empty = compliant).

They play the part of a CrossGuard policy pack, run offline over the graph ``infra.synth`` records
(the real analyzer would see the same inputs, secrets included in plain text). Each check is strict:
an Allow with ``*`` as action or resource fails, whatever the condition; nothing here is advisory.
"""

import re
from collections.abc import Callable, Iterator
from typing import Any

from infra.graph import ResourceNode, Synthesis, is_secret

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
QUEUE = "aws:sqs/queue:Queue"
POLICY_INPUTS = ("policy", "assumeRolePolicy")
# An environment variable with one of these endings would be holding a secret, not naming one.
SECRET_LOOKING_NAME = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD)$")
# The resource part of an ARN: its first segment ("bucket", "key", "log-group"), then the rest.
_RESOURCE_PATH = re.compile(r"([^/:]*)([/:]?)(.*)", re.DOTALL)
REQUIRED_FUNCTION_ALARMS = ("Errors", "Duration")

Check = Callable[[Synthesis], list[str]]


def _dependents(synthesis: Synthesis, node: ResourceNode, type_: str) -> list[ResourceNode]:
    # Matched by dependency edge, not by name: physical names are generated at deploy time.
    return [other for other in synthesis.of_type(type_) if node.urn in other.depends_on]


def public_or_unencrypted_buckets(synthesis: Synthesis) -> list[str]:
    violations = []
    for bucket in synthesis.of_type(BUCKET):
        blocks = _dependents(synthesis, bucket, PUBLIC_ACCESS_BLOCK)
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        if not any(all(block.inputs.get(flag) is True for flag in flags) for block in blocks):
            violations.append(f"{bucket.urn}: no public access block with all four settings on")
        owners = _dependents(synthesis, bucket, OWNERSHIP)
        if not any(
            (o.inputs.get("rule") or {}).get("objectOwnership") == "BucketOwnerEnforced" for o in owners
        ):
            violations.append(f"{bucket.urn}: ACLs are not disabled (BucketOwnerEnforced)")
        if bucket.inputs.get("acl") not in (None, "private"):
            violations.append(f"{bucket.urn}: has ACL {bucket.inputs.get('acl')!r}")
        if not _dependents(synthesis, bucket, ENCRYPTION):
            violations.append(f"{bucket.urn}: no default encryption")
        policies = [p.document("policy") for p in _dependents(synthesis, bucket, BUCKET_POLICY)]
        if not any(_denies_plain_http(policy) for policy in policies):
            violations.append(f"{bucket.urn}: no bucket policy denying requests without TLS")
    return violations


def _denies_plain_http(policy: Any) -> bool:
    return any(
        statement.get("Effect") == "Deny"
        and (statement.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
        for statement in _statements(policy)
    )


def _statements(policy: Any) -> list[dict[str, Any]]:
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def policy_documents(synthesis: Synthesis) -> Iterator[tuple[str, Any]]:
    for urn, node in sorted(synthesis.nodes.items()):
        for key in POLICY_INPUTS:
            if key in node.inputs:
                yield f"{urn}.{key}", node.document(key)


def wildcard_permissions(synthesis: Synthesis) -> list[str]:
    """Allow statements must name their actions and resources; public principals are refused too."""
    violations = []
    for where, policy in policy_documents(synthesis):
        for statement in _statements(policy):
            if statement.get("Effect") != "Allow":
                continue
            sid = statement.get("Sid", "(no Sid)")
            if "NotAction" in statement or "NotResource" in statement:
                violations.append(f"{where} {sid}: NotAction/NotResource in an Allow")
            for action in _as_list(statement.get("Action")):
                if "*" in str(action):
                    violations.append(f"{where} {sid}: wildcard action {action!r}")
            for resource in _as_list(statement.get("Resource")):
                if is_wildcard_resource(str(resource)):
                    violations.append(f"{where} {sid}: wildcard resource {resource!r}")
            if _is_public_principal(statement.get("Principal")):
                violations.append(f"{where} {sid}: allows any principal")
    return violations


def is_wildcard_resource(resource: str) -> bool:
    """``*``, or an ARN that does not pin its account, region and first resource name segment.

    ``arn:aws:s3:::bucket/post-call/*`` (objects under one prefix) and
    ``arn:aws:logs:r:a:log-group:/aws/lambda/f:*`` (the streams of one group) are specific;
    ``arn:aws:s3:::*``, ``arn:aws:kms:r:a:key/*`` and ``arn:aws:logs:*:*:*`` are not.
    """
    if resource == "*" or not resource.startswith("arn:"):
        return resource == "*"
    parts = resource.split(":", 5)
    if len(parts) < 6 or any("*" in part for part in parts[1:5]):
        return True
    head, _, rest = _RESOURCE_PATH.fullmatch(parts[5]).groups()  # type: ignore[union-attr]
    return "*" in head or rest.startswith("*")


def _is_public_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))


def secrets_in_function_environments(synthesis: Synthesis) -> list[str]:
    """Functions get parameter names only: no secret value, no secret-marked block, no KEY-named variable."""
    violations = []
    for function in synthesis.of_type(FUNCTION):
        environment = function.inputs.get("environment") or {}
        if is_secret(environment) or is_secret(environment.get("variables")):
            violations.append(f"{function.urn}: environment is secret-marked (a secret flows into it)")
        variables = function.plain_inputs().get("environment", {}).get("variables", {})
        for name, value in sorted(variables.items()):
            if SECRET_LOOKING_NAME.search(name):
                violations.append(f"{function.urn}: variable {name} looks like it holds a secret")
            for key, secret in synthesis.secret_values.items():
                if secret and secret in str(value):
                    violations.append(f"{function.urn}: variable {name} contains the value of {key}")
    return violations


def missing_retention(synthesis: Synthesis) -> list[str]:
    """Every log group expires its logs, every function logs into such a group, every queue says how
    long it keeps messages."""
    violations = []
    groups = {node.inputs.get("name"): node for node in synthesis.of_type(LOG_GROUP)}
    for name, group in sorted(groups.items(), key=lambda item: str(item[0])):
        if not group.inputs.get("retentionInDays"):
            violations.append(f"{group.urn}: log group {name} keeps logs forever")
    for function in synthesis.of_type(FUNCTION):
        target = (function.inputs.get("loggingConfig") or {}).get(
            "logGroup"
        ) or f"/aws/lambda/{function.inputs.get('name')}"
        if target not in groups:
            violations.append(f"{function.urn}: logs to {target}, a group the stack does not manage")
    for queue in synthesis.of_type(QUEUE):
        if not queue.inputs.get("messageRetentionSeconds"):
            violations.append(f"{queue.urn}: no explicit message retention")
    return violations


def unwatched_functions(synthesis: Synthesis) -> list[str]:
    """Every function has an errors alarm and a duration alarm that notify someone."""
    watched: dict[str, set[str]] = {}
    for alarm in synthesis.of_type(METRIC_ALARM):
        inputs = alarm.inputs
        function_name = (inputs.get("dimensions") or {}).get("FunctionName")
        if inputs.get("namespace") == "AWS/Lambda" and function_name and inputs.get("alarmActions"):
            watched.setdefault(function_name, set()).add(str(inputs.get("metricName")))
    violations = []
    for function in synthesis.of_type(FUNCTION):
        name = function.inputs.get("name")
        missing = [
            metric for metric in REQUIRED_FUNCTION_ALARMS if metric not in watched.get(str(name), set())
        ]
        if missing:
            violations.append(f"{function.urn}: no alarm with an action on {', '.join(missing)}")
    return violations


POLICIES: dict[str, Check] = {
    "buckets are private and encrypted": public_or_unencrypted_buckets,
    "no wildcard IAM action or resource": wildcard_permissions,
    "no secret in any function environment": secrets_in_function_environments,
    "retention is set everywhere": missing_retention,
    "every function is behind alarms": unwatched_functions,
}


def violations(synthesis: Synthesis) -> dict[str, list[str]]:
    return {name: found for name, check in POLICIES.items() if (found := check(synthesis))}
