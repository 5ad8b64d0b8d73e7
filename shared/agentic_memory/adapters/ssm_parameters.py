"""Secrets by reference: in AWS a function receives SSM parameter *names* and reads the SecureString
values once per execution environment (Powertools Parameters caches them)."""

from collections.abc import Mapping

# For each secret the functions use, ``<NAME>_PARAMETER`` may name the SSM parameter that holds it.
SECRET_VARIABLES = (
    "ELEVENLABS_WORKSPACE_KEY",
    "ELEVENLABS_HMAC_KEY",
    "ELEVENLABS_TOOL_KEY",
    "ELEVENLABS_API_KEY",
    "MEM0_API_KEY",
)
PARAMETER_SUFFIX = "_PARAMETER"
CACHE_SECONDS = 300


def parameter_names(environ: Mapping[str, str]) -> dict[str, str]:
    """Secret variable → SSM parameter name, for the secrets given by reference and not by value."""
    return {
        name: environ[name + PARAMETER_SUFFIX]
        for name in SECRET_VARIABLES
        if environ.get(name + PARAMETER_SUFFIX) and not environ.get(name)
    }


def resolve_secret_parameters(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with every referenced secret's value filled in (one batched SSM read)."""
    wanted = parameter_names(environ)
    if not wanted:
        return dict(environ)
    # Imported only when secrets are given by reference: it brings boto3 with it.
    from aws_lambda_powertools.utilities.parameters import get_parameters_by_name

    values = get_parameters_by_name(
        parameters={parameter: {} for parameter in wanted.values()}, decrypt=True, max_age=CACHE_SECONDS
    )
    return {**environ, **{name: str(values[parameter]) for name, parameter in wanted.items()}}
