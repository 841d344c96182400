"""Error localisation (Fellegi–Holt): for a report that breaks error-severity rules, the
set of fields of least total weight whose change lets every error rule pass, every other
field kept as reported, with values for them — found by HiGHS, a real MIP solver.

How (see docs/localisation.md):

* the rules come from the core's checked trees (:func:`_core.rule_asts`), linear with
  exact coefficients (:mod:`unionstat.linear`), planned once per form;
* the error rules split the fields into connected parts (two fields are connected when a
  rule reads both); a report's model holds only the parts its failing rules touch —
  fields elsewhere keep their values and their rules keep passing, so this is exact;
* per part, up to three HiGHS solves on one reused ``Highs`` object: (1) minimise
  Σ w_f z_f; (2) the same with a no-good cut excluding the set found — an optimum of
  equal weight means other minimal sets exist (``ties``); (3) with the set fixed,
  minimise the total change Σ |δ_f| — the value nearest the report, which is the
  deductive one wherever the rules determine it (a total that must equal its parts);
  (2) and (3) are answered without HiGHS when the set is one field of a part without
  blanks and the answer is determined (:mod:`unionstat.deduce`);
* every suggestion is checked by the core's validator before it is returned
  (``verified``); money stays exact (integers in the field's reporting unit, Decimal out).

Batches: only failing rows are solved, in chunks on a process pool (both cores).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import _core
from .deduce import fixes, nearest
from .errors import InputError, UnknownNameError
from .linear import RulePlan, connected_parts, new_highs
from .mip import Problem, RuleModel
from .progress import Progress

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Localisation",
    "Localisations",
    "Localiser",
    "Solution",
    "failing_rules",
    "localise_batch",
    "localise_report",
    "value_of",
]

#: Below this many failing reports a batch is solved in this process (a pool's start-up
#: costs about a second).
POOL_MIN = 400
#: Reports per chunk sent to a worker.
CHUNK = 250


def value_of(kind: str, scale: int, decimals: int, raw: int) -> Any:
    """A raw stored value as the user's value: int for counts and flags, exact Decimal
    (to the field's decimals when that is exact) for money."""
    if kind != "money":
        return int(raw)
    # The core's one rule (as Report.get, frames and roll-up totals give money).
    return _core.exact_values([raw], [scale], [decimals], [True])[0]


@dataclass
class Localisation:
    """The localisation of one report.

    ``fields``: codes to change (least total weight); ``values``: code → suggested value
    (int or exact Decimal); ``reported``: code → the value as reported (None for a blank);
    ``weight``: the set's total weight; ``ties``: other sets of the same weight exist
    (``alternative`` is one); ``rules``: the error rules the report broke; ``status``:
    ``ok``, ``infeasible`` (no change of the modelled fields satisfies the rules),
    ``unmodelled`` (a broken rule is not linear — ``why`` says which); ``verified``: the
    core's validator passes every error rule on the report with the suggested values."""

    unit: str
    period: str
    row: int
    fields: list[str]
    values: dict[str, Any]
    reported: dict[str, Any]
    weight: float
    ties: bool
    alternative: list[str]
    rules: list[str]
    status: str = "ok"
    verified: bool = False
    why: str = ""

    def record(self) -> dict[str, Any]:
        """JSON-ready: values as exact text."""
        return {
            "unit": self.unit,
            "period": self.period,
            "row": self.row,
            "fields": list(self.fields),
            "values": {k: str(v) for k, v in self.values.items()},
            "reported": {k: (None if v is None else str(v)) for k, v in self.reported.items()},
            "weight": self.weight,
            "ties": self.ties,
            "alternative": list(self.alternative),
            "rules": list(self.rules),
            "status": self.status,
            "verified": self.verified,
        }

    def __repr__(self) -> str:
        change = ", ".join(f"{c}: {self.reported.get(c)} → {self.values[c]}" for c in self.fields)
        tie = " (other minimal sets exist)" if self.ties else ""
        return f"<Localisation {self.unit} {self.period}: {self.status}, weight {self.weight:g}: {change}{tie}>"


class Localisations(Sequence[Localisation]):
    """Localisations of a batch's failing reports, in row order."""

    def __init__(self, items: list[Localisation], reports: int) -> None:
        self._items = items
        self.reports = reports  #: reports looked at (failing or not)

    def __getitem__(self, i: Any) -> Any:
        return self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Localisation]:
        return iter(self._items)

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready record per failing report (``unit``, ``period``, ``fields``,
        ``values`` as exact text, …)."""
        return [x.record() for x in self._items]

    def to_frame(self) -> pd.DataFrame:
        """One row per suggested change: unit, period, row, field, reported, suggested,
        weight (of the report's set), ties, status, verified. A report with no
        suggestion (infeasible, unmodelled) has one row with the field empty."""
        import pandas as pd

        rows = []
        for x in self._items:
            base = {"unit": x.unit, "period": x.period, "row": x.row}
            tail = {"weight": x.weight, "ties": x.ties, "status": x.status, "verified": x.verified}
            if not x.fields:
                rows.append({**base, "field": None, "reported": None, "suggested": None, **tail})
            for c in x.fields:
                rows.append({**base, "field": c, "reported": x.reported.get(c), "suggested": x.values[c], **tail})
        return pd.DataFrame(
            rows,
            columns=["unit", "period", "row", "field", "reported", "suggested", "weight", "ties", "status", "verified"],
        )

    def __repr__(self) -> str:
        ties = sum(x.ties for x in self._items)
        return f"<Localisations: {len(self._items):,} failing of {self.reports:,} reports, {ties:,} with ties>"


class Solution(NamedTuple):
    """One report's localisation in raw terms (field indices, raw values), as
    :meth:`Localiser.solve` finds it."""

    status: str  #: ok | infeasible | unmodelled
    changed: list[int]  #: fields to change (indices), sorted
    values: dict[int, int]  #: field → suggested raw value
    weight: float
    ties: bool
    alternative: list[int]  #: another set of the same weight (when ties)
    why: str = ""  #: for infeasible and unmodelled: why


class _Part:
    """A connected part of a form's error rules, planned once."""

    def __init__(self, fields: list[int], rules: list[int], loc: Localiser) -> None:
        self.fields = fields
        self.rules = rules
        local = {f: i for i, f in enumerate(fields)}
        self.unit_raw = [loc.unit_raw[f] for f in fields]
        scale10 = [loc.scale10[f] for f in fields]
        self.kinds = [loc.kinds[f] for f in fields]
        self.models = [RuleModel(loc.rules[r], local, self.unit_raw, scale10) for r in rules]
        factor = 1
        for m in self.models:
            for row in m.comparisons():
                a = [abs(x) for x in row.a if x]
                if a:
                    factor = max(factor, -(-max(a) // min(a)))
        self.factor = factor


class Localiser(RulePlan):
    """A form's rules planned for localisation, and a HiGHS object to solve with (one
    per process: building a ``Highs`` costs more than a small solve)."""

    def __init__(self, schema: _core.FormSchema) -> None:
        super().__init__(schema)
        self.scale10 = [10**s for s in self.scales]
        self.error_rules = [i for i, r in enumerate(self.rules) if r.severity == "error"]
        # Connected parts of the error rules: fields joined by every error rule, the
        # modelled ones solved part by part.
        parts, _lone = connected_parts(
            len(self.codes),
            self.rules,
            self.error_rules,
            [i for i in self.error_rules if self.rules[i].tree is not None],
        )
        self.part_of_rule: dict[int, int] = {}
        self._part_rules = [rules for _fields, rules in parts]
        self._part_fields = [fields for fields, _rules in parts]
        for k, rules in enumerate(self._part_rules):
            for i in rules:
                self.part_of_rule[i] = k
        self._parts: dict[int, _Part] = {}
        self._highs: Any = None
        #: Answer the second and third solves deductively where they are determined
        #: (:mod:`unionstat.deduce`); False: every answer from HiGHS (the reference the
        #: tests compare with).
        self.deduce = True

    @property
    def highs(self) -> Any:
        """The HiGHS solver this localiser reuses for every report (made on first use)."""
        if self._highs is None:
            self._highs = new_highs()
        return self._highs

    def part(self, k: int) -> _Part:
        """Connected part ``k`` of the error rules (its fields and rules), modelled on first use."""
        if k not in self._parts:
            self._parts[k] = _Part(self._part_fields[k], self._part_rules[k], self)
        return self._parts[k]

    def totals(self) -> list[int]:
        """The fields that are a total: of a ``part_of`` field or of a group."""
        out = {self.schema.index(f.part_of) for f in self.schema.fields if f.part_of}
        out |= {self.schema.index(g["total"]) for g in self.schema.groups}
        return sorted(out)

    def weights(self, weights: Mapping[str, float] | None, totals: float | None = None) -> list[float]:
        """Per-field weights: a field named in ``weights`` (codes or concept keys) weighs
        what it says; else a total (:meth:`totals`) weighs ``totals`` when that is given
        (a factor above 1: totals more reliable than their parts); else the form's own
        ``weight`` for the field (1 unless the schema declares one)."""
        if totals is not None and not (isinstance(totals, (int, float)) and 0 < totals < float("inf")):
            raise InputError(f"totals: the weight of totals is {totals!r}; it must be a positive number")
        out = [float(f.weight) for f in self.schema.fields]
        if totals is not None:
            for i in self.totals():
                out[i] = float(totals)
        for name, w in (weights or {}).items():
            try:
                i = self.schema.index(name)
            except (KeyError, IndexError, ValueError) as exc:
                raise UnknownNameError(f"weights: form {self.schema.id} has no field '{name}'") from exc
            try:
                weight = float(w)
            except (TypeError, ValueError):
                weight = float("nan")
            if not 0 < weight < float("inf"):
                raise InputError(
                    f"weights: field {self.codes[i]} has weight {w!r}; weights must be positive numbers",
                    field=self.codes[i],
                )
            out[i] = weight
        return out

    def solve(
        self,
        raw: Sequence[int],
        blank: Sequence[bool],
        failing: Sequence[int],
        weights: Sequence[float],
        level: str | None = None,
        targets: Mapping[int, int] | None = None,
    ) -> Solution:
        """The :class:`Solution` for one report's raw values (0 for blanks) and failing
        rule indices. ``targets``: field →
        raw value it must take (the other fields as in Fellegi–Holt)."""
        unmodelled = [self.rules[i] for i in failing if self.rules[i].tree is None]
        if unmodelled:
            r = unmodelled[0]
            return Solution("unmodelled", [], {}, 0.0, False, [], f"{r.id}: {r.why_not}")
        targets = dict(targets or {})
        parts = sorted(
            {self.part_of_rule[i] for i in failing if i in self.part_of_rule}
            | {k for k, fs in enumerate(self._part_fields) if targets.keys() & set(fs)}
        )
        free = [f for f in targets if not any(f in self._part_fields[k] for k in parts)]
        changed: list[int] = []
        values: dict[int, int] = {}
        weight = 0.0
        ties = False
        alternative: list[int] = []
        for f in free:  # a target on a field no error rule reads: a change of its own
            if targets[f] != raw[f] or blank[f]:
                changed.append(f)
                values[f] = targets[f]
                weight += weights[f]
        for k in parts:
            st, ch, vals, w, t, alt = self._solve_part(self.part(k), raw, blank, weights, level, targets)
            if st != "optimal":
                codes = ", ".join(self.codes[f] for f in self.part(k).fields)
                return Solution(
                    "infeasible", [], {}, 0.0, False, [], f"no change of fields {codes} satisfies their rules"
                )
            changed += ch
            values.update(vals)
            weight += w
            ties |= t
            alternative += alt if t else ch
        return Solution("ok", sorted(changed), values, weight, ties, sorted(alternative) if ties else [])

    def _solve_part(
        self,
        part: _Part,
        raw: Sequence[int],
        blank: Sequence[bool],
        weights: Sequence[float],
        level: str | None,
        targets: Mapping[int, int] | None = None,
    ) -> tuple[str, list[int], dict[int, int], float, bool, list[int]]:
        fields = part.fields
        tl: dict[int, int] | None = None
        if targets:
            tl = {}
            for i, f in enumerate(fields):
                if f in targets:
                    step, rest = divmod(int(targets[f]) - int(raw[f]), part.unit_raw[i])
                    if rest:
                        return "infeasible", [], {}, 0.0, False, []
                    tl[i] = step
        lraw = [int(raw[f]) for f in fields]
        lblank = [bool(blank[f]) for f in fields]
        lw = [weights[f] for f in fields]
        # As the evaluator: a rule restricted to levels applies only at a known level among them.
        active = [not self.rules[r].levels or (level is not None and level in self.rules[r].levels) for r in part.rules]
        biggest = max([abs(v) // u for v, u in zip(lraw, part.unit_raw)] + [abs(d) for d in (tl or {}).values()] + [1])
        cap = 10 * (biggest + 1) * part.factor
        h = self.highs
        for _ in range(2):
            prob = Problem(
                part.models, len(fields), part.unit_raw, part.kinds, lraw, lblank, active, lw, cap, targets=tl
            )
            first = prob.solve(h)
            if first.status == "optimal":
                break
            cap *= 1000
        else:
            return first.status, [], {}, 0.0, False, []
        chosen = prob.changed(first.values)
        w = sum(lw[f] for f in chosen)
        # One field changed in a part without blanks: the second and third solves'
        # answers follow from the changes each field alone can take (unionstat.deduce),
        # wherever they are not a choice between equals.
        plain = self.deduce and len(chosen) == 1 and tl is None and not any(lblank)
        tied = self._ties_deduced(part, chosen[0], lraw, lw, active, cap) if plain else None
        if tied is not None:
            ties, alt = tied
        else:
            # (2) another set of the same weight? A no-good cut excludes this one.
            cut = ([prob.z[f] for f in chosen], [1.0] * len(chosen), -float("inf"), float(len(chosen) - 1))
            other = prob.solve(h, extra_rows=[cut]) if chosen else None
            ties = other is not None and other.status == "optimal" and other.objective <= w + 1e-9 * max(1.0, w)
            alt = prob.changed(other.values) if ties and other is not None else []
        step = self._nearest_deduced(part, chosen[0], lraw, active, cap) if plain else None
        if step is not None:
            f = chosen[0]
            return (
                "optimal",
                [fields[f]],
                {fields[f]: lraw[f] + step * part.unit_raw[f]},
                w,
                ties,
                [fields[g] for g in alt],
            )
        # (3) the set fixed: the values nearest the report — satisfying the rules exactly
        # (a total equal to its parts to the 分) when that is possible, else within the
        # rules' rounding tolerances.
        keep = [f not in chosen for f in range(len(fields))]
        x = None
        for exact in (True, False):
            near = Problem(
                part.models,
                len(fields),
                part.unit_raw,
                part.kinds,
                lraw,
                lblank,
                active,
                [0.0] * len(fields),
                cap,
                fixed=keep,
                exact=exact,
                targets=tl,
            )
            cost = [0.0] * len(near.lp.cost)
            for f in chosen:
                cost[near.dp[f]] = cost[near.dm[f]] = 1.0
            bounds = {near.z[f]: (1.0, 1.0) for f in chosen}
            solved = near.solve(h, cost=cost, col_bounds=bounds)
            if solved.status == "optimal":
                x, prob = solved.values, near
                break
        if x is None:
            x = first.values
        d = prob.deltas(x)
        vals = {fields[f]: lraw[f] + d[f] * part.unit_raw[f] for f in chosen}
        return "optimal", [fields[f] for f in chosen], vals, w, ties, [fields[f] for f in alt]

    @staticmethod
    def _ties_deduced(
        part: _Part,
        f: int,
        lraw: list[int],
        lw: list[float],
        active: list[bool],
        cap: int,
    ) -> tuple[bool, list[int]] | None:
        """The second solve's answer when field f alone is the least set: (ties, the
        other set) — None when a set of two or more could weigh as little, or when more
        than one other field could be the answer (HiGHS picks then, as before)."""
        w = lw[f]
        limit = w + 1e-9 * max(1.0, w)  # the tie test of the solve it replaces
        others = [g for g in range(len(lw)) if g != f]
        if len(others) >= 2 and sum(sorted(lw[g] for g in others)[:2]) <= limit:
            return None
        tied = [
            g
            for g in others
            if lw[g] <= limit and fixes(part.models, active, g, lraw, part.unit_raw[g], part.kinds[g], cap)
        ]
        if len(tied) > 1 or any(lw[g] < w for g in tied):
            return None  # a choice between equals (or a lighter set than the solver's: ask it again)
        return bool(tied), tied

    @staticmethod
    def _nearest_deduced(part: _Part, f: int, lraw: list[int], active: list[bool], cap: int) -> int | None:
        """The third solve's change of field f (least |δ|, the rules exactly first, then
        within their tolerances); None when it is a choice between equals or there is
        none (HiGHS answers then, as before)."""
        for exact in (True, False):
            some, step = nearest(part.models, active, f, lraw, part.unit_raw[f], part.kinds[f], cap, exact)
            if some:
                return step
        return None


# ---------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------

_WORKER: dict[tuple[str, str], Localiser] = {}
#: Statuses of the core's violation records that count as not passing: fail and error
#: (a rule that could not be evaluated, e.g. on overflow) — not skip.
_NOT_PASSING = (1, 3)


def _localiser_for(ref: tuple[str, str]) -> Localiser:
    if ref not in _WORKER:
        kind, name = ref
        if kind == "file":
            schema = _core.load_form(name)
        else:
            schema = _core.SchemaRegistry(kind).get(name)
        _WORKER[ref] = Localiser(schema)
    return _WORKER[ref]


@dataclass
class _Chunk:
    rows: list[int]
    raw: np.ndarray  # (n, fields) int64
    blank: np.ndarray  # (n, fields) bool
    failing: list[list[int]]
    weights: list[list[float]]
    levels: list[str | None]
    units: list[str]
    periods: list[str]


def _solve_chunk(loc: Localiser, chunk: _Chunk) -> list[tuple[Solution, bool]]:
    """Solves a chunk's reports and checks every suggestion with the core's validator:
    (solution, every error rule passes with it) per report."""
    out = []
    for j in range(len(chunk.rows)):
        out.append(
            loc.solve(
                chunk.raw[j].tolist(), chunk.blank[j].tolist(), chunk.failing[j], chunk.weights[j], chunk.levels[j]
            )
        )
    # The suggestions as a batch, validated by the core: rows whose error rules now all pass.
    raw = chunk.raw.copy()
    blank = chunk.blank.copy()
    for j, sol in enumerate(out):
        for f, v in sol.values.items():
            raw[j, f] = v
            blank[j, f] = False
    batch = _core.ReportBatch(loc.schema)
    batch.set_keys(chunk.units, chunk.periods)
    for f, code in enumerate(loc.codes):
        col = np.ascontiguousarray(raw[:, f])
        mask = np.ascontiguousarray(blank[:, f])
        batch.set_column_raw(code, col, mask if mask.any() else None)
    levels = [lv or "" for lv in chunk.levels]
    res = _core.validate_batch(batch, levels=levels if any(levels) else [], threads=1)
    arr = res.arrays()
    err = set(loc.error_rules)
    bad = {
        r
        for r, rule, st in zip(arr["row"].tolist(), arr["rule"].tolist(), arr["status"].tolist())
        if st in _NOT_PASSING and rule in err
    }
    return [(sol, j not in bad and sol.status == "ok") for j, sol in enumerate(out)]


def _worker_chunk(ref: tuple[str, str], chunk: _Chunk) -> list[tuple[Solution, bool]]:
    return _solve_chunk(_localiser_for(ref), chunk)


def failing_rules(
    loc: Localiser, batch: _core.ReportBatch, levels: Sequence[str] | None = None
) -> dict[int, list[int]]:
    """Row → indices of the error rules it fails (or cannot evaluate), by the core."""
    res = _core.validate_batch(batch, levels=list(levels) if levels else [], threads=0)
    arr = res.arrays()
    err = set(loc.error_rules)
    failing: dict[int, list[int]] = {}
    for r, rule, st in zip(arr["row"].tolist(), arr["rule"].tolist(), arr["status"].tolist()):
        if st in _NOT_PASSING and rule in err:
            failing.setdefault(r, []).append(rule)
    return failing


def _chunks(idx: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(idx), size):
        yield idx[i : i + size]


def _workers(workers: int | None) -> int:
    """The processes to use: the cores this process may use by default."""
    if workers is None:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            return os.cpu_count() or 1
    if workers < 1:
        raise InputError(f"workers: {workers} processes; give 1 or more")
    return workers


def _factors(
    scale: Mapping[str, float] | Sequence[float] | None,
    rows: list[int],
    units: list[str],
    numbers: Any,
    n: int,
    levels: Sequence[str] | None = None,
    level_scale: Mapping[str, float] | None = None,
) -> list[float]:
    """Each failing row's factor on its weights: ``scale`` per unit or per row when the
    caller gives it, else ``level_scale`` by the row's level (the form's ``localisation:
    level_scale`` unless the caller gives one), else 1."""
    if scale is None:
        if not level_scale or levels is None:
            return [1.0] * len(rows)
        for name, x in level_scale.items():
            if not (isinstance(x, (int, float)) and 0 < x < float("inf")):
                raise InputError(f"level_scale: the factor of level {name} is {x!r}; factors must be positive numbers")
        return [float(level_scale.get(levels[r], 1.0)) for r in rows]
    if not isinstance(scale, Mapping) and len(scale) != n:
        raise InputError(f"scale: {len(scale)} factors for {n} reports; give one per report or a mapping unit → factor")
    out = []
    for r in rows:
        x = scale.get(units[r], 1.0) if isinstance(scale, Mapping) else scale[r]
        try:
            v = float(x)
        except (TypeError, ValueError):
            v = float("nan")
        if not 0 < v < float("inf"):
            raise InputError(
                f"scale: the factor of unit {units[r]} is {x!r}; factors must be positive numbers",
                row=int(numbers[r]),
                unit=units[r],
            )
        out.append(v)
    return out


def _run(
    loc: Localiser,
    chunks: list[_Chunk],
    workers: int,
    ref: tuple[str, str] | None,
    bar: Progress,
) -> list[list[tuple[Any, ...]]]:
    """Each chunk's solutions (with the validator's verdict), on a process pool when it
    pays and a worker can load the form again (``ref``), else in this process."""
    out: list[list[tuple[Any, ...]]] = [[] for _ in chunks]
    total = sum(len(c.rows) for c in chunks)
    done = 0
    if workers > 1 and total >= POOL_MIN and ref is not None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_worker_chunk, ref, c): k for k, c in enumerate(chunks)}
            for fut in as_completed(futures):
                k = futures[fut]
                out[k] = fut.result()
                done += len(chunks[k].rows)
                bar.note(f"localising: {done:,} of {total:,} failing reports")
        return out
    for k, c in enumerate(chunks):
        out[k] = _solve_chunk(loc, c)
        done += len(c.rows)
        bar.note(f"localising: {done:,} of {total:,} failing reports")
    return out


def localise_batch(
    schema: _core.FormSchema,
    batch: _core.ReportBatch,
    *,
    weights: Mapping[str, float] | None = None,
    totals: float | None = None,
    scale: Mapping[str, float] | Sequence[float] | None = None,
    levels: Sequence[str] | None = None,
    level_scale: Mapping[str, float] | None = None,
    progress: bool | Progress = False,
    workers: int | None = None,
    ref: tuple[str, str] | None = None,
    localiser: Localiser | None = None,
) -> Localisations:
    """Localises every report of a batch that fails an error rule (see the module doc).

    ``weights``: code or key → weight (else ``totals`` for a field that is a total of
    ``part_of`` fields or of a group, when given; else the form's ``weight`` for the
    field, 1 unless declared); ``scale``: per unit (mapping) or per row (sequence), a
    factor on that report's weights (consolidated 汇总 reports more reliable: a larger
    factor); ``levels``: each row's level, for rules restricted to levels and for
    ``level_scale`` — level → factor, used when ``scale`` is not given (default: the
    form's ``localisation: level_scale``); ``workers``: processes (default: the cores
    this process may use; 1 solves here); ``ref``: how a worker loads the form —
    ``(schema_dir, form_id)`` or ``("file", path)``."""
    loc = localiser or Localiser(schema)
    n = len(batch)
    if levels is not None and len(levels) != n:
        raise InputError(f"levels: {len(levels)} levels for {n} reports")
    workers = _workers(workers)
    base = loc.weights(weights, totals)
    failing = failing_rules(loc, batch, levels)
    rows = sorted(failing)
    units, periods, numbers = batch.units, batch.periods, batch.row_numbers
    factors = _factors(
        scale, rows, units, numbers, n, levels, dict(schema.level_scale) if level_scale is None else level_scale
    )
    raw = np.zeros((len(rows), len(loc.codes)), dtype=np.int64)
    blank = np.zeros((len(rows), len(loc.codes)), dtype=bool)
    if rows:
        sel = np.asarray(rows, dtype=np.int64)
        for f, code in enumerate(loc.codes):
            v, m = batch.raw_column(code)
            raw[:, f], blank[:, f] = v[sel], m[sel]
    groups = list(_chunks(list(range(len(rows))), CHUNK))
    chunks = [
        _Chunk(
            [rows[i] for i in ix],
            raw[ix],
            blank[ix],
            [failing[rows[i]] for i in ix],
            [[w * factors[i] for w in base] for i in ix],
            [levels[rows[i]] if levels else None for i in ix],
            [units[rows[i]] for i in ix],
            [periods[rows[i]] for i in ix],
        )
        for ix in groups
    ]
    bar = progress if isinstance(progress, Progress) else Progress(1, enabled=bool(progress))
    bar.step(f"localising {len(rows):,} failing of {n:,} reports")
    solved = _run(loc, chunks, workers, ref, bar)
    if not isinstance(progress, Progress):
        bar.close()
    items = []
    for ix, results in zip(groups, solved):
        for i, (sol, ok) in zip(ix, results):
            items.append(
                _localisation(
                    loc,
                    sol,
                    ok,
                    raw[i],
                    blank[i],
                    units[rows[i]],
                    periods[rows[i]],
                    int(numbers[rows[i]]),
                    failing[rows[i]],
                )
            )
    return Localisations(items, n)


def _localisation(
    loc: Localiser,
    sol: Solution,
    ok: bool,
    raw: np.ndarray,
    blank: np.ndarray,
    unit: str,
    period: str,
    row: int,
    failing: list[int],
) -> Localisation:
    """The user's view of one report's solution: codes and exact values."""

    def value(f: int, v: int) -> Any:
        return value_of(loc.kinds[f], loc.scales[f], loc.decimals[f], int(v))

    return Localisation(
        unit=unit,
        period=period,
        row=row,
        fields=[loc.codes[f] for f in sol.changed],
        values={loc.codes[f]: value(f, sol.values[f]) for f in sol.changed},
        reported={loc.codes[f]: (None if blank[f] else value(f, raw[f])) for f in sol.changed},
        weight=sol.weight,
        ties=sol.ties,
        alternative=[loc.codes[f] for f in sol.alternative],
        rules=[loc.rules[k].id for k in failing],
        status=sol.status,
        verified=bool(ok),
        why=sol.why,
    )


def localise_report(
    loc: Localiser,
    report: _core.Report,
    *,
    weights: Mapping[str, float] | None = None,
    totals: float | None = None,
    level: str | None = None,
    level_scale: Mapping[str, float] | None = None,
) -> Localisation | None:
    """One report's localisation; None when it breaks no error rule."""
    batch = _core.ReportBatch(loc.schema)
    batch.append(report)
    out = localise_batch(
        loc.schema,
        batch,
        weights=weights,
        totals=totals,
        levels=[level] if level else None,
        level_scale=level_scale,
        workers=1,
        localiser=loc,
    )
    return out[0] if len(out) else None
