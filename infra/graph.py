"""A synthesized stack as plain data: resources with their inputs, parents, dependencies and provider.

Inputs keep Pulumi's secret envelopes, so checks can tell a secret from a plain value. The JSON
snapshot form redacts them, turns integral floats back into ints (the engine sends numbers as
floats), parses embedded JSON documents (policies) so that their diffs are readable, and makes
paths relative to the repository, so the same stack gives the same bytes on any machine.
"""

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

REPOSITORY = Path(__file__).resolve().parent.parent
REDACTED = "[secret]"


@dataclass(frozen=True)
class ResourceNode:
    urn: str  # without the "urn:pulumi:<stack>::<project>::" prefix, so stacks compare
    type: str
    name: str
    custom: bool
    parent: str
    depends_on: tuple[str, ...]
    provider: str
    inputs: Mapping[str, Any] = field(default_factory=dict)

    def plain_inputs(self) -> Any:
        """Inputs as the policy engine sees them: secrets unwrapped to their values."""
        return unwrap_secrets(self.inputs)

    def document(self, key: str) -> Any:
        """An input that holds a JSON document (a policy), parsed."""
        value = unwrap_secrets(self.inputs.get(key))
        return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Synthesis:
    stack: str
    nodes: Mapping[str, ResourceNode]
    outputs: Mapping[str, Any]
    secret_values: Mapping[str, str]  # config key -> the generated value the run used

    def of_type(self, type_: str) -> list[ResourceNode]:
        return [node for _, node in sorted(self.nodes.items()) if node.type == type_]

    def named(self, type_: str, name: str) -> ResourceNode:
        matches = [node for node in self.of_type(type_) if node.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources of type {type_} named {name}")
        return matches[0]

    def children_of(self, parent: ResourceNode) -> Iterator[ResourceNode]:
        return (node for node in self.nodes.values() if node.parent == parent.urn)

    def type_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.nodes.values():
            counts[node.type] = counts.get(node.type, 0) + 1
        return dict(sorted(counts.items()))


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def unwrap_secrets(value: Any) -> Any:
    if is_secret(value):
        return unwrap_secrets(value["value"])
    if isinstance(value, dict):
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [unwrap_secrets(item) for item in value]
    return value


def snapshot_value(value: Any) -> Any:
    """``value`` made deterministic, reviewable and free of secrets."""
    if is_secret(value):
        return REDACTED
    if isinstance(value, dict):
        return {key: snapshot_value(item) for key, item in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [snapshot_value(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, pulumi.FileArchive | pulumi.FileAsset):
        return {type(value).__name__: _relative(str(value.path))}
    if isinstance(value, pulumi.Archive | pulumi.Asset):
        return {type(value).__name__: "(in-memory)"}
    if isinstance(value, str):
        return _embedded_document(value)
    return value


def _embedded_document(text: str) -> Any:
    if text[:1] in ("{", "["):
        try:
            return snapshot_value(json.loads(text))
        except ValueError:
            return text
    return _relative(text)


def _relative(text: str) -> str:
    root = str(REPOSITORY) + "/"
    return text.replace(root, "") if root in text else text


def graph_json(synthesis: Synthesis) -> str:
    resources = {
        urn: {
            "type": node.type,
            "name": node.name,
            "custom": node.custom,
            "parent": node.parent,
            "dependsOn": list(node.depends_on),
            "provider": node.provider,
            "inputs": snapshot_value(dict(node.inputs)),
        }
        for urn, node in sorted(synthesis.nodes.items())
    }
    document = {
        "stack": synthesis.stack,
        "resourceCounts": synthesis.type_counts(),
        "resources": resources,
        "outputs": snapshot_value(dict(synthesis.outputs)),
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
