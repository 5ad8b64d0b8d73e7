"""The operator commands find the region the way people set it (boto3 ignores ``AWS_REGION``)."""

from local_runtime.cli import adopt_aws_region


def test_aws_region_stands_in_for_a_missing_aws_default_region() -> None:
    environ = {"AWS_REGION": "eu-west-2"}

    adopt_aws_region(environ)

    assert environ["AWS_DEFAULT_REGION"] == "eu-west-2"


def test_an_explicit_aws_default_region_wins() -> None:
    environ = {"AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "us-east-1"}

    adopt_aws_region(environ)

    assert environ["AWS_DEFAULT_REGION"] == "us-east-1"


def test_a_setting_that_cannot_configure_a_command_is_named_without_a_traceback(
    monkeypatch, tmp_path, capsys
) -> None:
    from local_runtime import cli

    (tmp_path / "archive").mkdir()  # a home with data: an empty one is refused before any setting is read
    monkeypatch.setenv("AGENTIC_MEMORY_HOME", str(tmp_path))
    monkeypatch.setenv("RETENTION_DAYS", "abc")

    status = cli.main(["retention", "purge", "--dry-run"])

    assert status == 2
    assert "RETENTION_DAYS" in capsys.readouterr().err
