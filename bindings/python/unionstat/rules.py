"""Validation results: one report, or a whole batch as pandas DataFrames."""

from __future__ import annotations


from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ReportValidation", "BatchValidation", "STATUS_NAMES", "REASON_NAMES", "validate_batch"]

STATUS_NAMES = np.array(["pass", "fail", "skipped", "error"], dtype=object)
REASON_NAMES = np.array(["", "missing", "level", "no_previous", "overflow"], dtype=object)


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
                dict(
                    unit=self.report.unit,
                    period=self.report.period,
                    rule=o.rule_id,
                    severity=o.severity,
                    status=o.status,
                    lhs=o.lhs,
                    rhs=o.rhs,
                    difference=o.difference,
                    message=o.message,
                    message_en=o.message_en,
                    fields=",".join(o.fields),
                )
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


@dataclass
class BatchValidation:
    """Validation of a batch: ``violations`` (one row per failed or errored rule and
    report) and ``summary`` (one row per rule: items, passes, fails, skipped, errors)."""

    violations: pd.DataFrame
    summary: pd.DataFrame

    @property
    def ok(self) -> bool:
        """True when no rule of severity error failed or could not be evaluated."""
        return not bool((self.violations["severity"] == "error").any()) if len(self.violations) else True

    def __repr__(self) -> str:
        v, s = self.violations, self.summary
        failing = int(((s["fails"] > 0) | (s["errors"] > 0)).sum()) if len(s) else 0
        errors = int((v["severity"] == "error").sum()) if len(v) else 0
        units = v["unit"].nunique() if len(v) else 0
        return (
            f"<BatchValidation: {'ok' if self.ok else 'errors'}, {len(v)} violation(s) ({errors} errors) in {units} unit(s); "
            f"{failing} of {len(s)} rules failed somewhere>"
        )

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The violations as an Arrow stream (needs pyarrow), so that polars, DuckDB or
        pyarrow read the result directly."""
        import pyarrow as pa

        return pa.Table.from_pandas(self.violations, preserve_index=False).__arrow_c_stream__(requested_schema)

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
    """Validates a batch in C++ (GIL released) and builds the DataFrames with vectorised
    numpy indexing: no Python work per report. With a ``tree``, each row gets its
    unit's level and its children's sums (level-restricted and ``children_sum`` rules)."""
    import pandas as pd

    form = batch.form
    if tree is not None:
        res = _core.validate_in_tree(tree, batch, period)
    else:
        res = _core.validate_batch(
            batch, levels=levels or [], keep_passes=keep_passes, keep_skipped=keep_skipped, threads=threads
        )
    arr = res.arrays()
    rules = form.rules
    ids = np.array([r.id for r in rules], dtype=object)
    sev = np.array([r.severity for r in rules], dtype=object)
    units = np.asarray(batch.units, dtype=object)
    periods = np.asarray(batch.periods, dtype=object)
    rows = arr["row"].astype(np.int64)
    violations = pd.DataFrame(
        {
            "row": rows,
            "unit": units[rows] if len(rows) else np.array([], dtype=object),
            "period": periods[rows] if len(rows) else np.array([], dtype=object),
            "rule": ids[arr["rule"]] if len(rows) else np.array([], dtype=object),
            "severity": sev[arr["rule"]] if len(rows) else np.array([], dtype=object),
            "status": STATUS_NAMES[arr["status"]] if len(rows) else np.array([], dtype=object),
            "reason": REASON_NAMES[arr["reason"]] if len(rows) else np.array([], dtype=object),
            "lhs": res.lhs_text(batch),
            "rhs": res.rhs_text(batch),
            "difference": res.difference_text(batch),
            "message": res.messages(batch, False),
            "message_en": res.messages(batch, True),
        }
    )
    counts = np.array(res.counts(), dtype=np.int64).reshape(-1, 5)
    summary = pd.DataFrame(
        {
            "rule": ids,
            "severity": sev,
            "check": [r.check for r in rules],
            "items": counts[:, 0],
            "passes": counts[:, 1],
            "fails": counts[:, 2],
            "skipped": counts[:, 3],
            "errors": counts[:, 4],
        }
    )
    return BatchValidation(violations=violations, summary=summary)


