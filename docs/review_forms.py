"""Checks the bundled form schemas against the seed notices they were transcribed from.

Usage (from the repository root, with unionstat installed in .venv):

    .venv/bin/python docs/review_forms.py [--seeds ../shared/seeds] [--lines] [FORM_ID ...]

For each form it prints:

1. blanks: the number of blanks the seed attachment prints (a heuristic count: a run of
   spaces, NBSPs, tabs or underscores, or a line break, followed by a measure word or
   unit) against the number of fields. ``--lines`` lists every blank found, with its line,
   for reading against ``unionstat show FORM``.
2. unit order: where the sequence of the seed's blank units (in printed order, traditional
   forms and measure words such as 名 mapped to the schema's units) and the sequence of
   the fields' units (in schema order) differ — a missing, extra or misplaced field
   shows up here.
3. labels: every field whose label (split at its ``__`` blanks) does not occur in the
   attachment once all whitespace is removed — the labels a transcriber shortened,
   completed or corrected — with the printed wording (``printed:``) when the schema keeps
   it, and whether that wording occurs in the seed.

The count is a reading aid, not a proof: a blank printed without a unit (songnuan-2015
01A, bangfu-2014 01B) is not counted, and each difference is explained in
docs/forms-review.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import unionstat as us

__all__ = ["ATTACHMENTS", "attachment", "blanks", "main", "missing_labels", "unit_order"]

#: form id → (seed file, text that opens the attachment, text that ends it or None)
ATTACHMENTS: dict[str, tuple[str, str, str | None]] = {
    "songnuan-2012": ("001_5a217ed4d29cc839.txt", "附件1：", "附件2："),
    "bangfu-2011": ("001_5a217ed4d29cc839.txt", "附件2：", None),
    "songnuan-2014": ("003_bc84a7887c23e440.txt", "附件1", "附件2"),
    "bangfu-2013": ("003_bc84a7887c23e440.txt", "附件2", "附件3"),
    "songnuan-2015": ("004_ac0f2153fb24165b.txt", "\n附件1", "\n附件2"),
    "bangfu-2014": ("004_ac0f2153fb24165b.txt", "\n附件2", None),
    "songnuan-2018": ("000_83a61a127dc4ba27.txt", "\n附件 1", "\n附件 2"),
    "bangfu-2017": ("000_83a61a127dc4ba27.txt", "\n附件 2", "抄送"),
}

_UNITS = (
    "人次|人（次）|人、次|人|名|户|戶|家|个|個|列|节|節|辆|輛|艘|架|张|張|对|對|场次|场|幅|件|支|次|"
    "万元|萬元|元(?!旦)|企业|（是/否）|\\(是/否\\)"
)
_SPACE = "[ \u3000\t\xa0]"
_BLANK = re.compile(f"(?:_{{2,}}|{_SPACE}{{2,}}|{_SPACE}*\\n{_SPACE}*)[ \u3000\t\xa0_]*({_UNITS})")
_HEADER = re.compile("填[报報表][单單人位]|聯系電話|联系电话")


def attachment(form_id: str, seeds: Path) -> str:
    """The text of the seed attachment that prints this form, without its header lines."""
    name, start, end = ATTACHMENTS[form_id]
    text = (seeds / name).read_text(encoding="utf-8")
    i = text.index(start)
    j = text.index(end, i + len(start)) if end else len(text)
    return "\n".join(line for line in text[i:j].splitlines() if not _HEADER.search(line))


def blanks(text: str) -> list[tuple[int, str, str]]:
    """(line number within the attachment, unit, line) for every blank found."""
    lines = text.splitlines()
    out = []
    for m in _BLANK.finditer(text):
        n = text[: m.start()].count("\n")
        if m.group(0).startswith("\n"):
            n += 1
        out.append((n + 1, m.group(1), lines[min(n, len(lines) - 1)].strip()))
    return out


_WIDTH = str.maketrans("（）：；，。", "():;,.")


#: printed unit → schema unit (traditional script, measure words the schema records otherwise)
_UNIT_OF = {
    "戶": "户",
    "個": "个",
    "節": "节",
    "輛": "辆",
    "張": "张",
    "對": "对",
    "萬元": "万元",
    "名": "人",
    "人（次）": "人次",
    "人、次": "人次",
    "企业": "家",
    "（是/否）": "是/否",
    "(是/否)": "是/否",
}


def unit_order(form: us.Form, found: list[tuple[int, str, str]]) -> list[str]:
    """Differences between the units of the seed's blanks, in printed order, and the
    units of the form's fields, in schema order (difflib opcodes as text)."""
    import difflib

    seed = [_UNIT_OF.get(u, u) for _n, u, _l in found]
    fields = [f.unit for f in form.fields]
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=seed, b=fields, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        where = (
            ", ".join(f"line {found[i][0]}" for i in range(i1, i2))
            or f"before line {found[i1][0] if i1 < len(found) else 'end'}"
        )
        codes = ", ".join(form.fields[j].code for j in range(j1, j2)) or "-"
        out.append(f"{op}: seed {seed[i1:i2]} ({where}) vs fields {fields[j1:j2]} ({codes})")
    return out


def _squash(text: str) -> str:
    """Text with whitespace, underscores and letter markers such as "(B)" removed and
    full-width punctuation made half-width, so that layout damage does not hide a match."""
    text = re.sub(r"[\s\xa0_]+", "", text).translate(_WIDTH)
    return re.sub(r"\(?[A-Z]\)|\([A-Z]\)?", "", text)


def missing_labels(form: us.Form, text: str) -> list[tuple[str, str, str, bool | None]]:
    """(code, label, printed, printed found?) for labels not found verbatim in the text."""
    flat = _squash(text)
    out = []
    for f in form.fields:
        if all(_squash(part) in flat for part in f.label.split("__")):
            continue
        found = None
        if f.printed:
            found = all(_squash(part) in flat for part in re.split(r"_{2,}|…", f.printed))
        out.append((f.code, f.label, f.printed, found))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("forms", nargs="*", default=sorted(ATTACHMENTS))
    p.add_argument("--seeds", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "seeds")
    p.add_argument("--lines", action="store_true", help="list every blank found in the seed")
    args = p.parse_args(argv)
    for form_id in args.forms:
        form = us.forms()[form_id]
        text = attachment(form_id, args.seeds)
        found = blanks(text)
        print(f"== {form_id}: {len(form.fields)} fields, {len(found)} blanks found in {ATTACHMENTS[form_id][0]}")
        for diff in unit_order(form, found):
            print(f"   unit order: {diff}")
        if args.lines:
            for n, unit, line in found:
                print(f"   {n:4} {unit:4} {line[:70]}")
        for code, label, printed, ok in missing_labels(form, text):
            where = "" if printed == "" else (f"  printed: {printed}" + ("" if ok else "  (NOT FOUND)"))
            print(f"   label not verbatim: {code:8} {label}{where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
