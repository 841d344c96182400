"""A national-scale units CSV for the hierarchy benchmarks (load, roll-up).

The shape of the 全总 tree: ~41 provinces (31 regional federations plus industry and
directly affiliated unions), ~410 cities, ~2,900 counties, and the grassroots unions
(2.8 M by default) hanging mostly under counties, some straight under cities and
provinces (a ragged tree). A few enterprise unions also have a secondary parent (an
industry union). Columns as ``Hierarchy.read_csv`` reads them:
``id,name,level,kind,parent,secondary_parents,valid_from,valid_to``. Parents come before
their children and siblings together (as exports list them); ids are administrative-style
codes. Seeded: the same arguments give the same file.

    python benchmarks/gen_units.py units.csv --grassroots 2800000
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path


def generate(
    path: str | Path,
    *,
    grassroots: int = 2_800_000,
    provinces: int = 41,
    cities: int = 410,
    counties: int = 2_900,
    seed: int = 2018,
) -> dict[str, int]:
    """Writes the units file; returns the number of units per level (and of secondary links)."""
    rng = random.Random(seed)
    regional = min(31, provinces)
    out = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed at the end; a with-block would indent the whole generator
    write = out.write
    write("id,name,level,kind,parent,secondary_parents,valid_from,valid_to\n")
    write("100000,中华全国总工会,national,regional,,,,\n")
    counts = {"national": 1, "province": 0, "city": 0, "county": 0, "grassroots": 0, "secondary": 0}

    # Provinces: regional federations first, then industry and directly affiliated unions.
    prov_ids = []
    for p in range(provinces):
        pid = f"{11 + p:02d}0000"
        kind = "regional" if p < regional else ("industry" if p % 2 else "direct")
        write(f"{pid},第{p + 1}省总工会,province,{kind},100000,,,\n")
        prov_ids.append(pid)
    counts["province"] = provinces
    industry = [pid for i, pid in enumerate(prov_ids) if i >= regional and i % 2]

    # Cities spread over the regional provinces, counties over the cities.
    city_of = [[] for _ in range(regional)]
    for c in range(cities):
        city_of[c % regional].append(c)
    county_of: dict[int, list[int]] = {c: [] for c in range(cities)}
    for k in range(counties):
        county_of[rng.randrange(cities)].append(k)

    # Grassroots shares: ~90% under counties, ~8% under cities, ~2% under provinces.
    per_county = grassroots * 90 // 100 // max(counties, 1)
    per_city = grassroots * 8 // 100 // max(cities, 1)
    per_prov = grassroots * 2 // 100 // max(regional, 1)
    left = grassroots - per_county * counties - per_city * cities - per_prov * regional
    g = 0

    def grass(parent: str, n: int) -> None:
        nonlocal g
        lines = []
        for _ in range(n):
            g += 1
            sec = ""
            if industry and g % 997 == 0:  # a few enterprises also under an industry union
                sec = industry[g % len(industry)]
                counts["secondary"] += 1
            lines.append(f"G{g:08d},第{g}基层工会委员会,grassroots,enterprise,{parent},{sec},,\n")
        write("".join(lines))

    for p in range(regional):
        pid = prov_ids[p]
        grass(pid, per_prov + (left if p == 0 else 0))
        for j, c in enumerate(city_of[p]):
            cid = f"{pid[:2]}{j + 1:02d}00"
            write(f"{cid},第{c + 1}市总工会,city,regional,{pid},,,\n")
            counts["city"] += 1
            grass(cid, per_city)
            for k in county_of[c]:
                kid = f"{cid}{k:04d}"
                write(f"{kid},第{k + 1}县总工会,county,regional,{cid},,,\n")
                counts["county"] += 1
                grass(kid, per_county)
    out.close()
    counts["grassroots"] = g
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path")
    ap.add_argument("--grassroots", type=int, default=2_800_000)
    ap.add_argument("--seed", type=int, default=2018)
    a = ap.parse_args()
    print(generate(a.path, grassroots=a.grassroots, seed=a.seed))


if __name__ == "__main__":
    main()
