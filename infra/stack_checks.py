"""What must hold for every stack file a deployment has, whatever values its team chose.

    python -m infra.stack_checks               # every Pulumi.<stack>.yaml in the repository
    python -m infra.stack_checks path/to/dir   # every Pulumi.<stack>.yaml there

These are the checks a team's own stack files (their region, their alarm address, their agents'
numbers, secrets set with ``pulumi config set --secret``) must pass, and the ones ``make test`` runs
on the repository's stack files. Pinned values and snapshots are not here: the tests keep those on
stack files of their own (tests/infra/fixtures/).

- the file is a stack file the program can use: every key known, every value valid (the program
  refuses the same, naming the key; infra.settings);
- secrets only as ciphertext: each secret key is a ``secure:`` value, and no setting is encrypted
  (the program reads settings in clear, so an encrypted one would not be what it seems);
- the program synthesizes, and the graph passes every policy (infra.policies: private encrypted
  archive, least privilege with no wildcard, no secret in a function environment, retention
  everywhere, every function behind alarms);
- a stack that keeps data (``prod``) cannot be destroyed with its archive, keeps old versions, and
  expires nothing of the record memories are rebuilt from; shared stacks (staging, prod) demand the
  tool key and name their ElevenLabs workspace and Mem0 project;
- no two stacks name the same Mem0 project (staging would write into prod's memories) or the same
  ElevenLabs workspace (the pre-call webhook is workspace-wide).
"""

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from infra.graph import REPOSITORY
from infra.policies import violations
from infra.secret_config import SECRETS
from infra.settings import StackSettings, StackSettingsError
from infra.synth import settings_of, stack_file, stack_file_config, stacks_in, synthesize

SECRET_CONFIG_KEYS = frozenset(spec.config_key for spec in SECRETS)
# Stacks whose archive is the record of real callers: never destroyed with it, never expired.
KEEPS_DATA = ("prod",)
# Stacks other people reach (ElevenLabs agents, load tests): their search tool demands X-Tool-Key.
SHARED = ("staging", "prod")
# The archive's record: what memories, briefs and recall indexes are rebuilt from (client-data/ is a
# debugging copy of each pre-call and may expire).
RECORD_PREFIXES = ("post-call/", "profiles/", "recall/", "memory-adds/", "agents/")


def check_stack_files(directory: Path = REPOSITORY) -> dict[str, list[str]]:
    """stack -> its problems (empty: the stack passes), for every stack file in ``directory``."""
    problems: dict[str, list[str]] = {}
    settings: dict[str, StackSettings] = {}
    for stack in stacks_in(directory):
        found, stack_settings = check_stack_file(stack, directory)
        problems[stack] = found
        if stack_settings is not None:
            settings[stack] = stack_settings
    for stack, found in shared_mem0_projects(settings).items():
        problems[stack] += found
    return problems


def check_stack_file(stack: str, directory: Path = REPOSITORY) -> tuple[list[str], StackSettings | None]:
    """One stack file's problems, and its settings when they are valid."""
    name = stack_file(stack, directory).name
    try:
        raw = stack_file_config(stack, directory)
    except yaml.YAMLError as error:
        return [f"{name}: not YAML: {error}"], None
    found = [f"{name}: {problem}" for problem in plain_text_secrets(raw)]
    try:
        settings = settings_of(stack, directory)
    except StackSettingsError as error:
        return found + [f"{name}: {problem}" for problem in error.problems], None
    found += [f"{name}: {problem}" for problem in kept_data(settings)]
    synthesis = synthesize(stack, directory=directory)
    for policy, broken in violations(synthesis).items():
        found += [f"{name}: {policy}: {violation}" for violation in broken]
    return found, settings


def plain_text_secrets(raw: Mapping[str, Any]) -> list[str]:
    problems = []
    for key, value in sorted(raw.items()):
        encrypted = isinstance(value, dict) and set(value) == {"secure"}
        if key in SECRET_CONFIG_KEYS and not encrypted:
            problems.append(
                f"{key} is a secret in plain text: remove it and set it with "
                f"`pulumi config set --secret {key}`"
            )
        elif encrypted and key not in SECRET_CONFIG_KEYS:
            problems.append(f"{key} is encrypted but is not a secret: set it without --secret")
    return problems


def kept_data(settings: StackSettings) -> list[str]:
    problems = []
    if settings.stack in SHARED and not settings.require_tool_key:
        problems.append(
            f"agentic-memory:requireToolKey must be true in {settings.stack} (its search tool is public)"
        )
    if settings.stack in SHARED and not settings.eleven_labs_workspace:
        problems.append(
            f"agentic-memory:elevenLabsWorkspace is required in {settings.stack}: name the ElevenLabs "
            "workspace whose agents call it (one per stack, docs/deployment.md §6.0)"
        )
    if settings.stack in SHARED and not settings.mem0.project:
        problems.append(
            f"mem0:project is required in {settings.stack}: name the Mem0 project its mem0:apiKey belongs to "
            "(one per stack, docs/deployment.md §6.0)"
        )
    if settings.stack not in KEEPS_DATA:
        return problems
    archive = settings.archive
    if archive.force_destroy:
        problems.append("agentic-memory:archive.forceDestroy must be false: prod keeps its callers' data")
    if not archive.versioning:
        problems.append("agentic-memory:archive.versioning must be true: prod keeps overwritten objects")
    for rule in archive.lifecycle:
        covered = [p for p in RECORD_PREFIXES if p.startswith(rule.prefix) or rule.prefix.startswith(p)]
        if rule.expire_after_days is not None and covered:
            problems.append(
                f"agentic-memory:archive.lifecycle rule {rule.id} expires {', '.join(covered)}: prod keeps "
                "the record memories are rebuilt from (use retentionDays to forget callers)"
            )
    return problems


def shared_mem0_projects(settings: Mapping[str, StackSettings]) -> dict[str, list[str]]:
    """Stacks that name the same Mem0 project or the same ElevenLabs workspace: each one's memories, or
    each one's pre-call webhook and workspace secrets, would be the other's."""
    problems: dict[str, list[str]] = {}
    named = {
        ("mem0:project", "a Mem0 project (and API key)"): {s: v.mem0.project for s, v in settings.items()},
        ("agentic-memory:elevenLabsWorkspace", "an ElevenLabs workspace"): {
            s: v.eleven_labs_workspace for s, v in settings.items()
        },
    }
    for (key, what), names in named.items():
        by_name: dict[str, list[str]] = {}
        for stack, name in names.items():
            if name:
                by_name.setdefault(name, []).append(stack)
        for name, stacks in by_name.items():
            for stack in stacks if len(stacks) > 1 else ():
                others = ", ".join(other for other in stacks if other != stack)
                problems.setdefault(stack, []).append(
                    f"Pulumi.{stack}.yaml: {key} {name!r} is also {others}'s: "
                    f"give each stack {what} of its own"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    directory = Path(args[0]) if args else REPOSITORY
    results = check_stack_files(directory)
    if not results:
        print(f"no Pulumi.<stack>.yaml in {directory}", file=sys.stderr)
        return 2
    for stack, problems in results.items():
        print(f"{stack}: ok" if not problems else f"{stack}: FAIL")
        for problem in problems:
            print(f"  {problem}")
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
