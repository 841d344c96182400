"""Deductive answers for one field of a localisation part, without a MIP solve.

When one field f of a part is changed and every other field keeps its reported value,
each comparison of the part's rules is a condition on f's change δ alone: an interval
of whole numbers (in f's reporting unit). A rule's boolean structure makes a union of
intervals, and the rules together their intersection — the exact set of changes of f
that let the part's rules pass, with the same rows (coefficients, tolerances, inward
rounding) as the MIP of :mod:`unionstat.mip`. From it:

* :func:`nearest` — the change of least |δ|, which is the third solve's answer (least
  Σ |δ| with the set fixed) when the set is that one field and the least |δ| is reached
  once (not at both −d and +d);
* :func:`fixes` — whether f alone can mend the part, which answers the second solve
  (another set of the same weight?) when the sets that could tie are single fields.

Only for parts without blanks (a blank's "filled in" changes which rules apply and what
``is_missing`` says) and without hierarchy targets; the caller falls back to HiGHS
otherwise, and wherever the answer would be a choice between equals.
"""

from __future__ import annotations

from collections.abc import Sequence

from .mip import INF, RuleModel, _Node

__all__ = ["Span", "change_set", "fixes", "nearest"]

#: Sorted, disjoint, closed intervals of whole numbers.
Span = list[tuple[int, int]]


def _inter(a: Span, b: Span) -> Span:
    out: Span = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _union(a: Span, b: Span) -> Span:
    out: Span = []
    for lo, hi in sorted(a + b):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _complement(a: Span, lo: int, hi: int) -> Span:
    out: Span = []
    at = lo
    for x, y in a:
        if x > at:
            out.append((at, x - 1))
        at = max(at, y + 1)
    if at <= hi:
        out.append((at, hi))
    return out


def _cmp(n: _Node, f: int, raw: Sequence[int], exact: bool, lo: int, hi: int) -> Span:
    """The changes δ of field f (local position) in [lo, hi] with which the comparison
    holds, the other fields as reported."""
    row = n.row
    assert row is not None
    rlo, rhi = row.rhs(raw, exact)  # on Σ a δ, as the MIP's rows take it
    a = next((c for g, c in zip(row.fields, row.a) if g == f), 0)
    if a == 0:
        return [(lo, hi)] if rlo <= 0 <= rhi else []
    d_lo, d_hi = lo, hi
    if rlo != -INF:
        b = int(rlo)
        if a > 0:
            d_lo = max(d_lo, -(-b // a))  # a δ ≥ b
        else:
            d_hi = min(d_hi, b // a)
    if rhi != INF:
        b = int(rhi)
        if a > 0:
            d_hi = min(d_hi, b // a)  # a δ ≤ b
        else:
            d_lo = max(d_lo, -(-b // a))
    return [(d_lo, d_hi)] if d_lo <= d_hi else []


def _truth(n: _Node, f: int, raw: Sequence[int], exact: bool, lo: int, hi: int) -> Span:
    if n.kind == "cmp":
        return _cmp(n, f, raw, exact, lo, hi)
    if n.kind == "const":
        return [(lo, hi)] if n.value else []
    if n.kind == "missing":
        return []  # no blanks in the part (the caller's condition)
    kids = [_truth(a, f, raw, exact, lo, hi) for a in n.args]
    if n.kind == "not":
        return _complement(kids[0], lo, hi)
    if n.kind == "and":
        out = kids[0]
        for k in kids[1:]:
            out = _inter(out, k)
        return out
    if n.kind == "or":
        out = []
        for k in kids:
            out = _union(out, k)
        return out
    if n.kind == "implies":
        return _union(_complement(kids[0], lo, hi), kids[1])
    raise ValueError(f"unknown node kind {n.kind}")  # pragma: no cover - linear.py makes no other


def change_set(
    models: Sequence[RuleModel],
    active: Sequence[bool],
    f: int,
    raw: Sequence[int],
    unit: int,
    kind: str,
    cap: int,
    exact: bool = False,
) -> Span:
    """Every change δ of field f (local position; others as reported) within the MIP's
    bounds — not below 0, a flag 0 or 1, at most ``cap`` up — with which every active rule
    of the part passes (``exact``: the comparisons without their rounding tolerances)."""
    v = raw[f]
    lo = -(v // unit) if v > 0 else 0
    hi = (1 - v) if kind == "flag" else cap
    out: Span = [(lo, hi)] if lo <= hi else []
    for rm, on in zip(models, active):
        if on and out:
            out = _inter(out, _truth(rm.root, f, raw, exact, lo, hi))
    return out


def fixes(
    models: Sequence[RuleModel], active: Sequence[bool], f: int, raw: Sequence[int], unit: int, kind: str, cap: int
) -> bool:
    """Whether changing field f alone lets every active rule of the part pass."""
    return bool(change_set(models, active, f, raw, unit, kind, cap))


def nearest(
    models: Sequence[RuleModel],
    active: Sequence[bool],
    f: int,
    raw: Sequence[int],
    unit: int,
    kind: str,
    cap: int,
    exact: bool,
) -> tuple[bool, int | None]:
    """When field f alone changes: (some change lets the part's rules pass, the change δ
    of least |δ|) — None for δ when there is none or when −d and +d both reach the least
    (a choice between equals, left to the solver)."""
    best: set[int] = set()
    dist = None
    spans = change_set(models, active, f, raw, unit, kind, cap, exact)
    for lo, hi in spans:
        d = 0 if lo <= 0 <= hi else lo if lo > 0 else hi  # the point of [lo, hi] nearest 0
        if dist is None or abs(d) < dist:
            best, dist = {d}, abs(d)
        elif abs(d) == dist:
            best.add(d)
    return bool(spans), (next(iter(best)) if len(best) == 1 else None)
