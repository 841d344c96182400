#!/usr/bin/env python3
"""Writes schemas/trees/qinghai.csv: the Qinghai province union tree with generated
grassroots unions. Deterministic: the same file on every run (fixed seed, no clock).

What is real and what is not:
- Real: 青海省总工会 and the eight prefecture-level unions the seed's notice addresses as
  "各市（州）总工会" (seed 000_83a61a127dc4ba27.txt, 青总办通〔2017〕84号), the counties,
  county-level cities and districts of each prefecture with their administrative codes,
  and two changes of the county map used to show versioning: 湟中县 (630122) became
  湟中区 (630106) and 同仁县 (632321) became 同仁市 (632301) in 2020; 茫崖市 (632803)
  exists from 2018.
- Illustrative: the notice names "省级各产业工会、省总各直属工会" only as categories; the
  industry unions and directly affiliated unions below are plausible stand-ins with
  readable qh-* ids, not a transcription. Every grassroots union is generated (ids
  <parent code>-<nnn>, names built from word lists).
- Ragged on purpose: a few grassroots unions hang directly under a prefecture or under
  the province; enterprise unions may also have a secondary parent (an industry union).
- Versioned: grassroots unions of 湟中 and 同仁 are listed twice (old county up to 2019,
  new district/city from 2020); a few unions start in 2019 or end in 2017.

Run: python3 schemas/trees/generate_qinghai.py  (writes next to this script).
"""

import csv
import io
import os
import random

SEED = 20180101

PROVINCE = ("630000", "青海省总工会")

# (code, union name, [(code, county name, valid_from, valid_to)])
PREFECTURES = [
    (
        "630100",
        "西宁市总工会",
        [
            ("630102", "城东区", "", ""),
            ("630103", "城中区", "", ""),
            ("630104", "城西区", "", ""),
            ("630105", "城北区", "", ""),
            ("630121", "大通回族土族自治县", "", ""),
            ("630122", "湟中县", "", "2019"),
            ("630106", "湟中区", "2020", ""),
            ("630123", "湟源县", "", ""),
        ],
    ),
    (
        "630200",
        "海东市总工会",
        [
            ("630202", "乐都区", "", ""),
            ("630203", "平安区", "", ""),
            ("630222", "民和回族土族自治县", "", ""),
            ("630223", "互助土族自治县", "", ""),
            ("630224", "化隆回族自治县", "", ""),
            ("630225", "循化撒拉族自治县", "", ""),
        ],
    ),
    (
        "632200",
        "海北州总工会",
        [
            ("632221", "门源回族自治县", "", ""),
            ("632222", "祁连县", "", ""),
            ("632223", "海晏县", "", ""),
            ("632224", "刚察县", "", ""),
        ],
    ),
    (
        "632300",
        "黄南州总工会",
        [
            ("632321", "同仁县", "", "2019"),
            ("632301", "同仁市", "2020", ""),
            ("632322", "尖扎县", "", ""),
            ("632323", "泽库县", "", ""),
            ("632324", "河南蒙古族自治县", "", ""),
        ],
    ),
    (
        "632500",
        "海南州总工会",
        [
            ("632521", "共和县", "", ""),
            ("632522", "同德县", "", ""),
            ("632523", "贵德县", "", ""),
            ("632524", "兴海县", "", ""),
            ("632525", "贵南县", "", ""),
        ],
    ),
    (
        "632600",
        "果洛州总工会",
        [
            ("632621", "玛沁县", "", ""),
            ("632622", "班玛县", "", ""),
            ("632623", "甘德县", "", ""),
            ("632624", "达日县", "", ""),
            ("632625", "久治县", "", ""),
            ("632626", "玛多县", "", ""),
        ],
    ),
    (
        "632700",
        "玉树州总工会",
        [
            ("632701", "玉树市", "", ""),
            ("632722", "杂多县", "", ""),
            ("632723", "称多县", "", ""),
            ("632724", "治多县", "", ""),
            ("632725", "囊谦县", "", ""),
            ("632726", "曲麻莱县", "", ""),
        ],
    ),
    (
        "632800",
        "海西州总工会",
        [
            ("632801", "格尔木市", "", ""),
            ("632802", "德令哈市", "", ""),
            ("632803", "茫崖市", "2018", ""),
            ("632821", "乌兰县", "", ""),
            ("632822", "都兰县", "", ""),
            ("632823", "天峻县", "", ""),
        ],
    ),
]

# Counties that were replaced: old code → new code (their grassroots unions move).
MOVES = {"630122": "630106", "632321": "632301"}
MOVE_YEAR_OLD_TO, MOVE_YEAR_NEW_FROM = "2019", "2020"

# Province-level industry unions (illustrative): id, name, industries they take in.
INDUSTRY = [
    ("qh-jkwwt", "青海省教科文卫体工会", ["学校", "医院", "文化传媒"]),
    ("qh-cmqf", "青海省财贸轻纺烟草工会", ["商贸", "餐饮", "酒店", "藏毯", "供销"]),
    ("qh-nyhx", "青海省能源化学地质工会", ["矿业", "电力", "光伏", "盐化"]),
    ("qh-jsjc", "青海省建设建材工会", ["建筑", "水泥", "建材"]),
    ("qh-nlsl", "青海省农林水利气象工会", ["乳业", "牧业", "枸杞", "牦牛肉", "农机"]),
    ("qh-jtyd", "青海省交通运输邮电工会", ["运输", "物流", "旅游"]),
]

# Directly affiliated unions (illustrative): id, name, secondary parent or "".
DIRECT = [
    ("qh-szjg", "青海省直属机关工会", ""),
    ("qh-youtian", "青海油田工会", "632800"),
    ("qh-yanhu", "青海盐湖工业工会", "qh-nyhx"),
    ("qh-dianli", "国网青海省电力公司工会", "qh-nyhx"),
    ("qh-xibu", "西部矿业集团工会", "qh-nyhx"),
]

BRANDS = [
    "昆仑",
    "三江源",
    "青湖",
    "雪域",
    "高原",
    "金河",
    "祁连",
    "柴达木",
    "河湟",
    "湟水",
    "玉珠",
    "江源",
    "格桑",
    "唐古拉",
    "日月山",
    "青稞",
    "湟鱼",
    "雪莲",
    "天路",
    "黄河",
]
INDUSTRIES = sorted({w for _, _, words in INDUSTRY for w in words})
FORMS = ["有限公司", "股份有限公司", "有限责任公司", "专业合作社", "厂"]
BRANCHES = [
    "机关",
    "第一分公司",
    "第二分公司",
    "采油厂",
    "运输处",
    "供应处",
    "检修公司",
    "培训中心",
    "矿区",
    "研究院",
    "物资公司",
    "后勤服务中心",
]


def main():
    rng = random.Random(SEED)
    industry_of = {w: uid for uid, _, words in INDUSTRY for w in words}
    rows = []

    def add(uid, name, level, kind, parent="", secondary="", valid_from="", valid_to=""):
        rows.append([uid, name, level, kind, parent, secondary, valid_from, valid_to])

    def grassroots_name(place, used):
        while True:
            industry = rng.choice(INDUSTRIES)
            name = f"{place}{rng.choice(BRANDS)}{industry}{rng.choice(FORMS)}工会"
            if name not in used:
                used.add(name)
                return name, industry

    used_names = set()

    def grassroots(parent_code, place, count, valid_from="", valid_to="", move_to=None):
        for k in range(1, count + 1):
            uid = f"{parent_code}-{k:03d}"
            start, end = (valid_from, valid_to) if move_to is None else ("", "")
            roll = rng.random()
            if roll < 0.03:
                start = "2019"  # founded after the 2018 campaign
            elif roll < 0.06 and not start:
                end = "2017"  # dissolved before it
            if rng.random() < 0.15:
                name = f"{place}第{k}联合基层工会"
                kind, secondary = "regional", ""
            else:
                name, industry = grassroots_name(place, used_names)
                kind = "enterprise"
                secondary = industry_of[industry] if rng.random() < 0.2 else ""
            if move_to is None:
                add(uid, name, "grassroots", kind, parent_code, secondary, start, end)
            else:
                # The unit moves with its county: two listings with disjoint validity.
                if not (start and start > MOVE_YEAR_OLD_TO):
                    add(uid, name, "grassroots", kind, parent_code, secondary, start, end if end else MOVE_YEAR_OLD_TO)
                if not (end and end < MOVE_YEAR_NEW_FROM):
                    add(
                        uid,
                        name,
                        "grassroots",
                        kind,
                        move_to,
                        secondary,
                        MOVE_YEAR_NEW_FROM if not start or start < MOVE_YEAR_NEW_FROM else start,
                        "",
                    )

    add(PROVINCE[0], PROVINCE[1], "province", "regional")
    for uid, name, _ in INDUSTRY:
        add(uid, name, "province", "industry", PROVINCE[0])
    for code, name, _counties in PREFECTURES:
        add(code, name, "city", "regional", PROVINCE[0])
    for uid, name, secondary in DIRECT:
        add(uid, name, "city", "direct", PROVINCE[0], secondary)
    for code, _name, counties in PREFECTURES:
        for ccode, cname, start, end in counties:
            add(ccode, cname + "总工会", "county", "regional", code, "", start, end)
    for code, _name, counties in PREFECTURES:
        urban = code == "630100"
        for ccode, cname, start, end in counties:
            if ccode in MOVES.values():
                continue  # filled by the moves below
            count = (
                rng.randint(30, 60) if urban and ccode.startswith("6301") and ccode < "630120" else rng.randint(8, 30)
            )
            grassroots(ccode, cname, count, start, end, MOVES.get(ccode))
    # Ragged: grassroots unions directly under a prefecture and under the province.
    grassroots("630100", "西宁市", 4)
    grassroots("632800", "海西州", 3)
    add("630000-001", "青海省总工会机关工会", "grassroots", "direct", PROVINCE[0])
    add("630000-002", "青海省职工服务中心工会", "grassroots", "direct", PROVINCE[0])
    add("630000-003", "青海省工人文化宫工会", "grassroots", "direct", PROVINCE[0])
    # Branch unions of the directly affiliated unions.
    for uid, name, _ in DIRECT:
        short = name[:-2]
        for k, branch in enumerate(rng.sample(BRANCHES, rng.randint(4, 8)), start=1):
            add(f"{uid}-{k:03d}", f"{short}{branch}工会", "grassroots", "enterprise", uid)

    out = io.StringIO()
    out.write(
        "# Qinghai province union tree (青海省总工会). GENERATED by generate_qinghai.py — do not edit;\n"
        "# change the script and run it again. Prefectures and counties are real (administrative\n"
        "# codes as ids); industry and directly affiliated unions are illustrative stand-ins for the\n"
        "# categories the 2018 notice (seed 000) names; every grassroots union is generated.\n"
        "# Units listed twice moved with their county (湟中县→湟中区, 同仁县→同仁市, 2020).\n"
    )
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["id", "name", "level", "kind", "parent", "secondary_parents", "valid_from", "valid_to"])
    w.writerows(rows)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "qinghai.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(out.getvalue())
    print(f"wrote {path}: {len(rows)} listings")


if __name__ == "__main__":
    main()
