"""The ``unionstat`` command line.

Commands: ``forms``, ``show FORM``, ``template FORM -o FILE.xlsx``, ``validate FILE --form F``, ``rollup FILE --tree T
--form F``, ``check FILE --tree T --form F``, ``completeness FILE --tree T --form F``,
``outliers FILE --form F [--previous FILE] [--tree T]``, ``localise FILE --form F``,
``analyse-rules FORM_OR_FILE``, ``draft NOTICE.txt -o FILE``,
``package FILE --form F [--tree T] -o DIR_OR_ZIP``, ``verify PKG``, ``merge PKG… -o DIR_OR_ZIP``,
``demo``. ``--tree`` takes a units file (CSV or YAML) or a bundled tree's name
(``qinghai``, ``pingdingshan``).

Exit status, so that ETL scripts can branch on it:

* 0 — clean: no rule of severity error failed; no gap; every unit reported;
* 1 — findings: errors (``validate``), gaps (``check``), units that did not report or
  reported late (``completeness``), outliers (``outliers``), reports to correct (``localise``),
  rules no report can satisfy (``analyse-rules``), or reports of units outside the tree that
  were left out; a package whose reports fail an error rule (``package``, ``merge``: the
  package is written all the same, its summary says so); a package that does not verify —
  a part changed, missing or added (``verify``, naming each part);
* 2 — bad usage or unreadable input: wrong arguments, a missing or unreadable file, bad
  cells, an unknown form or tree, an inconsistent tree; what is not a package, a manifest
  that is no JSON; packages that cannot be merged (overlapping units, mixed form versions or
  periods, a child that does not verify).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import Error, InputError

if TYPE_CHECKING:
    import pandas as pd

    from . import _core
    from .forms import Form
    from .graph import Hierarchy
    from .progress import Progress

__all__ = ["build_parser", "main"]

#: Exit statuses.
CLEAN, FOUND, BAD_INPUT = 0, 1, 2


def _cmd_forms(args: argparse.Namespace) -> int:
    from .forms import forms

    for form_id, form in forms().items():
        print(
            f"{form_id:15} {len(form.fields):3} fields {len(form.rules):4} rules  {form.title}  ({form.source['issuer']})"
        )
    return CLEAN


def _cmd_show(args: argparse.Namespace) -> int:
    from .forms import forms

    print(forms()[args.form].render(args.lang, detail=args.detail))
    return CLEAN


# ---------------------------------------------------------------------------------------
# Shared steps of the data commands
# ---------------------------------------------------------------------------------------


def _progress(args: argparse.Namespace, steps: int) -> Progress:
    from .progress import Progress

    enabled = args.progress if args.progress is not None else sys.stderr.isatty()
    return Progress(steps, enabled=enabled)


def _lang(args: argparse.Namespace, form: Any) -> str:
    """The language of the output: --lang, else the form's own (Chinese for the bundled
    forms); set on ``args.lang`` so that every step of the command uses the same."""
    from .i18n import resolve

    args.lang = resolve(getattr(args, "lang", None), form)
    return str(args.lang)


def _note(text: str) -> None:
    print(f"unionstat: note: {text}", file=sys.stderr)


def _load(args: argparse.Namespace, path: str, form: Form, bar: Progress) -> _core.ReportBatch:
    """The reports of one file, after the checks every input gets: not empty, no report
    given twice."""
    from . import _core
    from .io import read_file

    bar.step(f"reading {path}")
    res = read_file(
        path,
        form.schema,
        encoding=args.encoding,
        strict=args.strict,
        sheet=args.sheet,
        progress=lambda rows: bar.note(f"reading {path}: {rows:,} rows"),
    )
    for text in res.notices:
        _note(f"{path}: {text}")
    batch = res.batch
    if path == getattr(args, "file", None):
        # Submission times by the reader's row numbers, which survive --period's selection.
        rows = batch.row_numbers
        args.submitted = {int(r): t for r, t in zip(rows, res.submitted)} if res.submitted else None
    if len(batch) == 0:
        raise InputError(f"{path}: holds no reports (a header and no rows)", file=path)
    dups = _core.duplicate_keys(batch)
    if dups:
        rows = batch.row_numbers
        shown = "; ".join(
            f"unit {batch.units[a]} period {batch.periods[a] or '(none)'} in rows {rows[a]} and {rows[b]}"
            for a, b in dups[:5]
        )
        more = f" (and {len(dups) - 5} more)" if len(dups) > 5 else ""
        a, b = dups[0]
        raise InputError(
            f"{path}: {len(dups)} report(s) given twice: {shown}{more}",
            file=path,
            row=int(rows[b]),
            unit=batch.units[a],
        )
    return batch


def _read(args: argparse.Namespace, form: Form, bar: Progress) -> _core.ReportBatch:
    """The file's reports (see _load), with the --period chosen (the others left out,
    and said so)."""
    from . import _core

    batch = _load(args, args.file, form, bar)
    counts = dict(_core.period_counts(batch))
    if args.period is not None:
        period = str(args.period)
        if period not in counts:
            present = ", ".join(f"{p or '(none)'} ({n:,} reports)" for p, n in list(counts.items())[:10])
            raise InputError(f"{args.file}: no reports of period {period} (periods present: {present})", file=args.file)
        others = {p: n for p, n in counts.items() if p != period}
        if others:
            left = ", ".join(f"{p or '(none)'}: {n:,}" for p, n in others.items())
            _note(f"{args.file}: left out {sum(others.values()):,} report(s) of other periods ({left})")
            batch = _core.select_period(batch, period)
    args.periods = [period] if args.period is not None else list(counts)  # what _period chooses from
    return batch


def _tree(spec: str) -> Hierarchy:
    from pathlib import Path

    from .graph import Hierarchy, sample_tree

    p = Path(spec)
    if p.is_file():
        return Hierarchy.read(p)
    if "/" not in spec and "\\" not in spec and sample_tree(spec).is_file():
        return Hierarchy.sample(spec)
    raise InputError(f"{spec}: no such units file (nor a bundled tree: qinghai, pingdingshan)", file=spec)


def _period(args: argparse.Namespace) -> str:
    """The period to work on: --period (the batch holds only it by now), or the file's
    only period (as :func:`_read` counted them); several periods need a choice."""
    if args.period is not None:
        return str(args.period)
    periods = args.periods  # counted once, by _read
    if len(periods) > 1:
        shown = ", ".join(periods[:10]) + (" …" if len(periods) > 10 else "")
        raise InputError(
            f"{args.file} holds reports of several periods ({shown}): choose one with --period", file=args.file
        )
    return periods[0] if periods else ""


@contextmanager
def _unknown_units(found: list[str]) -> Iterator[None]:
    """Reports of units outside the tree: collected into ``found`` and told on stderr."""
    from .graph import UnknownUnitsWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownUnitsWarning)
        yield
    for w in caught:
        if issubclass(w.category, UnknownUnitsWarning):
            found.append(str(w.message))
            print(f"unionstat: warning: {w.message}", file=sys.stderr)
        else:  # pragma: no cover - pass other warnings on
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _format(args: argparse.Namespace) -> str:
    """--format, or the --output file's suffix, or a table."""
    if args.format:
        return str(args.format)
    suffix = Path(args.output).suffix.lower() if args.output else ""
    return {".csv": "csv", ".json": "json", ".html": "html", ".htm": "html", ".parquet": "parquet"}.get(suffix, "table")


def _arrow(data: Any) -> Any:
    """A result as an Arrow table with plain columns (dictionaries decoded, exact money
    as its text for CSV/JSON readers that know no decimal)."""
    import pyarrow as pa

    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(_plain_frame(data), preserve_index=False)
    cols = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def _plain_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(_plain)
    return out


def _emit(args: argparse.Namespace, data: Any, table: str, html: str, obj: Any = None) -> None:
    """Writes a result in the chosen format to stdout or --output: CSV and Parquet by
    Arrow's writers (streaming, in C++), JSON as records, HTML, or the terminal table."""
    fmt = _format(args)
    import pyarrow as pa

    if isinstance(data, pa.RecordBatchReader) and fmt in ("parquet", "csv", "json"):
        _emit_stream(args, data, fmt)
        return
    if fmt == "parquet":
        import pyarrow.parquet as pq

        if not args.output:
            raise InputError("--format parquet needs --output FILE")
        pq.write_table(_arrow(data), args.output)
        return
    if fmt == "csv":
        import pyarrow.csv as pacsv

        with _out(args, binary=True) as out:
            pacsv.write_csv(_arrow(data), out)
        return
    if fmt == "json":
        text = json.dumps(obj if obj is not None else _arrow(data).to_pylist(), ensure_ascii=False, default=str)
    elif fmt == "html":
        text = html
    else:
        text = table
    with _out(args, binary=False) as out:
        out.write(text + "\n")


def _emit_stream(args: argparse.Namespace, reader: Any, fmt: str) -> None:
    """Writes an Arrow stream of plain columns batch by batch (the result's text is made
    one batch at a time, never held whole): CSV and Parquet by Arrow's writers, JSON as
    one list of records, written record batch by record batch."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        if not args.output:
            raise InputError("--format parquet needs --output FILE")
        with pq.ParquetWriter(args.output, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
        return
    if fmt == "csv":
        import pyarrow.csv as pacsv

        with _out(args, binary=True) as out, pacsv.CSVWriter(out, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
        return
    with _out(args, binary=False) as out:
        out.write("[")
        first = True
        for batch in reader:
            for record in batch.to_pylist():
                out.write(("" if first else ", ") + json.dumps(record, ensure_ascii=False, default=str))
                first = False
        out.write("]\n")


@contextmanager
def _out(args: argparse.Namespace, *, binary: bool) -> Iterator[Any]:
    """--output opened (and closed), or stdout (flushed)."""
    if args.output:
        with open(args.output, "wb") if binary else open(args.output, "w", encoding="utf-8") as f:
            yield f
        return
    sys.stdout.flush()
    out = sys.stdout.buffer if binary else sys.stdout
    yield out
    out.flush()


def _plain(value: Any) -> Any:
    """A cell for CSV/JSON: int stays int, exact money becomes its text, blank None."""
    from decimal import Decimal

    import pandas as pd

    if value is None or value is pd.NA:
        return None
    return str(value) if isinstance(value, Decimal) else value


def _clip(text: str, width: int = 30) -> str:
    """Shortens a long label for a terminal column (CJK characters count two)."""
    from .views import _width

    if _width(text) <= width:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


# ---------------------------------------------------------------------------------------
# Commands on data
# ---------------------------------------------------------------------------------------


def _cmd_template(args: argparse.Namespace) -> int:
    """Writes a form's Excel template (one sheet per unit with --units)."""
    from .templates import template

    path = template(args.form, args.output, units=args.units, lang=args.lang, period=args.period)
    print(f"wrote {path}", file=sys.stderr)
    return CLEAN


def _cmd_validate(args: argparse.Namespace) -> int:
    from .forms import forms
    from .rules import validate_batch

    form = forms()[args.form]
    unknown: list[str] = []
    with _progress(args, 2) as bar:
        batch = _read(args, form, bar)
        bar.step(f"validating {len(batch):,} reports")
        if args.tree:
            tree = _tree(args.tree)
            period = _period(args)
            with _unknown_units(unknown):
                res = (tree.at(period) if period else tree).validate(batch, form, period=period, unknown="warn")
        else:
            res = validate_batch(batch)
    args.status = CLEAN if res.ok else FOUND
    lang = _lang(args, form)
    fmt = _format(args)
    if fmt in ("json", "csv", "parquet"):
        _emit(args, res.violations_reader(), "", "")
    elif fmt == "html":
        from .views import batch_html

        _emit(args, None, "", batch_html(res, lang=lang))
    else:
        from .i18n import t, word, words

        s = res.summary_table().to_pylist()
        failing = [r for r in s if r["fails"] or r["errors"]]
        shown = res.violations_table(limit=args.limit).to_pylist()
        errors = sum(r["fails"] + r["errors"] for r in s if r["severity"] == "error")
        lines = [
            t(
                "{n} reports, {violations} violations ({errors} errors)",
                lang,
                n=f"{len(batch):,}",
                violations=f"{len(res):,}",
                errors=f"{errors:,}",
            )
        ]
        if failing:
            from .views import text_table

            lines.append(
                text_table(
                    words(["rule", "severity", "items", "passes", "fails", "skipped", "errors"], lang),
                    [
                        [r["rule"], word(r["severity"], lang)]
                        + [f"{r[k]:,}" for k in ("items", "passes", "fails", "skipped", "errors")]
                        for r in failing
                    ],
                    right={2, 3, 4, 5, 6},
                )
            )
        lines += [
            t(
                "  row {row} unit {unit}: [{severity}] {rule}: {message}",
                lang,
                row=r["row"],
                unit=r["unit"],
                severity=word(r["severity"], lang),
                rule=r["rule"],
                message=r["message"],
            )
            for r in shown
        ]
        if len(res) > len(shown):
            lines.append(t("  … and {n} more (--limit, or --format csv for all)", lang, n=f"{len(res) - len(shown):,}"))
        _emit(args, None, "\n".join(lines), "")
    return CLEAN if res.ok else FOUND


def _prepare(args: argparse.Namespace, bar: Progress) -> tuple[Form, Hierarchy, _core.ReportBatch, str]:
    from concurrent.futures import ThreadPoolExecutor

    from .forms import forms

    form = forms()[args.form]
    bar.step(f"loading the tree {args.tree}")
    # The tree loads on another thread while the reports are read (both in C++ without
    # the GIL): a national roll-up's two inputs take the longer of the two, not the sum.
    with ThreadPoolExecutor(max_workers=1) as pool:
        loading = pool.submit(_tree, args.tree)
        try:
            batch = _read(args, form, bar)
        except BaseException:
            loading.result()  # a bad tree is told first, as when it was loaded first
            raise
        tree = loading.result()
    period = _period(args)
    return form, (tree.at(period) if period else tree), batch, period


def _cmd_rollup(args: argparse.Namespace) -> int:

    from .views import fmt_value, rollup_html, text_table

    unknown: list[str] = []
    with _progress(args, 3) as bar:
        form, tree, batch, period = _prepare(args, bar)
        bar.step(f"rolling up {len(batch):,} reports over {len(tree):,} units")
        with _unknown_units(unknown):
            # Inner units only unless --leaves (a leaf's total is its own report), so the
            # Decimal per money cell that keeps the reported decimals in the output is cheap.
            totals, _, own = tree._rollup(
                batch,
                form,
                along=args.along,
                period=period,
                ignore_inner=args.lowest_only,
                leaves=args.leaves,
                exact="decimal",
            )
    unit = args.unit or tree.core.id(tree.core.roots()[0])
    if unit not in tree:
        raise InputError(f"--unit {unit}: not a unit of the tree", unit=unit)
    if unit not in totals.index:
        raise InputError(
            f"--unit {unit}: a leaf, whose total is its own report (add --leaves to list leaves)", unit=unit
        )
    reported = totals.index[own >= 0]
    inner = [u for u in reported if tree.children(u)]  # the rows' units that reported themselves
    if inner and not args.lowest_only:
        print(
            f"unionstat: note: {len(inner)} unit(s) with children reported (e.g. {inner[0]}); their reports were "
            "added as their own activity — if they are consolidated totals, use --lowest-only",
            file=sys.stderr,
        )
    from .i18n import t, words

    lang = _lang(args, form)
    me = totals.loc[unit]
    kids = [c for c in tree.children(unit) if c in totals.index][: args.limit]
    rows = [
        [f.code, _clip(f.label), f.unit, fmt_value(me[f.code])] + [fmt_value(totals.loc[k, f.code]) for k in kids]
        for f in form.fields
    ]
    header = t(
        "{form} period {period}: {unit} {name} — {n} report(s) counted",
        lang,
        form=form.id,
        period=period or t("(any)", lang),
        unit=unit,
        name=me["name"],
        n=f"{int(me['reports']):,}",
    )
    table = text_table(
        words(["code", "field", "measure"], lang) + [t("{unit} total", lang, unit=unit)] + kids,
        rows,
        right=set(range(3, 4 + len(kids))),
    )
    out = totals.reset_index()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(_plain)
    args.status = FOUND if unknown else CLEAN
    _emit(
        args,
        out,
        header + "\n" + table,
        rollup_html(totals, form, unit=unit, children=tree.children(unit), unknown_units=unknown, lang=lang),
    )
    return FOUND if unknown else CLEAN


def _cmd_check(args: argparse.Namespace) -> int:
    from .views import fmt_value, gaps_html, text_table

    unknown: list[str] = []
    with _progress(args, 3) as bar:
        form, tree, batch, period = _prepare(args, bar)
        bar.step(f"comparing consolidated reports over {len(tree):,} units")
        with _unknown_units(unknown):
            gaps = tree.check(batch, form, period=period, imbalanced_only=not args.all)
    imbalanced = gaps[~(gaps["within_tolerance"] & gaps["gap_within_tolerance"])] if len(gaps) else gaps
    names = dict(zip(tree.ids, tree.to_frame()["name"]))
    out = gaps.copy()
    for c in ("reported", "computed", "difference", "tolerance", "gap"):
        out[c] = out[c].map(_plain)
    if args.format == "csv":
        out["explained_by"] = out["explained_by"].map(" ".join)
        out["trace"] = out["trace"].map(" > ".join)
    else:  # the lazily walked traces as plain lists for JSON, Parquet and HTML writers
        out["trace"] = out["trace"].map(list)
    from .i18n import t, words

    lang = _lang(args, form)
    table = t(
        "{form} period {period}: {n} imbalance(s) (unit × field)",
        lang,
        form=form.id,
        period=period or t("(any)", lang),
        n=len(imbalanced),
    )
    if len(gaps):
        rows = [
            [
                x.unit,
                names.get(x.unit, ""),
                x.field,
                fmt_value(x.reported),
                fmt_value(x.computed),
                fmt_value(x.difference),
                fmt_value(x.gap),
                " → ".join(x.trace) if len(x.trace) > 1 else (t("introduced here", lang) if x.trace else ""),
            ]
            for x in gaps.head(args.limit).itertuples()
        ]
        table += "\n" + text_table(
            words(["unit", "name", "field", "reported", "computed", "difference", "gap", "traced path"], lang),
            rows,
            right={3, 4, 5, 6},
        )
        if len(gaps) > args.limit:
            table += "\n" + t("  … and {n} more (--limit, or --format csv for all)", lang, n=len(gaps) - args.limit)
    args.status = FOUND if len(imbalanced) or unknown else CLEAN
    _emit(args, out, table, gaps_html(gaps, names, lang=lang))
    return FOUND if len(imbalanced) or unknown else CLEAN


def _cmd_completeness(args: argparse.Namespace) -> int:
    from .views import _duration, completeness_html, text_table

    unknown: list[str] = []
    with _progress(args, 3) as bar:
        form, tree, batch, period = _prepare(args, bar)
        bar.step(f"counting reports of {len(tree):,} units")
        by_row = getattr(args, "submitted", None)
        submitted = [by_row.get(int(r)) for r in batch.row_numbers] if by_row else None
        with _unknown_units(unknown):
            c = tree.completeness(
                batch, form, period=period, root=args.root or "", submitted=submitted, deadline=args.deadline
            )
    from .i18n import t, word, words

    lang = _lang(args, form)
    missing = c.missing[["unit", "name", "level", "kind", "parent"]]
    timed = c.timed

    def rates(df: pd.DataFrame, key: str) -> str:
        rows = [
            [word(getattr(x, key), lang), f"{x.expected:,}", f"{x.reported:,}", f"{x.missing:,}", f"{x.rate:.1%}"]
            + ([f"{x.on_time:,}", f"{x.late:,}", f"{x.no_time:,}", f"{x.on_time_rate:.1%}"] if timed else [])
            for x in df.itertuples()
        ]
        extra = ["on_time", "late", "no_time", "on_time_rate"] if timed else []
        return text_table(
            words([key, "expected", "reported units", "missing", "rate"] + extra, lang),
            rows,
            right=set(range(1, 5 + len(extra))),
        )

    lines = [
        t(
            "{form} period {period}: {reported} of {expected} units reported ({rate})",
            lang,
            form=form.id,
            period=c.period,
            reported=f"{c.reported:,}",
            expected=f"{c.expected:,}",
            rate=f"{c.rate:.1%}",
        )
    ]
    if timed:
        lines.append(
            t(
                "deadline {deadline}: {on_time} on time, {late} late, {missing} missing (cli)",
                lang,
                deadline=c.deadline or t("(none: the form prints none; --deadline)", lang),
                on_time=f"{c.on_time:,}",
                late=f"{len(c.late):,}",
                missing=f"{len(c.missing):,}",
            )
        )
    elif c.deadline is not None:
        lines.append(
            t(
                "deadline {deadline}: submission times not known (a submitted column, or the 日期 cell of "
                "filled templates)",
                lang,
                deadline=c.deadline,
            )
        )
    lines += [rates(c.by_level, "level"), rates(c.by_kind, "kind")]
    late = c.late if timed else None
    if late is not None and len(late):
        lines.append(t("reported late ({n}):", lang, n=len(late)))
        lines.append(
            text_table(
                words(["unit", "name", "level", "kind", "submitted", "late_by"], lang),
                [
                    [
                        x.unit,
                        x.name,
                        word(x.level, lang),
                        word(x.kind, lang),
                        str(x.submitted),
                        str(x.late_by) if lang == "en" else _duration(x.late_by, lang),
                    ]
                    for x in late.head(args.limit).itertuples()
                ],
            )
        )
    if len(missing):
        lines.append(t("not reported ({n}):", lang, n=len(missing)))
        lines.append(
            text_table(
                words(list(missing.columns), lang),
                [
                    [word(v, lang) if k in ("level", "kind") else str(v) for k, v in zip(missing.columns, r)]
                    for r in missing.head(args.limit).itertuples(index=False)
                ],
            )
        )
        if len(missing) > args.limit:
            lines.append(t("  … and {n} more (--limit, or --format csv for all)", lang, n=len(missing) - args.limit))
    table = "\n".join(lines)
    obj = {
        "form": form.id,
        "period": c.period,
        "expected": c.expected,
        "reported": c.reported,
        "rate": c.rate,
        "by_level": c.by_level.to_dict(orient="records"),
        "by_kind": c.by_kind.to_dict(orient="records"),
        "missing": missing.to_dict(orient="records"),
        "unknown": unknown,
        "deadline": str(c.deadline) if c.deadline is not None else None,
    }
    if timed:
        obj["on_time"] = c.on_time
        obj["late"] = (
            [
                {**r, "submitted": str(r["submitted"]), "late_by": str(r["late_by"])}
                for r in late.to_dict(orient="records")
            ]
            if late is not None
            else []
        )
    found = bool(len(missing) or unknown or (late is not None and len(late)))
    args.status = FOUND if found else CLEAN
    _emit(args, missing, table, completeness_html(c, lang=lang), obj)
    return FOUND if found else CLEAN


def _cmd_outliers(args: argparse.Namespace) -> int:
    from .forms import forms
    from .outliers import outliers

    form = forms()[args.form]
    unknown: list[str] = []
    with _progress(args, 3) as bar:
        batch = _read(args, form, bar)
        period = _period(args)
        tree = _tree(args.tree) if args.tree else None
        previous = None
        if args.previous:
            previous = _load(args, args.previous, form, bar)
        bar.step(f"scoring {len(batch):,} reports")
        with _unknown_units(unknown):
            res = outliers(
                batch,
                form,
                tree=tree,
                previous=previous,
                period=period or None,
                scale=args.scale,
                threshold=args.threshold,
                min_peers=args.min_peers,
            )
    found = len(res) > 0 or bool(unknown)
    args.status = FOUND if found else CLEAN
    lang = _lang(args, form)
    fmt = _format(args)
    if fmt == "json":
        _emit(args, None, "", "", res.records())
    elif fmt in ("csv", "parquet"):
        _emit(args, res.table, "", "")
    else:
        from .i18n import t, word, words
        from .views import text_table

        peers = t("peers from {tree}", lang, tree=args.tree) if tree is not None else t("all reports as peers", lang)
        before = t(", previous period from {file}", lang, file=args.previous) if previous is not None else ""
        lines = [
            t(
                "{form} period {period}: {n} outlier(s) in {units} unit(s) of {reports} reports ({peers}{previous})",
                lang,
                form=form.id,
                period=period or t("(any)", lang),
                n=f"{len(res):,}",
                units=f"{len(res.units()):,}",
                reports=f"{len(batch):,}",
                peers=peers,
                previous=before,
            )
        ]
        shown = res.table.slice(0, args.limit).to_pylist()
        if shown:
            lines.append(
                text_table(
                    words(["unit", "row", "field", "method", "value", "score", "peers' median"], lang),
                    [
                        [
                            r["unit"],
                            str(r["row"]),
                            _clip(r["field"], 24),
                            word(r["method"], lang),
                            r["value"] or "",
                            f"{r['score']:.1f}",
                            r["peer_median"] or "",
                        ]
                        for r in shown
                    ],
                    right={1, 4, 5, 6},
                )
            )
            lines += [f"  {r['unit']}: {r['reason'] if lang == 'zh' else r['reason_en']}" for r in shown[:10]]
        if len(res) > len(shown):
            lines.append(t("  … and {n} more (--limit, or --format csv for all)", lang, n=f"{len(res) - len(shown):,}"))
        _emit(args, None, "\n".join(lines), res.html(lang) if fmt == "html" else "")
    return FOUND if found else CLEAN


def _weights(text: str | None) -> dict[str, float]:
    """--weights 01A=2,05A=3 → {"01A": 2.0, "05A": 3.0}."""
    out: dict[str, float] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        code, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[code.strip()] = float(value)
        except ValueError:
            raise InputError(f"--weights: '{item}' is not CODE=WEIGHT (e.g. --weights 01A=2,05A=3)") from None
    return out


def _cmd_localise(args: argparse.Namespace) -> int:
    from .forms import forms

    form = forms()[args.form]
    with _progress(args, 2) as bar:
        batch = _read(args, form, bar)
        res = form.localise(
            batch, weights=_weights(args.weights), totals=args.totals, progress=bar, workers=args.workers
        )
    found = len(res) > 0
    args.status = FOUND if found else CLEAN
    lang = _lang(args, form)
    fmt = _format(args)
    if fmt == "json":
        _emit(args, None, "", "", res.records())
    elif fmt in ("csv", "parquet"):
        _emit(args, res.to_frame(), "", "")
    else:
        from .i18n import t, words
        from .views import text_table

        lines = [
            t(
                "{n} reports, {failing} failing an error rule; the fields to change (least weight) and values with "
                "which every error rule passes:",
                lang,
                n=f"{len(batch):,}",
                failing=f"{len(res):,}",
            )
        ]
        shown = list(res)[: args.limit]
        rows = []
        for x in shown:
            for c in x.fields or [""]:
                rows.append(
                    [
                        x.unit,
                        str(x.row),
                        c,
                        "" if not c or x.reported.get(c) is None else str(x.reported[c]),
                        str(x.values[c]) if c else "",
                        f"{x.weight:g}",
                        t("yes", lang) if x.ties else "",
                        x.status if x.verified or x.status != "ok" else t("unverified", lang),
                    ]
                )
        if rows:
            lines.append(
                text_table(
                    words(["unit", "row", "field", "reported", "suggested", "weight", "ties", "status"], lang),
                    rows,
                    right={1, 3, 4, 5},
                )
            )
        if len(res) > len(shown):
            lines.append(
                t("  … and {n} more reports (--limit, or --format csv for all)", lang, n=f"{len(res) - len(shown):,}")
            )
        _emit(args, None, "\n".join(lines), "")
    return FOUND if found else CLEAN


def _cmd_analyse_rules(args: argparse.Namespace) -> int:
    from .forms import forms, load_form

    known = forms()
    if args.form in known:
        form = known[args.form]
    elif Path(args.form).exists():
        form = load_form(args.form)
    else:
        raise InputError(f"{args.form}: neither a bundled form ({', '.join(known)}) nor a schema file", file=args.form)
    res = form.analyse_rules()
    bad = bool(res.of("infeasible"))
    args.status = FOUND if bad else CLEAN
    lang = _lang(args, form)
    fmt = _format(args)
    if fmt == "json":
        _emit(args, None, "", "", res.records())
    elif fmt in ("csv", "parquet"):
        _emit(args, res.to_frame(), "", "")
    else:
        from .i18n import t, word

        kinds = ", ".join(f"{n} {word(k, lang)}" for k, n in res.kinds().items()) or t("no findings", lang)
        lines = [
            t(
                "{form}: {rules} rules; {kinds} (for complete reports)",
                lang,
                form=form.id,
                rules=len(form.rules),
                kinds=kinds,
            )
        ]
        for f in res:
            lines.append(f"  [{word(f.kind, lang)}] {f.message if lang == 'zh' else f.message_en}")
        if res.unmodelled:
            lines.append(t("  not analysed (not linear): {rules}", lang, rules=", ".join(res.unmodelled)))
        _emit(args, None, "\n".join(lines), "")
    return FOUND if bad else CLEAN


# ---------------------------------------------------------------------------------------
# Submission packages
# ---------------------------------------------------------------------------------------


def _package_line(pkg: Any) -> str:
    m = pkg.manifest
    v = m["validation"]
    state = "no error" if v["ok"] else f"{v['errors']:,} error(s)"
    return (
        f"wrote {pkg.path}: {m['form']['id']} period {', '.join(m['periods']) or '(none)'}, {m['reports']:,} "
        f"report(s) of {len(m['units']):,} unit(s), {state}, {v['violations']:,} violation(s)"
        f"{'' if m.get('tree') else ', no tree'}\nmanifest sha256 {pkg.manifest_sha256}\n"
        f"package  sha256 {m['package_sha256']}"
    )


def _cmd_package(args: argparse.Namespace) -> int:
    """Reads reports as every data command does, then packages them (see unionstat.package)."""
    from .package import _resolve_form, package

    form = _resolve_form(args.form)
    with _progress(args, 2) as bar:
        batch = _read(args, form, bar)
        bar.step(f"packaging {len(batch):,} reports")
        pkg = package(batch, form, args.output, tree=args.tree)
    print(_package_line(pkg))
    return CLEAN if pkg.ok else FOUND


def _cmd_verify(args: argparse.Namespace) -> int:
    from .package import verify_package

    res = verify_package(args.package, manifest_sha256=args.manifest_sha256)
    if args.format == "json":
        print(json.dumps(res.records(), ensure_ascii=False, indent=1))
    else:
        m = res.manifest
        head = (
            f"{res.path}: {m['form']['id']} period {', '.join(m['periods']) or '(none)'}, {m['reports']:,} "
            f"report(s) of {len(m['units']):,} unit(s), packaged {m['created']} by unionstat "
            f"{m['library'].get('version', '?')}; manifest sha256 {res.manifest_sha256}"
        )
        print(head)
        if res.ok:
            print("intact: " + "; ".join(res.checked))
        else:
            print(f"NOT intact: {len(res.findings)} finding(s) in {', '.join(res.parts)}")
            for f in res.findings:
                print(f"  {f.part}: {f.message}")
    return CLEAN if res.ok else FOUND


def _cmd_merge(args: argparse.Namespace) -> int:
    from .package import merge_packages

    pkg = merge_packages(args.packages, args.output, tree=args.tree)
    print(_package_line(pkg))
    for c in pkg.children:
        print(
            f"  child {c['source']}: manifest sha256 {c['manifest_sha256']} ({c['units']:,} unit(s), "
            f"packaged {c['created']})"
        )
    return CLEAN if pkg.ok else FOUND


def _package_parsers(sub: Any) -> None:
    k = sub.add_parser("package", help="write a tamper-evident submission package of reports (folder or .zip)")
    k.add_argument(
        "file",
        help="reports: any file the data commands read (CSV, XLSX, Parquet, JSON, filled templates, a folder of them)",
    )
    k.add_argument("--form", required=True, help="form id (see `unionstat forms`) or a form schema file")
    k.add_argument("--tree", help="units file (CSV/YAML) or a bundled tree, validated against and packaged")
    k.add_argument("-o", "--output", required=True, help="package to write: a new or empty folder, or a .zip")
    k.add_argument("--period", help="package only this period's reports (default: every period in the file)")
    k.add_argument("--encoding", help="encoding of a CSV file (default: detected)")
    k.add_argument("--sheet", help="sheet of an XLSX file, by name or 0-based index")
    k.add_argument("--strict", action="store_true", help="columns that are no field of the form are errors")
    k.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    k.set_defaults(func=_cmd_package)
    y = sub.add_parser("verify", help="recompute a package's hashes, data, rule set and validation")
    y.add_argument("package", help="a package: folder or .zip")
    y.add_argument(
        "--manifest-sha256",
        help="the manifest hash as recorded elsewhere (a parent's manifest, an email): another manifest is a finding",
    )
    y.add_argument("--format", choices=["table", "json"], default="table")
    y.set_defaults(func=_cmd_verify)
    g = sub.add_parser("merge", help="merge children's packages into the parent's (chain of custody kept)")
    g.add_argument("packages", nargs="+", help="the children's packages (folders or .zip)")
    g.add_argument("-o", "--output", required=True, help="package to write: a new or empty folder, or a .zip")
    g.add_argument("--tree", help="the parent's tree (default: the children's snapshot, when they share one)")
    g.set_defaults(func=_cmd_merge)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.output, quiet=args.quiet, seed=args.seed, lang=args.lang)


# ---------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------
# draft: form schemas drafted from a notice's text
# ---------------------------------------------------------------------------------------


def _cmd_draft(args: argparse.Namespace) -> int:
    """Drafts a schema per form of a notice; writes the stream, then loads it back: a
    draft the loader refuses exits 2 with the loader's file:line:column."""
    from .draft import draft_file, drafts_to_yaml, load_drafts

    drafts = draft_file(args.notice, encoding=args.encoding)
    stream = drafts_to_yaml(drafts)
    name = args.output or "<stdout>"
    if args.output:
        Path(args.output).write_text(stream, encoding="utf-8")
    else:
        sys.stdout.write(stream)
    for d in drafts:
        print(
            f"{d.id}: {len(d.fields)} fields, deadline {d.deadline or '(none read)'}, {len(d.review)} places to review",
            file=sys.stderr,
        )
        for item in d.review:
            print(f"  review: {item}", file=sys.stderr)
    try:
        load_drafts(stream, name)
    except Error as exc:
        print(f"unionstat: the draft does not load as a form: {exc}", file=sys.stderr)
        return BAD_INPUT
    return CLEAN


def _draft_parser(sub: Any) -> None:
    d = sub.add_parser("draft", help="draft form schemas (YAML) from a notice's plain text")
    d.add_argument("notice", help="the notice as plain text (UTF-8 unless --encoding)")
    d.add_argument("-o", "--output", help="YAML stream to write, one document per form (default: stdout)")
    d.add_argument("--encoding", default="utf-8", help="encoding of the notice (e.g. gbk)")
    d.set_defaults(func=_cmd_draft)


def _data_args(p: argparse.ArgumentParser, *, tree_required: bool, limit: int = 20) -> None:
    p.add_argument(
        "file",
        help="reports: CSV, XLSX, Parquet or JSON, one row per report (unit, period, field codes); "
        "or a filled template, a workbook of unit sheets, a folder of filled templates",
    )
    p.add_argument("--form", required=True, help="form id, e.g. songnuan-2018 (see `unionstat forms`)")
    p.add_argument(
        "--tree", required=tree_required, help="units file (CSV/YAML) or a bundled tree: qinghai, pingdingshan"
    )
    p.add_argument("--period", help="period to work on (default: the file's only period)")
    p.add_argument(
        "--format",
        choices=["table", "csv", "json", "html", "parquet"],
        default=None,
        help="output format (default: from --output's suffix, else table)",
    )
    p.add_argument("--output", "-o", help="write the result to this file instead of stdout")
    p.add_argument("--limit", type=int, default=limit, help="rows listed in table format")
    p.add_argument("--encoding", help="encoding of a CSV file (default: detected; utf-8, gb18030, gbk, utf-16 …)")
    p.add_argument("--sheet", help="sheet of an XLSX file, by name or 0-based index (default: the first with a header)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="columns that are no field of the form (备注, 填报人 …) are errors instead of being ignored",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    _lang_arg(p)


def _lang_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lang",
        choices=["zh", "en"],
        default=None,
        help="language of the headings, column names and summaries in table and html format "
        "(default: the form's, zh for the bundled forms)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``unionstat`` command."""
    p = argparse.ArgumentParser(
        prog="unionstat",
        description="Trade-union statistical reporting: forms, rules, roll-up.",
        epilog="exit status: 0 clean, 1 errors/gaps/missing reports found, 2 bad usage or unreadable input",
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("forms", help="list the bundled forms").set_defaults(func=_cmd_forms)
    s = sub.add_parser("show", help="print a form in its paper layout")
    s.add_argument("form")
    _lang_arg(s)
    s.add_argument("--detail", action="store_true", help="add each blank's printed wording and transcriber's note")
    s.set_defaults(func=_cmd_show)
    t = sub.add_parser("template", help="write a form as an Excel template to fill (its paper layout, named cells)")
    t.add_argument("form", help="form id, e.g. songnuan-2018")
    t.add_argument("-o", "--output", required=True, help="the .xlsx file to write")
    t.add_argument("--units", help="units file (CSV: id[,name]; a tree's units file will do): one sheet per unit")
    t.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the labels (default zh)")
    t.add_argument("--period", help="period pre-filled in the 报告期 cell (default: the form's year)")
    t.set_defaults(func=_cmd_template)
    v = sub.add_parser("validate", help="validate a file of reports against a form")
    _data_args(v, tree_required=False)
    v.set_defaults(func=_cmd_validate)
    r = sub.add_parser("rollup", help="consolidated totals of the inner units of a tree")
    _data_args(r, tree_required=True)
    r.add_argument("--unit", help="unit shown in table and html format (default: the root)")
    r.add_argument(
        "--leaves", action="store_true", help="list every unit, leaves too (a leaf's total is its own report)"
    )
    r.add_argument("--along", choices=["primary", "secondary"], default="primary")
    r.add_argument(
        "--lowest-only",
        action="store_true",
        help="leave out reports of units that have children (they are consolidated totals)",
    )
    r.set_defaults(func=_cmd_rollup)
    c = sub.add_parser("check", help="compare parents' consolidated reports with their children")
    _data_args(c, tree_required=True)
    c.add_argument("--all", action="store_true", help="list balanced comparisons too")
    c.set_defaults(func=_cmd_check)
    m = sub.add_parser("completeness", help="units that have not reported; rates by level and kind")
    _data_args(m, tree_required=True)
    m.add_argument("--root", help="only the subtree of this unit")
    m.add_argument(
        "--deadline",
        help="reporting deadline (2012-01-08, 2012-01-08 17:00 or 2012年1月8日); default: the "
        "form's, as its notice prints it",
    )
    m.set_defaults(func=_cmd_completeness)
    o = sub.add_parser("outliers", help="figures that pass the rules but are implausible among their peers")
    _data_args(o, tree_required=False)
    o.add_argument("--previous", help="the previous period's reports (same form), for period-to-period ratios")
    o.add_argument("--scale", choices=["log", "raw"], default="log", help="scale of the robust z-scores (default log)")
    o.add_argument("--threshold", type=float, default=3.5, help="|robust z| beyond which a figure is an outlier")
    o.add_argument("--min-peers", type=int, default=10, help="smallest peer group scored (default 10)")
    o.set_defaults(func=_cmd_outliers)
    lo = sub.add_parser("localise", help="the fields to change, with values, for reports that fail an error rule")
    _data_args(lo, tree_required=False)
    lo.add_argument(
        "--weights", help="reliability weights CODE=W,… (default 1: a heavier field is changed less readily)"
    )
    lo.add_argument(
        "--totals",
        type=float,
        default=None,
        help="weight of every total of part_of fields or a group (default: the form's weights, 1 unless "
        "declared; 2: totals more reliable)",
    )
    lo.add_argument("--workers", type=int, default=None, help="processes for large files (default: every core)")
    lo.set_defaults(func=_cmd_localise)
    a = sub.add_parser("analyse-rules", help="infeasible, redundant and bounding rules of a form")
    a.add_argument("form", help="a bundled form id or a form schema file (YAML)")
    a.add_argument("--format", choices=["table", "csv", "json"], default=None)
    a.add_argument("--output", "-o", help="write the result to this file instead of stdout")
    _lang_arg(a)
    a.set_defaults(func=_cmd_analyse_rules)
    d = sub.add_parser("demo", help="the bundled sample province: validate, roll up, check")
    d.add_argument("--output", default="unionstat-demo.html", help="HTML report to write")
    d.add_argument("--seed", type=int, default=2018, help="seed of the sample reports")
    d.add_argument("--quiet", action="store_true")
    _lang_arg(d)
    d.set_defaults(func=_cmd_demo)
    _draft_parser(sub)
    _package_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status (0 clean, 1 findings, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    args.status = None
    try:
        return int(args.func(args))
    except BrokenPipeError:
        # The reader went away (| head): stop writing, keep the exit status's meaning.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(args.status) if args.status is not None else CLEAN
    except (Error, OSError, KeyError) as exc:
        print(f"unionstat: {exc}", file=sys.stderr)
        return BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
