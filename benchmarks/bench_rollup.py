"""Benchmark: rolling songnuan-2018 reports up a synthetic national union tree with
unionstat vs pandas level-wise groupby vs networkx.

Generates, reproducibly (seeded numpy), a national tree shaped like the real one:
1 national + 31 provincial + ~410 city + ~2,900 county federations + N grassroots unions
(default 2,800,000), 95% of the grassroots under a county and 5% attached higher up
(3.5% directly under a city, 1.5% directly under a province); and one songnuan-2018
report per grassroots union (60 fields, all aggregated by sum; counts as int64, money as
int64 raw values in the field's storage scale, 1e-6 万元, no float anywhere). Then, in
one run on the same data:

* unionstat   ``_core.Hierarchy.from_columns`` (timed as "tree build"), the batch built
              from the int64 raw columns with ``set_column_raw`` (borrowed, no copy;
              "batch build"), ``_core.rollup(tree, batch)`` ("roll-up", the C++ roll-up
              alone, GIL released) and, apart, an int64 DataFrame of the result;
* pandas      idiomatic level-wise groupby on an int64 DataFrame (one row per unit):
              deepest level first, ``groupby(parent).sum()`` of that level's rows added to
              the parents' rows, level by level up to the root;
* networkx    a DiGraph (parent → child) with each unit's report as node attributes,
              ``topological_sort`` reversed, each node's totals added to its parent's: run
              on a subset that it can finish (all inner units + the first 100,000
              grassroots) and scaled linearly to the full size (labelled "scaled");
* memory      the unionstat roll-up again in a fresh subprocess: peak RSS during the
              roll-up minus RSS just before it, over the int64 leaf data
              (N × 60 × 8 bytes).

pandas' totals must equal unionstat's for every unit and field, and networkx's must equal
unionstat's roll-up of the same subset (asserted). Blank totals (units with no report
below them) compare as 0; there are no blank cells in the generated reports.

Not a timed test: ``python benchmarks/bench_rollup.py [--units N | --quick]`` or
``python benchmarks/run_all.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

FORM_ID = "songnuan-2018"
SEED = 2018
PROVINCES, CITIES, COUNTIES = 31, 410, 2_900
TO_CITY, TO_PROVINCE = 0.035, 0.015  # grassroots attached higher up: 5% in all
LEVELS = ["national", "province", "city", "county", "grassroots"]
MONEY_SCALE = 10**6  # raw units per 万元 (field scale 6)


# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------
def generate_tree(n_grass: int, seed: int = SEED) -> dict:
    """The tree as integer arrays: parent index (-1 for the root) and level code per unit.
    Units are listed top-down: national, provinces, cities, counties, then grassroots."""
    rng = np.random.default_rng(seed)
    n_inner = 1 + PROVINCES + CITIES + COUNTIES
    n = n_inner + n_grass
    p0, c0, x0, g0 = 1, 1 + PROVINCES, 1 + PROVINCES + CITIES, n_inner
    parent = np.empty(n, dtype=np.int64)
    level = np.empty(n, dtype=np.int8)
    parent[0], level[0] = -1, 0
    parent[p0:c0], level[p0:c0] = 0, 1

    def attach(k: int, m: int, start: int) -> np.ndarray:
        # every one of the m parents gets at least one child; the rest, skewed (lognormal)
        w = rng.lognormal(0.0, 0.7, m)
        rest = rng.choice(m, size=k - m, p=w / w.sum()) if k > m else np.empty(0, dtype=np.int64)
        out = np.concatenate([rng.permutation(m)[: min(k, m)], rest])
        return start + out

    parent[c0:x0], level[c0:x0] = attach(CITIES, PROVINCES, p0), 2
    parent[x0:g0], level[x0:g0] = attach(COUNTIES, CITIES, c0), 3
    u = rng.random(n_grass)
    to_prov = u < TO_PROVINCE
    to_city = (u >= TO_PROVINCE) & (u < TO_PROVINCE + TO_CITY)
    to_county = ~(to_prov | to_city)
    gp = np.empty(n_grass, dtype=np.int64)
    gp[to_county] = attach(int(to_county.sum()), COUNTIES, x0)
    gp[to_city] = rng.integers(c0, x0, int(to_city.sum()))
    gp[to_prov] = rng.integers(p0, c0, int(to_prov.sum()))
    parent[g0:] = gp
    level[g0:] = 4
    depth = np.zeros(n, dtype=np.int64)
    for i in range(1, n_inner):  # inner units: parents are listed before children
        depth[i] = depth[parent[i]] + 1
    depth[g0:] = depth[gp] + 1
    return {
        "n": n,
        "n_inner": n_inner,
        "n_grass": n_grass,
        "parent": parent,
        "level": level,
        "depth": depth,
        "attached_higher": int(n_grass - to_county.sum()),
    }


def unit_ids(tree: dict) -> list[str]:
    ni = tree["n_inner"]
    c0, x0 = 1 + PROVINCES, 1 + PROVINCES + CITIES
    ids = ["CN"] + [f"P{i:02d}" for i in range(1, PROVINCES + 1)] + [f"C{i:04d}" for i in range(1, CITIES + 1)]
    ids += [f"X{i:05d}" for i in range(1, COUNTIES + 1)]
    assert len(ids) == ni and ids[c0] == "C0001" and ids[x0] == "X00001"
    ids += [f"G{i:07d}" for i in range(tree["n_grass"])]
    return ids


def tree_columns(tree: dict, ids: list[str]) -> tuple:
    """Arguments of ``_core.Hierarchy.from_columns`` (ids double as names)."""
    n = tree["n"]
    parent = tree["parent"]
    ida = np.asarray(ids, dtype=object)
    parents = ida[np.where(parent < 0, 0, parent)]
    parents[parent < 0] = ""
    level_names = np.asarray(LEVELS, dtype=object)[tree["level"]].tolist()
    kinds = ["regional"] * tree["n_inner"] + ["enterprise"] * tree["n_grass"]
    empty = [""] * n
    return ids, ids, level_names, kinds, parents.tolist(), empty, empty, empty


def generate_reports(n: int, codes: list[str], money: set[str], seed: int = SEED + 1) -> dict[str, np.ndarray]:
    """One report per grassroots union: int64 raw values per field (money in 1e-6 万元,
    reported to the 0.01 万元)."""
    rng = np.random.default_rng(seed)
    cols = {}
    size = np.exp(rng.uniform(np.log(20), np.log(20_000), n))  # members: drives the counts
    for j, code in enumerate(codes):
        if code in money:  # 0 .. ~500 万元 in cents of 万元, 10% zero
            cents = np.exp(rng.uniform(0, np.log(50_000), n)).astype(np.int64)
            cents[rng.random(n) < 0.1] = 0
            cols[code] = cents * (MONEY_SCALE // 100)
        else:
            f = rng.uniform(0.0, 0.2 if j % 3 else 1.0, n)
            cols[code] = np.floor(size * f).astype(np.int64)
    return cols


def build_batch(schema, units: list[str], period: str, cols: dict[str, np.ndarray]):
    from unionstat import _core

    batch = _core.ReportBatch(schema)
    batch.set_keys(units, [period] * len(units))
    for code, v in cols.items():
        batch.set_column_raw(code, v)
    return batch


def setup(n_grass: int, schema):
    """Tree + reports, as both the benchmark and the memory subprocess build them."""
    tree = generate_tree(n_grass)
    ids = unit_ids(tree)
    codes = [f.code for f in schema.fields]
    money = {f.code for f in schema.fields if f.type == "money"}
    cols = generate_reports(n_grass, codes, money)
    return tree, ids, codes, cols


# ---------------------------------------------------------------------------------------
# Reference roll-ups
# ---------------------------------------------------------------------------------------
def pandas_rollup(frame, parent: np.ndarray, depth: np.ndarray):
    """Idiomatic pandas: totals = own reports; for each depth from the deepest up,
    groupby(parent).sum() of that depth's rows, added to the parents' rows."""
    tot = frame.copy()
    for d in range(int(depth.max()), 0, -1):
        sel = depth == d
        part = tot[sel].groupby(parent[sel]).sum()
        tot.iloc[part.index] += part.to_numpy()
    return tot


def networkx_graph(ids: list[str], parent: np.ndarray, codes: list[str], leaf: dict[str, np.ndarray], g0: int):
    """A DiGraph parent → child; every unit's report as node attributes (0 for units
    without a report)."""
    import networkx as nx

    G = nx.DiGraph()
    zero = dict.fromkeys(codes, 0)
    G.add_nodes_from((u, zero) for u in ids[:g0])
    rows = zip(*(leaf[c].tolist() for c in codes))
    G.add_nodes_from((u, dict(zip(codes, r))) for u, r in zip(ids[g0:], rows))
    G.add_edges_from((ids[p], ids[i]) for i, p in enumerate(parent.tolist()) if p >= 0)
    return G


def networkx_rollup(G, codes: list[str]) -> dict[str, dict[str, int]]:
    """Reverse topological order; each node's totals added to its parent's."""
    import networkx as nx

    totals = {u: dict(a) for u, a in G.nodes(data=True)}
    for u in reversed(list(nx.topological_sort(G))):
        t = totals[u]
        for p in G.predecessors(u):
            tp = totals[p]
            for c in codes:
                tp[c] += t[c]
    return totals


# ---------------------------------------------------------------------------------------
# Memory (subprocess)
# ---------------------------------------------------------------------------------------
def _rss_now() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux
        import psutil

        return psutil.Process().memory_info().rss


def _hwm() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def memory_child(n_grass: int) -> dict:
    """Builds the same data, then measures the roll-up's peak RSS over the RSS before it.
    The peak is reset with /proc/self/clear_refs (5) where the kernel allows it; else a
    psutil sampling thread watches the RSS."""
    import unionstat as us
    from unionstat import _core

    schema = us.forms()[FORM_ID].schema
    tree, ids, _codes, cols = setup(n_grass, schema)
    h = _core.Hierarchy.from_columns(*tree_columns(tree, ids), "<bench>")
    batch = build_batch(schema, ids[tree["n_inner"] :], "2018", cols)
    del tree
    gc.collect()
    leaf_bytes = sum(v.nbytes for v in cols.values())
    before = _rss_now()
    method = "VmHWM after clear_refs"
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        if _hwm() > _rss_now() + (64 << 20):
            raise OSError("peak not reset")
    except (OSError, RuntimeError):
        method = None
    if method:
        t = time.perf_counter()
        res = _core.rollup(h, batch)
        secs = time.perf_counter() - t
        peak = _hwm()
    else:
        import threading

        import psutil

        proc, peak, stop = psutil.Process(), [before], threading.Event()

        def watch():
            while not stop.is_set():
                peak[0] = max(peak[0], proc.memory_info().rss)
                time.sleep(0.001)

        th = threading.Thread(target=watch)
        th.start()
        t = time.perf_counter()
        res = _core.rollup(h, batch)
        secs = time.perf_counter() - t
        stop.set()
        th.join()
        peak = max(peak[0], proc.memory_info().rss)
        method = "psutil RSS sampled every 1 ms"
    after = _rss_now()
    assert len(res["totals"]) == len(ids)
    return {"before": before, "peak": peak, "after": after, "leaf_bytes": leaf_bytes, "seconds": secs, "method": method}


def measure_memory(n_grass: int) -> dict:
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--memory-child", str(n_grass)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError("memory subprocess failed:\n" + out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------
TIMES: dict[str, list[float]] = {}


def timeit(fn, repeat: int, name: str | None = None):
    """Median wall time of `repeat` calls (the previous result dropped before each call)."""
    times, result = [], None
    for _ in range(repeat):
        result = None
        gc.collect()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    if name:
        TIMES[name] = times
    return statistics.median(times), result


def us_raw(totals, codes: list[str]) -> np.ndarray:
    """unionstat totals as an (units × fields) int64 array, blanks as 0."""
    out = np.empty((len(totals), len(codes)), dtype=np.int64)
    for j, c in enumerate(codes):
        out[:, j] = totals.raw_column(c)[0]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=2_800_000, help="grassroots unions (default 2,800,000)")
    ap.add_argument("--quick", action="store_true", help="100,000 grassroots unions (smoke test)")
    ap.add_argument("--nx-units", type=int, default=100_000, help="grassroots unions in the networkx subset")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of the unionstat and pandas roll-ups (median)")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocess")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--rows", type=int, help=argparse.SUPPRESS)  # run_all.py may pass bench_rules' option
    args = ap.parse_args(argv)
    if args.memory_child is not None:
        print(json.dumps(memory_child(args.memory_child)))
        return 0
    n_grass = 100_000 if args.quick else args.units
    n_nx = min(args.nx_units, n_grass if not args.quick else 20_000)

    import pandas as pd

    import unionstat as us
    from unionstat import _core

    schema = us.forms()[FORM_ID].schema
    t = time.perf_counter()
    tree, ids, codes, cols = setup(n_grass, schema)
    n, n_inner = tree["n"], tree["n_inner"]
    parent, depth = tree["parent"], tree["depth"]
    print(
        f"bench_rollup: {FORM_ID}, {len(codes)} fields; tree of {n:,} units: 1 national, {PROVINCES} provinces, "
        f"{CITIES} cities, {COUNTIES:,} counties, {n_grass:,} grassroots ({tree['attached_higher']:,} = "
        f"{tree['attached_higher'] / n_grass:.1%} attached to a city or province); depth <= {int(depth.max())}; "
        f"seed {SEED}"
    )
    leaf_bytes = sum(v.nbytes for v in cols.values())
    print(
        f"  generated in {time.perf_counter() - t:.1f} s; leaf data {n_grass:,} x {len(codes)} int64 = "
        f"{leaf_bytes / 1e9:.2f} GB"
    )

    # --- unionstat ---
    args_cols = tree_columns(tree, ids)
    t = time.perf_counter()
    h = _core.Hierarchy.from_columns(*args_cols, "<bench>")
    t_tree = time.perf_counter() - t
    del args_cols
    t = time.perf_counter()
    batch = build_batch(schema, ids[n_inner:], "2018", cols)
    t_batch = time.perf_counter() - t
    rep = max(1, args.repeat)
    print(f"  unionstat: tree {t_tree:.2f} s, batch {t_batch:.2f} s")

    # --- unionstat and pandas roll-ups, interleaved so that both meet the same machine ---
    leaf = np.zeros((n, len(codes)), dtype=np.int64)
    for j, c in enumerate(codes):
        leaf[n_inner:, j] = cols[c]
    frame = pd.DataFrame(leaf, columns=codes)
    del leaf
    us_t, us_cpu, pd_t = [], [], []
    res = pd_tot = None

    def run_us():
        nonlocal res
        res = None
        gc.collect()
        c0, t0 = os.times(), time.perf_counter()
        res = _core.rollup(h, batch)
        us_t.append(time.perf_counter() - t0)
        c1 = os.times()
        us_cpu.append((c1.user - c0.user, c1.system - c0.system))

    def run_pd():
        nonlocal pd_tot
        pd_tot = None
        gc.collect()
        t0 = time.perf_counter()
        pd_tot = pandas_rollup(frame, parent, depth)  # noqa: F821 - frame is deleted only after the runs
        pd_t.append(time.perf_counter() - t0)

    for i in range(rep):
        for run in (run_us, run_pd) if i % 2 == 0 else (run_pd, run_us):
            run()
    t_us, t_pd = statistics.median(us_t), statistics.median(pd_t)
    TIMES["unionstat"], TIMES["pandas"] = us_t, pd_t
    totals = res["totals"]
    assert len(totals) == n and list(res["unknown_units"]) == []
    pd_raw = pd_tot.to_numpy()
    del pd_tot, frame
    print(
        f"  unionstat roll-up: {t_us:.3f} s (median of {', '.join(f'{x:.3f}' for x in us_t)}; CPU user+sys "
        f"{', '.join(f'{u:.2f}+{s_:.2f}' for u, s_ in us_cpu)} s)"
    )

    def us_frame():
        return pd.DataFrame({c: totals.raw_column(c)[0] for c in codes}, index=pd.Index(totals.units, name="unit"))

    t_df, _ = timeit(us_frame, 1)
    got = us_raw(totals, codes)
    reports = np.asarray(res["reports"], dtype=np.int64)
    assert pd_raw.shape == got.shape
    bad = np.argwhere(pd_raw != got)
    if len(bad):
        i, j = bad[0]
        print(
            f"MISMATCH pandas vs unionstat at {len(bad)} cells, first: unit {ids[i]} field {codes[j]}: "
            f"pandas {pd_raw[i, j]}, unionstat {got[i, j]}",
            file=sys.stderr,
        )
    assert len(bad) == 0, "pandas totals differ from unionstat's"
    # every total is the column sum at the root, and blank exactly where no report is below
    assert (got[0] == np.array([cols[c].sum() for c in codes])).all()
    blank = np.array([totals.is_missing(i, 0) for i in range(n_inner)])
    assert (blank == (reports[:n_inner] == 0)).all()
    print(
        f"  pandas level-wise groupby: {t_pd:.2f} s (median of {', '.join(f'{x:.2f}' for x in pd_t)}); "
        f"totals == unionstat's for all {n:,} units x {len(codes)} fields"
    )
    del pd_raw

    # --- networkx on a subset ---
    sub_ids = ids[: n_inner + n_nx]
    sub_parent = parent[: n_inner + n_nx]
    sub_cols = {c: cols[c][:n_nx] for c in codes}
    t = time.perf_counter()
    G = networkx_graph(sub_ids, sub_parent, codes, sub_cols, n_inner)
    t_nxg = time.perf_counter() - t
    t_nx, nx_tot = timeit(lambda: networkx_rollup(G, codes), 1)  # noqa: F821 - G is deleted only after the run
    h_sub = _core.Hierarchy.from_columns(
        *tree_columns(
            {
                "n": n_inner + n_nx,
                "n_inner": n_inner,
                "n_grass": n_nx,
                "parent": sub_parent,
                "level": tree["level"][: n_inner + n_nx],
            },
            sub_ids,
        ),
        "<bench subset>",
    )
    b_sub = build_batch(schema, sub_ids[n_inner:], "2018", sub_cols)
    t_us_sub, r_sub = timeit(lambda: _core.rollup(h_sub, b_sub), rep)
    got_sub = us_raw(r_sub["totals"], codes)
    nx_raw = np.array([[nx_tot[u][c] for c in codes] for u in sub_ids], dtype=np.int64)
    assert (nx_raw == got_sub).all(), "networkx totals differ from unionstat's"
    scale = n / len(sub_ids)
    t_nx_scaled = t_nx * scale
    print(
        f"  networkx on {len(sub_ids):,} units ({n_nx:,} grassroots): graph {t_nxg:.2f} s, roll-up {t_nx:.2f} s; "
        f"totals == unionstat's on that subset; unionstat on the subset {t_us_sub:.4f} s"
    )
    del G, nx_tot, nx_raw

    # --- memory ---
    mem = None
    if not args.no_memory:
        del got, res, totals, batch, h
        gc.collect()
        mem = measure_memory(n_grass)
        extra = mem["peak"] - mem["before"]
        print(
            f"  memory (subprocess, {mem['method']}): RSS before roll-up {mem['before'] / 1e9:.2f} GB, peak "
            f"{mem['peak'] / 1e9:.2f} GB, after {mem['after'] / 1e9:.2f} GB; peak extra {extra / 1e9:.2f} GB "
            f"(result alone: {n:,} x {len(codes)} int64 = {n * len(codes) * 8 / 1e9:.2f} GB); "
            f"that single first call took {mem['seconds']:.3f} s"
        )

    # --- table ---
    def row(name, value, base, target=None, ok_if_ge=True, unit="s"):
        ratio = value / base
        tgt = "" if target is None else (f">= {target:g}x" if ok_if_ge else f"<= {target:g}x")
        met = "" if target is None else ("yes" if (ratio >= target if ok_if_ge else ratio <= target) else "NO")
        v = f"{value:12.3f}" if unit == "s" else f"{value / 1e9:9.2f} GB"
        print(f"  {name:58} {v:>12} {ratio:9.2f}x  {tgt:>9} {met:>4}")

    print(f"\nroll-up, {n:,} units x {len(codes)} fields (seconds; ratio = method / unionstat roll-up)")
    if n_grass != 2_800_000:
        print(f"  (the targets are set for the national size, 2,800,000 grassroots; at {n_grass:,} they only indicate)")
    print(f"  {'method':58} {'seconds':>12} {'ratio':>10}  {'target':>9} {'met':>4}")
    row(f"unionstat roll-up (_core.rollup, median of {rep})", t_us, t_us)
    row("unionstat tree build (Hierarchy.from_columns)", t_tree, t_us)
    row("unionstat batch build (set_column_raw, int64)", t_batch, t_us)
    row("unionstat result -> int64 DataFrame (raw_column)", t_df, t_us)
    row(f"pandas level-wise groupby (int64, median of {rep})", t_pd, t_us, 5)
    row(f"networkx, SCALED x{scale:.1f} from {len(sub_ids):,} units", t_nx_scaled, t_us, 100)
    row(f"networkx, measured on {len(sub_ids):,} units (vs unionstat there)", t_nx, t_us_sub)
    if mem is not None:
        extra = mem["peak"] - mem["before"]
        print("\npeak memory of the unionstat roll-up (ratio = peak extra / leaf data)")
        row("peak extra RSS during _core.rollup", extra, mem["leaf_bytes"], 1.3, ok_if_ge=False, unit="B")
        print(f"  {'leaf data (' + f'{n_grass:,} x {len(codes)} int64)':58} {mem['leaf_bytes'] / 1e9:9.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
