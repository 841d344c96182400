"""Forms print in their paper layout, to be held against the printed notices."""

from __future__ import annotations

import re

import pytest

import unionstat as us
from unionstat.cli import main
from unionstat.views import form_html


@pytest.mark.parametrize("form_id", sorted(us.forms()))
def test_every_blank_prints_once_with_its_code_and_unit(form_id: str) -> None:
    form = us.forms()[form_id]
    text = form.render()
    lines = text.splitlines()
    for f in form.fields:
        mine = [line for line in lines if re.search(rf"(?<!⊂)\s{re.escape(f.code)}(\s⊂\s\S+)?$", line)]
        assert len(mine) == 1, f.code
        assert f.unit in mine[0] or f.unit == "是/否", f.code
        if f.letter:
            assert f"({f.letter})" in mine[0]
    assert f"{len(form.fields)} 个填报项" in lines[2]
    for q in form.quirks:
        assert q in text
    for note, _en in form.notes:
        assert note in text


def test_notes_sit_where_the_paper_prints_them() -> None:
    # 注 lines follow the table (Dalian 2012); 说明 lines precede it (Qinghai 2018).
    dalian = us.forms()["songnuan-2012"].render().splitlines()
    qinghai = us.forms()["songnuan-2018"].render().splitlines()
    assert dalian.index("注:本表中职工均包括农民工，困难职工均包括困难农民工。") > next(
        i for i, line in enumerate(dalian) if line.rstrip().endswith("13_3")
    )
    assert qinghai.index("说明：本表中职工均包括农民工，困难职工包括困难农民工。") < next(
        i for i, line in enumerate(qinghai) if line.rstrip().endswith("01A")
    )


def test_a_heading_that_starts_a_label_is_not_printed_twice() -> None:
    text = us.forms()["songnuan-2014"].render()
    assert text.count("2014年元旦、春节期间送温暖活动中筹集慰问款物总额") == 1
    assert re.search(r"^05\s+2014年元旦、春节期间送温暖活动中筹集慰问款物总额 ____ 万元\s+05_total$", text, re.M)


def test_a_blank_printed_mid_sentence_stays_there() -> None:
    text = us.forms()["songnuan-2012"].render()
    assert re.search(r"^\s+\(I\) 为____户困难职工家庭提供过冬取暖补贴\s+07I$", text, re.M)
    assert "过冬取暖补贴金额 ____ 元" in text          # the 2012 amount is in 元
    assert "为____名权益受损的职工开展维权工作 (人)" in text  # printed 名, stored as 人


def test_detail_adds_printed_wording_and_notes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "bangfu-2017", "--detail"]) == 0
    out = capsys.readouterr().out
    assert "印刷原文：(B) 省级_____个；" in out
    assert main(["show", "songnuan-2018", "--lang", "en"]) == 0
    assert "Workers in the area, total" in capsys.readouterr().out


def test_html_view_has_every_field_and_the_quirks() -> None:
    form = us.forms()["bangfu-2011"]
    html = form._repr_html_()
    for f in form.fields:
        assert f">{f.code}<" in html or f">{f.code} <" in html
    assert "印刷原样保留之处" in html and "quirks kept as printed" in form_html(form, "en")
