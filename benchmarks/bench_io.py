"""Benchmark: whole jobs as users run them (file in, result out), unionstat vs polars and duckdb.

The ``unionstat`` command line (or ``Hierarchy.read``) against what a user would pick
instead, polars and duckdb, on the same files in the same run.

Every contender is a **whole process** (interpreter start-up and imports included), timed
wall-clock from spawn to exit; its peak RSS is the child's own ``ru_maxrss`` from
``os.wait4`` (what ``/usr/bin/time -v`` prints as "Maximum resident set size"). The
contenders of a job run interleaved (A B C, A B C, … for ``--rounds`` rounds) so that a
shared machine's drift hits them alike; the script prints each one's median seconds, the
ratio unionstat / contender (the median of the per-round ratios), the peak RSS (the
largest of the rounds), the median CPU seconds (user + system: less swayed by a busy
machine than wall time, and above it where a contender uses both cores), and the job's
target with whether it is met. A missed target is printed, never an error; a contender
whose process fails is shown with its stderr tail and left out of the rounds after that.
Every output goes to /dev/null. Before a job its input files are read once, so that every
contender finds them in the page cache.

Jobs (``--jobs``, full sizes; ``--scale`` multiplies the row counts):

* ``csv``      ``unionstat validate reports.csv --form songnuan-2018 --format csv`` on a
               1,000,000-report songnuan-2018 CSV (~255 MB: 12-digit unit ids, period
               2018, all 60 fields; the values of ``bench_rules.generate`` — counts, money
               to 2 decimals, blanks, ~1% planted rule violations — with the columns no
               rule reads redrawn as a grassroots union's small counts) vs
               ``pl.read_csv(path)`` and ``duckdb.read_csv(path).to_arrow_table()``
               (materialised; ``count(*)`` would not read the cells). Target: unionstat
               ≤ 1.0× polars merely reading the file, peak RSS ≤ 600 MB.
* ``parquet``  the same reports as Parquet written by pyarrow (counts int64, money float64,
               blanks null) vs ``pl.read_parquet`` and duckdb ``read_parquet``; same target.
* ``tree``     ``Hierarchy.read(units.csv)`` of a 2.8 M-grassroots national units file
               (``id,name,level,kind,parent,secondary_parents,valid_from,valid_to``; a ragged
               tree of 41 province-level unions, ~410 cities, ~2,900 counties, some of the
               grassroots directly under a city or a province), written by
               ``benchmarks/gen_units.py`` when it is there (else by this script: 95% under a
               county, 3.5% under a city, 1.5% under a province, 12-digit ids), vs
               ``pl.read_csv`` of it. No target: for the record.
* ``rollup``   ``unionstat rollup leaves.parquet --tree units.csv --form songnuan-2018
               --format csv`` of one report per grassroots unit of that tree vs the same
               roll-up written in polars (read units and reports, join, then level-wise
               ``group_by`` up the parent chain by depth, so that grassroots hanging under a
               city or a province are counted right) and in duckdb SQL (an ancestor closure
               by a recursive CTE, then one ``GROUP BY``). Each writes every unit's totals
               as CSV, as the unionstat command prints them. Before timing, the three are
               run on a small tree and their inner units' totals of all 60 fields compared
               (printed). Target: unionstat ≤ 0.5× polars.
* ``xlsx``     ``unionstat validate reports.xlsx --form songnuan-2018`` of a 100,000-row XLSX
               (xlsxwriter, ``constant_memory``) vs the fast readers alone: fastexcel
               ``read_excel(p).load_sheet(0).to_arrow()`` and python-calamine
               ``CalamineWorkbook.from_path(p).get_sheet_by_index(0).to_python()``.
               Target: unionstat ≤ 1.5× fastexcel.

A start-up row (``python -c "import unionstat"``, ``unionstat forms``, ``import polars``,
``import duckdb``) is printed first: it is part of every whole-process figure.

Files are written to ``--data`` (default ``benchmarks/.data``, git-ignored) under names
that carry their size, with a ``.json`` beside each holding the parameters; a file whose
parameters match is reused. Without ``--keep`` the files are removed at the end.

Not a timed test: ``python benchmarks/bench_io.py [--scale 0.05] [--rounds 5]
[--jobs csv,parquet,tree,rollup,xlsx] [--data DIR] [--keep] [--json out.json]``, or
``python benchmarks/run_all.py``. Needs the ``bench`` extras (polars, duckdb, fastexcel,
python-calamine, xlsxwriter, pyarrow).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
FORM_ID = "songnuan-2018"
SEED = 2018
GEN_VERSION = 1  # bump when a generator changes: files of another version are rewritten
FULL = {"reports": 1_000_000, "grassroots": 2_800_000, "xlsx": 100_000}
PROVINCES, INDUSTRY, CITIES, COUNTIES = 31, 10, 410, 2_900  # 41 province-level unions
TO_CITY, TO_PROVINCE = 0.035, 0.015  # grassroots attached higher up
SECONDARY = 0.01  # grassroots also under a national industry union
SMALL_COUNTS = [
    "03F",
    "04C",
    "04G",
    "07A",
    "07B",
    "07C",
    "07D",
    "07E",
    "07F",
    "07G",
    "07H",
    "07K",
    "08A",
    "08B",
    "10L",
    "10M",
]  # read by no rule of songnuan-2018
JOBS = ["csv", "parquet", "tree", "rollup", "xlsx"]
MB = 1_000_000


# ---------------------------------------------------------------------------------------
# Whole processes
# ---------------------------------------------------------------------------------------
@dataclass
class Run:
    seconds: float
    max_rss: int  # bytes
    cpu: float  # user + system seconds
    status: int
    stderr: str


#: The spawner: a small process (stdlib only, started before any data is made) that runs
#: each child and reaps it with ``os.wait4``. A child's ``ru_maxrss`` counts the memory
#: of the process it was forked from (Linux records the old address space's peak at
#: exec), so the children are forked from this small process, not from the benchmark,
#: which holds the generated data: their figures then include at most the spawner's
#: ~10 MB.
SPAWNER = r"""
import json, os, subprocess, sys, tempfile, time
for line in sys.stdin:
    req = json.loads(line)
    with tempfile.TemporaryFile() as err, open(os.devnull, "wb") as null:
        t = time.perf_counter()
        p = subprocess.Popen(req["argv"], stdin=subprocess.DEVNULL, stdout=null, stderr=err)
        deadline, killed = t + req["timeout"], False
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                killed = True
                pid, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.002)
        secs = time.perf_counter() - t
        p.returncode = code = os.waitstatus_to_exitcode(status)  # reaped here
        err.seek(0)
        text = err.read()[-8000:].decode("utf-8", "replace") + ("\n(killed after the timeout)" if killed else "")
    print(json.dumps({"seconds": secs, "max_rss": usage.ru_maxrss * 1024, "cpu": usage.ru_utime + usage.ru_stime,
                      "status": code, "stderr": text}), flush=True)
"""


class Spawner:
    """Runs whole processes from the small spawner process (see :data:`SPAWNER`)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-c", SPAWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run(self, argv: list[str], timeout: float) -> Run:
        """Wall time from spawn to exit (stdout to /dev/null) and the child's peak RSS."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"argv": argv, "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        return Run(**json.loads(self.proc.stdout.readline()))

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait()


@dataclass
class Contender:
    name: str
    argv: list[str]
    ok_status: tuple[int, ...] = (0,)
    runs: list[Run | None] = field(default_factory=list)
    failed: Run | None = None


@dataclass
class Job:
    key: str
    title: str
    contenders: list[Contender]  # the first is unionstat's
    target: tuple[str, float] | None = None  # (contender name, max ratio)
    rss_limit: int | None = None  # bytes, for the unionstat contender
    notes: list[str] = field(default_factory=list)


def tail(text: str, lines: int = 12) -> str:
    return "\n".join("      " + s for s in text.rstrip().splitlines()[-lines:])


def run_job(job: Job, rounds: int, timeout: float, spawner: Spawner) -> None:
    """Runs the contenders interleaved, round after round; a failed one drops out."""
    for r in range(rounds):
        for c in job.contenders:
            if c.failed is not None:
                c.runs.append(None)
                continue
            res = spawner.run(c.argv, timeout)
            if res.status not in c.ok_status:
                c.failed = res
                c.runs.append(None)
                print(f"  ! {c.name} failed in round {r + 1} (exit {res.status}, {res.seconds:.1f} s):", flush=True)
                print(tail(res.stderr), flush=True)
                continue
            c.runs.append(res)
        done = ", ".join(f"{c.name} {c.runs[-1].seconds:.2f}s" for c in job.contenders if c.runs[-1] is not None)
        print(f"  round {r + 1}/{rounds}: {done}", flush=True)


def summarise(job: Job) -> dict[str, Any]:
    """Medians, per-pair ratios and peaks; prints the job's table."""
    us_c = job.contenders[0]
    rows = []
    out: dict[str, Any] = {"job": job.key, "title": job.title, "contenders": [], "notes": job.notes}
    for c in job.contenders:
        good = [r for r in c.runs if r is not None]
        med = statistics.median(r.seconds for r in good) if good else None
        cpu = statistics.median(r.cpu for r in good) if good else None
        peak = max(r.max_rss for r in good) if good else None
        ratios = [a.seconds / b.seconds for a, b in zip(us_c.runs, c.runs) if a is not None and b is not None]
        ratio = statistics.median(ratios) if ratios and c is not us_c else None
        failed = None if c.failed is None else {"status": c.failed.status, "stderr_tail": c.failed.stderr[-2000:]}
        rec = {
            "name": c.name,
            "median_s": med,
            "median_cpu_s": cpu,
            "seconds": [r.seconds if r else None for r in c.runs],
            "ratio": ratio,
            "peak_rss_mb": peak / MB if peak else None,
            "failed": failed,
        }
        out["contenders"].append(rec)
        rows.append(rec)
    w = max(len(r["name"]) for r in rows)
    print(
        f"  {'contender':{w}}  {'median s':>9}  {'unionstat/x':>11}  {'peak RSS':>10}  {'cpu s':>7}"
        "  wall s of the rounds"
    )
    for r in rows:
        med = f"{r['median_s']:9.2f}" if r["median_s"] is not None else f"{'failed':>9}"
        ratio = f"{r['ratio']:10.2f}x" if r["ratio"] is not None else f"{'—':>11}"
        rss = f"{r['peak_rss_mb']:7,.0f} MB" if r["peak_rss_mb"] else f"{'—':>10}"
        runs = " ".join(f"{s:.2f}" if s is not None else "-" for s in r["seconds"])
        cpu = f"{r['median_cpu_s']:7.2f}" if r["median_cpu_s"] is not None else f"{'—':>7}"
        print(f"  {r['name']:{w}}  {med}  {ratio}  {rss}  {cpu}  [{runs}]")
    verdicts = []
    if job.target:
        name, limit = job.target
        rec = next(r for r in rows if r["name"] == name)
        if rec["ratio"] is None:
            verdicts.append(f"unionstat ≤ {limit:g}× {name}: not measured")
            out["target_met"] = None
        else:
            met = rec["ratio"] <= limit
            out["target_met"] = met
            verdicts.append(f"unionstat ≤ {limit:g}× {name}: {rec['ratio']:.2f}× — {'met' if met else 'MISSED'}")
        out["target"] = {"contender": name, "max_ratio": limit}
    if job.rss_limit:
        peak = rows[0]["peak_rss_mb"]
        if peak is None:
            verdicts.append(f"unionstat peak RSS ≤ {job.rss_limit / MB:,.0f} MB: not measured")
            out["rss_met"] = None
        else:
            met = peak * MB <= job.rss_limit
            out["rss_met"] = met
            verdicts.append(
                f"unionstat peak RSS ≤ {job.rss_limit / MB:,.0f} MB: {peak:,.0f} MB — {'met' if met else 'MISSED'}"
            )
        out["rss_limit_mb"] = job.rss_limit / MB
    for v in verdicts:
        print(f"  target: {v}")
    if not verdicts:
        print("  target: none (for the record)")
    return out


def warm(paths: list[Path]) -> None:
    """Reads the files once, so that the first contender does not pay for the disk."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------
def _meta_ok(path: Path, params: dict[str, Any]) -> bool:
    meta = path.with_name(path.name + ".json")
    if not (path.is_file() and meta.is_file()):
        return False
    try:
        return json.loads(meta.read_text()) == params
    except (OSError, ValueError):
        return False


def meta_of(path: Path) -> dict[str, Any]:
    """The parameters a generated file was made with."""
    return json.loads(path.with_name(path.name + ".json").read_text())


def _write_meta(path: Path, params: dict[str, Any]) -> None:
    path.with_name(path.name + ".json").write_text(json.dumps(params, sort_keys=True))


def cached(path: Path, params: dict[str, Any], make: Callable[[Path], None], made: list[Path]) -> Path:
    """``make(path)`` unless a file with the same parameters is there already."""
    params = {"gen": GEN_VERSION, **params}
    made += [path, path.with_name(path.name + ".json")]
    if _meta_ok(path, params):
        print(f"  reusing {path} ({path.stat().st_size / MB:,.1f} MB)", flush=True)
        return path
    t = time.perf_counter()
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    make(tmp)
    tmp.replace(path)
    _write_meta(path, params)
    print(f"  wrote {path} ({path.stat().st_size / MB:,.1f} MB) in {time.perf_counter() - t:.1f} s", flush=True)
    return path


def _seq_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within each group value, in the order of appearance."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    starts = np.searchsorted(g, g, side="left")
    out = np.empty(len(groups), dtype=np.int64)
    out[order] = np.arange(len(groups), dtype=np.int64) - starts
    return out


def _attach(rng: np.random.Generator, k: int, m: int) -> np.ndarray:
    """Parents (0 … m-1) of k children: each parent at least one while k ≥ m, the rest
    skewed (lognormal weights)."""
    w = rng.lognormal(0.0, 0.7, m)
    first = rng.permutation(m)[: min(k, m)]
    rest = rng.choice(m, size=max(k - m, 0), p=w / w.sum())
    return rng.permutation(np.concatenate([first, rest]).astype(np.int64))


def generate_units(n_grass: int, seed: int = SEED) -> dict[str, Any]:
    """A ragged national tree as columns. Ids as the administrative codes run: national
    ``000000``, province-level ``PP0000``, city ``PPCC00``, county ``PPCCXX``, grassroots
    the 6-digit code of its parent and a 6-digit number (``630102000123``)."""
    rng = np.random.default_rng(seed)
    n_prov = PROVINCES + INDUSTRY
    prov = (11 + np.arange(n_prov, dtype=np.int64)) * 10_000
    city_p = _attach(rng, CITIES, n_prov)
    city_seq = _seq_within(city_p) + 1
    county_c = _attach(rng, COUNTIES, CITIES)
    county_seq = _seq_within(county_c) + 1
    assert city_seq.max() < 100 and county_seq.max() < 100
    city = prov[city_p] + city_seq * 100
    county = city[county_c] + county_seq
    u = rng.random(n_grass)
    to_prov = u < TO_PROVINCE
    to_city = (u >= TO_PROVINCE) & (u < TO_PROVINCE + TO_CITY)
    to_county = ~(to_prov | to_city)
    parent = np.empty(n_grass, dtype=np.int64)
    parent[to_county] = county[_attach(rng, int(to_county.sum()), COUNTIES)]
    parent[to_city] = city[rng.integers(0, CITIES, int(to_city.sum()))]
    parent[to_prov] = prov[rng.integers(0, PROVINCES, int(to_prov.sum()))]  # regional ones
    gid = parent * 1_000_000 + _seq_within(parent) + 1
    assert (gid < 10**12).all()
    secondary = np.where(rng.random(n_grass) < SECONDARY, prov[PROVINCES + rng.integers(0, INDUSTRY, n_grass)], -1)
    return {
        "prov": prov,
        "city": city,
        "city_parent": prov[city_p],
        "county": county,
        "county_parent": city[county_c],
        "grass": gid,
        "grass_parent": parent,
        "grass_secondary": secondary,
    }


def write_units_csv(path: Path, n_grass: int, seed: int = SEED) -> None:
    """The units file of :func:`generate_units` (via polars)."""
    import polars as pl

    t = generate_units(n_grass, seed)
    n_prov = len(t["prov"])

    def code(a: np.ndarray) -> pl.Series:
        return pl.Series(a).cast(pl.String).str.zfill(6)

    inner = pl.concat(
        [
            pl.DataFrame(
                {
                    "id": ["000000"],
                    "name": ["中华全国总工会"],
                    "level": ["national"],
                    "kind": ["regional"],
                    "parent": [None],
                },
                schema_overrides={"parent": pl.String},
            ),
            pl.DataFrame(
                {
                    "id": code(t["prov"]),
                    "name": [
                        f"第{i + 1}省总工会" if i < PROVINCES else f"第{i + 1 - PROVINCES}全国产业工会"
                        for i in range(n_prov)
                    ],
                    "level": "province",
                    "kind": ["regional"] * PROVINCES + ["industry"] * INDUSTRY,
                    "parent": "000000",
                }
            ),
            pl.DataFrame(
                {
                    "id": code(t["city"]),
                    "name": code(t["city"]) + "市总工会",
                    "level": "city",
                    "kind": "regional",
                    "parent": code(t["city_parent"]),
                }
            ),
            pl.DataFrame(
                {
                    "id": code(t["county"]),
                    "name": code(t["county"]) + "县总工会",
                    "level": "county",
                    "kind": "regional",
                    "parent": code(t["county_parent"]),
                }
            ),
        ],
        how="vertical",
    )
    rng = np.random.default_rng(seed + 7)
    words = pl.Series(
        [
            "机械",
            "纺织",
            "电力",
            "煤业",
            "建设",
            "交通",
            "商贸",
            "食品",
            "化工",
            "医药",
            "电子",
            "钢铁",
            "建材",
            "物流",
            "信息",
            "教育",
            "卫生",
            "农业",
            "水利",
            "邮政",
        ]
    )
    suffix = pl.Series(["有限公司工会", "股份有限公司工会", "集团工会", "厂工会", "联合工会"])
    n = len(t["grass"])
    gid = pl.Series(t["grass"]).cast(pl.String)
    grass = (
        pl.DataFrame(
            {
                "id": gid,
                "name": (
                    words.gather(rng.integers(0, len(words), n))
                    + gid.str.slice(6)
                    + suffix.gather(rng.integers(0, len(suffix), n))
                ),
                "level": pl.Series(["grassroots"] * n, dtype=pl.String),
                "kind": pl.Series(np.where(rng.random(n) < 0.85, "enterprise", "regional"), dtype=pl.String),
                "parent": code(t["grass_parent"]),
                "sec": t["grass_secondary"],
            }
        )
        .with_columns(
            secondary_parents=pl.when(pl.col("sec") >= 0)
            .then(pl.col("sec").cast(pl.String).str.zfill(6))
            .otherwise(pl.lit(""))
        )
        .drop("sec")
    )
    inner = inner.with_columns(secondary_parents=pl.lit(""))
    units = pl.concat([inner, grass], how="vertical")
    units = units.with_columns(valid_from=pl.lit(""), valid_to=pl.lit(""))
    units.write_csv(path, null_value="")


def units_file(data: Path, n_grass: int, made: list[Path], prefix: str = "") -> Path:
    """The units file: ``benchmarks/gen_units.py``'s ``generate(path, grassroots=n)`` when
    it is there (regenerated when that script changes), else :func:`write_units_csv`."""
    path = data / f"{prefix}units_{n_grass}.csv"
    helper = HERE / "gen_units.py"
    if helper.is_file():
        sys.path.insert(0, str(HERE))
        try:
            import gen_units  # type: ignore[import-not-found]
        finally:
            sys.path.pop(0)
        fn = getattr(gen_units, "generate", None)
        if callable(fn):
            digest = hashlib.sha1(helper.read_bytes()).hexdigest()[:12]
            return cached(
                path, {"units": n_grass, "by": f"gen_units.py {digest}"}, lambda p: fn(p, grassroots=n_grass), made
            )
        print("  benchmarks/gen_units.py has no generate(path, grassroots=n): using bench_io's generator")
    return cached(path, {"units": n_grass, "by": "bench_io", "seed": SEED}, lambda p: write_units_csv(p, n_grass), made)


def reports_frame(n: int, units: Any = None, seed_shift: int = 0):
    """n songnuan-2018 reports as a polars DataFrame: ``bench_rules.generate``'s values
    (counts int64, money float64 to 2 decimals, blanks null, ~1% planted violations), a
    few blank counts more, 12-digit unit ids (given, or made up under the counties)."""
    import polars as pl

    import unionstat as us

    sys.path.insert(0, str(HERE))
    try:
        from bench_rules import generate
    finally:
        sys.path.pop(0)
    df, _money = generate(n, us.forms()[FORM_ID].schema)
    if units is None:
        rng = np.random.default_rng(SEED + 11 + seed_shift)
        county = generate_units(0)["county"]
        parent = county[rng.integers(0, len(county), n)]
        units = parent * 1_000_000 + _seq_within(parent) + 1
    frame = pl.from_pandas(df, nan_to_null=True)
    rng = np.random.default_rng(SEED + 13 + seed_shift)
    # columns no rule reads: a grassroots union's small counts (0 … 399 人次, a third 0)
    small = {
        c: np.where(rng.random(n) < 0.3, 0, np.floor(np.exp(rng.uniform(0, np.log(400), n))).astype(np.int64) - 1)
        for c in SMALL_COUNTS
    }
    frame = frame.with_columns(**{c: pl.Series(v) for c, v in small.items()})
    blanks = {c: pl.Series(rng.random(n) < 0.003) for c in ("03F", "10L")}  # rules skip over these
    frame = frame.with_columns(
        unit=pl.Series("unit", units).cast(pl.String),
        period=pl.lit("2018"),
        **{c: pl.when(m).then(None).otherwise(pl.col(c)) for c, m in blanks.items()},
    )
    return frame


def write_reports_csv(path: Path, frame) -> None:
    frame.write_csv(path, float_precision=2, null_value="")


def write_parquet(path: Path, frame) -> None:
    import pyarrow.parquet as pq

    pq.write_table(frame.to_arrow(), path)


def write_xlsx(path: Path, frame) -> None:
    """One sheet, header row then one row per report; text ids, numbers as numbers,
    blanks left empty (xlsxwriter ``constant_memory``: row by row)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("songnuan-2018")
    ws.write_row(0, 0, frame.columns)
    cols = [frame[c].to_list() for c in frame.columns]
    text = {frame.columns.index(c) for c in ("unit", "period")}
    for i, row in enumerate(zip(*cols), start=1):
        for j, v in enumerate(row):
            if v is None:
                continue
            if j in text:
                ws.write_string(i, j, v)
            else:
                ws.write_number(i, j, v)
    wb.close()


# ---------------------------------------------------------------------------------------
# The contenders' programs
# ---------------------------------------------------------------------------------------
PL_READ_CSV = "import sys, polars as pl; df = pl.read_csv(sys.argv[1]); assert df.height"
PL_READ_PARQUET = "import sys, polars as pl; df = pl.read_parquet(sys.argv[1]); assert df.height"
DUCK_READ_CSV = "import sys, duckdb; t = duckdb.read_csv(sys.argv[1]).to_arrow_table(); assert t.num_rows"
DUCK_READ_PARQUET = "import sys, duckdb; t = duckdb.read_parquet(sys.argv[1]).to_arrow_table(); assert t.num_rows"
US_READ_TREE = "import sys, unionstat as us; t = us.Hierarchy.read(sys.argv[1]); assert len(t)"
FASTEXCEL = "import sys, fastexcel; t = fastexcel.read_excel(sys.argv[1]).load_sheet(0).to_arrow(); assert t.num_rows"
CALAMINE = (
    "import sys; from python_calamine import CalamineWorkbook; "
    "rows = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python(); assert rows"
)

#: Roll-up in polars: every unit's totals of all fields, written as CSV (argv: units, reports, out).
PL_ROLLUP = r"""
import sys
import polars as pl

units_path, reports_path, out = sys.argv[1:4]
units = pl.read_csv(units_path, columns=["id", "parent"], schema_overrides={"id": pl.String, "parent": pl.String})
rep = pl.read_parquet(reports_path)
fields = [c for c in rep.columns if c not in ("unit", "period")]
# inner units: those that are someone's parent; their depth along the parent chain
inner = units.join(units.select(pl.col("parent").alias("id")).drop_nulls().unique(), on="id", how="semi")
parent_of = dict(zip(inner["id"].to_list(), inner["parent"].to_list()))
depth = {}
for u in parent_of:
    chain = []
    while u is not None and u not in depth:
        chain.append(u)
        u = parent_of.get(u)
    d = -1 if u is None else depth[u]
    for v in reversed(chain):
        d += 1
        depth[v] = d
inner = inner.with_columns(depth=pl.col("id").replace_strict(depth, return_dtype=pl.Int32))
# each leaf's report goes to its parent, an inner unit's own report to itself
leaf_rep = rep.join(inner, left_on="unit", right_on="id", how="anti")
own = (leaf_rep.join(units, left_on="unit", right_on="id", how="inner")
       .group_by("parent").agg(pl.col(fields).sum()).rename({"parent": "id"}))
inner_rep = rep.join(inner, left_on="unit", right_on="id", how="semi").rename({"unit": "id"}).drop("period")
direct = pl.concat([own, inner_rep.select(own.columns)], how="vertical").group_by("id").agg(pl.col(fields).sum())
tot = inner.join(direct, on="id", how="left").with_columns(pl.col(fields).fill_null(0))
# level-wise up the chain, deepest first: a level's totals added to its parents'
for d in range(int(tot["depth"].max()), 0, -1):
    part = (tot.filter(pl.col("depth") == d).group_by("parent").agg(pl.col(fields).sum())
            .rename({"parent": "id"}))
    tot = (tot.join(part, on="id", how="left", suffix="_c")
           .with_columns([(pl.col(f) + pl.col(f + "_c").fill_null(0)).alias(f) for f in fields])
           .drop([f + "_c" for f in fields]))
totals = pl.concat([leaf_rep.select(["unit", *fields]),
                    tot.select(pl.col("id").alias("unit"), *[pl.col(f).cast(leaf_rep.schema[f]) for f in fields])],
                   how="vertical")
totals.write_csv(out)
"""

#: Roll-up in duckdb SQL: ancestor closure of the inner units, then one GROUP BY.
DUCK_ROLLUP = r'''
import sys
import duckdb

units_path, reports_path, out = sys.argv[1:4]
con = duckdb.connect()
con.execute("CREATE TABLE units AS SELECT id, parent FROM read_csv(?, all_varchar = true)", [units_path])
con.execute("CREATE TABLE rep AS SELECT * FROM read_parquet(?)", [reports_path])
fields = [c for c in con.table("rep").columns if c not in ("unit", "period")]
sums = ", ".join(f'sum("{f}") AS "{f}"' for f in fields)
cols = ", ".join(f'"{f}"' for f in fields)
con.execute("CREATE TABLE inner_u AS SELECT id, parent FROM units WHERE id IN (SELECT parent FROM units)")
con.execute(f"""
COPY (
  WITH RECURSIVE anc(id, a) AS (
    SELECT id, id FROM inner_u
    UNION ALL
    SELECT anc.id, i.parent FROM anc JOIN inner_u i ON i.id = anc.a WHERE i.parent IS NOT NULL
  ),
  direct AS (
    SELECT coalesce(iu.id, u.parent) AS p, {sums}
    FROM rep r JOIN units u ON r.unit = u.id LEFT JOIN inner_u iu ON r.unit = iu.id
    GROUP BY 1
  ),
  totals AS (SELECT anc.a AS unit, {sums} FROM direct d JOIN anc ON d.p = anc.id GROUP BY 1)
  SELECT unit, {cols} FROM rep WHERE unit NOT IN (SELECT id FROM inner_u)
  UNION ALL
  SELECT unit, {cols} FROM totals
) TO '{out}' (FORMAT csv, HEADER)
""")
'''


def py(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def unionstat_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("unionstat")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "unionstat"]


def validate_has_output() -> bool:
    """Whether ``unionstat validate`` takes ``--output`` (else stdout goes to /dev/null)."""
    out = subprocess.run([*unionstat_cmd(), "validate", "--help"], capture_output=True, text=True, check=False)
    return "--output" in out.stdout


# ---------------------------------------------------------------------------------------
# Roll-up check on a small tree
# ---------------------------------------------------------------------------------------
def verify_rollup(data: Path, made: list[Path], timeout: float) -> str:
    """unionstat, polars and duckdb roll up the same small tree; every inner unit's total
    of every field must agree (counts exactly, money to the cent; blank totals as 0)."""
    import polars as pl

    n = 20_000
    units = units_file(data, n, made, prefix="verify_")
    leaves = cached(
        data / f"verify_leaves_{n}.parquet",
        {"leaves": n, "units": meta_of(units), "seed": SEED},
        lambda p: write_parquet(p, leaves_frame(units)),
        made,
    )
    outs = {k: data / f"verify_{k}.csv" for k in ("unionstat", "polars", "duckdb")}
    made += list(outs.values())
    cmds = {
        "unionstat": [
            *unionstat_cmd(),
            "rollup",
            str(leaves),
            "--tree",
            str(units),
            "--form",
            FORM_ID,
            "--format",
            "csv",
        ],
        "polars": py(PL_ROLLUP, str(units), str(leaves), str(outs["polars"])),
        "duckdb": py(DUCK_ROLLUP, str(units), str(leaves), str(outs["duckdb"])),
    }
    for k, argv in cmds.items():
        if k == "unionstat":
            with open(outs[k], "wb") as f:
                res = subprocess.run(argv, stdout=f, stderr=subprocess.PIPE, check=False, timeout=timeout)
        else:
            res = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, timeout=timeout)
        if res.returncode not in (0, 1):
            why = tail(res.stderr.decode("utf-8", "replace"))
            return f"{k} failed on the small tree (exit {res.returncode}):\n{why}"
    fields = [c for c in pl.read_parquet(leaves, n_rows=0).columns if c not in ("unit", "period")]
    u = pl.read_csv(units, columns=["id", "parent"], schema_overrides={"id": pl.String, "parent": pl.String})
    inner = set(u["parent"].drop_nulls().to_list())

    def load(p: Path) -> pl.DataFrame:
        df = pl.read_csv(p, infer_schema=False).select(["unit", *fields])
        df = df.filter(pl.col("unit").is_in(list(inner))).sort("unit")
        return df.with_columns([pl.col(f).cast(pl.Float64).fill_null(0).round(2) for f in fields])

    frames = {k: load(p) for k, p in outs.items()}
    ref = frames["unionstat"]
    lines = []
    for k in ("polars", "duckdb"):
        df = frames[k]
        if df["unit"].to_list() != ref["unit"].to_list():
            lines.append(f"{k}: {df.height} inner units vs unionstat's {ref.height}")
            continue
        bad = [(f, int((df[f] - ref[f]).abs().gt(0.004).sum())) for f in fields]
        bad = [b for b in bad if b[1]]
        top = ref.filter(pl.col("unit").is_in(u.filter(pl.col("parent").is_null())["id"].to_list()))
        lines.append(
            f"{k}: {'agrees' if not bad else 'DIFFERS'} with unionstat on {ref.height} inner units × "
            f"{len(fields)} fields"
            + (f" (fields differing: {bad[:5]})" if bad else "")
            + (f"; root 01A {int(top['01A'][0])}, 05A {top['05A'][0]}" if top.height else "")
        )
    return "; ".join(lines)


def leaves_frame(units_csv: Path):
    """One report per grassroots unit (a unit that nobody has as parent) of the units file."""
    import polars as pl

    u = pl.read_csv(units_csv, columns=["id", "parent"], schema_overrides={"id": pl.String, "parent": pl.String})
    leaf = u.join(u.select(pl.col("parent").alias("id")).drop_nulls().unique(), on="id", how="anti")["id"]
    return reports_frame(leaf.len(), leaf, seed_shift=1)


# ---------------------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------------------
def build_job(key: str, data: Path, scale: float, made: list[Path], state: dict[str, Any]) -> tuple[Job, list[Path]]:
    us_cmd = unionstat_cmd()
    out_flag = ["--output", os.devnull] if state.setdefault("output", validate_has_output()) else []
    n_rep = max(1, round(FULL["reports"] * scale))
    n_grass = max(1, round(FULL["grassroots"] * scale))
    n_xlsx = max(1, round(FULL["xlsx"] * scale))
    validate_ok = (0, 1)  # 1: the planted violations were found
    if key in ("csv", "parquet"):
        frame_cache = state.get("frame")

        def frame():
            nonlocal frame_cache
            if frame_cache is None:
                frame_cache = state["frame"] = reports_frame(n_rep)
            return frame_cache

        if key == "csv":
            path = cached(
                data / f"reports_{n_rep}.csv",
                {"reports": n_rep, "seed": SEED},
                lambda p: write_reports_csv(p, frame()),
                made,
            )
            readers = [
                Contender("polars read_csv", py(PL_READ_CSV, str(path))),
                Contender("duckdb read_csv→arrow", py(DUCK_READ_CSV, str(path))),
            ]
        else:
            path = cached(
                data / f"reports_{n_rep}.parquet",
                {"reports": n_rep, "seed": SEED},
                lambda p: write_parquet(p, frame()),
                made,
            )
            readers = [
                Contender("polars read_parquet", py(PL_READ_PARQUET, str(path))),
                Contender("duckdb read_parquet→arrow", py(DUCK_READ_PARQUET, str(path))),
            ]
        size = path.stat().st_size / MB
        cmd = [*us_cmd, "validate", str(path), "--form", FORM_ID, "--format", "csv", *out_flag]
        job = Job(
            key,
            f"validate {n_rep:,} songnuan-2018 reports from {key.upper()} ({size:,.0f} MB)",
            [Contender("unionstat validate", cmd, validate_ok), *readers],
            target=(readers[0].name, 1.0),
            rss_limit=600 * MB,
        )
        if not out_flag:
            job.notes.append("unionstat validate has no --output: its stdout goes to /dev/null")
        return job, [path]
    if key == "tree":
        path = units_file(data, n_grass, made)
        size = path.stat().st_size / MB
        job = Job(
            key,
            f"read a units file of {n_grass:,} grassroots + inner units ({size:,.0f} MB)",
            [
                Contender("unionstat Hierarchy.read", py(US_READ_TREE, str(path))),
                Contender("polars read_csv", py(PL_READ_CSV, str(path))),
            ],
        )
        return job, [path]
    if key == "rollup":
        units = units_file(data, n_grass, made)
        leaves = cached(
            data / f"leaves_{n_grass}.parquet",
            {"leaves": n_grass, "units": meta_of(units), "seed": SEED},
            lambda p: write_parquet(p, leaves_frame(units)),
            made,
        )
        t = time.perf_counter()
        check = verify_rollup(data, made, timeout=600)
        print(f"  roll-up check on a small tree ({time.perf_counter() - t:.1f} s): {check}", flush=True)
        cmd = [*us_cmd, "rollup", str(leaves), "--tree", str(units), "--form", FORM_ID, "--format", "csv"]
        job = Job(
            key,
            f"roll up {n_grass:,} grassroots reports (Parquet) over the units file, every unit's totals as CSV",
            [
                Contender("unionstat rollup", cmd, (0, 1)),
                Contender("polars roll-up", py(PL_ROLLUP, str(units), str(leaves), os.devnull)),
                Contender("duckdb SQL roll-up", py(DUCK_ROLLUP, str(units), str(leaves), os.devnull)),
            ],
            target=("polars roll-up", 0.5),
            notes=[f"small-tree check: {check}"],
        )
        return job, [units, leaves]
    if key == "xlsx":
        path = cached(
            data / f"reports_{n_xlsx}.xlsx",
            {"reports": n_xlsx, "seed": SEED},
            lambda p: write_xlsx(p, reports_frame(n_xlsx)),
            made,
        )
        size = path.stat().st_size / MB
        cmd = [*us_cmd, "validate", str(path), "--form", FORM_ID, *out_flag]
        job = Job(
            key,
            f"validate {n_xlsx:,} songnuan-2018 reports from XLSX ({size:,.1f} MB)",
            [
                Contender("unionstat validate", cmd, validate_ok),
                Contender("fastexcel →arrow", py(FASTEXCEL, str(path))),
                Contender("python-calamine to_python", py(CALAMINE, str(path))),
            ],
            target=("fastexcel →arrow", 1.5),
        )
        return job, [path]
    raise ValueError(key)


def startup_job() -> Job:
    return Job(
        "startup",
        "process start-up alone (part of every figure below)",
        [
            Contender("python -c 'import unionstat'", py("import unionstat")),
            Contender("unionstat forms", [*unionstat_cmd(), "forms"]),
            Contender("python -c 'import polars'", py("import polars")),
            Contender("python -c 'import duckdb'", py("import duckdb")),
        ],
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds per job (median; default 5)")
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes (e.g. 0.05 for a quick run)")
    ap.add_argument("--jobs", default=",".join(JOBS), help=f"comma-separated, of {','.join(JOBS)}")
    ap.add_argument(
        "--data", type=Path, default=HERE / ".data", help="folder of the generated files (default benchmarks/.data)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the generated files (reused by the next run)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a process is killed (default 1800)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--quick", action="store_true", help="--scale 0.02 --rounds 3 (what run_all.py --quick asks)")
    # run_all.py passes its arguments to every bench: take the other benches' options too
    ap.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--units", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, help=argparse.SUPPRESS)  # = --rounds
    args = ap.parse_args(argv)
    if args.repeat:
        args.rounds = args.repeat
    if args.quick:
        args.scale, args.rounds = min(args.scale, 0.02), min(args.rounds, 3)
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    unknown = [j for j in jobs if j not in JOBS]
    if unknown or args.rounds < 1 or args.scale <= 0:
        ap.error(f"bad --jobs {unknown}" if unknown else "--rounds ≥ 1 and --scale > 0")
    spawner = Spawner()  # first, while this process is small
    for mod in ("polars", "duckdb", "pyarrow", "xlsxwriter", "fastexcel", "python_calamine"):
        try:
            __import__(mod)
        except ImportError:
            print(f"bench_io needs {mod} (pip install -e '.[bench]'): skipped")
            spawner.close()
            return 0
    for _ in range(30):  # the package may be being reinstalled: wait for it
        if subprocess.run([sys.executable, "-c", "import unionstat._core"], capture_output=True).returncode == 0:
            break
        time.sleep(10)
    args.data.mkdir(parents=True, exist_ok=True)
    import duckdb
    import polars as pl

    import unionstat as us

    def build() -> str:
        try:
            core = Path(us._core.__file__)
            return f"{core.name} of {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(core.stat().st_mtime))} UTC"
        except OSError:  # being reinstalled
            return "?"

    built = build()
    print(
        f"bench_io: whole processes, {args.rounds} interleaved rounds, scale {args.scale:g}; "
        f"unionstat {getattr(us, '__version__', '?')}, polars {pl.__version__}, duckdb {duckdb.__version__}; "
        f"{os.cpu_count()} cores; data in {args.data}; installed {built}"
    )
    print("  (a shared machine: figures are noisy; the medians of interleaved rounds are what to read)")
    made: list[Path] = []
    state: dict[str, Any] = {}
    results = []
    try:
        print(f"\n== startup: {startup_job().title}", flush=True)
        job = startup_job()
        run_job(job, min(args.rounds, 3), args.timeout, spawner)
        results.append(summarise(job))
        for key in jobs:
            print(f"\n== {key}: preparing", flush=True)
            try:
                job, inputs = build_job(key, args.data, args.scale, made, state)
            except Exception as exc:  # a generator or the check failed: say so, go on
                print(f"  ! could not prepare {key}: {type(exc).__name__}: {exc}")
                continue
            print(f"== {key}: {job.title}", flush=True)
            warm(inputs)
            run_job(job, args.rounds, args.timeout, spawner)
            results.append(summarise(job))
    finally:
        spawner.close()
        if not args.keep:
            for p in made:
                p.unlink(missing_ok=True)
            for p in args.data.glob("*.tmp.*"):
                p.unlink(missing_ok=True)
    if build() != built:
        print(f"\nNOTE: unionstat was reinstalled during the run ({built} → {build()}): figures mix two builds")
    print("\nsummary (median s; ratio = median of per-round unionstat/contender; peak RSS)")
    for r in results:
        for c in r["contenders"]:
            med = f"{c['median_s']:8.2f}" if c["median_s"] is not None else "  failed"
            ratio = f"{c['ratio']:6.2f}x" if c["ratio"] is not None else "      —"
            rss = f"{c['peak_rss_mb']:7,.0f} MB" if c["peak_rss_mb"] else "        —"
            print(f"  {r['job']:8} {c['name']:30} {med} {ratio} {rss}")
    if args.json:
        args.json.write_text(
            json.dumps({"scale": args.scale, "rounds": args.rounds, "results": results}, indent=1, ensure_ascii=False)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
