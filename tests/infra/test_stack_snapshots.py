"""Reviewed snapshots of each stack's resource graph, and proof that stacks differ only where their
stack files do.

The snapshots (tests/infra/snapshots/<stack>.json) are the synthesized graphs with secrets redacted:
every resource with its inputs, parent, dependencies and provider. After an intended change:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/infra -k snapshot     # then review `git diff`

(``python -m infra.synth <stack>`` prints the same JSON.)
"""

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from infra_fixtures import FIXTURE_STACKS, fixture_settings, synthesize_fixture

from infra.graph import graph_json

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"

# What each stack-file setting may change in the graph: setting path -> patterns over
# "<resource urn>|<property path>" (or "|(added)" / "|(removed)" for whole resources).
EFFECTS = {
    "logRetentionDays": [r"LogGroup::.*\|inputs\.retentionInDays$"],
    "logLevel": [
        r"Function::.*\|inputs\.environment\.variables\.LOG_LEVEL$",
        r"Function::.*\|inputs\.loggingConfig\.applicationLogLevel$",
    ],
    "requireToolKey": [
        r"Parameter::secrets-elevenlabs-tool-key\|\((added|removed)\)$",
        r"Function::retrieve\|inputs\.environment\.variables\.ELEVENLABS_TOOL_KEY_PARAMETER$",
        r"Function::retrieve\|inputs\.environment\.variables\.SECRET_PARAMETER_VERSIONS$",
        r"Function::retrieve\|dependsOn\[\d+\]$",
        r"RolePolicy::retrieve-permissions\|inputs\.policy\.Statement\[\d+\]\.(Resource|Condition)\b.*",
        r"RolePolicy::retrieve-permissions\|dependsOn\[\d+\]$",
        # The ElevenLabs setup then names the tool key's workspace secret and header.
        r"^stack\|outputs\.elevenLabsSetup\.(workspaceSecrets|searchMemoryTool\.headers)\.",
    ],
    "elevenLabsWorkspace": [r"^stack\|outputs\.elevenLabsSetup\.workspace$"],
    "mem0.project": [r"^stack\|outputs\.mem0Project$"],
    "functions.clientData.provisionedConcurrency": [
        r"ProvisionedConcurrencyConfig::client-data-provisioned-concurrency\|.*"
    ],
    "functions.retrieve.provisionedConcurrency": [
        r"ProvisionedConcurrencyConfig::retrieve-provisioned-concurrency\|.*"
    ],
    "api.throttleBurstLimit": [r"Stage::api-stage\|inputs\.defaultRouteSettings\.throttlingBurstLimit$"],
    "api.throttleRateLimit": [r"Stage::api-stage\|inputs\.defaultRouteSettings\.throttlingRateLimit$"],
    "archive.forceDestroy": [r"Bucket::archive\|inputs\.forceDestroy$"],
    "archive.versioning": [
        r"BucketVersioning::archive-versioning\|\((added|removed)\)$",
        r"BucketLifecycleConfiguration::archive-lifecycle\|dependsOn\[\d+\]$",
        r"BucketLifecycleConfiguration::archive-lifecycle\|inputs\.rules\[\d+\]\..*",
    ],
    "archive.lifecycle": [r"BucketLifecycleConfiguration::archive-lifecycle\|inputs\.rules\[\d+\]\..*"],
}


@pytest.mark.parametrize("name", FIXTURE_STACKS)
def test_resource_graph_matches_the_reviewed_snapshot(synthesized, name):
    snapshot = SNAPSHOTS / f"{name}.json"
    actual = graph_json(synthesized[name])
    if UPDATE:
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(actual)
    assert snapshot.exists(), f"no snapshot yet: UPDATE_SNAPSHOTS=1 .venv/bin/pytest {__file__} -k snapshot"
    assert actual == snapshot.read_text(), (
        f"{name}'s resource graph changed. If intended: UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/infra -k "
        "snapshot, then review the diff of tests/infra/snapshots/"
    )


def test_synthesis_is_deterministic(synthesized):
    # A second run (with freshly generated secret values) gives the same bytes.
    assert graph_json(synthesize_fixture("prod")) == graph_json(synthesized["prod"])


def test_snapshots_hold_no_secret(synthesized):
    for name in FIXTURE_STACKS:
        text = (SNAPSHOTS / f"{name}.json").read_text()
        assert all(value not in text for value in synthesized[name].secret_values.values())
        assert "test-mem0-apiKey" not in text and '"[secret]"' in text


def settings_leaves(stack: str) -> dict[str, Any]:
    dumped = fixture_settings(stack).model_dump(mode="json", by_alias=True, exclude={"project", "stack"})
    # A lifecycle list is one setting: its rules are compared as a whole.
    return dict(_leaves(dumped, stop_at={"archive.lifecycle"}))


def _leaves(value: Any, path: str = "", stop_at: frozenset[str] | set[str] = frozenset()):
    if isinstance(value, dict) and path not in stop_at:
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key, stop_at)
    elif isinstance(value, list) and path not in stop_at:
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]", stop_at)
    else:
        yield path, value


def graph_entries(synthesis_json: str, stack: str) -> dict[str, Any]:
    """Every leaf of every resource, with the stack's name replaced so that names compare."""
    document = json.loads(re.sub(rf"(?<![A-Za-z0-9]){stack}(?![A-Za-z0-9])", "{stack}", synthesis_json))
    entries: dict[str, Any] = {}
    for urn, resource in document["resources"].items():
        qualified_type, name = urn.rsplit("$", 1)[-1].split("::", 1)
        short = f"{qualified_type.split(':')[-1]}::{name}"  # e.g. "LogGroup::client-data-logs"
        entries[f"{short}|(present)"] = True
        for path, value in _leaves({"inputs": resource["inputs"], "dependsOn": resource["dependsOn"]}):
            entries[f"{short}|{path}"] = value
    for path, value in _leaves({"outputs": document["outputs"]}):
        entries[f"stack|{path}"] = value
    return entries


def differences(first: dict[str, Any], second: dict[str, Any]) -> set[str]:
    changed = {key for key in first.keys() & second.keys() if first[key] != second[key]}
    added = {key for key in second.keys() - first.keys()}
    removed = {key for key in first.keys() - second.keys()}
    whole = {key.split("|")[0] for key in (added | removed) if key.endswith("|(present)")}
    marked = {f"{r}|(added)" for r in whole if f"{r}|(present)" in added}
    marked |= {f"{r}|(removed)" for r in whole if f"{r}|(present)" in removed}
    partial = {key for key in added | removed if key.split("|")[0] not in whole}
    return changed | marked | partial


@pytest.mark.parametrize(("first", "second"), [("dev", "prod"), ("dev", "staging"), ("staging", "prod")])
def test_stacks_differ_only_where_their_stack_files_do(synthesized, first, second):
    # Given the settings that differ between the two stack files
    first_settings, second_settings = settings_leaves(first), settings_leaves(second)
    differing = {
        k
        for k in first_settings.keys() | second_settings.keys()
        if first_settings.get(k) != second_settings.get(k)
    }
    assert differing <= set(EFFECTS), f"settings without a declared effect: {differing - set(EFFECTS)}"
    # When the two graphs are compared (names normalised)
    changes = differences(
        graph_entries(graph_json(synthesized[first]), first),
        graph_entries(graph_json(synthesized[second]), second),
    )

    # Then every change is explained by one of those settings...
    def explained_by(change: str) -> set[str]:
        return {s for s in differing if any(re.search(p, change) for p in EFFECTS[s])}

    unexplained = sorted(change for change in changes if not explained_by(change))
    assert unexplained == [], f"{first} and {second} differ where their stack files do not"
    # ...and every differing setting shows up in the graph.
    silent = differing - {s for change in changes for s in explained_by(change)}
    assert silent == set(), f"settings that differ but change nothing: {silent}"
