"""Readers and writers: CSV, XLSX, Parquet, JSON, and Arrow-compatible objects."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from .forms import Form

__all__ = ["as_pandas", "read_reports", "write_reports"]


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


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    suffix = path.suffix.lower()
    # Text stays text: the exact parser sees what was typed ("1,234", "１２", "—").
    if suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if suffix in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".json":
        return pd.read_json(path, orient="records", dtype=False)
    raise InputError(f"{path}: unknown file type '{suffix}' (csv, xlsx, parquet, json)", file=str(path))


def read_reports(path: str | os.PathLike[str], form: Form) -> pd.DataFrame:
    """Reads a file of reports (one row per report: ``unit``, ``period``, field codes or
    keys) and checks every cell against the form; raises :class:`InputError` listing
    every bad cell with row, unit and field. Returns a DataFrame with exact values."""
    from .frames import batch_to_frame, to_batch

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file", file=str(p))
    df = _read_table(p)
    df = df.replace({"": None}) if p.suffix.lower() in (".csv", ".xlsx", ".xlsm") else df
    batch = to_batch(df, form.schema, what=str(p))
    return batch_to_frame(batch)


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
