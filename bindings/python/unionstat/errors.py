"""Exceptions raised by unionstat.

Every exception carries its place as attributes (``file``, ``line``, ``column`` for
schema files; ``row``, ``unit``, ``field`` for data; ``rule`` for rules) and subclasses
both :class:`Error` and the builtin that fits, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "Error",
    "ExactOverflowError",
    "HierarchyError",
    "InputError",
    "InputNotice",
    "PackageError",
    "RuleError",
    "SchemaError",
    "UnknownNameError",
    "UsageError",
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

    @classmethod
    def from_problems(
        cls,
        problems: Sequence[tuple[int, int, str, str, str, str]],
        what: str,
        *,
        file: str | None = None,
        shown: int = 20,
    ) -> InputError:
        """One error for every problem a reader found: ``(row, column, unit, field, text,
        message)`` each, ``row`` being the row as the user knows it (the file's line, the
        sheet's row, the 1-based position in a table; 0 when the problem is a column's).
        The first problem's place becomes the error's attributes; all are in ``problems``."""
        lines = []
        for row, column, unit, field, _text, message in problems[:shown]:
            place = [
                p
                for p in (
                    f"row {row}" if row else "",
                    f"column {column}" if column and not row else "",
                    f"unit {unit}" if unit else "",
                    f"field {field}" if field else "",
                )
                if p
            ]
            lines.append(f"{', '.join(place)}: {message}" if place else message)
        more = f"\n… and {len(problems) - shown} more" if len(problems) > shown else ""
        n = len(problems)
        row, column, unit, field = problems[0][:4]
        err = cls(
            f"{n} problem{'s' if n != 1 else ''} in {what}:\n" + "\n".join(lines) + more,
            file=file,
            row=row or None,
            column=column or None,
            unit=unit or None,
            field=field or None,
        )
        err.problems = [
            {"row": r, "column": c, "unit": u, "field": f, "text": t, "message": m} for r, c, u, f, t, m in problems
        ]
        return err


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


class PackageError(Error, ValueError):
    """A submission package cannot be used: not a package, a manifest that is no JSON (with
    ``line`` and ``column``), packages that cannot be merged (overlapping units, mixed form
    versions or periods). ``file`` is the package, ``part`` the part concerned
    (``manifest.json``, ``reports.parquet`` …) when one is."""

    part: str | None = None


class UsageError(Error, TypeError):
    """The library was called with an argument of the wrong kind — a form id string where a
    :class:`~unionstat.Form` is needed, a unit id as an int, values as a list, a report of
    another form. The message says what to pass instead."""


class InputNotice(UserWarning):
    """Something a reader did that the user should hear of, though nothing is wrong:
    lines skipped above the header, columns that are no field (备注, 填报人) not read."""
