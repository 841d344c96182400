"""The documents in the reader's language: one table of words (unionstat.i18n), the
language chosen by lang=/--lang, the session (set_lang) or the form; the command line's
tables and the Jupyter views in Chinese and in English."""

from __future__ import annotations

import ast
import contextlib
import io
import re
import string
from pathlib import Path

import pandas as pd
import pytest

import unionstat as us
from unionstat import i18n
from unionstat.cli import main
from unionstat.sample import sample_province

CJK = re.compile(r"[\u3400-\u9fff]+")
PACKAGE = Path(us.__file__).parent


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def test_every_text_has_both_languages_with_the_same_fields() -> None:
    for key, (en, zh) in i18n.TEXTS.items():
        assert en and zh, key
        assert _fields(en) == _fields(zh) == _fields(key) or key.startswith("="), key
        # Chinese really is Chinese; English has no Chinese but the proper names it quotes
        # (送温暖, 汇总, 万元 …), which the Chinese text has too.
        assert CJK.search(zh) or re.search(r"[（）：，]", zh), (key, zh)  # Chinese, or its punctuation
        for run in CJK.findall(en):
            assert run in zh, (key, run)


def test_value_words_translate_and_data_stays_as_it_is() -> None:
    assert i18n.word("county", "zh") == "县级" and i18n.word("county", "en") == "county"
    assert i18n.word("error", "zh") == "错误" and i18n.word(True, "zh") == "是"
    assert i18n.word("630100", "zh") == "630100" and i18n.word("西宁市总工会", "en") == "西宁市总工会"
    with pytest.raises(KeyError):
        i18n.t("no such text", "zh")  # a missing translation is a bug, not a silent fallback


def test_language_order_lang_then_session_then_form() -> None:
    form = us.forms()["songnuan-2018"]
    assert i18n.lang_of(form) == "zh" and i18n.resolve(None, form) == "zh"
    try:
        us.set_lang("en")
        assert i18n.resolve(None, form) == "en" and i18n.resolve("zh", form) == "zh"
    finally:
        us.set_lang(None)
    assert i18n.resolve(None, form) == "zh"
    with pytest.raises(us.Error, match="lang must be one of zh, en, not 'fr'"):
        us.set_lang("fr")
    with pytest.raises(us.InputError):
        i18n.resolve("de")


def test_no_heading_literal_outside_the_table() -> None:
    """Headings and column names of the HTML come from i18n.TEXTS: no string literal of
    the presentation modules opens a heading or header cell with English words."""
    pattern = re.compile(r"<(h[1-6]|th|summary|title)[^>]*>[A-Za-z]{2,}")
    found = []
    for name in ("views", "demo", "outliers", "cli", "graph", "rules", "forms"):
        tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.search(node.value):
                found.append(f"{name}: {node.value[:60]}")
    assert found == []


def _run(argv: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = main(argv)
    return status, buf.getvalue()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _tree, songnuan, _ = sample_province()
    path = tmp_path_factory.mktemp("i18n") / "songnuan.csv"
    songnuan.drop(columns=[c for c in songnuan.columns if c == "submitted"]).to_csv(path, index=False)
    return path


def test_cli_tables_are_chinese_by_default_and_english_on_request(reports: Path) -> None:
    status, zh = _run(["completeness", str(reports), "--tree", "qinghai", "--form", "songnuan-2018"])
    assert status == 1  # the sample leaves units out
    assert "songnuan-2018 报告期 2018：应报" in zh
    assert re.search(r"层级\s+应报\s+已报\s+未报\s+报送率", zh) and "基层" in zh and "未报送（" in zh
    assert not re.search(r"\b(expected|missing|grassroots|level)\b", zh)
    _status, en = _run(["completeness", str(reports), "--tree", "qinghai", "--form", "songnuan-2018", "--lang", "en"])
    assert "units reported" in en and re.search(r"level\s+expected\s+reported\s+missing\s+rate", en)
    assert "grassroots" in en and "not reported (" in en and "报送率" not in en

    _status, zh = _run(["validate", str(reports), "--form", "songnuan-2018"])
    assert re.search(r"份报表，[\d,]+ 处违规", zh) and re.search(r"规则\s+严重程度\s+检查数", zh)
    assert "[错误]" in zh and "第 " in zh
    _status, en = _run(["validate", str(reports), "--form", "songnuan-2018", "--lang", "en"])
    assert re.search(r"rule\s+severity\s+items\s+passes", en) and "[error]" in en


def test_cli_html_follows_lang(reports: Path, tmp_path: Path) -> None:
    for lang, heading, other in (("zh", "上报数与汇总数不符", "imbalance(s)"), ("en", "imbalance(s)", "不符")):
        out = tmp_path / f"check-{lang}.html"
        _run(["check", str(reports), "--tree", "qinghai", "--form", "songnuan-2018", "--lang", lang, "-o", str(out)])
        text = out.read_text(encoding="utf-8")
        assert heading in text and other not in text
        assert ("<th>追溯路径</th>" in text) == (lang == "zh")


def test_jupyter_views_follow_the_session_language() -> None:
    tree, songnuan, _ = sample_province()
    form = us.forms()["songnuan-2018"]
    with pytest.warns(us.UnknownUnitsWarning):  # the sample's planted unit outside the tree
        c = tree.at("2018").completeness(songnuan, form)
    zh = c._repr_html_()
    assert "应报" in zh and "按层级" in zh and "by level" not in zh
    assert "<th>层级</th>" in zh and "<td>基层</td>" in zh
    try:
        us.set_lang("en")
        en = c._repr_html_()
        assert "by level" in en and "按层级" not in en and "<th>level</th>" in en
        assert "<th>row</th><th>item</th><th>label</th>" in form._repr_html_()
    finally:
        us.set_lang(None)
    assert "<th>行</th><th>项</th><th>内容</th><th>计量单位</th>" in form._repr_html_()
    with pytest.warns(us.UnknownUnitsWarning):
        view = tree.at("2018").rollup_view(songnuan, form, ignore_inner=True)
    assert "汇总：630000" in view._repr_html_() and "<th>630000 合计</th>" in view._repr_html_()
    assert isinstance(c.by_level, pd.DataFrame) and "level" in c.by_level.columns  # the data keep their names
