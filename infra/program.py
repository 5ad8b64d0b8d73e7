"""The program Pulumi runs for every stack: settings, secrets and the artifact in, resources and
outputs out. Stacks differ only through their ``Pulumi.<stack>.yaml``."""

from pathlib import Path

import pulumi

from infra import packaging
from infra.secret_config import load_secrets
from infra.settings import load_settings
from infra.stack import StackResources, build_stack


class ArtifactMissing(FileNotFoundError):
    """The Lambda zip for the stack's architecture has not been built."""


def lambda_code(architecture: str, require_artifact: bool = True) -> pulumi.Archive:
    path: Path = packaging.artifact_path(architecture)
    if require_artifact and not path.is_file():
        raise ArtifactMissing(
            f"{path} does not exist: run `make package ARCH={architecture}` before `pulumi up`"
        )
    return pulumi.FileArchive(str(path))


def main(require_artifact: bool = True) -> StackResources:
    """``require_artifact=False`` is for the offline tests: Pulumi's mocks never read the archive."""
    settings = load_settings()
    resources = build_stack(
        settings, load_secrets(settings), lambda_code(settings.architecture, require_artifact)
    )
    for name, value in resources.outputs().items():
        pulumi.export(name, value)
    return resources
