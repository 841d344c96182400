"""Jupyter views: each object an analyst meets shows its key figures as HTML."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pandas as pd
import pytest

import unionstat as us
from unionstat.sample import sample_province
from unionstat.views import fmt_value, gaps_html, text_table


@pytest.fixture(scope="module")
def province() -> tuple[us.Hierarchy, pd.DataFrame]:
    tree, songnuan, _bangfu = sample_province()
    return tree.at("2018"), songnuan


def _cells(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", html)


@pytest.fixture
def english() -> Iterator[None]:
    """These views' English headings (the session's language set as a Jupyter user would
    set it); their Chinese ones, the default for the bundled forms, are in test_i18n.py."""
    us.set_lang("en")
    yield
    us.set_lang(None)


def test_form_view_has_title_codes_and_units(form: us.Form) -> None:
    html = form._repr_html_()
    assert form.title in html
    assert ">01A" in html and ">万元<" in html and "workers.total" in html


@pytest.mark.usefixtures("english")
def test_report_view_shows_values_and_violations_beside_their_cells(form: us.Form) -> None:
    rep = form.report("630100", "2018", {"01A": 183000, "01B": 241000, "05A": "1523.40"})
    view = form.view(rep)
    html = view._repr_html_()
    assert "630100 2018: ✗ errors" in html and "1 violation(s) (1 error(s))" in html
    row = re.search(r"<tr class='us-fail'><td></td><td>B</td><td>01B</td>.*?</tr>", html)
    assert row, "01B is not marked"
    assert "241,000" in row.group(0) and "其中农民工总数" in row.group(0) and "[error]" in row.group(0)
    assert "超过01A" in row.group(0)
    assert re.search(r"<td>05A</td><td>[^<]*</td><td>1,523.40</td><td>万元</td>", html)
    assert "<span class='us-muted'>空</span>" in html  # a blank is shown as blank, not 0
    assert not form.view(form.report("630100", "2018", {"01A": 10, "01B": 3})).violations


@pytest.mark.usefixtures("english")
def test_batch_validation_view_has_counts_and_messages(
    province: tuple[us.Hierarchy, pd.DataFrame], form: us.Form
) -> None:
    _tree, songnuan = province
    res = form.check(songnuan)
    html = res._repr_html_()
    assert f"{len(res.violations)} violation(s) in {res.violations['unit'].nunique()} unit(s)" in html
    assert "songnuan.group.funds_raised_by_source" in html and "取暖补贴户数为空或0" in html
    # 6 errors; 4 warnings: the heating subsidy per household, at the union that typed 元 into
    # the 万元 blanks and at the county and prefecture whose 汇总 carry it, and where 0 households were given.
    assert repr(res).startswith("<BatchValidation: errors, 10 violation(s) (6 errors) in 9 unit(s)")


@pytest.mark.usefixtures("english")
def test_hierarchy_view_has_roots_levels_and_units_below(province: tuple[us.Hierarchy, pd.DataFrame]) -> None:
    tree, _songnuan = province
    html = tree._repr_html_()
    assert f"Hierarchy: {len(tree)} units" in html and "630000 青海省总工会" in html
    assert "grassroots" in html and "enterprise" in html
    # One step below the root: each prefecture with the number of units under it.
    below = len(tree.subtree("632800")) - 1
    assert re.search(rf"<td>632800</td><td>海西州总工会</td><td>city</td><td>regional</td><td>{below:,}</td>", html)


@pytest.mark.usefixtures("english")
def test_rollup_view_shows_the_totals_field_by_field(
    province: tuple[us.Hierarchy, pd.DataFrame], form: us.Form
) -> None:
    tree, songnuan = province
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", us.UnknownUnitsWarning)
        view = tree.rollup_view(songnuan, form, ignore_inner=True)
        totals = tree.rollup(songnuan, form, ignore_inner=True)
    assert view.unit == "630000" and "632800" in view.children
    assert view.total("workers.total") == totals.loc["630000", "01A"]
    assert view.unknown_units == ["630102-900"]
    html = view._repr_html_()
    assert "Roll-up of songnuan-2018: 630000 青海省总工会" in html
    assert f"<b>{totals.loc['630000', '01A']:,}</b>" in html  # workers, province total
    assert f"<b>{totals.loc['630000', '05A']:,}</b>" in html  # funds raised, 万元
    assert "海西州总工会" in html and f"{totals.loc['632800', '01A']:,}" in html  # a child's column
    assert "630102-900" in html  # the report left out


@pytest.mark.usefixtures("english")
def test_completeness_view(province: tuple[us.Hierarchy, pd.DataFrame], form: us.Form) -> None:
    tree, songnuan = province
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", us.UnknownUnitsWarning)
        c = tree.completeness(songnuan, form)
    html = c._repr_html_()
    assert f"{c.reported:,} of {c.expected:,} units reported" in html
    assert "99.9%" in html and c.missing["unit"].iloc[0] in html
    assert repr(c) == f"<Completeness 2018: {c.reported} of {c.expected} units reported ({c.rate:.1%})>"


@pytest.mark.usefixtures("english")
def test_gaps_view_traces_the_path(province: tuple[us.Hierarchy, pd.DataFrame], form: us.Form) -> None:
    tree, songnuan = province
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", us.UnknownUnitsWarning)
        gaps = tree.check(songnuan, form)
    assert gaps["trace"].tolist() == [["632800"], ["630000", "632800"]]
    names = dict(zip(tree.ids, tree.to_frame()["name"]))
    html = gaps_html(gaps, names)
    assert "2 imbalance(s)" in html and "119,741" in html and "2,000" in html
    assert "630000 青海省总工会 → 632800 海西州总工会" in html


def test_fmt_value_and_text_table() -> None:
    from decimal import Decimal

    assert [fmt_value(v) for v in (1234567, Decimal("1234.50"), None, pd.NA, True, "x")] == [
        "1,234,567",
        "1,234.50",
        "空",
        "空",
        "是",
        "x",
    ]
    table = text_table(["unit", "名称", "n"], [["a", "甲市", "1"], ["bb", "乙", "22"]], right={2}, indent="")
    assert table.splitlines() == ["unit  名称   n", "a     甲市   1", "bb    乙    22"]
