"""The demo: a sample province's reports of both forms — validated, rolled up, checked
against the consolidated reports, counted for completeness — summarised for a provincial
statistician and written as an HTML report.

``unionstat demo [--output FILE] [--seed N] [--quiet]`` (``./run demo``).
"""

from __future__ import annotations

import html
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .i18n import resolve, t, word, words

if TYPE_CHECKING:
    import pandas as pd

    from .forms import Form
    from .graph import Completeness, Hierarchy

__all__ = ["DemoResult", "FormResult", "build_demo", "demo_html", "demo_text", "run_demo"]

#: The figures a provincial statistician looks at first, by concept key, with short labels.
KEY_FIELDS = {
    "songnuan": [
        ("workers.total", "职工总数"),
        ("workers.migrant", "其中农民工"),
        ("hardship_workers.total", "困难职工"),
        ("hardship_households.on_file", "建档困难职工家庭"),
        ("visits.hardship_households", "慰问困难家庭"),
        ("funds_raised.total", "筹集款物"),
        ("funds_paid.total", "发放款物"),
        ("heating.amount", "取暖补贴"),
    ],
    "bangfu": [
        ("centres.total", "帮扶中心"),
        ("staff.total", "工作人员"),
        ("funding.total", "资金来源总额"),
        ("assistance.persons", "帮扶困难职工"),
        ("assistance.amount", "帮扶困难职工款物"),
        ("migrant_assistance.persons", "帮扶农民工"),
        ("migrant_assistance.amount", "帮扶农民工款物"),
    ],
}


@dataclass
class FormResult:
    """Everything the demo found for one form."""

    form: Form
    tree: Hierarchy
    period: str
    reports: pd.DataFrame
    consolidated: bool
    violations: pd.DataFrame
    summary: pd.DataFrame
    totals: pd.DataFrame
    gaps: pd.DataFrame | None
    completeness: Completeness
    unknown_units: list[str]
    warnings: list[str]


@dataclass
class DemoResult:
    """The demo's findings for both forms, the planted mistakes and whether each was found."""

    seed: int
    tree: Hierarchy
    names: dict[str, str]
    forms: list[FormResult]
    mistakes: pd.DataFrame
    seconds: float = 0.0
    output: str = ""
    notes: list[str] = field(default_factory=list)
    #: Figures of songnuan that pass the rules yet stand out among their peers.
    outliers: Any = None


def _validate(tree: Hierarchy, form: Form, df: pd.DataFrame, consolidated: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validates with the tree's knowledge (levels, children sums) — units outside the
    tree by the form alone — and marks errors of consolidated reports that a unit below
    already made ("carried up")."""
    from .graph import UnknownUnitsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownUnitsWarning)  # told once, with the roll-up
        res = tree.validate(df, form, unknown="warn")
    violations = res.violations.drop(columns=["row"])
    units = tree.to_frame().set_index("unit")
    violations.insert(1, "name", violations["unit"].map(units["name"]).fillna(""))
    violations.insert(2, "level", violations["unit"].map(units["level"]).fillna("(not in tree)"))
    below: set[tuple[str, str]] = set()
    if consolidated:
        for unit, rule in zip(violations["unit"], violations["rule"]):
            if unit in tree:
                below.update((a, rule) for a in tree.ancestors(unit))
    violations["origin"] = [
        "carried up" if (u, r) in below else "made here" for u, r in zip(violations["unit"], violations["rule"])
    ]
    return violations, res.summary


def _run_form(
    full: Hierarchy, form: Form, df: pd.DataFrame, tree: Hierarchy, consolidated: bool, submitted: Any = None
) -> FormResult:
    from .graph import UnknownUnitsWarning

    period = str(df["period"].iloc[0])
    violations, summary = _validate(tree, form, df, consolidated)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownUnitsWarning)
        # Consolidated reports would be counted twice: roll up the lowest reports only.
        # Inner units only (a leaf's total is its own report); Decimals keep the reported decimals in print.
        totals = tree.rollup(df, form, ignore_inner=consolidated, exact="decimal")
        gaps = tree.check(df, form) if consolidated else None
        completeness = tree.completeness(df, form, submitted=submitted)
    messages = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, UnknownUnitsWarning)))
    unknown = [u for u in dict.fromkeys(df["unit"]) if u not in tree]
    return FormResult(
        form, tree, period, df, consolidated, violations, summary, totals, gaps, completeness, unknown, messages
    )


def build_demo(seed: int = 2018) -> DemoResult:
    """Generates the sample province and runs validation, roll-up, check and completeness
    on both forms."""
    from .forms import forms
    from .sample import FORMS, _submission_times, centre_tree, planted_mistakes, sample_province

    start = time.perf_counter()
    full, songnuan, bangfu = sample_province(seed)
    units = full.to_frame()
    names = dict(zip(units["unit"], units["name"]))
    sn_form = forms()[FORMS["songnuan"]]
    bf_form = forms()[FORMS["bangfu"]]
    sn_period = str(songnuan["period"].iloc[0])
    bf_period = str(bangfu["period"].iloc[0])
    results = [
        _run_form(
            full,
            sn_form,
            songnuan,
            full.at(sn_period),
            consolidated=True,
            submitted=_submission_times(songnuan, full, seed)[0].tolist(),
        ),
        _run_form(full, bf_form, bangfu, centre_tree(full, bf_period), consolidated=False),
    ]
    from .graph import UnknownUnitsWarning
    from .outliers import outliers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownUnitsWarning)  # told once, with the roll-up
        found = outliers(songnuan, sn_form, tree=results[0].tree)
    mistakes = planted_mistakes(seed, full)
    mistakes["found"] = [_found(results, m, found) for m in mistakes.itertuples()]
    return DemoResult(seed, full, names, results, mistakes, seconds=time.perf_counter() - start, outliers=found)


def _found(results: list[FormResult], m: Any, found: Any = None) -> bool:
    r = next(x for x in results if x.form.id == m.form)
    if m.found_by == "outliers":
        return found is not None and m.unit in found.units()[:10]
    if m.found_by == "validate":
        v = r.violations
        return bool(((v["unit"] == m.unit) & (v["origin"] == "made here")).any())
    if m.found_by == "check":
        g = r.gaps
        return g is not None and bool(((g["unit"] == m.unit) & ~g["within_tolerance"]).any())
    if m.found_by == "completeness":
        return bool((r.completeness.missing["unit"] == m.unit).any())
    if m.found_by == "timeliness":
        return r.completeness.timed and bool((r.completeness.late["unit"] == m.unit).any())
    return m.unit in r.unknown_units


# ---------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    from .views import text_table

    return text_table(headers, rows, right=right).split("\n")


def _key_fields(form: Form) -> list[tuple[str, str, str]]:
    """(code, short label, unit of measure) of the form's key fields that it has."""
    out = []
    for key, label in KEY_FIELDS.get(form.family, []):
        f = form.find(key)
        if f is not None:
            field_def = form.fields[f]
            out.append((field_def.code, label, field_def.unit))
    return out


def _unit_name(names: dict[str, str], unit: str, lang: str = "en") -> str:
    return f"{unit} {names[unit]}" if unit in names else t("{unit} (not in the tree)", lang, unit=unit)


def _signed(value: Any) -> str:
    return f"{value:+,}" if value else "0"


def _unknown_texts(r: FormResult, lang: str) -> list[str]:
    """What the roll-up warned about the units outside the tree, in the reader's language."""
    if lang == "en" or not r.warnings:
        return r.warnings  # the roll-up's own warnings, as they were told
    return [
        t(
            "{n} unit(s) not in the tree were left out of the roll-up: {units}",
            lang,
            n=len(r.unknown_units),
            units=", ".join(r.unknown_units),
        )
    ]


def demo_text(d: DemoResult, *, messages: int = 6, lang: str | None = None) -> str:
    """The summary a provincial statistician reads first, in ``lang`` (default: the
    forms' language, Chinese)."""
    from .views import fmt_value

    sn = d.forms[0]
    lang = resolve(lang, sn.form)

    def w(v: Any) -> str:  # a word of the data in the reader's language
        return word(v, lang)

    root = sn.tree.ids[0]
    units = sn.tree.to_frame()
    shape = []
    for lv in ("national", "province", "city", "county", "grassroots"):
        at = units[units["level"] == lv]
        if len(at):
            kinds = at.groupby("kind").size()
            detail = (
                " (" + ", ".join(t("{n} {kind}", lang, n=n, kind=w(k)) for k, n in kinds.items()) + ")"
                if len(kinds) > 1
                else ""
            )
            shape.append(t("{n} {level}", lang, n=f"{len(at):,}", level=w(lv)) + detail)
    out = [
        t(
            "unionstat demo — sample province {root} {name}, 2018 送温暖 campaign (seed {seed})",
            lang,
            root=root,
            name=d.names.get(root, ""),
            seed=d.seed,
        ),
        "  " + t("tree: {n} unions in {period}: ", lang, n=f"{len(sn.tree):,}", period=sn.period) + " · ".join(shape),
    ]
    for r in d.forms:
        out.append(
            "  "
            + t(
                "{form} {title}: {n} reports for period {period}",
                lang,
                form=r.form.id,
                title=r.form.title_en if lang == "en" else r.form.title,
                n=f"{len(r.reports):,}",
                period=r.period,
            )
        )

    out += ["", t("1. Which units have errors", lang)]
    for r in d.forms:
        v = r.violations
        err = v[v["severity"] == "error"]
        warn_only = set(v.loc[v["severity"] == "warning", "unit"]) - set(err["unit"])
        carried = v[v["origin"] == "carried up"]
        made = v[v["origin"] == "made here"]
        out.append(
            t(
                "{form}: {n} reports × {rules} rules → {errors} unit(s) with errors, {warnings} more with warnings only",
                lang,
                form=r.form.id,
                n=f"{len(r.reports):,}",
                rules=len(r.form.rules),
                errors=err["unit"].nunique(),
                warnings=len(warn_only),
            )
            + (
                t("; {n} of them only pass up a mistake made below", lang, n=carried["unit"].nunique())
                if len(carried)
                else ""
            )
        )
        if not len(v):
            continue
        by_sev = v.groupby("severity").agg(violations=("rule", "size"), units=("unit", "nunique"))
        out += _table(
            words(["severity", "violations", "units"], lang),
            [[w(s), str(int(x.violations)), str(int(x.units))] for s, x in by_sev.iterrows()],
            right={1, 2},
        )
        top = v.groupby("rule").size().sort_values(ascending=False, kind="stable").head(5)
        out.append(t("  top rules: ", lang) + ", ".join(f"{rule} ({n})" for rule, n in top.items()))
        made = made.sort_values(["severity", "unit"], kind="stable")
        out.append(t("  where the mistakes were made:", lang))
        for x in made.head(messages).itertuples():
            out.append(f"    {_unit_name(d.names, x.unit, lang)} [{w(x.severity)}] {x.message}")
        if len(made) > messages:
            out.append(t("    … and {n} more", lang, n=len(made) - messages))
        for rule, grp in carried.groupby("rule", sort=False):
            upward = sorted(grp["unit"], key=lambda u: -len(r.tree.path(u)))
            out.append(
                t("  {rule} carried up by the consolidated reports (汇总) of ", lang, rule=rule)
                + " → ".join(_unit_name(d.names, u, lang) for u in upward)
            )

    out += ["", t("2. Province totals ({root} {name})", lang, root=root, name=d.names.get(root, ""))]
    for r in d.forms:
        how = t(
            "rolled up from the lowest reports" if r.consolidated else "rolled up from every centre's own report", lang
        )
        out.append(t("{form} ({how}):", lang, form=r.form.id, how=how))
        reported = r.reports.set_index("unit").loc[root] if r.consolidated and root in set(r.reports["unit"]) else None
        rows = []
        for code, label, measure in _key_fields(r.form):
            computed = r.totals.loc[root, code]
            row = [code, label, fmt_value(computed), measure]
            if reported is not None:
                rep = reported[code]
                diff = "" if fmt_value(rep) == "空" or rep == computed else _signed(rep - computed)
                row += [fmt_value(rep), diff]
            rows.append(row)
        headers = ["code", "field", "computed", "measure"] + (
            ["reported", "difference"] if reported is not None else []
        )
        out += _table(words(headers, lang), rows, right={2, 4, 5})
        if r.warnings:  # the same units are left out of the check and completeness too
            out.append(t("  warning: {message}", lang, message=_unknown_texts(r, lang)[0]))

    out += ["", t("3. Gaps between reported and computed (consolidated reports against their units)", lang)]
    for r in d.forms:
        if r.gaps is None:
            out.append(t("{form}: every centre reports its own work; nothing to compare", lang, form=r.form.id))
            continue
        g = r.gaps
        out.append(t("{form}: {n} imbalance(s) (unit × field)", lang, form=r.form.id, n=len(g)))
        rows = [
            [
                x.unit,
                d.names.get(x.unit, ""),
                x.field,
                fmt_value(x.reported),
                fmt_value(x.computed),
                _signed(x.difference),
                _signed(x.gap),
                " → ".join([*x.trace[:-1], _unit_name(d.names, x.trace[-1], lang)])
                if len(x.trace) > 1
                else t("introduced here", lang),
            ]
            for x in g.itertuples()
        ]
        if rows:
            out += _table(
                words(["unit", "name", "field", "reported", "computed", "difference", "gap", "traced path"], lang),
                rows,
                right={3, 4, 5, 6},
            )

    out += ["", t("4. Completeness", lang)]
    for r in d.forms:
        c = r.completeness
        out.append(
            t(
                "{form} ({period}): {reported} of {expected} units reported ({rate})",
                lang,
                form=r.form.id,
                period=c.period,
                reported=f"{c.reported:,}",
                expected=f"{c.expected:,}",
                rate=f"{c.rate:.1%}",
            )
        )
        out += _table(
            words(["level", "expected", "reported units", "missing", "rate"], lang),
            [
                [w(x.level), f"{x.expected:,}", f"{x.reported:,}", f"{x.missing:,}", f"{x.rate:.1%}"]
                for x in c.by_level.itertuples()
            ],
            right={1, 2, 3, 4},
        )
        if c.timed:
            late = c.late
            out.append(
                t(
                    "  deadline {deadline}: {on_time} on time, {late} late, {missing} missing",
                    lang,
                    deadline=c.deadline,
                    on_time=f"{c.on_time:,}",
                    late=f"{len(late):,}",
                    missing=f"{len(c.missing):,}",
                )
            )
            out += _table(
                words(["level", "on_time", "late", "on_time_rate"], lang),
                [
                    [w(x.level), f"{x.on_time:,}", f"{x.late:,}", f"{x.on_time_rate:.1%}"]
                    for x in c.by_level.itertuples()
                ],
                right={1, 2, 3},
            )
            for x in late.head(10).itertuples():
                out.append(
                    t(
                        "  reported late: {unit} {name} ({level}) on {submitted}, {days} day(s) {hours} h after the "
                        "deadline",
                        lang,
                        unit=x.unit,
                        name=x.name,
                        level=w(x.level),
                        submitted=f"{x.submitted:%Y-%m-%d %H:%M}",
                        days=x.late_by.days,
                        hours=x.late_by.seconds // 3600,
                    )
                )
        for x in c.missing.head(10).itertuples():
            out.append(
                t(
                    "  not reported: {unit} {name} ({level}, under {parent})",
                    lang,
                    unit=x.unit,
                    name=x.name,
                    level=w(x.level),
                    parent=_unit_name(d.names, x.parent, lang),
                )
            )
        for u in r.unknown_units:
            out.append(
                t("  not in the tree: {unit} — its report is left out of roll-up, check and completeness", lang, unit=u)
            )

    m = d.mistakes
    out += ["", t("5. Planted mistakes: {found} of {n} found", lang, found=int(m["found"].sum()), n=len(m))]
    for x in m.itertuples():
        mark = "✓" if x.found else "✗"
        found_by = w(x.found_by)
        out.append(
            f"  {mark} {x.form:13} {found_by:{12 - (_cjk_width(found_by) - len(found_by))}} "
            f"{_unit_name(d.names, x.unit, lang)}: {x.what}"
        )
    if d.outliers is not None:
        o = d.outliers
        out += [
            "",
            t(
                "6. Figures that pass the rules but stand out among their peers: {n} in {units} unit(s) of songnuan",
                lang,
                n=f"{len(o):,}",
                units=f"{len(o.units()):,}",
            ),
        ]
        for x in o.table.slice(0, messages).to_pylist():
            reason = x["reason_en"] if lang == "en" else x["reason"]
            out.append(f"  {_unit_name(d.names, x['unit'], lang)} [{w(x['method'])} {x['score']:.1f}] {reason}")
    if d.output:
        out += ["", t("wrote {output} ({seconds} s)", lang, output=d.output, seconds=f"{d.seconds:.1f}")]
    return "\n".join(out)


def _cjk_width(text: str) -> int:
    from .views import _width

    return _width(text)


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------


def demo_html(d: DemoResult, lang: str | None = None) -> str:
    """The demo's findings as one self-contained HTML page in ``lang`` (default: the
    forms' language, Chinese): headings, column names and summaries translated, the
    data as reported."""
    from .views import _CSS, _localised, completeness_html, fmt_value, gaps_html

    e = html.escape
    sn = d.forms[0]
    lang = resolve(lang, sn.form)

    def w(v: Any) -> str:  # a word of the data in the reader's language
        return word(v, lang)

    root = sn.tree.ids[0]
    en = lang == "en"
    parts = [
        f"<!DOCTYPE html><html lang='{'en' if en else 'zh-CN'}'><head><meta charset='utf-8'>",
        f"<title>{e(t('unionstat demo — {name}', lang, name=d.names.get(root, root)))}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}h2{border-bottom:1px solid #ccc}</style>",
        _CSS,
        "</head><body>",
        f"<h1>{e(t('unionstat demo — {root} {name}, 2018 送温暖 campaign', lang, root=root, name=d.names.get(root, '')))}</h1>",
        f"<p class='us-muted'>{e(t('sample province generated with seed {seed}; {n} unions in {period}', lang, seed=d.seed, n=f'{len(sn.tree):,}', period=sn.period))}</p>",
        "<ul>"
        + "".join(
            f"<li>{e(t('{form} {title}: {n} reports for period {period}', lang, form=r.form.id, title=r.form.title_en if en else r.form.title, n=f'{len(r.reports):,}', period=r.period))}</li>"
            for r in d.forms
        )
        + "</ul>",
        f"<h2>{e(t('1. Which units have errors', lang))}</h2>",
    ]
    for r in d.forms:
        v = r.violations
        parts.append(
            f"<h3>{e(t('{form}: {n} unit(s) with errors or warnings', lang, form=r.form.id, n=v['unit'].nunique()))}</h3>"
        )
        if len(v):
            by_sev = v.groupby("severity").agg(violations=("rule", "size"), units=("unit", "nunique")).reset_index()
            parts.append(_localised(by_sev, lang).to_html(index=False, classes="us-t"))
            cols = ["unit", "name", "level", "rule", "severity", "origin", "lhs", "rhs", "message"]
            rows = "".join(
                f"<tr class='{'us-fail' if x.severity == 'error' else 'us-warn'}'>"
                + "".join(
                    f"<td>{e(w(getattr(x, c)) if c in ('level', 'severity', 'origin') else str(getattr(x, c)))}</td>"
                    for c in cols
                )
                + "</tr>"
                for x in v.itertuples()
            )
            parts.append(
                "<table class='us-t'><tr>" + "".join(f"<th>{e(t(c, lang))}</th>" for c in cols) + f"</tr>{rows}</table>"
            )
        failing = r.summary[(r.summary["fails"] > 0) | (r.summary["errors"] > 0)]
        parts.append(
            f"<p class='us-muted'>{e(t('rules that failed somewhere', lang))}</p>"
            + _localised(failing[["rule", "severity", "check", "items", "passes", "fails", "skipped"]], lang).to_html(
                index=False, classes="us-t"
            )
        )
    parts.append(f"<h2>{e(t('2. Province totals ({root} {name})', lang, root=root, name=d.names.get(root, '')))}</h2>")
    for r in d.forms:
        reported = r.reports.set_index("unit").loc[root] if r.consolidated and root in set(r.reports["unit"]) else None
        cells = []
        for code, label, measure in _key_fields(r.form):
            computed = r.totals.loc[root, code]
            extra = f"<td>{e(fmt_value(reported[code]))}</td>" if reported is not None else ""
            cells.append(
                f"<tr><td>{e(code)}</td><td>{e(label)}</td><td>{e(fmt_value(computed))}</td><td>{e(measure)}</td>{extra}</tr>"
            )
        head = "".join(
            f"<th>{e(t(c, lang))}</th>"
            for c in ["code", "field", "computed", "measure"] + (["reported"] if reported is not None else [])
        )
        parts.append(f"<h3>{e(r.form.id)}</h3><table class='us-t'><tr>{head}</tr>{''.join(cells)}</table>")
        for message in _unknown_texts(r, lang):
            parts.append(f"<p class='us-warn'>{e(t('warning: {message}', lang, message=message))}</p>")
    parts.append(f"<h2>{e(t('3. Gaps between reported and computed', lang))}</h2>")
    for r in d.forms:
        if r.gaps is None:
            parts.append(
                f"<p>{e(t('{form}: every centre reports its own work; nothing to compare.', lang, form=r.form.id))}</p>"
            )
        else:
            parts.append(f"<h3>{e(r.form.id)}</h3>" + gaps_html(r.gaps, d.names, lang=lang))
    parts.append(f"<h2>{e(t('4. Completeness', lang))}</h2>")
    for r in d.forms:
        parts.append(f"<h3>{e(r.form.id)}</h3>" + completeness_html(r.completeness, lang=lang))
        for u in r.unknown_units:
            parts.append(
                f"<p class='us-warn'>{e(t('not in the tree: {unit} — left out of roll-up, check and completeness', lang, unit=u))}</p>"
            )
    parts.append(f"<h2>{e(t('5. Planted mistakes', lang))}</h2>")
    parts.append(_localised(d.mistakes, lang).to_html(index=False, classes="us-t"))
    if d.outliers is not None:
        parts.append(_outliers_html(d, lang=lang))
    parts.append("</body></html>")
    return "".join(parts)


def _outliers_html(d: DemoResult, limit: int = 20, lang: str = "zh") -> str:
    """Section 6: the outliers of songnuan, their peers' distributions and the roll-up of
    the flagged amount by the province's children, as inline SVG (or a note without
    matplotlib)."""
    from .plots import MISSING, available

    e = html.escape
    o = d.outliers
    sn = d.forms[0]
    root = sn.tree.ids[0]
    intro = t(
        "{n} finding(s) in {units} unit(s) of {form}: robust z-scores among peers (same parent, level and kind), "
        "ratios, and magnitude slips (元 typed into 万元 blanks); best first.",
        lang,
        n=f"{len(o):,}",
        units=f"{len(o.units()):,}",
        form=sn.form.id,
    )
    parts = [
        f"<h2 id='outliers'>{e(t('6. Figures that pass the rules but stand out (outliers)', lang))}</h2>",
        f"<p>{e(intro)}</p>",
    ]
    cols = ["unit", "field", "label", "method", "value", "score", "peer_median", "reason"]
    reason = "reason_en" if lang == "en" else "reason"

    def cell(r: dict[str, Any], c: str) -> str:
        if c == "score":
            return f"{r[c]:.1f}"
        if c == "method":
            return word(r[c], lang)
        value = r[reason] if c == "reason" else r[c]
        return str(value if value is not None else "")

    rows = "".join(
        "<tr>" + "".join(f"<td>{e(cell(r, c))}</td>" for c in cols) + "</tr>"
        for r in o.table.slice(0, limit).to_pylist()
    )
    parts.append(
        "<table class='us-t'><tr>" + "".join(f"<th>{e(t(c, lang))}</th>" for c in cols) + f"</tr>{rows}</table>"
    )
    if not available():
        parts.append(f"<p class='us-muted'>{e(MISSING)}</p>")
        return "".join(parts)
    parts.append(f"<h3>{e(t('The flagged fields among their peers', lang))}</h3><div class='us-plots'>")
    parts.extend(str(svg) for svg in o.plots(4))
    parts.append("</div>")
    # Where the flagged amounts went: the province's roll-up by child, the branch that
    # carries the slip in red.
    top = next((r for r in o.table.to_pylist() if r["method"] == "magnitude"), None)
    code = top["field"].split(",")[0] if top else "05A"
    path = set(sn.tree.path(top["unit"])) if top and top["unit"] in sn.tree else set()
    from .graph import UnknownUnitsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownUnitsWarning)  # told in section 2
        view = sn.tree.rollup_view(sn.reports, sn.form, ignore_inner=True, unit=root, leaves=True)
    parts.append(
        f"<h3>{e(t('{code} rolled up by the children of {root} {name}', lang, code=code, root=root, name=d.names.get(root, '')))}</h3>"
    )
    parts.append(str(view.plot(code, highlight=[c for c in view.children if c in path])))
    return "".join(parts)


def run_demo(
    output: str = "unionstat-demo.html", *, quiet: bool = False, seed: int = 2018, lang: str | None = None
) -> int:
    """Runs the demo: prints the summary (unless ``quiet``) and writes the HTML report,
    both in ``lang`` (default: the forms' language, Chinese). Returns 0: finding the
    planted mistakes is the demo working."""
    d = build_demo(seed)
    Path(output).write_text(demo_html(d, lang), encoding="utf-8")
    d.output = output
    if not quiet:
        print(demo_text(d, lang=lang))
    return 0
