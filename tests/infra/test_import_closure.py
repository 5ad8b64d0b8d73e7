"""The static import closure that decides what the Lambda artifact carries, on made-up source trees."""

from pathlib import Path

import pytest

from infra import packaging
from infra.import_closure import SourceTree, UnresolvedImport, data_files, find_closure


def write_tree(root: Path, files: dict[str, str]) -> SourceTree:
    """Write ``files`` (path under ``root`` -> source) and return the tree of their top-level packages."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return SourceTree({top: root / top for top in {name.split("/")[0] for name in files}})


def test_lazy_relative_and_submodule_imports_are_followed(tmp_path):
    # Given a handler that imports a helper lazily, and a helper that reaches two modules relatively
    tree = write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/handler.py": "import json\n\ndef handle():\n    from app.core import helper\n",
            "app/core/__init__.py": "",
            "app/core/helper.py": "from . import models\nfrom ..shared.text import clean\n",
            "app/core/models.py": "import pydantic\n",
            "app/shared/__init__.py": "",
            "app/shared/text.py": "",
            "app/unused.py": "",
        },
    )
    # When the closure of the handler is computed
    closure = find_closure(tree, ["app.handler"])
    # Then every module it can import is there with its packages, and nothing else
    assert closure.modules == {
        "app", "app.handler", "app.core", "app.core.helper", "app.core.models",
        "app.shared", "app.shared.text",
    }  # fmt: skip
    assert closure.chain("app.shared.text") == ("app.handler", "app.core.helper", "app.shared.text")
    assert closure.chain("app.handler") == ("app.handler",)


def test_imports_only_for_the_type_checker_are_not_followed(tmp_path):
    tree = write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/handler.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from app import typing_only\nelse:\n    from app import runtime\n"
            ),
            "app/typing_only.py": "",
            "app/runtime.py": "",
        },
    )
    assert find_closure(tree, ["app.handler"]).modules == {"app", "app.handler", "app.runtime"}


def test_an_import_of_a_missing_first_party_module_is_refused(tmp_path):
    tree = write_tree(tmp_path, {"app/__init__.py": "", "app/handler.py": "from app.gone import thing\n"})
    with pytest.raises(UnresolvedImport, match="app.handler imports app.gone"):
        find_closure(tree, ["app.handler"])


def test_data_files_ship_only_when_a_reached_module_names_them(tmp_path):
    # Given a package with a file its module reads, a licence notice, and a file nobody reads
    tree = write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/model.py": "from pathlib import Path\nVOCABULARY = Path(__file__).with_name('vocab.json')\n",
            "app/vocab.json": "{}",
            "app/NOTICE": "vocab.json: Apache-2.0",
            "app/notes.txt": "",
            "other/__init__.py": "",
            "other/data.json": "{}",
        },
    )
    # Then the read file ships with its notice, and nothing when the reading module is not reached
    assert data_files(tree, ["app", "app.model"]) == [tmp_path / "app/NOTICE", tmp_path / "app/vocab.json"]
    assert data_files(tree, ["app", "other"]) == []


@pytest.mark.parametrize("never_shipped", ["local_runtime.server", "devtools.fakes"])
def test_a_handler_reaching_a_module_that_must_never_ship_fails_the_build_naming_the_chain(
    tmp_path, never_shipped
):
    # Given a made-up handler whose domain module lazily imports the local runtime or a development tool
    package, module = never_shipped.split(".")
    write_tree(
        tmp_path,
        {
            "services/__init__.py": "",
            "services/fake/__init__.py": "",
            "services/fake/handler.py": "from agentic_memory import helper\n",
            "agentic_memory/__init__.py": "",
            "agentic_memory/helper.py": f"def serve():\n    from {never_shipped} import run\n",
            f"{package}/__init__.py": "",
            f"{package}/{module}.py": "",
        },
    )
    packages = [(tmp_path / name, name) for name in ("agentic_memory", "services", package)]
    # When its files are gathered for the artifact, then the build stops and says how it got there
    with pytest.raises(packaging.ArtifactError, match="must never ship") as refused:
        packaging.application_files(["services.fake.handler"], packages)
    assert f"services.fake.handler → agentic_memory.helper → {never_shipped}" in str(refused.value)
