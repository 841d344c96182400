"""The README's first command: the demo prints what a provincial statistician wants to see
first, finds every planted mistake and writes the HTML report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from unionstat.cli import main
from unionstat.sample import planted_mistakes


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str]:
    out = tmp_path_factory.mktemp("demo") / "report.html"
    # Runs in-process so that the strict warning filters apply: the demo must not leak warnings.
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = main(["demo", "--output", str(out), "--lang", "en"])  # the English summary; zh: test_browser.py
    return status, buf.getvalue(), out.read_text(encoding="utf-8")


def test_demo_exits_0(demo: tuple[int, str, str]) -> None:
    assert demo[0] == 0


def test_summary_names_every_planted_mistake(demo: tuple[int, str, str]) -> None:
    _status, text, _html = demo
    mistakes = planted_mistakes()
    for m in mistakes.itertuples():
        assert m.unit in text, m
    assert f"5. Planted mistakes: {len(mistakes)} of {len(mistakes)} found" in text
    assert "✗" not in text


def test_summary_reads_in_the_statisticians_order(demo: tuple[int, str, str]) -> None:
    _status, text, _html = demo
    sections = [
        "1. Which units have errors",
        "2. Province totals",
        "3. Gaps between reported and computed",
        "4. Completeness",
        "5. Planted mistakes",
    ]
    positions = [text.index(s) for s in sections]
    assert positions == sorted(positions)
    # Errors: counts by severity, the top rules, messages in Chinese where they were made.
    assert "severity  violations  units" in text
    assert "top rules: songnuan.group.funds_raised_by_source" in text
    assert "其中农民工总数" in text and "取暖补贴户数为空或0" in text
    assert "carried up by the consolidated reports" in text
    # Totals of the key fields, computed against reported (the planted +2,000 shows).
    for label in ("职工总数", "困难职工", "筹集款物", "发放款物", "帮扶困难职工"):
        assert label in text
    assert "+2,000" in text
    # The gap, with its traced path from the province down to where it was made.
    assert "630000 → 632800 海西州总工会" in text
    assert "introduced here" in text
    # Completeness by level, the missing units and the unit outside the tree.
    assert "grassroots       887       886        1" in text
    assert "not reported: " in text and "not in the tree: 630102-900" in text
    assert "warning: 1 unit(s) not in the tree were left out of the roll-up" in text


def test_html_report_holds_the_findings(demo: tuple[int, str, str]) -> None:
    _status, _text, html = demo
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    for m in planted_mistakes().itertuples():
        assert m.unit in html, m
        assert m.what in html
    assert "songnuan.part_of.01B" in html and "bangfu.group.funding_by_source" in html
    assert "630000 青海省总工会 → 632800 海西州总工会" in html  # the traced gap
    assert "of 951 units reported" in html


def test_python_m_unionstat_demo_writes_the_default_file(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    proc = subprocess.run(
        [sys.executable, "-m", "unionstat", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "unionstat-demo.html").is_file()
    assert "已写出 unionstat-demo.html" in proc.stdout  # Chinese, the forms' language, by default
    assert proc.stderr == ""
