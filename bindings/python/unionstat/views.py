"""Text and HTML views: forms in their paper layout, validation results."""

from __future__ import annotations

import html
import unicodedata
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

from .i18n import TEXTS, resolve, t, word

if TYPE_CHECKING:
    import pandas as pd

# Views sit below the objects they show: forms, rules and graph call down into them for
# their _repr_html_, so the views take those objects as they come and name their types
# only here, as Any (importing them, even for type checking, would close an import cycle).
Form: TypeAlias = Any
Hierarchy: TypeAlias = Any
Completeness: TypeAlias = Any
BatchValidation: TypeAlias = Any
ReportValidation: TypeAlias = Any

__all__ = [
    "batch_html",
    "completeness_html",
    "fmt_value",
    "form_html",
    "form_text",
    "gaps_html",
    "hierarchy_html",
    "report_html",
    "report_view_html",
    "rollup_html",
    "text_table",
]

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


# Measure words: the schema stores each unit in simplified script (户, 个, 万元); a
# traditional-script form prints them traditional (戶, 個, 萬元), and an English view
# names them in English.
_TRADITIONAL_UNITS = {
    "户": "戶",
    "个": "個",
    "万元": "萬元",
    "张": "張",
    "节": "節",
    "辆": "輛",
    "对": "對",
    "场": "場",
    "场次": "場次",
}
_SIMPLIFY = str.maketrans(
    {"戶": "户", "個": "个", "萬": "万", "張": "张", "節": "节", "輛": "辆", "對": "对", "場": "场"}
)
_ENGLISH_UNITS = {
    "人": "persons",
    "户": "households",
    "人次": "person-times",
    "家": "enterprises",
    "列": "trains",
    "节": "carriages",
    "辆": "vehicles",
    "艘": "ships",
    "架": "planes",
    "张": "tickets",
    "对": "pairs",
    "场": "shows",
    "场次": "sessions",
    "幅": "pieces",
    "支": "teams",
    "次": "times",
    "万元": "10k yuan",
    "元": "yuan",
    "是/否": "yes/no",
    # 个 and 件 are bare classifiers: the label already names what is counted (centres, cases).
    "个": "",
    "件": "",
}


def _unit_word(unit: str, lang: str = "zh", script: str = "simplified") -> str:
    """The measure word of a schema unit as the view prints it: English for ``lang="en"``,
    traditional characters on a traditional-script form (戶, 個, 萬元), else as stored."""
    if lang == "en":
        return _ENGLISH_UNITS.get(unit, unit)
    return _TRADITIONAL_UNITS.get(unit, unit) if script == "traditional" else unit


def _blank_text(label: str, unit: str, blank: str = "____", *, lang: str = "zh", script: str = "simplified") -> str:
    """The label with its blank and unit where the paper has them: at the end, or inside
    the label where the form prints the blank mid-sentence (为__户困难职工家庭…)."""
    word = _unit_word(unit, lang, script)
    if "__" in label:
        # The label carries its printed measure word after the blank; the schema's unit
        # follows in brackets when it is another word (名 printed, 人 stored), but not when
        # it is only the other script's spelling of it (戶 printed, 户 stored).
        at = label.index("__")
        text = label[:at] + blank + label[at + 2 :]
        return text if label[at + 2 :].translate(_SIMPLIFY).startswith(unit) else f"{text} ({word})"
    return f"{label} {blank} {word}".rstrip()


def _heading_shown(heading: str, labels: list[str]) -> bool:
    """A row heading gets its own line unless a blank's label already starts with it
    (the paper prints "09 元旦、春节期间送温暖活动中为职工提供各项服务__人次")."""
    return bool(heading) and not any(label.startswith(heading) for label in labels)


def _row_heading_shown(heading: str, fields: list[Any]) -> bool:
    """Whether a row's heading gets a line of its own, in either language: decided on the
    printed (Chinese) wording, so the English view repeats no heading the paper does not
    (the English heading and label are worded apart even where the paper prints one text)."""
    return _heading_shown(heading, [f.label for f in fields])


def _notes_after(form: Form) -> bool:
    """注 lines follow the table on paper; 说明 lines precede it."""
    return bool(form.notes) and form.notes[0][0].lstrip().startswith("注")


def form_text(form: Form, lang: str | None = None, detail: bool = False) -> str:
    """The form in its paper layout, to hold against the printed notice: the title, the
    说明 lines where the paper has them, one line per blank (row number, letter, label
    with the blank and its unit), the code on the right (``⊂ total`` for a 其中), the 注
    lines, then the transcriber's quirks. ``detail`` adds each blank's printed wording and
    note beneath it."""
    lang = resolve(lang, form)
    en = lang == "en"
    src = form.source
    out = [f"{form.title_en if en else form.title}  [{form.id}]"]
    attachment = src["attachment"].replace("附件", "Attachment ") if en else src["attachment"]
    out.append(f"{src['issuer_en'] if en else src['issuer']} {src['notice']} {attachment}".rstrip())
    out.append(
        t("seed {seed} · period {period} · {n} blanks", lang, seed=src["seed"], period=form.period, n=len(form.fields))
    )
    notes = [text_en if en else text for text, text_en in form.notes]
    after = _notes_after(form)
    if notes and not after:
        out += notes
    lines: list[tuple[str, str, list[str]]] = []  # (left text, code column, detail lines)
    for row, heading, heading_en, fields in _rows(form):
        head = heading_en if en else heading
        labels = [f.label_en if en else f.label for f in fields]
        shown = _row_heading_shown(heading, fields) and bool(head)
        if shown:
            lines.append((f"{row} {head}", "", []))
        for i, (f, label) in enumerate(zip(fields, labels)):
            number = row if (i == 0 and not shown) else "  "
            letter = f"({f.letter})" if f.letter else "   "
            code = f.code + (f" ⊂ {f.part_of}" if f.part_of else "")
            extra = []
            if detail and f.printed:
                extra.append(t("printed: {text}", lang, text=f.printed))
            if detail and f.note:
                extra.append(t("note: {text}", lang, text=f.note))
            if detail and en:
                extra.insert(0, f"zh: {f.label}")
            text = _blank_text(label, f.unit, lang=lang, script=form.script)
            lines.append((f"{number} {letter} {text}", code, extra))
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
    ".us-muted{color:#777}.us-t th{white-space:nowrap}</style>"
)


def _localised(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A result table for the page in ``lang``: its column names from the i18n table and
    the words among its values (levels, kinds, severities …) translated; the data as they
    are. English pages show the table as it is."""
    import pandas as pd

    if lang == "en":
        return df
    out = df.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if pd.api.types.is_timedelta64_dtype(dtype):  # 2 days 15:20:00 → 2 天 15:20
            out[col] = out[col].map(lambda d: d if pd.isna(d) else _duration(d, lang))
            continue
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype) or str(dtype) == "bool":
            out[col] = out[col].astype(object)
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: word(v, lang) if isinstance(v, (str, bool)) else v)
    names = {c: t(c, lang) if c in TEXTS else c for c in out.columns}
    names.update({"reported": t("reported units", lang)} if "expected" in out.columns else {})
    out = out.rename(columns=names)
    if out.index.name in TEXTS:
        out.index = out.index.map(lambda v: word(v, lang))
        out.index.name = t(out.index.name, lang)
    if out.columns.name in TEXTS:
        out.columns.name = t(out.columns.name, lang)
    return out


def _duration(d: Any, lang: str) -> str:
    hours, rest = divmod(int(d.total_seconds()) - d.days * 86400, 3600)
    return t("{days} day(s) {hours}:{minutes}", lang, days=d.days, hours=f"{hours:02}", minutes=f"{rest // 60:02}")


def _ths(keys: list[str], lang: str) -> str:
    return "".join(f"<th>{_e(t(k, lang))}</th>" for k in keys)


def form_html(form: Form, lang: str | None = None) -> str:
    """The form in its paper layout as an HTML table (Jupyter), with notes and quirks;
    the labels in ``lang`` with the other language's beneath them."""
    lang = resolve(lang, form)
    en = lang == "en"
    src = form.source
    title = form.title_en if en else form.title
    parts = [_CSS, f"<h4>{_e(title)} <span class='us-muted'>{_e(form.id)}</span></h4>"]
    issuer = src["issuer_en"] if en else src["issuer"]
    parts.append(
        f"<div class='us-muted'>{_e(issuer)} {_e(src['notice'])} {_e(src['attachment'])} · "
        f"{_e(t('seed {seed} · {n} blanks', lang, seed=src['seed'], n=len(form.fields)))}</div>"
    )
    notes = "".join(f"<div>{_e(text_en if en else text)}</div>" for text, text_en in form.notes)
    after = _notes_after(form)
    if not after:
        parts.append(notes)
    parts.append(
        "<table class='us-t'><tr>" + _ths(["row", "letter", "label", "measure", "code", "concept"], lang) + "</tr>"
    )
    for row, heading, heading_en, fields in _rows(form):
        head = heading_en if en else heading
        shown_heading = _row_heading_shown(heading, fields) and bool(head)
        if shown_heading:
            parts.append(f"<tr><td>{row}</td><td></td><td colspan=4><b>{_e(head)}</b></td></tr>")
        for i, f in enumerate(fields):
            shown = row if (i == 0 and not shown_heading) else ""
            part = f" <span class='us-muted'>⊂ {f.part_of}</span>" if f.part_of else ""
            label, other = (f.label_en, f.label) if en else (f.label, f.label_en)
            parts.append(
                f"<tr><td>{shown}</td><td>{_e(f.letter or '')}</td>"
                f"<td>{_e(_blank_text(label, f.unit, '＿＿', lang=lang, script=form.script))}<br>"
                f"<span class='us-muted'>{_e(other)}</span></td><td>{_e(_unit_word(f.unit, lang, form.script))}</td>"
                f"<td>{_e(f.code)}{part}</td><td class='us-muted'>{_e(f.key)}</td></tr>"
            )
    parts.append("</table>")
    if after:
        parts.append(notes)
    if form.quirks:
        items = "".join(f"<li>{_e(q)}</li>" for q in form.quirks)
        summary = t("quirks kept as printed ({n})", lang, n=len(form.quirks))
        parts.append(f"<details><summary class='us-muted'>{_e(summary)}</summary><ol>{items}</ol></details>")
    return "".join(parts)


def report_html(res: ReportValidation, lang: str | None = None) -> str:
    """One report's values beside the messages of the rules it breaks (a short table;
    :func:`report_view_html` is the paper layout)."""
    rep = res.report
    lang = resolve(lang, rep.form)
    bad: dict[str, list[Any]] = {}
    for o in res.violations:
        for code in o.fields:
            bad.setdefault(code, []).append(o)
    status = t("✓ ok" if res.ok else "✗ errors", lang)
    parts = [_CSS, f"<h4>{_e(rep.form.id)} — {_e(rep.unit)} {_e(rep.period)}: {status}</h4>"]
    parts.append("<table class='us-t'><tr>" + _ths(["code", "label", "value", "measure", "problems"], lang) + "</tr>")
    values = rep.to_dict()
    for f in rep.form.fields:
        v = values[f.code]
        issues = bad.get(f.code, [])
        cls = ""
        if issues:
            cls = " class='us-fail'" if any(o.severity == "error" for o in issues) else " class='us-warn'"
        msg = "<br>".join(_e(o.message) for o in issues)
        shown = "<span class='us-muted'>空</span>" if v is None else _e(str(v))
        parts.append(
            f"<tr{cls}><td>{f.code}</td><td>{_e(f.label)}</td><td>{shown}</td><td>{_e(f.unit)}</td><td>{msg}</td></tr>"
        )
    parts.append("</table>")
    return "".join(parts)


def batch_html(res: BatchValidation, limit: int = 50, lang: str | None = None) -> str:
    """A batch's validation: the rules that failed somewhere and the first violations."""
    lang = resolve(lang, getattr(res, "form", None))
    v = res.violations
    s = res.summary
    failing = s[(s["fails"] > 0) | (s["errors"] > 0)]
    head = t(
        "{n} violation(s) in {units} unit(s); {failing} of {rules} rules failed somewhere",
        lang,
        n=len(v),
        units=v["unit"].nunique() if len(v) else 0,
        failing=len(failing),
        rules=len(s),
    )
    parts = [_CSS, f"<h4>{_e(head)}</h4>", _localised(failing, lang).to_html(index=False, classes="us-t")]
    if len(v):
        shown = v.head(limit)[["unit", "period", "rule", "severity", "lhs", "rhs", "message"]]
        parts.append(_localised(shown, lang).to_html(index=False, classes="us-t"))
    return "".join(parts)


def fmt_value(value: Any) -> str:
    """A figure as a statistician reads it: thousands separated, money with its decimals,
    blank as 空, flags as 是/否."""
    import numbers

    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "空"
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (numbers.Integral, Decimal, float)):
        return f"{value:,}"
    return str(value)


def _blank_html(value: Any) -> str:
    text = fmt_value(value)
    return "<span class='us-muted'>空</span>" if text == "空" else _e(text)


def hierarchy_html(tree: Hierarchy, limit: int = 30, lang: str | None = None) -> str:
    """A unit tree: its roots, units by level and kind, and the units one step below
    each root with the number of units under them."""
    import numpy as np

    lang = resolve(lang)
    df = tree.to_frame()
    n = len(df)
    parts = [_CSS]
    roots = df[df["parent"] == ""]
    heads = ", ".join(f"{_e(u)} {_e(nm)}" for u, nm in zip(roots["unit"].head(5), roots["name"].head(5)))
    head = t(
        "Hierarchy: {n} units · {roots} {heads}",
        lang,
        n=n,
        roots=t("roots" if len(roots) != 1 else "root", lang),
        heads="\0",
    )
    parts.append("<h4>" + _e(head).replace("\0", heads) + "</h4>")
    if n == 0:
        return "".join(parts)
    counts = df.pivot_table(index="level", columns="kind", values="unit", aggfunc="count", fill_value=0)
    order = [lv for lv in ("national", "province", "city", "county", "grassroots") if lv in counts.index]
    counts = counts.loc[order]
    counts["all"] = counts.sum(axis=1)
    if lang != "en":
        counts = counts.rename(columns=lambda c: t(c, lang) if c == "all" else word(c, lang))
    parts.append(
        f"<div class='us-muted'>{_e(t('units by level and kind', lang))}</div>"
        + _localised(counts, lang).to_html(classes="us-t")
    )
    # Units under each unit (itself included), from the deepest level up.
    index = {u: i for i, u in enumerate(df["unit"].tolist())}
    parent = np.array([index.get(p, -1) for p in df["parent"].tolist()], dtype=np.int64)
    depth = df["depth"].to_numpy()
    size = np.ones(n, dtype=np.int64)
    for d in range(int(depth.max()), 0, -1):
        at = (depth == d) & (parent >= 0)
        size += np.bincount(parent[at], weights=size[at], minlength=n).astype(np.int64)
    top = df[df["parent"].isin(set(roots["unit"]))].assign(
        units_below=size[(df["parent"].isin(set(roots["unit"]))).to_numpy()] - 1
    )
    rows = "".join(
        f"<tr><td>{_e(r.unit)}</td><td>{_e(r.name)}</td><td>{_e(word(r.level, lang))}</td><td>{_e(word(r.kind, lang))}</td>"
        f"<td>{int(r.units_below):,}</td></tr>"
        for r in top.head(limit).itertuples()
    )
    more = (
        f"<div class='us-muted'>{_e(t('… and {n} more', lang, n=len(top) - limit))}</div>" if len(top) > limit else ""
    )
    parts.append(
        f"<div class='us-muted'>{_e(t('one step below the root', lang))}</div><table class='us-t'><tr>"
        + _ths(["unit", "name", "level", "kind", "units below"], lang)
        + f"</tr>{rows}</table>{more}"
    )
    return "".join(parts)


def rollup_html(
    totals: pd.DataFrame,
    form: Any,
    *,
    unit: str | None = None,
    children: list[str] | None = None,
    unknown_units: list[str] | None = None,
    max_children: int = 12,
    lang: str | None = None,
) -> str:
    """A roll-up on paper: one row per field (code, label, unit of measure), the
    consolidated total of ``unit`` (default: the first row) and its children's totals
    beside it."""
    schema = form.schema if hasattr(form, "schema") else form
    lang = resolve(lang, schema)
    unit = unit if unit is not None else str(totals.index[0])
    kids = [c for c in (children or []) if c in totals.index]
    # The biggest children first (most reports counted), as a statistician scans them.
    kids.sort(key=lambda c: -int(totals.loc[c, "reports"]))
    shown = kids[:max_children]
    me = totals.loc[unit]
    head = t(
        "Roll-up of {form}: {unit} {name} — {n} report(s) counted",
        lang,
        form=schema.id,
        unit=unit,
        name=str(me["name"]),
        n=f"{int(me['reports']):,}",
    )
    parts = [_CSS, f"<h4>{_e(head)}</h4>"]
    kid_heads = "".join(
        f"<th>{_e(c)}<br><span class='us-muted'>{_e(str(totals.loc[c, 'name']))}</span></th>" for c in shown
    )
    total = "<th>" + _e(t("{unit} total", lang, unit=unit)) + "</th>"
    parts.append("<table class='us-t'><tr>" + _ths(["code", "label", "measure"], lang) + f"{total}{kid_heads}</tr>")
    for f in schema.fields:
        cells = "".join(f"<td>{_blank_html(totals.loc[c, f.code])}</td>" for c in shown)
        parts.append(
            f"<tr><td>{_e(f.code)}</td><td>{_e(f.label)}</td><td>{_e(f.unit)}</td>"
            f"<td><b>{_blank_html(me[f.code])}</b></td>{cells}</tr>"
        )
    parts.append("</table>")
    if len(kids) > len(shown):
        parts.append(
            f"<div class='us-muted'>{_e(t('{n} more children not shown', lang, n=len(kids) - len(shown)))}</div>"
        )
    if unknown_units:
        text = t(
            "{n} report(s) from units not in the tree left out: {units}",
            lang,
            n=len(unknown_units),
            units=", ".join(unknown_units[:10]),
        )
        parts.append(f"<div class='us-warn'>{_e(text)}</div>")
    return "".join(parts)


def gaps_html(gaps: pd.DataFrame, names: dict[str, str] | None = None, limit: int = 50, lang: str | None = None) -> str:
    """Parents' reported totals against their children (:meth:`Hierarchy.check`): one row
    per unit and field with reported, computed, difference, gap and the traced path."""
    lang = resolve(lang)
    names = names or {}
    parts = [_CSS, f"<h4>{_e(t('{n} imbalance(s) between reported and computed totals', lang, n=len(gaps)))}</h4>"]
    if not len(gaps):
        return "".join(parts)
    parts.append(
        "<table class='us-t'><tr>"
        + _ths(["unit", "name", "field", "reported", "computed", "difference", "gap", "traced path"], lang)
        + "</tr>"
    )
    for r in gaps.head(limit).itertuples():
        trace = list(getattr(r, "trace", []) or [])
        path = " → ".join(_e(f"{u} {names.get(u, '')}".strip()) for u in trace)
        cls = " class='us-fail'" if not r.within_tolerance else ""
        parts.append(
            f"<tr{cls}><td>{_e(r.unit)}</td><td>{_e(names.get(r.unit, ''))}</td><td>{_e(r.field)}</td>"
            f"<td>{_blank_html(r.reported)}</td><td>{_blank_html(r.computed)}</td><td>{_e(fmt_value(r.difference))}</td>"
            f"<td>{_e(fmt_value(r.gap))}</td><td>{path}</td></tr>"
        )
    parts.append("</table>")
    if len(gaps) > limit:
        parts.append(f"<div class='us-muted'>{_e(t('… and {n} more', lang, n=len(gaps) - limit))}</div>")
    return "".join(parts)


def completeness_html(c: Completeness, limit: int = 20, lang: str | None = None) -> str:
    """Who has not reported: the rate, the rates by level and by kind, the first
    missing units."""
    lang = resolve(lang, getattr(c, "form", None))
    pct = "{:.1%}".format
    head = t(
        "{reported} of {expected} units reported ({rate}) for period {period}",
        lang,
        reported=f"{c.reported:,}",
        expected=f"{c.expected:,}",
        rate=pct(c.rate),
        period=c.period,
    )
    parts = [
        _CSS,
        f"<h4>{_e(head)}</h4>",
        f"<div class='us-muted'>{_e(t('by level', lang))}</div>"
        + _localised(c.by_level, lang).to_html(index=False, classes="us-t", float_format=pct),
        f"<div class='us-muted'>{_e(t('by kind', lang))}</div>"
        + _localised(c.by_kind, lang).to_html(index=False, classes="us-t", float_format=pct),
    ]
    if c.timed:
        late = c.late
        text = t(
            "deadline {deadline}: {on_time} on time, {late} late, {missing} missing",
            lang,
            deadline=str(c.deadline or t("(none)", lang)),
            on_time=f"{c.on_time:,}",
            late=f"{len(late):,}",
            missing=f"{len(c.missing):,}",
        )
        parts.insert(2, f"<div>{_e(text)}</div>")
        from .plots import MISSING, available

        parts.append(
            f"<div class='us-muted'>{_e(t('cumulative reporting curve', lang))}</div>"
            + (str(c.plot()) if available() else f"<div class='us-muted'>{_e(MISSING)}</div>")
        )
        if len(late):
            shown = late.head(limit)[["unit", "name", "level", "kind", "submitted", "late_by"]]
            parts.append(
                f"<div class='us-muted'>{_e(t('reported late ({n})', lang, n=len(late)))}</div>"
                + _localised(shown, lang).to_html(index=False, classes="us-t us-warn")
            )
    if len(c.missing):
        m = c.missing.head(limit)[["unit", "name", "level", "kind", "parent"]]
        parts.append(
            f"<div class='us-muted'>{_e(t('not reported ({n})', lang, n=len(c.missing)))}</div>"
            + _localised(m, lang).to_html(index=False, classes="us-t")
        )
    return "".join(parts)


def text_table(headers: list[str], rows: list[list[str]], *, right: set[int] | None = None, indent: str = "  ") -> str:
    """Rows aligned in columns for a terminal, CJK characters counted two wide; columns
    whose index is in ``right`` are right-aligned (figures)."""
    right = right or set()
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        out = []
        for i, (cell, w) in enumerate(zip(cells, widths)):
            pad = " " * (w - _width(cell))
            out.append(pad + cell if i in right else cell + pad)
        return (indent + "  ".join(out)).rstrip()

    return "\n".join([line(headers)] + [line(r) for r in rows])


def _shown_value(field: Any, value: Any) -> Any:
    """A stored value as the form prints it: money to the field's decimals when no finer
    digit is set (1523.400000 → 1523.40)."""
    if isinstance(value, Decimal) and field.decimals >= 0:
        printed = value.quantize(Decimal(1).scaleb(-field.decimals))
        return printed if printed == value else value
    return value


def report_view_html(res: ReportValidation, lang: str | None = None) -> str:
    """One report on paper: row and letter, label, value (blank shown as 空) and unit, and
    the messages of the rules it breaks beside the cells they name (errors red, warnings
    yellow); a header with the outcome and counts."""
    rep = res.report
    form = rep.form
    lang = resolve(lang, form)
    en = lang == "en"
    bad: dict[str, list[Any]] = {}
    for o in res.violations:
        for code in o.fields:
            bad.setdefault(code, []).append(o)
    errors = sum(1 for o in res.violations if o.severity == "error")
    status = t("✓ ok" if res.ok else "✗ errors", lang)
    counts = t(
        "{title} · {n} violation(s) ({errors} error(s)), {skipped} rule(s) skipped for blanks, {rules} rules",
        lang,
        title=form.title_en if en else form.title,
        n=len(res.violations),
        errors=errors,
        skipped=len(res.skipped),
        rules=len(res.outcomes),
    )
    parts = [
        _CSS,
        f"<h4>{_e(form.id)} — {_e(rep.unit)} {_e(rep.period)}: {status}</h4>",
        f"<div class='us-muted'>{_e(counts)}</div>",
        "<table class='us-t'><tr>"
        + _ths(["row", "letter", "code", "label", "value", "measure", "problems"], lang)
        + "</tr>",
    ]
    values = rep.to_dict()
    last_row = None
    for f in form.fields:
        issues = bad.get(f.code, [])
        cls = ""
        if issues:
            cls = " class='us-fail'" if any(o.severity == "error" for o in issues) else " class='us-warn'"
        msg = "<br>".join(f"[{_e(word(o.severity, lang))}] {_e(o.message)}" for o in issues)
        row = f.row if f.row != last_row else ""
        last_row = f.row
        parts.append(
            f"<tr{cls}><td>{_e(row)}</td><td>{_e(f.letter or '')}</td><td>{_e(f.code)}</td>"
            f"<td>{_e(f.label)}</td>"
            f"<td>{_blank_html(_shown_value(f, values[f.code]))}</td><td>{_e(f.unit)}</td><td>{msg}</td></tr>"
        )
    parts.append("</table>")
    return "".join(parts)
