"""Filled templates read back: the cells behind a workbook's defined names (``f_01A``,
``unit``, ``period``, ``date``) as the exact text of each value, one report per template
(workbook-level names) or per unit sheet (sheet-scoped names).

The naming convention, shared with :mod:`unionstat.templates` which writes the names and
documented in ``docs/templates.md``:

* ``f_`` + field code (``f_01A``, ``f_04A_2``): the blank of that field, one cell;
* ``unit``, ``period``: the 填报单位 (unit id) and the report period;
* ``date``, ``reporter``, ``phone``: 日期 (the date the report was signed off, read as its
  submission time), 填报人 and 联系电话 — optional;
* ``us_form``, ``us_fields``, ``us_template``: constants naming the form id, a fingerprint
  of its fields and the convention's version, so that a template of another form or of
  another version of the schema is refused rather than misread.

Exactness: a cell typed as a number is stored by the spreadsheet as a binary double and
written to the file as decimal digits (``1523.4``, or ``1523.4000000000001`` by some
writers). The value taken is the shortest decimal that identifies that double (Python's
``repr``), which is what was typed for any figure of up to 15 significant digits; a value
that then has more decimals than the field stores (6 for 万元: a formula's binary
residue, ``0.30000000000000004``) or more than 15 significant digits is an error naming
the cell — never rounded. A cell typed as text (``'1523.40``) is taken as its text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from . import _core
from .errors import InputError
from .workbook import DefinedName, Sheet, Workbook, cell_ref, excel_date, split_ref

__all__ = [
    "FIELD_PREFIX",
    "KEY_NAMES",
    "TEMPLATE_VERSION",
    "FilledReport",
    "Problem",
    "fields_fingerprint",
    "is_template",
    "number_text",
    "read_filled",
]

#: Prefix of a field's defined name.
FIELD_PREFIX = "f_"
#: Names of the report's key and signature cells.
KEY_NAMES = ("unit", "period", "date", "reporter", "phone")
#: Version of the naming convention written in ``us_template``.
TEMPLATE_VERSION = "1"
#: Column (1-based) where the template prints each blank's code, on the blank's row: the
#: reader checks it to catch cells moved away from their labels.
CODE_COLUMN_OFFSET = 2  # the code sits two columns right of the blank (after the unit)


def fields_fingerprint(schema: Any) -> str:
    """A short hash of a form's fields (code, type, scale, unit): two schemas with the same
    fingerprint read a template the same way."""
    text = "\n".join(f"{f.code}:{f.type}:{f.scale}:{f.unit}" for f in schema.fields)
    return hashlib.sha256(f"{schema.id}\n{text}".encode()).hexdigest()[:12]


@dataclass
class Problem:
    """A bad cell: where (sheet and cell), for which unit and field, and what is wrong."""

    sheet: str
    ref: str
    unit: str
    field: str
    text: str
    message: str


@dataclass
class FilledReport:
    """One report read from a template: its keys, the cells' exact texts by field code,
    and where each came from."""

    file: str
    sheet: str
    unit: str
    period: str
    submitted: dt.datetime | None
    values: dict[str, str | None] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)

    def where(self, code: str) -> str:
        """``sheet!cell`` of a field's blank."""
        return f"{self.sheet}!{self.refs.get(code, '?')}"


def is_template(wb: Workbook) -> bool:
    """Whether a workbook carries field names of the convention (``f_…``)."""
    return any(n.name.lower().startswith(FIELD_PREFIX) for n in wb.names)


def number_text(text: str, scale: int) -> tuple[str | None, str]:
    """A stored number as the exact decimal that was typed (see the module text), or
    (None, why) when it cannot be that: more decimals than ``scale``, or beyond 15
    significant digits."""
    t = text.strip()
    if t.lstrip("-").isdigit():
        digits = t.lstrip("-").lstrip("0")
        if len(digits) > 15:
            return (
                None,
                f"{t} has more than 15 significant digits, more than a spreadsheet keeps in a number (type it as text)",
            )
        return t, ""
    try:
        shortest = Decimal(repr(float(t)))
    except (ValueError, InvalidOperation):
        return None, f"'{t}' is not a number"
    _sign, digit_tuple, exponent = shortest.as_tuple()
    if isinstance(exponent, int):
        significant = len(str(int("".join(map(str, digit_tuple))))) if any(digit_tuple) else 1
        if significant > 15:
            return None, (
                f"{t} has more than 15 significant digits: a spreadsheet keeps only 15 (a formula's result? "
                "type the figure, or enter it as text)"
            )
        if -exponent > scale:
            return None, (
                f"{shortest} has {-exponent} decimals, more than the {scale} this field keeps "
                "(a formula's result? type the figure; it is not rounded)"
            )
    return format(shortest, "f"), ""


def _cell_text(wb: Workbook, sheet: Sheet, ref: str, scale: int, kind: str) -> tuple[str | None, str]:
    """A named cell's value as text for the core's parser (None: blank), or an error."""
    c = sheet.value(ref)
    if c.formula and c.kind == "empty":
        return None, (
            "holds a formula whose result the file does not store (open and save the file in Excel or "
            "LibreOffice so that it stores it)"
        )
    if c.kind == "empty":
        return None, ""
    if c.kind == "error":
        return None, f"holds the error value {c.text}"
    if c.kind == "bool":
        return ("是" if c.text in ("1", "true") else "否"), ""
    if c.kind == "number":
        if kind == "date":
            return excel_date(c.text, wb.date1904).isoformat(sep=" "), ""
        if kind == "text":
            value, why = number_text(c.text, 6)
            return (value, "") if value is not None else (None, why)
        return number_text(c.text, scale)
    if c.kind == "date":
        return c.text, ""
    text = c.text.strip()
    return (text if text else None), ""


def parse_date(text: str) -> dt.datetime | None:
    """A date or time as people type it: ISO (``2012-01-06``, ``2012-01-06 17:30``),
    ``2012/1/6``, ``2012.1.6`` or ``2012年1月6日``; None when it is none of these."""
    import re

    t = text.strip()
    m = re.fullmatch(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
        r"(?:[ T]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}(?:\.\d+)?))?秒?)?",
        t,
    )
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hh = int(m.group(4) or 0)
    mm = int(m.group(5) or 0)
    ss = float(m.group(6) or 0)
    try:
        return dt.datetime(y, mo, d, hh, mm, int(ss))
    except ValueError:
        return None


def _names_by_scope(wb: Workbook) -> dict[str | None, dict[str, DefinedName]]:
    out: dict[str | None, dict[str, DefinedName]] = {}
    for n in wb.names:
        out.setdefault(n.scope, {})[n.name.lower()] = n
    return out


def read_filled(
    path: Path, schema: _core.FormSchema, *, sheet: str | None = None
) -> tuple[list[FilledReport], list[Problem], list[str]]:
    """The reports of a filled template (one per unit sheet when the names are
    sheet-scoped), the bad cells, and notices. Raises :class:`InputError` for what makes
    the file unusable as a whole: a template of another form or version, a name that
    points nowhere, no field names."""
    with Workbook(path) as wb:
        return _read(wb, path, schema, sheet)


def _read(
    wb: Workbook, path: Path, schema: _core.FormSchema, only: str | None
) -> tuple[list[FilledReport], list[Problem], list[str]]:
    scopes = _names_by_scope(wb)
    glob = scopes.get(None, {})
    form_name = glob.get("us_form")
    if form_name is not None and form_name.value is not None and form_name.value != schema.id:
        raise InputError(
            f"{path}: a template of {form_name.value}, not of {schema.id} (choose --form {form_name.value})",
            file=str(path),
        )
    fp = glob.get("us_fields")
    if fp is not None and fp.value is not None and fp.value != fields_fingerprint(schema):
        raise InputError(
            f"{path}: a template of another version of {schema.id}'s schema (its fields' fingerprint "
            f"{fp.value} is not {fields_fingerprint(schema)}): write a new template with "
            f"`unionstat template {schema.id}`",
            file=str(path),
        )
    version = glob.get("us_template")
    if version is not None and version.value is not None and version.value != TEMPLATE_VERSION:
        raise InputError(
            f"{path}: template convention version {version.value}; this unionstat reads version {TEMPLATE_VERSION}",
            file=str(path),
        )
    has_fields = {scope: any(k.startswith(FIELD_PREFIX) for k in names) for scope, names in scopes.items()}
    local = [s for s in wb.sheet_names if has_fields.get(s)]
    if has_fields.get(None) and local:
        raise InputError(
            f"{path}: field names both for the whole workbook and for sheet(s) {', '.join(local[:5])}: "
            "a template is either one report (workbook names) or one sheet per unit (sheet names)",
            file=str(path),
        )
    if not has_fields.get(None) and not local:
        raise InputError(f"{path}: no defined names f_<code>: not a unionstat template", file=str(path))
    groups: list[tuple[str | None, dict[str, DefinedName]]]
    if has_fields.get(None):
        groups = [(None, glob)]
    else:
        groups = [(s, {**glob, **scopes[s]}) for s in local]
        if only is not None:
            if only.isdigit() and only not in local and int(only) < len(wb.sheet_names):
                only = wb.sheet_names[int(only)]
            if only not in local:
                raise InputError(f"{path}: no unit sheet '{only}' (unit sheets: {', '.join(local)})", file=str(path))
            groups = [(only, {**glob, **scopes[only]})]
    reports: list[FilledReport] = []
    problems: list[Problem] = []
    notices: list[str] = []
    for scope, names in groups:
        rep, probs = _one(wb, path, schema, scope, names)
        reports.append(rep)
        problems += probs
    return reports, problems, notices


def _target(path: Path, n: DefinedName, scope: str | None) -> tuple[str, str]:
    where = f"{scope}!{n.name}" if scope else n.name
    if n.broken:
        raise InputError(f"{path}: the name {where} points nowhere (#REF!): its cell was deleted", file=str(path))
    if n.is_range:
        raise InputError(f"{path}: the name {where} names a range ({n.formula}), not one cell", file=str(path))
    if n.sheet is None or n.ref is None:
        raise InputError(f"{path}: the name {where} is not a cell reference ({n.formula})", file=str(path))
    return n.sheet, n.ref


def _one(
    wb: Workbook, path: Path, schema: _core.FormSchema, scope: str | None, names: dict[str, DefinedName]
) -> tuple[FilledReport, list[Problem]]:
    problems: list[Problem] = []
    keys: dict[str, tuple[str, str, str | None]] = {}  # name → (sheet, ref, text)
    for key in KEY_NAMES:
        n = names.get(key)
        if n is None:
            continue
        sheet_name, ref = _target(path, n, scope)
        if sheet_name not in wb.sheet_names:
            raise InputError(
                f"{path}: the name {key} points to sheet '{sheet_name}', which is not in the workbook", file=str(path)
            )
        sheet = wb.sheet(sheet_name)
        m = sheet.merge_at(ref)
        if m is not None and (m[0], m[1]) != split_ref(ref):
            problems.append(
                Problem(
                    sheet_name,
                    ref,
                    "",
                    key,
                    "",
                    f"the {key} cell is inside merged cells "
                    f"{cell_ref(m[0], m[1])}:{cell_ref(m[2], m[3])}, not their first cell",
                )
            )
            continue
        text, why = _cell_text(wb, sheet, ref, 0, "date" if key == "date" else "text")
        if why:
            problems.append(Problem(sheet_name, ref, "", key, sheet.value(ref).text, f"the {key} cell {why}"))
        keys[key] = (sheet_name, ref, text)
    if "unit" not in keys and "unit" not in names:
        raise InputError(
            f"{path}{', sheet ' + repr(scope) if scope else ''}: no cell named unit (填报单位)", file=str(path)
        )
    unit_sheet, unit_ref, unit = keys.get("unit", (scope or "", "?", None))
    unit = unit or ""
    if not unit and "unit" in keys:
        problems.append(Problem(unit_sheet, unit_ref, "", "unit", "", "the 填报单位 (unit) cell is empty"))
    if scope is not None and unit and unit != scope:
        problems.append(
            Problem(
                unit_sheet, unit_ref, unit, "unit", unit, f"the unit cell reads {unit} but the sheet is named {scope}"
            )
        )
    period = (keys.get("period") or ("", "", None))[2] or ""
    submitted = None
    if keys.get("date") and keys["date"][2]:
        submitted = parse_date(keys["date"][2] or "")
        if submitted is None:
            s, r, t = keys["date"]
            problems.append(
                Problem(s, r, unit, "date", t or "", f"the date cell '{t}' is not a date (2012-01-06 or 2012年1月6日)")
            )
    rep = FilledReport(str(path), scope or unit_sheet, unit, period, submitted)
    for p in problems:
        p.unit = p.unit or unit
    known = {f.code.lower(): f for f in schema.fields}
    for key, n in names.items():
        if not key.startswith(FIELD_PREFIX):
            continue
        code = n.name[len(FIELD_PREFIX) :]
        f = known.get(code.lower())
        if f is None:
            raise InputError(
                f"{path}: the name {n.name} is no field of {schema.id} (a template of another form?)",
                file=str(path),
                field=code,
            )
        sheet_name, ref = _target(path, n, scope)
        if sheet_name not in wb.sheet_names:
            raise InputError(
                f"{path}: the name {n.name} points to sheet '{sheet_name}', which is not in the workbook",
                file=str(path),
            )
        sheet = wb.sheet(sheet_name)
        rep.refs[f.code] = ref
        m = sheet.merge_at(ref)
        if m is not None:
            problems.append(
                Problem(
                    sheet_name,
                    ref,
                    unit,
                    f.code,
                    "",
                    f"the blank is merged with other cells "
                    f"({cell_ref(m[0], m[1])}:{cell_ref(m[2], m[3])}): unmerge them",
                )
            )
            continue
        row, col = split_ref(ref)
        beside = sheet.value(cell_ref(row, col + CODE_COLUMN_OFFSET))
        if names.get("us_template") is not None and beside.text.strip() != f.code:
            shown = f"'{beside.text}'" if beside.text else "nothing"
            problems.append(
                Problem(
                    sheet_name,
                    ref,
                    unit,
                    f.code,
                    "",
                    f"the cell named {n.name} was moved: the code "
                    f"column beside it ({cell_ref(row, col + CODE_COLUMN_OFFSET)}) reads {shown}, "
                    f"not {f.code}",
                )
            )
            continue
        # Counts and money alike: the stored number's shortest decimal, checked against the
        # finest the core keeps (6); the core then refuses what the field does not take
        # (12.5 人, 1.234 元) with its own message.
        text, why = _cell_text(wb, sheet, ref, 6, "field")
        if why:
            problems.append(Problem(sheet_name, ref, unit, f.code, sheet.value(ref).text, why))
            continue
        rep.values[f.code] = text
    return rep, problems
