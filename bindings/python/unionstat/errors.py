"""Exceptions raised by unionstat.

Every exception carries its place as attributes (``file``, ``line``, ``column`` for
schema files; ``row``, ``unit``, ``field`` for data; ``rule`` for rules) and subclasses
both :class:`Error` and the builtin that fits, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Error",
    "SchemaError",
    "RuleError",
    "InputError",
    "ExactOverflowError",
    "UnknownNameError",
    "HierarchyError",
]


class Error(Exception):
    """Root of every unionstat exception."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    row: int | None = None
    unit: str | None = None
    field: str | None = None
    rule: str | None = None

    def __init__(self, text: str = "", **place: Any) -> None:
        super().__init__(text)
        self.message = text
        for key, value in place.items():
            setattr(self, key, value)

    def __str__(self) -> str:  # the C++ text already leads with the place
        return self.args[0] if self.args else ""


class SchemaError(Error, ValueError):
    """A form schema file is malformed (unknown key, wrong type, dangling reference)."""


class RuleError(SchemaError):
    """Rules did not compile. ``diagnostics`` lists every problem with rule id and column."""

    diagnostics: list[dict[str, Any]]

    def __init__(self, text: str = "", **place: Any) -> None:
        self.diagnostics = []
        super().__init__(text, **place)


class InputError(Error, ValueError):
    """Input data does not fit the form: a bad cell, an unknown column, a negative count.

    ``problems`` lists every bad cell as dicts with ``row``, ``unit``, ``field``, ``text``
    and ``message`` when several were found.
    """

    problems: list[dict[str, Any]]

    def __init__(self, text: str = "", **place: Any) -> None:
        self.problems = []
        super().__init__(text, **place)


class ExactOverflowError(Error, OverflowError):
    """Exact arithmetic left the int64 range; values are never wrapped."""


class UnknownNameError(Error, KeyError):
    """An unknown form id, field code or key, rule id or unit id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Error.__str__(self)


class HierarchyError(Error, ValueError):
    """A unit tree is inconsistent. ``units`` names the units involved."""

    units: list[str]

    def __init__(self, text: str = "", **place: Any) -> None:
        self.units = []
        super().__init__(text, **place)
