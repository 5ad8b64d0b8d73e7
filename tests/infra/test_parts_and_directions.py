"""The three parts and the direction of their dependencies (docs/architecture.md).

Product: ``agentic_memory`` (domain and adapters) and ``services`` (entry points), what the Lambda
artifact carries. On top of it the local runtime (``local_runtime``) and the development tools
(``devtools``). Every import counts, at module level, inside a function or for the type checker,
read from the source by the same reader that gathers the artifact (``infra.import_closure``).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.import_closure import SourceTree, first_party_imports

REPOSITORY = Path(__file__).resolve().parents[2]
PARTS = {
    "agentic_memory": REPOSITORY / "shared" / "agentic_memory",
    "services": REPOSITORY / "services",
    "local_runtime": REPOSITORY / "local_runtime",
    "devtools": REPOSITORY / "devtools",
}
# Never imported by a part: the test suites, the load tests and the Pulumi program (none is installed
# where the product or the local runtime runs).
OUTSIDE_THE_PARTS = ("tests", "loadtests", "infra")
# Every first-party top-level name, so that an import of any of them is read as one.
TREE = SourceTree({**PARTS, **{name: REPOSITORY / name for name in OUTSIDE_THE_PARTS}})
# What each part may not import: the domain only points down, the entry points never reach the
# local runtime or the tools, and the tools stand on the product, never on the local runtime.
FORBIDDEN = {
    "agentic_memory": ("services", "local_runtime", "devtools", *OUTSIDE_THE_PARTS),
    "services": ("local_runtime", "devtools", *OUTSIDE_THE_PARTS),
    "devtools": ("local_runtime", *OUTSIDE_THE_PARTS),
    "local_runtime": OUTSIDE_THE_PARTS,
}


def modules_of(part: str) -> Iterator[str]:
    root = PARTS[part]
    for path in sorted(root.rglob("*.py")):
        parts = [part, *path.relative_to(root).with_suffix("").parts]
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(module: str) -> Iterator[str]:
    # Type-only imports count: a part that names another for the type checker depends on it too.
    return first_party_imports(TREE, module, type_checking=True)


def reaches(imported: str, package: str) -> bool:
    return imported == package or imported.startswith(package + ".")


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_a_part_imports_nothing_of_the_parts_above_it(part):
    # Given every module of the part, when its imports are read, then none names a part above it
    wrong = [
        f"{module} imports {imported}"
        for module in modules_of(part)
        for imported in imports_of(module)
        if any(reaches(imported, above) for above in FORBIDDEN[part])
    ]
    assert wrong == []


def test_only_the_composition_root_builds_adapters():
    # Given the domain modules, when their imports are read, then only wiring names an adapter
    wrong = [
        f"{module} imports {imported}"
        for module in modules_of("agentic_memory")
        if not reaches(module, "agentic_memory.adapters") and module != "agentic_memory.wiring"
        for imported in imports_of(module)
        if reaches(imported, "agentic_memory.adapters")
    ]
    assert wrong == []


def test_an_import_only_for_the_type_checker_counts(tmp_path):
    # Given a module that imports another part only under TYPE_CHECKING (and one inside a function)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "store.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from other import typed\n"
        "def f():\n    import other.lazy\n"
    )
    for name in ("__init__", "typed", "lazy"):
        (tmp_path / "other").mkdir(exist_ok=True)
        (tmp_path / "other" / f"{name}.py").write_text("")
    tree = SourceTree({"pkg": tmp_path / "pkg", "other": tmp_path / "other"})
    # When its imports are read as the layering reads them, then both count
    found = set(first_party_imports(tree, "pkg.store", type_checking=True))
    assert {"other.typed", "other.lazy"} <= found
