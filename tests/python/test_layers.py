"""The package's modules are stacked: each imports only the modules below it — at run
time, inside functions and for type checking alike — so none can be changed without
knowing what it stands on, and no import cycle can form."""

from __future__ import annotations

import ast
from pathlib import Path

import unionstat

#: Bottom to top. A module may import only those before it (and the compiled _core).
LAYERS = [
    "errors",
    "i18n",
    "progress",  # foundations; the documents' words in zh and en
    "workbook",
    "filled",  # XLSX parts; filled templates' named cells
    "store",  # a submission package's parts (folder or zip) and manifest
    "io",  # files ⇄ Arrow ⇄ core batches
    "frames",  # the pandas adapter
    "plots",
    "views",  # pictures, then text and HTML (with the pictures) of what the layers above hand them
    "linear",
    "mip",
    "deduce",  # rules as linear constraints, as a MIP for HiGHS; one field's changes exactly
    "rules",
    "localise",
    "ruleset",  # validation results; error localisation; rule-set analysis
    "forms",
    "graph",
    "crosswalks",
    "draft",
    "templates",  # the user-facing objects
    "outliers",  # implausible figures, on forms and trees
    "package",  # submission packages: reports, schema, tree, summary, hashes
    "dask",  # the same operations on Dask partitions
    "sample",
    "demo",
    "cli",
    "__main__",
    "__init__",  # presentation and entry points
]

PACKAGE = Path(unionstat.__file__).parent


def imports_of(path: Path) -> set[str]:
    """Sibling modules a module imports anywhere in its text (relative or absolute)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(a.name for a in node.names)
            elif node.module and node.module.startswith("unionstat."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("unionstat."))
    return found - {"_core"}


def test_every_module_has_a_layer() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules == set(LAYERS)


def test_modules_import_only_the_layers_below_them() -> None:
    wrong = []
    for i, name in enumerate(LAYERS):
        below = set(LAYERS[:i])
        for target in sorted(imports_of(PACKAGE / f"{name}.py") - below):
            wrong.append(f"{name} imports {target}")
    assert wrong == []
