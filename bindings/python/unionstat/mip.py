"""Linear rules of one form as a mixed-integer program for HiGHS (localisation and
rule-set analysis share it).

Variables, per field f of the part of the rule set being solved: the change
``δ_f = dp_f − dm_f`` (whole numbers of the field's reporting unit: 1 for counts, 0.01
万元 for money reported to two decimals — in raw units ``unit_f = 10^(scale − decimals)``)
and a binary ``z_f``, "f is changed" (for a blank: "f is filled in"). Per rule, a binary
``a_r``, "the rule applies" (its missing strategy, given which fields are blank and which
are filled in). Per node of a rule's boolean structure, a binary ``y`` for its truth,
tied to comparisons by big-M rows with only the directions the node's polarity needs.

Every row has integer coefficients (a comparison's difference is whole in the rule's
common denominator; rows are divided by the gcd of their coefficients, bounds rounded
inwards), and big-M values are computed per report from the variables' bounds, so that
the solver works on small whole numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from typing import Any, NamedTuple

import numpy as np

from .linear import Bool, Cmp, LinearRule

__all__ = ["INF", "Arrays", "Problem", "Row", "RuleModel", "Solved", "exactly_feasible", "run_checked"]

INF = float("inf")

#: HiGHS's own feasibility tolerances (MIP, primal), and the strict ones a solve falls
#: back to. With big-M values of millions (money in 0.01 万元), a binary within the loose
#: tolerance of 0 can let a change of a few units through (z = 1e-6 × M = 3.5), so a
#: loose solve counts only when its rounded solution satisfies every row exactly; the
#: strict tolerances made HiGHS's domain propagation crawl — 18 ms instead of 2 ms on one
#: node of a 30-column model (measured) — so they are the fallback, not the rule.
LOOSE = (1e-6, 1e-7)
STRICT = (1e-9, 1e-9)


def _lcm(a: int, b: int) -> int:
    return a * b // gcd(a, b)


@dataclass
class Row:
    """A comparison as integer data: ``Σ a_f δ_f  op  rhs(v)`` with ``rhs`` computed per
    report as ``(scale·bound − Σ m_f v_f − k)`` divided by ``g`` and rounded inwards."""

    op: str  # le | ge | eq
    fields: list[int]  # local field positions
    a: list[int]  # coefficients on δ (units), divided by g
    m: list[int]  # coefficients on reported raw values
    k: int  # constant part (× scale)
    bound: int  # tolerance bound (× scale)
    g: int
    exact: int = 0  # the bound without the rounding tolerance (× scale)

    @classmethod
    def of(cls, cmp: Cmp, local: dict[int, int], unit_raw: Sequence[int], scale10: Sequence[int]) -> Row:
        fields = sorted(cmp.coef)
        m = [cmp.coef[f] / scale10[local[f]] for f in fields]  # on raw values
        den = 1
        for x in m + [cmp.const]:
            den = _lcm(den, Fraction(x).denominator)
        mi = [int(x * den) for x in m]
        a = [mi[j] * unit_raw[local[f]] for j, f in enumerate(fields)]
        g = 0
        for ai in a:
            g = gcd(g, abs(ai))
        g = g or 1
        exact = {"le": cmp.bound - cmp.tol, "ge": cmp.bound + cmp.tol, "eq": 0}[cmp.op]
        return cls(
            cmp.op,
            [local[f] for f in fields],
            [x // g for x in a],
            mi,
            int(cmp.const * den),
            cmp.bound * den,
            g,
            exact * den,
        )

    def rhs(self, raw: Sequence[int], exact: bool = False) -> tuple[float, float]:
        """(lower, upper) on ``Σ a δ`` for a report's raw values (``exact``: without the
        rounding tolerance)."""
        bound = self.exact if exact else self.bound
        s = self.k
        for f, mi in zip(self.fields, self.m):
            s += mi * raw[f]
        if self.op == "le":
            return -INF, float((bound - s) // self.g)
        if self.op == "ge":
            return float(-((s - bound) // self.g)), INF  # ceil((bound − s)/g)
        hi = (bound - s) // self.g
        lo = -((bound + s) // self.g)  # ceil((−bound − s)/g)
        return float(lo), float(hi)


class Arrays(NamedTuple):
    """A model's data as numpy arrays (the matrix row-wise)."""

    cost: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    rlo: np.ndarray
    rhi: np.ndarray
    start: np.ndarray
    # HiGHS's name for the column indices; it shadows tuple.index, which nothing here calls.
    index: np.ndarray  # type: ignore[assignment]
    value: np.ndarray


class _Lp:
    """Columns and rows of one HiGHS model, collected as Python lists."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.integer: list[bool] = []
        self.rlo: list[float] = []
        self.rhi: list[float] = []
        self.start: list[int] = [0]
        self.index: list[int] = []
        self.value: list[float] = []

    def col(self, lo: float, hi: float, cost: float = 0.0, integer: bool = True) -> int:
        """A new column (integer unless told): its index."""
        self.cost.append(cost)
        self.lo.append(lo)
        self.hi.append(hi)
        self.integer.append(integer)
        return len(self.cost) - 1

    def row(self, idx: list[int], val: list[float], lo: float, hi: float) -> int:
        """A new row ``lo ≤ Σ val·x[idx] ≤ hi``: its index."""
        self.index += idx
        self.value += val
        self.start.append(len(self.index))
        self.rlo.append(lo)
        self.rhi.append(hi)
        return len(self.rlo) - 1

    def arrays(self) -> Arrays:
        """The model as numpy arrays."""
        f64 = np.float64
        return Arrays(
            np.asarray(self.cost, dtype=f64),
            np.asarray(self.lo, dtype=f64),
            np.asarray(self.hi, dtype=f64),
            np.asarray(self.rlo, dtype=f64),
            np.asarray(self.rhi, dtype=f64),
            np.asarray(self.start, dtype=np.int32),
            np.asarray(self.index, dtype=np.int32),
            np.asarray(self.value, dtype=f64),
        )

    def highs_lp(self, arrays: Arrays | None = None) -> Any:
        """The model as a ``highspy.HighsLp`` (row-wise matrix)."""
        import highspy

        x = arrays if arrays is not None else self.arrays()
        lp = highspy.HighsLp()
        n, m = len(self.cost), len(self.rlo)
        lp.num_col_ = n
        lp.num_row_ = m
        lp.col_cost_ = x.cost
        lp.col_lower_ = x.lo
        lp.col_upper_ = x.hi
        lp.row_lower_ = x.rlo
        lp.row_upper_ = x.rhi
        a = lp.a_matrix_
        a.format_ = highspy.MatrixFormat.kRowwise
        a.num_col_ = n
        a.num_row_ = m
        a.start_ = x.start
        a.index_ = x.index
        a.value_ = x.value
        lp.a_matrix_ = a
        kint, kcont = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
        lp.integrality_ = [kint if i else kcont for i in self.integer]
        return lp


@dataclass
class _Node:
    """A boolean node planned for the model: its rows' data, children, polarity."""

    kind: str
    args: list[_Node]
    row: Row | None = None
    value: bool = False
    field: int = -1
    pos: bool = False  # y = 1 ⇒ node true is needed
    neg: bool = False  # y = 0 ⇒ node false is needed


class RuleModel:
    """One rule planned over a set of fields (local positions)."""

    def __init__(
        self,
        rule: LinearRule,
        local: dict[int, int],
        unit_raw: Sequence[int],
        scale10: Sequence[int],
        both: bool = False,
    ) -> None:
        """``both``: the root's truth modelled both ways (y = 0 ⇒ the rule fails too), for
        asking whether a rule can fail."""
        assert rule.tree is not None
        self.rule = rule
        self.refs = [local[f] for f in rule.refs if f in local]
        self.root = self._plan(rule.tree, local, unit_raw, scale10)
        self._polarity(self.root, True, both)

    def _plan(self, b: Bool, local: dict[int, int], unit_raw: Sequence[int], scale10: Sequence[int]) -> _Node:
        if b.kind == "cmp":
            assert b.cmp is not None
            return _Node("cmp", [], row=Row.of(b.cmp, local, unit_raw, scale10))
        if b.kind == "const":
            return _Node("const", [], value=b.value)
        if b.kind == "missing":
            return _Node("missing", [], field=local[b.field])
        return _Node(b.kind, [self._plan(a, local, unit_raw, scale10) for a in b.args])

    def _polarity(self, n: _Node, pos: bool, neg: bool) -> None:
        n.pos |= pos
        n.neg |= neg
        if n.kind in ("and", "or"):
            for a in n.args:
                self._polarity(a, pos, neg)
        elif n.kind == "not":
            self._polarity(n.args[0], neg, pos)
        elif n.kind == "implies":
            self._polarity(n.args[0], neg, pos)
            self._polarity(n.args[1], pos, neg)

    def comparisons(self) -> list[Row]:
        """Every comparison row of the rule, in tree order."""
        out: list[Row] = []

        def walk(n: _Node) -> None:
            if n.row is not None:
                out.append(n.row)
            for a in n.args:
                walk(a)

        walk(self.root)
        return out


@dataclass
class Solved:
    """A solve's outcome."""

    status: str  # optimal | infeasible | other HiGHS status
    objective: float
    values: np.ndarray


class Problem:
    """One report's model over a set of fields and rules (see the module's docstring).

    ``raw``: reported raw values per local field (0 for blanks); ``blank``: which are
    blank; ``active``: per rule, False when it does not apply at the report's level."""

    def __init__(
        self,
        rules: list[RuleModel],
        nfields: int,
        unit_raw: Sequence[int],
        kinds: Sequence[str],
        raw: Sequence[int],
        blank: Sequence[bool],
        active: Sequence[bool],
        weights: Sequence[float],
        cap: int,
        fixed: Sequence[bool] | None = None,
        changeable_blanks: bool = True,
        exact: bool = False,
        targets: dict[int, int] | None = None,
    ) -> None:
        """``targets``: local field → the change δ (units) it must take (hierarchy
        localisation: a figure set to what closes a parent–children gap)."""
        lp = _Lp()
        self.exact = exact
        self.lp = lp
        self.nfields = nfields
        lo_d: list[int] = []
        hi_d: list[int] = []
        self.dp: list[int] = []
        self.dm: list[int] = []
        self.z: list[int] = []
        for f in range(nfields):
            u = unit_raw[f]
            v = raw[f]
            down = v // u if v > 0 else 0
            up = (1 - v) if kinds[f] == "flag" else cap
            if (fixed is not None and fixed[f]) or (blank[f] and not changeable_blanks):
                down = up = 0
            if targets is not None and f in targets:
                d = targets[f]
                lo_d.append(d)
                hi_d.append(d)
                self.dp.append(lp.col(float(max(d, 0)), float(max(d, 0))))
                self.dm.append(lp.col(float(max(-d, 0)), float(max(-d, 0))))
                self.z.append(lp.col(0.0, 1.0, float(weights[f])))
                continue
            lo_d.append(-down)
            hi_d.append(up)
            self.dp.append(lp.col(0.0, float(up)))
            self.dm.append(lp.col(0.0, float(down)))
            self.z.append(lp.col(0.0, 1.0 if up or down or blank[f] else 0.0, float(weights[f])))
        for f in range(nfields):
            r = float(max(hi_d[f], -lo_d[f], 1))
            lp.row([self.dp[f], self.dm[f], self.z[f]], [1.0, 1.0, -r], -INF, 0.0)
        self.lo_d, self.hi_d = lo_d, hi_d
        self.raw, self.blank = raw, blank
        self.active: list[int] = []
        self.roots: list[int] = []
        for rm, on in zip(rules, active):
            a = self._activity(rm, on)
            self.active.append(a)
            y = self._node(rm.root)
            self.roots.append(y)
            lp.row([y, a], [1.0, -1.0], 0.0, INF)

    # --- rows -------------------------------------------------------------------------

    def _activity(self, rm: RuleModel, on: bool) -> int:
        lp = self.lp
        if not on:
            return lp.col(0.0, 0.0)
        blanks = [f for f in rm.refs if self.blank[f]]
        strategy = rm.rule.missing
        if strategy == "never_skip" or not blanks:
            return lp.col(1.0, 1.0)
        if strategy == "skip_if_all_missing":
            if len(blanks) < len(rm.refs):
                return lp.col(1.0, 1.0)
            a = lp.col(0.0, 1.0)  # applies iff some blank is filled in
            for f in blanks:
                lp.row([a, self.z[f]], [1.0, -1.0], 0.0, INF)
            lp.row([a] + [self.z[f] for f in blanks], [1.0] + [-1.0] * len(blanks), -INF, 0.0)
            return a
        a = lp.col(0.0, 1.0)  # skip_if_any_missing: applies iff every blank is filled in
        for f in blanks:
            lp.row([a, self.z[f]], [1.0, -1.0], -INF, 0.0)
        lp.row([a] + [self.z[f] for f in blanks], [1.0] + [-1.0] * len(blanks), 1.0 - len(blanks), INF)
        return a

    def _range(self, row: Row) -> tuple[float, float]:
        smin = smax = 0
        for f, a in zip(row.fields, row.a):
            lo, hi = self.lo_d[f], self.hi_d[f]
            if a > 0:
                smin += a * lo
                smax += a * hi
            else:
                smin += a * hi
                smax += a * lo
        return float(smin), float(smax)

    def _node(self, n: _Node) -> int:
        lp = self.lp
        if n.kind == "const":
            return lp.col(float(n.value), float(n.value))
        if n.kind == "missing":
            if not self.blank[n.field]:
                return lp.col(0.0, 0.0)
            y = lp.col(0.0, 1.0)
            lp.row([y, self.z[n.field]], [1.0, 1.0], 1.0, 1.0)
            return y
        if n.kind == "cmp":
            return self._cmp(n)
        kids = [self._node(a) for a in n.args]
        y = lp.col(0.0, 1.0)
        if n.kind == "not":
            lp.row([y, kids[0]], [1.0, 1.0], 1.0, 1.0)
        elif n.kind == "and":
            if n.pos:
                for k in kids:
                    lp.row([y, k], [1.0, -1.0], -INF, 0.0)
            if n.neg:
                lp.row([y] + kids, [1.0] + [-1.0] * len(kids), 1.0 - len(kids), INF)
        elif n.kind == "or":
            if n.pos:
                lp.row([y] + kids, [1.0] + [-1.0] * len(kids), -INF, 0.0)
            if n.neg:
                for k in kids:
                    lp.row([y, k], [1.0, -1.0], 0.0, INF)
        elif n.kind == "implies":
            a, b = kids
            if n.pos:  # y ≤ (1 − a) + b
                lp.row([y, a, b], [1.0, 1.0, -1.0], -INF, 1.0)
            if n.neg:  # y ≥ 1 − a, y ≥ b
                lp.row([y, a], [1.0, 1.0], 1.0, INF)
                lp.row([y, b], [1.0, -1.0], 0.0, INF)
        return y

    def _cmp(self, n: _Node) -> int:
        lp = self.lp
        row = n.row
        assert row is not None
        lo, hi = row.rhs(self.raw, self.exact)
        smin, smax = self._range(row)
        idx = [self.dp[f] for f in row.fields] + [self.dm[f] for f in row.fields]
        val = [float(a) for a in row.a] + [float(-a) for a in row.a]
        y = lp.col(0.0, 1.0)
        if row.op in ("le", "eq") and n.pos:  # y = 1 ⇒ Σ ≤ hi
            m = max(0.0, smax - hi)
            lp.row(idx + [y], val + [m], -INF, hi + m)
        if row.op in ("ge", "eq") and n.pos:  # y = 1 ⇒ Σ ≥ lo
            m = max(0.0, lo - smin)
            lp.row(idx + [y], val + [-m], lo - m, INF)
        if row.op == "le" and n.neg:  # y = 0 ⇒ Σ ≥ hi + 1
            m = max(0.0, hi + 1 - smin)
            lp.row(idx + [y], val + [m], hi + 1, INF)
        if row.op == "ge" and n.neg:  # y = 0 ⇒ Σ ≤ lo − 1
            m = max(0.0, smax - (lo - 1))
            lp.row(idx + [y], val + [-m], -INF, lo - 1)
        if row.op == "eq" and n.neg:  # y = 0 ⇒ Σ ≥ hi + 1 (s = 1) or Σ ≤ lo − 1 (s = 0)
            s = lp.col(0.0, 1.0)
            m1 = max(0.0, hi + 1 - smin)
            lp.row(idx + [y, s], val + [m1, -m1], hi + 1 - m1, INF)
            m2 = max(0.0, smax - (lo - 1))
            lp.row(idx + [y, s], val + [-m2, -m2], -INF, lo - 1)
        return y

    # --- solving ------------------------------------------------------------------------

    def solve(
        self,
        highs: Any,
        *,
        cost: Sequence[float] | None = None,
        col_bounds: dict[int, tuple[float, float]] | None = None,
        extra_rows: Sequence[tuple[list[int], list[float], float, float]] = (),
    ) -> Solved:
        """Solves the model as built, with costs, bounds or rows changed for this solve."""
        lp = self.lp
        saved = (lp.cost, lp.lo, lp.hi, len(lp.rlo), len(lp.index))
        if cost is not None:
            lp.cost = list(cost)
        if col_bounds:
            lp.lo, lp.hi = list(lp.lo), list(lp.hi)
            for c, (lo, hi) in col_bounds.items():
                lp.lo[c], lp.hi[c] = lo, hi
        for idx, val, lo, hi in extra_rows:
            lp.row(idx, val, lo, hi)
        arrays = lp.arrays()
        model = lp.highs_lp(arrays)
        lp.cost, lp.lo, lp.hi = saved[0], saved[1], saved[2]
        del lp.rlo[saved[3] :], lp.rhi[saved[3] :], lp.start[saved[3] + 1 :]
        del lp.index[saved[4] :], lp.value[saved[4] :]
        highs.passModel(model)
        return run_checked(highs, arrays)

    def deltas(self, x: np.ndarray) -> list[int]:
        """The changes δ_f (units) of a solution."""
        return [round(x[p]) - round(x[m]) for p, m in zip(self.dp, self.dm)]

    def changed(self, x: np.ndarray) -> list[int]:
        """The fields a solution changes (z_f = 1), as local positions."""
        return [f for f in range(self.nfields) if x[self.z[f]] > 0.5]


def _tolerances(highs: Any, tol: tuple[float, float]) -> None:
    highs.setOptionValue("mip_feasibility_tolerance", tol[0])
    highs.setOptionValue("primal_feasibility_tolerance", tol[1])


def exactly_feasible(m: Arrays, x: np.ndarray) -> bool:
    """Whether the rounded solution ``x`` satisfies the model's bounds and rows exactly
    (every coefficient and bound of these models is a whole number)."""
    if np.any(x < m.lo) or np.any(x > m.hi):
        return False
    if len(m.index) == 0:
        return True
    terms = m.value.astype(np.int64) * x.astype(np.int64)[m.index]
    act = np.add.reduceat(terms, m.start[:-1]).astype(np.float64)
    act[m.start[:-1] == m.start[1:]] = 0.0  # reduceat gives a neighbour's sum for an empty row
    return bool(np.all(act >= m.rlo) and np.all(act <= m.rhi))


def run_checked(highs: Any, model: Arrays) -> Solved:
    """Runs the model passed to ``highs``: with HiGHS's own tolerances first, the result
    taken when its rounded solution is exactly feasible (then it is optimal for the exact
    model too: the loose model's feasible set holds the exact one's); else again from a
    clean start with the strict tolerances — as every solve was before — whose answer is
    taken as it is."""
    import highspy

    for tol in (LOOSE, STRICT):
        if tol is STRICT:
            highs.clearSolver()  # no start from the loose solve's solution
        _tolerances(highs, tol)
        highs.run()
        st = highs.getModelStatus()
        if st == highspy.HighsModelStatus.kOptimal:
            x = np.asarray(highs.getSolution().col_value)
            if tol is STRICT:
                return Solved("optimal", float(highs.getInfo().objective_function_value), x)
            xr = np.round(x)
            if exactly_feasible(model, xr):
                return Solved("optimal", float(np.dot(model.cost, xr)), xr)
        elif st == highspy.HighsModelStatus.kInfeasible:
            return Solved("infeasible", INF, np.zeros(0))  # the exact model's rows are tighter still
        elif tol is STRICT:
            return Solved(highs.modelStatusToString(st), INF, np.zeros(0))
    raise AssertionError("unreachable")  # pragma: no cover
