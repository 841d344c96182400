"""A sample province: reproducible reports of both forms with a few planted mistakes.

The bundled Qinghai tree (``schemas/trees/qinghai.csv``: 青海省总工会, its eight
prefecture unions, their counties, industry and directly affiliated unions and generated
grassroots unions) gets one campaign's reports, generated from a seeded numpy generator
so that every run gives the same figures:

``songnuan-2018`` (period ``2018``)
    Every union of the tree reports. Grassroots unions report their own activity; about
    a million workers are split across them (the 2018 notice speaks of "全省百万职工"),
    migrant workers are a share of the workers, hardship workers a few per cent, money is
    in 万元 to 2 decimals and every breakdown adds up. Province-level industry unions
    report their own visits and funds but leave the worker counts blank (their members
    are counted where they work). Every inner union (county, prefecture, directly
    affiliated, the province) reports the consolidated total (汇总) of the reports it
    received, as the notice asks (逐级汇总上报).
``bangfu-2017`` (period ``2017``)
    Filled by the unions that run an assistance centre (困难职工帮扶中心): the province,
    the prefectures and the counties. Each reports its own centre's work (本级), so the
    province's figure is the roll-up of all of them.

Mistakes planted on purpose (:func:`planted_mistakes` lists them): a part above its
total, a funds breakdown that does not add up, a heating subsidy paid to 0 households, a
prefecture whose consolidated report disagrees with its counties, a union that did not
report, a county that reported after the deadline (:func:`submission_times`), a union that typed its amounts in 元 into the 万元 blanks (every rule still passes;
:func:`unionstat.outliers` finds it), a report from a union that is not in the tree; in ``bangfu``: a funding breakdown
that does not add up, migrant assistance above all assistance, a centre that did not
report.

>>> from unionstat.sample import sample_province
>>> tree, songnuan, bangfu = sample_province()
>>> int(songnuan["01A"].iloc[0])  # the province's consolidated 职工总数
997931
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .graph import Hierarchy

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CAMPAIGN",
    "Mistake",
    "SampleProvince",
    "centre_tree",
    "grassroots",
    "grassroots_columns",
    "planted_mistakes",
    "sample_province",
    "sample_reports",
    "submission_times",
]

#: The campaign the sample is for: the 2018 "两节" campaign of 青总办通〔2017〕84号.
CAMPAIGN = "2018"

#: Forms of the sample, by family.
FORMS = {"songnuan": "songnuan-2018", "bangfu": "bangfu-2017"}

TreeLike = Hierarchy | str


@dataclass(frozen=True)
class Mistake:
    """One planted mistake: in which form and unit, which fields, what is wrong, and
    what finds it (``validate``, ``check``, ``completeness`` or ``outliers``; ``rollup``
    warns about units outside the tree)."""

    form: str
    unit: str
    fields: tuple[str, ...]
    what: str
    found_by: str


class SampleProvince(NamedTuple):
    """The sample province: the (versioned) tree and one DataFrame per form."""

    tree: Hierarchy
    songnuan: pd.DataFrame
    bangfu: pd.DataFrame


def _tree(tree: TreeLike) -> Hierarchy:
    return Hierarchy.sample(tree) if isinstance(tree, str) else tree


def period_of(form_id: str) -> str:
    """The period a sample report of a form carries: the form's year (``2018`` for the
    campaign table, ``2017`` for the assistance-centre table of the year before)."""
    from .forms import forms

    return str(forms()[form_id].year)


def centre_tree(tree: TreeLike = "qinghai", period: str = "2017") -> Hierarchy:
    """The unions that run an assistance centre in a period — regional unions at county
    level and above — as a tree of their own (for ``bangfu`` completeness and roll-up)."""
    t = _tree(tree).at(period)
    units = t.to_frame()
    keep = units[(units["kind"] == "regional") & (units["level"] != "grassroots")]
    return Hierarchy.from_pandas(keep, source=f"assistance centres of {period}")


# ---------------------------------------------------------------------------------------
# Generation helpers. Every value is an integer: counts as counted, money in 分-of-万元
# "cents" (0.01 万元 = 100 元), the last decimal a filler reports.
# ---------------------------------------------------------------------------------------


class _Columns:
    """Columns under construction: int64 values and a blank mask per field code."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.values: dict[str, np.ndarray] = {}
        self.blank: dict[str, np.ndarray] = {}

    def __setitem__(self, code: str, values: Any) -> None:
        v = np.broadcast_to(np.asarray(values), (self.n,)).astype(np.int64)
        assert (v >= 0).all(), code
        self.values[code] = v.copy()
        self.blank[code] = np.zeros(self.n, dtype=bool)

    def __getitem__(self, code: str) -> np.ndarray:
        return self.values[code]

    def blank_where(self, codes: list[str], where: np.ndarray) -> None:
        for c in codes:
            self.blank[c] = self.blank[c] | where


def _split(rng: np.random.Generator, totals: np.ndarray, shares: np.ndarray, concentration: float = 30.0) -> np.ndarray:
    """Splits each integer total into parts (one row per total) that add up exactly,
    around the given shares; a zero share stays zero."""
    shares = np.asarray(shares, dtype=float)
    if shares.ndim == 1:
        shares = np.broadcast_to(shares, (len(totals), len(shares)))
    out = np.zeros(shares.shape, dtype=np.int64)
    for i, (total, p) in enumerate(zip(totals.tolist(), shares)):
        live = p > 0
        q = np.zeros_like(p)
        q[live] = rng.dirichlet(p[live] / p[live].sum() * concentration)
        out[i] = rng.multinomial(int(total), q / q.sum())
    return out


def _frac(rng: np.random.Generator, x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """round(x × U(lo, hi)) per row."""
    return np.rint(x * rng.uniform(lo, hi, len(x))).astype(np.int64)


def _songnuan_leaves(rng: np.random.Generator, units: pd.DataFrame, workers: int) -> _Columns:
    """Own-activity reports of the units without children."""
    n = len(units)
    kind = units["kind"].to_numpy()
    level = units["level"].to_numpy()
    industry = kind == "industry"
    enterprise = kind == "enterprise"
    c = _Columns(n)

    # 01 workers: heavy-tailed sizes, scaled so that the province has about `workers`.
    median = np.where(enterprise, 450.0, np.where(level == "grassroots", 900.0, 3000.0))
    raw = median * np.exp(rng.normal(0.0, 1.0, n))
    raw[industry] = 0.0
    w = np.rint(raw * (workers / raw.sum())).astype(np.int64)
    c["01A"] = w
    c["01B"] = _frac(rng, w, 0.05, 0.35)
    # 02 hardship workers: a few per cent; migrants among them in proportion.
    c["02A"] = _frac(rng, w, 0.01, 0.05)
    share = np.divide(c["01B"], np.maximum(w, 1))
    c["02B"] = np.minimum(_frac(rng, c["02A"] * share, 0.8, 1.3), np.minimum(c["02A"], c["01B"]))
    # 03 households on file, by cause (not exhaustive), lifted out of hardship.
    c["03A"] = _frac(rng, c["02A"], 0.6, 0.95)
    c["03B"] = np.minimum(_frac(rng, c["03A"] * np.divide(c["02B"], np.maximum(c["02A"], 1)), 0.9, 1.0), c["03A"])
    causes = _split(rng, _frac(rng, c["03A"], 0.85, 1.0), np.array([3.0, 5.0, 2.0]))
    for code, col in zip(("03C", "03D", "03E"), causes.T):
        c[code] = col
    c["03F"] = _frac(rng, c["03A"], 0.05, 0.2)
    # 04 visits. Industry unions visit enterprises and families of their trades.
    c["04A"] = np.where(enterprise, rng.binomial(1, 0.5, n), rng.poisson(np.where(industry, 15, 4)))
    c["04B"] = rng.binomial(c["04A"], 0.3)
    c["04C"] = np.where(industry, rng.poisson(300, n), _frac(rng, w, 0.05, 0.25))
    c["04D"] = np.where(industry, rng.poisson(80, n), _frac(rng, c["03A"], 0.7, 1.0))
    c["04E"] = _frac(rng, c["04D"], 0.85, 1.0)
    mig = np.where(industry, 0.2, np.divide(c["02B"], np.maximum(c["02A"], 1)))
    c["04F"] = np.minimum(_frac(rng, c["04E"] * mig, 0.9, 1.0), c["04E"])
    c["04G"] = rng.poisson(np.where(industry, 2.0, 0.3))
    # 05 funds raised (万元): 800–1,500 元 a family visited, 50–100 元 a frontline worker.
    raised = _frac(rng, c["04D"], 8, 15) + _frac(rng, c["04C"], 0.5, 1.0)
    c["05A"] = raised
    shares = np.where(
        enterprise[:, None],
        [0.0, 0.0, 0.6, 0.3, 0.1],
        np.where(industry[:, None], [0.0, 0.0, 0.7, 0.25, 0.05], [0.1, 0.25, 0.45, 0.15, 0.05]),
    )
    parts = _split(rng, raised, shares)
    for code, col in zip(("05B", "05C", "05D", "05E", "05F"), parts.T):
        c[code] = col
    # 06 funds paid: most of what was raised; to model workers and migrants.
    c["06A"] = _frac(rng, raised, 0.85, 1.0)
    c["06B"] = np.minimum(_frac(rng, c["04G"], 10, 30), c["06A"])
    c["06C"] = np.minimum(
        _frac(rng, c["06A"] * np.divide(c["04F"], np.maximum(c["04D"], 1)), 0.8, 1.0), c["06A"] - c["06B"]
    )
    # 07 services.
    hard = np.where(industry, c["04D"], c["02A"])
    c["07A"] = np.where(industry, rng.poisson(500, n), _frac(rng, w, 0.1, 0.5))
    c["07B"] = rng.binomial(hard, 0.3)
    c["07C"] = rng.poisson(np.where(enterprise, 0.5, 2.0))
    c["07D"] = rng.binomial(hard, 0.5)
    c["07E"] = rng.binomial(hard, 0.1)
    c["07F"] = rng.binomial(hard, 0.15)
    c["07G"] = rng.binomial(hard, 0.1)
    c["07H"] = rng.binomial(hard, 0.05)
    homes = np.where(industry, c["04D"], c["03A"])
    c["07I"] = rng.binomial(homes, 0.5)
    c["07J"] = _frac(rng, c["07I"], 5, 15)  # 500–1,500 元 a household
    c["07K"] = rng.binomial(homes, 0.3)
    # 08 rights and wage arrears (3,000–15,000 元 recovered a worker).
    c["08A"] = rng.poisson(np.maximum(w, 300) / 500)
    c["08B"] = np.where(industry, rng.poisson(2000, n), _frac(rng, w, 0.1, 0.4))
    c["08C"] = np.where(enterprise, 0, rng.poisson(3, n) * rng.binomial(1, 0.6, n))
    c["08D"] = _frac(rng, c["08C"], 30, 150)
    # 09 services to workers: the total is the sum of its kinds.
    base = np.where(industry, 2000, w)
    c["09B"] = rng.binomial(base, 0.01)
    c["09C"] = _frac(rng, base, 0.1, 0.5)
    c["09D"] = _frac(rng, base, 0.05, 0.2)
    c["09E"] = _frac(rng, base, 0.0, 0.1)
    c["09A"] = c["09B"] + c["09C"] + c["09D"] + c["09E"]
    # 10 journey home: buses for some units with many migrants, carriages for a few.
    migrants = c["01B"]
    buses = np.where((migrants > 200) & (rng.random(n) < 0.3), 1 + rng.poisson(migrants / 400), 0)
    riders = np.minimum(200 * buses, _frac(rng, migrants, 0.05, 0.2))
    buses = np.where(riders > 0, buses, 0)
    carriages = np.where((migrants > 1500) & (rng.random(n) < 0.3), rng.integers(1, 4, n), 0)
    c["10B"] = 0
    c["10C"] = 0
    c["10D"] = carriages
    c["10E"] = carriages * rng.integers(60, 119, n)
    c["10F"] = buses
    c["10G"] = riders
    c["10H"] = 0
    c["10I"] = 0
    c["10J"] = 0
    c["10K"] = 0
    c["10A"] = c["10E"] + c["10G"] + rng.poisson(np.where(migrants > 0, 3, 0))
    c["10L"] = rng.binomial(migrants, 0.02)
    c["10M"] = 0
    c["11A"] = np.where(rng.random(n) < 0.5, _frac(rng, c["10A"], 1, 3), 0)
    # Industry unions count their members where they work: the worker lines stay blank.
    c.blank_where(["01A", "01B", "02A", "02B", "03A", "03B", "03C", "03D", "03E", "03F"], industry)
    return c


def _bangfu_centres(rng: np.random.Generator, units: pd.DataFrame) -> _Columns:
    """Each centre's own work (本级): the province's, the prefectures', the counties'."""
    n = len(units)
    level = units["level"].to_numpy()
    province, city, county = level == "province", level == "city", level == "county"
    size = np.where(province, 3.0, np.where(city, 2.0, 1.0))
    c = _Columns(n)
    c["01B"] = province
    c["01C"] = city
    c["01D"] = county
    c["01A"] = c["01B"] + c["01C"] + c["01D"]
    c["02B"] = np.where(province, rng.integers(15, 31, n), 0)
    c["02C"] = np.where(city, rng.integers(6, 16, n), 0)
    c["02D"] = np.where(county, rng.integers(3, 9, n), 0)
    c["02A"] = c["02B"] + c["02C"] + c["02D"]
    c["03A"] = rng.integers(10, 81, n) * size.astype(np.int64)
    c["04A"] = np.where(county, rng.poisson(8, n), 0)
    c["04B"] = np.where(county, rng.poisson(1, n), 0)
    c["04C"] = np.where(county, rng.poisson(10, n), 0)
    c["04D"] = np.where(county, rng.poisson(15, n), rng.poisson(3, n))
    c["04E"] = rng.binomial(c["04D"], 0.4)
    c["04F"] = rng.binomial(c["04D"], 0.5)
    # 09 assistance by kind: persons (人次) and money (cents of 万元), per-person amounts
    # well inside the form's plausibility caps.
    kinds = [  # persons code, amount code, mean persons, cents a person (lo, hi) or None
        ("09C", "09D", 400, (5, 30)),  # living relief: 500–3,000 元
        ("09E", "09F", 80, (20, 100)),  # medical relief: 2,000–10,000 元
        ("09G", "09H", 60, (10, 50)),  # schooling
        ("09I", "09J", 100, None),  # job referral: no money
        ("09K", "09L", 80, (2, 8)),  # job training
        ("09M", "09N", 300, None),  # policy advice
        ("09O", "09P", 20, None),  # legal aid
        ("09Q", "09R", 3, (100, 500)),  # business loans: 1–5 万元
        ("09S", "09T", 50, (2, 10)),  # other
    ]
    for persons, amount, mean, per in kinds:
        p = rng.poisson(mean * size)
        c[persons] = p
        c[amount] = 0 if per is None else _frac(rng, p, *per)
        # Migrant workers: a share of each kind, the money in proportion (at least 1 cent).
        mp = rng.binomial(p, rng.uniform(0.1, 0.3, n))
        mcode_p, mcode_a = "10" + persons[2], "10" + amount[2]
        c[mcode_p] = mp
        share = np.rint(c[amount] * np.divide(mp, np.maximum(p, 1))).astype(np.int64)
        c[mcode_a] = np.where((mp > 0) & (c[amount] > 0), np.clip(share, 1, c[amount]), 0)
    c["09A"] = sum(c[p] for p, _a, _m, _r in kinds)
    c["09B"] = sum(c[a] for _p, a, _m, _r in kinds)
    c["10A"] = sum(c["10" + p[2]] for p, _a, _m, _r in kinds)
    c["10B"] = sum(c["10" + a[2]] for _p, a, _m, _r in kinds)
    c["09U"] = np.minimum(rng.poisson(20 * size), c["09A"])
    # Costs and funding: funding covers the assistance and the centre's costs.
    c["13A"] = rng.integers(500, 5000, n)
    c["13B"] = rng.integers(1000, 6000, n)
    funding = _frac(rng, c["09B"], 1.1, 1.4) + c["13A"] + c["13B"]
    c["05A"] = funding
    for code, col in zip(
        ("05B", "05C", "05D", "05E", "05F"), _split(rng, funding, np.array([0.3, 0.35, 0.25, 0.07, 0.03])).T
    ):
        c[code] = col
    # Special funds: the province's own, the prefectures', the counties'.
    c["06A"] = np.where(province, rng.integers(100_000, 200_000, n), 0)
    c["06B"] = province  # 是: in the provincial budget
    has_city_fund = city & (rng.random(n) < 0.75)
    c["07A"] = has_city_fund
    c["07B"] = np.where(has_city_fund, rng.integers(5000, 20000, n), 0)
    c["07C"] = has_city_fund & (rng.random(n) < 0.6)
    has_county_fund = county & (rng.random(n) < 0.6)
    c["08A"] = has_county_fund
    c["08B"] = np.where(has_county_fund, rng.integers(2000, 10000, n), 0)
    c["08C"] = has_county_fund & (rng.random(n) < 0.5)
    c["11B"] = rng.poisson(100 * size)
    c["11C"] = rng.poisson(200 * size)
    c["11A"] = c["11B"] + c["11C"]
    c["12A"] = rng.poisson(2 * size)
    c["12B"] = np.where(c["12A"] > 0, rng.poisson(5 * c["12A"]), 0)
    c["12C"] = np.where(c["12A"] > 0, rng.integers(100, 2000, n), 0)
    for code, rate in (
        ("14A", 0.3),
        ("14B", 0.5),
        ("14C", 0.8),
        ("14D", 1.0),
        ("14E", 1.0),
        ("14F", 0.5),
        ("14G", 0.7),
    ):
        c[code] = rng.poisson(rate * size)
    # Fields that belong to one level are blank (not applicable) elsewhere.
    c.blank_where(["06A", "06B"], ~province)
    c.blank_where(["07A", "07B", "07C"], ~city)
    c.blank_where(["08A", "08B", "08C"], ~county)
    return c


def _pick(rng: np.random.Generator, candidates: list[str], taken: set[str]) -> str:
    free = [u for u in candidates if u not in taken]
    unit = free[int(rng.integers(0, len(free)))]
    taken.add(unit)
    return unit


def _frame(form_id: str, units: list[str], period: str, cols: _Columns) -> pd.DataFrame:
    """The wide DataFrame: ``unit``, ``period`` and every field in form order; counts as
    nullable Int64, money as exact ``Decimal`` 万元 with 2 decimals, flags as nullable
    boolean."""
    import pandas as pd

    from .forms import forms

    form = forms()[form_id]
    data: dict[str, Any] = {"unit": units, "period": period}
    for f in form.fields:
        v = cols.values[f.code]
        blank = cols.blank[f.code]
        if f.type == "money":
            data[f.code] = [None if b else Decimal(int(x)).scaleb(-2) for x, b in zip(v.tolist(), blank.tolist())]
        elif f.type == "flag":
            data[f.code] = pd.arrays.BooleanArray(v.astype(bool), blank.copy())
        else:
            data[f.code] = pd.arrays.IntegerArray(v, blank.copy())
    return pd.DataFrame(data)


def _consolidate(units: pd.DataFrame, cols: _Columns, reporting: np.ndarray, plant: Any = None) -> None:
    """Fills every inner unit's row with the sum of the reports it received (its
    children's rows), deepest level first; ``plant(depth)`` may alter a level once it is
    consolidated and before its parents sum it."""
    index = {u: i for i, u in enumerate(units["unit"].tolist())}
    parent = np.array([index.get(p, -1) for p in units["parent"].tolist()], dtype=np.int64)
    depth = units["depth"].to_numpy()
    has_children = np.zeros(len(units), dtype=bool)
    has_children[parent[parent >= 0]] = True
    for d in range(int(depth.max()), 0, -1):
        inner = has_children & (depth == d - 1)
        kids = (depth == d) & reporting & (parent >= 0)
        for code in cols.values:
            v = np.where(cols.blank[code], 0, cols.values[code])
            total = np.bincount(parent[kids], weights=v[kids], minlength=len(units)).astype(np.int64)
            given = np.bincount(parent[kids], weights=~cols.blank[code][kids], minlength=len(units)) > 0
            cols.values[code] = np.where(inner, total, cols.values[code])
            cols.blank[code] = np.where(inner, ~given, cols.blank[code])
        if plant is not None:
            plant(d - 1)


def _generate(
    form_id: str, tree: TreeLike, seed: int, workers: int, mistakes: bool
) -> tuple[pd.DataFrame, list[Mistake]]:
    import pandas as pd

    full = _tree(tree)
    period = period_of(form_id)
    family = form_id.split("-")[0]
    rng = np.random.default_rng([seed, 0 if family == "songnuan" else 1])
    planted: list[Mistake] = []
    taken: set[str] = set()
    if family == "bangfu":
        units = centre_tree(full, period).to_frame()
        cols = _bangfu_centres(rng, units)
        ids = units["unit"].tolist()
        counties = units.loc[units["level"] == "county", "unit"].tolist()
        keep = np.ones(len(units), dtype=bool)
        if mistakes:
            u = _pick(rng, counties, taken)
            i = ids.index(u)
            cols.values["05A"][i] += 250  # 2.50 万元 more than its sources
            planted.append(Mistake(form_id, u, ("05A",), "资金来源总额比各来源之和多2.50万元", "validate"))
            u = _pick(rng, counties, taken)
            i = ids.index(u)
            extra = int(cols.values["09E"][i]) + 7 - int(cols.values["10E"][i])
            for code in ("10E", "10A"):
                cols.values[code][i] += extra  # more migrants helped than workers in all
            planted.append(Mistake(form_id, u, ("10E", "09E"), "医疗救助农民工人次多于医疗救助职工人次", "validate"))
            u = _pick(rng, counties, taken)
            keep[ids.index(u)] = False
            planted.append(Mistake(form_id, u, (), "帮扶中心未报送统计表", "completeness"))
        df = _frame(form_id, ids, period, cols)
        return df[keep].reset_index(drop=True), planted
    if family != "songnuan":
        raise ValueError(f"no sample generator for {form_id} (songnuan-2018, bangfu-2017)")

    units = full.at(period).to_frame()
    n = len(units)
    ids = units["unit"].tolist()
    has_children = units["unit"].isin(set(units["parent"])).to_numpy()
    leaves = units[~has_children]
    cols = _Columns(n)
    leaf_cols = _songnuan_leaves(rng, leaves, workers)
    rows = np.flatnonzero(~has_children)
    for code in leaf_cols.values:
        v = np.zeros(n, dtype=np.int64)
        b = np.ones(n, dtype=bool)
        v[rows] = leaf_cols.values[code]
        b[rows] = leaf_cols.blank[code]
        cols.values[code] = v
        cols.blank[code] = b
    reporting = np.ones(n, dtype=bool)
    plant = None
    extra_rows: list[pd.DataFrame] = []
    if mistakes:
        parent_level = units["parent"].map(dict(zip(units["unit"], units["level"]))).to_numpy()
        grass = units.loc[
            (units["level"] == "grassroots") & (units["kind"] == "enterprise") & (parent_level == "county"), "unit"
        ].tolist()
        col = cols.values

        u = _pick(rng, grass, taken)
        i = ids.index(u)
        col["01B"][i] = col["01A"][i] + 350  # typed 职工总数 into the wrong box?
        planted.append(Mistake(form_id, u, ("01B", "01A"), "其中农民工总数大于职工总数", "validate"))

        u = _pick(rng, grass, taken)
        i = ids.index(u)
        col["05A"][i] += 120  # the total is 1.20 万元 more than its sources
        planted.append(
            Mistake(
                form_id,
                u,
                ("05A", "05B", "05C", "05D", "05E", "05F"),
                "筹集款物总额与各来源之和相差1.20万元",
                "validate",
            )
        )

        u = _pick(rng, grass, taken)
        i = ids.index(u)
        col["07J"][i] = max(int(col["07J"][i]), 240)
        col["07I"][i] = 0
        planted.append(Mistake(form_id, u, ("07J", "07I"), "发放取暖补贴但取暖补贴户数为0", "validate"))

        u = _pick(rng, grass, taken)
        reporting[ids.index(u)] = False
        planted.append(Mistake(form_id, u, (), "未报送统计表", "completeness"))

        # 元 typed into the 万元 blanks: every amount 10,000 times too big, every rule of
        # error severity still passing. The union with the smallest funds that fills at
        # least four amounts, so that the province's totals stay readable.
        money = ["05A", "05B", "05C", "05D", "05E", "05F", "06A", "06B", "06C", "07J", "08D", "11A"]
        filled = np.sum([(col[c] > 0).astype(np.int64) for c in money], axis=0)
        free = [ids.index(g) for g in grass if g not in taken]
        i = min((j for j in free if filled[j] >= 4 and col["05A"][j] >= 10), key=lambda j: (int(col["05A"][j]), j))
        taken.add(ids[i])
        for c in money:
            col[c][i] *= 10_000
        planted.append(
            Mistake(
                form_id,
                ids[i],
                tuple(c for c in money if col[c][i] > 0),
                "以元为单位填入万元栏（金额均大一万倍）",
                "outliers",
            )
        )

        cities = units.loc[(units["level"] == "city") & (units["kind"] == "regional") & has_children, "unit"].tolist()
        city = _pick(rng, cities, taken)
        ci = ids.index(city)
        city_depth = int(units["depth"].iloc[ci])

        def plant(depth: int) -> None:
            if depth == city_depth:
                cols.values["01A"][ci] += 2000  # the prefecture's 汇总 says 2,000 workers more than its counties

        planted.append(Mistake(form_id, city, ("01A",), "汇总表职工总数比所辖单位合计多2000人", "check"))

        # A union that is not in the tree sends a report; nobody above it counts it.
        county = units.loc[ids.index(grass[0]), "parent"]
        stranger = next(f"{county}-{k:03d}" for k in range(900, 1000) if f"{county}-{k:03d}" not in full)
        own = _songnuan_leaves(rng, leaves.iloc[[0]].assign(kind="enterprise"), 400)
        extra_rows.append(_frame(form_id, [stranger], period, own))
        planted.append(Mistake(form_id, stranger, (), "报送单位不在组织树中", "rollup"))
    _consolidate(units, cols, reporting, plant)
    df = _frame(form_id, ids, period, cols)[reporting]
    return pd.concat([df, *extra_rows], ignore_index=True), planted


def sample_reports(
    form_id: str, tree: TreeLike = "qinghai", seed: int = 2018, *, workers: int = 1_000_000, mistakes: bool = True
) -> pd.DataFrame:
    """Sample reports of one form for the units of ``tree`` (a :class:`Hierarchy` or a
    bundled tree's name), one row per report: ``unit``, ``period`` (the form's year) and
    every field code in form order — counts as nullable ``Int64``, money as exact
    ``Decimal`` 万元 with 2 decimals, flags as nullable ``boolean``; blank is ``<NA>``.

    The same ``seed`` always gives the same figures. ``workers`` is the province's
    number of workers split across the grassroots unions. With ``mistakes`` (default) the
    mistakes of :func:`planted_mistakes` are in the data; without, every rule of error
    severity passes and every consolidated report matches its children."""
    return _generate(form_id, tree, seed, workers, mistakes)[0]


def _submission_times(df: pd.DataFrame, tree: Hierarchy, seed: int) -> tuple[pd.Series, str]:
    """Submission times of the songnuan reports and the county planted late (see
    :func:`submission_times`)."""
    import datetime as dt

    import pandas as pd

    from .forms import forms

    deadline = forms()[FORMS["songnuan"]].deadline_date
    assert isinstance(deadline, dt.date)
    end = dt.datetime(deadline.year, deadline.month, deadline.day)
    rng = np.random.default_rng([seed, 3])
    units = tree.to_frame().set_index("unit")
    level = df["unit"].map(units["level"]).fillna("grassroots").to_numpy()
    # Days before the deadline by level: each level sends up after the one below.
    window = {"grassroots": (25, 9), "county": (9, 4), "city": (4, 1.5), "province": (1.5, 0.5), "national": (1, 0.2)}
    lo = np.array([window[lv][0] for lv in level])
    hi = np.array([window[lv][1] for lv in level])
    days = rng.uniform(hi, lo)
    times = [end + dt.timedelta(hours=17) - dt.timedelta(days=float(d)) for d in days]
    counties = df.index[(level == "county") & (df["unit"].map(units["kind"]) == "regional").to_numpy()].tolist()
    late = counties[int(rng.integers(0, len(counties)))]
    times[late] = end + dt.timedelta(days=3, hours=15, minutes=20)  # three days after 2月底
    return pd.Series(times, index=df["unit"].tolist(), name="submitted"), str(df["unit"].iloc[late])


def submission_times(seed: int = 2018, tree: TreeLike = "qinghai") -> pd.Series:
    """When each ``songnuan-2018`` report of the sample reached the level above: a
    Series of unit → datetime. Units report level by level before the deadline (the
    notice's 2018年2月底, 2018-02-28): grassroots in the weeks before, counties, then the
    prefectures, the province on the last days; one county (planted, listed in
    :func:`planted_mistakes`) reports three days late."""
    t = _tree(tree)
    return _submission_times(sample_reports(FORMS["songnuan"], t, seed), t, seed)[0]


def planted_mistakes(seed: int = 2018, tree: TreeLike = "qinghai") -> pd.DataFrame:
    """The mistakes planted in the sample of both forms: ``form``, ``unit``, ``name``
    (from the tree; blank for a unit outside it), ``fields``, ``what``, ``found_by``."""
    import pandas as pd

    t = _tree(tree)
    names = dict(zip(t.to_frame()["unit"], t.to_frame()["name"]))
    rows = []
    for form_id in FORMS.values():
        df, planted = _generate(form_id, t, seed, 1_000_000, True)
        if form_id == FORMS["songnuan"]:
            late = _submission_times(df, t, seed)[1]
            planted.append(Mistake(form_id, late, (), "逾期报送统计表（截止日期后3天）", "timeliness"))
        for m in planted:
            rows.append(
                {
                    "form": m.form,
                    "unit": m.unit,
                    "name": names.get(m.unit, ""),
                    "fields": ",".join(m.fields),
                    "what": m.what,
                    "found_by": m.found_by,
                }
            )
    return pd.DataFrame(rows, columns=["form", "unit", "name", "fields", "what", "found_by"])


def grassroots_columns(
    n: int, seed: int = 2018, *, counties: int = 0
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``n`` enterprise grassroots unions spread over ``counties`` county unions (default
    one per 100) of one city of one province, with their own-activity reports of
    ``songnuan-2018`` generated as for the sample province: (units as
    :meth:`Hierarchy.from_pandas` reads them — the province, city and counties first —,
    values per field code, blanks per field code). Values are integers: counts as counted,
    money in hundredths of 万元 (0.01 万元)."""
    import pandas as pd

    counties = counties or max(1, n // 100)
    rng = np.random.default_rng([seed, 2])
    ids = np.char.add("G", np.char.zfill(np.arange(n).astype(str), 7))
    county_ids = np.char.add("C", np.char.zfill(np.arange(counties).astype(str), 5))
    units = pd.DataFrame(
        {
            "unit": np.concatenate([["P0", "S0"], county_ids, ids]),
            "name": np.concatenate(
                [["省总工会", "市总工会"], np.char.add(county_ids, "县总工会"), np.char.add(ids, "工会")]
            ),
            "level": ["province", "city"] + ["county"] * counties + ["grassroots"] * n,
            "kind": ["regional"] * (2 + counties) + ["enterprise"] * n,
            "parent": np.concatenate([["", "P0"], ["S0"] * counties, county_ids[rng.integers(0, counties, n)]]),
        }
    )
    leaves = units.iloc[2 + counties :].reset_index(drop=True)
    cols = _songnuan_leaves(rng, leaves, workers=450 * n)
    return units, cols.values, cols.blank


def grassroots(n: int, seed: int = 2018, *, counties: int = 0) -> tuple[Hierarchy, pd.DataFrame]:
    """A tree of ``n`` grassroots unions under counties (see :func:`grassroots_columns`)
    and their ``songnuan-2018`` reports for period 2018 as a DataFrame (as
    :func:`sample_reports` gives them: money exact ``Decimal`` 万元 with 2 decimals). Every
    rule of error severity passes: data for tests and benchmarks at any size."""
    units, values, blank = grassroots_columns(n, seed, counties=counties)
    cols = _Columns(n)
    cols.values, cols.blank = values, blank
    leaves = units["unit"].iloc[len(units) - n :].tolist()
    return Hierarchy.from_pandas(units, source=f"{n} generated grassroots unions"), _frame(
        FORMS["songnuan"], leaves, CAMPAIGN, cols
    )


def sample_province(seed: int = 2018, tree: TreeLike = "qinghai") -> SampleProvince:
    """The sample province: the tree and the reports of both forms of one campaign
    (``songnuan-2018`` for period 2018, ``bangfu-2017`` for 2017), planted mistakes
    included. Unpacks as ``tree, songnuan, bangfu``."""
    t = _tree(tree)
    return SampleProvince(t, sample_reports(FORMS["songnuan"], t, seed), sample_reports(FORMS["bangfu"], t, seed))
