"""Rule-set analysis (as R validatetools, Banff verifyedits), solved by HiGHS.

On the space of *complete* reports (every field reported; counts whole and ≥ 0, money
≥ 0 to its reporting unit, flags 0/1) and the form's rules, linear with exact
coefficients (:mod:`unionstat.linear`):

* ``infeasible`` — rules no report can satisfy together: a minimal set, by a deletion
  filter (drop a rule; if the rest is still infeasible it was not needed);
* ``redundant`` — a rule implied by the others (no report passes the others and fails
  it: the MIP "others hold, this one fails" is infeasible), named with a minimal set of
  rules that imply it (deletion filter again); with none, the rule can never fail given
  the fields' types. An error rule is only judged against error rules (a warning may be
  broken by a valid report); a warning against every rule. Rules are taken in turn and a
  redundant one is set aside, so that two copies of one rule are not both reported;
* ``fixed`` / ``bound`` — a field every passing report must give one value, or one with
  a bound (the largest value does not grow when the solver's cap grows), with the rules
  that force it.

Each finding is about complete reports: the rules' missing strategies let a report with
blanks skip a rule, and then the others no longer imply what they would.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _core
from .linear import LinearRule, RulePlan, connected_parts, new_highs
from .localise import value_of
from .mip import Problem, RuleModel

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Finding", "RuleAnalysis", "analyse_rules"]

#: The solver's cap on a field, in its reporting units; bounds are confirmed at 10×.
CAP = 10**7


@dataclass
class Finding:
    """One finding: ``kind`` (infeasible | redundant | fixed | bound), ``rules`` (ids;
    for ``redundant`` the rule itself first, then the rules implying it), ``fields``
    (codes, for fixed and bound), ``message`` (zh) and ``message_en``."""

    kind: str
    rules: list[str]
    message: str
    message_en: str
    fields: list[str]
    value: Any = None  # fixed: the value; bound: the bound
    side: str = ""  # bound: "<=" or ">="

    def record(self) -> dict[str, Any]:
        """JSON-ready: the value as exact text."""
        return {
            "kind": self.kind,
            "rules": list(self.rules),
            "fields": list(self.fields),
            "value": None if self.value is None else str(self.value),
            "side": self.side,
            "message": self.message,
            "message_en": self.message_en,
        }


class RuleAnalysis(Sequence[Finding]):
    """The findings on one form's rules; ``unmodelled``: rules not linear (not analysed)."""

    def __init__(self, form_id: str, findings: list[Finding], unmodelled: list[str]) -> None:
        self.form_id = form_id
        self._items = findings
        self.unmodelled = unmodelled

    def __getitem__(self, i: Any) -> Any:
        return self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self._items)

    def kinds(self) -> dict[str, int]:
        """Number of findings of each kind."""
        out: dict[str, int] = {}
        for f in self._items:
            out[f.kind] = out.get(f.kind, 0) + 1
        return out

    def of(self, kind: str) -> list[Finding]:
        """The findings of one kind."""
        return [f for f in self._items if f.kind == kind]

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready record per finding (``kind``, ``rules``, ``message`` …)."""
        return [f.record() for f in self._items]

    def to_frame(self) -> pd.DataFrame:
        """One row per finding, rule ids and fields comma-separated."""
        import pandas as pd

        return pd.DataFrame(
            [{**f.record(), "rules": ",".join(f.rules), "fields": ",".join(f.fields)} for f in self._items],
            columns=["kind", "rules", "fields", "value", "side", "message", "message_en"],
        )

    def __repr__(self) -> str:
        k = ", ".join(f"{n} {kind}" for kind, n in self.kinds().items()) or "no findings"
        return f"<RuleAnalysis {self.form_id}: {k}>"


class _Part:
    """A connected part of the rules (two rules connected when they read a field in common)."""

    def __init__(self, fields: list[int], rules: list[int], an: _Analyser) -> None:
        self.fields = fields
        self.rules = rules
        local = {f: i for i, f in enumerate(fields)}
        self.unit_raw = [an.unit_raw[f] for f in fields]
        self.kinds = [an.kinds[f] for f in fields]
        scale10 = [10 ** an.scales[f] for f in fields]
        self.models = [RuleModel(an.rules[r], local, self.unit_raw, scale10) for r in rules]
        # The rule under test needs its failure modelled too (y = 0 ⇒ it fails).
        self.failing = [RuleModel(an.rules[r], local, self.unit_raw, scale10, both=True) for r in rules]
        self.reads = [{local[f] for f in an.rules[r].fields} for r in rules]
        self.an = an

    def solve(
        self, active: set[int], *, fail: int | None = None, cost: dict[int, float] | None = None, cap: int = CAP
    ) -> Any:
        n = len(self.fields)
        models = self.models if fail is None else self.models[:fail] + [self.failing[fail]] + self.models[fail + 1 :]
        prob = Problem(
            models,
            n,
            self.unit_raw,
            self.kinds,
            [0] * n,
            [False] * n,
            [j in active for j in range(len(self.rules))],
            [0.0] * n,
            cap,
        )
        bounds = {prob.roots[fail]: (0.0, 0.0)} if fail is not None else None
        c = None
        if cost:
            c = [0.0] * len(prob.lp.cost)
            for f, w in cost.items():
                c[prob.dp[f]] = w
        return prob, prob.solve(self.an.highs, cost=c, col_bounds=bounds)

    def feasible(self, active: set[int], fail: int | None = None) -> bool:
        """Whether a complete report passes the ``active`` rules (and fails rule ``fail``)."""
        return bool(self.solve(active, fail=fail)[1].status == "optimal")

    def near(self, fields: set[int], among: set[int]) -> set[int]:
        """Rules of ``among`` that read one of ``fields`` (local positions)."""
        return {k for k in among if fields & self.reads[k]}

    def minimal(self, keep: set[int], holds: Any, seed: set[int] | None = None) -> set[int]:
        """Deletion filter: a minimal subset of ``keep`` for which ``holds(subset)``,
        started from ``seed`` (the rules nearby) when that already holds."""
        out = set(seed) if seed is not None and seed <= keep and holds(seed) else set(keep)
        for j in sorted(keep, key=self.order):
            if holds(out - {j}):
                out.discard(j)
        return out

    def order(self, j: int) -> tuple[int, int, int]:
        """The order rules are tried in: warnings first, then written, part_of, group rules."""
        r = self.an.rules[self.rules[j]]
        return (0 if r.severity == "warning" else 1, {"rule": 0, "part_of": 1, "group": 2}.get(r.origin, 0), j)

    def extreme(self, f: int, active: set[int], sign: float, cap: int = CAP) -> int | None:
        """The least (sign 1) or largest (sign −1) value of field f, in units."""
        prob, s = self.solve(active, cost={f: sign}, cap=cap)
        if s.status != "optimal":
            return None
        units: int = round(s.values[prob.dp[f]])  # HiGHS' values are floats: round gives an int
        return units


class _Analyser(RulePlan):
    """A form's rules planned for analysis, and one HiGHS object to solve with."""

    def __init__(self, schema: _core.FormSchema) -> None:
        super().__init__(schema)
        self.highs = new_highs()

    def parts(self) -> list[_Part]:
        """The connected parts of the modelled rules (rules that read no field: one more)."""
        modelled = [i for i, r in enumerate(self.rules) if r.tree is not None]
        parts, lone = connected_parts(len(self.codes), self.rules, modelled, modelled)
        out = [_Part(fields, rules, self) for fields, rules in parts]
        if lone:
            out.append(_Part([], lone, self))
        return out

    def value(self, f: int, units: int) -> Any:
        """A value in the field's reporting units as the user's value (int or Decimal)."""
        return value_of(self.kinds[f], self.scales[f], self.decimals[f], units * self.unit_raw[f])


def analyse_rules(schema: _core.FormSchema) -> RuleAnalysis:
    """Analyses a form's rules (see the module's docstring)."""
    an = _Analyser(schema)
    findings: list[Finding] = []
    for part in an.parts():
        findings += _analyse_part(an, part)
    order = {"infeasible": 0, "redundant": 1, "fixed": 2, "bound": 3}
    findings.sort(key=lambda f: order[f.kind])
    return RuleAnalysis(schema.id, findings, [r.id for r in an.rules if r.tree is None])


def _about_blanks(rule: LinearRule) -> bool:
    def walk(b: Any) -> bool:
        return b.kind == "missing" or any(walk(a) for a in b.args)

    return rule.tree is not None and walk(rule.tree)


def _ids(an: _Analyser, part: _Part, js: Any) -> list[str]:
    return [an.rules[part.rules[j]].id for j in sorted(js, key=part.order)]


def _analyse_part(an: _Analyser, part: _Part) -> list[Finding]:
    everything = set(range(len(part.rules)))
    if not part.feasible(everything):
        core = part.minimal(everything, lambda s: not part.feasible(s))
        ids = _ids(an, part, core)
        return [
            Finding(
                "infeasible",
                ids,
                f"规则{'、'.join(ids)}互相矛盾：没有任何报表能同时满足",
                f"no report can satisfy {', '.join(ids)} together",
                [],
            )
        ]
    out: list[Finding] = []
    kept = set(everything)
    for j in sorted(everything, key=part.order):
        rule = an.rules[part.rules[j]]
        if _about_blanks(rule):
            continue  # is_missing(): about blanks, which complete reports do not have
        judges = {k for k in kept - {j} if rule.severity == "warning" or an.rules[part.rules[k]].severity == "error"}
        if part.feasible(judges, fail=j):
            continue
        why = part.minimal(judges, lambda s, j=j: not part.feasible(s, fail=j), part.near(part.reads[j], judges))
        kept.discard(j)
        ids = _ids(an, part, why)
        if ids:
            zh = f"规则{rule.id}由{'、'.join(ids)}蕴含（对完整报表）：满足后者的报表必然满足它"
            en = f"{rule.id} is implied by {', '.join(ids)} (for complete reports): a report passing those passes it"
        else:
            zh = f"规则{rule.id}在字段类型下永远成立（数量非负、金额非负、是否为0/1），不会触发"
            en = f"{rule.id} can never fail given the fields' types (counts and money ≥ 0, flags 0/1)"
        out.append(Finding("redundant", [rule.id] + ids, zh, en, []))
    # Fixed values and bounds: over every rule (a report passing all of them).
    for f, g in enumerate(part.fields):
        code = an.codes[g]
        hi = part.extreme(f, everything, -1.0)
        lo = part.extreme(f, everything, 1.0)
        if hi is None or lo is None:
            continue
        top = CAP if an.kinds[g] != "flag" else 1
        bounded = hi < top and part.extreme(f, everything, -1.0, cap=10 * CAP) == hi
        if bounded and lo == hi:
            why = part.minimal(
                everything,
                lambda s, f=f, hi=hi, lo=lo: part.extreme(f, s, -1.0) == hi and part.extreme(f, s, 1.0) == lo,
                part.near({f}, everything),
            )
            ids = _ids(an, part, why)
            v = an.value(g, hi)
            out.append(
                Finding(
                    "fixed",
                    ids,
                    f"字段{code}在满足规则{'、'.join(ids)}的报表中只能为{v}",
                    f"{code} can only be {v} in a report passing {', '.join(ids)}",
                    [code],
                    v,
                    "==",
                )
            )
            continue
        if bounded and an.kinds[g] != "flag":
            why = part.minimal(
                everything, lambda s, f=f, hi=hi: part.extreme(f, s, -1.0) == hi, part.near({f}, everything)
            )
            ids = _ids(an, part, why)
            v = an.value(g, hi)
            out.append(
                Finding(
                    "bound",
                    ids,
                    f"规则{'、'.join(ids)}使字段{code}不能超过{v}",
                    f"{', '.join(ids)} bound {code} to at most {v}",
                    [code],
                    v,
                    "<=",
                )
            )
        if lo > 0:
            why = part.minimal(
                everything, lambda s, f=f, lo=lo: part.extreme(f, s, 1.0) == lo, part.near({f}, everything)
            )
            ids = _ids(an, part, why)
            v = an.value(g, lo)
            out.append(
                Finding(
                    "bound",
                    ids,
                    f"规则{'、'.join(ids)}使字段{code}不能小于{v}",
                    f"{', '.join(ids)} bound {code} to at least {v}",
                    [code],
                    v,
                    ">=",
                )
            )
    return out
