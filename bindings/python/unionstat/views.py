"""Text and HTML views: forms in their paper layout, validation results."""

from __future__ import annotations

import html
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


def form_text(form: Form, lang: str = "zh") -> str:
    """Paper layout as text: one line per blank under its row number and heading."""
    en = lang == "en"
    out = [form.title_en if en else form.title]
    src = form.source
    out.append(f"{src['issuer_en'] if en else src['issuer']} {src['notice']} {src['attachment']}".rstrip())
    for text, text_en in form.notes:
        out.append(text_en if en else text)
    for row, heading, heading_en, fields in _rows(form):
        head = heading_en if en else heading
        if head:
            out.append(f"{row} {head}")
        for i, f in enumerate(fields):
            number = row if (i == 0 and not head) else "  "
            letter = f"({f.letter})" if f.letter else "   "
            label = f.label_en if en else f.label
            out.append(f"{number} {letter} {label} ____ {f.unit}   [{f.code}]")
    for q in form.quirks:
        out.append(f"# {q}")
    return "\n".join(out)


_CSS = (
    "<style>.us-t{border-collapse:collapse;font-size:13px}.us-t td,.us-t th{border:1px solid #ccc;"
    "padding:2px 6px;text-align:left}.us-fail{background:#fde2e2}.us-warn{background:#fff4d6}"
    ".us-muted{color:#777}</style>"
)


def form_html(form: Form) -> str:
    src = form.source
    parts = [_CSS, f"<h4>{_e(form.title)} <span class='us-muted'>{_e(form.id)}</span></h4>"]
    parts.append(f"<div class='us-muted'>{_e(src['issuer'])} {_e(src['notice'])} {_e(src['attachment'])}</div>")
    for text, _text_en in form.notes:
        parts.append(f"<div>{_e(text)}</div>")
    parts.append("<table class='us-t'><tr><th>行</th><th>项</th><th>内容</th><th>单位</th><th>代码</th><th>concept</th></tr>")
    for row, heading, _h, fields in _rows(form):
        if heading:
            parts.append(f"<tr><td>{row}</td><td></td><td colspan=4><b>{_e(heading)}</b></td></tr>")
        for i, f in enumerate(fields):
            shown = row if (i == 0 and not heading) else ""
            part = f" <span class='us-muted'>⊂ {f.part_of}</span>" if f.part_of else ""
            parts.append(
                f"<tr><td>{shown}</td><td>{_e(f.letter or '')}</td><td>{_e(f.label)}<br>"
                f"<span class='us-muted'>{_e(f.label_en)}</span></td><td>{_e(f.unit)}</td>"
                f"<td>{_e(f.code)}{part}</td><td class='us-muted'>{_e(f.key)}</td></tr>"
            )
    parts.append("</table>")
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
