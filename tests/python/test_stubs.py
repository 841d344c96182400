"""The type stubs cover the whole extension, ship with the package, and the public
Python API is documented."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import unionstat as us
from unionstat import _core

PACKAGE = Path(us.__file__).resolve().parent


def _stub() -> ast.Module:
    path = PACKAGE / "_core.pyi"
    assert path.is_file(), f"{path} is not installed with the package"
    return ast.parse(path.read_text(encoding="utf-8"))


def _public(names: list[str]) -> list[str]:
    return [n for n in names if not n.startswith("_") or n in ("__version__", "__len__", "__contains__")]


def test_stubs_and_py_typed_ship_with_the_package() -> None:
    assert (PACKAGE / "py.typed").is_file()
    _stub()


def test_every_function_and_class_of_core_has_a_stub() -> None:
    tree = _stub()
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    defined |= {t.id for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(t := n.target, ast.Name)}
    missing = [n for n in _public(dir(_core)) if n not in defined]
    assert not missing


@pytest.mark.parametrize("cls", [n for n in dir(_core) if inspect.isclass(getattr(_core, n)) and not n.startswith("_")])
def test_every_member_of_each_class_has_a_stub(cls: str) -> None:
    node = next(n for n in _stub().body if isinstance(n, ast.ClassDef) and n.name == cls)
    stubbed = {m.name for m in node.body if isinstance(m, ast.FunctionDef)}
    runtime = [m for m in vars(getattr(_core, cls)) if not m.startswith("_") or m in ("__len__", "__contains__")]
    assert not [m for m in runtime if m not in stubbed]


def test_public_python_api_has_docstrings() -> None:
    undocumented = []
    for name in us.__all__:
        obj = getattr(us, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not (obj.__doc__ or "").strip():
                undocumented.append(name)
            if inspect.isclass(obj) and obj.__module__.startswith("unionstat.") and obj.__module__ != "unionstat._core":
                for attr, member in vars(obj).items():
                    if (
                        not attr.startswith("_")
                        and (inspect.isfunction(member) or isinstance(member, property))
                        and not (member.__doc__ or "").strip()
                    ):
                        undocumented.append(f"{name}.{attr}")
    assert not undocumented


@pytest.mark.parametrize(
    "module",
    [
        "cli",
        "crosswalks",
        "demo",
        "errors",
        "forms",
        "frames",
        "graph",
        "io",
        "linear",
        "localise",
        "mip",
        "progress",
        "rules",
        "ruleset",
        "sample",
        "views",
    ],
)
def test_every_module_declares_all(module: str) -> None:
    import importlib

    mod = importlib.import_module(f"unionstat.{module}")
    assert isinstance(mod.__all__, list)
    assert all(hasattr(mod, name) for name in mod.__all__)
