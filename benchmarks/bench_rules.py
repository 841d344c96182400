"""Benchmark: validating songnuan-2018 reports with unionstat vs numpy, pandas, pandera.

Generates N reports (default 1,000,000) reproducibly (seeded numpy), about 1% of them
breaking some rule, and validates them against every rule of the form (explicit and
generated part_of / group rules), side by side in one run on the same data:

* unionstat      ``us.to_batch`` (timed as "conversion") then ``_core.validate_batch``
                 ("validation"); building the violations/summary DataFrames is timed apart;
* numpy          hand-written vectorised rules on int64 arrays of raw values (money in
                 units of 1e-6 万元, raw = round(x * 1e6)), same tolerances and missing rules;
* pandas         idiomatic boolean Series operations on the float64 DataFrame;
* pandera        a DataFrameSchema with one dataframe-wide Check per rule, lazy=True;
* read once      ``np.add.reduce`` (in the array's dtype) over every referenced column: the
                 memory-bound ceiling, over the int64 raw columns as the data has them (what
                 numpy validates), and again over the columns as the batch stores them
                 (32-bit where every value fits, see ``ReportBatch.value_bits``): fewer bytes,
                 so a stricter bar.

Then one report from Python: ``form.validate(report)`` vs the pandas rules on a one-row frame.

numpy's fail and skip counts per rule must equal unionstat's (asserted; a mismatch table
is printed first). Not a timed test: run ``python benchmarks/bench_rules.py [--rows N | --quick]``
or ``./run bench``.
"""

from __future__ import annotations

import argparse
import functools
import operator
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd

import unionstat as us
from unionstat import _core

FORM_ID = "songnuan-2018"
SEED = 2018
MONEY_SCALE = 10**6  # raw units per 万元 (field scale 6)
CENT = 10**4  # raw units per 0.01 万元 (2 reported decimals)

# ---------------------------------------------------------------------------------------
# The rules, hand-written. Each entry: (rule id, its check text as the schema states it,
# kind, arguments). Kinds:
#   le   sum(L) * kl <= sum(R) * kr + tol        (tol in raw units; 万元 sides of >= 2 terms
#                                                 tolerate 0.005 per term, else exact)
#   eq   |sum(L) - sum(R)| <= tol
#   imp  if a > 0 then b > 0                     (never_skip: blank counts as 0)
# The check text is compared with form.rules so that the two lists cannot drift apart.
# ---------------------------------------------------------------------------------------
P = "songnuan."
RULES = (
    [
        (P + "hardship_workers_within_workers", "02A <= 01A", "le", (["02A"], ["01A"], 1, 1, 0)),
        (P + "hardship_migrants_within_migrants", "02B <= 01B", "le", (["02B"], ["01B"], 1, 1, 0)),
        (P + "hardship_households_within_hardship_workers", "03A * 1 <= 02A", "le", (["03A"], ["02A"], 1, 1, 0)),
        (
            P + "hardship_migrant_households_within_hardship_migrants",
            "03B * 1 <= 02B",
            "le",
            (["03B"], ["02B"], 1, 1, 0),
        ),
        (P + "visited_migrants_within_visited_workers", "04F <= 04E", "le", (["04F"], ["04E"], 1, 1, 0)),
        (P + "heating_amount_needs_households", "if 07J > 0 then 07I > 0", "imp", ("07J", "07I")),
        (P + "heating_households_need_amount", "if 07I > 0 then 07J > 0", "imp", ("07I", "07J")),
        # 07J [万元] * 10000 <= 5000 * 07I [户]: lhs in raw 1e-6 万元 → compare at that denominator
        (
            P + "heating_per_household",
            "07J * 10000 <= 5000 * 07I",
            "le",
            (["07J"], ["07I"], 10000, 5000 * MONEY_SCALE, 0),
        ),
        (P + "wages_amount_needs_workers", "if 08D > 0 then 08C > 0", "imp", ("08D", "08C")),
        (P + "wages_workers_need_amount", "if 08C > 0 then 08D > 0", "imp", ("08C", "08D")),
        # 08D [万元] * 10000 <= 100000 * 08C [人次], as heating_per_household
        (
            P + "wages_per_worker",
            "08D * 10000 <= 100000 * 08C",
            "le",
            (["08D"], ["08C"], 10000, 100000 * MONEY_SCALE, 0),
        ),
        (P + "paid_within_raised", "06A <= 05A", "le", (["06A"], ["05A"], 1, 1, 0)),
        (P + "special_train_passengers_need_trains", "if 10C > 0 then 10B > 0", "imp", ("10C", "10B")),
        (P + "special_trains_need_passengers", "if 10B > 0 then 10C > 0", "imp", ("10B", "10C")),
        (P + "carriage_passengers_need_carriages", "if 10E > 0 then 10D > 0", "imp", ("10E", "10D")),
        (P + "carriages_need_passengers", "if 10D > 0 then 10E > 0", "imp", ("10D", "10E")),
        (P + "bus_passengers_need_buses", "if 10G > 0 then 10F > 0", "imp", ("10G", "10F")),
        (P + "buses_need_passengers", "if 10F > 0 then 10G > 0", "imp", ("10F", "10G")),
        (P + "ship_passengers_need_ships", "if 10I > 0 then 10H > 0", "imp", ("10I", "10H")),
        (P + "ships_need_passengers", "if 10H > 0 then 10I > 0", "imp", ("10H", "10I")),
        (P + "plane_passengers_need_planes", "if 10K > 0 then 10J > 0", "imp", ("10K", "10J")),
        (P + "planes_need_passengers", "if 10J > 0 then 10K > 0", "imp", ("10J", "10K")),
        (P + "bus_load_plausible", "10G <= 200 * 10F", "le", (["10G"], ["10F"], 1, 200, 0)),
        (P + "special_train_load_plausible", "10C <= 2000 * 10B", "le", (["10C"], ["10B"], 1, 2000, 0)),
        (P + "carriage_load_plausible", "10E <= 150 * 10D", "le", (["10E"], ["10D"], 1, 150, 0)),
        (P + "plane_load_plausible", "10K <= 400 * 10J", "le", (["10K"], ["10J"], 1, 400, 0)),
    ]
    + [
        (P + f"part_of.{part}", f"{part} <= {total}", "le", ([part], [total], 1, 1, 0))
        for part, total in [
            ("01B", "01A"),
            ("02B", "02A"),
            ("03B", "03A"),
            ("03C", "03A"),
            ("03D", "03A"),
            ("03E", "03A"),
            ("04B", "04A"),
            ("04E", "04D"),
            ("04F", "04D"),
            ("05B", "05A"),
            ("05C", "05A"),
            ("05D", "05A"),
            ("05E", "05A"),
            ("05F", "05A"),
            ("06B", "06A"),
            ("06C", "06A"),
            ("09B", "09A"),
            ("09C", "09A"),
            ("09D", "09A"),
            ("09E", "09A"),
            ("10C", "10A"),
            ("10E", "10A"),
            ("10G", "10A"),
            ("10I", "10A"),
            ("10K", "10A"),
        ]
    ]
    + [
        (
            P + "group.hardship_households_by_cause",
            "03C + 03D + 03E <= 03A",
            "le",
            (["03C", "03D", "03E"], ["03A"], 1, 1, 0),
        ),
        # 5 money terms on the right: tolerance 5 × 0.005 万元 = 0.025 万元
        (
            P + "group.funds_raised_by_source",
            "05A == 05B + 05C + 05D + 05E + 05F",
            "eq",
            (["05A"], ["05B", "05C", "05D", "05E", "05F"], 5 * CENT // 2),
        ),
        # 2 money terms on the left: tolerance 2 × 0.005 万元 = 0.01 万元
        (P + "group.funds_paid_to_groups", "06B + 06C <= 06A", "le", (["06B", "06C"], ["06A"], 1, 1, 2 * CENT // 2)),
        (
            P + "group.worker_services_by_kind",
            "09A == 09B + 09C + 09D + 09E",
            "eq",
            (["09A"], ["09B", "09C", "09D", "09E"], 0),
        ),
        (
            P + "group.journey_home_by_transport",
            "10C + 10E + 10G + 10I + 10K <= 10A",
            "le",
            (["10C", "10E", "10G", "10I", "10K"], ["10A"], 1, 1, 0),
        ),
    ]
)


def rule_refs(kind, args):
    if kind == "imp":
        return list(args)
    return list(args[0]) + list(args[1])


def rule_missing(form_rules):
    return {r.id: (r.missing or "skip_if_any_missing") for r in form_rules}


# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------
def generate(n: int, schema) -> tuple[pd.DataFrame, dict]:
    """n reports as the analyst has them: counts int64, money float64 with 2 decimals."""
    rng = np.random.default_rng(SEED)
    i64 = np.int64

    def ri(lo, hi, size=n):
        return rng.integers(lo, hi, size=size, dtype=i64)

    def frac(x, lo, hi):
        return np.floor(x * rng.uniform(lo, hi, n)).astype(i64)

    def zero_some(x, p):
        return np.where(rng.random(n) < p, 0, x)

    c = {}  # counts: persons etc.; money: integer cents of 万元
    c["01A"] = np.exp(rng.uniform(np.log(1000), np.log(100_000), n)).astype(i64)
    c["01B"] = frac(c["01A"], 0, 0.6)
    c["02A"] = frac(c["01A"], 0, 0.1)
    c["02B"] = frac(np.minimum(c["02A"], c["01B"]), 0, 1)
    c["03A"] = frac(c["02A"], 0.3, 1)
    c["03B"] = frac(c["03A"], 0, 0.5)
    w = rng.dirichlet(np.ones(3), n)
    s = c["03A"] * rng.uniform(0.5, 1, n)
    for j, k in enumerate(["03C", "03D", "03E"]):
        c[k] = np.floor(s * w[:, j]).astype(i64)
    c["03F"] = ri(0, 200)
    c["04A"] = ri(10, 2000)
    c["04B"] = frac(c["04A"], 0, 0.3)
    c["04C"] = ri(0, 50_000)
    c["04D"] = ri(0, 5000)
    c["04E"] = frac(c["04D"], 0.5, 1)
    c["04F"] = frac(c["04E"], 0, 0.5)
    c["04G"] = ri(0, 300)
    for k in ["05B", "05C", "05D", "05E", "05F"]:  # cents of 万元: 0 .. 500 万元
        c[k] = zero_some(np.exp(rng.uniform(0, np.log(50_000), n)).astype(i64), 0.1)
    c["05A"] = c["05B"] + c["05C"] + c["05D"] + c["05E"] + c["05F"]
    c["06A"] = frac(c["05A"], 0.6, 1)
    c["06B"] = frac(c["06A"], 0, 0.4)
    c["06C"] = frac(c["06A"] - c["06B"], 0, 0.8)
    for k in ["07A", "07B", "07D", "07E", "07F", "07G", "07H"]:
        c[k] = ri(0, 20_000)
    c["07C"] = ri(0, 3000)
    c["07I"] = zero_some(ri(1, 3000), 0.1)
    # at most 0.5 万元 (5000 元) per household, strictly below the bound
    c["07J"] = np.where(c["07I"] > 0, np.maximum(1, frac(c["07I"] * 50, 0.05, 1)), 0)
    c["07K"] = ri(0, 500)
    c["08A"] = ri(0, 2000)
    c["08B"] = ri(0, 20_000)
    c["08C"] = zero_some(ri(1, 500), 0.15)
    c["08D"] = np.where(c["08C"] > 0, ri(1, 100_000), 0)
    for k in ["09B", "09C", "09D", "09E"]:
        c[k] = ri(0, 5000)
    c["09A"] = c["09B"] + c["09C"] + c["09D"] + c["09E"]
    for veh, pax, lo, hi, vmax in [
        ("10B", "10C", 100, 1000, 5),
        ("10D", "10E", 10, 100, 40),
        ("10F", "10G", 10, 60, 100),
        ("10H", "10I", 20, 300, 10),
        ("10J", "10K", 50, 200, 5),
    ]:
        c[veh] = zero_some(ri(1, vmax + 1), 0.2)
        c[pax] = c[veh] * ri(lo, hi)
    c["10A"] = c["10C"] + c["10E"] + c["10G"] + c["10I"] + c["10K"] + ri(0, 1000)
    c["10L"] = ri(0, 10_000)
    c["10M"] = ri(0, 50)
    c["11A"] = ri(0, 100_000)
    missing = {k: np.zeros(n, dtype=bool) for k in ("06C", "07J", "11A")}
    missing["11A"] = rng.random(n) < 0.005  # blanks in a column no rule reads

    # ---- planted violations: about 1% of rows, several kinds ----
    bad = rng.permutation(n)[: max(n // 100, 13)]
    kinds = np.array_split(bad, 13)

    def k(i):
        return kinds[i]

    # fmt: off  (a table of planted mistakes, one kind a line)
    r = k(0)
    c["01B"][r] = c["01A"][r] + ri(1, 100, len(r))  # part > total

    def off(r, lo, hi):  # 05A moved by lo..hi-1 cents either way (never below 0)
        d = rng.choice([-1, 1], len(r)) * ri(lo, hi, len(r))
        c["05A"][r] = np.where(c["05A"][r] + d < 0, c["05A"][r] - d, c["05A"][r] + d)

    off(k(1), 3, 500)  # balance off ≥ 0.03 万元
    off(k(2), 1, 3)  # off ≤ 0.02 万元: passes
    r = k(3)
    c["07I"][r] = 0
    c["07J"][r] = ri(1, 10_000, len(r))  # heating money, no households
    r = k(4)
    c["07I"][r] = ri(1, 100, len(r))
    missing["07J"][r] = True  # households, amount blank
    r = k(5)
    c["09A"][r] += ri(1, 10, len(r))  # 09A != sum of parts
    r = k(6)
    c["04F"][r] = c["04D"][r] + ri(1, 50, len(r))  # part > total (two rules)
    r = k(7)
    c["10F"][r] = ri(1, 5, len(r))
    c["10G"][r] = c["10F"][r] * 250 + 1  # implausible bus load
    r = k(8)
    c["06A"][r] = np.maximum(0, c["06B"][r] + c["06C"][r] - ri(1, 3, len(r)))  # 06B+06C over 06A by 0.01/0.02
    r = k(9)
    c["08C"][r] = 0
    c["08D"][r] = ri(1, 5000, len(r))  # wages money, no workers
    r = k(10)
    c["10B"][r] = ri(1, 3, len(r))
    c["10C"][r] = 0  # trains, no passengers
    r = k(11)
    c["03C"][r] = c["03A"][r] + 1  # causes exceed households
    r = k(12)
    missing["06C"][r] = True  # blank: dependent rules skip
    # fmt: on

    codes = [f.code for f in schema.fields]
    money = {f.code for f in schema.fields if f.unit == "万元"}
    assert set(codes) == set(c), sorted(set(codes) ^ set(c))
    cols = {"unit": pd.array([f"U{i:07d}" for i in range(n)], dtype=object), "period": "2018"}
    for code in codes:
        if code in money:
            x = c[code] / 100.0
            if code in missing:
                x = np.where(missing[code], np.nan, x)
            cols[code] = x
        else:
            cols[code] = c[code].astype(np.int64)
    df = pd.DataFrame(cols)
    return df, money


# ---------------------------------------------------------------------------------------
# numpy: hand-written vectorised rules on int64 raw values
# ---------------------------------------------------------------------------------------
def numpy_prepare(df: pd.DataFrame, codes, money):
    """float 万元 → int64 raw (round(x * 1e6)), blanks → 0 plus a mask (timed apart)."""
    raw, miss = {}, {}
    for code in codes:
        col = df[code].to_numpy()
        if code in money:
            m = np.isnan(col)
            raw[code] = np.rint(np.where(m, 0.0, col) * MONEY_SCALE).astype(np.int64)
            if m.any():
                miss[code] = m
        else:
            raw[code] = np.ascontiguousarray(col, dtype=np.int64)
    return raw, miss


def numpy_validate(raw, miss, missing_of):
    """Per rule: fail count, skip count and the failing rows (as the batch result lists them)."""
    out = {}
    for rid, _text, kind, args in RULES:
        if kind == "imp":
            a, b = args
            cond = (raw[a] <= 0) | (raw[b] > 0)
        elif kind == "le":
            L, R, kl, kr, tol = args
            lhs = functools.reduce(operator.add, (raw[x] for x in L))
            rhs = functools.reduce(operator.add, (raw[x] for x in R))
            if kl != 1:
                lhs = lhs * kl
            if kr != 1:
                rhs = rhs * kr
            cond = lhs <= rhs + tol if tol else lhs <= rhs
        else:  # eq
            L, R, tol = args
            d = functools.reduce(operator.add, (raw[x] for x in L)) - functools.reduce(
                operator.add, (raw[x] for x in R)
            )
            cond = np.abs(d) <= tol if tol else d == 0
        skip = None
        if missing_of[rid] == "skip_if_any_missing":
            masks = [miss[x] for x in rule_refs(kind, args) if x in miss]
            if masks:
                skip = functools.reduce(operator.or_, masks)
        if skip is None:
            fail = ~cond
            nskip = 0
        else:
            fail = ~cond & ~skip
            nskip = int(np.count_nonzero(skip))
        rows = np.flatnonzero(fail)
        out[rid] = (len(rows), nskip, rows)
    return out


# ---------------------------------------------------------------------------------------
# pandas: idiomatic boolean Series operations on the float DataFrame
# ---------------------------------------------------------------------------------------
EPS = 1e-9


def pandas_conditions(df: pd.DataFrame, missing_of, rules=None):
    """Yields (rule id, condition Series (True = holds or skipped), skipped Series or None)."""
    for rid, _text, kind, args in RULES if rules is None else rules:
        refs = rule_refs(kind, args)
        never = missing_of[rid] == "never_skip"
        d = df[refs].fillna(0) if never else df[refs]
        if kind == "imp":
            a, b = args
            cond = (d[a] <= 0) | (d[b] > 0)
        elif kind == "le":
            L, R, kl, kr, tol = args
            lhs = d[L].sum(axis=1) if len(L) > 1 else d[L[0]]
            rhs = d[R].sum(axis=1) if len(R) > 1 else d[R[0]]
            # the raw-unit factors of the numpy version, back in 万元 / counts
            if rid.endswith(("heating_per_household", "wages_per_worker")):  # 万元 against a count
                cond = lhs * kl <= rhs * (kr // MONEY_SCALE)
            else:
                cond = lhs * kl <= rhs * kr + (tol / MONEY_SCALE + EPS if tol else 0)
        else:
            L, R, tol = args
            lhs = d[L].sum(axis=1) if len(L) > 1 else d[L[0]]
            rhs = d[R].sum(axis=1) if len(R) > 1 else d[R[0]]
            cond = (lhs - rhs).abs() <= (tol / MONEY_SCALE + EPS if tol else 0)
        skipped = None if never else d.isna().any(axis=1)
        if skipped is not None:
            cond = cond | skipped
        yield rid, cond, skipped


def pandas_validate(df: pd.DataFrame, missing_of):
    out = {}
    for rid, cond, skipped in pandas_conditions(df, missing_of):
        failing = df.index[~cond]
        out[rid] = (len(failing), 0 if skipped is None else int(skipped.sum()), failing)
    return out


# ---------------------------------------------------------------------------------------
# pandera: one dataframe-wide check per rule, lazy validation
# ---------------------------------------------------------------------------------------
def pandera_schema(missing_of):
    import pandera.pandas as pa

    def make(rule):
        def fn(frame):
            for _rid, cond, _skipped in pandas_conditions(frame, missing_of, [rule]):
                return cond

        return fn

    checks = [pa.Check(make(rule), name=rule[0]) for rule in RULES]
    return pa, pa.DataFrameSchema(checks=checks)


def pandera_validate(pa, schema, df):
    try:
        schema.validate(df, lazy=True)
        return {}
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
        return fc.groupby("check")["index"].nunique().to_dict()


# ---------------------------------------------------------------------------------------
def timeit(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def interleaved(fns: dict, rounds: int):
    """Times the fast methods in turns (a, b, c, a, b, c, ...) so that a shared machine's
    drift from minute to minute hits them alike. Returns {name: (median seconds, times,
    last result)}."""
    times = {k: [] for k in fns}
    results = {}
    for _ in range(rounds):
        for k, fn in fns.items():
            t = time.perf_counter()
            results[k] = fn()
            times[k].append(time.perf_counter() - t)
    return {k: (statistics.median(times[k]), times[k], results[k]) for k in fns}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="100,000 rows (smoke test)")
    ap.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="rounds of the fast methods, timed in turns (median); the slow ones run 2 times",
    )
    ap.add_argument("--no-pandera", action="store_true")
    args = ap.parse_args(argv)
    n = 100_000 if args.quick else args.rows

    form = us.forms()[FORM_ID]
    schema = form.schema
    form_rules = list(form.rules)
    # the hand-written list must be the form's rules, in order, with the same texts
    mine = [(rid, text) for rid, text, *_ in RULES]
    theirs = [(r.id, r.check) for r in form_rules]
    if mine != theirs:
        print("rule list differs from the form's:", sorted(set(mine) ^ set(theirs)), file=sys.stderr)
        return 2
    missing_of = rule_missing(form_rules)
    codes = [f.code for f in schema.fields]
    referenced = sorted({x for _, _, kind, a in RULES for x in rule_refs(kind, a)})

    print(
        f"bench_rules: {FORM_ID}, {n:,} reports, {len(RULES)} rules, "
        f"{len(referenced)} referenced columns, seed {SEED}; batch kernels: {_core.batch_kernels()}"
    )
    t = time.perf_counter()
    df, money = generate(n, schema)
    print(f"  generated in {time.perf_counter() - t:.2f} s")

    rep = args.repeat
    # --- unionstat ---
    t_conv, batch = timeit(lambda: us.to_batch(df, schema), rep)
    res = _core.validate_batch(batch)  # warm-up (first touch of the result buffers)
    t_check, bv = timeit(lambda: us.rules.validate_batch(batch), min(rep, 3))
    us_counts = {r.id: res.counts()[i] for i, r in enumerate(form_rules)}  # items, passes, fails, skipped, errors
    n_bad_rows = bv.violations["row"].nunique() if "row" in bv.violations else None

    # --- numpy ---
    t_nprep, (raw, miss) = timeit(lambda: numpy_prepare(df, codes, money), rep)
    ref_arrays = [raw[x] for x in referenced]
    # the same columns at the width the batch holds them (narrow ones as int32)
    narrow = [x for x in referenced if batch.value_bits(x) == 32]
    stored_arrays = [raw[x].astype(np.int32) if x in narrow else raw[x] for x in referenced]
    fast = interleaved(
        {
            "unionstat": lambda: _core.validate_batch(batch),
            "numpy": lambda: numpy_validate(raw, miss, missing_of),
            # (in each array's own dtype: numpy would sum int32 in int64, a cast on the way)
            "read": lambda: [np.add.reduce(a, dtype=a.dtype) for a in ref_arrays],
            "read_stored": lambda: [np.add.reduce(a, dtype=a.dtype) for a in stored_arrays],
        },
        rep,
    )
    t_val, val_times, res = fast["unionstat"]
    t_np, np_times, np_out = fast["numpy"]
    t_read, _, _ = fast["read"]
    t_read_stored, _, _ = fast["read_stored"]
    round_ratios = sorted(b / a for a, b in zip(val_times, np_times))

    # --- counts must agree ---
    mism = []
    for rid, *_ in RULES:
        _items, _passes, fails, skipped, errors = us_counts[rid]
        nf, ns, _rows = np_out[rid]
        if (fails, skipped, errors) != (nf, ns, 0):
            mism.append((rid, fails, nf, skipped, ns, errors))
    total_fails = sum(v[2] for v in us_counts.values())
    print(
        f"  unionstat: {total_fails:,} failed (rule, report) pairs"
        + (f" in {n_bad_rows:,} reports ({n_bad_rows / n:.2%})" if n_bad_rows is not None else "")
    )
    if mism:
        print("\nMISMATCH numpy vs unionstat (fails, skipped):")
        print(f"  {'rule':58} {'us fail':>8} {'np fail':>8} {'us skip':>8} {'np skip':>8} {'us err':>7}")
        for m in mism:
            print(f"  {m[0]:58} {m[1]:>8} {m[2]:>8} {m[3]:>8} {m[4]:>8} {m[5]:>7}")
    else:
        print("  numpy fail/skip counts per rule == unionstat's: all", len(RULES), "rules match")

    # --- pandas ---
    t_pd, pd_out = timeit(lambda: pandas_validate(df, missing_of), max(1, min(rep, 2)))
    pd_mism = [rid for rid, *_ in RULES if pd_out[rid][0] != us_counts[rid][2]]
    print(f"  pandas fail counts differ from unionstat on {len(pd_mism)} rules" + (f": {pd_mism}" if pd_mism else ""))

    # --- pandera ---
    t_pa = None
    if not args.no_pandera:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pa, pschema = pandera_schema(missing_of)
                t_pa, pa_out = timeit(lambda: pandera_validate(pa, pschema, df), 1)
            pa_mism = [rid for rid, *_ in RULES if pa_out.get(rid, 0) != us_counts[rid][2]]
            print(
                f"  pandera failing-row counts differ from unionstat on {len(pa_mism)} rules"
                + (f": {pa_mism}" if pa_mism else "")
            )
        except ImportError as e:
            print(f"  pandera not available ({e}); skipped")

    # --- one report ---
    row = df.iloc[0]
    values = {
        c: (None if (c in money and np.isnan(row[c])) else (float(row[c]) if c in money else int(row[c])))
        for c in codes
    }
    report = form.report("U0000000", "2018", values)
    form.validate(report)
    one = []
    for _ in range(7):
        k = 200
        t = time.perf_counter()
        for _ in range(k):
            form.validate(report)
        one.append((time.perf_counter() - t) / k)
    t_one_us = statistics.median(one)
    df1 = df.iloc[:1].copy()
    pandas_validate(df1, missing_of)
    one = []
    for _ in range(5):
        k = 10
        t = time.perf_counter()
        for _ in range(k):
            pandas_validate(df1, missing_of)
        one.append((time.perf_counter() - t) / k)
    t_one_pd = statistics.median(one)

    # --- table ---
    def row_(name, secs, base, target, ok_if_ge=True):
        ratio = secs / base if base else float("nan")
        if target is None:
            met = ""
        else:
            met = "yes" if (ratio >= target if ok_if_ge else ratio <= target) else "NO"
        tgt = "" if target is None else (f">= {target:g}x" if ok_if_ge else f"<= {target:g}x")
        print(f"  {name:44} {secs:12.6f} {ratio:10.2f}x  {tgt:>9} {met:>4}")

    t_frames = max(t_check - t_val, 0.0)
    print(
        f"\nrule validation, {n:,} reports (seconds; ratio = method / unionstat validation; "
        f"unionstat, numpy and read once: median of {rep} rounds timed in turns)"
    )
    print(f"  {'method':44} {'seconds':>12} {'ratio':>11}  {'target':>9} {'met':>4}")
    row_("unionstat validation (_core.validate_batch)", t_val, t_val, None)
    row_("unionstat conversion (to_batch)", t_conv, t_val, None)
    row_("unionstat violations+summary DataFrames", t_frames, t_val, None)
    row_("numpy hand-written (int64 raw)", t_np, t_val, 3)
    print(
        f"  {'':44} {'':12} {'':11}  numpy / unionstat round by round: {', '.join(f'{r:.2f}x' for r in round_ratios)}"
    )
    row_("numpy conversion float->int64 raw", t_nprep, t_val, None)
    row_("pandas idiomatic", t_pd, t_val, 10)
    if t_pa is not None:
        row_("pandera lazy DataFrameSchema", t_pa, t_val, 30)

    # read once: unionstat must be within 2x of it → read_once / unionstat >= 0.5. Two
    # readings: the referenced columns as the data has them (int64, what numpy reads: the
    # issue's target), and as the batch stores them (fewer bytes where narrow: stricter).
    def read_row(label, secs):
        print(
            f"  {label:44} {secs:12.6f} {secs / t_val:10.2f}x  {'>= 0.5x':>9} {'yes' if t_val <= 2 * secs else 'NO':>4}"
            f"   (unionstat = {t_val / secs:.2f}x read-once; target <= 2x)"
        )

    read_row(f"read once (np.add.reduce, {len(referenced)} int64 columns)", t_read)
    read_row(f"read once, as stored ({len(narrow)} int32 + {len(referenced) - len(narrow)} int64)", t_read_stored)
    print("\none report from Python (seconds per report; ratio = pandas / unionstat)")
    print(f"  {'unionstat form.validate(report)':44} {t_one_us:12.6f}")
    print(
        f"  {'pandas rules on a one-row DataFrame':44} {t_one_pd:12.6f} {t_one_pd / t_one_us:10.2f}x  "
        f"{'>= 100x':>9} {'yes' if t_one_pd >= 100 * t_one_us else 'NO':>4}"
    )
    return 1 if mism else 0


if __name__ == "__main__":
    sys.exit(main())
