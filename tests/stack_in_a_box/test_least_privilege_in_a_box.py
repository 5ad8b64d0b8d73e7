"""Least privilege, the other way round: what a function must not do, moto refuses.

The scenario (test_stack_in_a_box.py) shows that each function's synthesized policy is enough; here
each function's IAM user, holding exactly that policy, is refused one thing it has no business
doing, beside one thing it must be able to do (so the refusal is the policy's, not a broken user).
Where moto cannot judge a policy at all, the scenario module's docstring says so.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from box_stack import BoxStack

pytestmark = pytest.mark.integration

# Objects the probes touch; neither matches the notification's ".json" suffix, so none becomes work.
PROBE_EVENT = "post-call/+15550100988/conv_box_probe.txt"
PROBE_INITIATION = "client-data/+15550100988/20260101T000000000Z_CAprobe/received.txt"

Client = Callable[[str], Any]


def parameter(box: BoxStack, variable: str) -> str:
    [name] = {
        value for f in box.plan.functions.values() for key, value in f.environment.items() if key == variable
    }
    return name


def read_parameter(variable: str) -> Callable[[BoxStack, Client], Any]:
    def read(box: BoxStack, client: Client) -> Any:
        ssm = client("ssm")
        return ssm.get_parameters(Names=[parameter(box, variable)], WithDecryption=True)["Parameters"]

    return read


def get(key: str) -> Callable[[BoxStack, Client], Any]:
    return lambda box, client: client("s3").get_object(Bucket=box.plan.bucket, Key=key)["Body"].read()


def put(key: str) -> Callable[[BoxStack, Client], Any]:
    return lambda box, client: client("s3").put_object(Bucket=box.plan.bucket, Key=key, Body=b"{}")


@dataclass(frozen=True)
class Boundary:
    function: str
    forbidden: str
    attempt: Callable[[BoxStack, Client], Any]
    allowed: str
    control: Callable[[BoxStack, Client], Any]


BOUNDARIES = (
    Boundary(
        "client-data",
        "read a post-call event",
        get(PROBE_EVENT),
        "write its pre-call records",
        put(PROBE_INITIATION),
    ),
    # The pre-call reads the caller brief from the archive: since then it holds no Mem0 key.
    Boundary(
        "client-data",
        "read the Mem0 key",
        read_parameter("MEM0_API_KEY_PARAMETER"),
        "read the workspace key",
        read_parameter("ELEVENLABS_WORKSPACE_KEY_PARAMETER"),
    ),
    Boundary(
        "retrieve",
        "write to the archive",
        put(PROBE_INITIATION),
        "read the Mem0 key",
        read_parameter("MEM0_API_KEY_PARAMETER"),
    ),
    Boundary(
        "post-call",
        "read the Mem0 key",
        read_parameter("MEM0_API_KEY_PARAMETER"),
        "read the signing key",
        read_parameter("ELEVENLABS_HMAC_KEY_PARAMETER"),
    ),
    Boundary(
        "post-call-processor",
        "write pre-call records",
        put(PROBE_INITIATION),
        "read archived events",
        get(PROBE_EVENT),
    ),
)


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=[f"{b.function}: {b.forbidden}" for b in BOUNDARIES])
def test_each_function_is_refused_what_its_policy_does_not_grant(box: BoxStack, boundary: Boundary):
    # Given the archive holds a post-call object and the function's user holds exactly its role's policy
    box.deployed.client("s3").put_object(Bucket=box.plan.bucket, Key=PROBE_EVENT, Body=b"{}")

    def as_function(service: str) -> Any:
        return box.deployed.client(service, boundary.function)

    # When it does what it must, Then it may
    assert boundary.control(box, as_function)
    # When it tries what it must not, Then moto refuses it as AWS would
    with pytest.raises(ClientError) as refused:
        boundary.attempt(box, as_function)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "AccessDenied" in str(refused.value) or refused.value.response["Error"]["Code"] == "AccessDenied"


def test_each_functions_user_holds_exactly_its_roles_policies(box: BoxStack):
    iam = box.deployed.client("iam")
    for key, function in box.plan.functions.items():
        user = box.deployed.users[key]
        # Then: the role's inline policies, one for one, and nothing attached besides
        assert iam.list_user_policies(UserName=user)["PolicyNames"] == sorted(function.policies)
        assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
        assert iam.list_groups_for_user(UserName=user)["Groups"] == []
        for name in function.policies:
            document = iam.get_user_policy(UserName=user, PolicyName=name)["PolicyDocument"]
            assert document == box.deployed.policies[key][name]
            assert all(s["Effect"] == "Allow" and "*" not in str(s["Action"]) for s in document["Statement"])
