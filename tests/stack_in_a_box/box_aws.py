"""The AWS side of the box: moto's server with IAM enforcement, and a stack deployed into it.

``MotoServer`` starts ``box_moto_server.py`` in its own process with ``INITIAL_NO_AUTH_ACTION_COUNT``
set to exactly the actions that create the admin user (the deployer: allowed everything, as whoever
runs ``pulumi up`` is); every later request must be signed by a known user and allowed by its
policies. ``deploy`` then creates what a ``StackPlan`` describes, as the admin: the KMS key, the
SecureString parameters (names and values from the graph), the queues (redrive from the graph), the
bucket (versioning as the graph says) with its notification (events, prefix and suffix from the
graph), and one IAM user per function holding exactly its role's policy documents.

ARNs in the synthesized policies are the mocks' (account 111111111111, a made-up key id); each is
mapped to the ARN of the resource moto created, and a policy that would still name a mocked
resource after the mapping fails the deployment rather than silently granting nothing.
"""

import json
import os
import secrets
import select
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from box_graph import StackPlan

# CreateUser, PutUserPolicy and CreateAccessKey for the admin; every request after them is checked.
ADMIN_BOOTSTRAP_ACTIONS = 3
ADMIN_USER = "stack-in-a-box-admin"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SERVER_SCRIPT = Path(__file__).with_name("box_moto_server.py")
SERVER_START_SECONDS = 60
# The visibility timeout the box gives the processing queue (the stack's is 6 x the processor's
# timeout, 360 s). The event source mapping would wait that long before a failed message can be
# received again; with 0 it is visible at the next receive. Receive counting and the redrive to the
# dead-letter queue after maxReceiveCount receives are moto's own, unchanged.
BOX_VISIBILITY_TIMEOUT_SECONDS = 0


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str

    def client(self, service: str, endpoint: str, region: str) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )


class MotoServer:
    """moto's server on 127.0.0.1 in a child process, with IAM enforcement and an admin user."""

    def __init__(self, log_path: Path, region: str = "us-east-1") -> None:
        self.region = region
        self.log_path = log_path
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = str(ADMIN_BOOTSTRAP_ACTIONS)
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(SERVER_SCRIPT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=environment,
                text=True,
            )
        assert self.process.stdout is not None
        started, _, _ = select.select([self.process.stdout], [], [], SERVER_START_SECONDS)
        announced = self.process.stdout.readline().split() if started else []
        if announced[:1] != ["PORT"]:
            self.stop()
            raise RuntimeError(
                f"moto's server did not start:\n{log_path.read_text(errors='replace')[-3000:]}"
            )
        self.endpoint = f"http://127.0.0.1:{announced[1]}"
        self.admin = self._bootstrap_admin()
        self.account = self.client("sts").get_caller_identity()["Account"]

    def _bootstrap_admin(self) -> Credentials:
        # Any signature passes while moto still counts unauthenticated actions.
        anyone = Credentials("AKIABOOTSTRAP0000000", secrets.token_urlsafe(30))
        iam = anyone.client("iam", self.endpoint, self.region)
        iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(
            UserName=ADMIN_USER, PolicyName="deployer", PolicyDocument=json.dumps(ADMIN_POLICY)
        )
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        return Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def client(self, service: str, credentials: Credentials | None = None, region: str | None = None) -> Any:
        return (credentials or self.admin).client(service, self.endpoint, region or self.region)

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class DeployedStack:
    """A stack as moto holds it: real ARNs and URLs, and each function's credentials."""

    plan: StackPlan
    server: MotoServer
    key_arn: str
    queue_urls: dict[str, str]  # by queue name
    queue_arns: dict[str, str]  # by queue name
    users: dict[str, str] = field(default_factory=dict)  # function key -> IAM user name
    credentials: dict[str, Credentials] = field(default_factory=dict)  # function key -> keys
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # function key -> name -> document
    _clients: dict[tuple[str, str | None], Any] = field(default_factory=dict)

    @property
    def queue_url(self) -> str:
        return self.queue_urls[self.plan.processing_queue.name]

    @property
    def queue_arn(self) -> str:
        return self.queue_arns[self.plan.processing_queue.name]

    @property
    def dead_letter_queue_url(self) -> str:
        return self.queue_urls[self.plan.dead_letter_queue.name]

    def client(self, service: str, function_key: str | None = None) -> Any:
        """A client as the admin, or with the credentials of ``function_key``'s user (built once)."""
        if (service, function_key) not in self._clients:
            credentials = self.credentials[function_key] if function_key else None
            self._clients[service, function_key] = self.server.client(service, credentials, self.plan.region)
        return self._clients[service, function_key]


def deploy(plan: StackPlan, server: MotoServer) -> DeployedStack:
    kms, ssm, sqs, s3, iam = (
        server.client(s, region=plan.region) for s in ("kms", "ssm", "sqs", "s3", "iam")
    )
    key_arn = kms.create_key(Description=plan.key_description)["KeyMetadata"]["Arn"]
    real: dict[str, str] = {plan.key_mock_arn: key_arn}
    for parameter in plan.parameters:
        ssm.put_parameter(
            Name=parameter.name,
            Value=parameter.value,
            Type="SecureString",
            KeyId=_mapped(parameter.key_arn, real),
        )
        real[parameter.mock_arn] = (
            f"arn:aws:ssm:{plan.region}:{server.account}:parameter/{parameter.name.lstrip('/')}"
        )

    queue_urls: dict[str, str] = {}
    queue_arns: dict[str, str] = {}
    # Dead-letter queues first: a redrive policy names its target's ARN.
    for queue in sorted(plan.queues.values(), key=lambda q: q.redrive is not None):
        attributes = {
            "MessageRetentionPeriod": str(queue.retention_seconds),
            "VisibilityTimeout": str(queue.visibility_timeout_seconds),
            "SqsManagedSseEnabled": "true",
        }
        if queue.mock_arn == plan.mapping.queue_arn:
            attributes["VisibilityTimeout"] = str(BOX_VISIBILITY_TIMEOUT_SECONDS)
        if queue.redrive:
            redrive = {
                **queue.redrive,
                "deadLetterTargetArn": _mapped(queue.redrive["deadLetterTargetArn"], real),
            }
            attributes["RedrivePolicy"] = json.dumps(redrive)
        url = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_urls[queue.name], queue_arns[queue.name], real[queue.mock_arn] = url, arn, arn

    # Outside us-east-1, S3 wants the region named (as Pulumi's provider does for the stack's bucket).
    location = (
        {}
        if plan.region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": plan.region}}
    )
    s3.create_bucket(Bucket=plan.bucket, **location)
    if plan.versioned:
        s3.put_bucket_versioning(Bucket=plan.bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=plan.bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": _mapped(notification.queue_arn, real),
                    "Events": list(notification.events),
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": notification.prefix},
                                {"Name": "suffix", "Value": notification.suffix},
                            ]
                        }
                    },
                }
                for notification in plan.notifications
            ]
        },
    )

    deployed = DeployedStack(plan, server, key_arn, queue_urls, queue_arns)
    for function in plan.functions.values():
        user = f"{function.name}-role"
        iam.create_user(UserName=user)
        deployed.policies[function.key] = {}
        for policy_name, document in function.policies.items():
            translated = translate(document, real, plan.region, server.account)
            iam.put_user_policy(UserName=user, PolicyName=policy_name, PolicyDocument=json.dumps(translated))
            deployed.policies[function.key][policy_name] = translated
        key = iam.create_access_key(UserName=user)["AccessKey"]
        deployed.users[function.key] = user
        deployed.credentials[function.key] = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    return deployed


def translate(document: Any, real: Mapping[str, str], region: str, account: str) -> Any:
    """``document`` with every mocked ARN replaced by moto's.

    Only log groups keep the mocks' account: CloudWatch Logs is not part of the box (functions log to
    their standard output), so no request ever names them.
    """
    text = json.dumps(document)
    for mocked in sorted(real, key=len, reverse=True):
        text = text.replace(mocked, real[mocked])
    translated = json.loads(text)
    leftover = [
        resource
        for resource in _resources(translated)
        if ":111111111111:" in resource and not resource.startswith(f"arn:aws:logs:{region}:")
    ]
    if leftover:
        raise AssertionError(f"policy names resources the box did not create: {leftover}")
    return translated


def _resources(document: Any) -> list[str]:
    found: list[str] = []
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        resources = statement.get("Resource", [])
        found += resources if isinstance(resources, list) else [resources]
        for values in (statement.get("Condition") or {}).values():
            for value in values.values():
                found += [
                    v for v in (value if isinstance(value, list) else [value]) if str(v).startswith("arn:")
                ]
    return found


def _mapped(mock: str, real: Mapping[str, str]) -> str:
    if mock not in real:
        raise AssertionError(f"{mock} names a resource the box did not create")
    return real[mock]
