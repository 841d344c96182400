"""The demo's HTML report as a provincial office forwards it: in Chinese with no English
heading or summary, in English with no Chinese one (the data — unit names, form titles,
labels, messages — stay as reported), and rendered by a real browser: headless Chromium
takes a screenshot of each, which must show a page, not a blank."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from unionstat.demo import KEY_FIELDS, DemoResult, build_demo, demo_html

#: Elements whose text is a heading or a column name.
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6", "th", "title", "summary", "caption"}
#: Elements whose text is data (cells) or a picture (SVG plots, bilingual by design).
DATA = {"td", "svg", "style", "script"}
CJK = re.compile(r"[\u3400-\u9fff]+")


class _Texts(HTMLParser):
    """Text of a page outside data cells and pictures, as (tag it is in, text), and the
    headings' texts apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.prose: list[tuple[str, str]] = []
        self.headings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("br", "meta", "img", "hr", "input", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not text or any(t in DATA for t in self.stack):
            return
        where = next((t for t in reversed(self.stack) if t in HEADINGS), self.stack[-1] if self.stack else "")
        self.prose.append((where, text))
        if where in HEADINGS:
            self.headings.append(text)


def _texts(html: str) -> _Texts:
    p = _Texts()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def demo() -> DemoResult:
    return build_demo()


@pytest.fixture(scope="module")
def pages(demo: DemoResult) -> dict[str, str]:
    return {lang: demo_html(demo, lang) for lang in ("zh", "en")}


def _english_words(text: str) -> list[str]:
    """English words left in a text once identifiers are taken out: codes, form and rule
    ids, numbers, dates (songnuan-2018, songnuan.part_of.01B, 01A, 2018-02-28) and the
    package's own name."""
    text = re.sub(r"[A-Za-z0-9_]*[0-9_.\-][A-Za-z0-9_.\-]*", " ", text)
    text = text.replace("unionstat", " ")
    return re.findall(r"[A-Za-z]{2,}", text)


def test_chinese_page_has_no_english_heading_or_summary(pages: dict[str, str]) -> None:
    t = _texts(pages["zh"])
    assert len(t.headings) > 60  # every section, table and column heading was seen
    left = [(where, text) for where, text in t.prose if _english_words(text)]
    assert left == []
    assert "<html lang='zh-CN'>" in pages["zh"]
    for heading in (
        "1. 哪些单位有错误",
        "2. 全省合计",
        "3. 上报数与汇总数之差",
        "4. 报送完整性",
        "5. 预设错误",
        "6. 通过规则校验但明显异常的数字",
    ):
        assert any(h.startswith(heading) for h in t.headings), heading
    assert {"单位", "层级", "严重程度", "规则", "追溯路径", "应报", "按时率"} <= set(t.headings)


def test_english_page_has_no_chinese_heading_beyond_the_data(pages: dict[str, str], demo: DemoResult) -> None:
    t = _texts(pages["en"])
    data = set(demo.names.values()) | {r.form.title for r in demo.forms}
    data |= {label for fields in KEY_FIELDS.values() for _key, label in fields}
    data |= {"送温暖", "汇总", "万元", "元"}  # proper names the English text quotes
    left = []
    for where, text in t.prose:
        for name in sorted(data, key=len, reverse=True):
            text = text.replace(name, "")
        if CJK.search(text):
            left.append((where, text))
    assert left == []
    for heading in ("1. Which units have errors", "2. Province totals", "4. Completeness", "5. Planted mistakes"):
        assert any(h.startswith(heading) for h in t.headings), heading
    assert {"unit", "level", "severity", "rule", "traced path", "expected"} <= set(t.headings)


def _has_cjk_font() -> bool:
    fc = shutil.which("fc-list")
    if fc is None:
        return False
    out = subprocess.run([fc, ":lang=zh", "family"], capture_output=True, text=True, timeout=60).stdout
    return bool(out.strip())


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed: ./run test installs Debian chromium")
@pytest.mark.skipif(not _has_cjk_font(), reason="no Chinese font: ./run test installs Debian fonts-noto-cjk")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_headless_chromium_renders_the_report(pages: dict[str, str], lang: str, tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    page = tmp_path / f"demo-{lang}.html"
    page.write_text(pages[lang], encoding="utf-8")
    shot = tmp_path / f"demo-{lang}.png"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,2400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert shot.is_file(), proc.stderr[-2000:]
    with image.open(shot) as img:
        assert img.size == (1280, 2400)
        grey = img.convert("L")
        hist = grey.histogram()
    dark = sum(hist[:128]) / sum(hist)
    # A rendered report: text and table borders on white — neither blank nor a black page.
    assert 0.005 < dark < 0.5, dark
    assert sum(1 for n in hist if n) > 16  # anti-aliased glyphs give many shades of grey
