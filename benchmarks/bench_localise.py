"""Benchmark: error localisation (Fellegi–Holt) of failing songnuan-2018 reports with
unionstat (HiGHS through ``highspy``) vs what a user would write instead: one MIP per
record over the whole rule set with ``scipy.optimize.milp`` (HiGHS too), as R's
errorlocate does with its solver.

Data: ``unionstat.sample.grassroots_columns`` — grassroots reports that pass every error
rule — with one or two mistakes planted in *every* report (so that all of them fail),
drawn from the kinds of slip a statistician meets (a part above its total, a total off
its parts, a 万元 total off its sources by more than the rounding, heating money with no
households, 元 typed into a 万元 source of funds, a digit dropped from a total, two unrelated
slips in one report). Written once as raw columns (``.npz``) into ``--data``.

Contenders, each a whole process started from a small spawner (``bench_io.Spawner``:
wall time, the peak RSS of the largest process of the tree, CPU seconds of the tree),
run interleaved round after round; the timed part is measured inside the child too
(start-up, imports and loading the data excluded):

* ``unionstat``    ``form.localise(batch, workers=W, progress=True)`` on all N reports:
                   the core's validator finds the failing rows and rules, the rows are
                   solved in chunks on a process pool of W workers (default: both cores),
                   three HiGHS solves per connected part of the broken rules (least
                   weight; another set of that weight — ties; the values nearest the
                   report), and every suggestion checked again by the core's validator.
* ``unionstat-1``  the same, one process (``workers=1``), on the first M reports, with
                   each report's solve timed on its own (the per-report median).
* ``scipy-milp``   per report, the whole error rule set as one MIP built from scratch
                   (changed-indicator and value per field, a binary per rule node, big-M
                   rows from the fields' bounds) and solved by ``scipy.optimize.milp``,
                   on the first M reports. It finds the least weight only — no ties, no
                   nearest values, no verification: a lower bound of the work.

The baseline's rows are whole numbers (the row in the fields' units, times the lcm of
its denominators, over the gcd of its coefficients, bounds rounded inwards) and HiGHS's
presolve is off: with it on, on these big-M rows, scipy's HiGHS returned sets heavier than
the least (weight 3 where one field suffices: a 05A of 10⁴ 万元 drove 07I and 07J to 0).

The least weights of unionstat and the baseline are compared on the M common reports
(printed: a disagreement is a bug in one of them). Target: unionstat's batch at most
5 ms per failing report (batch wall time / N, median of the rounds). The CPU seconds of
the timed part (the process and its pool) are printed too: on a machine shared with other
work the wall time measures the others' load, CPU / workers what the cores would take.

Not a timed test: ``python benchmarks/bench_localise.py [--reports 10000] [--sample 200]
[--rounds 2] [--workers 2] [--data DIR] [--json out.json]``; ``--quick``: 2,000 reports,
100 for the per-report contenders, 2 rounds. Needs scipy (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_io import MB, Spawner  # noqa: E402

FORM_ID = "songnuan-2018"
SEED = 2018
GEN_VERSION = 2
TARGET_MS = 5.0
CENT = 10**4  # raw units (1e-6 万元) in 0.01 万元
_DEBUG = bool(os.environ.get("BENCH_LOCALISE_DEBUG"))  # print the baseline's changes

# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------


def _plant(rng: np.random.Generator, c: dict[str, np.ndarray], blank: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Plants one or two mistakes in every row (counts as counted, money in 0.01 万元);
    returns the kind of each row's mistake."""
    kinds = rng.integers(0, 7, n)

    def rows(k: int) -> np.ndarray:
        return np.flatnonzero(kinds == k)

    def grow(code: str, r: np.ndarray, lo: int, hi: int) -> None:
        c[code][r] = c[code][r] + rng.integers(lo, hi, len(r))

    complete = ~(blank["01A"] | blank["01B"])
    r = rows(0)[complete[rows(0)]]  # a part above its total
    c["01B"][r] = c["01A"][r] + rng.integers(1, 50, len(r))
    grow("09A", rows(1), 1, 30)  # a total off its parts
    grow("05A", rows(2), 3, 500)  # 万元 total off its sources (≥ 0.03)
    r = rows(3)  # heating money, no households
    c["07I"][r] = 0
    c["07J"][r] = np.maximum(c["07J"][r], 1)
    r = rows(4)  # 元 typed into a 万元 source: ×10,000
    c["05D"][r] = np.maximum(c["05D"][r], 1) * 10_000
    r = rows(5)[complete[rows(5)]]  # a digit dropped from a total
    c["01A"][r] = np.minimum(c["01A"][r] // 10, np.maximum(c["01B"][r] - 1, 0))
    r = rows(6)[complete[rows(6)]]  # two unrelated slips
    c["01B"][r] = c["01A"][r] + rng.integers(1, 50, len(r))
    grow("09A", r, 1, 30)
    # Rows where the planted slip could not go (industry unions leave 01 blank): a total off.
    rest = np.flatnonzero(np.isin(kinds, [0, 5, 6]) & ~complete)
    grow("09A", rest, 1, 30)
    return kinds


def write_data(path: Path, n: int) -> None:
    """N reports, each with a planted mistake, as raw int64 columns and blank masks."""
    import unionstat as us
    from unionstat.sample import grassroots_columns

    form = us.forms()[FORM_ID]
    units, values, blank = grassroots_columns(n, seed=SEED)
    rng = np.random.default_rng([SEED, 13])
    kinds = _plant(rng, values, blank, n)
    arrays: dict[str, np.ndarray] = {"unit": units["unit"].iloc[len(units) - n :].to_numpy(dtype=str), "kind": kinds}
    for f in form.fields:
        v = np.asarray(values[f.code], dtype=np.int64)
        arrays["v_" + f.code] = v * CENT if f.type == "money" else v
        arrays["b_" + f.code] = np.asarray(blank[f.code], dtype=bool)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def load_batch(path: Path, limit: int | None = None) -> Any:
    """The reports of the data file as a ``ReportBatch`` (raw values set as they are)."""
    import unionstat as us
    from unionstat import _core

    form = us.forms()[FORM_ID]
    d = np.load(path)
    n = len(d["unit"]) if limit is None else min(limit, len(d["unit"]))
    batch = _core.ReportBatch(form.schema)
    batch.set_keys([str(u) for u in d["unit"][:n]], ["2018"] * n)
    for f in form.fields:
        mask = np.ascontiguousarray(d["b_" + f.code][:n])
        batch.set_column_raw(f.code, np.ascontiguousarray(d["v_" + f.code][:n]), mask if mask.any() else None)
    return form, batch


# ---------------------------------------------------------------------------------------
# The baseline: one MIP per record with scipy.optimize.milp
# ---------------------------------------------------------------------------------------


class _Milp:
    """Rows of one record's MIP (the baseline's own formulation)."""

    def __init__(self) -> None:
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.integer: list[int] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def var(self, lo: float, hi: float) -> int:
        self.lo.append(lo)
        self.hi.append(hi)
        self.integer.append(1)
        return len(self.lo) - 1

    def row(self, coef: dict[int, float], lo: float, hi: float) -> None:
        self.rows.append((coef, lo, hi))


def _baseline_record(
    rules: list[Any],
    codes: list[str],
    unit_raw: list[int],
    scale10: list[int],
    kinds: list[str],
    raw: list[int],
    blank: list[bool],
    factor: int,
) -> float | None:
    """The least number of fields to change in one record, by ``scipy.optimize.milp``."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array

    m = _Milp()
    units = [r // u if not b else 0 for r, u, b in zip(raw, unit_raw, blank)]
    cap = 10 * (max(units + [0]) + 1) * factor
    x: dict[int, int] = {}
    z: dict[int, int] = {}
    read = sorted({f for r in rules for f in r.fields})
    for f in read:
        if blank[f]:  # held blank: counts as 0 where a rule reads it
            x[f] = m.var(0, 0)
            z[f] = m.var(0, 0)
            continue
        x[f] = m.var(0, 1 if kinds[f] == "flag" else cap)
        z[f] = m.var(0, 1)
        m.row({x[f]: 1.0, z[f]: -float(cap)}, -np.inf, float(units[f]))  # x − v ≤ cap·z
        m.row({x[f]: -1.0, z[f]: -float(units[f])}, -np.inf, -float(units[f]))  # v − x ≤ v·z

    def linear(cmp: Any) -> tuple[dict[int, float], int, int, float, float]:
        """The comparison as ``lo ≤ S ≤ hi`` on ``S = Σ a_f x_f`` with whole coefficients
        (the row in the fields' units, times the lcm of its denominators, divided by the
        gcd of its coefficients, the bounds rounded inwards — as one writes integer data
        for a MIP solver), and the least and largest S."""
        exact = {f: Fraction(c) * unit_raw[f] / scale10[f] for f, c in cmp.coef.items()}
        den = 1
        for c in [*exact.values(), Fraction(cmp.const)]:
            den = den * c.denominator // math.gcd(den, c.denominator)
        a = {f: int(c * den) for f, c in exact.items()}
        g = 0
        for c in a.values():
            g = math.gcd(g, abs(c))
        g = g or 1
        k, bound = int(Fraction(cmp.const) * den), cmp.bound * den
        lo = -((bound + k) // g) if cmp.op == "eq" else -((k - bound) // g)  # ceil((−B − K)/g), ceil((B − K)/g)
        hi = (bound - k) // g  # floor((B − K)/g)
        coef = {x[f]: float(c // g) for f, c in a.items()}
        smin = sum(min(0.0, c) * m.hi[v] for v, c in coef.items())
        smax = sum(max(0.0, c) * m.hi[v] for v, c in coef.items())
        return coef, lo, hi, smin, smax

    def node(b: Any) -> int:
        if b.kind == "const":
            return m.var(float(b.value), float(b.value))
        if b.kind == "missing":
            return m.var(float(blank[b.field]), float(blank[b.field]))
        if b.kind == "cmp":
            op = b.cmp.op
            coef, lo, hi, smin, smax = linear(b.cmp)
            y = m.var(0, 1)
            if op in ("le", "eq"):  # y = 1 ⇒ S ≤ hi
                mm = max(0.0, smax - hi)
                m.row({**coef, y: mm}, -np.inf, hi + mm)
            if op in ("ge", "eq"):  # y = 1 ⇒ S ≥ lo
                mm = max(0.0, lo - smin)
                m.row({**coef, y: -mm}, lo - mm, np.inf)
            if op == "le":  # y = 0 ⇒ S ≥ hi + 1
                m.row({**coef, y: max(0.0, hi + 1 - smin)}, hi + 1, np.inf)
            if op == "ge":  # y = 0 ⇒ S ≤ lo − 1
                m.row({**coef, y: -max(0.0, smax - lo + 1)}, -np.inf, lo - 1)
            if op == "eq":  # y = 0 ⇒ S ≥ hi + 1 (s = 1) or S ≤ lo − 1 (s = 0)
                s = m.var(0, 1)
                m1 = max(0.0, hi + 1 - smin)
                m.row({**coef, y: m1, s: -m1}, hi + 1 - m1, np.inf)
                m2 = max(0.0, smax - lo + 1)
                m.row({**coef, y: -m2, s: -m2}, -np.inf, lo - 1)
            return y
        kids = [node(a) for a in b.args]
        y = m.var(0, 1)
        if b.kind == "not":
            m.row({y: 1.0, kids[0]: 1.0}, 1.0, 1.0)
        elif b.kind == "and":
            for k in kids:
                m.row({y: 1.0, k: -1.0}, -np.inf, 0.0)
            m.row({y: 1.0, **dict.fromkeys(kids, -1.0)}, 1.0 - len(kids), np.inf)
        elif b.kind == "or":
            for k in kids:
                m.row({y: 1.0, k: -1.0}, 0.0, np.inf)
            m.row({y: 1.0, **dict.fromkeys(kids, -1.0)}, -np.inf, 0.0)
        elif b.kind == "implies":
            a, c = kids
            m.row({y: 1.0, a: 1.0}, 1.0, np.inf)
            m.row({y: 1.0, c: -1.0}, 0.0, np.inf)
            m.row({y: 1.0, a: 1.0, c: -1.0}, -np.inf, 1.0)
        return y

    for r in rules:
        refs_blank = [blank[f] for f in r.refs]
        if r.levels or (
            any(refs_blank)
            and (r.missing == "skip_if_any_missing" or (r.missing == "skip_if_all_missing" and all(refs_blank)))
        ):
            continue  # the rule does not apply to this record
        y = node(r.tree)
        m.row({y: 1.0}, 1.0, 1.0)
    nv = len(m.lo)
    cost = np.zeros(nv)
    for f in z.values():
        cost[f] = 1.0
    data, idx, ptr, lo, hi = [], [], [0], [], []
    for coef, a, b in m.rows:
        for k, v in coef.items():
            idx.append(k)
            data.append(v)
        ptr.append(len(idx))
        lo.append(a)
        hi.append(b)
    a_mat = csr_array((data, idx, ptr), shape=(len(m.rows), nv))
    res = milp(
        cost,
        integrality=np.asarray(m.integer),
        bounds=Bounds(m.lo, m.hi),
        constraints=LinearConstraint(a_mat, lo, hi),
        options={"presolve": False},
    )  # see the docstring
    if res.status != 0:
        return None
    if _DEBUG:
        print({codes[f]: (units[f], round(res.x[x[f]])) for f in read if res.x[z[f]] > 0.5})
    return float(res.fun)


# ---------------------------------------------------------------------------------------
# Children (each a whole process)
# ---------------------------------------------------------------------------------------


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the pool's)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def child(kind: str, data: Path, out: Path, limit: int, workers: int) -> None:
    import unionstat as us  # noqa: F401 - imports before the clock
    from unionstat.localise import Localiser, failing_rules
    from unionstat.progress import Progress

    form, batch = load_batch(data, None if kind == "unionstat" else limit)
    rec: dict[str, Any] = {"reports": len(batch)}
    if kind == "unionstat":
        bar = Progress(1, enabled=True)
        c, t = _cpu(), time.perf_counter()
        res = form.localise(batch, workers=workers, progress=bar)  # the pool has ended when it returns
        rec["seconds"], rec["cpu_timed"] = time.perf_counter() - t, _cpu() - c
        bar.close()
        rec["failing"] = len(res)
        rec["verified"] = sum(x.verified for x in res)
        rec["ties"] = sum(x.ties for x in res)
        rec["weights"] = [x.weight for x in res]
        rec["units"] = [x.unit for x in res]
    elif kind == "unionstat-1":
        loc = Localiser(form.schema)
        c, t = _cpu(), time.perf_counter()
        res = form.localise(batch, workers=1)
        rec["seconds"], rec["cpu_timed"] = time.perf_counter() - t, _cpu() - c
        rec["failing"] = len(res)
        rec["weights"] = [x.weight for x in res]
        rec["units"] = [x.unit for x in res]
        # Each report's solve alone (the validator's batch passes excluded).
        failing = failing_rules(loc, batch)
        cols = [batch.raw_column(c) for c in loc.codes]
        base = loc.weights(None)
        per = []
        for r in sorted(failing):
            raw = [int(v[r]) for v, _ in cols]
            blank = [bool(b[r]) for _, b in cols]
            t = time.perf_counter()
            loc.solve(raw, blank, failing[r], base)
            per.append(time.perf_counter() - t)
        rec["per_report"] = per
    else:
        import scipy  # noqa: F401 - imports before the clock

        from unionstat.linear import linear_rules
        from unionstat.localise import Localiser

        loc = Localiser(form.schema)
        rules = [r for r in linear_rules(form.schema) if r.severity == "error" and r.tree is not None]
        factor = max(loc.part(k).factor for k in range(len(loc._part_fields)))
        cols = [batch.raw_column(c) for c in loc.codes]
        weights, per, units = [], [], []
        c, t0 = _cpu(), time.perf_counter()
        for r in range(len(batch)):
            raw = [int(v[r]) for v, _ in cols]
            blank = [bool(b[r]) for _, b in cols]
            t = time.perf_counter()
            w = _baseline_record(rules, loc.codes, loc.unit_raw, loc.scale10, loc.kinds, raw, blank, factor)
            per.append(time.perf_counter() - t)
            if w is not None and w > 0.5:
                weights.append(round(w, 6))
                units.append(batch.units[r])
        rec["seconds"], rec["cpu_timed"] = time.perf_counter() - t0, _cpu() - c
        rec.update(failing=len(weights), weights=weights, units=units, per_report=per)
    out.write_text(json.dumps(rec))


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reports", type=int, default=10_000, help="failing reports for the batch (default 10,000)")
    p.add_argument("--sample", type=int, default=200, help="reports for the per-report contenders (default 200)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--workers", type=int, default=2, help="unionstat's processes (default 2: both cores)")
    p.add_argument("--data", type=Path, default=HERE / ".data")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--quick", action="store_true", help="2,000 reports, 100 per-report, 2 rounds")
    p.add_argument("--repeat", type=int, help="rounds (as run_all.py passes it)")
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    a, _unknown = p.parse_known_args(argv)  # run_all.py passes every bench the same options
    if a.child:
        child(a.child, a.data, a.out, a.limit, a.workers)
        return 0
    if a.quick:
        a.reports, a.sample, a.rounds = 2_000, 100, 2
    if a.repeat:
        a.rounds = a.repeat
    a.sample = min(a.sample, a.reports)
    a.data.mkdir(parents=True, exist_ok=True)
    data = a.data / f"localise-{FORM_ID}-{a.reports}-v{GEN_VERSION}.npz"
    spawner = Spawner()  # before the data is made: children forked from a small process
    if not data.exists():
        print(f"writing {a.reports:,} reports with planted mistakes to {data} …", flush=True)
        write_data(data, a.reports)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    print(
        f"localisation of {a.reports:,} failing {FORM_ID} reports ({a.sample:,} for the per-report contenders); "
        f"{a.rounds} interleaved rounds; {cpus} cores, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    contenders = [("unionstat", a.reports), ("unionstat-1", a.sample), ("scipy-milp", a.sample)]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in contenders}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(a.rounds):
            line = []
            for name, n in contenders:
                out = Path(tmp) / f"{name}.json"
                argv_child = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--child",
                    name,
                    "--data",
                    str(data),
                    "--out",
                    str(out),
                    "--limit",
                    str(n),
                    "--workers",
                    str(a.workers),
                ]
                res = spawner.run(argv_child, a.timeout)
                if res.status != 0:
                    print(f"  ! {name} failed (exit {res.status}):\n{res.stderr[-3000:]}", flush=True)
                    return 1
                rec = json.loads(out.read_text())
                rec.update(wall=res.seconds, max_rss=res.max_rss, cpu=res.cpu)
                runs[name].append(rec)
                line.append(f"{name} {rec['seconds']:.2f}s")
            print(f"  round {rnd + 1}/{a.rounds}: {', '.join(line)}", flush=True)
    spawner.close()
    return report(a, runs)


def report(a: argparse.Namespace, runs: dict[str, list[dict[str, Any]]]) -> int:
    """Prints the table, the agreement and the target; writes --json."""
    rows = []
    summary: dict[str, Any] = {
        "reports": a.reports,
        "sample": a.sample,
        "rounds": a.rounds,
        "workers": a.workers,
        "contenders": {},
    }
    for name, rs in runs.items():
        n = rs[0]["reports"]
        batch_ms = statistics.median(r["seconds"] / max(1, r["failing"]) for r in rs) * 1e3
        per = [s for r in rs for s in r.get("per_report", [])]
        med = statistics.median(per) * 1e3 if per else None
        p90 = float(np.percentile(per, 90)) * 1e3 if per else None
        # CPU of the timed part is not separable from start-up: cores busy over the whole process.
        busy = statistics.median(r["cpu"] / r["wall"] for r in rs)
        peak = max(r["max_rss"] for r in rs) / MB
        cpu_ms = statistics.median(r["cpu_timed"] / max(1, r["failing"]) for r in rs) * 1e3
        rec = {
            "reports": n,
            "failing": rs[0]["failing"],
            "median_s": statistics.median(r["seconds"] for r in rs),
            "cpu_ms_per_report": cpu_ms,
            "ms_per_report": batch_ms,
            "median_report_ms": med,
            "p90_report_ms": p90,
            "cores_busy": busy,
            "peak_rss_mb": peak,
            "seconds": [r["seconds"] for r in rs],
        }
        summary["contenders"][name] = rec
        rows.append((name, rec))
    base = summary["contenders"]["unionstat"]["ms_per_report"]
    solo = summary["contenders"]["unionstat-1"]
    print(
        f"  {'contender':12} {'reports':>8} {'median s':>9} {'ms/report':>10} {'x unionstat':>11} {'cpu ms/rep':>10} "
        f"{'report median':>13} {'p90':>7} {'cores':>6} {'peak RSS':>9}"
    )
    for name, r in rows:
        ratio = r["ms_per_report"] / base
        med = f"{r['median_report_ms']:10.2f} ms" if r["median_report_ms"] is not None else f"{'—':>13}"
        p90 = f"{r['p90_report_ms']:7.2f}" if r["p90_report_ms"] is not None else f"{'—':>7}"
        print(
            f"  {name:12} {r['reports']:8,} {r['median_s']:9.2f} {r['ms_per_report']:10.3f} {ratio:10.2f}x "
            f"{r['cpu_ms_per_report']:10.3f} "
            f"{med} {p90} {r['cores_busy']:6.2f} {r['peak_rss_mb']:6,.0f} MB"
        )
    scipy_r = summary["contenders"]["scipy-milp"]
    if solo["median_report_ms"] and scipy_r["median_report_ms"]:
        print(
            f"  per-report solve, median: scipy-milp / unionstat-1 = "
            f"{scipy_r['median_report_ms'] / solo['median_report_ms']:.1f}x; batch per report: scipy-milp / "
            f"unionstat ({a.workers} workers) = {scipy_r['ms_per_report'] / base:.1f}x"
        )
    # Agreement on the least weight, report by report.
    ours = dict(zip(runs["unionstat-1"][0]["units"], runs["unionstat-1"][0]["weights"]))
    theirs = dict(zip(runs["scipy-milp"][0]["units"], runs["scipy-milp"][0]["weights"]))
    common = sorted(ours.keys() & theirs.keys())
    same = sum(abs(ours[u] - theirs[u]) < 1e-6 for u in common)
    less = sum(ours[u] < theirs[u] - 1e-6 for u in common)
    print(
        f"  least weight: the same on {same:,} of {len(common):,} reports both localised; unionstat lighter on "
        f"{less:,} (it may fill a blank, the baseline holds blanks); reports only one side localised: "
        f"{len(ours.keys() ^ theirs.keys()):,}"
    )
    first = runs["unionstat"][0]
    print(
        f"  unionstat: {first['failing']:,} of {first['reports']:,} reports failing, {first['verified']:,} "
        f"suggestions verified by the core's validator, {first['ties']:,} with ties"
    )
    met = base <= TARGET_MS
    cpu = summary["contenders"]["unionstat"]["cpu_ms_per_report"]
    load = os.getloadavg()[0]
    print(
        f"  target: unionstat ≤ {TARGET_MS:g} ms per failing report ({a.workers} workers): {base:.2f} ms wall — "
        f"{'met' if met else 'MISSED'}; CPU {cpu:.2f} ms a report, i.e. {cpu / a.workers:.2f} ms wall on "
        f"{a.workers} idle cores (load average now {load:.1f})"
    )
    summary.update(
        load_average=load, agreement={"common": len(common), "same": same, "unionstat_lighter": less}, target_met=met
    )
    if a.json:
        a.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
