"""The program Pulumi runs for every stack: settings, secrets and the artifact in, resources and
outputs out. Stacks differ only through their ``Pulumi.<stack>.yaml``."""

import pulumi

from infra import packaging
from infra.secret_config import load_secrets
from infra.settings import load_settings
from infra.stack import StackResources, build_stack


def lambda_code(architecture: str, require_artifact: bool = True) -> pulumi.Archive:
    """The Lambda zip for ``architecture``, built (or reused when its inputs are unchanged) on the
    spot so that ``pulumi up`` deploys what the working tree holds; which of the two is logged.

    ``require_artifact=False`` only names the zip's path and builds nothing: for the offline synthesis,
    whose mocks never read the archive. Raises packaging.ArtifactError when the build fails.
    """
    if not require_artifact:
        return pulumi.FileArchive(str(packaging.artifact_path(architecture)))
    artifact = packaging.ensure_artifact(packaging.Target.lambda_runtime(architecture), say=pulumi.log.info)
    return pulumi.FileArchive(str(artifact.zip_path))


def main(require_artifact: bool = True) -> StackResources:
    """``require_artifact=False`` is for the offline tests: nothing is built, see ``lambda_code``."""
    settings = load_settings()
    resources = build_stack(
        settings, load_secrets(settings), lambda_code(settings.architecture, require_artifact)
    )
    for name, value in resources.outputs().items():
        pulumi.export(name, value)
    return resources
