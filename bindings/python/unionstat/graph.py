"""The union hierarchy: roll-up, parent-versus-children checks, completeness."""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from .errors import InputError
from .io import arrow_table

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from .forms import Form

__all__ = ["Completeness", "Hierarchy", "RollupView", "Trace", "UnknownUnitsWarning", "sample_tree"]


class UnknownUnitsWarning(UserWarning):
    """Reports whose unit is not in the tree were left out of a roll-up or check."""


def sample_tree(name: str = "qinghai") -> Path:
    """Path of a bundled sample tree (``qinghai`` or ``pingdingshan``)."""
    return Path(__file__).resolve().parent / "schemas" / "trees" / f"{name}.csv"


def _deadline(deadline: Any, form: Any) -> dt.date | dt.datetime | None:
    """The deadline given (date, datetime or text), else the form's."""
    from .forms import parse_deadline

    if deadline is None:
        return form.deadline_date if hasattr(form, "deadline_date") else parse_deadline(_schema(form).deadline)
    if isinstance(deadline, (dt.date, dt.datetime)):
        return deadline
    try:
        return parse_deadline(str(deadline))
    except ValueError as exc:
        raise InputError(f"deadline: {exc}") from exc


def _schema(form: Any) -> _core.FormSchema:
    from .forms import as_schema

    return as_schema(form)


def _batch(data: Any, form: Any) -> _core.ReportBatch:
    from .forms import to_batch_any

    return to_batch_any(data, form)


def _warn_unknown(units: list[str], what: str, stacklevel: int = 3) -> None:
    if units:
        shown = ", ".join(units[:10]) + (" …" if len(units) > 10 else "")
        warnings.warn(
            f"{len(units)} unit(s) not in the tree were left out of the {what}: {shown}",
            UnknownUnitsWarning,
            stacklevel=stacklevel,
        )


def _exact(raw: np.ndarray, scale: np.ndarray, decimals: np.ndarray, money: np.ndarray) -> list[Any]:
    """Raw stored integers to exact Python values by the core's one rule: int for counts,
    Decimal for money with the field's reported decimals (as ``Report.get`` and frames)."""
    return _core.exact_values(raw, scale, decimals, money)


def _money_mode(exact: bool | str) -> str:
    if exact is True or exact == "arrow":
        try:
            import pyarrow  # noqa: F401
        except ImportError:  # pragma: no cover - pyarrow is a test dependency
            return "decimal"
        return "arrow"
    if exact == "decimal":
        return "decimal"
    if exact is False:
        return "text"
    raise ValueError(f"exact must be True, False, 'arrow' or 'decimal', not {exact!r}")


def decimal_array(raw: np.ndarray, missing: np.ndarray, scale: int, decimals: int | None = None) -> Any:
    """An exact pandas array of ``pd.ArrowDtype(pa.decimal128(38, s))`` whose values
    are ``raw / 10**scale``: the int64 raw numbers become decimal128's unscaled 128-bit
    integers (low word the value, high word its sign) straight in a buffer, so nothing
    goes through binary floating point and no Python object is made per cell. ``missing``
    (bool, one per value) marks blanks. ``s`` is ``scale``, or with ``decimals`` (the
    field's reported decimals) the fewest decimals from ``decimals`` up that hold every
    value exactly — so a cell is ``Decimal('5.00')``, as ``Report.get`` and frames give it."""
    import pandas as pd
    import pyarrow as pa

    raw = np.ascontiguousarray(raw, dtype=np.int64)
    if decimals is not None and 0 <= decimals < scale:
        present = raw[~np.asarray(missing, dtype=bool)]
        keep = next(k for k in range(decimals, scale + 1) if not (present % 10 ** (scale - k)).any())
        raw, scale = raw // 10 ** (scale - keep), keep  # exact: every value is a multiple
    n = len(raw)
    words = np.empty((n, 2), dtype=np.int64)  # little-endian int128: low, high
    words[:, 0] = raw
    words[:, 1] = raw >> 63
    missing = np.asarray(missing, dtype=bool)
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    arr = pa.Array.from_buffers(
        pa.decimal128(38, scale), n, [validity, pa.py_buffer(words)], null_count=int(missing.sum())
    )
    return pd.arrays.ArrowExtensionArray(arr)


def _totals_frame(
    batch: _core.ReportBatch, names: list[str], levels: list[str], reports: np.ndarray, exact: bool | str
) -> pd.DataFrame:
    """The roll-up's totals batch as a DataFrame indexed by unit (see Hierarchy.rollup)."""
    import pandas as pd

    mode = _money_mode(exact)
    data: dict[str, Any] = {
        "unit": batch.units,
        "name": names,
        "level": levels,
        "reports": reports,
        "period": batch.periods,
    }
    for f in batch.form.fields:
        values, missing = batch.raw_column(f.code)
        if f.type == "count" or (f.type == "flag" and f.aggregation == "count_true"):
            data[f.code] = pd.arrays.IntegerArray(values, missing)  # count_true: the number of 是
        elif f.type == "flag":
            data[f.code] = pd.arrays.BooleanArray(values.astype(bool), missing)
        elif mode == "arrow":
            data[f.code] = decimal_array(values, missing, f.scale, f.decimals)
        else:
            texts = batch.format_column(f.code)
            data[f.code] = [None if t is None else (Decimal(t) if mode == "decimal" else t) for t in texts]
    return pd.DataFrame(data).set_index("unit")


@dataclass
class Completeness:
    """Who in a subtree has not reported, and reporting rates by level and by kind; with
    submission times, who reported on time and who late.

    ``by_level`` and ``by_kind`` have ``expected``, ``reported``, ``missing``, ``rate``, and
    when times are known ``on_time``, ``late``, ``no_time`` (reported, time not known) and
    ``on_time_rate`` (on time / expected). ``reports`` lists every unit that reported with
    its ``submitted`` time and ``status`` (``on time``, ``late``, ``no time``; ``reported`` when
    there is no deadline) and
    ``late_by`` (how long after the deadline); ``late`` is its late rows."""

    period: str
    missing: pd.DataFrame
    by_level: pd.DataFrame
    by_kind: pd.DataFrame
    expected: int
    reported: int
    deadline: dt.date | dt.datetime | None = None
    reports: pd.DataFrame | None = None

    @property
    def rate(self) -> float:
        """Share of the expected units that reported (1.0 when none is expected)."""
        return 1.0 if self.expected == 0 else self.reported / self.expected

    @property
    def timed(self) -> bool:
        """Whether submission times are known (for some reports at least)."""
        return self.reports is not None and bool(self.reports["submitted"].notna().any())

    @property
    def late(self) -> pd.DataFrame:
        """The units that reported after the deadline, latest first."""
        if self.reports is None:
            raise InputError("no submission times: give submitted= (or a submitted column) to see who was late")
        late = self.reports[self.reports["status"] == "late"]
        return late.sort_values("late_by", ascending=False).reset_index(drop=True)

    @property
    def on_time(self) -> int:
        """Units that reported by the deadline (0 without times or a deadline)."""
        return 0 if self.reports is None else int((self.reports["status"] == "on time").sum())

    def curve(self) -> pd.DataFrame:
        """The cumulative reporting curve: one row per report with a time, in time order —
        ``submitted``, ``reports`` (reported by then) and ``share`` (of the expected)."""
        import pandas as pd

        if self.reports is None:
            raise InputError("no submission times: give submitted= (or a submitted column) for a reporting curve")
        times = self.reports["submitted"].dropna().sort_values(kind="stable").reset_index(drop=True)
        n = np.arange(1, len(times) + 1)
        return pd.DataFrame({"submitted": times, "reports": n, "share": n / max(self.expected, 1)})

    def plot(self) -> Any:
        """The cumulative reporting curve (SVG, inline in Jupyter): share of the expected
        units reported over time, the deadline marked. Needs matplotlib."""
        from .plots import curve_svg

        c = self.curve()
        return curve_svg(
            c["submitted"].tolist(),
            c["share"].to_numpy(),
            deadline=self.deadline,
            title=f"累计报送进度 reporting curve — {self.period}",
            label=f"{self.reported:,} / {self.expected:,}",
        )

    def __repr__(self) -> str:
        timing = ""
        if self.timed:
            timing = f"; {self.on_time} on time, {len(self.late)} late (deadline {self.deadline})"
        return (
            f"<Completeness {self.period}: {self.reported} of {self.expected} units reported ({self.rate:.1%}){timing}>"
        )

    def _repr_html_(self) -> str:
        from .views import completeness_html

        return completeness_html(self)


@dataclass
class RollupView:
    """A roll-up for reading: ``totals`` (one row per inner unit, or per unit with
    ``leaves=True``, as :meth:`Hierarchy.rollup` returns), the unit shown first and its
    children; shows itself in Jupyter."""

    totals: pd.DataFrame
    form: _core.FormSchema
    unit: str
    children: list[str]
    unknown_units: list[str]
    ignore_inner: bool = False

    def total(self, code_or_key: str, unit: str | None = None) -> Any:
        """The consolidated total of one field (code or concept key) of a unit (default:
        the unit shown): int for counts, ``Decimal`` for money, None when blank. A leaf's
        total is its own report: ask the roll-up with ``leaves=True`` for it."""
        import pandas as pd

        who = unit or self.unit
        if who not in self.totals.index:
            raise KeyError(
                f"{who} is not a row of this roll-up (a leaf? its total is its own report; "
                "roll up with leaves=True to list it)"
            )
        value = self.totals.loc[who, self.form.field(code_or_key).code]
        return None if pd.isna(value) else value

    def __repr__(self) -> str:
        return f"<RollupView {self.form.id}: {len(self.totals)} units, shown {self.unit}>"

    def plot(self, code_or_key: str, *, highlight: list[str] | tuple[str, ...] = ()) -> Any:
        """A bar chart (SVG, inline in Jupyter) of one field's consolidated totals of the
        unit's children that are rows of the roll-up (inner children; all with
        ``leaves=True``); ``highlight`` colours some children's bars. Needs matplotlib
        (``pip install unionstat[plot]``)."""
        import pandas as pd

        from .plots import bars_svg

        f = self.form.field(code_or_key)
        kids = [c for c in self.children if c in self.totals.index]
        names = self.totals["name"] if "name" in self.totals.columns else pd.Series(dtype=object)
        labels = [f"{c} {names.get(c, '')}".strip() for c in kids]
        values = [float("nan") if pd.isna(v) else float(v) for v in (self.totals.loc[c, f.code] for c in kids)]
        marked = [lab for c, lab in zip(kids, labels) if c in set(highlight)]
        return bars_svg(
            labels, values, title=f"{f.code} {f.label} — {self.unit} 下属单位合计", unit=f.unit, highlight=marked
        )

    def _repr_html_(self) -> str:
        from .views import rollup_html

        return rollup_html(
            self.totals, self.form, unit=self.unit, children=self.children, unknown_units=self.unknown_units
        )


def _hierarchy_from_csv(text: str, period: str = "") -> Hierarchy:
    """A pickled :class:`Hierarchy` back from its units file (and the period of a view)."""
    tree = Hierarchy(_core.Hierarchy.parse_csv(text, "<pickled tree>"))
    return tree.at(period) if period else tree


_PERIOD = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")


class _TraceLinks:
    """The drill-down links of one check: per row its unit and the rows explaining it."""

    __slots__ = ("explained", "units")

    def __init__(self, units: list[str], explained: list[list[int]]) -> None:
        self.units = units
        self.explained = explained


class Trace(Sequence[str]):
    """The units of a :meth:`Hierarchy.check` row from its unit down to where the gap was
    introduced (pre-order when several children explain it); empty for a balanced row.
    A read-only sequence computed from links shared by every row, so a check of a chain
    100,000 units deep does not hold 100,000 copies of its path. Equal to the list of
    the same unit ids."""

    __slots__ = ("_links", "_row")

    def __init__(self, links: _TraceLinks, row: int) -> None:
        self._links = links
        self._row = row

    def _units(self) -> list[str]:
        if self._row < 0:
            return []
        out: list[str] = []
        stack = [self._row]
        while stack:
            k = stack.pop()
            out.append(self._links.units[k])
            stack.extend(reversed(self._links.explained[k]))
        return out

    def __len__(self) -> int:
        return len(self._units())

    def __getitem__(self, i: Any) -> Any:
        return self._units()[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._units())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Trace):
            return self._units() == other._units()
        if isinstance(other, (list, tuple)):
            return self._units() == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._units()))

    def __repr__(self) -> str:
        return repr(self._units())


class Hierarchy:
    """Org units (id, name, level, kind) with one primary parent each — the line along
    which they are counted — and any number of secondary parents (other views)."""

    def __init__(self, core: _core.Hierarchy, *, period: str = "") -> None:
        self._h = core
        self._period = period  # the period of a view made by at(): its units file lists every version

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        # Pickled as its units file (CSV text: ids, names, levels, kinds, parents,
        # secondary parents, validity — every version of a versioned tree) and the period
        # of the view, which rebuild the same tree: so a tree can be shipped to other
        # processes (Dask workers) once.
        return (_hierarchy_from_csv, (self._h.to_csv(), self._period))

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
            # Vectorised (no Python loop per unit): text of every cell, blanks as "".
            if name not in df.columns:
                return [default] * n
            s = df[name]
            out = s.astype(str).to_numpy(dtype=object)
            out[s.isna().to_numpy()] = ""
            texts: list[str] = out.tolist()
            return texts

        return cls(
            _core.Hierarchy.from_columns(
                col(idcol),
                col("name"),
                col("level"),
                col("kind", "regional"),
                col("parent"),
                col("secondary_parents"),
                col("valid_from"),
                col("valid_to"),
                source,
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
        """The tree of one period (units valid then). A tree without validity bounds is
        the same in every period: it is returned itself (a hierarchy never changes), not
        copied — at national size a copy is seconds and hundreds of MB.

        ``period`` is a year (``2012``), a month (``2012-01``), a day (``2012-01-08``) or a
        range of them (``2011-12/2012-02``); anything else is an :class:`InputError` (a
        mistyped period would silently select every unit, or none)."""
        if not isinstance(period, str):
            raise InputError(f"period must be text such as '2012' or '2012-01', not {type(period).__name__} {period!r}")
        if period and not all(_PERIOD.fullmatch(p) for p in period.split("/", 1)):
            raise InputError(
                f"'{period}' is not a period: give a year (2012), a month (2012-01), a day "
                "(2012-01-08) or a range such as 2011-12/2012-02"
            )
        if not period or not self._h.versioned:
            return self
        return Hierarchy(self._h.at(period), period=period)

    def _repr_html_(self) -> str:
        from .views import hierarchy_html

        return hierarchy_html(self)

    # -- operations ----------------------------------------------------------------
    def rollup(
        self,
        data: Any,
        form: Form | _core.FormSchema,
        *,
        along: str = "primary",
        period: str = "",
        ignore_inner: bool = False,
        leaves: bool = False,
        exact: bool | str = True,
    ) -> pd.DataFrame:
        """Consolidated totals (own report + children's totals), indexed by unit:
        ``name``, ``level``, ``reports`` (reports counted), ``period`` and one column per
        field. Reports of units not in the tree are left out with an
        :class:`UnknownUnitsWarning`.

        Rows: one per **inner** unit (a unit with children along ``along``), in tree
        order — a leaf's total is its own report, so by default it is not copied;
        ``leaves=True`` gives one row per unit of the tree.

        Columns: counts and ``count_true`` flags (the number of 是 answers) are nullable
        ``Int64``; flags that do not add (``none``) nullable booleans; money by ``exact``:

        - ``True`` (default) or ``"arrow"``: exact ``pd.ArrowDtype(pa.decimal128(38, s))``
          columns, ``s`` the field's reported decimals (2 for 万元) or, where a total has
          more, the fewest that hold every total of the column exactly; built from the raw
          integers without a Python object per cell; ``.loc[unit, code]`` is a ``Decimal``
          (``Decimal("6.50")``, as ``Report.get`` gives it). Without pyarrow, ``True``
          falls back to ``"decimal"``.
        - ``"decimal"``: object columns of ``decimal.Decimal`` with the reported decimals
          (one Python object per cell: for small results and printing).
        - ``False``: the exact text of each cell.

        Blanks are ``<NA>``/None: a total is blank only when nothing under it was reported."""
        return self._rollup(
            data, form, along=along, period=period, ignore_inner=ignore_inner, leaves=leaves, exact=exact
        )[0]

    def _rollup(
        self,
        data: Any,
        form: Form | _core.FormSchema,
        *,
        along: str,
        period: str,
        ignore_inner: bool,
        leaves: bool,
        exact: bool | str,
    ) -> tuple[pd.DataFrame, list[str], np.ndarray]:
        """The totals frame, the unknown units, and per row the batch row of the unit's
        own counted report (-1: none)."""
        batch = _batch(data, form)
        res = _core.rollup(self._h, batch, along=along, period=period, ignore_inner=ignore_inner, leaves=leaves)
        _warn_unknown(res["unknown_units"], "roll-up", stacklevel=4)
        units = res["units"]
        # Only the rows' units: with inner units only, a few thousand at national size.
        info = self._h.columns() if leaves else self._h.columns(units.tolist())
        df = _totals_frame(res["totals"], info["name"], info["level"], res["reports"], exact)
        return df, list(res["unknown_units"]), res["own_rows"]

    def rollup_table(
        self,
        data: Any,
        form: Form | _core.FormSchema,
        *,
        along: str = "primary",
        period: str = "",
        ignore_inner: bool = False,
        leaves: bool = False,
    ) -> pa.Table:
        """The roll-up as an Arrow table, built in C++ with no Python object per cell and
        no pandas: ``unit``, ``name``, ``level``, ``reports``, ``period``, then one column
        per field (counts int64, money exact decimal128 at the field's storage scale, flags
        as their policy gives). Rows as :meth:`rollup`: the inner units, or every unit
        with ``leaves=True``. Any Arrow consumer reads it (``pl.DataFrame(t)``)."""
        import pyarrow as pa

        batch = _batch(data, form)
        res = _core.rollup(self._h, batch, along=along, period=period, ignore_inner=ignore_inner, leaves=leaves)
        _warn_unknown(res["unknown_units"], "roll-up")
        units = res["units"]
        info = self._h.columns() if leaves else self._h.columns(units.tolist())
        table = arrow_table(_core.batch_to_arrow(res["totals"])).drop_columns(["row"])
        table = table.add_column(1, "name", pa.array(info["name"], pa.string()))
        table = table.add_column(2, "level", pa.array(info["level"], pa.string()))
        return table.add_column(3, "reports", pa.array(res["reports"], pa.int64()))

    def rollup_view(
        self,
        data: Any,
        form: Form | _core.FormSchema,
        *,
        along: str = "primary",
        period: str = "",
        ignore_inner: bool = False,
        unit: str | None = None,
        leaves: bool = False,
    ) -> RollupView:
        """The roll-up as an object that shows itself in Jupyter: the totals of ``unit``
        (default: the first root) field by field, and its children's totals side by
        side (children that are leaves are shown with ``leaves=True``). ``.totals`` is the
        DataFrame :meth:`rollup` returns."""
        totals, unknown, _own = self._rollup(
            data, form, along=along, period=period, ignore_inner=ignore_inner, leaves=leaves, exact=True
        )
        root = unit if unit is not None else self._h.id(self._h.roots()[0])
        children = list(self.children(root))
        return RollupView(
            totals=totals,
            form=_schema(form),
            unit=root,
            children=children,
            unknown_units=unknown,
            ignore_inner=ignore_inner,
        )

    def check(
        self,
        data: Any,
        form: Form | _core.FormSchema,
        *,
        period: str = "",
        imbalanced_only: bool = True,
        money_per_child: str | None = None,
    ) -> pd.DataFrame:
        """Where a parent reported its own consolidated figures, compare them with its
        children's: one row per (unit, field) with ``reported``, ``computed``,
        ``difference``, ``tolerance``, ``gap`` (figure passed up minus the lowest reports
        below), ``explained_by`` (the children whose figures explain the gap) and
        ``trace`` (the units from this one down to where the gap was introduced)."""
        batch = _batch(data, form)
        r = _core.check(
            self._h, batch, period=period, money_per_child=money_per_child, keep_balanced=not imbalanced_only
        )
        _warn_unknown(r["unknown_units"], "check")
        return self._check_frame(r, _schema(form), imbalanced_only)

    def _check_frame(self, r: _core._Check, schema: _core.FormSchema, imbalanced_only: bool) -> pd.DataFrame:
        """The DataFrame of :meth:`check` from the core's result (also used by the
        distributed check, which gives the core the leaf reports summed)."""
        import pandas as pd

        fields = schema.fields
        fidx = r["field"].astype(np.int64)
        none = np.array([], dtype=np.int64)
        scale = np.array([f.scale for f in fields], dtype=np.int64)[fidx] if len(fidx) else none
        decimals = np.array([f.decimals for f in fields], dtype=np.int64)[fidx] if len(fidx) else none
        money = np.array([f.type == "money" for f in fields], dtype=bool)[fidx] if len(fidx) else none.astype(bool)
        uidx = r["unit"].astype(np.int64)
        ids = np.asarray(self._h.ids(), dtype=object)
        codes = np.array([f.code for f in fields], dtype=object)
        reported = _exact(r["reported"], scale, decimals, money)
        has = r["has_reported"].astype(bool)

        def exact(values: list[Any]) -> pd.Series:
            return pd.Series(values, dtype=object)  # ints and Decimals stay exact

        df = pd.DataFrame(
            {
                "unit": ids[uidx] if len(uidx) else [],
                "field": codes[fidx] if len(fidx) else [],
                "reported": exact([v if h else None for v, h in zip(reported, has)]),
                "computed": exact(_exact(r["computed"], scale, decimals, money)),
                "difference": exact(_exact(r["difference"], scale, decimals, money)),
                "tolerance": exact(_exact(r["tolerance"], scale, decimals, money)),
                "within_tolerance": r["within_tolerance"].astype(bool),
                "gap": exact(_exact(r["gap"], scale, decimals, money)),
                "gap_within_tolerance": r["gap_within_tolerance"].astype(bool),
                "children": r["children"],
                "explained_by": r["explained_by"],
            }
        )
        # The drill-down of every imbalanced row: units from this one down to where the
        # gap was introduced (pre-order when several children explain it).
        # Each row's Trace walks the shared links when read: memory stays linear in the
        # tree's depth however long the traced chains are.
        links = _TraceLinks([str(u) for u in (ids[uidx] if len(uidx) else [])], r["explained_rows"])
        imbalanced = ~(r["within_tolerance"].astype(bool) & r["gap_within_tolerance"].astype(bool))
        trace = np.empty(len(df), dtype=object)
        for row in range(len(df)):
            trace[row] = Trace(links, row if imbalanced[row] else -1)
        df["trace"] = trace
        if imbalanced_only and len(df):
            df = df[~(df["within_tolerance"] & df["gap_within_tolerance"])].reset_index(drop=True)
        return df

    def localise_gaps(
        self,
        data: Any,
        form: Form | _core.FormSchema,
        *,
        period: str = "",
        weights: dict[str, float] | None = None,
        totals: float | None = None,
        level_scale: dict[str, float] | None = None,
    ) -> pd.DataFrame:
        """Where a parent's consolidated report disagrees with its children (:meth:`check`),
        which report's change explains the gap with the least weight: the parent's own
        (its figure set to the children's sum) or one child's (its figure moved by the
        gap) — each found by HiGHS as a Fellegi–Holt localisation of that report with the
        gap's fields set, so that the report's own error rules still pass (a child whose
        total is bound to its parts must change a part too, and weighs more).

        One row per (parent, candidate), ranked within each parent (``rank`` 1 = least
        weight; ``ties`` when another candidate weighs the same): ``unit`` (the parent
        where the gap shows), ``candidate``, ``role`` (parent | child), ``weight``,
        ``fields`` and ``values`` (the changes, exact), ``gap_fields`` and ``arises_at``
        (the lowest unit of :meth:`check`'s trace: where the gap was introduced).
        ``weights``: per field (default: the form's ``weight``, 1 unless declared, or
        ``totals`` for a total of parts, as in :meth:`Form.localise`); ``level_scale``:
        per level, a factor on a report's weights (e.g. ``{"province": 3, "city": 2}``:
        consolidated reports more reliable; default: the form's ``localisation:
        level_scale``); a candidate that cannot close the gap is left out."""
        import pandas as pd

        from .localise import Localiser, failing_rules, value_of

        schema = _schema(form)
        batch = _batch(data, form)
        gaps = self.check(batch, form, period=period)
        gaps = gaps[~gaps["within_tolerance"]] if len(gaps) else gaps
        columns = ["unit", "rank", "candidate", "role", "weight", "ties", "fields", "values", "gap_fields", "arises_at"]
        if not len(gaps):
            return pd.DataFrame(columns=columns)
        loc = form._localiser() if hasattr(form, "_localiser") else Localiser(schema)
        base = loc.weights(weights, totals)
        if level_scale is None:
            level_scale = dict(schema.level_scale)
        failing = failing_rules(loc, batch)
        nf = len(loc.codes)
        raw_cols = [batch.raw_column(c) for c in loc.codes]
        row_of = {(u, p): i for i, (u, p) in enumerate(zip(batch.units, batch.periods))}
        index = {c: i for i, c in enumerate(loc.codes)}

        def to_raw(f: int, v: Any) -> int:
            return int(Decimal(str(v)).scaleb(loc.scales[f]))

        def row(unit: str, per: str) -> int | None:
            return row_of.get((unit, per))

        out = []
        per = period or (batch.periods[0] if len(batch) else "")
        for unit, g in gaps.groupby("unit", sort=False):
            fields = [index[c] for c in g["field"]]
            reported = {f: to_raw(f, v) for f, v in zip(fields, g["reported"])}
            computed = {f: to_raw(f, v) for f, v in zip(fields, g["computed"])}
            trace = [t for t in g["trace"] if len(t)]
            arises = trace[0][-1] if trace else unit
            cands = []
            for role, cand in [("parent", unit)] + [("child", c) for c in self.children(unit)]:
                r = row(cand, per)
                if r is None:
                    continue
                raw = [int(raw_cols[f][0][r]) for f in range(nf)]
                blank = [bool(raw_cols[f][1][r]) for f in range(nf)]
                if role == "parent":
                    targets = dict(computed)
                else:
                    targets = {f: raw[f] + reported[f] - computed[f] for f in fields}
                factor = (level_scale or {}).get(self.level(cand), 1.0)
                st, ch, vals, w, _t, _alt, _why = loc.solve(
                    raw, blank, failing.get(r, []), [x * factor for x in base], targets=targets
                )
                if st != "ok":
                    continue
                cands.append(
                    {
                        "unit": unit,
                        "candidate": cand,
                        "role": role,
                        "weight": w,
                        "fields": [loc.codes[f] for f in ch],
                        "values": {
                            loc.codes[f]: value_of(loc.kinds[f], loc.scales[f], loc.decimals[f], vals[f]) for f in ch
                        },
                        "gap_fields": [loc.codes[f] for f in fields],
                        "arises_at": arises,
                    }
                )
            cands.sort(key=lambda c: (c["weight"], c["role"] != "parent"))
            for i, c in enumerate(cands):
                same = sum(1 for d in cands if abs(d["weight"] - c["weight"]) < 1e-9) > 1
                out.append({**c, "rank": i + 1, "ties": same})
        return pd.DataFrame(out, columns=columns)

    def completeness(
        self,
        data: Any,
        form: Form | _core.FormSchema,
        *,
        period: str = "",
        root: str = "",
        submitted: Any = None,
        deadline: Any = None,
    ) -> Completeness:
        """Units in the tree (or under ``root``) with no report for the period; rates by
        level and by kind. With submission times, who reported on time and who late.

        ``submitted``: one time per row of ``data`` (a sequence), or a mapping / pandas
        Series of unit → time; by default a ``submitted`` column of a DataFrame ``data``.
        Times are ``datetime``/``date``/``Timestamp`` or text (``2012-01-06 17:30``,
        ``2012年1月6日``). ``deadline`` (a date, datetime or such text) overrides the form's
        (:attr:`Form.deadline_date`); a date includes the whole day."""

        if (
            submitted is None
            and type(data).__module__.partition(".")[0] == "pandas"
            and hasattr(data, "columns")
            and "submitted" in data.columns
        ):
            submitted = data["submitted"].tolist()
            data = data.drop(columns="submitted")
        batch = _batch(data, form)
        r = _core.completeness(self._h, batch, period=period, root=root)
        _warn_unknown(r["unknown_units"], "completeness count")
        return self._completeness_of(r, batch=batch, form=form, submitted=submitted, deadline=deadline, root=root)

    def _completeness_of(
        self,
        r: _core._Completeness,
        *,
        batch: _core.ReportBatch | None = None,
        form: Any = None,
        submitted: Any = None,
        deadline: Any = None,
        root: str = "",
    ) -> Completeness:
        """The :class:`Completeness` of the core's result; timeliness too with the batch's
        submission times (the merge of the Dask layer had left them out of this step)."""
        import pandas as pd

        units = self.to_frame()
        missing = units.iloc[r["missing"].astype(np.int64)].reset_index(drop=True)

        def rates(rows: list[tuple[str, int, int]], key: str) -> pd.DataFrame:
            t = pd.DataFrame(rows, columns=[key, "expected", "reported"])
            t["missing"] = t["expected"] - t["reported"]
            t["rate"] = np.where(t["expected"] > 0, t["reported"] / t["expected"].clip(lower=1), 1.0)
            return t[t["expected"] > 0].reset_index(drop=True)

        expected, reported = r["total"]
        when = _deadline(deadline, form) if form is not None or deadline is not None else None
        by_level, by_kind = rates(r["by_level"], "level"), rates(r["by_kind"], "kind")
        reports = None
        if submitted is not None and batch is not None:
            reports = self._timeliness(batch, submitted, r["period"], root, units, missing, when)
            for table, key in ((by_level, "level"), (by_kind, "kind")):
                counts = reports.groupby([key, "status"]).size().unstack(fill_value=0)
                for status, col in (("on time", "on_time"), ("late", "late"), ("no time", "no_time")):
                    got = counts[status] if status in counts.columns else pd.Series(dtype="int64")
                    table[col] = table[key].map(got).fillna(0).astype("int64")
                table["on_time_rate"] = table["on_time"] / table["expected"].clip(lower=1)
        return Completeness(
            period=r["period"],
            missing=missing,
            by_level=by_level,
            by_kind=by_kind,
            expected=int(expected),
            reported=int(reported),
            deadline=when,
            reports=reports,
        )

    def _timeliness(
        self,
        batch: _core.ReportBatch,
        submitted: Any,
        period: str,
        root: str,
        units: pd.DataFrame,
        missing: pd.DataFrame,
        deadline: dt.date | dt.datetime | None,
    ) -> pd.DataFrame:
        """The units that reported (in the tree, under ``root``, of the period) with their
        submission time and status; a unit's earliest time when it has several rows."""
        import pandas as pd

        from .filled import parse_date

        ids = list(batch.units)
        periods = list(batch.periods)
        if isinstance(submitted, pd.Series) and not isinstance(submitted.index, pd.RangeIndex):
            by_unit = {str(k): v for k, v in submitted.items()}
            times = [by_unit.get(u) for u in ids]
        elif isinstance(submitted, dict):
            times = [submitted.get(u) for u in ids]
        else:
            times = list(submitted)
            if len(times) != len(ids):
                raise InputError(
                    f"submitted has {len(times)} time(s) for {len(ids)} report(s): give one per report, "
                    "or a mapping unit → time"
                )

        def as_time(value: Any, i: int) -> Any:
            if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
                return None
            if isinstance(value, pd.Timestamp):
                return value.to_pydatetime()
            if isinstance(value, dt.datetime):
                return value
            if isinstance(value, dt.date):
                return dt.datetime(value.year, value.month, value.day)
            parsed = parse_date(str(value))
            if parsed is None:
                raise InputError(
                    f"report {i + 1} (unit {ids[i]}): submitted '{value}' is not a date or time",
                    row=i + 1,
                    unit=ids[i],
                    field="submitted",
                )
            return parsed

        first: dict[str, Any] = {}
        for i, (u, p, t) in enumerate(zip(ids, periods, times)):
            if period and p != period:
                continue
            when = as_time(t, i)
            if u not in first or (when is not None and (first[u] is None or when < first[u])):
                first[u] = when
        scope = set(self.subtree(root)) if root else None
        gone = set(missing["unit"])
        rows = units[units["unit"].isin(first.keys()) & ~units["unit"].isin(gone)]
        if scope is not None:
            rows = rows[rows["unit"].isin(scope)]
        rows = rows[["unit", "name", "level", "kind", "parent"]].reset_index(drop=True)
        stamps = [first[u] for u in rows["unit"]]
        rows["submitted"] = (
            pd.Series(pd.to_datetime(stamps), dtype="datetime64[ns]")
            if stamps
            else pd.Series([], dtype="datetime64[ns]")
        )
        status, late_by = [], []
        for t in stamps:
            if t is None:
                status.append("no time")
                late_by.append(pd.NaT)
            elif deadline is None:
                status.append("reported")  # no deadline to hold it against
                late_by.append(pd.NaT)
            else:
                end = (
                    deadline
                    if isinstance(deadline, dt.datetime)
                    else dt.datetime(deadline.year, deadline.month, deadline.day) + dt.timedelta(days=1)
                )
                late = t > end if isinstance(deadline, dt.datetime) else t >= end
                status.append("late" if late else "on time")
                late_by.append(pd.Timedelta(t - end) if late else pd.NaT)
        rows["status"] = status
        rows["late_by"] = pd.Series(late_by, dtype="timedelta64[ns]")
        return rows

    def validate(self, data: Any, form: Form | _core.FormSchema, *, period: str = "", unknown: str = "error") -> Any:
        """Validates with the tree's knowledge: level-restricted rules and
        ``children_sum()`` rules get each unit's level and its children's sums. Returns a
        :class:`~unionstat.BatchValidation`.

        A report of a unit outside the tree is an error (``unknown="error"``, raises
        :class:`UnknownNameError`) or, with ``unknown="warn"``, validated by the form
        alone (no level, no children) with an :class:`UnknownUnitsWarning`."""
        from .rules import BatchValidation, validate_batch

        if unknown not in ("error", "warn"):
            raise ValueError(f"unknown must be 'error' or 'warn', not {unknown!r}")
        batch = _batch(data, form)
        units = np.asarray(batch.units, dtype=object)
        known = np.fromiter((self._h.find(u) is not None for u in units), dtype=bool, count=len(units))
        if unknown == "error" or known.all():
            return validate_batch(batch, tree=self._h, period=period)
        _warn_unknown(list(dict.fromkeys(units[~known].tolist())), "tree's checks (validated by the form alone)")
        parts: list[tuple[_core.ReportBatch, _core.BatchResult, np.ndarray | None]] = []
        for mask, tree in ((known, self._h), (~known, None)):
            rows = np.flatnonzero(mask)
            if len(rows):
                sub = batch.take(rows.tolist())  # keeps each row's number
                parts.append((sub, validate_batch(sub, tree=tree, period=period)._parts[0][1], rows))
        return BatchValidation(parts)
