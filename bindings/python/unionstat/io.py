"""Files ⇄ report batches, the bottom layer of the package.

Every format goes to the C++ core with no Python object per cell: CSV through the core's
own reader (streaming, both cores, encodings, title rows); Parquet and Feather through
pyarrow's readers streamed into the Arrow import; XLSX through fastexcel (calamine)
straight to Arrow; JSON with exact numbers (never through float64). Row numbers are the
user's everywhere: the file's line (CSV), the sheet's row (XLSX), the record's position
(JSON, Parquet).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _core
from .errors import InputError, InputNotice

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SUFFIXES", "ReadResult", "arrow_table", "read_arrow", "read_batch", "read_file", "strip_id", "warn_notices"]

#: File types read, by suffix.
SUFFIXES = (
    ".csv",
    ".txt",
    ".xlsx",
    ".xlsm",
    ".parquet",
    ".feather",
    ".arrow",
    ".ipc",
    ".json",
    ".jsonl",
    ".ndjson",
    ".zip",
)


@dataclass
class ReadResult:
    """A file read into a batch, with what the reader did that the user should hear of."""

    batch: _core.ReportBatch
    #: Sentences: lines skipped above the header, columns not read, the encoding detected.
    notices: list[str] = field(default_factory=list)
    #: Input columns that are no field of the form (备注, 填报人 …) and were not read.
    ignored_columns: list[str] = field(default_factory=list)
    #: The encoding a text file was read in ("utf-8", "gb18030", "utf-16le" …), else None.
    encoding: str | None = None
    #: Per report (batch row), when it was submitted: a filled template's 日期 cell or a
    #: ``submitted`` column; None where not known (the list is empty when none is).
    submitted: list[Any] = field(default_factory=list)


def strip_id(text: str) -> str:
    """``text`` stripped by the one rule every reader applies to unit ids, periods and
    header names (the core's, so Python and C++ cannot drift apart): ASCII white space,
    the ideographic space U+3000, the no-break space U+00A0, the byte-order mark U+FEFF and
    the zero-width space U+200B at both ends; characters inside are kept."""
    return _core.strip_id(text)


def arrow_table(data: Any) -> pa.Table:
    """Any Arrow stream producer (the core's result tables among them) as a pyarrow Table.
    ``pa.table(obj)`` would probe whether ``obj`` is a pandas DataFrame first, which loads
    pandas (a third of a second of a CLI run) in a process that needs none of it."""
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    return pa.RecordBatchReader._import_from_c_capsule(data.__arrow_c_stream__()).read_all()


def read_arrow(
    data: Any,
    schema: _core.FormSchema,
    *,
    what: str = "the data",
    strict: bool = False,
    row_column: str = "",
    file: str | None = None,
    expected_rows: int = 0,
) -> ReadResult:
    """Any Arrow producer (``__arrow_c_stream__`` or ``__arrow_c_array__``: pyarrow,
    polars, DuckDB, a RecordBatchReader streaming a Parquet file …) into a batch, in C++
    with the GIL released. Raises :class:`InputError` listing every bad cell and row."""
    batch, problems, notices, ignored, _encoding = _core.read_arrow(
        schema, data, strict=strict, row_column=row_column, expected_rows=expected_rows
    )
    if problems:
        raise InputError.from_problems(problems, what, file=file)
    return ReadResult(batch, list(notices), list(ignored))


def read_file(
    path: str | os.PathLike[str],
    schema: _core.FormSchema,
    *,
    encoding: str | None = None,
    strict: bool = False,
    sheet: str | int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReadResult:
    """Reads a file of reports (one row per report: the unit, the period, field codes or
    concept keys) into a batch. Raises :class:`InputError` naming the file — and for bad
    cells every one with row, unit and field — when it cannot be used as it is."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file", file=str(p))
    from .store import is_package

    if is_package(p):
        if encoding is not None or sheet is not None:
            raise InputError(f"{p}: a submission package takes neither an encoding nor a sheet", file=str(p))
        return _read_package(p, schema, strict=strict)
    if p.is_dir():
        if encoding is not None or sheet is not None:
            raise InputError(f"{p}: a folder of filled templates takes neither an encoding nor a sheet", file=str(p))
        return _read_folder(p, schema, strict=strict)
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _with_submitted(_read_csv(p, schema, encoding=encoding, strict=strict, progress=progress), p)
    if encoding is not None:
        raise InputError(f"{p}: --encoding applies to CSV files only, not {suffix}", file=str(p))
    if suffix in (".xlsx", ".xlsm"):
        from .filled import is_template
        from .workbook import Workbook

        with Workbook(p) as wb:
            template = is_template(wb)
        if template:
            return _read_templates([p], schema, sheet=sheet, strict=strict, what=str(p))
        return _with_submitted(_read_xlsx(p, schema, sheet=sheet, strict=strict), p, sheet=sheet)
    if sheet is not None:
        raise InputError(f"{p}: a sheet applies to XLSX files only, not {suffix}", file=str(p))
    if suffix == ".parquet":
        return _with_submitted(_read_parquet(p, schema, strict=strict), p)
    if suffix in (".feather", ".arrow", ".ipc"):
        return _with_submitted(_read_feather(p, schema, strict=strict), p)
    if suffix in (".json", ".jsonl", ".ndjson"):
        return _with_submitted(_read_json(p, schema, strict=strict), p)
    if suffix == ".zip":
        raise InputError(f"{p}: a zip that is no submission package (no manifest.json)", file=str(p))
    raise InputError(f"{p}: unknown file type '{suffix}' (csv, xlsx, parquet, feather, json, a package)", file=str(p))


def read_batch(
    path: str | os.PathLike[str],
    form: Any,
    *,
    encoding: str | None = None,
    strict: bool = False,
    sheet: str | int | None = None,
    progress: Callable[[int], None] | None = None,
) -> _core.ReportBatch:
    """Reads a file of reports (CSV, XLSX, Parquet, Feather, JSON) straight into a
    columnar batch for ``form`` (a Form or its schema): the fastest way to validate or
    roll up a large file. Raises :class:`InputError` listing every bad cell with row,
    unit and field; what the reader left out (title lines, 备注 columns) is told as an
    :class:`InputNotice` warning. ``progress`` is called with the rows read so far."""
    result = read_file(
        path, getattr(form, "schema", form), encoding=encoding, strict=strict, sheet=sheet, progress=progress
    )
    warn_notices(result)
    return result.batch


def warn_notices(result: ReadResult, stacklevel: int = 3) -> None:
    """Tells each notice of a read as an :class:`InputNotice` warning (the encoding
    detected is not one: it is in ``result.encoding``)."""
    for note in result.notices:
        if not note.startswith("read as "):
            warnings.warn(note, InputNotice, stacklevel=stacklevel)


# ---------------------------------------------------------------------------------------
# CSV: the core's reader


def _read_csv(
    p: Path, schema: _core.FormSchema, *, encoding: str | None, strict: bool, progress: Callable[[int], None] | None
) -> ReadResult:
    batch, problems, notices, ignored, used = _core.read_csv(
        str(p), schema, encoding=encoding or "", strict=strict, progress=progress
    )
    if problems:
        raise InputError.from_problems(problems, str(p), file=str(p))
    return ReadResult(batch, list(notices), list(ignored), used)


# ---------------------------------------------------------------------------------------
# Parquet and Feather: pyarrow's readers into the Arrow import


def _pyarrow(what: str) -> Any:
    try:
        import pyarrow as pa
    except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
        raise InputError(f"reading {what} needs pyarrow (pip install pyarrow)") from exc
    return pa


def _read_parquet(p: Path, schema: _core.FormSchema, *, strict: bool) -> ReadResult:
    pa = _pyarrow("Parquet")
    import pyarrow.parquet as pq

    # The decoded pieces come and go batch after batch: jemalloc keeps their pages for the
    # next ones, where pyarrow's default mimalloc hands them back and faults them in again
    # (at 1 M reports a tenth of the read's CPU, and 40 MB more peak). Only while reading;
    # set before the file is opened, as its reader takes the pool it finds then.
    before = pa.default_memory_pool()
    pool = _jemalloc(pa)
    if pool is not None:
        pa.set_memory_pool(pool)
    try:
        try:
            # Read through a 256 KiB buffer, not pre-buffered: pyarrow would otherwise hold
            # each column chunk whole — a file written as one row group in full (150 MB of
            # the peak for a 1 M-report file, and no faster).
            pf = pq.ParquetFile(p, buffer_size=1 << 18, pre_buffer=False)
        except Exception as exc:  # pyarrow's own errors: not Parquet, truncated …
            raise InputError(f"{p}: cannot read the file as Parquet: {exc}", file=str(p)) from exc
        # Record batch by record batch: the batch grows while each decoded piece is
        # released, so the peak is the batch plus a few pieces, not the whole table twice.
        # pyarrow's decoded data grows with the batch size: 16k rows cost 80 MB less than
        # 64k at 1 M reports, and are no slower.
        reader = pa.RecordBatchReader.from_batches(pf.schema_arrow, pf.iter_batches(batch_size=16_384))
        result = read_arrow(reader, schema, what=str(p), strict=strict, file=str(p), expected_rows=pf.metadata.num_rows)
        del reader, pf
        return result
    finally:
        if pool is not None:
            pa.set_memory_pool(before)
        # The allocator keeps the freed pieces for reuse (75 MB at 1 M reports); the
        # batch holds everything now, so they go back to the system before the
        # validation and its output need memory of their own.
        (pool or before).release_unused()


def _jemalloc(pa: Any) -> Any:
    """pyarrow's jemalloc pool, or None where this pyarrow was built without it."""
    try:
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, AttributeError):  # pragma: no cover - depends on the wheel
        return None


def _read_feather(p: Path, schema: _core.FormSchema, *, strict: bool) -> ReadResult:
    pa = _pyarrow("Feather")
    import pyarrow.feather as feather

    try:
        table = feather.read_table(p, memory_map=True)
    except Exception as exc:
        raise InputError(f"{p}: cannot read the file as Feather/Arrow IPC: {exc}", file=str(p)) from exc
    del pa
    return read_arrow(table, schema, what=str(p), strict=strict, file=str(p))


# ---------------------------------------------------------------------------------------
# JSON: exact numbers


class _Number(str):
    """A JSON number kept as the text it was written in (1234567890123.123456 stays so)."""


def _read_json(p: Path, schema: _core.FormSchema, *, strict: bool) -> ReadResult:
    pa = _pyarrow("JSON")
    text = p.read_text(encoding="utf-8-sig")
    try:
        if p.suffix.lower() in (".jsonl", ".ndjson"):
            records = [
                json.loads(line, parse_float=_Number, parse_int=_Number) for line in text.splitlines() if line.strip()
            ]
        else:
            records = json.loads(text, parse_float=_Number, parse_int=_Number)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{p}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}", file=str(p), line=exc.lineno, column=exc.colno
        ) from exc
    if isinstance(records, dict) and "reports" in records:
        records = records["reports"]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError(f"{p}: expected a list of reports (objects of unit, period and field codes)", file=str(p))
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r))

    def text_of(v: Any) -> str | None:
        if v is None:
            return None
        if isinstance(v, bool):
            return "是" if v else "否"
        if isinstance(v, (str, int)):
            return str(v)
        raise InputError(
            f"{p}: a value {json.dumps(v, ensure_ascii=False)[:40]} is neither a number, a text nor null", file=str(p)
        )

    # Every value as its text, so the core parses it as it would a CSV cell.
    table = pa.table({n: pa.array([text_of(r.get(n)) for r in records], pa.string()) for n in names})
    return read_arrow(table, schema, what=str(p), strict=strict, file=str(p))


# ---------------------------------------------------------------------------------------
# XLSX: fastexcel (calamine) straight to Arrow


_HEADER_SEARCH_ROWS = 50


def _read_xlsx(p: Path, schema: _core.FormSchema, *, sheet: str | int | None, strict: bool) -> ReadResult:
    pa = _pyarrow("XLSX")
    try:
        import fastexcel
    except ImportError as exc:  # pragma: no cover - a dependency
        raise InputError("reading XLSX needs fastexcel (pip install fastexcel)") from exc
    try:
        reader = fastexcel.read_excel(str(p))
    except Exception as exc:
        raise InputError(f"{p}: cannot read the file as XLSX: {exc}", file=str(p)) from exc
    names = list(reader.sheet_names)
    if sheet is not None:
        if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
            i = int(sheet)
            if not 0 <= i < len(names):
                raise InputError(f"{p}: no sheet {i} (sheets: {', '.join(names)})", file=str(p))
            candidates = [names[i]]
        elif sheet in names:
            candidates = [sheet]
        else:
            raise InputError(f"{p}: no sheet '{sheet}' (sheets: {', '.join(names)})", file=str(p))
    else:
        candidates = names
    notices: list[str] = []
    # What fastexcel does not tell (where the sheet's range starts, formulas without a
    # stored result) needs the sheet's XML decompressed once more: done on the other core
    # while fastexcel parses (both release the GIL), for the sheet most likely read.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = (candidates[0], pool.submit(_sheet_facts, p, names.index(candidates[0])))
        for name in candidates:
            fast = _load_plain_sheet(reader, name, schema, strict)
            if fast is not None:
                data, header, found = fast
                facts = ahead[1].result() if ahead[0] == name else _sheet_facts(p, names.index(name))
                return _read_sheet(p, name, data, 0, header, found, facts, schema, strict, notices, pa)
            # The sheet is parsed once, every cell as its text (what the core parses
            # exactly); the header is looked for in its first rows, the rest are the reports.
            whole = reader.load_sheet(name, header_row=None, dtypes="string").to_arrow()
            head = whole.slice(0, _HEADER_SEARCH_ROWS)
            rows = list(zip(*[c.to_pylist() for c in head.columns])) if head.num_columns else []
            for i, row in enumerate(rows):
                header = ["" if v is None else str(v) for v in row]
                mapped = _core.map_header(schema, header, 0, strict)
                if mapped is not None:
                    index = names.index(name)
                    facts = ahead[1].result() if ahead[0] == name else _sheet_facts(p, index)
                    return _read_sheet(
                        p, name, whole.slice(i + 1), i, header, mapped, facts, schema, strict, notices, pa
                    )
            if sheet is None and name != candidates[-1]:
                notices.append(f"sheet '{name}' has no header row of {schema.id}: not read")
    where = f"sheet '{candidates[0]}'" if len(candidates) == 1 else "any sheet"
    raise InputError(
        f"{p}: no header row in {where} (within the first {_HEADER_SEARCH_ROWS} rows): a header names the unit column "
        f"(unit, 单位代码, 填报单位) and fields of {schema.id} by code (01A) or key",
        file=str(p),
    )


# Column types fastexcel infers that the core reads exactly as the cells' text would be.
_PLAIN_TYPES = ("string", "large_string", "int64", "double", "bool", "null")


def _load_plain_sheet(
    reader: Any, name: str, schema: _core.FormSchema, strict: bool
) -> tuple[Any, list[str], dict[str, Any]] | None:
    """A sheet whose first row is a clean header, read with the column types fastexcel
    infers (numbers as numbers: a third less work than every cell as text, and the same
    values: a float is taken as its shortest text, as the text path would spell it).
    None — read it as text instead — for anything else: a title row above the header,
    an empty or repeated header cell (fastexcel would rename it), a header problem, a
    cell that does not fit its column's type (strict: never turned into a blank), keys
    that are not text, or a type outside the plain ones."""
    try:
        # Every row sampled for the types: with fewer, fastexcel turns a text cell below
        # the sample ("x", "1,234" in a column of numbers) into a blank without a word.
        data = reader.load_sheet(name, header_row=0, dtype_coercion="strict", schema_sample_rows=None, eager=True)
    except Exception:
        return None
    header = list(data.schema.names)
    if any(h.startswith("__UNNAMED__") for h in header) or any(
        re.fullmatch(re.escape(a) + r"_\d+", b) for a in header for b in header if a != b
    ):
        return None
    found = _core.map_header(schema, header, 0, strict)
    if found is None or found["problems"] or found["unnamed"]:
        return None
    if any(str(data.schema.types[c]) not in _PLAIN_TYPES for c in found["field_columns"]):
        return None
    keys = [found["unit"]] + ([found["period"]] if found["period"] >= 0 else [])
    import pyarrow as pa

    for c in keys:  # ids and periods typed as whole numbers (630100, 2018) are their digits
        kind = str(data.schema.types[c])
        if kind in ("string", "large_string"):
            continue
        if kind not in ("int64", "double"):
            return None
        try:  # a safe cast: a fraction or a number past 2^53 is refused, not rounded
            digits = data.column(c).cast(pa.int64()).cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        data = table.set_column(c, header[c], digits)
    return data, header, found


def _read_sheet(
    p: Path,
    name: str,
    data: Any,
    header_index: int,
    header: list[str],
    found: dict[str, Any],
    facts: tuple[int, list[tuple[str, int]]],
    schema: _core.FormSchema,
    strict: bool,
    notices: list[str],
    pa: Any,
) -> ReadResult:
    import numpy as np

    start_row, formula_cells = facts
    header_row = start_row + header_index
    what = f"{p}, sheet '{name}'"
    if found["problems"]:
        raise InputError.from_problems(
            [(header_row, c, u, f, t, m) for _r, c, u, f, t, m in found["problems"]], what, file=str(p)
        )
    formulas = [c for c, row in formula_cells if row > header_row]
    if formulas:
        cells = ", ".join(f"{name}!{c}" for c in formulas[:20]) + (" …" if len(formulas) > 20 else "")
        raise InputError(
            f"{what}: {len(formulas)} formula cell(s) without a stored result (open and save the file in "
            f"Excel or LibreOffice so that it stores them): {cells}",
            file=str(p),
        )
    if header_index > 0:
        notices.append(
            f"skipped {header_index} row(s) above the header in sheet '{name}' (rows {start_row}–{header_row - 1})"
        )
    # Only the columns that mean something go on, under their header's names (as the
    # header spells them: the core maps codes and keys as it does for CSV).
    keep = [found["unit"]] + ([found["period"]] if found["period"] >= 0 else []) + list(found["field_columns"])
    n = data.num_rows
    # The sheet rows as a buffer: pa.array() and pa.table() probe their argument for
    # pandas objects and so load pandas (half a second of a CLI run).
    rows = pa.Array.from_buffers(
        pa.int64(), n, [None, pa.py_buffer(np.arange(header_row + 1, header_row + 1 + n, dtype=np.int64))]
    )
    table = pa.Table.from_arrays(
        [data.column(c) for c in keep] + [rows], names=[header[c] for c in keep] + ["__sheet_row__"]
    )
    result = read_arrow(table, schema, what=what, strict=strict, row_column="__sheet_row__", file=str(p))
    ignored = [header[c] for c in found["ignored"]]
    if ignored:
        notices.append(f"columns not read (not fields of {schema.id}) in sheet '{name}': {', '.join(ignored)}")
    result.notices = notices + result.notices
    result.ignored_columns = ignored
    return result


def _sheet_xml(p: Path, index: int) -> bytes:
    """The XML of the index-th sheet (workbook order), through the workbook's relations."""
    with zipfile.ZipFile(p) as z:
        wb = z.read("xl/workbook.xml")
        rels = z.read("xl/_rels/workbook.xml.rels")
        ids = re.findall(rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]+)"', wb) or re.findall(
            rb'<(?:\w+:)?sheet\b[^>]*?\bid="([^"]+)"', wb
        )
        if index >= len(ids):
            return b""
        target = None
        for m in re.finditer(rb"<Relationship\b[^>]*>", rels):
            tag = m.group(0)
            if re.search(rb'\bId="' + re.escape(ids[index]) + rb'"', tag):
                t = re.search(rb'\bTarget="([^"]+)"', tag)
                target = t.group(1).decode() if t else None
        if target is None:
            return b""
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        return z.read(path)


def _sheet_facts(p: Path, index: int) -> tuple[int, list[tuple[str, int]]]:
    """What fastexcel does not say, from the sheet's XML in one read: the sheet row
    (1-based) where its range starts (the first row holding a value: calamine's first
    row), and the cells holding a formula whose result the file does not store (written
    by a program that does not compute them: they would read as blank)."""
    xml = _sheet_xml(p, index)
    # Tags carry the prefix the file declares for SpreadsheetML (most write none). The
    # patterns start with a literal, which the regex engine searches for at C speed.
    m = re.search(rb"<(?:(\w+):)?worksheet\b", xml[:4096])
    ns = (m.group(1) + b":") if m and m.group(1) else b""
    row = re.compile(b"<" + ns + rb'row\b[^>]*?\br="(\d+)"[^>]*>(.*?)</' + ns + b"row>", re.S)
    value = re.compile(b"<" + ns + rb"(?:v|t)\b[^>]*>[^<]")
    start = 1
    for r in row.finditer(xml):
        if value.search(r.group(2)):
            start = int(r.group(1))
            break
    formula = re.compile(b"<" + ns + rb"f[ >/]")
    stored = re.compile(b"<" + ns + rb"v>[^<]+</" + ns + b"v>")
    missing: list[tuple[str, int]] = []
    f = formula.search(xml)
    while f:
        pos = f.start()
        begin = xml.rfind(b"<" + ns + b"c ", 0, pos)
        end = xml.find(b"</" + ns + b"c>", pos)
        cell = xml[begin:end] if begin >= 0 and end >= 0 else b""
        ref = re.search(rb'\br="([A-Z]+)(\d+)"', cell)
        if ref and not stored.search(cell):
            missing.append(((ref.group(1) + ref.group(2)).decode(), int(ref.group(2))))
        f = formula.search(xml, end if end >= 0 else pos + 2)
    return start, missing


# ---------------------------------------------------------------------------------------
# Filled templates (unionstat.templates): cells found by their defined names


def _read_folder(p: Path, schema: _core.FormSchema, *, strict: bool) -> ReadResult:
    """Every filled template in a folder (``*.xlsx``, ``*.xlsm``; Excel's ``~$`` lock files
    left out), read as one batch; other files are named in a notice."""
    files = sorted(
        q for q in p.iterdir() if q.is_file() and q.suffix.lower() in (".xlsx", ".xlsm") and not q.name.startswith("~$")
    )
    others = sorted(q.name for q in p.iterdir() if q.is_file() and q not in files and not q.name.startswith("~$"))
    if not files:
        raise InputError(f"{p}: a folder with no XLSX files (filled templates) in it", file=str(p))
    from .filled import is_template
    from .workbook import Workbook

    for q in files:
        with Workbook(q) as wb:
            if not is_template(wb):
                raise InputError(
                    f"{q}: not a filled template (no defined names f_<code>); a folder is read as "
                    "filled templates only",
                    file=str(q),
                )
    result = _read_templates(files, schema, sheet=None, strict=strict, what=str(p))
    if others:
        result.notices.insert(
            0, f"files that are no XLSX not read: {', '.join(others[:10])}" + (" …" if len(others) > 10 else "")
        )
    return result


def _read_templates(
    files: list[Path], schema: _core.FormSchema, *, sheet: str | int | None, strict: bool, what: str
) -> ReadResult:
    """Filled templates into one batch: each report's cells as their exact text through
    the core's parser; every bad cell named by file, sheet!cell, unit and field."""
    pa = _pyarrow("XLSX")
    from .filled import read_filled

    reports = []
    problems: list[tuple[str, Any]] = []
    notices: list[str] = []
    for q in files:
        reps, probs, notes = read_filled(q, schema, sheet=None if sheet is None else str(sheet))
        reports += reps
        problems += [(str(q), pr) for pr in probs]
        notices += [f"{q.name}: {n}" for n in notes]
    codes = [f.code for f in schema.fields]
    columns: dict[str, Any] = {
        "unit": pa.array([r.unit for r in reports], pa.string()),
        "period": pa.array([r.period for r in reports], pa.string()),
    }
    for c in codes:
        columns[c] = pa.array([r.values.get(c) for r in reports], pa.string())
    columns["__report__"] = pa.array(range(1, len(reports) + 1), pa.int64())
    lines: list[tuple[str, str, str, str, str]] = []  # place, unit, field, text, message
    for file, pr in problems:
        lines.append((f"{file}, {pr.sheet}!{pr.ref}", pr.unit, pr.field, pr.text, pr.message))
    result = None
    try:
        result = read_arrow(pa.table(columns), schema, what=what, strict=strict, row_column="__report__")
    except InputError as exc:
        for item in exc.problems:
            i = int(item["row"]) - 1 if item.get("row") else -1
            if not 0 <= i < len(reports):
                lines.append(
                    (what, item.get("unit") or "", item.get("field") or "", item.get("text") or "", item["message"])
                )
                continue
            rep = reports[i]
            code = (
                schema.field(item["field"]).code
                if item.get("field") and schema.find(item["field"]) is not None
                else (item.get("field") or "")
            )
            lines.append((f"{rep.file}, {rep.where(code)}", rep.unit, code, item.get("text") or "", item["message"]))
    if lines:
        from .workbook import split_ref

        def order(line: tuple[str, str, str, str, str]) -> tuple[str, str, int, int]:
            # In reading order: file, sheet, then the cell's row and column.
            file, _sep, cell = line[0].rpartition(", ")
            sheet, _bang, ref = cell.rpartition("!")
            try:
                r, c = split_ref(ref)
            except ValueError:
                r, c = 0, 0
            return file, sheet, r, c

        lines.sort(key=order)
        shown = []
        for place, unit, fld, _text, message in lines[:20]:
            label = ""
            if schema.find(fld) is not None:
                label = f" {schema.field(fld).label}"
            shown.append(f"{place} (unit {unit or '?'}, field {fld}{label}): {message}")
        more = f"\n… and {len(lines) - 20} more" if len(lines) > 20 else ""
        first = lines[0]
        err = InputError(
            f"{len(lines)} bad cell(s) in {what}:\n" + "\n".join(shown) + more,
            file=first[0].split(", ")[0],
            unit=first[1] or None,
            field=first[2] or None,
        )
        err.problems = [{"place": pl, "unit": u, "field": f, "text": t, "message": m} for pl, u, f, t, m in lines]
        raise err
    assert result is not None
    result.notices = notices + list(result.notices)
    result.submitted = [r.submitted for r in reports] if any(r.submitted for r in reports) else []
    return result


# ---------------------------------------------------------------------------------------
# Submission packages (unionstat.package): their reports, and when each was packaged

#: The notices' time: a manifest's UTC times become submission times in China Standard Time.
_CST = dt.timezone(dt.timedelta(hours=8))


def _read_package(p: Path, schema: _core.FormSchema, *, strict: bool) -> ReadResult:
    """The reports of a submission package (a folder or a zip), its ``reports.parquet``
    checked against the manifest's hash first (``unionstat verify`` checks the rest).
    Each report's submission time is when its unit's own package was made: the created
    time of the innermost manifest that lists the unit (a merged package keeps its
    children's), in China Standard Time."""
    pa = _pyarrow("a package")
    import pyarrow.parquet as pq

    from .store import CUSTODY, REPORTS, Store, read_manifest, sha256

    with Store(p) as store:
        manifest, _raw = read_manifest(store, p)
        if REPORTS not in store.names:
            raise InputError(f"{p}: the package has no {REPORTS}", file=str(p))
        data = store.read(REPORTS)
        listed = manifest["parts"].get(REPORTS, {}).get("sha256")
        if sha256(data) != listed:
            raise InputError(
                f"{p}/{REPORTS}: changed since it was packaged (its SHA-256 is not the manifest's); "
                f"`unionstat verify {p}` tells what else",
                file=str(p),
            )
        if manifest["form"]["id"] != schema.id:
            raise InputError(f"{p}: a package of form {manifest['form']['id']}, not {schema.id}", file=str(p))
        own: dict[str, str] = {}
        for name in store.names:
            if name.startswith(CUSTODY + "/"):
                try:
                    kid = json.loads(store.read(name).decode("utf-8"))
                except ValueError as exc:
                    raise InputError(f"{p}/{name}: a kept manifest that is no JSON: {exc}", file=str(p)) from exc
                if not kid.get("children"):  # a unit's own package, not a merge on the way up
                    own.update(dict.fromkeys(kid.get("units", []), kid.get("created")))
    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as exc:
        raise InputError(f"{p}/{REPORTS}: cannot read the part as Parquet: {exc}", file=str(p)) from exc
    result = read_arrow(table, schema, what=f"{p}/{REPORTS}", strict=strict, file=str(p))

    def local(stamp: Any) -> dt.datetime | None:
        try:
            when = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            return None
        return when.astimezone(_CST).replace(tzinfo=None) if when.tzinfo else when

    created = manifest["created"]
    result.submitted = [local(own.get(u, created)) for u in result.batch.units]
    result.notices.append(
        f"read as a submission package ({manifest['reports']:,} reports of {manifest['form']['id']}); "
        "each report's submission time is when its unit's package was made"
    )
    return result


# ---------------------------------------------------------------------------------------
# Submission times: a ``submitted`` column beside the reports

#: Header names of a column holding each report's submission time.
SUBMITTED_NAMES = (
    "submitted",
    "报送时间",
    "上报时间",
    "报送日期",
    "上报日期",
    "報送時間",
    "上報時間",
    "報送日期",
    "上報日期",
)


def _with_submitted(result: ReadResult, p: Path, *, sheet: str | int | None = None) -> ReadResult:
    """Reads the file's ``submitted`` column (which the core left out as no field) into
    ``result.submitted``, aligned with the batch's rows; a cell that is no date or time
    is an error naming its row and unit."""
    names = [c for c in result.ignored_columns if c.strip().lower() in SUBMITTED_NAMES]
    if not names:
        return result
    name = names[0]
    by_row = _column_by_row(p, name, result, sheet)
    from .filled import parse_date

    rows = result.batch.row_numbers
    units = result.batch.units
    out: list[Any] = []
    bad: list[tuple[int, int, str, str, str, str]] = []
    for i, r in enumerate(rows):
        text = by_row.get(int(r))
        if text is None or not strip_id(str(text)):
            out.append(None)
            continue
        when = parse_date(str(text))
        if when is None:
            bad.append(
                (
                    int(r),
                    0,
                    units[i],
                    name,
                    str(text),
                    f"'{text}' in column {name} is not a date or time (2012-01-06, 2012-01-06 17:30 or 2012年1月6日)",
                )
            )
        out.append(when)
    if bad:
        raise InputError.from_problems(bad, str(p), file=str(p))
    result.submitted = out
    result.notices.append(f"column {name} read as each report's submission time")
    return result


def _column_by_row(p: Path, name: str, result: ReadResult, sheet: str | int | None) -> dict[int, Any]:
    """One column's texts by the row numbers the readers give (CSV: the record's first
    line; XLSX: the sheet row; others: the 1-based position)."""
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        import csv
        import io as _io

        enc = {"utf-8": "utf-8-sig"}.get(result.encoding or "utf-8", result.encoding or "utf-8")
        text = p.read_bytes().decode(enc, errors="replace")
        reader = csv.reader(_io.StringIO(text, newline=""))
        out: dict[int, Any] = {}
        col = -1
        line = 1
        for rec in reader:
            if col < 0:
                stripped = [strip_id(c) for c in rec]
                if name in stripped:
                    col = stripped.index(name)
            elif col < len(rec):
                out[line] = rec[col]
            line = reader.line_num + 1
        return out
    if suffix in (".xlsx", ".xlsm"):
        import fastexcel

        book = fastexcel.read_excel(str(p))
        names = list(book.sheet_names)
        for sname in (
            [names[int(sheet)]]
            if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names)
            else [sheet]
            if sheet is not None
            else names
        ):
            whole = book.load_sheet(sname, header_row=None, dtypes="string").to_arrow()
            cols = [c.to_pylist() for c in whole.columns]
            start, _f = _sheet_facts(p, names.index(sname))
            for i in range(min(_HEADER_SEARCH_ROWS, whole.num_rows)):
                row = [("" if c[i] is None else strip_id(str(c[i]))) for c in cols]
                if name in row:
                    j = row.index(name)
                    return {start + k: cols[j][k] for k in range(i + 1, whole.num_rows)}
        return {}
    pa = _pyarrow("the submitted column")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        values = pq.read_table(p, columns=[name]).column(0).to_pylist()
    elif suffix in (".feather", ".arrow", ".ipc"):
        import pyarrow.feather as feather

        values = feather.read_table(p, columns=[name]).column(0).to_pylist()
    else:
        records = (
            json.loads(p.read_text(encoding="utf-8-sig"))
            if suffix == ".json"
            else [json.loads(x) for x in p.read_text(encoding="utf-8-sig").splitlines() if x.strip()]
        )
        if isinstance(records, dict):
            records = records.get("reports", [])
        values = [r.get(name) if isinstance(r, dict) else None for r in records]
    del pa
    return {i + 1: (v.isoformat(sep=" ") if hasattr(v, "isoformat") else v) for i, v in enumerate(values)}
