"""unionstat.dask on a real distributed.LocalCluster (two worker processes, loopback
only): validation, roll-up, check and completeness equal the single-machine results
on the sample province however the reports are split, also when a worker dies."""

from __future__ import annotations

import os
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import songnuan_with_rules

import unionstat as us
from unionstat.sample import sample_province

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402 - installed with distributed

import unionstat.dask as usd  # noqa: E402

# The workers import unionstat, not this test file: functions defined here travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=":0",
        worker_dashboard_address=":0",
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def province():
    return sample_province()


def frame_of(parts: list[pd.DataFrame]) -> dd.DataFrame:
    """A dask DataFrame whose partitions are exactly ``parts`` (empty ones included)."""
    meta = parts[0].iloc[:0]
    return dd.from_delayed([dask.delayed(p) for p in parts], meta=meta, verify_meta=False)


def county_of(tree: us.Hierarchy, units: pd.Series) -> list[str]:
    """Each unit's county ancestor (itself if a county; the unit above counties otherwise)."""
    out = []
    for u in units:
        path = tree.path(u) if u in tree else [u]
        counties = [a for a in path if tree.level(a) == "county"] if u in tree else []
        out.append(counties[0] if counties else path[-1])
    return out


def splits(df: pd.DataFrame, tree: us.Hierarchy) -> dict[str, list[pd.DataFrame]]:
    n = len(df)
    by = pd.Series(county_of(tree, df["unit"]), index=df.index)
    return {
        "county": [g for _k, g in df.groupby(by, sort=True)],
        "blocks": [df.iloc[i : i + n // 4 + 1] for i in range(0, n, n // 4 + 1)],
        "uneven": [df.iloc[a:b] for a, b in zip([0, 3, n // 2, n - 1], [3, n // 2, n - 1, n])],
        "empty": [df.iloc[: n // 3], df.iloc[0:0], df.iloc[n // 3 :]],
    }


SPLITS = ["county", "blocks", "uneven", "empty"]


def warned(run, *args, **kw):
    """``run(*args, **kw)`` and the texts of the warnings it gave (units outside the tree …)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = run(*args, **kw)
    return out, [f"{w.category.__name__}: {w.message}" for w in caught]


@pytest.mark.parametrize("how", SPLITS)
def test_validate_equals_one_machine(client, province, how) -> None:
    form = us.forms()["songnuan-2018"]
    parts = splits(province.songnuan, province.tree.at("2018"))[how]
    whole = pd.concat(parts, ignore_index=True)
    expected = form.check(whole)
    got = usd.validate(frame_of(parts), form)
    assert len(expected.violations) > 0 and got.rows == len(whole)
    pd.testing.assert_frame_equal(got.violations.compute().reset_index(drop=True), expected.violations)
    pd.testing.assert_frame_equal(got.summary, expected.summary)
    assert got.ok == expected.ok is False


@pytest.mark.parametrize("how", SPLITS)
@pytest.mark.parametrize("form_id", ["songnuan-2018", "bangfu-2017"])
def test_rollup_equals_one_machine(client, province, how, form_id) -> None:
    form = us.forms()[form_id]
    df = province.songnuan if form_id.startswith("songnuan") else province.bangfu
    period = str(form.year)
    tree = province.tree.at(period)
    parts = splits(df, tree)[how]
    for ignore_inner in (False, True):
        expected, told = warned(tree.rollup, df, form, ignore_inner=ignore_inner)
        got, got_told = warned(usd.rollup, frame_of(parts), tree, form, ignore_inner=ignore_inner, split_every=2)
        pd.testing.assert_frame_equal(got, expected)
        assert got_told == told
        if not ignore_inner:
            assert expected["reports"].max() > 0 and expected.notna().any().all()


@pytest.mark.parametrize("how", ["county", "empty"])
def test_validate_and_rollup_in_one_pass_equal_one_machine(client, province, how) -> None:
    form = us.forms()["songnuan-2018"]
    tree = province.tree.at("2018")
    parts = splits(province.songnuan, tree)[how]
    whole = pd.concat(parts, ignore_index=True)
    with distributed.get_task_stream(client) as ts:
        (checked, totals), told = warned(usd.validate_rollup, frame_of(parts), tree, form, split_every=3)
    expected = form.check(whole)
    pd.testing.assert_frame_equal(checked.violations.compute().reset_index(drop=True), expected.violations)
    pd.testing.assert_frame_equal(checked.summary, expected.summary)
    one, one_told = warned(tree.rollup, province.songnuan, form)
    pd.testing.assert_frame_equal(totals, one)
    assert told == one_told and len(expected.violations) > 0 and totals["reports"].max() > 0
    # One task per partition did both (each partition imported once).
    both = [t for t in ts.data if str(t["key"]).startswith("_both_part-")]
    assert len(both) == len(parts)


@pytest.mark.parametrize("how", SPLITS)
def test_check_equals_one_machine(client, province, how) -> None:
    form = us.forms()["songnuan-2018"]
    tree = province.tree.at("2018")
    parts = splits(province.songnuan, tree)[how]
    for imbalanced_only in (True, False):
        expected, told = warned(tree.check, province.songnuan, form, imbalanced_only=imbalanced_only)
        got, got_told = warned(usd.check, frame_of(parts), tree, form, imbalanced_only=imbalanced_only, split_every=3)
        pd.testing.assert_frame_equal(got, expected)
        assert got_told == told
    gaps = expected
    assert len(gaps) > 0 and gaps["trace"].map(len).max() > 1  # the planted gaps, with drill-downs


@pytest.mark.parametrize("how", SPLITS)
def test_completeness_equals_one_machine(client, province, how) -> None:
    form = us.forms()["bangfu-2017"]
    tree = province.tree.at("2017")
    df = province.bangfu
    parts = splits(df, tree)[how]
    expected, told = warned(tree.completeness, df, form)
    got, got_told = warned(usd.completeness, frame_of(parts), tree, form)
    assert got_told == told
    assert expected.expected > expected.reported > 0
    assert (got.period, got.expected, got.reported) == (expected.period, expected.expected, expected.reported)
    pd.testing.assert_frame_equal(got.missing, expected.missing)
    pd.testing.assert_frame_equal(got.by_level, expected.by_level)
    pd.testing.assert_frame_equal(got.by_kind, expected.by_kind)


PREV_RULES = """
  - id: songnuan.workers_not_halved
    check: "01A * 2 >= prev(01A)"
    severity: warning
    message: 职工总数{01A}人不足上期的一半
    message_en: "Workers in total ({01A}) fell below half of the previous period's"
  - id: songnuan.migrants_reported_again
    check: "if prev(01B) > 0 then 01B > 0"
    severity: warning
    missing: never_skip
    message: 上期有农民工，本期农民工为空或0
    message_en: "Migrant workers reported last period, none or blank now"
"""


@pytest.fixture(scope="module")
def prev_form(tmp_path_factory) -> us.Form:
    """songnuan-2018 with two prev() rules, from a file (so that it travels to workers)."""
    return songnuan_with_rules(tmp_path_factory.mktemp("prev"), PREV_RULES)


def two_periods(df: pd.DataFrame) -> pd.DataFrame:
    """The sample's 2018 reports and a 2017 of them: every 7th unit did not report in 2017
    (no previous), every 5th had more than twice its workers (fails workers_not_halved),
    every 3rd had migrants where 2018 has none (fails migrants_reported_again)."""
    old = df.copy()
    old["period"] = "2017"
    n = len(old)
    i = np.arange(n)
    a = old["01A"].astype("Int64")
    old["01A"] = a.where(i % 5 != 0, a * 3 + 1)
    b = old["01B"].astype("Int64")
    old["01B"] = b.where(i % 3 != 0, b.fillna(0) + 2)
    new = df.copy()
    new["01B"] = new["01B"].astype("Int64").where(i % 3 != 0, 0)
    old = old[i % 7 != 0]
    return pd.concat([old, new], ignore_index=True)


def period_splits(df: pd.DataFrame) -> dict[str, list[pd.DataFrame]]:
    n = len(df)
    shuffled = df.sample(frac=1.0, random_state=15)
    return {
        # each period whole, the later first: prev() reads another partition
        "by period": [df[df["period"] == "2018"], df[df["period"] == "2017"]],
        # both periods in every partition, units scattered, one partition empty
        "mixed, one empty": [
            shuffled.iloc[: n // 3],
            shuffled.iloc[0:0],
            shuffled.iloc[n // 3 : n // 2],
            shuffled.iloc[n // 2 :],
        ],
        "one partition": [df],
    }


@pytest.mark.parametrize("how", ["by period", "mixed, one empty", "one partition"])
def test_prev_rules_across_partitions_equal_one_machine(client, province, prev_form, how) -> None:
    df = two_periods(province.songnuan)
    parts = period_splits(df)[how]
    whole = pd.concat(parts, ignore_index=True)
    expected = prev_form.check(whole, previous=whole)
    got = usd.validate(frame_of(parts), prev_form, previous=frame_of(parts))
    pd.testing.assert_frame_equal(got.violations.compute().reset_index(drop=True), expected.violations)
    pd.testing.assert_frame_equal(got.summary, expected.summary)
    s = expected.summary.set_index("rule")
    # The planted period-to-period failures are found; the 2017 reports and the units
    # new in 2018 are skipped for want of a previous report (never_skip reads it as 0).
    assert s.loc["songnuan.migrants_reported_again", "fails"] > 0
    assert s.loc["songnuan.workers_not_halved", "fails"] > 0
    assert s.loc["songnuan.workers_not_halved", "skipped"] >= (whole["period"] == "2017").sum() + 1
    # Without the previous data the same rules only skip: prev() did read the other period.
    alone = usd.validate(frame_of(parts), prev_form).summary.set_index("rule")
    assert alone.loc["songnuan.workers_not_halved", "fails"] == 0
    assert alone.loc["songnuan.workers_not_halved", "skipped"] == len(whole)


def test_prev_rules_read_a_separate_previous_frame(client, province, prev_form) -> None:
    df = two_periods(province.songnuan)
    now, before = df[df["period"] == "2018"], df[df["period"] == "2017"]
    expected = prev_form.check(now, previous=before)
    n = len(before)
    got = usd.validate(
        frame_of([now.iloc[: len(now) // 2], now.iloc[len(now) // 2 :]]),
        prev_form,
        previous=frame_of([before.iloc[n // 2 :], before.iloc[0:0], before.iloc[: n // 2]]),
    )
    pd.testing.assert_frame_equal(got.violations.compute().reset_index(drop=True), expected.violations)
    pd.testing.assert_frame_equal(got.summary, expected.summary)
    assert expected.summary.set_index("rule").loc["songnuan.workers_not_halved", "fails"] > 0


def test_a_unit_twice_in_the_previous_period_is_an_error_naming_it(client, province, prev_form) -> None:
    df = two_periods(province.songnuan)
    before = df[df["period"] == "2017"]
    twice = pd.concat([before, before.iloc[[4]]], ignore_index=True)
    unit = before.iloc[4]["unit"]
    with pytest.raises(us.InputError, match=f"unit {unit} reports twice in period 2017"):
        prev_form.check(df, previous=twice)
    with pytest.raises(us.InputError, match=f"unit {unit} reports twice in period 2017"):
        usd.validate(frame_of([df]), prev_form, previous=frame_of([twice.iloc[:10], twice.iloc[10:]]))


@pytest.mark.parametrize("how", ["county", "empty"])
def test_timeliness_equals_one_machine(client, province, how) -> None:
    from unionstat.sample import submission_times

    form = us.forms()["songnuan-2018"]
    tree = province.tree.at("2018")
    df = province.songnuan
    df = df.assign(submitted=df["unit"].map(submission_times()))
    parts = splits(df, tree)[how]
    expected, told = warned(tree.completeness, df, form)
    got, got_told = warned(usd.completeness, frame_of(parts), tree, form)
    assert got_told == told
    assert expected.timed and len(expected.late) == 1  # the planted late county
    assert (got.deadline, got.on_time) == (expected.deadline, expected.on_time)
    pd.testing.assert_frame_equal(got.reports, expected.reports)
    pd.testing.assert_frame_equal(got.late, expected.late)
    pd.testing.assert_frame_equal(got.by_level, expected.by_level)
    pd.testing.assert_frame_equal(got.by_kind, expected.by_kind)
    # A later deadline given: nobody late, on both paths.
    later = warned(usd.completeness, frame_of(parts), tree, form, deadline="2018-03-31")[0]
    assert later.late.empty and later.on_time == warned(tree.completeness, df, form, deadline="2018-03-31")[0].on_time


def _die_once(part: pd.DataFrame, marker: str) -> pd.DataFrame:
    """Kills its worker process the first time any partition gets here."""
    if not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os._exit(1)
    return part


def test_a_killed_worker_is_retried_and_the_result_is_exact(client, province, tmp_path) -> None:
    form = us.forms()["songnuan-2018"]
    tree = province.tree.at("2018")
    parts = splits(province.songnuan, tree)["blocks"]
    before = set(client.run(os.getpid).values())
    marker = str(tmp_path / "killed")
    ddf = frame_of(parts).map_partitions(_die_once, marker, meta=parts[0].iloc[:0])
    got, _ = warned(usd.rollup, ddf, tree, form)
    pd.testing.assert_frame_equal(got, warned(tree.rollup, province.songnuan, form)[0])
    killed = int(Path(marker).read_text())
    assert killed in before  # a worker process of the cluster died mid-run …
    client.wait_for_workers(2, timeout=60)
    after = set(client.run(os.getpid).values())
    assert killed not in after and len(after) == 2  # … and its nanny started another

    marker2 = str(tmp_path / "killed-again")
    ddf = frame_of(parts).map_partitions(_die_once, marker2, meta=parts[0].iloc[:0])
    res = usd.validate(ddf, form)
    pd.testing.assert_frame_equal(res.summary, form.check(province.songnuan).summary)
    assert Path(marker2).exists()


def test_the_tree_is_shipped_once(client, province) -> None:
    form = us.forms()["songnuan-2018"]
    tree = province.tree.at("2018")
    parts = splits(province.songnuan, tree)["county"]
    assert len(parts) > 10
    with distributed.get_task_stream(client) as ts:
        got, _ = warned(usd.rollup, frame_of(parts), tree, form)
    pd.testing.assert_frame_equal(got, warned(tree.rollup, province.songnuan, form)[0])
    keys = [t["key"] for t in ts.data]
    built = [k for k in keys if str(k).startswith("unionstat-tree-")]
    partials = [k for k in keys if str(k).startswith("_rollup_part-")]
    # One task built the tree for all the partitions' tasks, which ran on both workers
    # (the second fetched the built tree, it did not build it again).
    assert len(built) == 1 and len(partials) == len(parts)
    assert len({t["worker"] for t in ts.data if str(t["key"]).startswith("_rollup_part-")}) == 2


def test_trees_and_forms_pickle(province, tmp_path) -> None:
    tree = province.tree
    back = pickle.loads(pickle.dumps(tree))
    assert back.ids == tree.ids and back.core.to_csv() == tree.core.to_csv() and back.core.versioned
    view = tree.at("2018")  # a view of one period: fewer units, some under another parent
    back = pickle.loads(pickle.dumps(view))
    assert len(view) < len(tree) and back.ids == view.ids
    assert [back.parent(u) for u in back.ids] == [view.parent(u) for u in view.ids]
    assert back.to_frame().equals(view.to_frame())
    form = us.forms()["songnuan-2018"]
    assert pickle.loads(pickle.dumps(form)) is form  # bundled: by id
    src = Path(us.forms()["bangfu-2017"].schema.file)
    own = tmp_path / "mine.yaml"
    own.write_text(src.read_text(encoding="utf-8").replace("id: bangfu-2017", "id: mine-2017"), encoding="utf-8")
    mine = us.load_form(own)
    again = pickle.loads(pickle.dumps(mine))
    assert again.id == "mine-2017" and [f.code for f in again.fields] == [f.code for f in mine.fields]


def test_a_total_that_overflows_across_partitions_names_unit_and_field(client) -> None:
    form = us.forms()["songnuan-2018"]
    tree = us.Hierarchy.from_pandas(
        pd.DataFrame(
            {
                "unit": ["P", "C", "a", "b"],
                "level": ["province", "county", "grassroots", "grassroots"],
                "parent": ["", "P", "C", "C"],
            }
        )
    )
    big = 2**62 + 1
    df = pd.DataFrame({"unit": ["a", "b"], "period": "2018", "01A": [big, big]})
    with pytest.raises(us.ExactOverflowError, match="01A") as one:
        tree.rollup(df, form)
    with pytest.raises(us.ExactOverflowError, match=r"01A.*C") as many:
        usd.rollup(frame_of([df.iloc[:1], df.iloc[1:]]), tree, form)
    assert (many.value.unit, many.value.field) == ("C", "01A") and one.value.field == "01A"
    with pytest.raises(us.ExactOverflowError, match="01A"):
        usd.check(frame_of([df.iloc[:1], df.iloc[1:]]), tree, form)


def test_a_unit_in_two_partitions_is_an_error_naming_it(client, province) -> None:
    form = us.forms()["songnuan-2018"]
    tree = province.tree.at("2018")
    df = province.songnuan
    twice = [df, df.iloc[5:6]]
    unit = df["unit"].iloc[5]
    with pytest.raises(us.InputError, match=f"unit {unit} reports twice"):
        tree.rollup(pd.concat(twice), form)
    for run in (usd.rollup, usd.check, usd.completeness):
        with pytest.raises(us.InputError, match=f"unit {unit} reports twice") as e:
            run(frame_of(twice), tree, form)
        assert e.value.unit == unit


def test_partitions_of_different_periods_are_an_error(client, province) -> None:
    form = us.forms()["songnuan-2018"]
    tree = province.tree.at("2018")
    df = province.songnuan
    other = df.iloc[:10].assign(period="2019")
    with pytest.raises(us.InputError, match="several periods"):
        tree.rollup(pd.concat([df, other]), form)  # the same on one machine
    with pytest.raises(us.InputError, match=r"several periods \(2018, 2019\)"):
        usd.rollup(frame_of([df, other]), tree, form)
    # With the period named, the other period's reports are left out on both sides.
    pd.testing.assert_frame_equal(
        warned(usd.rollup, frame_of([df, other]), tree, form, period="2018")[0],
        warned(tree.rollup, pd.concat([df, other]), form, period="2018")[0],
    )


def test_units_outside_the_tree_are_warned_about_once(client, province) -> None:
    form = us.forms()["songnuan-2018"]
    tree = province.tree.at("2018")
    df = province.songnuan
    stray = df.iloc[:2].assign(unit=["X1", "X2"])
    expected, told = warned(
        tree.rollup, pd.concat([df.iloc[:100], stray.iloc[:1], df.iloc[100:], stray.iloc[1:]]), form
    )
    got, got_told = warned(
        usd.rollup, frame_of([df.iloc[:100], stray.iloc[:1], df.iloc[100:], stray.iloc[1:]]), tree, form
    )
    pd.testing.assert_frame_equal(got, expected)
    assert got_told == told and len(told) == 1 and "X1" in told[0] and "X2" in told[0]


def test_a_bad_cell_in_a_partition_names_row_unit_and_field(client, province) -> None:
    form = us.forms()["songnuan-2018"]
    df = province.songnuan.iloc[:20].copy()
    df["01A"] = df["01A"].astype(object)
    df.loc[df.index[4], "01A"] = "lots"
    with pytest.raises(us.InputError, match="01A") as e:
        usd.validate(frame_of([df.iloc[:3], df.iloc[3:]]), form)
    assert e.value.field == "01A" and e.value.unit == df["unit"].iloc[4]


def _write_counties(df: pd.DataFrame, tree: us.Hierarchy, folder: Path, suffix: str) -> int:
    folder.mkdir()
    groups = splits(df, tree)["county"]
    for i, g in enumerate(groups):
        if suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pandas(g, preserve_index=False), folder / f"county-{i:03d}.parquet")
        else:
            us.write_reports(g, folder / f"county-{i:03d}.csv")
    return len(groups)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_folder_of_files_to_province_totals(client, province, tmp_path, suffix) -> None:
    form = us.forms()["songnuan-2018"]
    tree = province.tree.at("2018")
    n = _write_counties(province.songnuan, tree, tmp_path / "in", suffix)
    ddf = usd.read(tmp_path / "in", form)
    assert ddf.npartitions == n
    expected, told = warned(tree.rollup, province.songnuan, form)
    got, got_told = warned(usd.rollup, ddf, tree, form)
    pd.testing.assert_frame_equal(got, expected)
    assert got_told == told
    got, _ = warned(usd.rollup, usd.read(str(tmp_path / "in" / f"*{suffix}"), form), tree, form)
    pd.testing.assert_frame_equal(got, expected)
    # Results back as partitioned Parquet: read again, the same violations and summary.
    res = usd.validate(ddf, form)
    res.to_parquet(tmp_path / "out")
    written = sorted((tmp_path / "out" / "violations").glob("*.parquet"))
    assert len(written) == n
    back = pd.read_parquet(tmp_path / "out" / "violations")
    whole = pd.concat(splits(province.songnuan, tree)["county"], ignore_index=True)
    expected_v = form.check(whole).violations
    assert len(back) == len(expected_v) > 0
    assert back["rule"].tolist() == expected_v["rule"].tolist() and back["row"].tolist() == expected_v["row"].tolist()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "summary.parquet"), res.summary)


def test_reading_what_is_not_there_is_an_error(tmp_path) -> None:
    form = us.forms()["songnuan-2018"]
    with pytest.raises(us.InputError, match="no Parquet or CSV files"):
        usd.read(tmp_path, form)
    (tmp_path / "notes.txt.xlsx").write_text("x")
    with pytest.raises(us.InputError, match="not a Parquet or CSV file"):
        usd.read([tmp_path / "notes.txt.xlsx"], form)


def test_without_a_cluster_the_local_scheduler_gives_the_same(province) -> None:
    form = us.forms()["songnuan-2018"]
    tree = province.tree.at("2018")
    parts = splits(province.songnuan, tree)["uneven"]
    with dask.config.set(scheduler="synchronous"):
        got, _ = warned(usd.rollup, frame_of(parts), tree, form)
    pd.testing.assert_frame_equal(got, warned(tree.rollup, province.songnuan, form)[0])
    assert isinstance(np.asarray(got["01A"]).sum(), (int, np.integer))


def test_the_readme_cluster_example_runs(province, tmp_path, monkeypatch) -> None:
    """The README's five lines, as written (their own LocalCluster), on a folder of
    county files: the province's totals, equal to one machine's."""
    import re
    import runpy

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "unionstat.dask" in b)
    tree = us.Hierarchy.sample("qinghai").at("2018")
    _write_counties(province.songnuan, tree, tmp_path / "counties", ".parquet")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.py").write_text(block, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ns = runpy.run_path(str(tmp_path / "example.py"))
        try:
            expected = tree.rollup(province.songnuan, us.forms()["songnuan-2018"])
            pd.testing.assert_frame_equal(ns["totals"], expected)
            assert len(ns["totals"]) > 50
        finally:
            cluster = ns["client"].cluster
            ns["client"].close()
            cluster.close()
