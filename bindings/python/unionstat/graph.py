"""The union hierarchy: roll-up, parent-versus-children checks, completeness."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from .errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from .forms import Form

__all__ = ["Hierarchy", "Completeness", "RollupView", "UnknownUnitsWarning", "sample_tree"]


class UnknownUnitsWarning(UserWarning):
    """Reports whose unit is not in the tree were left out of a roll-up or check."""


def sample_tree(name: str = "qinghai") -> Path:
    """Path of a bundled sample tree (``qinghai`` or ``pingdingshan``)."""
    return Path(__file__).resolve().parent / "schemas" / "trees" / f"{name}.csv"


def _schema(form: Any) -> _core.FormSchema:
    return form.schema if hasattr(form, "schema") else form


def _batch(data: Any, form: Any) -> _core.ReportBatch:
    from .forms import to_batch_any

    return to_batch_any(data, form)


def _warn_unknown(units: list[str], what: str, stacklevel: int = 3) -> None:
    if units:
        shown = ", ".join(units[:10]) + (" …" if len(units) > 10 else "")
        warnings.warn(
            f"{len(units)} unit(s) not in the tree were left out of the {what}: {shown}", UnknownUnitsWarning,
            stacklevel=stacklevel,
        )


def _exact(raw: np.ndarray, scale: np.ndarray) -> list[Any]:
    """Raw stored integers to exact Python values: int for counts, Decimal for money."""
    return [int(v) if s == 0 else Decimal(int(v)).scaleb(-int(s)) for v, s in zip(raw.tolist(), scale.tolist())]


@dataclass
class Completeness:
    """Who in a subtree has not reported, and reporting rates by level and by kind."""

    period: str
    missing: pd.DataFrame
    by_level: pd.DataFrame
    by_kind: pd.DataFrame
    expected: int
    reported: int

    @property
    def rate(self) -> float:
        """Share of the expected units that reported (1.0 when none is expected)."""
        return 1.0 if self.expected == 0 else self.reported / self.expected

    def __repr__(self) -> str:
        return f"<Completeness {self.period}: {self.reported} of {self.expected} units reported ({self.rate:.1%})>"

    def _repr_html_(self) -> str:
        from .views import completeness_html

        return completeness_html(self)


@dataclass
class RollupView:
    """A roll-up for reading: ``totals`` (one row per unit, as :meth:`Hierarchy.rollup`
    returns), the unit shown first and its children; shows itself in Jupyter."""

    totals: pd.DataFrame
    form: _core.FormSchema
    unit: str
    children: list[str]
    unknown_units: list[str]
    ignore_inner: bool = False

    def total(self, code_or_key: str, unit: str | None = None) -> Any:
        """The consolidated total of one field (code or concept key) of a unit (default:
        the unit shown): int for counts, ``Decimal`` for money, None when blank."""
        import pandas as pd

        value = self.totals.loc[unit or self.unit, self.form.field(code_or_key).code]
        return None if pd.isna(value) else value

    def __repr__(self) -> str:
        return f"<RollupView {self.form.id}: {len(self.totals)} units, shown {self.unit}>"

    def _repr_html_(self) -> str:
        from .views import rollup_html

        return rollup_html(self.totals, self.form, unit=self.unit, children=self.children,
                           unknown_units=self.unknown_units)


class Hierarchy:
    """Org units (id, name, level, kind) with one primary parent each — the line along
    which they are counted — and any number of secondary parents (other views)."""

    def __init__(self, core: _core.Hierarchy) -> None:
        self._h = core

    # -- loading -----------------------------------------------------------------
    @classmethod
    def read_csv(cls, path: str | os.PathLike[str]) -> Hierarchy:
        """Units from CSV: ``id,name,level,kind,parent,secondary_parents,valid_from,valid_to``."""
        return cls(_core.Hierarchy.read_csv(str(path)))

    @classmethod
    def read_yaml(cls, path: str | os.PathLike[str]) -> Hierarchy:
        """Units from YAML (see ``schemas/trees/example.yaml``)."""
        return cls(_core.Hierarchy.read_yaml(str(path)))

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Hierarchy:
        """CSV or YAML by extension."""
        return cls(_core.Hierarchy.read(str(path)))

    @classmethod
    def from_pandas(cls, df: pd.DataFrame, *, source: str = "<frame>") -> Hierarchy:
        """Units from a DataFrame with columns ``id`` (or ``unit``), ``name``, ``level``,
        ``kind``, ``parent`` and optionally ``secondary_parents`` (';'-separated),
        ``valid_from``, ``valid_to``."""
        idcol = "id" if "id" in df.columns else "unit"
        missing = [c for c in (idcol, "level", "parent") if c not in df.columns]
        if missing:
            raise InputError(f"{source}: unit table lacks column(s) {', '.join(missing)}")
        n = len(df)

        def col(name: str, default: str = "") -> list[str]:
            if name not in df.columns:
                return [default] * n
            return ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in df[name].tolist()]

        return cls(
            _core.Hierarchy.from_columns(
                col(idcol), col("name"), col("level"), col("kind", "regional"), col("parent"),
                col("secondary_parents"), col("valid_from"), col("valid_to"), source,
            )
        )

    @classmethod
    def sample(cls, name: str = "qinghai") -> Hierarchy:
        """A bundled sample tree: ``qinghai`` (province, generated grassroots) or ``pingdingshan``."""
        return cls.read_csv(sample_tree(name))

    # -- queries -----------------------------------------------------------------
    @property
    def core(self) -> _core.Hierarchy:
        """The underlying C++ hierarchy (units addressed by index)."""
        return self._h

    def __len__(self) -> int:
        return len(self._h)

    def __contains__(self, unit: str) -> bool:
        return self._h.find(unit) is not None

    def __repr__(self) -> str:
        roots = [self._h.id(r) for r in self._h.roots()]
        return f"<Hierarchy {len(self)} units, roots {', '.join(roots[:3])}>"

    @property
    def ids(self) -> list[str]:
        """Unit ids in the tree's order (parents before their children)."""
        return self._h.ids()

    def to_frame(self) -> pd.DataFrame:
        """One row per unit: unit, name, level, kind, parent, depth."""
        import pandas as pd

        return pd.DataFrame(self._h.columns())

    def _ids(self, indices: list[int]) -> list[str]:
        return [self._h.id(i) for i in indices]

    def parent(self, unit: str) -> str | None:
        """The primary parent's id, None for a root."""
        p = self._h.parent(self._h.index(unit))
        return None if p is None else self._h.id(p)

    def children(self, unit: str) -> list[str]:
        """Ids of the units whose primary parent is ``unit``."""
        return self._ids(self._h.children(self._h.index(unit)))

    def ancestors(self, unit: str) -> list[str]:
        """Primary ancestors, nearest first."""
        return self._ids(self._h.ancestors(self._h.index(unit)))

    def path(self, unit: str) -> list[str]:
        """From the root down to the unit."""
        return self._ids(self._h.path(self._h.index(unit)))

    def subtree(self, unit: str) -> list[str]:
        """The unit and everything below it along primary parents, pre-order."""
        return self._ids(self._h.subtree(self._h.index(unit)))

    def level(self, unit: str) -> str:
        """national, province, city, county or grassroots."""
        return self._h.level(self._h.index(unit))

    def at(self, period: str) -> Hierarchy:
        """The tree of one period (units valid then)."""
        return Hierarchy(self._h.at(period))

    def _repr_html_(self) -> str:
        from .views import hierarchy_html

        return hierarchy_html(self)

    # -- operations ----------------------------------------------------------------
    def rollup(
        self, data: Any, form: Form | _core.FormSchema, *, along: str = "primary", period: str = "",
        ignore_inner: bool = False, exact: bool = True,
    ) -> pd.DataFrame:
        """Consolidated totals for every unit (own report + children's totals), one row
        per unit, indexed by unit: ``name``, ``level``, ``reports`` (reports counted) and
        one column per field. Reports of units not in the tree are left out with an
        :class:`UnknownUnitsWarning`."""
        return self._rollup(data, form, along=along, period=period, ignore_inner=ignore_inner, exact=exact)[0]

    def _rollup(
        self, data: Any, form: Form | _core.FormSchema, *, along: str, period: str, ignore_inner: bool, exact: bool
    ) -> tuple[pd.DataFrame, list[str]]:
        from .frames import batch_to_frame

        batch = _batch(data, form)
        res = _core.rollup(self._h, batch, along=along, period=period, ignore_inner=ignore_inner)
        _warn_unknown(res["unknown_units"], "roll-up", stacklevel=4)
        df = batch_to_frame(res["totals"], exact=exact)
        units = self.to_frame()
        df.insert(1, "name", units["name"].to_numpy())
        df.insert(2, "level", units["level"].to_numpy())
        df.insert(3, "reports", res["reports"])
        return df.set_index("unit"), list(res["unknown_units"])

    def rollup_view(
        self, data: Any, form: Form | _core.FormSchema, *, along: str = "primary", period: str = "",
        ignore_inner: bool = False, unit: str | None = None,
    ) -> RollupView:
        """The roll-up as an object that shows itself in Jupyter: the totals of ``unit``
        (default: the first root) field by field, and its children's totals side by
        side. ``.totals`` is the DataFrame :meth:`rollup` returns."""
        totals, unknown = self._rollup(data, form, along=along, period=period, ignore_inner=ignore_inner, exact=True)
        root = unit if unit is not None else self._h.id(self._h.roots()[0])
        children = [c for c in self.children(root)]
        return RollupView(totals=totals, form=_schema(form), unit=root, children=children, unknown_units=unknown,
                          ignore_inner=ignore_inner)

    def check(
        self, data: Any, form: Form | _core.FormSchema, *, period: str = "", imbalanced_only: bool = True,
        money_per_child: str | None = None,
    ) -> pd.DataFrame:
        """Where a parent reported its own consolidated figures, compare them with its
        children's: one row per (unit, field) with ``reported``, ``computed``,
        ``difference``, ``tolerance``, ``gap`` (figure passed up minus the lowest reports
        below), ``explained_by`` (the children whose figures explain the gap) and
        ``trace`` (the units from this one down to where the gap was introduced)."""
        import pandas as pd

        schema = _schema(form)
        batch = _batch(data, form)
        r = _core.check(self._h, batch, period=period, money_per_child=money_per_child, keep_balanced=not imbalanced_only)
        _warn_unknown(r["unknown_units"], "check")
        fields = schema.fields
        fidx = r["field"].astype(np.int64)
        scale = np.array([f.scale for f in fields], dtype=np.int64)[fidx] if len(fidx) else np.array([], dtype=np.int64)
        uidx = r["unit"].astype(np.int64)
        ids = np.asarray(self._h.ids(), dtype=object)
        codes = np.array([f.code for f in fields], dtype=object)
        reported = _exact(r["reported"], scale)
        has = r["has_reported"].astype(bool)
        def exact(values: list[Any]) -> pd.Series:
            return pd.Series(values, dtype=object)  # ints and Decimals stay exact

        df = pd.DataFrame(
            {
                "unit": ids[uidx] if len(uidx) else [],
                "field": codes[fidx] if len(fidx) else [],
                "reported": exact([v if h else None for v, h in zip(reported, has)]),
                "computed": exact(_exact(r["computed"], scale)),
                "difference": exact(_exact(r["difference"], scale)),
                "tolerance": exact(_exact(r["tolerance"], scale)),
                "within_tolerance": r["within_tolerance"].astype(bool),
                "gap": exact(_exact(r["gap"], scale)),
                "gap_within_tolerance": r["gap_within_tolerance"].astype(bool),
                "children": r["children"],
                "explained_by": r["explained_by"],
            }
        )
        # The drill-down of every imbalanced row: units from this one down to where the
        # gap was introduced (pre-order when several children explain it).
        trace: list[list[str]] = [[] for _ in range(len(df))]
        for row, steps in r["traces"]:
            trace[row] = [str(ids[uidx[s]]) for s, _depth in steps]
        df["trace"] = trace
        if imbalanced_only and len(df):
            df = df[~(df["within_tolerance"] & df["gap_within_tolerance"])].reset_index(drop=True)
        return df

    def completeness(self, data: Any, form: Form | _core.FormSchema, *, period: str = "", root: str = "") -> Completeness:
        """Units in the tree (or under ``root``) with no report for the period; rates by
        level and by kind."""
        import pandas as pd

        batch = _batch(data, form)
        r = _core.completeness(self._h, batch, period=period, root=root)
        _warn_unknown(r["unknown_units"], "completeness count")
        units = self.to_frame()
        missing = units.iloc[r["missing"].astype(np.int64)].reset_index(drop=True)

        def rates(rows: list[tuple[str, int, int]], key: str) -> pd.DataFrame:
            t = pd.DataFrame(rows, columns=[key, "expected", "reported"])
            t["missing"] = t["expected"] - t["reported"]
            t["rate"] = np.where(t["expected"] > 0, t["reported"] / t["expected"].clip(lower=1), 1.0)
            return t[t["expected"] > 0].reset_index(drop=True)

        expected, reported = r["total"]
        return Completeness(
            period=r["period"], missing=missing, by_level=rates(r["by_level"], "level"),
            by_kind=rates(r["by_kind"], "kind"), expected=int(expected), reported=int(reported),
        )

    def validate(self, data: Any, form: Form | _core.FormSchema, *, period: str = "", unknown: str = "error") -> Any:
        """Validates with the tree's knowledge: level-restricted rules and
        ``children_sum()`` rules get each unit's level and its children's sums. Returns a
        :class:`~unionstat.BatchValidation`.

        A report of a unit outside the tree is an error (``unknown="error"``, raises
        :class:`UnknownNameError`) or, with ``unknown="warn"``, validated by the form
        alone (no level, no children) with an :class:`UnknownUnitsWarning`."""
        import pandas as pd

        from .frames import batch_to_frame
        from .rules import BatchValidation, validate_batch

        if unknown not in ("error", "warn"):
            raise ValueError(f"unknown must be 'error' or 'warn', not {unknown!r}")
        batch = _batch(data, form)
        units = np.asarray(batch.units, dtype=object)
        known = np.fromiter((self._h.find(u) is not None for u in units), dtype=bool, count=len(units))
        if unknown == "error" or known.all():
            return validate_batch(batch, tree=self._h, period=period)
        _warn_unknown(list(dict.fromkeys(units[~known].tolist())), "tree's checks (validated by the form alone)")
        frame = batch_to_frame(batch)
        parts = []
        for mask, tree in ((known, self._h), (~known, None)):
            rows = np.flatnonzero(mask)
            if not len(rows):
                continue
            sub = _batch(frame.iloc[rows].reset_index(drop=True), batch.form)
            res = validate_batch(sub, tree=tree, period=period)
            res.violations["row"] = rows[res.violations["row"].to_numpy(dtype=np.int64)]
            parts.append(res)
        violations = pd.concat([p.violations for p in parts], ignore_index=True)
        violations = violations.sort_values("row", kind="stable").reset_index(drop=True)
        summary = parts[0].summary.copy()
        for p in parts[1:]:
            for col in ("items", "passes", "fails", "skipped", "errors"):
                summary[col] = summary[col].to_numpy() + p.summary[col].to_numpy()
        return BatchValidation(violations=violations, summary=summary)
