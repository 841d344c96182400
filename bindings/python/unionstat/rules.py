"""Validation results: one report, or a whole batch (Arrow tables, pandas on request)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from .io import arrow_table

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["ReportValidation", "BatchValidation", "validate_batch"]



@dataclass
class ReportValidation:
    """Every rule's outcome on one report. ``ok`` is False when a rule of severity
    error failed or could not be evaluated."""

    report: _core.Report
    outcomes: list[_core.RuleOutcome]
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
            columns=["unit", "period", "rule", "severity", "status", "lhs", "rhs", "difference", "message", "message_en", "fields"],
        )

    def explain(self, rule_id: str) -> list[tuple[int, str, str]]:
        """The value of every sub-expression of a rule on this report."""
        return _core.explain(self.report, rule_id)

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
        self._counts: np.ndarray = np.sum([np.array(r.counts(), dtype=np.int64).reshape(-1, 5) for _b, r, _rows in parts], axis=0)
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
            import pyarrow.compute  # noqa: F401 - pa.compute below

            tables = [arrow_table(_core.violations_table(batch, res, messages)) for batch, res, _rows in self._parts]
            table = pa.concat_tables(tables)
            table = table.take(pa.compute.sort_indices(table, [("row", "ascending")]))
            if limit is not None:
                table = table.slice(0, limit)
        self._tables[key] = table
        return table

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


def validate_batch(
    batch: _core.ReportBatch,
    *,
    levels: list[str] | None = None,
    keep_passes: bool = False,
    keep_skipped: bool = False,
    threads: int = 0,
    tree: _core.Hierarchy | None = None,
    period: str = "",
) -> BatchValidation:
    """Validates a batch in C++ (GIL released); the result's tables are made on
    request. With a ``tree``, each row gets its unit's level and its children's sums
    (level-restricted and ``children_sum`` rules)."""
    if tree is not None:
        res = _core.validate_in_tree(tree, batch, period)
    else:
        res = _core.validate_batch(
            batch, levels=levels or [], keep_passes=keep_passes, keep_skipped=keep_skipped, threads=threads
        )
    return BatchValidation([(batch, res, None)])
