"""Validation results: one report, or a whole batch (Arrow tables, pandas on request)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from .errors import UsageError
from .io import arrow_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    import pyarrow as pa

__all__ = ["BatchValidation", "Explanation", "ReportValidation", "previous_period", "previous_rows", "validate_batch"]


class Explanation:
    """Why a rule passed or failed on one report: the rule's evaluation tree, one node per
    sub-expression, outermost first. ``source`` is the sub-expression as written, ``value``
    its exact value on the report (``"true"``/``"false"`` for a condition, ``"blank"`` for
    a blank field, ``"overflow"``), ``unit`` the printed unit of a number, ``children`` the
    operands. A comparison carries the ``tolerance`` its sides may differ by, exact in
    ``unit`` (``"0"`` when it is exact), and ``stated_tolerance`` tells the rule's own
    tolerance from the default (each money term reported to 2 decimals may be off by half a
    unit, so a side adding k ≥ 2 万元 terms tolerates k × 0.005 万元). The root's ``status``
    is the rule's outcome on the report (``pass``, ``fail``, ``skipped``, ``error``) and
    ``reason`` why it was skipped (``missing`` …): a skipped rule's tree shows what the
    values would give, not a result. ``str()`` draws the tree as text; Jupyter shows it as
    nested HTML lists."""

    __slots__ = {
        "children": "The operands, as Explanation nodes.",
        "reason": "Why the rule was skipped or errored (missing, no_previous, level, overflow); '' otherwise.",
        "rule": "The id of the rule explained.",
        "source": "The sub-expression as written in the rule.",
        "stated_tolerance": "True when the tolerance is the rule's own, False for the default.",
        "status": "The root's rule outcome (pass, fail, skipped, error); None below the root.",
        "tolerance": "A comparison's tolerance, exact in ``unit`` ('0' when exact); None for other nodes.",
        "unit": "The printed unit of a number (of the sides, for a comparison); '' if none.",
        "value": "Its exact value on the report: a number's text, 'true'/'false', 'blank' or 'overflow'.",
    }

    def __init__(
        self,
        rule: str,
        source: str,
        value: str,
        unit: str = "",
        tolerance: str | None = None,
        stated_tolerance: bool = False,
        children: list[Explanation] | None = None,
    ) -> None:
        self.rule = rule
        self.source = source
        self.value = value
        self.unit = unit
        self.tolerance = tolerance
        self.stated_tolerance = stated_tolerance
        self.children: list[Explanation] = children if children is not None else []
        self.status: str | None = None
        self.reason = ""

    @classmethod
    def of(
        cls,
        report: _core.Report,
        rule_id: str,
        previous: _core.Report | None = None,
        outcome: _core.RuleOutcome | None = None,
    ) -> Explanation:
        """The explanation of rule ``rule_id`` on ``report`` (``previous``: the same unit's
        report of the previous period, for ``prev()``; ``outcome``: the rule's outcome when
        known, else it is evaluated)."""
        steps = _core.explain(report, rule_id, previous)
        if outcome is None:
            outcome = next(o for o in _core.validate_report(report, previous=previous) if o.rule_id == rule_id)
        root: Explanation | None = None
        stack: list[Explanation] = []
        for depth, source, value, unit, tolerance, stated in steps:
            node = cls(rule_id, source, value, unit, tolerance, stated)
            del stack[depth:]
            if stack:
                stack[-1].children.append(node)
            else:
                root = node
            stack.append(node)
        assert root is not None  # a compiled rule has at least one node
        root.status, root.reason = outcome.status, outcome.reason
        return root

    @property
    def passed(self) -> bool | None:
        """True or False for a condition, None for a number."""
        return {"true": True, "false": False}.get(self.value)

    def walk(self) -> list[Explanation]:
        """This node and every node below it, outermost first (pre-order)."""
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out

    def steps(self) -> list[tuple[int, str, str]]:
        """(depth, sub-expression, value) of every node, outermost first."""
        out: list[tuple[int, str, str]] = []

        def visit(n: Explanation, depth: int) -> None:
            out.append((depth, n.source, n.value))
            for c in n.children:
                visit(c, depth + 1)

        visit(self, 0)
        return out

    def _line(self) -> str:
        value = self.value + (
            f" {self.unit}"
            if self.unit and self.tolerance is None and self.passed is None and self.value not in ("blank", "overflow")
            else ""
        )
        text = f"{self.source}  →  {value}"
        if self.tolerance is not None:
            unit = f" {self.unit}" if self.unit else ""
            how = (
                "the rule's tolerance"
                if self.stated_tolerance
                else ("exact" if self.tolerance == "0" else "default: rounding of the 万元 terms, k × 0.005")
            )
            text += f"  (tolerance {self.tolerance}{unit}; {how})"
        return text

    def __str__(self) -> str:
        status = f"{self.status} ({self.reason})" if self.reason else (self.status or "")
        lines = [f"{self.rule}: {status}", self._line()] if status else [f"{self.rule}: {self._line()}"]

        def visit(n: Explanation, prefix: str) -> None:
            for i, c in enumerate(n.children):
                last = i == len(n.children) - 1
                lines.append(prefix + ("└─ " if last else "├─ ") + c._line())
                visit(c, prefix + ("   " if last else "│  "))

        visit(self, "")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Explanation {self.rule}: {self.source} → {self.value}>"

    def _repr_html_(self) -> str:
        import html

        def item(n: Explanation) -> str:
            colour = "inherit" if n.passed is None else "#1a7f37" if n.passed else "#cf222e"
            body = f'<code>{html.escape(n.source)}</code> → <b style="color:{colour}">{html.escape(n.value)}</b>' + (
                f" {html.escape(n.unit)}" if n.unit and n.tolerance is None and n.passed is None else ""
            )
            if n.tolerance is not None:
                how = "the rule's" if n.stated_tolerance else ("exact" if n.tolerance == "0" else "default k × 0.005")
                body += f" <small>(tolerance {html.escape(n.tolerance)} {html.escape(n.unit)}; {how})</small>"
            kids = "".join(item(c) for c in n.children)
            return f"<li>{body}" + (f"<ul>{kids}</ul>" if kids else "") + "</li>"

        status = f": {self.status}" + (f" ({self.reason})" if self.reason else "") if self.status else ""
        return (
            f'<div class="unionstat-explain"><b>{html.escape(self.rule)}</b>{html.escape(status)}'
            f'<ul style="list-style:none">{item(self)}</ul></div>'
        )


@dataclass
class ReportValidation:
    """Every rule's outcome on one report. ``ok`` is False when a rule of severity
    error failed or could not be evaluated."""

    report: _core.Report
    outcomes: list[_core.RuleOutcome]
    previous: _core.Report | None = None
    violations: list[_core.RuleOutcome] = field(init=False)
    skipped: list[_core.RuleOutcome] = field(init=False)

    def __post_init__(self) -> None:
        self.violations = [o for o in self.outcomes if o.status in ("fail", "error")]
        self.skipped = [o for o in self.outcomes if o.status == "skipped"]

    @property
    def ok(self) -> bool:
        """True when no rule of severity error failed or could not be evaluated."""
        return not any(o.severity == "error" for o in self.violations)

    def __bool__(self) -> bool:
        return self.ok

    def to_frame(self) -> pd.DataFrame:
        """One row per violation: rule, severity, status, lhs, rhs, difference, messages."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "unit": self.report.unit,
                    "period": self.report.period,
                    "rule": o.rule_id,
                    "severity": o.severity,
                    "status": o.status,
                    "lhs": o.lhs,
                    "rhs": o.rhs,
                    "difference": o.difference,
                    "message": o.message,
                    "message_en": o.message_en,
                    "fields": ",".join(o.fields),
                }
                for o in self.violations
            ],
            columns=[
                "unit",
                "period",
                "rule",
                "severity",
                "status",
                "lhs",
                "rhs",
                "difference",
                "message",
                "message_en",
                "fields",
            ],
        )

    def explain(self, rule_id: str) -> Explanation:
        """The evaluation tree of a rule on this report (with the previous report it was
        validated with): every sub-expression's value and each comparison's tolerance, as
        text (``print``) or HTML (Jupyter); see :class:`Explanation`."""
        outcome = next((o for o in self.outcomes if o.rule_id == rule_id), None)
        return Explanation.of(self.report, rule_id, self.previous, outcome)

    def __repr__(self) -> str:
        return (
            f"<ReportValidation {self.report.unit} {self.report.period}: "
            f"{'ok' if self.ok else 'errors'}, {len(self.violations)} violation(s), {len(self.skipped)} skipped>"
        )

    def _repr_html_(self) -> str:
        from .views import report_view_html

        return report_view_html(self)


class BatchValidation:
    """Validation of a batch. ``ok``, the tallies and the listed outcomes are computed
    in C++; the tables are made when asked for: ``violations_table()`` /
    ``summary_table()`` (Arrow, no pandas), ``violations`` / ``summary`` (pandas), or
    the object itself as an Arrow stream (``pl.DataFrame(res)``, ``pa.table(res)``).
    ``row`` is the row each report is known by: the file's line, the sheet's row, or the
    1-based position in a table."""

    def __init__(self, parts: list[tuple[_core.ReportBatch, _core.BatchResult, np.ndarray | None]]) -> None:
        # Each part: a batch, its result and the part's rows in the whole input (None:
        # the part is the whole input). Validation in a tree splits known and unknown units.
        self._parts = parts
        self._form = parts[0][0].form
        # rules × (pass, fail, skipped, …) per part, summed over the parts
        self._counts: np.ndarray = np.sum(
            [np.array(r.counts(), dtype=np.int64).reshape(-1, 5) for _b, r, _rows in parts], axis=0
        )
        self._violations: Any = None
        self._summary: Any = None
        self._tables: dict[tuple[bool, int | None], Any] = {}

    @property
    def ok(self) -> bool:
        """True when no rule of severity error failed or could not be evaluated."""
        sev = np.array([r.severity == "error" for r in self._form.rules], dtype=bool)
        return not bool(((self._counts[:, 2] + self._counts[:, 4]) * sev).any())

    def __len__(self) -> int:
        """Number of listed outcomes (failed or errored rule × report)."""
        return sum(len(r) for _b, r, _rows in self._parts)

    def violations_table(self, *, messages: bool = True, limit: int | None = None) -> pa.Table:
        """The listed outcomes as an Arrow table, in row order: ``row``, ``unit``,
        ``period``, ``rule``, ``severity``, ``status``, ``reason``, ``lhs``, ``rhs``,
        ``difference``, and the messages (zh, en) when ``messages`` — made only for the
        rows returned (``limit``: the first so many)."""
        key = (messages, limit)
        if key in self._tables:
            return self._tables[key]
        if len(self._parts) == 1:
            batch, res, _rows = self._parts[0]
            table = arrow_table(_core.violations_table(batch, res, messages, limit if limit is not None else 2**62))
        else:
            # A validation in parts (units in and outside a tree): each part's table, the
            # rows back in input order, messages made for the rows kept.
            import pyarrow as pa
            import pyarrow.compute

            tables = [arrow_table(_core.violations_table(batch, res, messages)) for batch, res, _rows in self._parts]
            table = pa.concat_tables(tables)
            table = table.take(pa.compute.sort_indices(table, [("row", "ascending")]))
            if limit is not None:
                table = table.slice(0, limit)
        self._tables[key] = table
        return table

    def violations_batches(self, *, messages: bool = True, rows: int = 16_384) -> Iterator[pa.RecordBatch]:
        """The listed outcomes as record batches of at most ``rows`` rows, each made
        when it is taken (messages included): what a writer streams to a file, so that a
        result of millions of outcomes is never held as text at once. Same rows and
        columns as :meth:`violations_table`, in the same order; nothing is cached."""
        if rows < 1:
            raise UsageError(f"rows must be at least 1, not {rows}")
        if len(self._parts) != 1:  # parts interleave by row: sorted as a whole
            yield from self.violations_table(messages=messages).to_batches(max_chunksize=rows)
            return
        batch, res, _rows = self._parts[0]
        for offset in range(0, len(res), rows):
            yield from arrow_table(_core.violations_table(batch, res, messages, rows, offset)).to_batches()

    def violations_reader(self, *, messages: bool = True, rows: int = 16_384) -> pa.RecordBatchReader:
        """:meth:`violations_batches` as a ``pyarrow.RecordBatchReader`` (an Arrow stream)."""
        import pyarrow as pa

        schema = arrow_table(_core.violations_table(*self._parts[0][:2], messages, 0)).schema
        return pa.RecordBatchReader.from_batches(schema, self.violations_batches(messages=messages, rows=rows))

    def summary_table(self) -> pa.Table:
        """One row per rule (Arrow): ``rule``, ``severity``, ``check``, ``items``,
        ``passes``, ``fails``, ``skipped``, ``errors``."""
        import pyarrow as pa

        batch, res, _rows = self._parts[0]
        table = arrow_table(_core.summary_table(batch, res))
        if len(self._parts) > 1:  # the tallies of every part
            for i, name in enumerate(("items", "passes", "fails", "skipped", "errors")):
                table = table.set_column(table.column_names.index(name), name, pa.array(self._counts[:, i]))
        return table

    @property
    def violations(self) -> pd.DataFrame:
        """The listed outcomes as a pandas DataFrame (see :meth:`violations_table`)."""
        if self._violations is None:
            self._violations = self.violations_table().to_pandas()
        return self._violations

    @property
    def summary(self) -> pd.DataFrame:
        """One row per rule as a pandas DataFrame (see :meth:`summary_table`)."""
        if self._summary is None:
            self._summary = self.summary_table().to_pandas()
        return self._summary

    def to_polars(self) -> Any:
        """The violations as a polars DataFrame."""
        import polars as pl

        return pl.DataFrame(self.violations_table())

    def __repr__(self) -> str:
        c = self._counts
        failing = int(((c[:, 2] > 0) | (c[:, 4] > 0)).sum())
        sev = np.array([r.severity == "error" for r in self._form.rules], dtype=bool)
        errors = int(((c[:, 2] + c[:, 4]) * sev).sum())
        units = len({u for batch, res, _rows in self._parts for u in res.keys(batch)[0]})
        return (
            f"<BatchValidation: {'ok' if self.ok else 'errors'}, {len(self)} violation(s) ({errors} errors) in "
            f"{units} unit(s); {failing} of {len(c)} rules failed somewhere>"
        )

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The violations as an Arrow stream, so that polars, DuckDB or pyarrow read the
        result directly."""
        return self.violations_table().__arrow_c_stream__(requested_schema)

    def _repr_html_(self) -> str:
        from .views import batch_html

        return batch_html(self)


def previous_period(period: str, periods: Sequence[str]) -> str | None:
    """The period before ``period`` among ``periods``: the latest that is earlier, periods
    comparing as text (2017 < 2018, 2017-12 < 2018-01); None when none is."""
    before = [p for p in periods if p < period]
    return max(before) if before else None


def previous_rows(
    batch: _core.ReportBatch, previous: _core.ReportBatch, periods: Sequence[str] | None = None
) -> np.ndarray:
    """For every row of ``batch``, the row of ``previous`` that ``prev()`` reads: the same
    unit's report of the previous period (:func:`previous_period` of the row's period
    among ``periods``, by default the periods ``previous`` holds); -1 where that unit did
    not report then. A unit that reports twice in one period of ``previous`` is an
    :class:`~unionstat.InputError` naming it (which of the two would be a guess).
    Arrow kernels match the keys: no Python work per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .errors import InputError

    p_units, p_periods = pa.array(previous.units, pa.string()), pa.array(previous.periods, pa.string())
    held = sorted(set(pc.unique(p_periods).to_pylist()) if periods is None else set(periods))
    sep = "\x1f"  # not in a unit id or a period: the two keys cannot run together
    keys = pc.binary_join_element_wise(p_units, p_periods, sep)
    if len(pc.unique(keys)) != len(keys):
        counts = pc.value_counts(keys)
        twice = counts.field("values").filter(pc.greater(counts.field("counts"), 1))[0].as_py()
        unit, _, period = twice.partition(sep)
        raise InputError(f"unit {unit} reports twice in period {period} of the previous period's data", unit=unit)
    b_periods = pa.array(batch.periods, pa.string())
    distinct = pc.unique(b_periods)
    before = pa.array([previous_period(p, held) for p in distinct.to_pylist()], pa.string())
    wanted = pc.take(before, pc.index_in(b_periods, value_set=distinct))
    at = pc.index_in(pc.binary_join_element_wise(pa.array(batch.units, pa.string()), wanted, sep), value_set=keys)
    return np.asarray(at.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def validate_batch(
    batch: _core.ReportBatch,
    *,
    levels: list[str] | None = None,
    keep_passes: bool = False,
    keep_skipped: bool = False,
    threads: int = 0,
    tree: _core.Hierarchy | None = None,
    period: str = "",
    previous: _core.ReportBatch | None = None,
    previous_periods: Sequence[str] | None = None,
) -> BatchValidation:
    """Validates a batch in C++ (GIL released); the result's tables are made on
    request. With a ``tree``, each row gets its unit's level and its children's sums
    (level-restricted and ``children_sum`` rules). ``previous``: reports of earlier
    periods (it may be the batch itself, when that holds several periods), which
    ``prev(x)`` reads — each row's unit in the period before its own (see
    :func:`previous_rows`); without it, ``prev()`` rules are skipped (``no_previous``)."""
    if previous is not None and previous.form.id != batch.form.id:
        from .errors import InputError

        raise InputError(f"the previous period's reports are of form {previous.form.id}, not {batch.form.id}")
    if tree is not None:
        if previous is not None:
            from .errors import UsageError

            raise UsageError("previous= and tree= together are not supported yet: validate with one of them")
        res = _core.validate_in_tree(tree, batch, period)
    else:
        rows = previous_rows(batch, previous, previous_periods) if previous is not None else np.zeros(0, np.int64)
        res = _core.validate_batch(
            batch,
            previous=previous,
            previous_rows=rows,
            levels=levels or [],
            keep_passes=keep_passes,
            keep_skipped=keep_skipped,
            threads=threads,
        )
    return BatchValidation([(batch, res, None)])
