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

__all__ = ["Hierarchy", "Completeness", "UnknownUnitsWarning", "sample_tree"]


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


def _warn_unknown(units: list[str], what: str) -> None:
    if units:
        shown = ", ".join(units[:10]) + (" …" if len(units) > 10 else "")
        warnings.warn(
            f"{len(units)} unit(s) not in the tree were left out of the {what}: {shown}", UnknownUnitsWarning, stacklevel=3
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
        return 1.0 if self.expected == 0 else self.reported / self.expected

    def _repr_html_(self) -> str:
        return (
            f"<h4>{self.reported} of {self.expected} units reported ({self.rate:.1%}) for period {self.period}</h4>"
            + self.by_level.to_html(index=False)
            + self.by_kind.to_html(index=False)
        )


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
        return self._h.ids()

    def to_frame(self) -> pd.DataFrame:
        """One row per unit: unit, name, level, kind, parent, depth."""
        import pandas as pd

        return pd.DataFrame(self._h.columns())

    def _ids(self, indices: list[int]) -> list[str]:
        return [self._h.id(i) for i in indices]

    def parent(self, unit: str) -> str | None:
        p = self._h.parent(self._h.index(unit))
        return None if p is None else self._h.id(p)

    def children(self, unit: str) -> list[str]:
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
        return self._h.level(self._h.index(unit))

    def at(self, period: str) -> Hierarchy:
        """The tree of one period (units valid then)."""
        return Hierarchy(self._h.at(period))

    def _repr_html_(self) -> str:
        df = self.to_frame()
        counts = df.groupby(["level", "kind"]).size().rename("units").reset_index()
        return f"<h4>{len(self)} units</h4>" + counts.to_html(index=False)

    # -- operations ----------------------------------------------------------------
    def rollup(
        self, data: Any, form: Form | _core.FormSchema, *, along: str = "primary", period: str = "",
        ignore_inner: bool = False, exact: bool = True,
    ) -> pd.DataFrame:
        """Consolidated totals for every unit (own report + children's totals), one row
        per unit, indexed by unit: ``name``, ``level``, ``reports`` (reports counted) and
        one column per field. Reports of units not in the tree are left out with an
        :class:`UnknownUnitsWarning`."""
        from .frames import batch_to_frame

        batch = _batch(data, form)
        res = _core.rollup(self._h, batch, along=along, period=period, ignore_inner=ignore_inner)
        _warn_unknown(res["unknown_units"], "roll-up")
        df = batch_to_frame(res["totals"], exact=exact)
        units = self.to_frame()
        df.insert(1, "name", units["name"].to_numpy())
        df.insert(2, "level", units["level"].to_numpy())
        df.insert(3, "reports", res["reports"])
        return df.set_index("unit")

    def check(
        self, data: Any, form: Form | _core.FormSchema, *, period: str = "", imbalanced_only: bool = True,
        money_per_child: str | None = None,
    ) -> pd.DataFrame:
        """Where a parent reported its own consolidated figures, compare them with its
        children's: one row per (unit, field) with ``reported``, ``computed``,
        ``difference``, ``tolerance``, ``gap`` (figure passed up minus the lowest reports
        below) and ``explained_by`` (the children whose figures explain the gap)."""
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
        df = pd.DataFrame(
            {
                "unit": ids[uidx] if len(uidx) else [],
                "field": codes[fidx] if len(fidx) else [],
                "reported": [v if h else None for v, h in zip(reported, has)],
                "computed": _exact(r["computed"], scale),
                "difference": _exact(r["difference"], scale),
                "tolerance": _exact(r["tolerance"], scale),
                "within_tolerance": r["within_tolerance"].astype(bool),
                "gap": _exact(r["gap"], scale),
                "gap_within_tolerance": r["gap_within_tolerance"].astype(bool),
                "children": r["children"],
                "explained_by": r["explained_by"],
            }
        )
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

    def validate(self, data: Any, form: Form | _core.FormSchema, *, period: str = "") -> Any:
        """Validates with the tree's knowledge: level-restricted rules and
        ``children_sum()`` rules get each unit's level and its children's sums."""
        from .rules import validate_batch

        batch = _batch(data, form)
        return validate_batch(batch, tree=self._h, period=period)
