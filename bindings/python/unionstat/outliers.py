"""Figures that pass every rule yet are implausible: robust z-scores among peers, per
field and per ratio; Hidiroglou–Berthelot period-to-period ratios; magnitude slips.

>>> import unionstat as us
>>> res = us.outliers(df, form, tree=us.Hierarchy.sample())      # doctest: +SKIP
>>> res.table          # pyarrow.Table, best first: unit, field, value, score, method, reason …

Methods (the ``method`` column):

``robust_z``
    The modified z-score of Iglewicz and Hoaglin, ``0.6745 (x − med) / MAD``, of one
    field among the report's peers. On the default ``scale="log"`` it is computed on
    ``log10 x`` (positive values only): union sizes span orders of magnitude, and on the
    raw scale every big union would be an outlier; on log10 a tenfold departure counts
    the same for a 50-member enterprise union and a county. When the peers' MAD is 0
    (more than half report the same figure) the mean absolute deviation stands in,
    ``(x − med) / (1.253314 · MeanAD)`` (as IBM SPSS does); when that is 0 too every peer
    reports the same figure and nothing is scored.
``ratio_z``
    The same score of a ratio of two fields — funds per household visited, subsidy per
    household, amount per person-time (人次) — declared in :data:`RATIOS` by concept key
    and derived from the keys (``X.amount`` / ``X.persons`` …, see :data:`PAIRS`).
``hb``
    Hidiroglou–Berthelot (1986), as in Statistics Canada's Banff outlier procedure
    (``METHOD=HB``): for units reported in both periods with positive values, the ratio
    ``r = x_t / x_{t−1}``, centred on the peers' median ratio ``r_M`` as ``s = 1 − r_M/r``
    (``r < r_M``) or ``r/r_M − 1``; the effect ``E = s · max(x_t, x_{t−1})^U`` weights a
    change by the unit's size; with quartiles ``E_Q1, E_M, E_Q3`` of the peers the
    fences are ``E_M − C·d_Q1`` and ``E_M + C·d_Q3``, ``d_Q1 = max(E_M − E_Q1, |A·E_M|)``,
    ``d_Q3 = max(E_Q3 − E_M, |A·E_M|)``. The score is the distance from ``E_M`` in units
    of ``d``; beyond ``C`` is an outlier. Parameters (Banff's names): ``U`` = EXPONENT
    (0.5), ``A`` = MDM, the minimum distance multiplier (0.05), ``C`` = MEI, the
    exclusion interval (4) — the defaults of Hidiroglou–Berthelot and of R's univOutl.
``magnitude``
    A report whose block of fields sharing a unit of measure (its 万元 amounts, say) is
    about 10⁴ or 10² off its peers while its other figures are not: 元 typed into a 万元
    blank, a head count with two extra zeros. For each field ``l = log10(x / peer
    median)``; the block's level is the median ``l`` of its positive fields, the report's
    own size is the median level of its other blocks, and the block is flagged when the
    difference lies within ``±0.5`` of ``±2`` or ``±4`` and at least two thirds of the
    block's fields moved together. The score is the robust z of that difference among
    all reports; ``suggested`` is the figure divided (or multiplied) by the factor.

Peers: with a tree, a report's peers are the reports of units with the same primary
parent, level and kind; a peer group smaller than ``min_peers`` falls back to all the units
of the same level and kind (kinds never mix: a province's consolidated report is no peer of
a province-level industry union's own report); smaller still, the report is not scored.
Without a tree every report is a peer of every other (consolidated reports then stand out
from grassroots ones: give the tree, or leave them out). Missing values are skipped, never read as 0.

Values stay exact: money is read as the batch's scaled integers, medians of fields are
exact (``value`` and ``peer_median`` are exact text); scores are floats (statistics, not
money). Everything is vectorised over the batch (sorts of integer keys that carry the
peer group in their high bits), no Python loop per report.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from .errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from .forms import Form
    from .graph import Hierarchy

__all__ = ["PAIRS", "RATIOS", "OutlierResult", "Ratio", "outliers", "ratios_of"]

#: MAD → standard deviation of a normal distribution (Iglewicz & Hoaglin's 0.6745 = 1/1.4826).
_K_MAD = 0.6745
#: MeanAD → standard deviation (√(π/2)), the fallback when MAD = 0.
_K_MEANAD = 1.253314

#: Ratios worth scoring, per form family, as (numerator key, denominator key, label, label_en).
#: Forms that lack one of the keys skip that ratio.
RATIOS: dict[str, list[tuple[str, str, str, str]]] = {
    "songnuan": [
        ("funds_raised.total", "visits.hardship_households", "户均筹集款物", "funds raised per household visited"),
        ("funds_paid.total", "visits.hardship_households", "户均发放款物", "funds paid per household visited"),
        ("heating.amount", "heating.households", "户均取暖补贴", "heating subsidy per household"),
        ("wages.amount_recovered", "wages.workers_helped", "人均追讨欠薪", "unpaid wages recovered per worker helped"),
        ("funds_raised.total", "workers.total", "职工人均筹集款物", "funds raised per worker"),
    ],
    "bangfu": [
        ("funding.total", "staff.total", "工作人员人均资金", "funding per staff member"),
    ],
}

#: Ratios derived from concept keys: a money field ``P.amount`` or ``P.S_amount`` over the
#: count ``P.<denominator>`` or ``P.S_<denominator>`` of the same concept, for these
#: denominators (bangfu's 帮扶款物 per 人次 of every kind of assistance; heating per 户).
PAIRS: tuple[tuple[str, str], ...] = (("amount", "persons"), ("amount", "households"))


@dataclass(frozen=True)
class Ratio:
    """A ratio of two fields of a form, scored like a field."""

    numerator: int
    denominator: int
    code: str  #: ``05A/04D``
    label: str
    label_en: str
    unit: str  #: ``元/户``
    factor: float  #: multiplies num/den (in their units) to the shown unit (万元 → 元: 10,000)


def ratios_of(form: Any) -> list[Ratio]:
    """The ratios scored for a form: :data:`RATIOS` of its family, then those derived from
    its concept keys by :data:`PAIRS`, each once."""
    schema = form.schema if hasattr(form, "schema") else form
    fields = schema.fields
    by_key = {f.key: i for i, f in enumerate(fields)}
    found: list[tuple[int, int, str, str]] = []
    for num, den, label, label_en in RATIOS.get(schema.family, []):
        if num in by_key and den in by_key:
            found.append((by_key[num], by_key[den], label, label_en))
    for key, i in by_key.items():
        head, _, last = key.rpartition(".")
        for money, count in PAIRS:
            if last == money or last.endswith("_" + money):
                stem = last[: -len(money)]
                j = by_key.get(f"{head}.{stem}{count}")
                if j is not None and fields[i].type == "money" and fields[j].type == "count":
                    fi, fj = fields[i], fields[j]
                    found.append((i, j, f"{fi.label}/{fj.unit}", f"{fi.label_en} per {fj.label_en}"))
    out: list[Ratio] = []
    seen: set[tuple[int, int]] = set()
    for i, j, label, label_en in found:
        if (i, j) in seen:
            continue
        seen.add((i, j))
        fi, fj = fields[i], fields[j]
        factor, unit = (10_000.0, "元") if fi.unit == "万元" else (1.0, fi.unit)
        out.append(Ratio(i, j, f"{fi.code}/{fj.code}", label, label_en, f"{unit}/{fj.unit}", factor))
    return out


# ---------------------------------------------------------------------------------------
# Segmented order statistics: per-group medians and quartiles with one np.sort of uint64
# keys whose high bits are the group and whose low bits order the values.
# ---------------------------------------------------------------------------------------


def _float_code(x: np.ndarray) -> np.ndarray:
    """Order-preserving uint64 codes of float64 values (negatives flipped)."""
    b = np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)
    neg = (b >> np.uint64(63)).astype(bool)
    return np.where(neg, ~b, b | np.uint64(1 << 63))


def _float_decode(c: np.ndarray) -> np.ndarray:
    neg = ~(c >> np.uint64(63)).astype(bool)
    return np.where(neg, ~c, c & np.uint64((1 << 63) - 1)).view(np.float64)


class _Sorted:
    """Values sorted within groups: ``values`` (group by group), ``starts`` and ``counts``."""

    def __init__(self, values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> None:
        self.values = values
        self.starts = starts
        self.counts = counts

    def quantile(self, q: float) -> np.ndarray:
        """Per group, linear interpolation between order statistics (NaN for empty groups)."""
        out = np.full(len(self.counts), np.nan)
        live = self.counts > 0
        pos = q * (self.counts[live] - 1)
        lo = np.floor(pos).astype(np.int64)
        frac = pos - lo
        hi = np.minimum(lo + 1, self.counts[live] - 1)
        s = self.starts[live]
        v = self.values.astype(np.float64, copy=False)
        out[live] = v[s + lo] * (1 - frac) + v[s + hi] * frac
        return out

    def middle(self) -> tuple[np.ndarray, np.ndarray]:
        """Per group the two middle order statistics (equal for an odd count; 0 for empty)."""
        live = self.counts > 0
        lo = np.zeros(len(self.counts), dtype=self.values.dtype)
        hi = np.zeros(len(self.counts), dtype=self.values.dtype)
        s = self.starts[live]
        c = self.counts[live]
        lo[live] = self.values[s + (c - 1) // 2]
        hi[live] = self.values[s + c // 2]
        return lo, hi


def _layout(groups: np.ndarray, ngroups: int) -> tuple[np.ndarray, np.ndarray, int]:
    counts = np.bincount(groups, minlength=ngroups).astype(np.int64)
    starts = np.zeros(ngroups, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return counts, starts, max(0, int(ngroups - 1).bit_length())


def _sort_float(x: np.ndarray, groups: np.ndarray, ngroups: int) -> _Sorted:
    """Floats sorted within groups. The group takes the top bits of each key, so the
    lowest ``log2(ngroups)`` bits of the mantissa are dropped: ~1e-12 relative with 4,096
    groups — order statistics for scores, not money."""
    counts, starts, gbits = _layout(groups, ngroups)
    code = _float_code(x)
    if gbits:
        key = (groups.astype(np.uint64) << np.uint64(64 - gbits)) | (code >> np.uint64(gbits))
        key.sort()
        code = (key & np.uint64((1 << (64 - gbits)) - 1)) << np.uint64(gbits)
    else:
        code = np.sort(code)
    return _Sorted(_float_decode(code), starts, counts)


def _sort_int(v: np.ndarray, groups: np.ndarray, ngroups: int) -> _Sorted:
    """Integers sorted within groups, exactly: one sort of (group, value − min) keys when
    they fit in 64 bits, else a lexicographic sort."""
    counts, starts, gbits = _layout(groups, ngroups)
    if len(v) == 0:
        return _Sorted(v.astype(np.int64), starts, counts)
    lo = int(v.min())
    span = int(v.max()) - lo
    if span.bit_length() + gbits <= 64:
        key = (v - lo).astype(np.uint64)
        if gbits:
            key |= groups.astype(np.uint64) << np.uint64(64 - gbits)
        key.sort()
        if gbits:
            key &= np.uint64((1 << (64 - gbits)) - 1)
        return _Sorted(key.astype(np.int64) + lo, starts, counts)
    order = np.lexsort((v, groups))  # pragma: no cover - spans beyond 2^(64 - group bits)
    return _Sorted(v[order], starts, counts)


# ---------------------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------------------


#: Levels and kinds in Chinese, for the reasons.
_ZH = {
    "national": "全国",
    "province": "省级",
    "city": "地市级",
    "county": "县级",
    "grassroots": "基层",
    "regional": "地方",
    "industry": "产业",
    "direct": "直属",
    "enterprise": "企业",
}


@dataclass
class _Tier:
    """One way of grouping the reports: a group per row (−1: none) and a name per group."""

    name: str
    groups: np.ndarray
    ngroups: int
    labels: list[str]
    labels_en: list[str]


def _tiers(units: list[str], tree: Hierarchy | None) -> tuple[list[_Tier], list[str]]:
    """Peer groupings from finest to coarsest, and the units not in the tree."""
    n = len(units)
    if tree is None:
        return [_Tier("all", np.zeros(n, dtype=np.int64), 1, ["全部报表"], ["all reports"])], []
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = tree.core.columns()
    ids = pa.array(cols["unit"], pa.string())
    where = pc.index_in(pa.array(units, pa.string()), value_set=ids)
    known = where.is_valid().to_numpy(zero_copy_only=False)
    idx = where.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    unknown = list(dict.fromkeys(np.asarray(units, dtype=object)[~known].tolist())) if not known.all() else []
    parent = (
        pc.index_in(pa.array(cols["parent"], pa.string()), value_set=ids)
        .fill_null(-1)
        .to_numpy(zero_copy_only=False)
        .astype(np.int64)
    )
    levels, level_code = np.unique(np.asarray(cols["level"], dtype=object), return_inverse=True)
    kinds, kind_code = np.unique(np.asarray(cols["kind"], dtype=object), return_inverse=True)
    lv = level_code[idx].astype(np.int64)
    kd = kind_code[idx].astype(np.int64)
    pr = parent[idx]
    nk = len(kinds)
    tiers = []
    # Same primary parent, level and kind.
    key = ((pr + 1) * len(levels) + lv) * nk + kd
    import pandas as pd

    g, uniq = pd.factorize(np.where(known, key, -1), sort=True)  # hashing: no sort of the rows
    g = g.astype(np.int64)
    if not known.all():
        g = np.where(known, g - 1, -1)  # −1 sorted first
        uniq = uniq[1:]
    labels, labels_en = [], []
    for k in uniq.tolist():
        p, rest = divmod(k, len(levels) * nk)
        lname, kname = levels[rest // nk], kinds[rest % nk]
        pname = cols["unit"][p - 1] if p > 0 else ""
        zl, zk = _ZH.get(lname, lname), _ZH.get(kname, kname)
        labels.append(f"{pname}下属{zl}{zk}工会" if pname else f"顶层{zl}{zk}工会")
        labels_en.append(f"{lname} {kname} units under {pname}" if pname else f"top-level {lname} {kname} units")
    tiers.append(_Tier("parent", g, len(uniq), labels, labels_en))
    # Same level and kind (never mixing kinds: a province's consolidated report is no peer
    # of a province-level industry union's own).
    lk = np.where(known, lv * nk + kd, -1)
    tiers.append(
        _Tier(
            "level_kind",
            lk,
            len(levels) * nk,
            [
                f"全部{_ZH.get(levels[i // nk], levels[i // nk])}{_ZH.get(kinds[i % nk], kinds[i % nk])}工会"
                for i in range(len(levels) * nk)
            ],
            [f"all {levels[i // nk]} {kinds[i % nk]} units" for i in range(len(levels) * nk)],
        )
    )
    return tiers, unknown


@dataclass
class _Scored:
    """Robust z of one variable: score per row (NaN: not scored), the tier and group used."""

    z: np.ndarray
    tier: np.ndarray
    group: np.ndarray
    peers: np.ndarray


def _robust(
    x: np.ndarray,
    valid: np.ndarray,
    tiers: list[_Tier],
    min_peers: int,
    exact: np.ndarray | None = None,
    log: bool = False,
    unit: int = 0,
) -> tuple[_Scored, list[Any]]:
    """Robust z of ``x`` among peers, in the finest tier with enough peers. With
    ``exact`` (the raw int64 values whose transform ``x`` is: themselves, or their log10
    when ``log``) the medians come from an exact integer sort — log10 keeps the order —
    and per tier the doubled raw median of each group is returned. ``unit``: the raw
    value of one unit of the last reported digit; the scale is never below it (on the
    log scale: below ``log10((med + unit) / med)``), so that figures reported in whole
    units around a small median — 3 enterprises visited where the peers visited 1 — are
    not outliers for being discrete."""
    n = len(x)
    z = np.full(n, np.nan)
    tier_of = np.full(n, -1, dtype=np.int8)
    group_of = np.full(n, -1, dtype=np.int64)
    peers = np.zeros(n, dtype=np.int64)
    todo = valid.copy()
    medians2: list[Any] = []
    for t, tier in enumerate(tiers):
        if not todo.any():
            medians2.append(None)
            continue
        rows = np.flatnonzero(valid & (tier.groups >= 0))
        g = tier.groups[rows]
        if exact is not None:
            s = _sort_int(exact[rows], g, tier.ngroups)
            a, b = s.middle()
            medians2.append(a + b)
            if log:  # the log of the sorted raw values
                centre = (np.log10(np.maximum(a, 1)) + np.log10(np.maximum(b, 1))) / 2.0
                mid = np.maximum((a + b) / 2.0, 1.0)
                floor = np.log10((mid + unit) / mid)
            else:
                centre = (a + b) / 2.0
                floor = np.full(len(a), float(unit))
        else:
            s = _sort_float(x[rows], g, tier.ngroups)
            centre = s.quantile(0.5)
            medians2.append(None)
            floor = np.zeros(tier.ngroups)
        counts = s.counts
        dev = np.abs(x[rows] - centre[g])
        mad = _sort_float(dev, g, tier.ngroups).quantile(0.5)
        mean_ad = np.bincount(g, weights=dev, minlength=tier.ngroups) / np.maximum(counts, 1)
        scale = np.maximum(np.where(mad > 0, mad / _K_MAD, _K_MEANAD * mean_ad), floor)
        take = todo[rows] & (counts[g] >= min_peers)
        r = rows[take]
        gg = g[take]
        with np.errstate(divide="ignore", invalid="ignore"):
            zz = np.where(scale[gg] > 0, (x[r] - centre[gg]) / scale[gg], 0.0)
        z[r] = zz
        tier_of[r] = t
        group_of[r] = gg
        peers[r] = counts[gg]
        todo[r] = False
    return _Scored(z, tier_of, group_of, peers), medians2


# ---------------------------------------------------------------------------------------
# Exact text of raw values
# ---------------------------------------------------------------------------------------


def _decimal_text(d: Decimal, decimals: int) -> str:
    """Exact text of a number, with at least ``decimals`` decimals (no exponent)."""
    q = Decimal(1).scaleb(-decimals)
    return str(d.quantize(q)) if d == d.quantize(q) else format(d.normalize(), "f")


def _text(raw: int, f: Any) -> str:
    """A raw stored value as its field's exact text (money with the field's decimals)."""
    return str(raw) if f.scale == 0 else _decimal_text(Decimal(raw).scaleb(-f.scale), f.decimals)


def _text2(raw2: int, f: Any) -> str:
    """Half of a doubled raw value (a median of two middle values) as exact text."""
    if raw2 % 2 == 0:
        return _text(raw2 // 2, f)
    return _decimal_text((Decimal(raw2) / 2).scaleb(-f.scale), f.decimals)


def _stat(x: float) -> str:
    """A float statistic (a ratio, its peers' median) as plain text, 6 significant digits."""
    return np.format_float_positional(x, precision=6, unique=False, fractional=False, trim="-")


def _num(x: float) -> str:
    """A float statistic for reading: 4 significant digits, thousands separated."""
    if not math.isfinite(x):
        return str(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


# ---------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------

_COLUMNS = [
    "unit",
    "period",
    "row",
    "field",
    "label",
    "method",
    "value",
    "previous",
    "score",
    "direction",
    "peer_median",
    "peers",
    "peer_group",
    "factor",
    "suggested",
    "reason",
    "reason_en",
]


@dataclass
class OutlierResult:
    """Outliers found in a batch, best first. ``table`` is a pyarrow Table with one row
    per finding: ``unit``, ``period``, ``row`` (the report's row in the input), ``field``
    (a code; ``05A/04D`` for a ratio; the codes of a block for ``magnitude``), ``label``,
    ``method``, ``value`` (exact text), ``previous`` (``hb``), ``score`` (≥ 0), ``direction``
    (high | low), ``peer_median``, ``peers`` (how many), ``peer_group``, ``factor`` and
    ``suggested`` (``magnitude``), ``reason`` (zh) and ``reason_en``."""

    table: pa.Table
    form: Any
    batch: _core.ReportBatch
    params: dict[str, Any]
    unknown_units: list[str] = field(default_factory=list)
    # For the plots: per finding the batch row, the peer tier and group; and the tiers.
    _rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    _tier: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    _group: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    _tiers: list[_Tier] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def __repr__(self) -> str:
        units = len(set(self.table.column("unit").to_pylist())) if len(self) else 0
        return f"<OutlierResult {self.form.id}: {len(self):,} finding(s) in {units:,} unit(s) of {len(self.batch):,} reports>"

    def to_pandas(self) -> pd.DataFrame:
        """The findings as a DataFrame (``value`` and ``peer_median`` exact text)."""
        return self.table.to_pandas()

    @property
    def frame(self) -> pd.DataFrame:
        """Same as :meth:`to_pandas`."""
        return self.to_pandas()

    def units(self) -> list[str]:
        """Units in order of their best finding."""
        return list(dict.fromkeys(self.table.column("unit").to_pylist()))

    def records(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The findings as dicts, best first (counts' values as int, money as exact text)."""
        t = self.table if limit is None else self.table.slice(0, limit)
        out: list[dict[str, Any]] = t.to_pylist()
        for r in out:
            if r["method"] in ("robust_z", "hb", "magnitude") and r["value"] is not None and "." not in r["value"]:
                r["value"] = int(r["value"]) if r["value"].lstrip("-").isdigit() else r["value"]
        return out

    def peer_values(self, i: int) -> tuple[np.ndarray, np.ndarray, str]:
        """For finding ``i``: its peers' values of the field (floats in the field's unit;
        for a ratio the ratio), a mask of the peers that are findings of the same field
        and method, and the peer group's name."""
        f = self.table.slice(i, 1).to_pylist()[0]
        tier, group = int(self._tier[i]), int(self._group[i])
        if tier < 0 or f["method"] == "magnitude":
            return np.zeros(0), np.zeros(0, dtype=bool), ""
        members = np.flatnonzero(self._tiers[tier].groups == group)
        values = _field_values(self.form, self.batch, f["field"])[members]
        keep = ~np.isnan(values)
        same = (self.table.column("field").to_numpy(zero_copy_only=False) == f["field"]) & (
            self.table.column("method").to_numpy(zero_copy_only=False) == f["method"]
        )
        flagged = np.zeros(len(self.batch), dtype=bool)
        flagged[self._rows[same]] = True
        return values[keep], flagged[members][keep], f["peer_group"]

    def plot(self, i: int = 0) -> Any:
        """A plot (SVG, shown inline in Jupyter) of finding ``i``'s field among its peers,
        the outliers marked; needs matplotlib (``pip install unionstat[plot]``)."""
        from .plots import distribution_svg

        f = self.table.slice(i, 1).to_pylist()[0]
        values, marked, group = self.peer_values(i)
        schema = self.form.schema if hasattr(self.form, "schema") else self.form
        if "/" in f["field"]:
            unit = next(r.unit for r in ratios_of(schema) if r.code == f["field"])
        else:
            unit = schema.field(f["field"]).unit if f["method"] != "magnitude" else ""
        return distribution_svg(
            values,
            marked,
            title=f"{f['field']} {f['label']}",
            subtitle=group,
            log=self.params.get("scale") == "log",
            unit=unit,
        )

    def plots(self, limit: int = 6) -> list[Any]:
        """Plots of the first ``limit`` distinct (field or ratio, peer group) findings of
        the robust z-scores."""
        seen: set[tuple[str, int, int]] = set()
        out = []
        fields = self.table.column("field").to_pylist()
        methods = self.table.column("method").to_pylist()
        for i in range(len(self)):
            key = (fields[i], int(self._tier[i]), int(self._group[i]))
            if methods[i] in ("magnitude", "hb") or key in seen:  # a slip or a change: no one field's spread
                continue
            seen.add(key)
            out.append(self.plot(i))
            if len(out) >= limit:
                break
        return out

    def _repr_html_(self) -> str:
        return self.html()

    def html(self, lang: str | None = None) -> str:
        """The findings as HTML (Jupyter, ``--format html``): the first 30 and their
        plots, headings and column names in ``lang`` (default: the form's language)."""
        import html

        from .i18n import resolve, t, word
        from .plots import available
        from .views import _CSS

        lang = resolve(lang, self.form)
        e = html.escape
        cols = ["unit", "field", "label", "method", "value", "score", "peer_median", "reason"]
        reason = "reason_en" if lang == "en" else "reason"

        def cell(r: dict[str, Any], c: str) -> str:
            if c == "score":
                return _num(r[c])
            if c == "method":
                return word(r[c], lang)
            value = r[reason] if c == "reason" else r[c]
            return str(value if value is not None else "")

        rows = "".join(
            "<tr>" + "".join(f"<td>{e(cell(r, c))}</td>" for c in cols) + "</tr>"
            for r in self.table.slice(0, 30).to_pylist()
        )
        units = len(set(self.table.column("unit").to_pylist())) if len(self) else 0
        head = t(
            "<OutlierResult {form}: {n} finding(s) in {units} unit(s) of {reports} reports>",
            lang,
            form=self.form.id,
            n=f"{len(self):,}",
            units=f"{units:,}",
            reports=f"{len(self.batch):,}",
        )
        parts = [
            _CSS,
            f"<h4>{e(head)}</h4>",
            "<table class='us-t'><tr>" + "".join(f"<th>{e(t(c, lang))}</th>" for c in cols) + f"</tr>{rows}</table>",
        ]
        if len(self) > 30:
            parts.append(
                f"<p class='us-muted'>{e(t('… and {n} more (.table for all)', lang, n=f'{len(self) - 30:,}'))}</p>"
            )
        if len(self):
            if available():
                parts.extend(str(p) for p in self.plots(3))
            else:
                parts.append(
                    f"<p class='us-muted'>{e(t('plots need matplotlib: pip install unionstat[plot]', lang))}</p>"
                )
        return "".join(parts)


def _field_values(form: Any, batch: _core.ReportBatch, code: str) -> np.ndarray:
    """A field's (or a ``A/B`` ratio's) values as floats in its unit; NaN where blank."""
    schema = form.schema if hasattr(form, "schema") else form
    if "/" in code:
        ratio = next(r for r in ratios_of(schema) if r.code == code)
        num = _field_values(schema, batch, schema.fields[ratio.numerator].code)
        den = _field_values(schema, batch, schema.fields[ratio.denominator].code)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den * ratio.factor, np.nan)
    f = schema.field(code)
    v, miss = batch.raw_column(f.code)
    out: np.ndarray = v.astype(np.float64) / 10.0**f.scale
    out[miss] = np.nan
    return out


# ---------------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------------


@dataclass
class _Findings:
    """Columns of findings under construction (numpy per method, joined at the end)."""

    parts: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **cols: Any) -> None:
        if len(cols["rows"]):
            self.parts.append(cols)


def _batch_of(data: Any, form: Any, what: str) -> _core.ReportBatch:
    from .forms import to_batch_any

    if isinstance(data, (str, os.PathLike)):
        from .io import read_file

        return read_file(data, form.schema if hasattr(form, "schema") else form).batch
    return to_batch_any(data, form, what=what)


def _one_period(batch: _core.ReportBatch, period: str | None, what: str) -> tuple[_core.ReportBatch, str]:
    counts = dict(_core.period_counts(batch))
    if period is not None:
        if str(period) not in counts:
            present = ", ".join(p or "(none)" for p in counts)
            raise InputError(f"{what}: no reports of period {period} (periods present: {present})")
        return (_core.select_period(batch, str(period)) if len(counts) > 1 else batch), str(period)
    if len(counts) > 1:
        shown = ", ".join(list(counts)[:10])
        raise InputError(f"{what} holds reports of several periods ({shown}): choose one with period=…")
    return batch, next(iter(counts), "")


def _check_unique(batch: _core.ReportBatch, what: str) -> None:
    dups = _core.duplicate_keys(batch)
    if dups:
        rows = batch.row_numbers
        a, b = dups[0]
        raise InputError(
            f"{what}: unit {batch.units[a]} reported twice (rows {rows[a]} and {rows[b]}); "
            f"{len(dups)} duplicate(s) in all",
            row=int(rows[b]),
            unit=batch.units[a],
        )


def outliers(
    data: Any,
    form: Form | _core.FormSchema | str,
    tree: Hierarchy | str | None = None,
    previous: Any = None,
    *,
    period: str | None = None,
    scale: str = "log",
    threshold: float = 3.5,
    min_peers: int = 10,
    ratios: bool = True,
    hb: tuple[float, float, float] = (0.5, 0.05, 4.0),
    magnitude: bool = True,
    fields: Sequence[str] | None = None,
    threads: int = 0,
) -> OutlierResult:
    """Outliers in reports of one period (a DataFrame, any Arrow table, a batch or a file
    path), best first. See the module's text for the methods.

    ``tree``: a :class:`Hierarchy` (or a bundled tree's name / a units file) whose
    parent, level and kind make the peer groups; without it all reports are peers.
    ``previous``: the same units' reports of the previous period (same form), for the
    Hidiroglou–Berthelot check with ``hb = (U, A, C)``. ``scale``: ``"log"`` (default)
    or ``"raw"`` for the robust z-scores; ``threshold``: the |z| beyond which a figure is
    an outlier (Iglewicz & Hoaglin's 3.5); ``min_peers``: the smallest peer group scored.
    ``fields``: codes or keys to score (default: every count and money field);
    ``threads``: fields scored at once (default: one per core)."""
    from .forms import Form, forms

    if isinstance(form, str):
        form = forms()[form]
    schema = form.schema if isinstance(form, Form) else form
    if scale not in ("log", "raw"):
        raise InputError(f"scale must be 'log' or 'raw', not {scale!r}")
    if min_peers < 2:
        raise InputError(f"min_peers must be at least 2, not {min_peers}")
    batch, period = _one_period(_batch_of(data, schema, "the data"), period, "the data")
    _check_unique(batch, "the data")
    if isinstance(tree, (str, os.PathLike)):
        from .graph import Hierarchy, sample_tree

        p = str(tree)
        tree = Hierarchy.read(p) if os.path.isfile(p) else Hierarchy.sample(p) if sample_tree(p).is_file() else None
        if tree is None:
            raise InputError(f"{p}: no such units file (nor a bundled tree: qinghai, pingdingshan)", file=p)
    if tree is not None and period:
        tree = tree.at(period)
    units = batch.units  # one list, used for the matching and the findings' rows only
    tiers, unknown = _tiers(units, tree)
    if unknown:
        from .graph import UnknownUnitsWarning

        shown = ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
        warnings.warn(
            f"{len(unknown)} unit(s) not in the tree were not scored: {shown}", UnknownUnitsWarning, stacklevel=2
        )
    all_fields = schema.fields
    if fields is None:
        chosen = [i for i, f in enumerate(all_fields) if f.type in ("count", "money")]
    else:
        chosen = [schema.index(c) for c in fields]
    n = len(batch)
    found = _Findings()
    log = scale == "log"
    # Blocks of fields sharing a type and unit of measure, for the magnitude check: each
    # block's per-row statistics are made as soon as its fields are scored, so that only
    # one block's distances from the peers are held at a time.
    blocks: dict[tuple[str, str], list[int]] = {}
    for i in chosen:
        blocks.setdefault((all_fields[i].type, all_fields[i].unit), []).append(i)
    blocks = {k: v for k, v in blocks.items() if len(v) >= 2} if magnitude else {}
    block_of = {i: k for k, v in blocks.items() for i in v}
    pending: dict[tuple[str, str], dict[int, np.ndarray]] = {k: {} for k in blocks}
    stats: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def score(i: int) -> tuple[int, dict[str, Any] | None, np.ndarray | None]:
        return i, *_score_field(batch, all_fields[i], i, tiers, min_peers, log, threshold, i in block_of)

    workers = threads or os.cpu_count() or 1
    from concurrent.futures import ThreadPoolExecutor

    # numpy's sorts and ufuncs release the GIL: fields are scored on every core.
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(chosen) or 1))) as pool:
        for i, part, level in pool.map(score, chosen):
            if part is not None:
                found.add(**part)
            if i in block_of:
                assert level is not None  # _score_field gives a level for each field of a block
                key = block_of[i]
                pending[key][i] = level
                if len(pending[key]) == len(blocks[key]):
                    stats[key] = _block_stats([pending[key][j] for j in blocks[key]])
                    del pending[key]
    if ratios:
        for r in ratios_of(schema):
            nv, nm = batch.raw_column(all_fields[r.numerator].code)
            dv, dm = batch.raw_column(all_fields[r.denominator].code)
            fn, fd = all_fields[r.numerator], all_fields[r.denominator]
            valid = ~nm & ~dm & (dv > 0) & ((nv > 0) if log else (nv >= 0))
            with np.errstate(divide="ignore", invalid="ignore"):
                q = np.where(valid, nv / 10.0**fn.scale / np.where(dv > 0, dv, 1) * 10.0**fd.scale * r.factor, 1.0)
            x = np.log10(q) if log else q
            sc, _ = _robust(x, valid, tiers, min_peers)
            hit = np.flatnonzero(np.abs(np.nan_to_num(sc.z)) >= threshold)
            if len(hit):
                # The peers' median ratio, from the same sort (a statistic: float).
                med = np.empty(len(hit))
                for t in np.unique(sc.tier[hit]).tolist():
                    tier = tiers[t]
                    rows = np.flatnonzero(valid & (tier.groups >= 0))
                    s = _sort_float(q[rows], tier.groups[rows], tier.ngroups).quantile(0.5)
                    sel = sc.tier[hit] == t
                    med[sel] = s[sc.group[hit][sel]]
                found.add(
                    rows=hit,
                    method="ratio_z",
                    field=r,
                    z=sc.z[hit],
                    tier=sc.tier[hit],
                    group=sc.group[hit],
                    peers=sc.peers[hit],
                    med=med,
                    ratio=q[hit],
                )
    if previous is not None:
        _hb(found, batch, units, schema, previous, chosen, tiers, min_peers, hb, period)
    if stats:
        _magnitude(found, batch, schema, blocks, stats, n)
    return _assemble(
        found,
        form,
        batch,
        units,
        period,
        schema,
        tiers,
        unknown,
        {
            "scale": scale,
            "threshold": threshold,
            "min_peers": min_peers,
            "hb": hb,
            "period": period,
            "tree": tree is not None,
            "previous": previous is not None,
        },
    )


def _score_field(
    batch: _core.ReportBatch,
    f: Any,
    i: int,
    tiers: list[_Tier],
    min_peers: int,
    log: bool,
    threshold: float,
    want_level: bool,
) -> tuple[dict[str, Any] | None, np.ndarray | None]:
    """One field's robust z among peers: its findings (or None) and, with ``want_level``,
    each report's distance from its peers' median in decades (float32; NaN where none)."""
    n = len(batch)
    v, miss = batch.raw_column(f.code)
    positive = ~miss & (v > 0)
    valid = positive if log else ~miss
    lx = np.log10(np.where(positive, v, 1).astype(np.float64))
    sc, med2 = _robust(
        lx if log else v.astype(np.float64),
        valid,
        tiers,
        min_peers,
        exact=v,
        log=log,
        unit=10 ** max(f.scale - f.decimals, 0),
    )
    # Per row the doubled raw median of its peers (exact), where it was scored.
    m2 = np.zeros(n, dtype=np.int64)
    for t, mt in enumerate(med2):
        if mt is not None:
            at = np.flatnonzero(sc.tier == t)
            m2[at] = mt[sc.group[at]]
    level = None
    if want_level:
        ok = positive & (m2 > 0)
        level = np.full(n, np.nan, dtype=np.float32)
        level[ok] = lx[ok] - np.log10(m2[ok] / 2.0)
    hit = np.flatnonzero(np.abs(np.nan_to_num(sc.z)) >= threshold)
    part = None
    if len(hit):
        part = {
            "rows": hit,
            "method": "robust_z",
            "field": i,
            "z": sc.z[hit],
            "tier": sc.tier[hit],
            "group": sc.group[hit],
            "peers": sc.peers[hit],
            "med2": m2[hit],
            "value": v[hit],
        }
    return part, level


def _hb(
    found: _Findings,
    batch: _core.ReportBatch,
    units: list[str],
    schema: _core.FormSchema,
    previous: Any,
    chosen: list[int],
    tiers: list[_Tier],
    min_peers: int,
    params: tuple[float, float, float],
    period: str,
) -> None:
    """Hidiroglou–Berthelot on every chosen field, units matched by id."""
    import pyarrow as pa
    import pyarrow.compute as pc

    U, A, C = params
    prev = _batch_of(previous, schema, "the previous period's data")
    periods = [p for p, _n in _core.period_counts(prev)]
    if len(periods) > 1:
        # The latest period before this one (periods compare as text: 2017 < 2018, 2017-12 < 2018-01).
        before = sorted(p for p in periods if not period or p < period)
        if not before:
            raise InputError(
                f"the previous period's data holds no period before {period} (it holds {', '.join(periods)})"
            )
        prev = _core.select_period(prev, before[-1])
    _check_unique(prev, "the previous period's data")
    match = pc.index_in(pa.array(units, pa.string()), value_set=pa.array(prev.units, pa.string()))
    has = match.is_valid().to_numpy(zero_copy_only=False)
    at = match.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    for i in chosen:
        f = schema.fields[i]
        v, miss = batch.raw_column(f.code)
        pv, pmiss = prev.raw_column(f.code)
        p = pv[at]
        valid = has & ~miss & ~pmiss[at] & (v > 0) & (p > 0)
        if valid.sum() < min_peers:
            continue
        xt = np.where(valid, v, 1).astype(np.float64)
        xp = np.where(valid, p, 1).astype(np.float64)
        r = xt / xp
        score = np.full(len(v), np.nan)
        tier_of = np.full(len(v), -1, dtype=np.int8)
        group_of = np.full(len(v), -1, dtype=np.int64)
        peers = np.zeros(len(v), dtype=np.int64)
        rmed_of = np.full(len(v), np.nan)
        todo = valid.copy()
        for t, tier in enumerate(tiers):
            if not todo.any():
                break
            rows = np.flatnonzero(valid & (tier.groups >= 0))
            g = tier.groups[rows]
            rm = _sort_float(r[rows], g, tier.ngroups).quantile(0.5)[g]
            rr = r[rows]
            s = np.where(rr < rm, 1 - rm / rr, rr / rm - 1)
            size = np.maximum(xt[rows], xp[rows]) / 10.0**f.scale
            e = s * size**U
            srt = _sort_float(e, g, tier.ngroups)
            q1, em, q3 = srt.quantile(0.25)[g], srt.quantile(0.5)[g], srt.quantile(0.75)[g]
            d1 = np.maximum(em - q1, np.abs(A * em))
            d3 = np.maximum(q3 - em, np.abs(A * em))
            mean_d = np.bincount(g, weights=np.abs(e - em), minlength=tier.ngroups)[g] / np.maximum(srt.counts[g], 1)
            d = np.where(e >= em, d3, d1)
            d = np.where(d > 0, d, mean_d)
            with np.errstate(divide="ignore", invalid="ignore"):
                sc = np.where(d > 0, np.abs(e - em) / d, 0.0)
            take = todo[rows] & (srt.counts[g] >= min_peers)
            rw = rows[take]
            score[rw] = sc[take]
            tier_of[rw] = t
            group_of[rw] = g[take]
            peers[rw] = srt.counts[g][take]
            rmed_of[rw] = rm[take]
            todo[rw] = False
        hit = np.flatnonzero(np.nan_to_num(score) > C)
        if len(hit):
            found.add(
                rows=hit,
                method="hb",
                field=i,
                z=np.where(r[hit] >= rmed_of[hit], 1.0, -1.0) * score[hit],
                tier=tier_of[hit],
                group=group_of[hit],
                peers=peers[hit],
                value=v[hit],
                prev=p[hit],
                rmed=rmed_of[hit],
            )


def _row_median(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row the median of the non-NaN entries (NaN when none) and their count."""
    cnt = (~np.isnan(mat)).sum(axis=1)
    s = np.sort(mat, axis=1)  # NaN last
    r = np.arange(len(mat))
    lo = np.maximum((cnt - 1) // 2, 0)
    hi = np.maximum(cnt // 2, 0)
    hi = np.minimum(hi, mat.shape[1] - 1)
    with np.errstate(invalid="ignore"):
        med = np.where(cnt > 0, (s[r, lo] + s[r, hi]) / 2, np.nan)
    return med, cnt


class _WeightedRows:
    """Per row the median of the block levels weighted by their fields — the median of
    the report's other figures, near enough — leaving one block out at a time: the
    levels are ordered once, and each block's weight is zeroed in turn."""

    def __init__(self, med: np.ndarray, weight: np.ndarray) -> None:
        self.order = np.argsort(np.where(np.isnan(med), np.inf, med), axis=1)
        self.sorted = np.take_along_axis(med, self.order, axis=1)
        self.weight = np.take_along_axis(np.where(np.isnan(med), 0, weight), self.order, axis=1)

    def without(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """The weighted median of every block but ``b``, and the weight it stands on."""
        n = len(self.order)
        w = np.where(self.order == b, 0, self.weight)
        cum = np.cumsum(w, axis=1)
        total = cum[:, -1]
        at = np.argmax(cum * 2 >= total[:, None], axis=1)
        return np.where(total > 0, self.sorted[np.arange(n), at], np.nan), total


def _block_stats(levels: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A block's per-row median distance from the peers (decades), the number of its
    fields with one, and how many of them lie within 0.75 of that median."""
    mat = np.stack(levels, axis=1)
    med, cnt = _row_median(mat)
    with np.errstate(invalid="ignore"):
        together = (np.abs(mat - med[:, None]) < 0.75).sum(axis=1)
    return med.astype(np.float32), cnt.astype(np.int16), together.astype(np.int16)


def _magnitude(
    found: _Findings,
    batch: _core.ReportBatch,
    schema: _core.FormSchema,
    blocks: dict[tuple[str, str], list[int]],
    stats: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]],
    n: int,
    min_fields: int = 2,
    tol: float = 0.5,
) -> None:
    """Blocks of fields sharing a type and unit of measure ~10^2 or 10^4 off the report's
    other figures, relative to its peers."""
    keys = list(stats)
    med = np.stack([stats[k][0] for k in keys], axis=1).astype(np.float64)
    cnt = np.stack([stats[k][1] for k in keys], axis=1).astype(np.int64)
    rows = _WeightedRows(med, cnt)
    for b, key in enumerate(keys):
        together = stats[key][2]
        ref, nref = rows.without(b)
        ref = np.where(nref >= 3, ref, 0.0)  # too few other figures: against the peers alone
        d = med[:, b] - ref
        usable = (cnt[:, b] >= min_fields) & ~np.isnan(d)
        if usable.sum() < 3:
            continue
        du = d[usable]
        centre = float(np.median(du))
        mad = float(np.median(np.abs(du - centre)))
        spread = mad / _K_MAD if mad > 0 else max(_K_MEANAD * float(np.mean(np.abs(du - centre))), 0.05)
        k = np.rint(d / 2.0) * 2.0  # nearest even power of ten
        # The block itself is off its peers the same way (not the rest of a tiny report).
        near = (
            usable
            & (np.abs(d - k) < tol)
            & (np.abs(k) >= 2)
            & (np.abs(k) <= 4)
            & (med[:, b] * np.sign(k) >= np.abs(k) / 2)
            & (together * 3 >= cnt[:, b] * 2)
        )
        hit = np.flatnonzero(near)
        if len(hit):
            # The block's figures at the flagged reports: which were filled in, the first one's value.
            values = np.stack([batch.raw_column(schema.fields[i].code)[0][hit] for i in blocks[key]], axis=1)
            found.add(
                rows=hit,
                method="magnitude",
                field=key,
                z=(d[hit] - centre) / spread,
                tier=np.full(len(hit), -1),
                group=np.full(len(hit), -1),
                peers=np.zeros(len(hit), dtype=np.int64),
                k=k[hit].astype(np.int64),
                block=blocks[key],
                values=values,
            )


_TYPES = {
    "unit": "string",
    "period": "string",
    "row": "int64",
    "field": "string",
    "label": "string",
    "method": "string",
    "value": "string",
    "previous": "string",
    "score": "float64",
    "direction": "string",
    "peer_median": "string",
    "peers": "int64",
    "peer_group": "string",
    "factor": "int64",
    "suggested": "string",
    "reason": "string",
    "reason_en": "string",
}


def _part_texts(part: dict[str, Any], fields: list[Any], gl: list[str], gl_en: list[str]) -> dict[str, list[Any]]:
    """The text columns of one part of the findings (one field and method): Python per
    finding, only for the findings."""
    method = part["method"]
    z = part["z"].tolist()
    peers = part["peers"].tolist()
    n = len(z)
    hl = ["偏高" if x > 0 else "偏低" for x in z]
    hl_en = ["high" if x > 0 else "low" for x in z]
    out: dict[str, list[Any]] = {"previous": [None] * n, "factor": [None] * n, "suggested": [None] * n}
    if method in ("robust_z", "hb"):
        f = fields[part["field"]]
        values = [_text(x, f) for x in part["value"].tolist()] if f.scale else [str(x) for x in part["value"].tolist()]
        out.update(field=[f.code] * n, label=[f.label] * n, value=values)
    if method == "robust_z":
        meds = [_text2(x, f) for x in part["med2"].tolist()]
        out["peer_median"] = meds
        out["reason"] = [
            f"{f.label}（{f.code}）{v}{f.unit}{h}：{g}共{p}家的中位数为{m}{f.unit}，稳健z值{x:+.1f}"
            for v, h, g, p, m, x in zip(values, hl, gl, peers, meds, z)
        ]
        out["reason_en"] = [
            f"{f.code} {f.label_en} = {v} {f.unit} is {h}: the median of {p} peers ({g}) is {m} "
            f"{f.unit}; robust z {x:+.1f}"
            for v, h, g, p, m, x in zip(values, hl_en, gl_en, peers, meds, z)
        ]
    elif method == "ratio_z":
        r: Ratio = part["field"]
        q = part["ratio"].tolist()
        med = part["med"].tolist()
        out.update(
            field=[r.code] * n, label=[r.label] * n, value=[_stat(x) for x in q], peer_median=[_stat(x) for x in med]
        )
        out["reason"] = [
            f"{r.label}（{r.code}）{_num(a)}{r.unit}{h}：{g}共{p}家的中位数为{_num(m)}{r.unit}，稳健z值{x:+.1f}"
            for a, h, g, p, m, x in zip(q, hl, gl, peers, med, z)
        ]
        out["reason_en"] = [
            f"{r.label_en} ({r.code}) = {_num(a)} {r.unit} is {h}: the median of {p} peers ({g}) is "
            f"{_num(m)}; robust z {x:+.1f}"
            for a, h, g, p, m, x in zip(q, hl_en, gl_en, peers, med, z)
        ]
    elif method == "hb":
        prev = part["prev"].tolist()
        pv = [_text(x, f) for x in prev]
        ratio = [a / b for a, b in zip(part["value"].tolist(), prev)]
        rmed = part["rmed"].tolist()
        out.update(previous=pv, peer_median=[_stat(x) for x in rmed])
        out["reason"] = [
            f"{f.label}（{f.code}）由上期{a}{f.unit}变为{v}{f.unit}（{_num(r)}倍），{g}共{p}家的变化中位数为"
            f"{_num(m)}倍；HB得分{abs(x):.1f}"
            for a, v, r, g, p, m, x in zip(pv, values, ratio, gl, peers, rmed, z)
        ]
        out["reason_en"] = [
            f"{f.code} {f.label_en} went from {a} to {v} {f.unit} (×{_num(r)}) while the median change "
            f"of {p} peers ({g}) is ×{_num(m)}; HB score {abs(x):.1f}"
            for a, v, r, g, p, m, x in zip(pv, values, ratio, gl_en, peers, rmed, z)
        ]
    elif method == "magnitude":
        ftype, unit = part["field"]
        block = part["block"]
        what = "金额" if ftype == "money" else "数字"
        for key in ("field", "label", "value", "peer_median", "reason", "reason_en"):
            out[key] = []
        for k, filled in zip(part["k"].tolist(), part["values"].tolist()):
            moved = [i for i, x in zip(block, filled) if x > 0]
            codes = [fields[i].code for i in moved]
            f = fields[moved[0]]
            raw_first = int(filled[block.index(moved[0])])
            factor = 10 ** abs(k)
            d = Decimal(raw_first).scaleb(-f.scale)
            exact = d / factor if k > 0 else d * factor
            suggested = _decimal_text(exact, f.decimals) if f.scale else format(exact.normalize(), "f")
            times = f"{factor}倍" if k > 0 else f"1/{factor}"
            if ftype == "money" and unit == "万元" and k == 4:
                why, why_en = "疑似将元填入万元栏", "元 typed into 万元 blanks?"
            elif ftype == "money" and k == -4:
                why, why_en = "疑似将万元填入元栏", "万元 typed into 元 blanks?"
            else:
                why, why_en = "疑似单位或小数点错位", "a unit or decimal point slipped?"
            out["field"].append(",".join(codes))
            out["label"].append(f"以{unit}计的{what}")
            out["value"].append(_text(raw_first, f))
            out["peer_median"].append(None)
            out["factor"][len(out["field"]) - 1] = factor if k > 0 else -factor
            out["suggested"][len(out["field"]) - 1] = suggested
            out["reason"].append(
                f"{len(codes)}项以{unit}计的数字（{', '.join(codes)}）约为同级单位的{times}，"
                f"而本单位其他数字正常：{why}（{f.code}应为{suggested}{unit}？）"
            )
            out["reason_en"].append(
                f"{len(codes)} figures in {unit} ({', '.join(codes)}) are about "
                f"{'×' if k > 0 else '÷'}{factor} of the peers' while the report's other figures "
                f"are not: {why_en} ({f.code} would be {suggested} {unit})"
            )
    return out


def _assemble(
    found: _Findings,
    form: Any,
    batch: _core.ReportBatch,
    units: list[str],
    period: str,
    schema: _core.FormSchema,
    tiers: list[_Tier],
    unknown: list[str],
    params: dict[str, Any],
) -> OutlierResult:
    import pyarrow as pa

    fields = schema.fields
    rownums = batch.row_numbers
    unit_arr = np.asarray(units, dtype=object) if found.parts else np.zeros(0, dtype=object)
    labels = [np.asarray(t.labels, dtype=object) for t in tiers]
    labels_en = [np.asarray(t.labels_en, dtype=object) for t in tiers]
    tables = []
    rows_all, tier_all, group_all = [], [], []
    for part in found.parts:
        rows = part["rows"]
        tier = np.asarray(part["tier"], dtype=np.int64)
        group = np.asarray(part["group"], dtype=np.int64)
        gl = np.full(len(rows), "", dtype=object)
        gl_en = np.full(len(rows), "", dtype=object)
        for t in np.unique(tier[tier >= 0]).tolist():
            sel = tier == t
            gl[sel] = labels[t][group[sel]]
            gl_en[sel] = labels_en[t][group[sel]]
        texts = _part_texts(part, fields, gl.tolist(), gl_en.tolist())
        z = np.asarray(part["z"], dtype=np.float64)
        cols: dict[str, Any] = {
            "unit": unit_arr[rows].tolist(),
            "period": [period] * len(rows),
            "row": rownums[rows],
            "method": [part["method"]] * len(rows),
            "score": np.abs(z),
            "direction": np.where(z > 0, "high", "low").tolist(),
            "peers": np.asarray(part["peers"], dtype=np.int64),
            "peer_group": gl_en.tolist(),
            **texts,
        }
        tables.append(pa.table({c: pa.array(cols[c], type=getattr(pa, _TYPES[c])()) for c in _COLUMNS}))
        rows_all.append(rows)
        tier_all.append(tier)
        group_all.append(group)
    if tables:
        table = pa.concat_tables(tables)
    else:
        table = pa.table({c: pa.array([], type=getattr(pa, _TYPES[c])()) for c in _COLUMNS})
    order = np.argsort(-table.column("score").to_numpy(), kind="stable")
    table = table.take(pa.array(order))

    def cat(xs: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(xs)[order] if xs else np.zeros(0, dtype=np.int64)

    return OutlierResult(table, form, batch, params, unknown, cat(rows_all), cat(tier_all), cat(group_all), tiers)
