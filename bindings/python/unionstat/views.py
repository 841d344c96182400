"""Text and HTML views: forms in their paper layout, validation results."""

from __future__ import annotations

import html
import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .forms import Form
    from .rules import BatchValidation, ReportValidation

__all__ = ["form_text", "form_html", "report_html", "batch_html"]

_e = html.escape


def _rows(form: Form) -> list[tuple[str, str, str, list[Any]]]:
    by_row: dict[str, list[Any]] = {}
    for f in form.fields:
        by_row.setdefault(f.row, []).append(f)
    return [(row, heading, heading_en, by_row.get(row, [])) for row, heading, heading_en in form.rows]


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - _width(text))


def _blank_text(label: str, unit: str, blank: str = "____") -> str:
    """The label with its blank and unit where the paper has them: at the end, or inside
    the label where the form prints the blank mid-sentence (为__户困难职工家庭…)."""
    if "__" in label:
        # The label carries its printed measure word after the blank; the schema's unit
        # follows in brackets when it differs (名 printed, 人 stored).
        at = label.index("__")
        text = label[:at] + blank + label[at + 2 :]
        return text if label[at + 2 :].startswith(unit) else f"{text} ({unit})"
    return f"{label} {blank} {unit}"


def _heading_shown(heading: str, labels: list[str]) -> bool:
    """A row heading gets its own line unless a blank's label already starts with it
    (the paper prints "09 元旦、春节期间送温暖活动中为职工提供各项服务__人次")."""
    return bool(heading) and not any(label.startswith(heading) for label in labels)


def _notes_after(form: Form) -> bool:
    """注 lines follow the table on paper; 说明 lines precede it."""
    return bool(form.notes) and form.notes[0][0].lstrip().startswith("注")


def form_text(form: Form, lang: str = "zh", detail: bool = False) -> str:
    """The form in its paper layout, to hold against the printed notice: the title, the
    说明 lines where the paper has them, one line per blank (row number, letter, label
    with the blank and its unit), the code on the right (``⊂ total`` for a 其中), the 注
    lines, then the transcriber's quirks. ``detail`` adds each blank's printed wording and
    note beneath it."""
    en = lang == "en"
    src = form.source
    out = [f"{form.title_en if en else form.title}  [{form.id}]"]
    out.append(f"{src['issuer_en'] if en else src['issuer']} {src['notice']} {src['attachment']}".rstrip())
    out.append(f"seed {src['seed']} · period {form.period} · {len(form.fields)} blanks")
    notes = [text_en if en else text for text, text_en in form.notes]
    after = _notes_after(form)
    if notes and not after:
        out += notes
    lines: list[tuple[str, str, list[str]]] = []  # (left text, code column, detail lines)
    for row, heading, heading_en, fields in _rows(form):
        head = heading_en if en else heading
        labels = [f.label_en if en else f.label for f in fields]
        shown = _heading_shown(head, labels)
        if shown:
            lines.append((f"{row} {head}", "", []))
        for i, (f, label) in enumerate(zip(fields, labels)):
            number = row if (i == 0 and not shown) else "  "
            letter = f"({f.letter})" if f.letter else "   "
            code = f.code + (f" ⊂ {f.part_of}" if f.part_of else "")
            extra = []
            if detail and f.printed:
                extra.append(f"printed: {f.printed}")
            if detail and f.note:
                extra.append(f"note: {f.note}")
            if detail and en:
                extra.insert(0, f"zh: {f.label}")
            lines.append((f"{number} {letter} {_blank_text(label, f.unit)}", code, extra))
    width = min(max(_width(left) for left, _c, _d in lines) + 2, 64)
    rule = "─" * (width + 16)
    out.append(rule)
    for left, code, extra in lines:
        out.append((_pad(left, width) + code).rstrip() if code else left)
        out += [f"         {d}" for d in extra]
    out.append(rule)
    if notes and after:
        out += notes
    if form.quirks:
        out.append("Printed quirks kept on purpose:" if en else "印刷原样保留之处 (quirks):")
        out += [f"  {i}. {q}" for i, q in enumerate(form.quirks, 1)]
    return "\n".join(out)


_CSS = (
    "<style>.us-t{border-collapse:collapse;font-size:13px}.us-t td,.us-t th{border:1px solid #ccc;"
    "padding:2px 6px;text-align:left}.us-fail{background:#fde2e2}.us-warn{background:#fff4d6}"
    ".us-muted{color:#777}</style>"
)


def form_html(form: Form) -> str:
    """The form in its paper layout as an HTML table (Jupyter), with notes and quirks."""
    src = form.source
    parts = [_CSS, f"<h4>{_e(form.title)} <span class='us-muted'>{_e(form.id)}</span></h4>"]
    parts.append(
        f"<div class='us-muted'>{_e(src['issuer'])} {_e(src['notice'])} {_e(src['attachment'])} · "
        f"seed {_e(src['seed'])} · {len(form.fields)} blanks</div>"
    )
    notes = "".join(f"<div>{_e(text)}</div>" for text, _text_en in form.notes)
    after = _notes_after(form)
    if not after:
        parts.append(notes)
    parts.append("<table class='us-t'><tr><th>行</th><th>项</th><th>内容</th><th>单位</th><th>代码</th><th>concept</th></tr>")
    for row, heading, _h, fields in _rows(form):
        shown_heading = _heading_shown(heading, [f.label for f in fields])
        if shown_heading:
            parts.append(f"<tr><td>{row}</td><td></td><td colspan=4><b>{_e(heading)}</b></td></tr>")
        for i, f in enumerate(fields):
            shown = row if (i == 0 and not shown_heading) else ""
            part = f" <span class='us-muted'>⊂ {f.part_of}</span>" if f.part_of else ""
            parts.append(
                f"<tr><td>{shown}</td><td>{_e(f.letter or '')}</td><td>{_e(_blank_text(f.label, f.unit, '＿＿'))}<br>"
                f"<span class='us-muted'>{_e(f.label_en)}</span></td><td>{_e(f.unit)}</td>"
                f"<td>{_e(f.code)}{part}</td><td class='us-muted'>{_e(f.key)}</td></tr>"
            )
    parts.append("</table>")
    if after:
        parts.append(notes)
    if form.quirks:
        items = "".join(f"<li>{_e(q)}</li>" for q in form.quirks)
        parts.append(f"<details><summary class='us-muted'>quirks kept as printed ({len(form.quirks)})</summary><ol>{items}</ol></details>")
    return "".join(parts)


def report_html(res: ReportValidation) -> str:
    rep = res.report
    bad: dict[str, list[Any]] = {}
    for o in res.violations:
        for code in o.fields:
            bad.setdefault(code, []).append(o)
    status = "✓ ok" if res.ok else "✗ errors"
    parts = [_CSS, f"<h4>{_e(rep.form.id)} — {_e(rep.unit)} {_e(rep.period)}: {status}</h4>"]
    parts.append("<table class='us-t'><tr><th>代码</th><th>内容</th><th>值</th><th>单位</th><th>问题</th></tr>")
    values = rep.to_dict()
    for f in rep.form.fields:
        v = values[f.code]
        issues = bad.get(f.code, [])
        cls = ""
        if issues:
            cls = " class='us-fail'" if any(o.severity == "error" for o in issues) else " class='us-warn'"
        msg = "<br>".join(_e(o.message) for o in issues)
        shown = "<span class='us-muted'>空</span>" if v is None else _e(str(v))
        parts.append(f"<tr{cls}><td>{f.code}</td><td>{_e(f.label)}</td><td>{shown}</td><td>{_e(f.unit)}</td><td>{msg}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


def batch_html(res: BatchValidation, limit: int = 50) -> str:
    v = res.violations
    s = res.summary
    failing = s[(s["fails"] > 0) | (s["errors"] > 0)]
    parts = [
        _CSS,
        f"<h4>{len(v)} violation(s) in {v['unit'].nunique() if len(v) else 0} unit(s); "
        f"{len(failing)} of {len(s)} rules failed somewhere</h4>",
        failing.to_html(index=False, classes="us-t"),
    ]
    if len(v):
        parts.append(v.head(limit)[["unit", "period", "rule", "severity", "lhs", "rhs", "message"]].to_html(index=False, classes="us-t"))
    return "".join(parts)
