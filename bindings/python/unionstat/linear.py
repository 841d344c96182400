"""Rules as linear constraints, for the MIP solvers of localisation and rule-set analysis.

The core parses, checks and plans every rule; :func:`_core.rule_asts` hands its checked
tree here, with the exact denominators and tolerances the evaluator uses. A comparison
``lhs op rhs`` becomes the integer difference ``D = (lhs − rhs) × common_den`` that the
evaluator compares with its tolerance ``t`` (both in 1/common_den), as a linear form in
the fields' *real* values with exact :class:`~fractions.Fraction` coefficients. Sums,
differences, products and quotients by constants are linear; ``abs``, ``min``, ``max``,
``prev`` and ``children_sum`` are not modelled (the rule is marked so and left to the
exact evaluator). Boolean structure (``and``, ``or``, ``not``, ``if … then``,
``is_missing``, a number used as a condition) is kept as a small tree over comparisons.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import _core

__all__ = ["Bool", "Cmp", "LinearRule", "RulePlan", "connected_parts", "linear_rules", "new_highs"]

#: Comparison kinds after normalisation: D <= c ("le"), D >= c ("ge"), |D| <= t ("eq").
_CMP = {"eq", "ne", "lt", "le", "gt", "ge"}


@dataclass
class Cmp:
    """``D op 0`` within a tolerance, where ``D = Σ coef·x_f + const`` in units of
    1/common_den of the rule's sides (an integer for integer raw values).

    ``op`` is ``le`` (D <= bound), ``ge`` (D >= bound) or ``eq`` (|D| <= bound), with the
    evaluator's strictness and tolerance folded into ``bound`` (D is whole, so ``D < t``
    is ``D <= t − 1``)."""

    op: str
    coef: dict[int, Fraction]  # field index → coefficient on its real value, × common_den
    const: Fraction  # × common_den
    bound: int
    tol: int = 0  # the tolerance folded into bound (0: exact)


@dataclass
class Bool:
    """A node of a rule's boolean structure."""

    kind: str  # cmp | and | or | not | const | missing
    args: list[Bool] = field(default_factory=list)
    cmp: Cmp | None = None
    value: bool = False  # const
    field: int = -1  # missing: is_missing(field)


@dataclass
class LinearRule:
    """One compiled rule as linear structure (``tree`` None when not modelled)."""

    id: str
    severity: str
    missing: str
    origin: str
    levels: list[str]
    fields: list[int]  # fields read from the report itself
    refs: list[int]  # fields whose blanks count for the missing strategy
    tree: Bool | None
    why_not: str = ""  # why the rule is not modelled
    check: str = ""


class _NotLinear(Exception):
    pass


def _linear(nodes: list[dict[str, Any]], i: int) -> tuple[dict[int, Fraction], Fraction]:
    """A numeric node as (coefficients on fields' real values, constant)."""
    n = nodes[i]
    k = n["kind"]
    if k == "number":
        return {}, Fraction(n["raw"], 10 ** n["scale"])
    if k == "boolean":
        return {}, Fraction(n["raw"])
    if k == "field":
        if n["source"] != "current":
            raise _NotLinear(f"{n['text']} reads another report")
        return {n["field"]: Fraction(1)}, Fraction(0)
    if k in ("prev", "children_sum"):
        raise _NotLinear(f"{n['text']} reads another report")
    if k in ("abs", "min", "max", "is_missing", "range"):
        raise _NotLinear(f"{k}() is not linear")
    if k == "neg":
        c, k0 = _linear(nodes, n["args"][0])
        return {f: -v for f, v in c.items()}, -k0
    if k in ("add", "sub", "sum"):
        out: dict[int, Fraction] = {}
        const = Fraction(0)
        for j, a in enumerate(n["args"]):
            sign = -1 if (k == "sub" and j == 1) else 1
            c, k0 = _linear(nodes, a)
            for f, v in c.items():
                out[f] = out.get(f, Fraction(0)) + sign * v
            const += sign * k0
        return {f: v for f, v in out.items() if v != 0}, const
    if k in ("mul", "div"):
        (ca, ka), (cb, kb) = (_linear(nodes, a) for a in n["args"])
        if k == "div":
            if cb:
                raise _NotLinear("division by a field")
            return {f: v / kb for f, v in ca.items()}, ka / kb
        if ca and cb:
            raise _NotLinear("product of two fields")
        if cb:
            ca, ka, cb, kb = cb, kb, ca, ka
        return {f: v * kb for f, v in ca.items() if v * kb != 0}, ka * kb
    raise _NotLinear(f"{k} is not a number")


def _comparison(nodes: list[dict[str, Any]], i: int) -> Bool:
    n = nodes[i]
    a, b = n["args"]
    ca, ka = _linear(nodes, a)
    cb, kb = _linear(nodes, b)
    den = n["common_den"]
    t = int(n["tolerance"])
    coef = {f: ca.get(f, Fraction(0)) - cb.get(f, Fraction(0)) for f in set(ca) | set(cb)}
    coef = {f: v * den for f, v in coef.items() if v != 0}
    const = (ka - kb) * den
    op = n["kind"]
    # The kernel's semantics on d = x − y (integers): le d <= t; lt d < t; ge d >= −t;
    # gt d > −t; eq |d| <= t; ne |d| > t.
    if op == "le":
        return Bool("cmp", cmp=Cmp("le", coef, const, t, t))
    if op == "lt":
        return Bool("cmp", cmp=Cmp("le", coef, const, t - 1, t))
    if op == "ge":
        return Bool("cmp", cmp=Cmp("ge", coef, const, -t, t))
    if op == "gt":
        return Bool("cmp", cmp=Cmp("ge", coef, const, -t + 1, t))
    eq = Bool("cmp", cmp=Cmp("eq", coef, const, t, t))
    return eq if op == "eq" else Bool("not", [eq])


def _boolean(nodes: list[dict[str, Any]], i: int) -> Bool:
    n = nodes[i]
    k = n["kind"]
    if k in _CMP:
        return _comparison(nodes, i)
    if k == "boolean":
        return Bool("const", value=bool(n["raw"]))
    if k in ("and", "or", "implies"):
        return Bool(k, [_boolean(nodes, a) for a in n["args"]])
    if k == "not":
        return Bool("not", [_boolean(nodes, n["args"][0])])
    if k == "is_missing":
        arg = nodes[n["args"][0]]
        if arg["source"] != "current":
            raise _NotLinear(f"{n['text']} reads another report")
        return Bool("missing", field=arg["field"])
    # A number used as a condition: true when non-zero (as the evaluator reads it).
    c, k0 = _linear(nodes, i)
    den = n["den"]
    return Bool("not", [Bool("cmp", cmp=Cmp("eq", {f: v * den for f, v in c.items()}, k0 * den, 0))])


def linear_rules(schema: _core.FormSchema) -> list[LinearRule]:
    """Every compiled rule of a form as :class:`LinearRule`, in rule order."""
    out = []
    for r in _core.rule_asts(schema):
        nodes = r["nodes"]
        fields = sorted(
            {f for s, f in r["refs"] if s == "current"}
            | {n["field"] for n in nodes if n["kind"] == "field" and n["source"] == "current"}
        )
        refs = sorted({f for s, f in r["refs"] if s == "current"})
        tree: Bool | None = None
        why = ""
        if r["uses_previous"] or r["uses_children"]:
            why = "reads another report (prev or children_sum)"
        else:
            try:
                tree = _boolean(nodes, r["root"])
            except _NotLinear as exc:
                why = str(exc)
        out.append(
            LinearRule(
                r["id"],
                r["severity"],
                r["missing"],
                r["origin"],
                list(r["levels"]),
                fields,
                refs,
                tree,
                why,
                r["check"],
            )
        )
    return out


class RulePlan:
    """A form's rules as :class:`LinearRule` with what the solvers need of each field: its
    code, type, storage scale, the decimals it is reported in and how many stored units one
    reported unit is (the shared ground of localisation and rule-set analysis)."""

    def __init__(self, schema: _core.FormSchema) -> None:
        self.schema = schema
        self.rules: list[LinearRule] = linear_rules(schema)
        fs = schema.fields
        self.codes = [f.code for f in fs]
        self.kinds = [f.type for f in fs]
        self.scales = [f.scale for f in fs]
        self.decimals = [min(f.decimals, f.scale) if f.type == "money" else 0 for f in fs]
        self.unit_raw = [10 ** (s - d) for s, d in zip(self.scales, self.decimals)]


def connected_parts(
    n_fields: int, rules: list[LinearRule], link: Iterable[int], group: Iterable[int]
) -> tuple[list[tuple[list[int], list[int]]], list[int]]:
    """The fields joined by the rules ``link`` (union–find over the fields each reads), and
    the rules ``group`` sorted into those parts: ``([(fields, rules) per part, in the order
    the parts are first met], rules that read no field)``. Parts are solved apart, so a
    report's model holds only the rules that can interact."""
    parent = list(range(n_fields))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in link:
        f = rules[i].fields
        for g in f[1:]:
            parent[find(g)] = find(f[0])
    groups: dict[int, list[int]] = {}
    lone: list[int] = []
    for i in group:
        if rules[i].fields:
            groups.setdefault(find(rules[i].fields[0]), []).append(i)
        else:
            lone.append(i)
    parts = [(sorted(f for f in range(n_fields) if find(f) == root), rs) for root, rs in groups.items()]
    return parts, lone


def new_highs() -> Any:
    """A silent ``highspy.Highs``: its banner (printed on stdout when the object is made)
    is sent to /dev/null, and every later message switched off."""
    import highspy

    with _quiet_stdout():
        h = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy's constructor has no annotations
    h.setOptionValue("output_flag", False)
    # One thread: the models are tiny, and batches run one process per core instead.
    # HiGHS's scheduler is per process and keeps the thread count of its first run.
    h.setOptionValue("threads", 1)
    h.resetGlobalScheduler(True)
    # Settings measured on these models (tens of columns, solved in one node): the
    # feasibility-jump heuristic and symmetry detection cost ~6 ms a solve for nothing,
    # and presolve's probing (rule bit 15) up to 0.4 s on big-M rows with wide bounds.
    # The feasibility tolerances are set per solve (mip.run_checked).
    for name, value in (
        ("mip_heuristic_run_feasibility_jump", False),
        ("mip_detect_symmetry", False),
        ("mip_heuristic_effort", 0.0),
        ("mip_root_parallelism", False),
        ("mip_rel_gap", 0.0),
        ("mip_abs_gap", 0.0),
        ("presolve_rule_off", 1 << 15),
    ):
        h.setOptionValue(name, value)
    return h


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    fd = 1  # C's stdout, whatever Python's sys.stdout is now (pytest swaps it)
    with contextlib.suppress(AttributeError, OSError, ValueError):  # a closed stream
        sys.stdout.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        _flush_c_stdout()  # the banner may still sit in C's stdout buffer (a pipe is block-buffered)
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def _flush_c_stdout() -> None:
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # no C library to ask
        ctypes.CDLL(None).fflush(None)
