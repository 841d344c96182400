"""Runs every ``bench_*.py`` in this folder (discovered by glob, in name order), each in
its own Python subprocess so that memory and thread pools do not leak between them, and
prints their tables. Arguments (e.g. ``--quick``, ``--rows N``) are passed to each bench;
``--quick`` and ``--repeat N`` are common to all of them.

* ``bench_io.py``     whole jobs as users run them (CLI and ``Hierarchy.read`` on CSV,
                      Parquet, XLSX; roll-up) vs polars and duckdb, as whole processes;
                      ``--quick`` is its ``--scale 0.02 --rounds 3``; its own options
                      (``--scale``, ``--jobs``, ``--keep`` …) when run alone;
* ``bench_outliers.py`` outliers over 1 M reports (whole job from a file) vs polars and pandas;
* ``bench_rollup.py`` roll-up kernel vs pandas and networkx;
* ``bench_rules.py``  validation kernel vs numpy, pandas and pandera.

Exit status: non-zero if any bench failed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    benches = sorted(here.glob("bench_*.py"))
    if not benches:
        print("no bench_*.py found in", here)
        return 1
    failed = []
    for b in benches:
        print(f"\n===== {b.name} {' '.join(argv)} =====", flush=True)
        t = time.perf_counter()
        rc = subprocess.call([sys.executable, str(b), *argv], cwd=here.parent)
        print(f"===== {b.name}: exit {rc}, {time.perf_counter() - t:.1f} s =====", flush=True)
        if rc != 0:
            failed.append((b.name, rc))
    if failed:
        print("\nfailed:", ", ".join(f"{n} (exit {rc})" for n, rc in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
