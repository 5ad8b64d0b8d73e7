"""Which first-party modules a set of entry modules can ever import, found by reading their source.

    closure = find_closure(SourceTree({"agentic_memory": Path("shared/agentic_memory")}), ["pkg.handler"])
    closure.modules                      # frozenset of dotted names, entry modules included
    closure.chain("pkg.adapters.s3")     # ("pkg.handler", "pkg.wiring", "pkg.adapters.s3")

Static, so nothing is executed: every ``import`` and ``from … import`` anywhere in a module counts,
inside functions too (the handlers import their adapters lazily), except under
``if TYPE_CHECKING:``, which never runs. Relative imports are resolved against the importing module;
``from pkg import name`` reaches ``pkg.name`` when that is a module; importing a module reaches every
package above it, as Python runs their ``__init__`` first. Only the packages of the ``SourceTree`` are
followed; everything else (the standard library, installed distributions) is somebody else's.
"""

import ast
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

# A package folder's licence notices travel with any data file of that folder that ships.
_NOTICES = frozenset({"NOTICE", "LICENSE", "LICENCE"})


class UnresolvedImport(ImportError):
    """A first-party import names a module that does not exist in the source tree."""


@dataclass(frozen=True)
class SourceTree:
    """First-party top-level packages and their source folders, e.g. ``{"services": Path("services")}``."""

    roots: Mapping[str, Path]

    def is_first_party(self, module: str) -> bool:
        return module.split(".")[0] in self.roots

    def folder(self, module: str) -> Path:
        """Where ``module`` would live as a package (it need not exist)."""
        top, *rest = module.split(".")
        return self.roots[top].joinpath(*rest)

    def source(self, module: str) -> Path | None:
        """The ``.py`` file of ``module`` (``__init__.py`` for a package), or None if there is none."""
        package = self.folder(module) / "__init__.py"
        if package.is_file():
            return package
        plain = self.folder(module).with_suffix(".py")
        return plain if "." in module and plain.is_file() else None

    def is_package(self, module: str) -> bool:
        return self.folder(module).is_dir()

    def exists(self, module: str) -> bool:
        # A folder without __init__.py is still importable (a namespace package).
        return self.source(module) is not None or self.is_package(module)

    def inside(self, path: Path) -> str:
        """``path`` (a file of the tree) as it sits inside the artifact: ``<package>/<relative path>``."""
        for top, root in self.roots.items():
            if path.is_relative_to(root):
                return f"{top}/{path.relative_to(root).as_posix()}"
        raise ValueError(f"{path} is not in {sorted(self.roots)}")


@dataclass(frozen=True)
class Closure:
    """The modules reached, each with the module that first reached it (None for an entry module)."""

    reached_from: Mapping[str, str | None]

    @property
    def modules(self) -> frozenset[str]:
        return frozenset(self.reached_from)

    def chain(self, module: str) -> tuple[str, ...]:
        """The shortest import chain from an entry module to ``module``; KeyError if not reached."""
        chain = [module]
        while (importer := self.reached_from[chain[-1]]) is not None:
            chain.append(importer)
        return tuple(reversed(chain))


def find_closure(tree: SourceTree, entry_modules: Iterable[str]) -> Closure:
    """Every first-party module the entry modules can import, breadth first (so chains are shortest).

    Raises UnresolvedImport when an entry module or an import of a reached module names a first-party
    module the tree lacks.
    """
    reached_from: dict[str, str | None] = {}
    queue: deque[str] = deque()

    def reach(module: str, importer: str | None) -> None:
        # Python runs each enclosing package's __init__ before the module itself.
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            name = ".".join(parts[:depth])
            if name not in reached_from:
                reached_from[name] = importer
                queue.append(name)

    for entry in entry_modules:
        if not tree.exists(entry):
            raise UnresolvedImport(f"entry module {entry} is not in the source tree")
        reach(entry, None)
    while queue:
        module = queue.popleft()
        for imported in first_party_imports(tree, module):
            reach(imported, module)
    return Closure(reached_from)


def data_files(tree: SourceTree, modules: Iterable[str]) -> list[Path]:
    """The non-Python files of the reached packages that a reached module names, with their notices.

    A module that reads a data file names it (``Path(__file__).with_name("tokenizer.json")``), so a
    string constant equal to the file's name is taken as a read.
    """
    shipped: set[Path] = set()
    for module in modules:
        source = tree.source(module)
        if source is None:
            continue
        named = _string_constants(source)
        data = [path for path in source.parent.iterdir() if path.is_file() and _is_data(path)]
        read = [path for path in data if path.name in named]
        notices = [path for path in data if path.name in _NOTICES] if read else []
        shipped.update(read + notices)
    return sorted(shipped)


def _is_data(path: Path) -> bool:
    return path.suffix not in {".py", ".pyc", ".pyo"}


def first_party_imports(tree: SourceTree, module: str, type_checking: bool = False) -> Iterator[str]:
    """The first-party modules ``module`` imports, anywhere in it (inside functions too), relative
    imports made absolute; ``from pkg import name`` also yields ``pkg.name`` when that is a module.

    Imports under ``if TYPE_CHECKING:`` count only with ``type_checking`` (they never run, so they
    never reach the artifact, but they are still a dependency). Raises UnresolvedImport for a
    first-party module the tree lacks.
    """
    source = tree.source(module)
    if source is None:
        return
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    syntax = ast.parse(source.read_text(), filename=str(source))
    for node in ast.walk(syntax) if type_checking else _runtime_nodes(syntax):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if tree.is_first_party(alias.name):
                    yield _existing(tree, alias.name, module)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package, module)
            if not tree.is_first_party(base):
                continue
            yield _existing(tree, base, module)
            for alias in node.names:
                # `from pkg import name` imports the submodule pkg.name when there is one.
                if alias.name != "*" and tree.exists(f"{base}.{alias.name}"):
                    yield f"{base}.{alias.name}"


def _existing(tree: SourceTree, imported: str, importer: str) -> str:
    if not tree.exists(imported):
        raise UnresolvedImport(f"{importer} imports {imported}, which is not in the source tree")
    return imported


def _absolute(node: ast.ImportFrom, package: str, importer: str) -> str:
    if node.level == 0:
        return node.module or ""
    parts = package.split(".")
    if node.level > len(parts):
        raise UnresolvedImport(f"{importer}: relative import beyond the top-level package")
    anchor = parts[: len(parts) - node.level + 1]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def _runtime_nodes(root: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``root`` except the bodies of ``if TYPE_CHECKING:`` (their ``else`` still runs)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _string_constants(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
