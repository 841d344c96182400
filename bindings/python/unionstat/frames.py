"""pandas ⇄ ReportBatch conversion with no Python work per row."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from .errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KEY_COLUMNS", "LONG_COLUMNS", "batch_to_frame", "long_to_wide", "read_reports", "to_batch", "write_reports"]

#: Columns of the long format: one row per (unit, period, field).
LONG_COLUMNS = ("unit", "period", "code", "value")

#: Columns that identify a report rather than hold a field.
KEY_COLUMNS = ("unit", "period")


def _raise_problems(problems: list[tuple[int, str, str, str, str]], what: str) -> None:
    """Bad cells of a frame (0-based positions from the core) as one InputError whose
    rows are 1-based positions, as every reader numbers rows."""
    if problems:
        raise InputError.from_problems([(r + 1, 0, u, f, t, m) for r, u, f, t, m in problems], what)


def to_batch(
    df: pd.DataFrame, form: _core.FormSchema, *, what: str = "the data", compact: bool = True
) -> _core.ReportBatch:
    """Converts a wide DataFrame (``unit``, ``period`` and one column per field code or
    concept key) to a columnar batch. Text cells are parsed in C++; every bad cell and
    every unknown column is reported. Columns whose values fit in 32 bits are held
    narrow (``compact``: validation and roll-up then read half the memory); with
    ``compact=False`` int64 count columns are borrowed from the frame without a copy
    instead. int32 count columns are borrowed either way."""
    import pandas as pd

    if {"unit", "code", "value"} <= set(map(str, df.columns)):
        df = long_to_wide(df, what=what)
    if "unit" not in df.columns:
        raise InputError(f"{what} has no 'unit' column (columns: {', '.join(map(str, df.columns))})")
    unknown = [c for c in df.columns if c not in KEY_COLUMNS and form.find(str(c)) is None]
    if unknown:
        raise InputError(
            f"{what} has column(s) that are not fields of {form.id}: {', '.join(map(str, unknown))}",
            field=str(unknown[0]),
        )
    seen: dict[int, str] = {}
    for c in df.columns:
        if c in KEY_COLUMNS:
            continue
        i = form.index(str(c))
        if i in seen:
            raise InputError(
                f"columns {seen[i]!r} and {c!r} are the same field {form.fields[i].code}", field=form.fields[i].code
            )
        seen[i] = str(c)
    batch = _core.ReportBatch(form)
    units = df["unit"].astype(str).tolist()
    periods = df["period"].astype(str).tolist() if "period" in df.columns else [""] * len(units)
    batch.set_keys(units, periods)
    problems: list[tuple[int, str, str, str, str]] = []
    for c in df.columns:
        if c in KEY_COLUMNS:
            continue
        code = str(c)
        field = form.field(code)
        col = df[c]
        dtype = col.dtype
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype):
            mask = col.isna().to_numpy()
            values = col.to_numpy(dtype="int64", na_value=0)
            problems += batch.set_column_int(code, values, mask if mask.any() else None)
        elif pd.api.types.is_bool_dtype(dtype):
            # numpy bool has no blanks; pandas' nullable "boolean" marks them with NA.
            mask = col.isna().to_numpy()
            values = col.to_numpy(dtype="int64", na_value=0)
            problems += batch.set_column_int(code, values, mask if mask.any() else None)
        elif pd.api.types.is_integer_dtype(dtype):
            wide = dtype != np.int32
            values = np.ascontiguousarray(col.to_numpy(dtype="int64" if wide else "int32"))
            if field.scale == 0 and field.type == "count" and (values.size == 0 or values.min() >= 0):
                batch.set_column_raw(code, values, None)  # zero-copy (compact() narrows an int64 one)
            else:
                problems += batch.set_column_int(code, values.astype(np.int64, copy=False), None)
        elif pd.api.types.is_float_dtype(dtype):
            problems += batch.set_column_float(code, col.to_numpy(dtype="float64"))
        else:
            # Text goes to the C++ parser as a list (one Python str per cell: unavoidable
            # with pybind11's list conversion). Columns of strings get there without a
            # Python loop; mixed objects (Decimal, int …) are turned into text one by one.
            if pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
                texts = col.to_numpy(dtype=object, na_value=None).tolist()
            else:
                texts = [
                    None if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA) else str(v)
                    for v in col.tolist()
                ]
            problems += batch.set_column_text(code, texts)
    problems.sort(key=lambda p: (p[0], form.index(p[2])))
    _raise_problems(problems, what)
    if compact:
        batch.compact()
    return batch


def batch_to_frame(batch: _core.ReportBatch, *, exact: bool = True) -> pd.DataFrame:
    """A wide DataFrame of a batch: ``unit``, ``period`` and one column per field code.
    Counts are nullable Int64; money is exact ``decimal.Decimal`` (``exact=True``) or
    its text."""
    import decimal

    import pandas as pd

    form = batch.form
    data: dict[str, Any] = {"unit": batch.units, "period": batch.periods}
    for f in form.fields:
        values, missing = batch.raw_column(f.code)
        if f.type == "count":
            data[f.code] = pd.arrays.IntegerArray(values, missing)
        elif f.type == "flag":
            data[f.code] = pd.arrays.BooleanArray(values.astype(bool), missing)
        else:
            texts = batch.format_column(f.code)
            data[f.code] = [None if t is None else (decimal.Decimal(t) if exact else t) for t in texts]
    return pd.DataFrame(data)


def long_to_wide(df: pd.DataFrame, *, what: str = "the data") -> pd.DataFrame:
    """Long format (``unit``, ``period``, ``code``, ``value``; ``code`` may be a concept
    key) to wide, with values kept as text for the exact parser. A (unit, period, code)
    given twice is an error naming it, never silently de-duplicated."""
    extra = [c for c in df.columns if c not in LONG_COLUMNS]
    if extra:
        raise InputError(
            f"{what}: long format takes unit, period, code, value; also found {', '.join(map(str, extra))}"
        )
    long = df.copy()
    if "period" not in long.columns:
        long["period"] = ""
    long["unit"] = long["unit"].astype(str)
    long["period"] = long["period"].astype(str)
    long["code"] = long["code"].astype(str)
    dup = long.duplicated(["unit", "period", "code"], keep="first")
    if dup.any():
        first = long[dup].iloc[0]
        err = InputError(
            f"{what}: unit {first['unit']} period {first['period']} gives field {first['code']} more than once "
            f"({int(dup.sum())} duplicate(s))",
            row=int(dup.to_numpy().nonzero()[0][0]),
            unit=str(first["unit"]),
            field=str(first["code"]),
        )
        raise err
    values = long["value"].astype(object).where(long["value"].notna(), None)
    long["value"] = [None if v is None else str(v) for v in values]
    wide = long.pivot(index=["unit", "period"], columns="code", values="value").reset_index()
    wide.columns.name = None
    return wide


def read_reports(path: str | os.PathLike[str], form: Any, **options: Any) -> pd.DataFrame:
    """Reads a file of reports (see :func:`unionstat.read_batch`, which takes the same
    options) and returns a DataFrame with exact values (counts as nullable Int64, money
    as ``Decimal``)."""
    from .io import read_batch

    return batch_to_frame(read_batch(path, form, **options))


def write_reports(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Writes reports so that :func:`read_reports` reads back exactly the same values."""
    from pathlib import Path

    import pandas as pd

    p = Path(path)
    out = df.copy()
    for c in out.columns:
        # Text is the exact form of every value: Decimal("1.50") is written "1.50".
        out[c] = pd.Series(
            [None if pd.isna(v) else str(v) for v in out[c].astype(object)], dtype=object, index=out.index
        )
    suffix = p.suffix.lower()
    if suffix == ".csv":
        out.to_csv(p, index=False, encoding="utf-8")
    elif suffix == ".xlsx":
        out.to_excel(p, index=False)
    elif suffix == ".parquet":
        out.to_parquet(p, index=False)
    elif suffix == ".json":
        out.to_json(p, orient="records", force_ascii=False)
    else:
        raise InputError(f"{p}: unknown file type '{suffix}' (csv, xlsx, parquet, json)", file=str(p))
