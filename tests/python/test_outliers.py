"""Outliers: figures that pass every rule yet stand out among their peers — robust
z-scores of fields and ratios, magnitude slips (元 typed into 万元 blanks), and
Hidiroglou–Berthelot period-to-period ratios."""

from __future__ import annotations

import contextlib
import io
import json
import statistics
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import unionstat as us
from unionstat.cli import main
from unionstat.outliers import _sort_float, _sort_int, ratios_of
from unionstat.sample import grassroots

MONEY = ["05A", "05B", "05C", "05D", "05E", "05F", "06A", "06B", "06C", "07J", "08D", "11A"]


@pytest.fixture(scope="module")
def realistic() -> tuple[us.Hierarchy, pd.DataFrame]:
    """10,000 grassroots unions' own reports (as the sample province's), every error rule passing."""
    return grassroots(10_000, seed=7)


@pytest.fixture(scope="module")
def slipped(realistic: tuple[us.Hierarchy, pd.DataFrame]) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """Five reports whose every amount was typed in 元 into the 万元 blanks (×10,000)."""
    _tree, df = realistic
    df = df.copy()
    rows = np.random.default_rng(1).choice(len(df), 5, replace=False)
    original = df.loc[rows, ["unit", *MONEY]].copy()
    for code in MONEY:
        df.loc[rows, code] = [None if v is None else v * 10_000 for v in df.loc[rows, code]]
    return df, df.loc[rows, "unit"].tolist(), original


def test_yuan_typed_into_wanyuan_blanks_ranks_those_reports_first(
    realistic: tuple[us.Hierarchy, pd.DataFrame],
    slipped: tuple[pd.DataFrame, list[str], pd.DataFrame],
    form: us.Form,
) -> None:
    tree, _ = realistic
    df, units, original = slipped
    assert form.check(df).ok  # every rule of error severity still passes: only outliers can see it
    res = us.outliers(df, form, tree=tree)
    assert set(res.units()[:5]) == set(units)
    t = res.to_pandas()
    scores = t["score"].to_numpy()
    assert (np.diff(scores) <= 0).all()  # best first
    slips = t[t["method"] == "magnitude"]
    assert set(slips["unit"]) == set(units)  # and no other report is called a slip
    for unit in units:
        row = slips[slips["unit"] == unit].iloc[0]
        assert row["factor"] == 10_000
        assert "05A" in row["field"].split(",")
        before = original.set_index("unit").loc[unit, "05A"]
        assert row["value"] == str(before * 10_000) and Decimal(row["suggested"]) == before  # exact both ways
        assert "疑似将元填入万元栏" in row["reason"] and "元 typed into 万元" in row["reason_en"]


def test_without_a_tree_every_report_is_a_peer_and_the_slips_still_lead(
    slipped: tuple[pd.DataFrame, list[str], pd.DataFrame], form: us.Form
) -> None:
    df, units, _ = slipped
    res = us.outliers(df, form)
    assert set(res.units()[:5]) == set(units)
    assert set(res.table.column("peer_group").to_pylist()) <= {"all reports", ""}


def test_each_finding_names_unit_field_value_score_method_median_and_reason(
    realistic: tuple[us.Hierarchy, pd.DataFrame],
    slipped: tuple[pd.DataFrame, list[str], pd.DataFrame],
    form: us.Form,
) -> None:
    tree, _ = realistic
    df, units, _ = slipped
    t = us.outliers(df, form, tree=tree).to_pandas()
    z = t[(t["method"] == "robust_z") & (t["field"] == "05A") & t["unit"].isin(units)].iloc[0]
    parent = tree.parent(z["unit"])
    assert parent in z["peer_group"] and parent in z["reason"]  # peers: the same parent, level and kind
    assert z["direction"] == "high" and z["score"] > 3.5 and z["peers"] >= 5
    peers = df[df["unit"].map(tree.parent) == parent]["05A"]
    assert Decimal(z["peer_median"]) == statistics.median([v for v in peers if v > 0])  # exact
    assert "05A" in z["reason"] and z["value"] in z["reason"] and "稳健z值" in z["reason"]
    ratio = t[(t["method"] == "ratio_z") & (t["field"] == "05A/04D")]
    assert set(units) <= set(ratio["unit"])  # funds per household visited, 10,000 times too much
    assert ratio.iloc[0]["label"] == "户均筹集款物"


def test_a_unit_whose_figures_jump_tenfold_is_flagged_by_the_period_to_period_check(form: us.Form) -> None:
    tree, cur = grassroots(2_000, seed=11)
    assert form.check(cur).ok
    rng = np.random.default_rng(3)
    prev = cur.copy()
    prev["period"] = "2017"
    for f in form.fields:  # last year: this year's figures, each unit ±20 % field by field
        growth = rng.uniform(0.8, 1.2, len(prev))
        if f.type == "count":
            prev[f.code] = pd.array(np.rint(cur[f.code].to_numpy(dtype=float, na_value=np.nan) / growth), dtype="Int64")
        elif f.type == "money":
            prev[f.code] = [
                None if v is None else (v / Decimal(g)).quantize(Decimal("0.01")) for v, g in zip(cur[f.code], growth)
            ]
    jump = 321
    for f in form.fields:  # one union had a tenth of this year's figures last year
        if f.type == "count":
            prev.loc[jump, f.code] = cur.loc[jump, f.code] // 10
        elif f.type == "money" and cur.loc[jump, f.code] is not None:
            prev.at[jump, f.code] = (cur.loc[jump, f.code] / 10).quantize(Decimal("0.01"))
    unit = cur.loc[jump, "unit"]
    res = us.outliers(cur, form, tree=tree, previous=prev)
    t = res.to_pandas()
    hb = t[t["method"] == "hb"]
    assert hb.iloc[0]["unit"] == unit
    flagged = set(hb.loc[hb["unit"] == unit, "field"])
    assert {"01A", "05A", "06A"} <= flagged
    top = hb[(hb["unit"] == unit) & (hb["field"] == "05A")].iloc[0]
    assert (
        top["score"] > 4 and top["previous"] == str(prev.loc[jump, "05A"]) and top["value"] == str(cur.loc[jump, "05A"])
    )
    assert "由上期" in top["reason"] and "went from" in top["reason_en"]
    assert unit not in set(t.loc[t["method"] == "robust_z", "unit"])  # this year's figures are ordinary
    # Without the previous period nothing points at it.
    assert unit not in us.outliers(cur, form, tree=tree).units()


def test_hb_parameters_move_the_fences(form: us.Form) -> None:
    n = 40
    df = pd.DataFrame({"unit": [f"u{i}" for i in range(n)], "period": "2018", "01A": [100 + (i % 7) for i in range(n)]})
    prev = df.assign(period="2017", **{"01A": [100 + (i % 5) for i in range(n)]})
    prev.loc[0, "01A"] = 50  # doubled
    wide = us.outliers(df, form, previous=prev, hb=(0.5, 0.05, 400.0))
    narrow = us.outliers(df, form, previous=prev, hb=(0.5, 0.05, 4.0))
    assert "u0" not in set(wide.to_pandas().query("method == 'hb'")["unit"])
    assert "u0" in set(narrow.to_pandas().query("method == 'hb'")["unit"])


def test_peers_with_mad_zero_fall_back_to_the_mean_absolute_deviation(form: us.Form) -> None:
    df = pd.DataFrame({"unit": [f"u{i}" for i in range(20)], "period": "2018", "01A": [100] * 19 + [5000]})
    for scale in ("log", "raw"):
        t = us.outliers(df, form, scale=scale).to_pandas()
        assert t["unit"].tolist() == ["u19"], scale
        assert np.isfinite(t["score"]).all() and t["score"].iloc[0] > 3.5
        assert t["peer_median"].iloc[0] == "100"
    # Every peer reports the same figure: nothing stands out.
    same = pd.DataFrame({"unit": [f"u{i}" for i in range(20)], "period": "2018", "01A": [100] * 20})
    assert len(us.outliers(same, form)) == 0


def test_small_whole_counts_are_not_outliers_for_being_discrete(form: us.Form) -> None:
    # 04A: most enterprises visited 1, some 2 or 3 — no outlier; 40 is.
    visits = [1] * 30 + [2] * 6 + [3] * 3 + [40]
    df = pd.DataFrame({"unit": [f"u{i}" for i in range(40)], "period": "2018", "04A": visits})
    assert us.outliers(df, form).units() == ["u39"]


def test_missing_values_are_skipped_not_read_as_zero(form: us.Form) -> None:
    values = [None] * 12 + [100, 104, 96, 102, 98, 101, 99, 103, 97, 100, 1000]
    df = pd.DataFrame(
        {"unit": [f"u{i}" for i in range(len(values))], "period": "2018", "01A": pd.array(values, dtype="Int64")}
    )
    for scale in ("log", "raw"):
        t = us.outliers(df, form, scale=scale).to_pandas()
        # Were blanks zeros, the median would be 0 and every report would stand out.
        assert t["unit"].tolist() == [f"u{len(values) - 1}"], scale
        assert t["peers"].iloc[0] == 11 and t["peer_median"].iloc[0] == "100"
    # Fewer than min_peers reports with a figure: nothing is scored.
    assert len(us.outliers(df, form, min_peers=12)) == 0


def test_values_and_medians_are_exact_text(form: us.Form) -> None:
    money = ["1.01", "1.02", "1.03", "1.00", "1.04", "1.02", "1.01", "987654321.99"]
    df = pd.DataFrame({"unit": [f"u{i}" for i in range(8)], "period": "2018", "07J": [Decimal(m) for m in money]})
    t = us.outliers(df, form, fields=["07J"], min_peers=5).to_pandas()
    assert t["value"].tolist() == ["987654321.99"]
    assert t["peer_median"].iloc[0] == "1.02"
    assert t["label"].iloc[0] == "过冬取暖补贴金额"


def test_ratios_come_from_the_forms_fields(form: us.Form) -> None:
    codes = {r.code: r for r in ratios_of(form)}
    assert {"05A/04D", "06A/04D", "07J/07I", "08D/08C"} <= set(codes)
    assert codes["07J/07I"].unit == "元/户" and codes["07J/07I"].factor == 10_000
    bangfu = {r.code for r in ratios_of(us.forms()["bangfu-2017"])}
    # Amount per person-time of every kind of assistance, for workers and migrant workers.
    assert {"09B/09A", "09D/09C", "09F/09E", "10B/10A", "10D/10C"} <= bangfu
    old = {r.code for r in ratios_of(us.forms()["songnuan-2012"])}
    assert old  # the concept keys carry the ratios across versions


def test_order_statistics_within_groups_match_pandas() -> None:
    rng = np.random.default_rng(5)
    n, groups = 20_000, 37
    g = rng.integers(0, groups, n).astype(np.int64)
    v = rng.integers(-(10**12), 10**12, n).astype(np.int64)
    s = _sort_int(v, g, groups)
    a, b = s.middle()
    expected = pd.Series(v).groupby(g).median()
    assert ((a + b) / 2 == expected.to_numpy()).all()
    x = rng.normal(0, 1, n) * 10.0 ** rng.integers(-3, 6, n)
    f = _sort_float(x, g, groups)
    for q in (0.25, 0.5, 0.75):
        np.testing.assert_allclose(f.quantile(q), pd.Series(x).groupby(g).quantile(q).to_numpy(), rtol=1e-9)


def test_reports_of_units_outside_the_tree_are_not_scored_and_said_so(form: us.Form) -> None:
    tree, df = grassroots(300, seed=2)
    df.loc[0, "unit"] = "NOT-IN-TREE"
    with pytest.warns(us.UnknownUnitsWarning, match="NOT-IN-TREE"):
        res = us.outliers(df, form, tree=tree)
    assert res.unknown_units == ["NOT-IN-TREE"] and "NOT-IN-TREE" not in res.units()


def test_bad_arguments_are_clear_errors(form: us.Form) -> None:
    df = pd.DataFrame({"unit": ["a", "b"], "period": ["2017", "2018"], "01A": [1, 2]})
    with pytest.raises(us.InputError, match="several periods"):
        us.outliers(df, form)
    assert len(us.outliers(df, form, period="2018")) == 0
    with pytest.raises(us.InputError, match="scale"):
        us.outliers(df, form, period="2018", scale="cubic")
    twice = pd.DataFrame({"unit": ["a", "a"], "period": "2018", "01A": [1, 2]})
    with pytest.raises(us.InputError, match="unit a reported twice") as err:
        us.outliers(twice, form)
    assert err.value.unit == "a" and err.value.row == 2


def test_result_shows_itself_in_jupyter(slipped: tuple[pd.DataFrame, list[str], pd.DataFrame], form: us.Form) -> None:
    df, _units, _ = slipped
    res = us.outliers(df.head(3000), form)
    html = res._repr_html_()  # the form's language: Chinese headings and methods
    assert "<table" in html and "稳健Z分数" in html and "<th>同级中位数</th>" in html
    assert "robust_z" in res.html("en") and "<th>peer_median</th>" in res.html("en")
    assert repr(res).startswith("<OutlierResult songnuan-2018:")


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("outliers")
    tree, df = grassroots(1_500, seed=9)
    for code in MONEY:
        df.loc[42, code] = None if df.loc[42, code] is None else df.loc[42, code] * 10_000
    us.write_reports(df, d / "cur.csv")
    (d / "units.csv").write_text(tree.core.to_csv(), encoding="utf-8")
    prev = df.assign(period="2017")
    us.write_reports(pd.concat([prev, prev.head(1)]), d / "prev-twice.csv")
    return {
        "cur": d / "cur.csv",
        "tree": d / "units.csv",
        "prev_twice": d / "prev-twice.csv",
        "unit": df.loc[42, "unit"],
    }


def test_cli_json_lists_records_best_first(files: dict[str, Any]) -> None:
    status, out, _ = _run(
        ["outliers", str(files["cur"]), "--form", "songnuan-2018", "--tree", str(files["tree"]), "--format", "json"]
    )
    assert status == 1  # findings
    records = json.loads(out)
    assert records[0]["unit"] == files["unit"]
    assert {"unit", "field", "value", "score", "method", "reason"} <= set(records[0])
    scores = [r["score"] for r in records]
    assert scores == sorted(scores, reverse=True)
    slip = next(r for r in records if r["method"] == "magnitude")
    assert slip["unit"] == files["unit"] and slip["factor"] == 10_000


def test_cli_table_and_csv(files: dict[str, Any], tmp_path: Path) -> None:
    status, out, _ = _run(["outliers", str(files["cur"]), "--form", "songnuan-2018", "--limit", "5", "--lang", "en"])
    assert status == 1 and files["unit"] in out and "outlier(s)" in out and "robust z" in out
    status, out, _ = _run(["outliers", str(files["cur"]), "--form", "songnuan-2018", "--limit", "5"])
    assert status == 1 and files["unit"] in out and "个异常值" in out and "稳健z值" in out
    status, _, _ = _run(["outliers", str(files["cur"]), "--form", "songnuan-2018", "-o", str(tmp_path / "o.csv")])
    back = pd.read_csv(tmp_path / "o.csv", dtype={"value": str})
    assert status == 1 and list(back.columns[:4]) == ["unit", "period", "row", "field"]
    assert back["unit"].iloc[0] == files["unit"] and back["score"].is_monotonic_decreasing


def test_cli_bad_input_exits_2_naming_the_file_and_row(files: dict[str, Any], tmp_path: Path) -> None:
    status, _, err = _run(
        ["outliers", str(files["cur"]), "--form", "songnuan-2018", "--previous", str(tmp_path / "none.csv")]
    )
    assert status == 2 and "none.csv: no such file" in err
    status, _, err = _run(
        ["outliers", str(files["cur"]), "--form", "songnuan-2018", "--previous", str(files["prev_twice"])]
    )
    assert status == 2 and "prev-twice.csv" in err and "given twice" in err and "1502" in err
    status, _, err = _run(["outliers", str(files["cur"]), "--form", "songnuan-2018", "--min-peers", "1"])
    assert status == 2 and "min_peers" in err


def test_cli_no_outliers_exits_0(tmp_path: Path) -> None:
    df = pd.DataFrame({"unit": [f"u{i}" for i in range(10)], "period": "2018", "01A": [100 + i for i in range(10)]})
    df.to_csv(tmp_path / "calm.csv", index=False)
    status, out, _ = _run(["outliers", str(tmp_path / "calm.csv"), "--form", "songnuan-2018", "--lang", "en"])
    assert status == 0 and "0 outlier(s)" in out


def test_readme_outliers_example_runs(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import re
    import runpy
    import warnings

    text = (root / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "us.outliers" in b)
    script = tmp_path / "outliers.py"
    script.write_text(block, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", us.UnknownUnitsWarning)  # the sample's planted stranger
        runpy.run_path(str(script))
    out = capsys.readouterr().out
    assert out.split()[:4] == ["unit", "field", "method", "score"] and "ratio_z" in out
