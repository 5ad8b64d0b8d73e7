"""The operator commands find the region the way people set it (boto3 ignores ``AWS_REGION``)."""

from agentic_memory.local.cli import adopt_aws_region


def test_aws_region_stands_in_for_a_missing_aws_default_region() -> None:
    environ = {"AWS_REGION": "eu-west-2"}

    adopt_aws_region(environ)

    assert environ["AWS_DEFAULT_REGION"] == "eu-west-2"


def test_an_explicit_aws_default_region_wins() -> None:
    environ = {"AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "us-east-1"}

    adopt_aws_region(environ)

    assert environ["AWS_DEFAULT_REGION"] == "us-east-1"
