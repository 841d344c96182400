"""The sample province: reproducible, realistic magnitudes, breakdowns that add up, and
exactly the planted mistakes."""

from __future__ import annotations

import warnings
from decimal import Decimal

import pandas as pd
import pytest

import unionstat as us
from unionstat.sample import centre_tree, planted_mistakes, sample_province, sample_reports


@pytest.fixture(scope="module")
def province() -> us.sample.SampleProvince:
    return sample_province()


@pytest.fixture(scope="module")
def clean() -> dict[str, pd.DataFrame]:
    return {f: sample_reports(f, mistakes=False) for f in ("songnuan-2018", "bangfu-2017")}


def test_the_same_seed_gives_the_same_reports() -> None:
    a = sample_reports("songnuan-2018", seed=7)
    b = sample_reports("songnuan-2018", seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = sample_reports("songnuan-2018", seed=8)
    assert not a["01A"].equals(c["01A"])


def test_province_unpacks_as_tree_and_both_forms(province: us.sample.SampleProvince) -> None:
    tree, songnuan, bangfu = province
    assert isinstance(tree, us.Hierarchy)
    assert set(songnuan["period"]) == {"2018"} and set(bangfu["period"]) == {"2017"}
    assert list(songnuan.columns) == ["unit", "period"] + [f.code for f in us.forms()["songnuan-2018"].fields]
    assert list(bangfu.columns) == ["unit", "period"] + [f.code for f in us.forms()["bangfu-2017"].fields]


def test_magnitudes_are_those_of_a_province_of_a_million_workers(clean: dict[str, pd.DataFrame]) -> None:
    sn = clean["songnuan-2018"].set_index("unit")
    workers = int(sn.loc["630000", "01A"])
    assert 990_000 <= workers <= 1_010_000
    assert 0.1 < sn.loc["630000", "01B"] / workers < 0.3  # migrant workers
    assert 0.01 < sn.loc["630000", "02A"] / workers < 0.05  # hardship workers: a few per cent
    assert Decimal("1000") < sn.loc["630000", "05A"] < Decimal("10000")  # 万元
    grassroots = sn[sn.index.str.contains("-")]
    assert (grassroots["01A"] > 0).all() and grassroots["01A"].max() < 100_000
    money = sn["05A"].dropna()
    assert all(v.as_tuple().exponent == -2 for v in money)  # 万元 to 2 decimals


def test_without_mistakes_every_error_rule_passes_and_totals_agree(
    province: us.sample.SampleProvince, clean: dict[str, pd.DataFrame]
) -> None:
    tree = province.tree
    sn_form, bf_form = us.forms()["songnuan-2018"], us.forms()["bangfu-2017"]
    t = tree.at("2018")
    res = t.validate(clean["songnuan-2018"], sn_form)
    assert res.ok, res.violations[["unit", "rule", "message"]]
    assert len(t.check(clean["songnuan-2018"], sn_form)) == 0
    assert t.completeness(clean["songnuan-2018"], sn_form).rate == 1.0
    centres = centre_tree(tree, "2017")
    bf = centres.validate(clean["bangfu-2017"], bf_form)
    assert bf.ok, bf.violations[["unit", "rule", "message"]]
    assert len(bf.violations) == 0
    sn = clean["songnuan-2018"]
    parts = sn[["05B", "05C", "05D", "05E", "05F"]].sum(axis=1)
    assert (sn["05A"] == parts).all()  # exact: Decimal sums
    assert (sn["09A"] == sn[["09B", "09C", "09D", "09E"]].sum(axis=1)).all()


def test_the_province_report_is_the_sum_of_its_lowest_reports(clean: dict[str, pd.DataFrame]) -> None:
    tree = us.Hierarchy.sample("qinghai").at("2018")
    form = us.forms()["songnuan-2018"]
    totals = tree.rollup(clean["songnuan-2018"], form, ignore_inner=True)
    own = clean["songnuan-2018"].set_index("unit").loc["630000"]
    for code in ("01A", "02A", "05A", "06A", "07J"):
        assert totals.loc["630000", code] == own[code], code


def test_planted_mistakes_are_listed_and_in_the_data(province: us.sample.SampleProvince) -> None:
    m = planted_mistakes()
    assert len(m) == 11
    assert set(m["found_by"]) == {"validate", "check", "completeness", "rollup", "outliers", "timeliness"}
    tree, songnuan, _bangfu = province
    sn = songnuan.set_index("unit")
    part = m[m["what"].str.contains("农民工总数大于")].iloc[0]
    assert sn.loc[part["unit"], "01B"] > sn.loc[part["unit"], "01A"]
    slip = m[m["found_by"] == "outliers"].iloc[0]  # 元 typed into 万元 blanks
    clean = sample_reports("songnuan-2018", mistakes=False).set_index("unit")
    for code in slip["fields"].split(","):
        assert sn.loc[slip["unit"], code] == clean.loc[slip["unit"], code] * 10_000, code
    heat = m[m["what"].str.contains("取暖")].iloc[0]
    assert sn.loc[heat["unit"], "07I"] == 0 and sn.loc[heat["unit"], "07J"] > 0
    missing = m[(m["found_by"] == "completeness") & (m["form"] == "songnuan-2018")].iloc[0]
    assert missing["unit"] in tree and missing["unit"] not in set(songnuan["unit"])
    stranger = m[m["found_by"] == "rollup"].iloc[0]
    assert stranger["unit"] not in tree and stranger["unit"] in set(songnuan["unit"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(us.UnknownUnitsWarning, match=stranger["unit"]):
            tree.at("2018").rollup(songnuan, us.forms()["songnuan-2018"])


def test_nullable_flags_with_blanks_convert(province: us.sample.SampleProvince) -> None:
    bangfu = province.bangfu
    assert str(bangfu["06B"].dtype) == "boolean" and bangfu["06B"].isna().any()
    batch = us.forms()["bangfu-2017"].batch(bangfu)
    values, missing = batch.raw_column("06B")
    assert values[0] == 1 and not missing[0] and missing[1:].all()
