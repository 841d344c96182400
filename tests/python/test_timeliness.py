"""Deadlines and timeliness: the notices' deadlines in the forms, on-time / late / missing
by level and kind, the cumulative reporting curve, the CLI's --deadline and submitted
column, a filled template's 日期 cell as its submission time."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import unionstat as us
from unionstat.cli import main
from unionstat.forms import parse_deadline
from unionstat.sample import planted_mistakes, sample_province, submission_times

FORM = "songnuan-2018"


@pytest.fixture(scope="module")
def qinghai() -> tuple[us.Hierarchy, pd.DataFrame, pd.Series, str]:
    tree, songnuan, _bangfu = sample_province()
    songnuan = songnuan[songnuan["unit"].isin(set(tree.ids))].reset_index(drop=True)  # not the stranger
    times = submission_times()
    m = planted_mistakes()
    late = m[m["found_by"] == "timeliness"]["unit"].tolist()
    assert len(late) == 1
    return tree.at("2018"), songnuan, times, late[0]


def test_the_notices_deadlines_are_in_the_forms() -> None:
    f = us.forms()
    assert f["songnuan-2012"].deadline_date == dt.date(2012, 1, 8)  # 于2012年1月8日前…报送 (Dalian)
    assert f["bangfu-2011"].deadline_date == dt.date(2012, 1, 8)
    assert f["songnuan-2018"].deadline_date == dt.date(2018, 2, 28)  # 于2018年2月底前 (Qinghai)
    assert f["bangfu-2017"].deadline_date == dt.date(2018, 2, 28)
    for garbled in ("songnuan-2015", "bangfu-2014"):  # Wuhan: 于201521日前, not guessed
        assert f[garbled].deadline_date is None
        assert any("201521日前" in q for q in f[garbled].quirks), garbled
    for none in ("songnuan-2014", "bangfu-2013"):  # Pingdingshan prints none
        assert f[none].deadline_date is None


def test_deadlines_read_as_printed_or_iso(tmp_path: Path) -> None:
    assert parse_deadline("2012年1月8日") == dt.date(2012, 1, 8)
    assert parse_deadline("2016年2月底") == dt.date(2016, 2, 29)  # the end of the month, leap year
    assert parse_deadline("2012-01-08 17:00") == dt.datetime(2012, 1, 8, 17, 0)
    assert parse_deadline("") is None
    for bad in ("201521日", "2012-02-30", "soon"):
        with pytest.raises(ValueError, match="is not a deadline"):
            parse_deadline(bad)
    src = (us.schema_dir() / "songnuan-2018.yaml").read_text(encoding="utf-8")
    p = tmp_path / "bad.yaml"
    p.write_text(src.replace('deadline: "2018-02-28"', 'deadline: "2018年2月"'), encoding="utf-8")
    with pytest.raises(us.SchemaError, match=r"bad.yaml: form songnuan-2018: deadline '2018年2月' is not a deadline"):
        _ = us.load_form(p).deadline_date  # reading it raises


def test_on_time_late_and_missing_by_level_on_the_qinghai_tree(qinghai: tuple) -> None:
    tree, reports, times, late_county = qinghai
    form = us.forms()[FORM]
    c = tree.completeness(reports, form, submitted=times)
    assert c.deadline == dt.date(2018, 2, 28) and c.timed
    assert c.late["unit"].tolist() == [late_county]
    assert tree.level(late_county) == "county"
    row = c.late.iloc[0]
    assert row["submitted"] == pd.Timestamp("2018-03-03 15:20") and row["late_by"] == pd.Timedelta("2 days 15:20:00")
    by_level = c.by_level.set_index("level")
    assert by_level.loc["county", "late"] == 1 and by_level.loc["city", "late"] == 0
    assert (by_level["on_time"] + by_level["late"] + by_level["no_time"] == by_level["reported"]).all()
    assert by_level.loc["county", "on_time"] == by_level.loc["county", "expected"] - 1
    assert by_level.loc["grassroots", "missing"] == 1  # the planted non-reporter
    assert c.on_time == c.reported - 1
    kinds = c.by_kind.set_index("kind")
    assert kinds.loc["regional", "late"] == 1 and kinds["late"].sum() == 1
    # The same through a submitted column, and as a mapping.
    framed = tree.completeness(reports.assign(submitted=reports["unit"].map(times)), form)
    assert framed.late["unit"].tolist() == [late_county]
    assert tree.completeness(reports, form, submitted=times.to_dict()).late["unit"].tolist() == [late_county]
    # --root: only that county's prefecture.
    city = tree.parent(late_county)
    sub = tree.completeness(reports, form, submitted=times, root=city)
    assert sub.late["unit"].tolist() == [late_county] and set(sub.reports["unit"]) <= set(tree.subtree(city))


def test_the_deadline_can_be_overridden_and_a_day_counts_whole(qinghai: tuple) -> None:
    tree, reports, times, late_county = qinghai
    form = us.forms()[FORM]
    assert len(tree.completeness(reports, form, submitted=times, deadline="2018-03-05").late) == 0
    early = tree.completeness(reports, form, submitted=times, deadline=dt.date(2018, 2, 20))
    assert len(early.late) > 50 and late_county in set(early.late["unit"])
    one = reports[reports["unit"] == late_county]
    for when, deadline, status in [
        ("2018-02-28 23:59", None, "on time"),
        ("2018-03-01 00:00", None, "late"),
        ("2018-02-28 17:00", "2018-02-28 17:00", "on time"),
        ("2018-02-28 17:01", "2018-02-28 17:00", "late"),
    ]:
        c = tree.completeness(one, form, submitted=[when], deadline=deadline)
        assert c.reports["status"].tolist() == [status], (when, deadline)
    with pytest.raises(us.InputError, match="deadline: 'tomorrow' is not a deadline"):
        tree.completeness(one, form, submitted=["2018-02-01"], deadline="tomorrow")
    with pytest.raises(us.InputError, match=rf"report 1 \(unit {late_county}\): submitted 'soon' is not a date"):
        tree.completeness(one, form, submitted=["soon"])
    # Without times: no timeliness, and the form's deadline still known.
    plain = tree.completeness(reports, form)
    assert not plain.timed and plain.deadline == dt.date(2018, 2, 28) and "on_time" not in plain.by_level


def test_the_cumulative_reporting_curve(qinghai: tuple) -> None:
    tree, reports, times, _late = qinghai
    c = tree.completeness(reports, us.forms()[FORM], submitted=times)
    curve = c.curve()
    assert curve["submitted"].is_monotonic_increasing and curve["reports"].tolist() == list(range(1, len(curve) + 1))
    assert curve["share"].iloc[-1] == pytest.approx(c.reported / c.expected)
    pytest.importorskip("matplotlib")
    svg = str(c.plot())
    assert svg.startswith("<svg") and 'id="deadline"' in svg and 'id="late"' in svg and 'id="curve"' in svg
    html = c._repr_html_()  # Jupyter: the rates, the late units, the curve
    assert "逾期 1 个" in html and 'id="curve"' in html and "逾期报送（1）" in html
    from unionstat.views import completeness_html

    html = completeness_html(c, lang="en")
    assert "1 late" in html and 'id="curve"' in html and "reported late (1)" in html


def test_the_cli_reads_a_submitted_column_and_takes_deadline(
    tmp_path: Path, qinghai: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree, reports, times, late_county = qinghai
    df = reports.copy()
    df["submitted"] = df["unit"].map(lambda u: times[u].strftime("%Y-%m-%d %H:%M"))
    path = tmp_path / "reports.csv"
    us.write_reports(df, path)
    assert main(["completeness", str(path), "--tree", "qinghai", "--form", FORM, "--lang", "en"]) == 1
    out = capsys.readouterr()
    assert "deadline 2018-02-28: " in out.out and "1 late" in out.out
    assert re.search(rf"reported late \(1\):\n.*\n\s*{late_county} ", out.out)
    assert "on-time rate" in out.out and "submission time" in out.err
    # --strict refuses columns that are no field, but not the submission time.
    assert main(["completeness", str(path), "--tree", "qinghai", "--form", FORM, "--strict"]) == 1
    assert "逾期 1 个" in capsys.readouterr().out
    assert (
        main(
            [
                "completeness",
                str(path),
                "--tree",
                "qinghai",
                "--form",
                FORM,
                "--deadline",
                "2018-03-10",
                "--format",
                "json",
            ]
        )
        == 1
    )  # still 1: a unit did not report
    obj = json.loads(capsys.readouterr().out)
    assert obj["deadline"] == "2018-03-10" and obj["late"] == [] and obj["on_time"] == obj["reported"]
    assert main(["completeness", str(path), "--tree", "qinghai", "--form", FORM, "--deadline", "soon"]) == 2
    # A bad time is named by row and unit.
    bad = tmp_path / "bad.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    text[3] = re.sub(r",[^,]*$", ",next week", text[3])
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert main(["completeness", str(bad), "--tree", "qinghai", "--form", FORM]) == 2
    err = capsys.readouterr().err
    unit = text[3].split(",")[0]
    assert f"row 4, unit {unit}, field submitted: 'next week' in column submitted is not a date" in err


def test_filled_templates_date_is_their_submission_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blank = us.template("songnuan-2012", tmp_path / "t.xlsx")
    folder = tmp_path / "filled"
    folder.mkdir()
    tree = us.Hierarchy.from_pandas(
        pd.DataFrame(
            {
                "unit": ["dl", "zs", "sh", "gj"],
                "name": ["大连市总工会", "中山区总工会", "沙河口区总工会", "甘井子区总工会"],
                "level": ["city", "county", "county", "county"],
                "parent": ["", "dl", "dl", "dl"],
            }
        )
    )
    units_file = tmp_path / "units.csv"
    tree.to_frame().rename(columns={"unit": "id"})[["id", "name", "level", "kind", "parent"]].to_csv(
        units_file, index=False
    )
    for unit, day in [("zs", dt.date(2012, 1, 6)), ("sh", dt.date(2012, 1, 9))]:
        wb = openpyxl.load_workbook(blank)
        for name, value in [("unit", unit), ("period", "2012"), ("f_01A", 100), ("date", day)]:
            ((sheet, ref),) = list(wb.defined_names[name].destinations)
            wb[sheet][ref.replace("$", "")] = value
        wb.save(folder / f"{unit}.xlsx")
    assert (
        main(
            [
                "completeness",
                str(folder),
                "--tree",
                str(units_file),
                "--form",
                "songnuan-2012",
                "--root",
                "dl",
                "--lang",
                "en",
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "deadline 2012-01-08: 1 on time, 1 late, 2 missing" in out
    assert re.search(r"reported late \(1\):\n.*\n\s*sh\s+沙河口区总工会", out)


def test_the_demo_report_shows_timeliness_and_the_curve(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from unionstat.demo import build_demo, demo_html, demo_text

    d = build_demo()
    text = demo_text(d, lang="en")
    assert re.search(r"deadline 2018-02-28: \d+ on time, 1 late, 1 missing", text)
    late = planted_mistakes().query("found_by == 'timeliness'").iloc[0]
    assert f"reported late: {late['unit']}" in text and bool(
        d.mistakes.query("found_by == 'timeliness'")["found"].all()
    )
    html = demo_html(d, "en")
    assert "cumulative reporting curve" in html and 'id="deadline"' in html


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".json"])
def test_a_submitted_column_in_other_formats(tmp_path: Path, suffix: str, qinghai: tuple) -> None:
    tree, reports, times, late_county = qinghai
    df = pd.concat(
        [reports[reports["unit"] != late_county].head(200), reports[reports["unit"] == late_county]], ignore_index=True
    )
    df["submitted"] = df["unit"].map(lambda u: times[u].strftime("%Y-%m-%d %H:%M"))
    path = tmp_path / f"reports{suffix}"
    us.write_reports(df, path)
    res = us.read_file(path, us.forms()[FORM].schema)
    assert len(res.submitted) == len(df)
    assert [t.strftime("%Y-%m-%d %H:%M") for t in res.submitted] == df["submitted"].tolist()
    c = tree.completeness(res.batch, us.forms()[FORM], submitted=res.submitted)
    assert c.late["unit"].tolist() == [late_county]
