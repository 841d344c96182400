"""Pictures: a flagged field's distribution among its peers with the outliers marked, a
roll-up by child unit as bars — inline SVG in Jupyter and in the demo's HTML report; and
without matplotlib everything else still works and says what the plots need."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import unionstat as us
from unionstat import plots
from unionstat.demo import build_demo, demo_html
from unionstat.sample import planted_mistakes

pytest.importorskip("matplotlib")

#: The sample province holds one report of a unit outside the tree (planted): told, not an error here.
pytestmark = pytest.mark.filterwarnings("ignore::unionstat.UnknownUnitsWarning")


@pytest.fixture(scope="module")
def demo() -> tuple[object, str]:
    d = build_demo()
    return d, demo_html(d, "en")


def test_distribution_marks_the_outliers_and_the_median() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.lognormal(0, 0.5, 200), [900.0, 1200.0]])
    marked = np.zeros(len(values), dtype=bool)
    marked[-2:] = True
    svg = plots.distribution_svg(values, marked, title="05A 筹集款物总额", subtitle="peers", log=True, unit="万元")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert 'id="outliers"' in svg and 'id="median"' in svg and 'id="peers"' in svg
    assert "05A 筹集款物总额" in svg and "1,200" in svg  # text kept as text, the outliers' values shown
    assert svg._repr_svg_() == str(svg)


def test_bars_of_a_rollup_colour_the_highlighted_children() -> None:
    svg = plots.bars_svg(
        ["632200 海北州", "632800 海西州", "630100 西宁市"],
        [5000.0, 120.5, float("nan")],
        title="05A by child",
        unit="万元",
        highlight=["632200 海北州"],
    )
    assert svg.count('id="bar-outlier"') == 1 and svg.count('id="bar') == 3
    assert "海北州" in svg and "空" in svg  # a blank total is 空, not 0


def test_an_outlier_result_plots_its_findings(form: us.Form) -> None:
    tree, df, _ = us.sample.sample_province()
    res = us.outliers(df, form, tree=tree.at("2018"))
    first = next(i for i, m in enumerate(res.table.column("method").to_pylist()) if m != "magnitude")
    svg = res.plot(first)
    code = res.table.column("field")[first].as_py()
    assert code in svg and 'id="outliers"' in svg
    values, marked, group = res.peer_values(first)
    assert marked.sum() >= 1 and len(values) >= 5  # the peers, the finding among them marked
    assert group == res.table.column("peer_group")[first].as_py()
    assert "<svg" in res._repr_html_()


def test_a_rollup_view_plots_its_children(form: us.Form) -> None:
    tree, df, _ = us.sample.sample_province()
    view = tree.at("2018").rollup_view(df, form, ignore_inner=True)
    svg = view.plot("05A", highlight=["632200"])
    assert svg.count('id="bar') == len([c for c in view.children if c in view.totals.index])
    assert 'id="bar-outlier"' in svg


def test_the_demo_report_shows_the_outliers_with_their_plots(demo: tuple[object, str]) -> None:
    d, html = demo
    slip = planted_mistakes().query("found_by == 'outliers'").iloc[0]
    assert "6. Figures that pass the rules but stand out" in html
    section = html[html.index("id='outliers'") :]
    assert slip["unit"] in section and "magnitude" in section
    assert section.count("<svg") >= 2  # distributions and the roll-up by child
    assert 'id="outliers"' in section and 'id="bar-outlier"' in section
    assert bool(d.mistakes.set_index("unit").loc[slip["unit"], "found"])


def test_without_matplotlib_the_rest_works_and_says_what_plots_need(
    demo: tuple[object, str], monkeypatch: pytest.MonkeyPatch, form: us.Form
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    assert not plots.available()
    with pytest.raises(plots.PlotError, match=r"pip install unionstat\[plot\]"):
        plots.bars_svg(["a"], [1.0], title="t")
    d, _ = demo
    html = demo_html(d, "en")
    assert "plots need matplotlib" in html and "<svg" not in html
    assert "6. Figures that pass the rules but stand out" in html
    tree, df, _ = us.sample.sample_province()
    res = us.outliers(df, form, tree=tree.at("2018"))
    assert "plots need matplotlib" in res.html("en") and "图需要 matplotlib" in res._repr_html_()


def test_matplotlib_is_optional_in_the_package_metadata(root: Path) -> None:
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    deps = text[text.index("dependencies = [") :].split("\n", 1)[0]
    assert "matplotlib" not in deps
    assert 'plot = ["matplotlib' in text
    test_extra = next(line for line in text.splitlines() if line.startswith("test = ["))
    assert "matplotlib" in test_extra
