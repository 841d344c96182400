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
