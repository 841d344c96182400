"""Comparing years: reports of one form version mapped onto another version's concepts."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import unionstat as us

NEW_GENERATION_2012 = ["08A_2", "08B_2", "09_2", "09A_2", "09B_2", "09C_2", "09D_2"]


@pytest.fixture(scope="module")
def dalian_2012() -> us.Report:
    return us.forms()["songnuan-2012"].report(
        "210200",
        "2012",
        {
            "01A": 1000,
            "01A_2": 300,
            "05A": "100",
            "05B": "40.25",
            "05C": "29.75",
            "05D": "20",
            "05E": "10",
            "07I": 12,
            "07I_2": "12345.67",  # heating subsidy printed in 元 in 2012
            "08A": 15,
            "08A_2": 4,
            "09_total": 50,
            "09_2": 8,
            "12_1": 3,
            "12_2": 40,
            "13_1": 2,
            "13_2": 2,
        },
    )


@pytest.fixture(scope="module")
def to_2018(dalian_2012: us.Report) -> us.CrosswalkResult:
    return us.crosswalk(dalian_2012, to="songnuan-2018")


def test_bundled_crosswalks_match_their_json_schema(root: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    yaml = pytest.importorskip("yaml")
    meta = json.loads((root / "schemas" / "crosswalk-schema.json").read_text(encoding="utf-8"))
    files = sorted((root / "schemas" / "crosswalks").glob("*.yaml"))
    assert [f.stem for f in files] == ["bangfu", "songnuan"]
    for f in files:
        jsonschema.validate(yaml.safe_load(f.read_text(encoding="utf-8")), meta)


def test_bundled_crosswalks_load_and_name_their_forms() -> None:
    assert sorted(us.bundled_crosswalks()) == ["bangfu", "songnuan"]
    cw = us.bundled_crosswalks()["songnuan"]
    assert cw.forms == ["songnuan-2012", "songnuan-2014", "songnuan-2015", "songnuan-2018"]
    assert cw.sums[0]["key"] == "funds_raised.government"
    assert cw.sums[0]["parts"] == ["funds_raised.central_fiscal", "funds_raised.local_fiscal"]
    same = {s["key"]: s["note"] for s in cw.same}
    assert "工会投入" in same["funds_raised.union_funds"] and "工会经费" in same["funds_raised.union_funds"]


def test_government_grants_arrive_as_the_sum_concept(to_2018: us.CrosswalkResult) -> None:
    df = to_2018.frame
    assert to_2018.extra == ["funds_raised.government"]
    assert df.columns[-1] == "funds_raised.government"
    assert df.loc[0, "funds_raised.government"] == Decimal("40.25")
    # 2018's own split stays blank, and says why.
    assert df.loc[0, "funds_raised.central_fiscal"] is None
    assert df.loc[0, "funds_raised.local_fiscal"] is None
    unfilled = {u.code: u for u in to_2018.unfilled}
    assert "funds_raised.government" in unfilled["05B"].reason
    assert "funds_raised.government" in unfilled["05C"].reason


def test_the_yuan_heating_subsidy_arrives_exactly_in_wan_yuan(to_2018: us.CrosswalkResult) -> None:
    assert us.forms()["songnuan-2018"].field("heating.amount").unit == "万元"
    assert to_2018.frame.loc[0, "heating.amount"] == Decimal("1.234567")
    m = {m.key: m for m in to_2018.mapped}["heating.amount"]
    assert (m.target_code, m.method, m.source_codes) == ("07J", "rescale", ("07I_2",))


def test_shared_concepts_are_copied_under_their_keys(to_2018: us.CrosswalkResult) -> None:
    df = to_2018.frame
    assert list(df.columns[:4]) == ["unit", "period", "workers.total", "workers.migrant"]
    assert (df.loc[0, "workers.total"], df.loc[0, "workers.migrant"]) == (1000, 300)
    assert df.loc[0, "funds_raised.union_funds"] == Decimal("29.75")  # 工会投入 → 工会经费
    assert df.loc[0, "rights.cases"] == 15
    assert pd.isna(df.loc[0, "visits.enterprises"])  # blank stays blank, never 0
    methods = {m.key: m.method for m in to_2018.mapped}
    assert methods["rights.cases"] == "unit_change"  # 名 (人) in 2012, 人次 in 2018
    assert methods["workers.total"] == "copy"


def test_unmappable_fields_are_listed(to_2018: us.CrosswalkResult) -> None:
    unmapped = {u.code: u for u in to_2018.unmapped}
    for code in NEW_GENERATION_2012 + ["12_1", "12_2", "12_3", "13_1", "13_2", "13_3", "04A_2", "08C_3", "08C_4"]:
        assert code in unmapped, code
        assert "songnuan-2018" in unmapped[code].reason
    assert "新生代农民工" in unmapped["09_2"].note
    assert (unmapped["09_2"].values, unmapped["12_3"].values) == (1, 0)  # data lost vs blank
    assert set(to_2018.unfilled_codes) == {"04C", "05B", "05C", "10M"}


def test_nothing_is_dropped_silently(to_2018: us.CrosswalkResult) -> None:
    read = {c for m in to_2018.mapped for c in m.source_codes}
    unmapped = set(to_2018.unmapped_codes)
    source_codes = {f.code for f in us.forms()["songnuan-2012"].fields}
    assert read | unmapped == source_codes
    assert not read & unmapped
    filled = {m.target_code for m in to_2018.mapped if m.target_code}
    target_codes = {f.code for f in us.forms()["songnuan-2018"].fields}
    assert filled | set(to_2018.unfilled_codes) == target_codes


def test_the_mapped_batch_validates_on_the_target_form(to_2018: us.CrosswalkResult) -> None:
    res = us.forms()["songnuan-2018"].check(to_2018.batch)
    assert res.ok


def test_the_reverse_fills_government_grants_from_central_and_local() -> None:
    df = pd.DataFrame(
        {
            "unit": ["630000", "630100"],
            "period": ["2018", "2018"],
            "05B": ["25.5", "3"],
            "funds_raised.local_fiscal": ["14.75", None],  # keys work as columns too
            "07J": ["1.234567", None],
        }
    )
    res = us.crosswalk(df, to="songnuan-2012", from_="songnuan-2018")
    assert res.extra == []  # 2012 prints 政府拨款 itself
    assert res.frame.loc[0, "funds_raised.government"] == Decimal("40.25")
    assert res.frame.loc[1, "funds_raised.government"] is None  # a blank part leaves the sum blank
    assert res.frame.loc[0, "heating.amount"] == Decimal("12345.67")  # back to 元
    m = {m.key: m for m in res.mapped}["funds_raised.government"]
    assert (m.method, m.source_codes) == ("sum", ("05B", "05C"))
    assert "04C" in res.unmapped_codes  # 慰问一线职工: 2018 only
    assert {"12_1", "13_1", "09_2"} <= set(res.unfilled_codes)


def test_a_2015_report_gets_the_sum_concept_on_2018_too() -> None:
    rep = us.forms()["songnuan-2015"].report("420100", "2015", {"05B": "1.5", "05C": "2.25"})
    res = us.crosswalk(rep, to=us.forms()["songnuan-2018"])
    assert res.frame.loc[0, "funds_raised.government"] == Decimal("3.75")
    assert res.unmapped == []


def test_a_dataframe_must_name_its_form() -> None:
    df = pd.DataFrame({"unit": ["u"], "05B": ["1"]})
    with pytest.raises(us.InputError, match="from_"):
        us.crosswalk(df, to="songnuan-2018")


def test_forms_of_different_families_do_not_map(dalian_2012: us.Report) -> None:
    with pytest.raises(us.InputError, match="family"):
        us.crosswalk(dalian_2012, to="bangfu-2017")


def test_bangfu_versions_map_onto_each_other() -> None:
    rep = us.forms()["bangfu-2011"].report("210200", "2011", {"04A": "10", "04B": "4", "01A_2": 2, "05B": "是"})
    res = us.crosswalk(rep, to="bangfu-2017")
    assert res.frame.loc[0, "funding.total"] == Decimal("10")
    assert bool(res.frame.loc[0, "provincial_fund.in_budget"]) is True
    assert {"01A_2", "01B_2", "01C_2", "01D_2", "10A_2", "10B_2"} <= set(res.unmapped_codes)
    assert {"03A", "04B", "04E", "04F"} == set(res.unfilled_codes)


def test_a_bad_crosswalk_names_file_line_and_column(tmp_path: Path, root: Path) -> None:
    text = (root / "schemas" / "crosswalks" / "songnuan.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("    method: rescale", "    methd: rescale", 1), encoding="utf-8")
    with pytest.raises(us.SchemaError) as info:
        us.load_crosswalk(bad)
    line = next(i for i, s in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if "methd:" in s)
    assert (info.value.file, info.value.line, info.value.column) == (str(bad), line, 5)
    assert str(info.value).startswith(f"{bad}:{line}:5: unknown key 'methd'")


def test_a_crosswalk_that_forgets_a_concept_is_refused(tmp_path: Path, root: Path) -> None:
    text = (root / "schemas" / "crosswalks" / "songnuan.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "forgetful.yaml"
    start = text.index("  - keys: [volunteer_teams.count")
    end = text.index("  - keys: [safety_inspections.count")
    bad.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(us.SchemaError, match="volunteer_teams") as info:
        us.load_crosswalk(bad)
    assert info.value.line == 8  # the forms list
