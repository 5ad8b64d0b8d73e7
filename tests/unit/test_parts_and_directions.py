"""The three parts and the direction of their dependencies (docs/architecture.md).

Product: ``agentic_memory`` (domain and adapters) and ``services`` (entry points), what the Lambda
artifact carries. On top of it the local runtime (``local_runtime``) and the development tools
(``devtools``). Every import counts, at module level or inside a function, read from the source.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
PACKAGES = {
    "agentic_memory": REPOSITORY / "shared" / "agentic_memory",
    "services": REPOSITORY / "services",
    "local_runtime": REPOSITORY / "local_runtime",
    "devtools": REPOSITORY / "devtools",
}
# Never imported by a part: the test suites, the load tests and the Pulumi program (none is installed
# where the product or the local runtime runs).
OUTSIDE_THE_PARTS = ("tests", "loadtests", "infra")
# What each part may not import: the domain only points down, the entry points never reach the
# local runtime or the tools, and the tools stand on the product, never on the local runtime.
FORBIDDEN = {
    "agentic_memory": ("services", "local_runtime", "devtools", *OUTSIDE_THE_PARTS),
    "services": ("local_runtime", "devtools", *OUTSIDE_THE_PARTS),
    "devtools": ("local_runtime", *OUTSIDE_THE_PARTS),
    "local_runtime": OUTSIDE_THE_PARTS,
}


def modules_of(package: str) -> Iterator[tuple[str, Path]]:
    root = PACKAGES[package]
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        parts = [package, *relative.parts]
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports_of(module: str, path: Path) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            elif node.module:
                yield node.module


def reaches(imported: str, package: str) -> bool:
    return imported == package or imported.startswith(package + ".")


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_a_part_imports_nothing_of_the_parts_above_it(part):
    # Given every module of the part, when its imports are read, then none names a part above it
    wrong = [
        f"{module} imports {imported}"
        for module, path in modules_of(part)
        for imported in imports_of(module, path)
        if any(reaches(imported, above) for above in FORBIDDEN[part])
    ]
    assert wrong == []


def test_only_the_composition_root_builds_adapters():
    # Given the domain modules, when their imports are read, then only wiring names an adapter
    wrong = [
        f"{module} imports {imported}"
        for module, path in modules_of("agentic_memory")
        if not reaches(module, "agentic_memory.adapters") and module != "agentic_memory.wiring"
        for imported in imports_of(module, path)
        if reaches(imported, "agentic_memory.adapters")
    ]
    assert wrong == []


def test_the_reader_resolves_relative_imports_and_sees_imports_inside_functions(tmp_path):
    # Given a module with a relative import of its parent package's sibling
    source = tmp_path / "store.py"
    source.write_text("from ..errors import X\nfrom . import wire\n\ndef f():\n    import services.edge\n")
    # When its imports are read, then they are absolute, the one inside a function included
    found = list(imports_of("agentic_memory.adapters.store", source))
    assert found == ["agentic_memory.errors", "agentic_memory.adapters", "services.edge"]
