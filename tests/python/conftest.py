from __future__ import annotations

from pathlib import Path

import pytest

import unionstat as us

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def form() -> us.Form:
    return us.forms()["songnuan-2018"]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def songnuan_with_rules(directory: Path, rules: str) -> us.Form:
    """songnuan-2018 under the id songnuan-2099 with ``rules`` (YAML rule entries)
    appended, loaded from a file in ``directory`` (a file travels to Dask workers)."""
    text = Path(us.forms()["songnuan-2018"].schema.file).read_text(encoding="utf-8")
    text = text.replace("id: songnuan-2018", "id: songnuan-2099", 1).rstrip("\n") + "\n" + rules.lstrip("\n")
    path = directory / "songnuan-2099.yaml"
    path.write_text(text, encoding="utf-8")
    return us.load_form(path)
