"""Readers and writers: CSV, XLSX, Parquet, JSON, and Arrow-compatible objects."""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from . import _core
    from .forms import Form

__all__ = ["as_pandas", "read_batch", "read_reports", "write_reports"]


def as_pandas(data: Any) -> pd.DataFrame:
    """A DataFrame from a DataFrame, an object with ``__arrow_c_stream__`` (pyarrow,
    polars …) or a mapping of columns."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        try:
            import pyarrow as pa
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise InputError("reading an Arrow object needs pyarrow installed") from exc
        table = pa.table(data) if hasattr(data, "__arrow_c_stream__") else pa.record_batch(data)
        return table.to_pandas()
    if isinstance(data, dict):
        return pd.DataFrame(data)
    raise InputError(f"cannot read reports from a {type(data).__name__}")


def _read_table(path: Path, progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    import pandas as pd

    suffix = path.suffix.lower()
    # Text stays text: the exact parser sees what was typed ("1,234", "１２", "—").
    try:
        if suffix == ".csv":
            if progress is None:
                return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            chunks = []
            rows = 0
            with pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", chunksize=200_000) as reader:
                for chunk in reader:
                    chunks.append(chunk)
                    rows += len(chunk)
                    progress(rows)
            return pd.concat(chunks, ignore_index=True) if chunks else pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=str, keep_default_na=False)
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".json":
            return pd.read_json(path, orient="records", dtype=False)
    except InputError:
        raise
    except Exception as exc:  # the readers' own errors: bad encoding, broken zip, bad JSON …
        raise InputError(f"{path}: cannot read the file as {suffix[1:]}: {exc}", file=str(path)) from exc
    raise InputError(f"{path}: unknown file type '{suffix}' (csv, xlsx, parquet, json)", file=str(path))


def read_batch(
    path: str | os.PathLike[str], form: Form, *, progress: Callable[[int], None] | None = None
) -> _core.ReportBatch:
    """Reads a file of reports straight into a columnar batch (no DataFrame of exact
    values in between: the fastest way to validate or roll up a large file). Raises
    :class:`InputError` listing every bad cell with row, unit and field, or naming the
    file when it cannot be read. ``progress`` is called with the rows read so far."""
    from .frames import to_batch

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file", file=str(p))
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a file of reports", file=str(p))
    df = _read_table(p, progress)
    df = df.replace({"": None}) if p.suffix.lower() in (".csv", ".xlsx", ".xlsm") else df
    return to_batch(df, form.schema, what=str(p))


def read_reports(path: str | os.PathLike[str], form: Form) -> pd.DataFrame:
    """Reads a file of reports (one row per report: ``unit``, ``period``, field codes or
    keys) and checks every cell against the form; raises :class:`InputError` listing
    every bad cell with row, unit and field. Returns a DataFrame with exact values
    (counts as nullable Int64, money as ``Decimal``)."""
    from .frames import batch_to_frame

    return batch_to_frame(read_batch(path, form))


def write_reports(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Writes reports so that :func:`read_reports` reads back exactly the same values."""
    p = Path(path)
    import pandas as pd

    out = df.copy()
    for c in out.columns:
        # Text is the exact form of every value: Decimal("1.50") is written "1.50".
        out[c] = pd.Series([None if pd.isna(v) else str(v) for v in out[c].astype(object)], dtype=object, index=out.index)
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
