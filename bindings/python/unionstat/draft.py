"""Drafts form schemas from a notice's plain text (``unionstat draft``, ``us.draft_form``).

Every winter a notice arrives with its statistical forms attached as text, often with
its layout damaged: cells split across lines, blanks printed as ``____`` or as runs of
spaces, letters stacked on lines of their own, traditional characters, lost digits. The
drafter reads such a text and writes, for every form it finds, a schema document in the
format of ``docs/schema-format.md``: metadata, rows, one field per blank (code from the
printed row number and letter), unit and type, ``part_of`` from 其中, groups from
"其中：" lists, the 说明/注 lines as notes — and a ``review`` list of the places that
need a human look (units it had to infer, letters not printed, a garbled deadline).

It knows the conventions of these forms, never a particular form: nothing here is keyed
by form id or copies a label, so a changed form drafts as well as a known one.

>>> drafts = draft_form(open("notice.txt", encoding="utf-8").read())  # doctest: +SKIP
>>> print(drafts_to_yaml(drafts))                                       # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _core
from .errors import InputError, SchemaError
from .forms import Form

__all__ = ["FormDraft", "draft_file", "draft_form", "drafts_to_yaml", "load_drafts", "read_notice"]

#: Notices larger than this are refused: a notice is a few pages of text.
MAX_NOTICE_BYTES = 8 * 1024 * 1024

# ---------------------------------------------------------------------------------------
# Script: the traditional characters the drafter's patterns need, mapped one to one so
# that positions in the normalized text are positions in the printed text.
# ---------------------------------------------------------------------------------------

_PAIRS = (
    "戶户個个萬万節节輛辆張张對对場场說说統统計计幫帮溫温會会總总報报辦办於于職职數数農农區区縣县級级動动註注額额"
    "資资撥拨財财項项為为與与發发關关門门號号協协務务權权體体醫医療疗實实費费員员時时間间條条標标準准導导難难"
    "電电話话單单聯联係系繫系況况檢检構构藥药學学愛爱貸贷創创詢询業业設设開开鄉乡車车廂厢專专運运購购訪访勞劳"
    "問问經经義义護护維维識识訓训達达預预納纳從从記记錄录屬属織织補补貼贴過过濟济爭争議议傳传獲获並并廠厂礎础"
    "築筑廣广陸陆檔档截截脫脱貧贫災灾誌志願愿園园導导諮咨擁拥養养閱阅產产"
)
_TRAD = "".join(_PAIRS[i] for i in range(0, len(_PAIRS), 2) if _PAIRS[i] != _PAIRS[i + 1])
_SIMP = "".join(_PAIRS[i + 1] for i in range(0, len(_PAIRS), 2) if _PAIRS[i] != _PAIRS[i + 1])
#: Full-width digits and Latin letters (０１ （Ａ）), common in typeset notices, read as ASCII;
#: full-width punctuation stays, the patterns take both widths.
_FULL_WIDTH = "".join(
    chr(c) for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for c in range(r[0], r[1] + 1)
)
_HALF_WIDTH = str.maketrans(_FULL_WIDTH, "".join(chr(ord(ch) - 0xFEE0) for ch in _FULL_WIDTH))
_TO_SIMPLIFIED = {**str.maketrans(_TRAD, _SIMP), **_HALF_WIDTH}
_TRAD_ONLY = set(_TRAD)
_SIMP_ONLY = set(_SIMP) - _TRAD_ONLY


def _simplified(text: str) -> str:
    """The text with the traditional characters the patterns use made simplified and
    full-width digits and letters made ASCII (same length)."""
    return text.translate(_TO_SIMPLIFIED)


# ---------------------------------------------------------------------------------------
# Units: printed measure words → the schema's unit list.
# ---------------------------------------------------------------------------------------

_UNIT_RE = re.compile(
    r"人[（(]次[)）]|人、次|[（(]\s*是\s*/\s*否\s*[)）]|是/否|场次|人次|万元|[人户家个列节辆艘架张对场幅件支次元名]"
)
_UNIT_AS_PRINTED = {"人、次": "人次", "名": "人"}
#: Measure words the schema format has no unit for (docs/schema-format.md lists its units):
#: after a printed blank and before punctuation they are the blank's unit all the same, so
#: the draft says what was printed and the loader says why it refuses it.
_OTHER_MEASURES = "项所期篇条座套台本份批起处门位间届天"
#: The units the schema format knows (docs/schema-format.md, the loader's list).
_KNOWN_UNITS = frozenset(
    [
        "人",
        "户",
        "人次",
        "家",
        "个",
        "列",
        "节",
        "辆",
        "艘",
        "架",
        "张",
        "对",
        "场",
        "场次",
        "幅",
        "件",
        "支",
        "次",
        "万元",
        "元",
        "是/否",
    ]
)
#: A blank printed without a measure word before a noun (检查__企业): the noun's measure word.
_NOUN_UNITS = {"企业": "家", "单位": "家", "家庭": "户", "职工": "人", "农民工": "人", "人员": "人"}
_TERMINATORS = "；;。"
_PUNCT = ",，;；。:：、"
#: A printed blank (underscores, a run of spaces); one space; a bare line break.
_GAP, _NARROW, _BREAK = "\x01", "\x03", "\x02"
#: A measure word the format lacks, right after a blank and before punctuation or a gap.
_OTHER_UNIT_RE = re.compile(f"[{_OTHER_MEASURES}](?=[{_PUNCT}{_GAP}{_BREAK}{_NARROW}]|$)")


def _unit(raw: str) -> tuple[str, str]:
    """(schema unit, review remark or "") for a printed measure word."""
    s = re.sub(r"\s", "", raw)
    if "是" in s and "否" in s:
        return "是/否", ""
    if s.startswith("人") and "次" in s and s != "人次":
        return "人次", f"unit printed {raw!r}, read as 人次 (person-times)"
    if s in _UNIT_AS_PRINTED:
        return _UNIT_AS_PRINTED[s], f"unit printed {raw!r}, read as {_UNIT_AS_PRINTED[s]}"
    return s, ""


def _type_of(unit: str) -> str:
    if unit in ("万元", "元"):
        return "money"
    return "flag" if unit == "是/否" else "count"


# ---------------------------------------------------------------------------------------
# The pieces of a notice
# ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Blank:
    """One blank of a form as found in the text."""

    label: str  # printed words before the blank, in the seed's script
    norm: str  # the same words, simplified
    unit: str  # schema unit, "" when none is printed
    line: int  # line of the notice
    term_after: bool = False  # a ； or 。 follows: the end of a printed item
    remark: str = ""  # unit remark for the review list
    after: str = ""  # words right after the unit (为__户困难职工家庭…)
    code: str = ""
    part_of: str | None = None
    inline_part: bool = False
    letter: str | None = None
    stop: str = ""  # the ； or 。 that ends the printed item, "" when none

    @property
    def marked(self) -> bool:
        """The blank is printed as a 其中 (of which) of an earlier one."""
        return re.split(r"[,，;；。:：]", self.norm)[-1].startswith("其中")


@dataclass(eq=False)
class _Item:
    """What one printed letter covers: (A) and its blanks, or a row's unlettered head."""

    letter: str | None
    line: int
    blanks: list[_Blank] = field(default_factory=list)
    text: str = ""  # the printed words when there is no blank (a heading)
    opener: str = ""  # "其中：" printed after the last blank: a list follows


@dataclass(eq=False)
class _Row:
    number: int
    line: int
    items: list[_Item] = field(default_factory=list)


@dataclass
class FormDraft:
    """A drafted schema of one form: ``document`` (plain data in the order of
    docs/schema-format.md, ready to write as YAML) and ``review``, the places that need a
    human look. ``line`` is the notice line of the form's title."""

    document: dict[str, Any]
    line: int

    @property
    def id(self) -> str:
        """The drafted form id, ``<family>-<year>``."""
        return str(self.document["id"])

    @property
    def fields(self) -> list[dict[str, Any]]:
        """The drafted fields, in printed order."""
        return list(self.document["fields"])

    @property
    def review(self) -> list[str]:
        """Places that need a human look, each naming its notice line."""
        return list(self.document.get("review", []))

    @property
    def deadline(self) -> str:
        """The reporting deadline printed in the notice, "" when none or garbled."""
        return str(self.document.get("deadline", ""))

    def to_yaml(self) -> str:
        """This draft as one YAML document."""
        return _emit(self.document)

    def __repr__(self) -> str:
        return f"<FormDraft {self.id}: {len(self.fields)} fields, {len(self.review)} to review>"


# ---------------------------------------------------------------------------------------
# Reading the notice file
# ---------------------------------------------------------------------------------------


def read_notice(path: str | os.PathLike[str], encoding: str = "utf-8") -> str:
    """The text of a notice file. Refuses, naming the file, what is no regular file, is
    empty, too large, binary, or not in ``encoding`` (GBK text says so and how to read it)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise InputError(f"{p}: cannot read the notice ({exc.strerror or exc})", file=str(p)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{p}: is a directory, not a notice text file", file=str(p))
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{p}: not a regular file (a device or pipe); give a notice text file", file=str(p))
    if st.st_size > MAX_NOTICE_BYTES:
        raise InputError(
            f"{p}: {st.st_size} bytes, more than the {MAX_NOTICE_BYTES} a notice text may have", file=str(p)
        )
    data = p.read_bytes()
    if not data.strip():
        raise InputError(f"{p}: empty file, no notice text to draft from", file=str(p))
    if b"\x00" in data[:65536]:
        nul = data.index(b"\x00")
        raise InputError(f"{p}: binary content (NUL byte at offset {nul}), not a notice text file", file=str(p))
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = data.decode(enc)
    except LookupError:
        raise InputError(f"{p}: unknown encoding {encoding!r}", file=str(p)) from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        hint = ""
        if enc.startswith("utf-8"):
            try:
                data.decode("gb18030")
                hint = "; it reads as GBK/GB18030 — give --encoding gbk (us.read_notice(path, encoding='gbk'))"
            except UnicodeDecodeError:
                hint = "; not a text file?"
        raise InputError(
            f"{p}:{line}:{column}: byte 0x{data[exc.start]:02x} is not {encoding}{hint}",
            file=str(p),
            line=line,
            column=column,
        ) from None
    bad = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if bad > max(8, len(text[:65536]) // 100):
        raise InputError(f"{p}: {bad} control characters, binary content rather than a notice text", file=str(p))
    return text


def draft_file(path: str | os.PathLike[str], encoding: str = "utf-8") -> list[FormDraft]:
    """Drafts every form of a notice file; errors name the file."""
    p = Path(path)
    text = read_notice(p, encoding)
    try:
        return draft_form(text, seed=p.name)
    except InputError as exc:
        raise InputError(f"{p}: {exc}", file=str(p)) from None


# ---------------------------------------------------------------------------------------
# Finding the forms
# ---------------------------------------------------------------------------------------

_TITLE_RE = re.compile(r"统计表\s*$")
_ATTACH_RE = re.compile(r"^\s*附\s*件\s*([0-9０-９]+)\s*[:：]?\s*$")
_END_RE = re.compile(r"^\s*(附\s*件\s*[0-9０-９]*\s*[:：]?|抄\s*送\s*[:：]|印\s*发\s*[:：]|主题词)")
_NOTE_RE = re.compile(r"^\s*(注|说明)\s*[:：]")
_NUMBERED_RE = re.compile(r"^\s*[0-9０-９]\s*[．.、]")
_NOTICE_NO_RE = re.compile(r"([\u4e00-\u9fff]{2,6}[〔\[［【(（]\s*[0-9]{4}\s*[〕\]］】)）]\s*[0-9]+\s*[号號])")
_ISSUER_RE = re.compile(r"^([\u4e00-\u9fff]{2,12}?总工会)(办公室|办公厅)?(文件)?$")
_DEADLINE_RE = re.compile(r"于\s*([0-9０-９][^，,。；;于]{0,20}?)\s*前[^。]{0,80}?报")
_DATE_RE = re.compile(r"^[0-9]{4}年[0-9]{1,2}月([0-9]{1,2}日|底|上旬|中旬|下旬|末)?$")


def draft_form(text: str, *, seed: str = "") -> list[FormDraft]:
    """Drafts a schema for every statistical form attached to a notice's plain text.

    Returns one :class:`FormDraft` per form, in the order printed. Raises
    :class:`~unionstat.InputError` when the text holds no form (a title ending in 统计表
    followed by numbered rows of blanks); ``seed`` is recorded as ``source.seed``."""
    if not isinstance(text, str):
        raise InputError(f"draft_form needs the notice's text as str, got {type(text).__name__}")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    norm = [_simplified(line) for line in lines]
    meta = _notice_meta(lines, norm)
    titles = [i for i, n in enumerate(norm) if _is_title(n)]
    drafts: list[FormDraft] = []
    for k, start in enumerate(titles):
        end = titles[k + 1] if k + 1 < len(titles) else len(lines)
        for j in range(start + 1, end):
            if _END_RE.match(norm[j]):
                end = j
                break
        draft = _draft_one(lines, norm, start, end, meta, seed)
        if draft is not None:
            drafts.append(draft)
    if not drafts:
        listed = [n.strip() for n in norm if "统计表" in n and re.search(r"附\s*件", n)]
        why = f" (the notice lists {listed[0]!r} but attaches no form)" if listed else ""
        raise InputError(
            f"no statistical form found: no title ending in 统计表 followed by numbered rows of blanks{why}"
        )
    ids = Counter(d.id for d in drafts)
    for d in drafts:
        if ids[d.id] > 1:
            d.document["review"].append(
                f"line {d.line + 1}: id {d.id} is drafted for {ids[d.id]} forms of this notice; give each its own"
            )
    return drafts


def _is_title(n: str) -> bool:
    s = n.strip()
    return bool(_TITLE_RE.search(s)) and len(s) <= 40 and "《" not in s and not re.match(r"附\s*件\s*[:：]", s)


@dataclass
class _Meta:
    issuer: str
    notice: str
    deadline: str
    deadline_review: str
    notice_year: int | None


def _notice_meta(lines: list[str], norm: list[str]) -> _Meta:
    issuer = ""
    for line, n in zip(lines, norm):
        m = _ISSUER_RE.match(n.strip().replace(" ", ""))
        if m:
            issuer = line.strip().replace(" ", "")[: len(m.group(1))]
            break
    if not issuer:
        for line, n in zip(lines, norm):
            m = re.search(r"来源\s*[:：]\s*([\u4e00-\u9fff]{2,12}?总工会)", n)
            if m:
                issuer = line[m.start(1) : m.end(1)]
                break
    notice = ""
    for line in lines[:40]:
        m = _NOTICE_NO_RE.search(line.translate(_HALF_WIDTH))
        if m:
            notice = line[m.start(1) : m.end(1)]
            break
    deadline, deadline_review = "", ""
    for i, n in enumerate(norm):
        m = _DEADLINE_RE.search(n)
        if m:
            printed = re.sub(r"\s", "", lines[i][m.start(1) : m.end(1)])
            if _DATE_RE.match(_simplified(printed)):
                deadline = printed.translate(_HALF_WIDTH)
            else:
                deadline_review = (
                    f"line {i + 1}: the deadline is printed garbled ({printed}前); read the notice's "
                    "original and write it under deadline"
                )
            break
    year = None
    for n in norm[:30]:
        m = re.search(r"关于\s*([0-9]{4})\s*年", n)
        if m:
            year = int(m.group(1))
            break
    return _Meta(issuer, notice, deadline, deadline_review, year)


# ---------------------------------------------------------------------------------------
# One form: lines → rows of lettered items → blanks → fields
# ---------------------------------------------------------------------------------------

_ROW_RE = re.compile(r"[（(]?\s*([0-9lIO]{1,2})\s*[)）]?(?![0-9])")
_LETTER_RE = re.compile(
    r"[（(]\s*([A-Za-z])\s*[)）]"  # (A) （A） (c）
    r"|[（(]([A-Z])(?=[\s\u3000_])"  # (J   万元: the closing bracket lost
    r"|(?<=[\s\u3000,，;；。:：、])([A-Z])[)）]"
)  # B)其中…
_BARE_LETTER_RE = re.compile(r"([A-Z])(?:[)）]|(?![A-Za-z]))")
_BULLET_RE = re.compile(r"^[\s\u3000]*(?:[-•·*][\s\u3000]+)?")


def _draft_one(lines: list[str], norm: list[str], start: int, end: int, meta: _Meta, seed: str) -> FormDraft | None:
    review: list[str] = []
    notes: list[tuple[int, str]] = []
    body: list[int] = []
    in_note = False
    for i in range(start + 1, end):
        n = norm[i]
        if _NOTE_RE.match(n) or (in_note and _NUMBERED_RE.match(n) and "_" not in n):
            notes.append((i, lines[i].strip()))
            in_note = True
            continue
        if n.strip():
            in_note = False
        body.append(i)
    rows = _rows(lines, norm, body, review)
    for r in rows:
        _assign_letters_and_codes(r, review)
    fields_n = sum(len(it.blanks) for r in rows for it in r.items)
    if len(rows) < 2 or fields_n < 3:
        return None
    title_line = lines[start].strip()
    if not re.search("送温暖|帮扶", norm[start]):
        # a title broken across lines (2019年工会送温暖\n活动统计表): the line before it,
        # when it is short, punctuation-free and names the family
        prev = next((j for j in range(start - 1, max(-1, start - 3), -1) if norm[j].strip()), None)
        if (
            prev is not None
            and len(norm[prev].strip()) <= 30
            and not _ATTACH_RE.match(norm[prev])
            and not re.search(r"[，。；：:,;、_]", norm[prev])
            and re.search("送温暖|帮扶", norm[prev])
        ):
            title_line = lines[prev].strip() + title_line
            review.append(
                f"line {prev + 1}: the title is printed across lines {prev + 1}–{start + 1}; read as {title_line}"
            )
    title = re.sub(r"([0-9])\s+(年)", r"\1\2", title_line)
    ntitle = _simplified(title)
    family = "songnuan" if "送温暖" in ntitle else "bangfu" if "帮扶" in ntitle else ""
    if not family:
        family = "songnuan"
        review.append(
            f"line {start + 1}: the title names neither 送温暖 nor 帮扶中心; family set to songnuan — choose the family"
        )
    ym = re.search(r"([0-9]{4})\s*年", ntitle)
    if ym:
        year = int(ym.group(1))
    else:
        body_years = Counter(int(y) for i in body for y in re.findall(r"([0-9]{4})\s*年", norm[i]))
        if body_years:
            year = body_years.most_common(1)[0][0]
            how = "the year most printed in its rows"
        elif meta.notice_year:
            year = meta.notice_year
            how = "the notice's own title"
        else:
            year = 2000
            how = "nothing (no year printed anywhere)"
        review.append(
            f"line {start + 1}: the title prints no year; {year} taken from {how} — check the year and the id"
        )
    attachment = ""
    for j in range(start - 1, max(-1, start - 8), -1):
        m = _ATTACH_RE.match(norm[j])
        if m:
            attachment = f"附件{m.group(1)}"
            break
    traditional = sum(1 for i in body for ch in lines[i] if ch in _TRAD_ONLY)
    simplified = sum(1 for i in body for ch in lines[i] if ch in _SIMP_ONLY)
    script = "traditional" if traditional > simplified else "simplified"
    prefix = "songnuan" if family == "songnuan" else "bangfu"
    fields, groups = _fields(rows, prefix, review)
    doc: dict[str, Any] = {
        "id": f"{family}-{year}",
        "family": family,
        "year": year,
        "title": title,
        "title_en": (
            "Sending-Warmth Campaign Statistics Table"
            if family == "songnuan"
            else "Assistance Centre Work Statistics Table"
        )
        + f" ({year}, draft)",
        "script": script,
        "source": {
            "issuer": meta.issuer,
            "issuer_en": "",
            "notice": meta.notice,
            "seed": seed,
            "attachment": attachment,
        },
        "period": str(year),
    }
    if meta.deadline:
        doc["deadline"] = meta.deadline
    if notes:
        doc["notes"] = [{"text": t, "text_en": "(to translate)"} for _, t in notes]
    doc["rows"] = [{"row": f"{r.number:02d}", "heading": _heading(r), "heading_en": ""} for r in rows]
    doc["fields"] = fields
    if groups:
        doc["groups"] = groups
    head = [
        f"line {start + 1}: drafted from the notice text — English labels (label_en, title_en, notes' text_en), "
        "issuer_en and the concept keys (draft.*) are placeholders to write; period is the year only"
    ]
    if meta.deadline_review:
        head.append(meta.deadline_review)
    elif not meta.deadline:
        head.append("the notice prints no reporting deadline (于…前…报送) that could be read")
    if not meta.issuer:
        head.append("no issuer (…总工会) found in the notice; fill in source.issuer")
    for i, t in notes:
        if re.search(r"[0-9]{6,}日", _simplified(t)):
            head.append(f"line {i + 1}: note {t!r} prints a date whose 年/月 were lost; restore it")
    doc["review"] = head + review
    return FormDraft(doc, start)


def _heading(r: _Row) -> str:
    if r.items and r.items[0].letter is None and not r.items[0].blanks:
        return _clean(r.items[0].text)
    return ""


def _rows(lines: list[str], norm: list[str], body: list[int], review: list[str]) -> list[_Row]:
    """Splits the form's lines into rows of items, at printed row numbers and letters."""
    rows: list[_Row] = []
    # Each item collects (line, original, normalized) pieces; line breaks kept as "\n".
    current: list[tuple[int, str, str]] | None = None
    items_text: list[tuple[_Item, list[tuple[int, str, str]]]] = []

    def new_item(letter: str | None, line: int) -> None:
        nonlocal current
        item = _Item(letter, line)
        rows[-1].items.append(item)
        current = []
        items_text.append((item, current))

    for i in body:
        orig, n = lines[i], norm[i]
        bullet = _BULLET_RE.match(n)
        assert bullet is not None  # the pattern matches the empty string too
        pos = bullet.end()
        m = _ROW_RE.match(n, pos)
        if m and _row_number(m.group(1)) is not None:
            num = _row_number(m.group(1))
            rest = n[m.end() :]
            ok_follow = not rest or rest[0] in " \t\u3000(（" or rest[0].isupper() or "\u4e00" <= rest[0] <= "\u9fff"
            last = rows[-1].number if rows else 0
            if ok_follow and num is not None and last < num <= last + 3 and (rows or num <= 3):
                if num > last + 1:
                    review.append(
                        f"line {i + 1}: row {num:02d} follows row {last:02d}; "
                        f"row(s) {', '.join(f'{k:02d}' for k in range(last + 1, num))} not found"
                    )
                if m.group(1) != f"{num:02d}":
                    review.append(f"line {i + 1}: row number printed {m.group(1)!r}, read as {num:02d}")
                rows.append(_Row(num, i))
                new_item(None, i)
                pos = m.end()
                while pos < len(n) and n[pos] in " \t\u3000":
                    pos += 1
        if not rows:
            continue
        # a bare letter at the start of the line's content (A 当地… / B2014年度…)
        bm = _BARE_LETTER_RE.match(n, pos)
        if bm:
            new_item(bm.group(1), i)
            pos = bm.end()
        for lm in _LETTER_RE.finditer(n, pos):
            letter = next(g for g in lm.groups() if g)
            assert current is not None
            current.append((i, orig[pos : lm.start()], n[pos : lm.start()]))
            new_item(letter.upper(), i)
            pos = lm.end()
        assert current is not None
        current.append((i, orig[pos:], n[pos:]))
        current.append((i, "\n", "\n"))
    # Letters stacked on lines of their own (（C）\n(D)\n(E)\n text text text): the texts
    # that follow are shared out, one printed item (ending in ； or 。) per letter.
    for r in rows:
        _parse_items(r, items_text, review)
    return rows


def _row_number(s: str) -> int | None:
    if not any(ch.isdigit() for ch in s):
        return None
    t = s.replace("l", "1").replace("I", "1").replace("O", "0")
    return int(t) if t.isdigit() and int(t) > 0 else None


def _segment(pieces: list[tuple[int, str, str]]) -> tuple[str, str, list[int]]:
    """Joins an item's pieces; runs of spaces/underscores become _GAP, bare line breaks _BREAK."""
    orig = "".join(p[1] for p in pieces)
    norm = "".join(p[2] for p in pieces)
    where: list[int] = []
    for ln, o, _ in pieces:
        where += [ln] * len(o)
    out_o, out_n, out_l = [], [], []
    k = 0
    for m in re.finditer(r"[\s\u3000_\xa0]+", norm):
        out_o.append(orig[k : m.start()])
        out_n.append(norm[k : m.start()])
        out_l += where[k : m.start()]
        run = m.group()
        spaces = len(re.findall(r"[ \t\u3000_\xa0]", run))
        wide = "_" in run or "\u3000" in run or spaces >= 2
        mark = _GAP if wide else _NARROW if spaces else _BREAK
        out_o.append(mark)
        out_n.append(mark)
        out_l.append(where[m.start()])
        k = m.end()
    out_o.append(orig[k:])
    out_n.append(norm[k:])
    out_l += where[k:]
    return "".join(out_o), "".join(out_n), out_l


def _clean(text: str) -> str:
    t = text.replace(_GAP, "").replace(_BREAK, "").replace(_NARROW, "")
    t = t.strip(_PUNCT + " \t\u3000-")
    return re.sub(r"^其中\s*[:：]", "", t).strip()


def _parse_blanks(orig: str, norm: str, where: list[int], review: list[str]) -> tuple[list[_Blank], str]:
    """The blanks of one item's text, and the words printed after the last one."""
    blanks: list[_Blank] = []
    last = 0
    gaps = [m.start() for m in re.finditer(f"[{_GAP}{_BREAK}{_NARROW}]", norm)]
    for g in gaps:
        if g < last:
            continue
        um = _UNIT_RE.match(norm, g + 1)
        if um is None and norm[g] == _GAP:
            um = _OTHER_UNIT_RE.match(norm, g + 1)
        nxt = norm[g + 1 : g + 2]
        label_o, label_n = _clean(orig[last:g]), _clean(norm[last:g])
        line = where[g] + 1 if g < len(where) else (where[-1] + 1 if where else 0)
        if um:
            after_i = um.end()
            follow = norm[after_i : after_i + 1]
            if norm[g] == _BREAK and follow and follow not in _PUNCT + _GAP + _BREAK + _NARROW:
                continue  # a line break inside a word, not a blank
            unit, remark = _unit(norm[um.start() : um.end()])
            if unit not in _KNOWN_UNITS:
                remark = (
                    f"unit printed {orig[um.start() : um.end()]!r} is none the schema format knows "
                    f"({' '.join(sorted(_KNOWN_UNITS))}); the loader refuses it until it is one"
                )
            rest = norm[after_i:]
            k = len(rest) - len(rest.lstrip(_GAP + _BREAK + _NARROW))
            term = rest[k : k + 1] in tuple(_TERMINATORS)
            am = re.match(f"[^{_GAP}{_BREAK}{_NARROW}{_PUNCT}()（）]*", orig[after_i:])
            b = _Blank(
                label_o,
                label_n,
                unit,
                line,
                term,
                remark,
                after=am.group() if am else "",
                stop=rest[k : k + 1] if term else "",
            )
            blanks.append(b)
            last = after_i
        elif (
            norm[g] == _GAP
            and (not nxt or nxt in _PUNCT)
            and re.search(r"[\u4e00-\u9fff]", label_n)
            and not re.split(r"[,，;；。:：]", label_n)[-1].endswith("其中")
        ):
            rest = norm[g + 1 :]
            term = rest[:1] in tuple(_TERMINATORS)
            blanks.append(
                _Blank(
                    label_o,
                    label_n,
                    "",
                    line,
                    term,
                    "no measure word printed after the blank",
                    stop=rest[:1] if term else "",
                )
            )
            last = g + 1
        elif norm[g] == _GAP and re.search(r"[\u4e00-\u9fff]", label_n):
            nm = re.match(r"([\u4e00-\u9fff]{1,4})(?=[,，;；。]|$)", norm[g + 1 :])
            if nm and nm.group(1) in _NOUN_UNITS:
                unit = _NOUN_UNITS[nm.group(1)]
                rest = norm[g + 1 + nm.end() :]
                term = rest[:1] in tuple(_TERMINATORS)
                blanks.append(
                    _Blank(
                        label_o + nm.group(1),
                        label_n + nm.group(1),
                        unit,
                        line,
                        term,
                        f"no measure word printed (…__{nm.group(1)}); {unit} chosen for {nm.group(1)}",
                        stop=rest[:1] if term else "",
                    )
                )
                last = g + 1 + nm.end()
    rest = norm[last:]
    tail = rest.replace(_GAP, "").replace(_BREAK, "").replace(_NARROW, "").strip(_PUNCT + " ")
    if "其中" in tail:
        # a list follows: "其中：" or 其中 at the end of a line opens a printed list
        ws = _GAP + _BREAK + _NARROW
        at_eol = bool(re.search(f"其中[{ws}]*[:：]|其中[^{ws}]*[{ws}]*[{_GAP}{_BREAK}][{ws}]*$", rest))
        tail = "其中：" if at_eol else "其中"
    return blanks, tail


def _parse_items(r: _Row, items_text: list[tuple[_Item, list[tuple[int, str, str]]]], review: list[str]) -> None:
    mine = [(it, p) for it, p in items_text if it in r.items]
    stacked: list[_Item] = []
    kept: list[_Item] = []
    for it, pieces in mine:
        orig, norm, where = _segment(pieces)
        blanks, tail = _parse_blanks(orig, norm, where, review)
        if not blanks and not tail and it.letter is not None:
            stacked.append(it)  # a letter with nothing after it: its text comes later
            continue
        if stacked and it.letter is not None:
            # the letter printed after the stacked ones belongs to them too (（G）（H）\n\n（I）)
            stacked.append(it)
            letters = stacked
        elif stacked:
            letters = stacked
        else:
            letters = [it]
        stacked = []
        if len(letters) == 1:
            it = letters[0]
            it.blanks = blanks
            it.text = _clean(orig) if not blanks else ""
            it.opener = tail if "其中" in tail else ""
            kept.append(it)
            continue
        # share the blanks out: the next letter starts after a blank followed by ； or 。
        k = 0
        for j, letter_item in enumerate(letters):
            letter_item.blanks = []
            while k < len(blanks):
                letter_item.blanks.append(blanks[k])
                k += 1
                if blanks[k - 1].term_after and j < len(letters) - 1:
                    break
            kept.append(letter_item)
        letters[-1].opener = tail if "其中" in tail else ""
        empty = [x.letter for x in letters if not x.blanks]
        if empty:
            review.append(
                f"line {letters[0].line + 1}: letters {', '.join(str(x) for x in empty)} of row "
                f"{r.number:02d} are printed without a blank of their own"
            )
    for it in stacked:
        review.append(f"line {it.line + 1}: letter ({it.letter}) of row {r.number:02d} has no blank after it")
    r.items = [it for it in r.items if it in kept]


def _assign_letters_and_codes(r: _Row, review: list[str]) -> None:
    row = f"{r.number:02d}"
    lettered = any(it.letter for it in r.items)
    seen: list[str] = []
    head_n = 0
    for it in r.items:
        if it.letter is None:
            for b in it.blanks:
                head_n += 1
                if lettered:
                    b.code = f"{row}_total" if head_n == 1 else f"{row}_{head_n}"
                else:
                    b.code = f"{row}_{head_n}"
            continue
        letter = it.letter
        if letter in seen:
            review.append(
                f"line {it.line + 1}: letter ({letter}) printed twice in row {row}; the second is coded "
                f"{row}{letter}_dup — check the print"
            )
        elif seen and ord(letter) != ord(seen[-1]) + 1:
            if ord(letter) > ord(seen[-1]):
                missing = "".join(chr(c) for c in range(ord(seen[-1]) + 1, ord(letter)))
                review.append(
                    f"line {it.line + 1}: row {row} goes from ({seen[-1]}) to ({letter}); "
                    f"letter(s) {missing} not printed (kept as printed)"
                )
            else:
                review.append(
                    f"line {it.line + 1}: letter ({letter}) of row {row} follows ({seen[-1]}); letters out of order"
                )
        elif not seen and letter != "A":
            review.append(f"line {it.line + 1}: row {row} starts at letter ({letter}), not (A)")
        base = f"{row}{letter}" + ("_dup" if letter in seen else "")
        seen.append(letter)
        for k, b in enumerate(it.blanks):
            b.letter = letter
            b.code = base if k == 0 else f"{base}_{k + 1}" if "_" not in base else f"{base}{k + 1}"


#: Verbs that start a new count of their own: an unmarked blank after a 其中 list that
#: starts with one is the form's next question, not one more part (…，慰问困难劳模__户).
_OWN_VERBS = ("慰问", "走访", "发放", "筹集", "成立", "建立", "组织", "开展", "协助", "举办", "召开")


def _verb_clash(part: _Blank, total: _Blank) -> bool:
    """An unmarked blank that starts with a verb of its own, or with the total's verb,
    is a sibling of the total, not a part (慰问困难家庭总数…，慰问困难劳模)."""
    p = re.split(r"[,，;；。:：]", re.sub(r"^其中", "", part.norm))[-1]
    t = re.sub(r"^[0-9]{4}\s*年(度)?", "", total.norm)
    if p.startswith(_OWN_VERBS):
        return True
    return len(p) >= 2 and p != t and not p.startswith("为") and p[:2] == t[:2]


def _latest(cands: Sequence[_Blank], unit: str, top_level: bool = True) -> _Blank | None:
    for c in reversed(cands):
        if c.unit == unit and (c.part_of is None or not top_level):
            return c
    return None


def _fields(rows: list[_Row], prefix: str, review: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Units for blanks printed without one, ``part_of`` from 其中, groups from 其中： lists."""
    out: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    for r in rows:
        blanks = [b for it in r.items for b in it.blanks]
        for k, b in enumerate(blanks):
            if not b.unit:
                nxt = next((x.unit for x in blanks[k + 1 :] if x.unit), "")
                prv = next((x.unit for x in reversed(blanks[:k]) if x.unit), "")
                b.unit = nxt or prv or "个"
                b.remark = (
                    f"no measure word printed after the blank; {b.unit} taken from the "
                    f"{'next' if nxt else 'previous' if prv else 'default (none in the row)'} blank of the row"
                )
        fields: list[_Blank] = []
        row_groups = len(groups)
        scope: dict[str, Any] | None = None
        opener = ""
        for it in r.items:
            bl = it.blanks
            in_scope = False
            if bl:
                first = bl[0]
                if opener:
                    scope = {
                        "totals": [f for f in fields if f.part_of is None],
                        "n": 1,
                        "marked": True,
                        "group": opener == "其中：",
                        "parts": [],
                        "line": it.line,
                    }
                    in_scope = True
                elif it.letter and first.marked:
                    t = _latest(fields, first.unit)
                    # the item before ended in 。: the 其中 items after it are a list of their own
                    # (…困难职工家庭__户；(B)其中困难农民工__户。(C)其中…；(D)其中…)
                    prev_stop = fields[-1].stop if fields else ""
                    if scope is not None and t is not None and t in scope["totals"] and prev_stop != "。":
                        scope["n"] += 1
                        scope["marked"] = True
                        scope["each"] = scope.get("each", 1) + 1
                    else:
                        _close_group(scope, groups, prefix)
                        # the total's item ended in ；/。 and the 其中 starts an item of its own:
                        # a printed list ((A)…__个；(B)其中省级__个；(C)地市级__个；…)
                        scope = {
                            "totals": [f for f in fields if f.part_of is None],
                            "n": 1,
                            "marked": True,
                            "group": False,
                            "each": 1,
                            "parts": [],
                            "line": it.line,
                            "listed": bool(prev_stop),
                        }
                    in_scope = True
                elif it.letter and scope is not None:
                    t = _latest(scope["totals"], first.unit)
                    if (scope["marked"] and scope["n"] >= 2) or (t is not None and _verb_clash(first, t)):
                        _close_group(scope, groups, prefix)
                        scope = None
                    else:
                        scope["n"] += 1
                        scope["marked"] = False
                        in_scope = True
                opener = ""
            inline: list[_Blank] | None = None
            closed = False
            for k, b in enumerate(bl):
                if k > 0 and inline is None and not closed and b.marked:
                    inline = bl[:k]
                if inline is not None and k >= len(inline) and not closed:
                    t = _latest(inline, b.unit, top_level=False)
                    if t is None and b.marked:
                        # no blank of the unit before the 其中 in this item: its total is an
                        # earlier one of the row (帮助__人职工(C)追讨欠薪__万元；其中帮助__名农民工…)
                        t = _latest(fields, b.unit)
                    if t is not None and not b.marked and _verb_clash(b, t):
                        closed = True
                    elif t is not None:
                        b.part_of, b.inline_part = t.code, True
                elif in_scope and scope is not None:
                    t = _latest(scope["totals"], b.unit)
                    if t is not None:
                        b.part_of = t.code
                        scope["parts"].append((t, b, it))
            fields.extend(bl)
            if it.opener:
                opener = it.opener
        _close_group(scope, groups, prefix)
        _parallel_groups(fields, groups, row_groups)
        _unmarked_breakdowns(r, fields, groups, review)
        for b in fields:
            out.append(_field_doc(r, b, prefix, review))
    return out, groups


def _is_other(b: _Blank) -> bool:
    """The blank's label starts with 其他 (after a 其中): the last entry of an exhaustive list."""
    return re.sub(r"^其中\s*[:：]?", "", b.norm).startswith("其他")


def _close_group(scope: dict[str, Any] | None, groups: list[dict[str, Any]], prefix: str) -> None:
    """A 其中： list, a run of lettered items each printed 其中, or a printed list whose
    first item starts 其中 after a ；/。 becomes a group."""
    if scope is None or not (scope["group"] or scope.get("each", 0) >= 2 or scope.get("listed")):
        return
    by_total: dict[str, list[tuple[_Blank, _Item]]] = {}
    totals: dict[str, _Blank] = {}
    for t, b, it in scope["parts"]:
        by_total.setdefault(t.code, []).append((b, it))
        totals[t.code] = t
    # the last entry of each total's list; a list ends in 其他 when its last entry, or the
    # entry printed on the same line for another total (S)其他帮扶__人次，(T)帮扶款物__万元), does
    lasts = [(ps[-1][0], ps[-1][1]) for ps in by_total.values()]
    for code, parts in by_total.items():
        if len(parts) < 2:
            continue
        last_b, last_item = parts[-1]
        exhaustive = any(
            (b.line == last_b.line or it is last_item)
            and (_is_other(b) or (bool(it.blanks) and _is_other(it.blanks[0])))
            for b, it in lasts
        )
        g: dict[str, Any] = {
            "id": f"r{code.lower()}_breakdown",
            "total": code,
            "parts": [b.code for b, _ in parts],
            "exhaustive": exhaustive,
        }
        if exhaustive:
            g["note"] = "drafted: the 其中 list ends in 其他, so the parts add up to the total"
        else:
            g["severity"] = "warning"
            g["note"] = (
                "drafted: the 其中 list does not end in 其他; parts at most the total, a warning because the "
                "print does not say the parts are disjoint"
            )
        groups.append(g)


def _parallel_groups(fields: list[_Blank], groups: list[dict[str, Any]], first: int) -> None:
    """A breakdown whose total and every part each print one 其中 of the same unit
    (…各项服务__人次，其中新生代农民工__人次；(A)…__人次，其中新生代农民工__人次；…): the
    其中 blanks break down the total's 其中 blank the same way."""
    by_code = {b.code: b for b in fields}

    def child(code: str, unit: str | None = None) -> _Blank | None:
        kids = [b for b in fields if b.part_of == code and b.inline_part and (unit is None or b.unit == unit)]
        return kids[0] if len(kids) == 1 else None

    for g in list(groups[first:]):
        sub = child(g["total"])
        if sub is None or any(x["total"] == sub.code for x in groups):
            continue
        subs = [child(p, sub.unit) for p in g["parts"]]
        if any(x is None for x in subs) or not all(p in by_code for p in g["parts"]):
            continue
        d = {
            "id": f"r{sub.code.lower()}_breakdown",
            "total": sub.code,
            "parts": [x.code for x in subs if x],
            "exhaustive": g["exhaustive"],
        }
        if g["exhaustive"]:
            d["note"] = (
                f"drafted: each part of {g['total']} prints its own 其中 like {g['total']}'s, so these "
                f"break down {sub.code} as the parts break down {g['total']}"
            )
        else:
            d["severity"] = "warning"
            d["note"] = (
                f"drafted: parallel to the breakdown of {g['total']}; parts at most the total, a warning "
                "because the print does not say the parts are disjoint"
            )
        groups.append(d)


def _unmarked_breakdowns(r: _Row, fields: list[_Blank], groups: list[dict[str, Any]], review: list[str]) -> None:
    """A row whose lettered items end in 其他 without any 其中 making them parts reads like
    a breakdown that is not printed as one: a human decides (no part_of is guessed)."""
    grouped = {p for g in groups for p in g["parts"]}
    for b in fields:
        if b.letter and b.letter != "A" and _is_other(b) and b.part_of is None and b.code not in grouped:
            review.append(
                f"line {b.line}: {b.code} ({_clean(b.label)}) ends a list in 其他 but no 其中 makes the "
                f"items before it parts of a total; if row {r.number:02d} breaks down a total, add "
                "part_of and a group by hand"
            )


def _field_doc(r: _Row, b: _Blank, prefix: str, review: list[str]) -> dict[str, Any]:
    label = b.label or (f"__{b.unit}{b.after}" if b.after else "")
    if not label:
        label = f"({b.code})"
        review.append(f"line {b.line}: blank {b.code} has no printed label")
    if b.remark:
        review.append(f"line {b.line}: {b.code} {b.remark}")
    d: dict[str, Any] = {"code": b.code, "row": f"{r.number:02d}"}
    if b.letter:
        d["letter"] = b.letter
    d.update(
        {
            "key": f"draft.r{b.code.lower()}",
            "label": label,
            "label_en": f"(to translate) {b.code}",
            "type": _type_of(b.unit),
            "unit": b.unit,
        }
    )
    if b.part_of:
        d["part_of"] = b.part_of
    return d


# ---------------------------------------------------------------------------------------
# Writing and loading
# ---------------------------------------------------------------------------------------


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_scalar(x)}" for k, x in v.items()) + "}"
    # a JSON string is a YAML double-quoted scalar
    return json.dumps(str(v), ensure_ascii=False)


def _emit(doc: dict[str, Any]) -> str:
    out = ["# Drafted by `unionstat draft` from the notice text: review every entry under review: before use."]
    for key, value in doc.items():
        if isinstance(value, dict):
            out.append(f"{key}:")
            out += [f"  {k}: {_scalar(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            if not value:
                out.append(f"{key}: []")
                continue
            out.append(f"{key}:")
            for v in value:
                if isinstance(v, dict) and key == "groups":
                    items = list(v.items())
                    out.append(f"  - {items[0][0]}: {_scalar(items[0][1])}")
                    out += [f"    {k}: {_scalar(x)}" for k, x in items[1:]]
                else:
                    out.append(f"  - {_scalar(v)}")
        else:
            out.append(f"{key}: {_scalar(value)}")
    return "\n".join(out) + "\n"


def drafts_to_yaml(drafts: Iterable[FormDraft]) -> str:
    """The drafts as one multi-document YAML stream (``---`` between documents)."""
    return "".join(f"---\n{d.to_yaml()}" for d in drafts)


def load_drafts(stream: str, name: str = "<draft>") -> list[Form]:
    """Loads every document of a drafted stream with the project's loader. A document
    that does not load raises the loader's :class:`~unionstat.SchemaError`, whose line
    and column are those of ``name`` (the whole stream), not of the document alone."""
    forms: list[Form] = []
    lines = stream.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == "---"] or [-1]
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(lines)
        text = "\n" * (s + 1) + "\n".join(lines[s + 1 : e])
        try:
            forms.append(Form(_core.load_form_text(text, name)))
        except SchemaError:
            raise
        except ValueError as exc:  # pragma: no cover - the core raises SchemaError subclasses
            raise SchemaError(f"{name}: {exc}", file=name) from None
    return forms
