"""Validation, roll-up, check and completeness on Dask: a folder of files or any
``dask.dataframe`` in, the single-machine results out — exactly, in any partitioning.

Each partition goes to the C++ core through the Arrow import (no Python work per row)
and comes back as a small *partial*: a partition's violations and rule tallies, or its
partial totals of the inner units (a few thousand rows however many leaves), or its
leaves summed per parent, or which units reported. Partials are combined in a tree
reduction (``split_every`` at a time) with exact int64 arithmetic — overflow is an
:class:`~unionstat.ExactOverflowError` naming unit and field — and with the core's blank
rules: a total is blank only when every contribution is. The tree is shipped to the
workers once per computation (one task builds it from its units file; the workers fetch
the built tree), not with every task.

Needs ``pip install unionstat[dask]`` (``dask[dataframe]`` and ``distributed``).
"""

from __future__ import annotations

import glob
import os
import threading
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from .errors import ExactOverflowError, InputError, InputNotice
from .forms import Form, forms
from .graph import Completeness, Hierarchy, _totals_frame, _warn_unknown
from .io import read_file
from .rules import validate_batch

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa

__all__ = ["DaskValidation", "check", "completeness", "read", "rollup", "validate", "validate_rollup"]

#: Partials combined per task of the tree reduction.
SPLIT_EVERY = 8


def _dask() -> Any:
    try:
        import dask
        import dask.dataframe
    except ImportError as exc:  # pragma: no cover - dask is a test dependency
        raise InputError("unionstat.dask needs Dask: pip install 'unionstat[dask]'") from exc
    return dask


def _form(form: Form | str) -> Form:
    return forms()[form] if isinstance(form, str) else form


def _client() -> Any:
    """The running ``distributed`` client, or None (Dask's local scheduler, also when
    one is asked for with ``dask.config.set(scheduler=…)``)."""
    if _dask().config.get("scheduler", None) in (
        "sync",
        "synchronous",
        "single-threaded",
        "threads",
        "threading",
        "processes",
        "multiprocessing",
    ):
        return None
    try:
        from distributed import get_client
    except ImportError:  # pragma: no cover - distributed is installed with the extra
        return None
    try:
        return get_client()
    except ValueError:
        return None


@dataclass(frozen=True)
class _TreeRef:
    """A tree as it travels: its units file compressed (a few bytes a unit) and the
    period of the view; each worker process builds the tree from it once (see
    :func:`_tree`)."""

    token: str
    units: bytes
    period: str


#: Trees built in this process, by token (the last few: a worker serves one tree a run).
_TREES: dict[str, Hierarchy] = {}
_TREES_LOCK = threading.Lock()
_TREES_KEPT = 2


def _tree(t: Hierarchy | _TreeRef) -> Hierarchy:
    """The tree of a task: a :class:`_TreeRef` is built on the first use in this
    process and kept, so that a worker builds it once for every partition and every
    computation (never a pickled copy from another worker: a million-unit tree is
    hundreds of MB as objects, a few MB compressed)."""
    if isinstance(t, Hierarchy):
        return t
    with _TREES_LOCK:
        tree = _TREES.get(t.token)
        if tree is None:
            # The core parses the UTF-8 bytes as they are: no Python text of the whole
            # file (a third less peak memory and three times faster for a million units).
            tree = Hierarchy(_core.Hierarchy.parse_csv(zlib.decompress(t.units), "<shipped tree>"))
            tree = tree.at(t.period) if t.period else tree
            while len(_TREES) >= _TREES_KEPT:
                _TREES.pop(next(iter(_TREES)))
            _TREES[t.token] = tree
        return tree


def _tree_ref(units: bytes, period: str, token: str) -> _TreeRef:
    return _TreeRef(token, units, period)


def _shipped(tree: Hierarchy) -> Any:
    """The tree as one input of the graph, made once per computation and not carried by
    every task. On a distributed cluster: one task holding its units file compressed
    (the bytes travel once, with the graph, and once to each worker that needs them);
    each worker process builds the tree from them once and keeps it across partitions
    and computations. Should every worker holding the bytes die, the task is simply run
    again (scattered data would be lost for good). Locally: the object itself."""
    dask = _dask()
    if _client() is None:
        return dask.delayed(tree, name=f"unionstat-tree-{id(tree):x}")
    shipped = tree.__dict__.get("_shipped")
    if shipped is None:  # a tree never changes: compressed once per Hierarchy object
        _fn, (text, period) = tree.__reduce__()
        units = zlib.compress(text.encode("utf-8"), 1)
        token = dask.base.tokenize(units, period)
        shipped = tree.__dict__["_shipped"] = (units, period, token)
    units, period, token = shipped
    return dask.delayed(_tree_ref, pure=True)(units, period, token, dask_key_name=f"unionstat-tree-{token}")


def _partitions(ddf: Any) -> list[Any]:
    if not hasattr(ddf, "to_delayed"):
        raise InputError(f"expected a dask DataFrame, not a {type(ddf).__name__}")
    return list(ddf.to_delayed())


# ---------------------------------------------------------------------------------------
# Reading


def _files(path: str | os.PathLike[str] | list[Any]) -> list[str]:
    if isinstance(path, (list, tuple)):
        out = [str(p) for p in path]
    else:
        p = str(path)
        if os.path.isdir(p):
            out = sorted(str(f) for f in Path(p).rglob("*") if f.is_file() and f.suffix.lower() in (".parquet", ".csv"))
        else:
            out = sorted(glob.glob(p, recursive=True))
    if not out:
        raise InputError(f"{path}: no Parquet or CSV files there", file=str(path))
    for f in out:
        if not os.path.exists(f):
            raise InputError(f"{f}: no such file", file=f)
    return out


def _frame_of_table(table: pa.Table) -> pd.DataFrame:
    import pandas as pd

    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _read_one(path: str, form: Form) -> pd.DataFrame:
    """One file as a partition with Arrow-typed columns: Parquet as pyarrow decodes it
    (the core's Arrow import reads it on validation, as ``read_batch`` does one machine's
    file), CSV through unionstat's own reader (encodings, title lines; money exact
    decimal128)."""
    import pyarrow as pa

    if Path(path).suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            return _frame_of_table(pq.read_table(path))
        except (OSError, pa.ArrowException) as exc:  # not Parquet, truncated …
            raise InputError(f"{path}: cannot read the file as Parquet: {exc}", file=path) from exc
    result = read_file(path, form.schema)
    for note in result.notices:
        if not note.startswith("read as "):
            warnings.warn(f"{path}: {note}", InputNotice, stacklevel=2)
    table = pa.table(_core.batch_to_arrow(result.batch)).drop_columns(["row"])
    return _frame_of_table(table)


def read(path: str | os.PathLike[str] | list[Any], form: Form | str) -> dd.DataFrame:
    """A dask DataFrame of the reports in a directory, a glob or a list of files — one
    partition per file. Parquet and CSV alike are read on the workers by unionstat's
    own readers (CSV in UTF-8, GBK/GB18030 or UTF-16 with title lines skipped; money
    exact), so what reaches the graph is what one machine would read. Columns: ``unit``,
    ``period`` and every field of the form, Arrow-typed."""
    import pyarrow as pa

    dask = _dask()
    import dask.dataframe as dd

    f = _form(form)
    files = _files(path)
    bad = [x for x in files if Path(x).suffix.lower() not in (".parquet", ".csv", ".txt")]
    if bad:
        raise InputError(f"{bad[0]}: not a Parquet or CSV file", file=bad[0])
    if all(Path(x).suffix.lower() == ".parquet" for x in files):
        import pyarrow.parquet as pq

        meta = _frame_of_table(pq.read_schema(files[0]).empty_table())
    else:
        meta = _frame_of_table(pa.table(_core.batch_to_arrow(_core.ReportBatch(f.schema))).drop_columns(["row"]))
    del dask
    frame: dd.DataFrame = dd.from_map(  # type: ignore[no-untyped-call]  # dask's from_map has no annotations
        _read_one, files, form=f, meta=meta, enforce_metadata=False
    )
    return frame


# ---------------------------------------------------------------------------------------
# A partition to a batch


def _table_of(part: Any) -> pa.Table:
    """A partition (pandas, or anything Arrow) as an Arrow table: pandas' Arrow-backed
    columns without a copy, dictionary columns (hive partitions) decoded."""
    import pyarrow as pa

    if hasattr(part, "columns") and type(part).__module__.partition(".")[0] == "pandas":
        table = pa.Table.from_pandas(part, preserve_index=False)
    else:
        table = pa.table(part)
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    return table


def _batch_of(part: Any, form: Form) -> tuple[_core.ReportBatch, list[str]]:
    """The partition as a batch through the core's Arrow import, and the import's notices."""
    batch, problems, notices, _ignored, _enc = _core.read_arrow(form.schema, _table_of(part))
    if problems:
        raise InputError.from_problems(problems, "a partition of the data")
    return batch, list(notices)


def _notices(notes: list[list[str]]) -> None:
    for note in dict.fromkeys(n for ns in notes for n in ns):
        if not note.startswith("read as "):
            warnings.warn(note, InputNotice, stacklevel=3)


def _tree_reduce(parts: list[Any], combine: Callable[..., Any], split_every: int, *extra: Any) -> Any:
    """Combines delayed partials ``split_every`` at a time until one is left;
    ``combine(partials, *extra)`` (``extra``: shipped inputs such as the tree)."""
    dask = _dask()
    if split_every < 2:
        raise InputError(f"split_every must be at least 2, not {split_every}")
    while len(parts) > 1:
        parts = [
            dask.delayed(combine, pure=True)(parts[i : i + split_every], *extra)
            for i in range(0, len(parts), split_every)
        ]
    if not parts:
        raise InputError("the data has no partitions")
    return parts[0]


def _compute(obj: Any) -> Any:
    return _dask().compute(obj)[0]


# ---------------------------------------------------------------------------------------
# Validation


def _validate_part(
    part: Any, form: Form, index: int, before: list[dict[str, Any]] | None = None, held: list[str] | None = None
) -> dict[str, Any]:
    batch, notices = _batch_of(part, form)
    return _validated(batch, notices, form, index, before, held)


def _validated(
    batch: _core.ReportBatch,
    notices: list[str],
    form: Form,
    index: int,
    before: list[dict[str, Any]] | None = None,
    held: list[str] | None = None,
) -> dict[str, Any]:
    if before is None:
        res = validate_batch(batch)
    else:
        res = validate_batch(batch, previous=_previous_batch(before, form), previous_periods=held)
    table = res.violations_table()
    return {"index": index, "rows": len(batch), "counts": res._counts, "table": table, "notices": notices}


# prev(): each partition's reports meet the previous period's reports of the same units,
# wherever those sit. The previous data is read once and cut by period into its units and
# the columns prev() reads (nothing else); each period's pieces are gathered into one
# table, checked for a unit reported twice, and handed to the partitions whose reports
# fall in the period after it — a broadcast per period, exact in any partitioning.


def _prev_codes(form: Form) -> list[str]:
    """The fields that prev() reads, in field order."""
    at = sorted({f for r in _core.rule_asts(form.schema) for src, f in r["refs"] if src == "previous"})
    return [form.schema.fields[i].code for i in at]


def _period_names(cut: dict[str, Any]) -> list[str]:
    return sorted(cut)


def _periods_part(part: Any, form: Form) -> list[str]:
    batch, _notes = _batch_of(part, form)
    return sorted(set(batch.periods))


def _previous_part(part: Any, form: Form, codes: list[str]) -> dict[str, dict[str, Any]]:
    """A partition of the previous data by period: units and the prev() columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    batch, _notes = _batch_of(part, form)
    periods = pa.array(batch.periods, pa.string())
    units = pa.array(batch.units, pa.string())
    columns = {c: batch.raw_column(c) for c in codes}
    out: dict[str, dict[str, Any]] = {}
    for p in pc.unique(periods).to_pylist():
        mask = pc.equal(periods, p)
        keep = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
        out[p] = {"units": units.filter(mask), "columns": {c: (v[keep], m[keep]) for c, (v, m) in columns.items()}}
    return out


def _gather_period(parts: list[dict[str, dict[str, Any]]], period: str, codes: list[str]) -> dict[str, Any]:
    """One period of the previous data from every partition holding it; a unit in it
    twice is an error naming it (as on one machine)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pieces = [p[period] for p in parts if period in p]
    units = pa.concat_arrays([x["units"] for x in pieces]) if pieces else pa.array([], pa.string())
    if len(pc.unique(units)) != len(units):
        counts = pc.value_counts(units)
        unit = counts.field("values").filter(pc.greater(counts.field("counts"), 1))[0].as_py()
        raise InputError(f"unit {unit} reports twice in period {period} of the previous period's data", unit=unit)
    columns = {
        c: (
            np.concatenate([x["columns"][c][0] for x in pieces]) if pieces else np.zeros(0, np.int64),
            np.concatenate([x["columns"][c][1] for x in pieces]) if pieces else np.zeros(0, bool),
        )
        for c in codes
    }
    return {"period": period, "units": units, "columns": columns}


def _previous_batch(gathered: list[dict[str, Any]], form: Form) -> _core.ReportBatch:
    """The gathered periods as one batch: units, periods and the prev() columns (the
    other columns blank: prev() does not read them)."""
    batch = _core.ReportBatch(form.schema)
    units: list[str] = []
    periods: list[str] = []
    for g in gathered:
        units += g["units"].to_pylist()
        periods += [g["period"]] * len(g["units"])
    batch.set_keys(units, periods)
    codes = list(gathered[0]["columns"]) if gathered else []
    for c in codes:
        batch.set_column_raw(
            c,
            np.ascontiguousarray(np.concatenate([g["columns"][c][0] for g in gathered])),
            np.ascontiguousarray(np.concatenate([g["columns"][c][1] for g in gathered])),
        )
    return batch


def _previous_inputs(ddf: Any, previous: Any, form: Form) -> tuple[list[list[Any]], list[str]]:
    """Per partition of ``ddf``, the gathered previous periods its reports read, and
    every period the previous data holds."""
    dask = _dask()
    codes = _prev_codes(form)
    cut = list(dask.persist(*[dask.delayed(_previous_part, pure=True)(p, form, codes) for p in _partitions(previous)]))
    held_by_part = _compute([dask.delayed(_period_names, pure=True)(c) for c in cut])
    held = sorted({p for ps in held_by_part for p in ps})
    if previous is ddf:
        mine = held_by_part
    else:
        mine = _compute([dask.delayed(_periods_part, pure=True)(p, form) for p in _partitions(ddf)])
    gathered = {p: dask.delayed(_gather_period, pure=True)(cut, p, codes) for p in held}
    # Every period gathered (so a unit twice in any of them is named, as on one machine),
    # each once, before the partitions read them.
    gathered = dict(zip(gathered, dask.persist(*gathered.values())))
    del cut
    from .rules import previous_period

    inputs = []
    for ps in mine:
        wanted = dict.fromkeys(q for q in (previous_period(p, held) for p in ps) if q is not None)
        inputs.append([gathered[q] for q in wanted])
    return inputs, held


def _head(part: dict[str, Any]) -> tuple[int, np.ndarray, list[str]]:
    return part["rows"], part["counts"], part["notices"]


def _violations_at(part: dict[str, Any], offsets: np.ndarray) -> pd.DataFrame:
    """A partition's violations with ``row`` as the position in the whole frame."""
    import pyarrow as pa

    table = part["table"]
    i = table.column_names.index("row")
    rows = np.asarray(table.column(i).to_numpy(zero_copy_only=False), dtype=np.int64) + int(offsets[part["index"]])
    table = table.set_column(i, "row", pa.array(rows, table.schema.field(i).type))
    return table.to_pandas()


def _offsets(rows: list[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.asarray(rows, dtype=np.int64))[:-1]]) if rows else np.zeros(0, np.int64)


@dataclass
class DaskValidation:
    """Validation of a dask DataFrame. ``violations`` is a dask DataFrame (one partition
    per input partition, ``row`` the 1-based position in the whole frame, as
    ``form.check`` numbers a table), ``summary`` the per-rule tallies summed over the
    partitions (pandas), ``rows`` the reports validated."""

    violations: dd.DataFrame
    summary: pd.DataFrame
    rows: int
    form: Form

    @property
    def ok(self) -> bool:
        """True when no rule of severity error failed or could not be evaluated."""
        s = self.summary
        return not bool(((s["fails"] + s["errors"]) * (s["severity"] == "error")).any())

    def to_parquet(self, path: str | os.PathLike[str]) -> None:
        """Writes ``path/violations/`` (partitioned Parquet, one file per partition) and
        ``path/summary.parquet``."""
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        self.violations.to_parquet(str(p / "violations"), write_index=False)  # type: ignore[no-untyped-call]  # dask: no annotations
        self.summary.to_parquet(p / "summary.parquet", index=False)

    def __repr__(self) -> str:
        failing = int(((self.summary["fails"] > 0) | (self.summary["errors"] > 0)).sum())
        return (
            f"<DaskValidation {self.form.id}: {'ok' if self.ok else 'errors'}, {self.rows} report(s), "
            f"{failing} of {len(self.summary)} rules failed somewhere, {self.violations.npartitions} partition(s)>"
        )


def validate(ddf: dd.DataFrame, form: Form | str, *, previous: dd.DataFrame | None = None) -> DaskValidation:
    """Validates every report of ``ddf`` against the form's rules, partition by
    partition on the workers. The violations and the summary equal ``form.check`` of
    the whole frame on one machine (rows numbered across partitions).

    ``previous``: the reports of earlier periods that ``prev()`` rules read — a dask
    DataFrame, or ``ddf`` itself when it holds several periods — as ``form.check(df,
    previous=…)``: each report reads its unit's report of the period before its own,
    whichever partition holds it. The previous data's units and the columns ``prev()``
    reads (only those) are held in the cluster's memory during the run."""
    dask = _dask()
    f = _form(form)
    if previous is None:
        parts = [dask.delayed(_validate_part, pure=True)(p, f, i) for i, p in enumerate(_partitions(ddf))]
    else:
        _partitions(previous)
        inputs, held = _previous_inputs(ddf, previous, f)
        parts = [
            dask.delayed(_validate_part, pure=True)(p, f, i, inputs[i], held) for i, p in enumerate(_partitions(ddf))
        ]
    parts = list(dask.persist(*parts))  # each partition validated once; its violations stay on its worker
    return _validation_of(parts, f)


def _validation_of(parts: list[Any], f: Form) -> DaskValidation:
    """The validation of persisted partition results: the summary summed on the client,
    the violations left partitioned on the workers."""
    dask = _dask()
    import dask.dataframe as dd

    heads = _compute([dask.delayed(_head, pure=True)(p) for p in parts])
    rows = [h[0] for h in heads]
    _notices([h[2] for h in heads])
    offsets = _offsets(rows)
    empty = validate_batch(_core.ReportBatch(f.schema))
    meta = empty.violations_table().to_pandas()
    violations = dd.from_delayed(
        [dask.delayed(_violations_at, pure=True)(p, offsets) for p in parts], meta=meta, verify_meta=False
    )
    summary = empty.summary_table().to_pandas()
    counts = sum((h[1] for h in heads), np.zeros((len(summary), 5), dtype=np.int64))
    for i, name in enumerate(("items", "passes", "fails", "skipped", "errors")):
        summary[name] = counts[:, i].astype(summary[name].dtype)
    return DaskValidation(violations=violations, summary=summary, rows=int(sum(rows)), form=f)


# ---------------------------------------------------------------------------------------
# Merging partials: periods, who reported, unknown units


def _merge_period(periods: list[str]) -> str:
    seen = list(dict.fromkeys(p for p in periods if p))
    if len(seen) > 1:
        shown = ", ".join(seen[:8]) + (", …" if len(seen) > 8 else "")
        raise InputError(f"the data holds reports of several periods ({shown}); choose one")
    return seen[0] if seen else ""


def _merge_reported(tree: Hierarchy, parts: list[dict[str, Any]], period: str) -> np.ndarray:
    """Who reported, over several partials; a unit that reports in two of them is an
    error naming it (as one machine's "reports twice")."""
    reported: np.ndarray = parts[0]["reported"].copy()
    for p in parts[1:]:
        twice = reported & p["reported"]
        if twice.any():
            unit = tree.core.id(int(np.flatnonzero(twice)[0]))
            raise InputError(
                f"unit {unit} reports twice{' in period ' + period if period else ''} (in two partitions of the data)",
                unit=unit,
            )
        reported |= p["reported"]
    return reported


def _merge_unknown(parts: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(u for p in parts for u in p["unknown"]))


def _merge_keys(parts: list[dict[str, Any]], tree: Hierarchy) -> dict[str, Any]:
    """What every reduction merges alike: the one period, which units reported (each once),
    the units outside the tree and the readers' notices (each once, in order)."""
    period = _merge_period([p["period"] for p in parts])
    return {
        "period": period,
        "reported": _merge_reported(tree, parts, period),
        "unknown": _merge_unknown(parts),
        "notices": list(dict.fromkeys(n for p in parts for n in p["notices"])),
    }


def _matched(tree: Hierarchy, batch: _core.ReportBatch, period: str) -> dict[str, Any]:
    m = _core.match_units(tree.core, batch, period=period)
    return {"period": m["period"], "reported": m["row"] >= 0, "unknown": list(m["unknown_units"])}


def _add_exact(
    a: np.ndarray, b: np.ndarray, units: np.ndarray, tree: Hierarchy, codes: list[str], what: str
) -> np.ndarray:
    """a + b (int64, fields × units) or ExactOverflowError naming the first unit and field."""
    s: np.ndarray = a + b  # numpy wraps: an overflow shows as a sign both addends do not have
    bad = ((a ^ s) & (b ^ s)) < 0
    if bad.any():
        # As the core's pass in topological order: the first field, and in it the deepest
        # unit whose total overflows (none of its descendants' does).
        f = int(np.flatnonzero(bad.any(axis=1))[0])
        ks = np.flatnonzero(bad[f])
        depth = np.asarray(tree.core.columns(units[ks].tolist())["depth"])
        unit = tree.core.id(int(units[ks[int(np.argmax(depth))]]))
        raise ExactOverflowError(f"the {what} of field {codes[f]} overflows at unit {unit}", unit=unit, field=codes[f])
    return s


# ---------------------------------------------------------------------------------------
# Roll-up


def _rollup_part(
    part: Any, tree: Hierarchy | _TreeRef, form: Form, along: str, period: str, ignore_inner: bool
) -> dict[str, Any]:
    batch, notices = _batch_of(part, form)
    return _rolled(batch, notices, _tree(tree), form, along, period, ignore_inner)


def _rolled(
    batch: _core.ReportBatch,
    notices: list[str],
    tree: Hierarchy,
    form: Form,
    along: str,
    period: str,
    ignore_inner: bool,
) -> dict[str, Any]:
    out = _matched(tree, batch, period)
    r = _core.rollup(tree.core, batch, along=along, period=period, ignore_inner=ignore_inner, leaves=False)
    totals = r["totals"]
    values, missing = [], []
    for f in form.schema.fields:
        v, m = totals.raw_column(f.code)
        values.append(v)
        missing.append(m)
    width = len(form.schema.fields)
    out.update(
        units=r["units"],
        reports=r["reports"].astype(np.int64),
        notices=notices,
        values=np.vstack(values) if width else np.zeros((0, len(r["units"])), np.int64),
        missing=np.vstack(missing) if width else np.zeros((0, len(r["units"])), bool),
    )
    return out


def _combine_rollup(parts: list[dict[str, Any]], tree: Hierarchy | _TreeRef, form: Form) -> dict[str, Any]:
    tree = _tree(tree)
    out = {**parts[0], **_merge_keys(parts, tree)}
    fields = form.schema.fields
    codes = [f.code for f in fields]
    own = np.array([f.aggregation == "none" for f in fields], dtype=bool)
    values, missing, reports = parts[0]["values"].copy(), parts[0]["missing"].copy(), parts[0]["reports"].copy()
    values[missing] = 0
    for p in parts[1:]:
        v = np.where(p["missing"], 0, p["values"])
        # Adding fields: exact sums; fields that do not add: the one partial holding the
        # unit's own report (a unit reports once, checked above).
        added = _add_exact(values, v, out["units"], tree, codes, "total")
        values = np.where(own[:, None], values + v, added)
        missing &= p["missing"]
        reports += p["reports"]
    out.update(values=values, missing=missing, reports=reports)
    return out


def _totals_batch(tree: Hierarchy, form: Form, r: dict[str, Any]) -> _core.ReportBatch:
    batch = _core.ReportBatch(form.schema)
    ids = tree.core.columns(r["units"].tolist())["unit"]
    batch.set_keys(ids, [r["period"]] * len(ids))
    for i, f in enumerate(form.schema.fields):
        batch.set_column_raw(f.code, np.ascontiguousarray(r["values"][i]), np.ascontiguousarray(r["missing"][i]))
    return batch


def _check_tree(tree: Any) -> Hierarchy:
    if not isinstance(tree, Hierarchy):
        raise InputError(f"expected a unionstat Hierarchy, not a {type(tree).__name__}")
    return tree


def rollup(
    ddf: dd.DataFrame,
    tree: Hierarchy,
    form: Form | str,
    *,
    along: str = "primary",
    period: str = "",
    ignore_inner: bool = False,
    exact: bool | str = True,
    split_every: int = SPLIT_EVERY,
) -> pd.DataFrame:
    """Consolidated totals of the inner units, as ``tree.rollup(whole_frame, form)``
    gives them (same rows, columns, types and values): each partition rolls its reports
    up into partial totals on its worker, the partials are added in a tree reduction."""
    dask = _dask()
    f, tree = _form(form), _check_tree(tree)
    t = _shipped(tree)
    parts = [dask.delayed(_rollup_part, pure=True)(p, t, f, along, period, ignore_inner) for p in _partitions(ddf)]
    r = _compute(_tree_reduce(parts, _combine_rollup, split_every, t, f))
    return _rollup_of(r, tree, f, exact)


def _rollup_of(r: dict[str, Any], tree: Hierarchy, f: Form, exact: bool | str) -> pd.DataFrame:
    _notices([r["notices"]])
    _warn_unknown(r["unknown"], "roll-up")
    info = tree.core.columns(r["units"].tolist())
    return _totals_frame(_totals_batch(tree, f, r), info["name"], info["level"], r["reports"].astype(np.uint32), exact)


def _both_part(
    part: Any, tree: Hierarchy | _TreeRef, form: Form, index: int, along: str, period: str, ignore_inner: bool
) -> dict[str, Any]:
    batch, notices = _batch_of(part, form)
    return {
        "validation": _validated(batch, notices, form, index),
        "rollup": _rolled(batch, notices, _tree(tree), form, along, period, ignore_inner),
    }


def _pick(both: dict[str, Any], which: str) -> Any:
    return both[which]


def validate_rollup(
    ddf: dd.DataFrame,
    tree: Hierarchy,
    form: Form | str,
    *,
    along: str = "primary",
    period: str = "",
    ignore_inner: bool = False,
    exact: bool | str = True,
    split_every: int = SPLIT_EVERY,
) -> tuple[DaskValidation, pd.DataFrame]:
    """:func:`validate` and :func:`rollup` of the same data in one pass: each partition
    is read and imported once for both (a file read twice costs more than validating
    it). The same results as the two calls."""
    dask = _dask()
    f, tree = _form(form), _check_tree(tree)
    t = _shipped(tree)
    both = [
        dask.delayed(_both_part, pure=True)(p, t, f, i, along, period, ignore_inner)
        for i, p in enumerate(_partitions(ddf))
    ]
    checked = [dask.delayed(_pick, pure=True)(b, "validation") for b in both]
    rolled = _tree_reduce(
        [dask.delayed(_pick, pure=True)(b, "rollup") for b in both], _combine_rollup, split_every, t, f
    )
    # Persisted: each partition's validation (its violations stay on its worker) and the
    # one summed roll-up; the partitions' roll-up partials go as soon as they are added.
    *checked, rolled = dask.persist(*checked, rolled)
    totals = _rollup_of(_compute(rolled), tree, f, exact)
    return _validation_of(list(checked), f), totals


# ---------------------------------------------------------------------------------------
# Check


def _check_part(part: Any, tree: Hierarchy | _TreeRef, form: Form, period: str) -> dict[str, Any]:
    import pyarrow as pa

    tree = _tree(tree)
    batch, notices = _batch_of(part, form)
    out = _matched(tree, batch, period)
    s = _core.sum_leaves(tree.core, batch, period=period)
    inner = batch.take(s["inner_rows"].tolist())
    out.update(
        units=s["units"],
        sum=s["sum"],
        count=s["count"].astype(np.int64),
        notices=notices,
        inner=pa.table(_core.batch_to_arrow(inner)).drop_columns(["row"]),
    )
    return out


def _combine_check(parts: list[dict[str, Any]], tree: Hierarchy | _TreeRef, form: Form) -> dict[str, Any]:
    import pyarrow as pa

    tree = _tree(tree)
    out = {**parts[0], **_merge_keys(parts, tree)}
    codes = [f.code for f in form.schema.fields]
    total, count = parts[0]["sum"], parts[0]["count"]
    for p in parts[1:]:
        total = _add_exact(total, p["sum"], out["units"], tree, codes, "children's total")
        count = count + p["count"]
    out.update(sum=total, count=count, inner=pa.concat_tables([p["inner"] for p in parts]))
    return out


def check(
    ddf: dd.DataFrame,
    tree: Hierarchy,
    form: Form | str,
    *,
    period: str = "",
    imbalanced_only: bool = True,
    money_per_child: str | None = None,
    split_every: int = SPLIT_EVERY,
) -> pd.DataFrame:
    """Parents' reported totals against their children's, as ``tree.check(whole_frame,
    form)`` gives them: each partition sums its leaf reports per parent and sets its
    inner units' own reports aside; the sums are added and the inner reports gathered in
    a tree reduction; the core then checks the inner reports against the summed leaves."""
    dask = _dask()
    f, tree = _form(form), _check_tree(tree)
    t = _shipped(tree)
    parts = [dask.delayed(_check_part, pure=True)(p, t, f, period) for p in _partitions(ddf)]
    r = _compute(_tree_reduce(parts, _combine_check, split_every, t, f))
    _notices([r["notices"]])
    _warn_unknown(r["unknown"], "check")
    inner = _core.read_arrow(f.schema, r["inner"])[0]
    if r["count"].max(initial=0) > np.iinfo(np.uint32).max:
        raise ExactOverflowError("more than 2^32 children of one unit reported a field")
    res = _core.check(
        tree.core,
        inner,
        period=r["period"],
        money_per_child=money_per_child,
        keep_balanced=not imbalanced_only,
        leaf_units=r["units"],
        leaf_sum=r["sum"],
        leaf_count=r["count"].astype(np.uint32),
    )
    return tree._check_frame(res, f.schema, imbalanced_only)


# ---------------------------------------------------------------------------------------
# Completeness


def _completeness_part(part: Any, tree: Hierarchy | _TreeRef, form: Form, period: str) -> dict[str, Any]:
    tree = _tree(tree)
    times = None
    if hasattr(part, "columns") and "submitted" in part.columns:  # as one machine: the column is no field
        times = part["submitted"].tolist()
        part = part.drop(columns="submitted")
    batch, notices = _batch_of(part, form)
    out = _matched(tree, batch, period)
    out["notices"] = notices
    # Timeliness reads every row's unit, period and time (a unit's earliest counts):
    # only when the data has them.
    out["rows"] = None if times is None else (list(batch.units), list(batch.periods), times)
    return out


def _combine_completeness(parts: list[dict[str, Any]], tree: Hierarchy | _TreeRef) -> dict[str, Any]:
    tree = _tree(tree)
    out = _merge_keys(parts, tree)
    timed = [p["rows"] for p in parts if p["rows"] is not None]
    out["rows"] = None if not timed else tuple([x for t in timed for x in t[i]] for i in range(3))
    return out


def completeness(
    ddf: dd.DataFrame,
    tree: Hierarchy,
    form: Form | str,
    *,
    period: str = "",
    root: str = "",
    deadline: Any = None,
    split_every: int = SPLIT_EVERY,
) -> Completeness:
    """Who has not reported, as ``tree.completeness(whole_frame, form)`` tells it: each
    partition marks the units that reported in it, the marks are joined in a tree
    reduction (a unit marked twice reports twice: an error). With a ``submitted``
    column, who reported on time and who late, as on one machine (``deadline``
    overrides the form's); the rows' units, periods and times then travel to the client."""
    dask = _dask()
    f, tree = _form(form), _check_tree(tree)
    t = _shipped(tree)
    parts = [dask.delayed(_completeness_part, pure=True)(p, t, f, period) for p in _partitions(ddf)]
    r = _compute(_tree_reduce(parts, _combine_completeness, split_every, t))
    _notices([r["notices"]])
    _warn_unknown(r["unknown"], "completeness count")
    keys = _core.ReportBatch(f.schema)  # the units that reported, keys only: all completeness reads
    ids = np.asarray(tree.ids, dtype=object)[r["reported"]].tolist()
    keys.set_keys(ids, [r["period"]] * len(ids))
    result = _core.completeness(tree.core, keys, period=r["period"], root=root)
    if r["rows"] is None:
        return tree._completeness_of(result, form=f, deadline=deadline, root=root)
    rows = _core.ReportBatch(f.schema)  # every row's keys, for the times row by row
    rows.set_keys(r["rows"][0], r["rows"][1])
    return tree._completeness_of(result, batch=rows, form=f, submitted=r["rows"][2], deadline=deadline, root=root)
