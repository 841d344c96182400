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
    violations["origin"] = ["carried up" if (u, r) in below else "made here" for u, r in zip(violations["unit"], violations["rule"])]
    return violations, res.summary


def _run_form(full: Hierarchy, form: Form, df: pd.DataFrame, tree: Hierarchy, consolidated: bool,
              submitted: Any = None) -> FormResult:
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
    return FormResult(form, tree, period, df, consolidated, violations, summary, totals, gaps, completeness, unknown, messages)


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
        _run_form(full, sn_form, songnuan, full.at(sn_period), consolidated=True,
                  submitted=_submission_times(songnuan, full, seed)[0].tolist()),
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


def _unit_name(names: dict[str, str], unit: str) -> str:
    return f"{unit} {names[unit]}" if unit in names else f"{unit} (not in the tree)"


def _signed(value: Any) -> str:
    return f"{value:+,}" if value else "0"


def demo_text(d: DemoResult, *, messages: int = 6) -> str:
    """The summary a provincial statistician reads first."""
    from .views import fmt_value

    sn = d.forms[0]
    root = sn.tree.ids[0]
    units = sn.tree.to_frame()
    shape = []
    for lv in ("national", "province", "city", "county", "grassroots"):
        at = units[units["level"] == lv]
        if len(at):
            kinds = at.groupby("kind").size()
            detail = f" ({', '.join(f'{n} {k}' for k, n in kinds.items())})" if len(kinds) > 1 else ""
            shape.append(f"{len(at):,} {lv}{detail}")
    out = [
        f"unionstat demo — sample province {root} {d.names.get(root, '')}, 2018 送温暖 campaign (seed {d.seed})",
        f"  tree: {len(sn.tree):,} unions in {sn.period}: " + " · ".join(shape),
    ]
    for r in d.forms:
        out.append(f"  {r.form.id} {r.form.title}: {len(r.reports):,} reports for period {r.period}")

    out += ["", "1. Which units have errors"]
    for r in d.forms:
        v = r.violations
        err = v[v["severity"] == "error"]
        warn_only = set(v.loc[v["severity"] == "warning", "unit"]) - set(err["unit"])
        carried = v[v["origin"] == "carried up"]
        made = v[v["origin"] == "made here"]
        out.append(
            f"{r.form.id}: {len(r.reports):,} reports × {len(r.form.rules)} rules → {err['unit'].nunique()} unit(s) with "
            f"errors, {len(warn_only)} more with warnings only"
            + (f"; {carried['unit'].nunique()} of them only pass up a mistake made below" if len(carried) else "")
        )
        if not len(v):
            continue
        by_sev = v.groupby("severity").agg(violations=("rule", "size"), units=("unit", "nunique"))
        out += _table(["severity", "violations", "units"],
                      [[s, str(int(x.violations)), str(int(x.units))] for s, x in by_sev.iterrows()], right={1, 2})
        top = v.groupby("rule").size().sort_values(ascending=False, kind="stable").head(5)
        out.append("  top rules: " + ", ".join(f"{rule} ({n})" for rule, n in top.items()))
        made = made.sort_values(["severity", "unit"], kind="stable")
        out.append("  where the mistakes were made:")
        for x in made.head(messages).itertuples():
            out.append(f"    {_unit_name(d.names, x.unit)} [{x.severity}] {x.message}")
        if len(made) > messages:
            out.append(f"    … and {len(made) - messages} more")
        for rule, grp in carried.groupby("rule", sort=False):
            upward = sorted(grp["unit"], key=lambda u: -len(r.tree.path(u)))
            out.append(f"  {rule} carried up by the consolidated reports (汇总) of "
                       + " → ".join(_unit_name(d.names, u) for u in upward))

    out += ["", f"2. Province totals ({root} {d.names.get(root, '')})"]
    for r in d.forms:
        how = "rolled up from the lowest reports" if r.consolidated else "rolled up from every centre's own report"
        out.append(f"{r.form.id} ({how}):")
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
        headers = ["code", "field", "computed", "unit"] + (["reported", "difference"] if reported is not None else [])
        out += _table(headers, rows, right={2, 4, 5})
        if r.warnings:  # the same units are left out of the check and completeness too
            out.append(f"  warning: {r.warnings[0]}")

    out += ["", "3. Gaps between reported and computed (consolidated reports against their units)"]
    for r in d.forms:
        if r.gaps is None:
            out.append(f"{r.form.id}: every centre reports its own work; nothing to compare")
            continue
        g = r.gaps
        out.append(f"{r.form.id}: {len(g)} imbalance(s) (unit × field)")
        rows = [
            [x.unit, d.names.get(x.unit, ""), x.field, fmt_value(x.reported), fmt_value(x.computed),
             _signed(x.difference), _signed(x.gap),
             " → ".join([*x.trace[:-1], _unit_name(d.names, x.trace[-1])]) if len(x.trace) > 1 else "introduced here"]
            for x in g.itertuples()
        ]
        if rows:
            out += _table(["unit", "name", "field", "reported", "computed", "difference", "gap", "traced path"], rows,
                          right={3, 4, 5, 6})

    out += ["", "4. Completeness"]
    for r in d.forms:
        c = r.completeness
        out.append(f"{r.form.id} ({c.period}): {c.reported:,} of {c.expected:,} units reported ({c.rate:.1%})")
        out += _table(["level", "expected", "reported", "missing", "rate"],
                      [[x.level, f"{x.expected:,}", f"{x.reported:,}", f"{x.missing:,}", f"{x.rate:.1%}"]
                       for x in c.by_level.itertuples()], right={1, 2, 3, 4})
        if c.timed:
            late = c.late
            out.append(f"  deadline {c.deadline}: {c.on_time:,} on time, {len(late):,} late, {len(c.missing):,} missing")
            out += _table(["level", "on time", "late", "on-time rate"],
                          [[x.level, f"{x.on_time:,}", f"{x.late:,}", f"{x.on_time_rate:.1%}"]
                           for x in c.by_level.itertuples()], right={1, 2, 3})
            for x in late.head(10).itertuples():
                out.append(f"  reported late: {x.unit} {x.name} ({x.level}) on {x.submitted:%Y-%m-%d %H:%M}, "
                           f"{x.late_by.days} day(s) {x.late_by.seconds // 3600} h after the deadline")
        for x in c.missing.head(10).itertuples():
            out.append(f"  not reported: {x.unit} {x.name} ({x.level}, under {_unit_name(d.names, x.parent)})")
        for u in r.unknown_units:
            out.append(f"  not in the tree: {u} — its report is left out of roll-up, check and completeness")

    m = d.mistakes
    out += ["", f"5. Planted mistakes: {int(m['found'].sum())} of {len(m)} found"]
    for x in m.itertuples():
        mark = "✓" if x.found else "✗"
        out.append(f"  {mark} {x.form:13} {x.found_by:12} {_unit_name(d.names, x.unit)}: {x.what}")
    if d.outliers is not None:
        o = d.outliers
        out += ["", f"6. Figures that pass the rules but stand out among their peers: {len(o):,} in "
                    f"{len(o.units()):,} unit(s) of songnuan"]
        for x in o.table.slice(0, messages).to_pylist():
            out.append(f"  {_unit_name(d.names, x['unit'])} [{x['method']} {x['score']:.1f}] {x['reason']}")
    if d.output:
        out += ["", f"wrote {d.output} ({d.seconds:.1f} s)"]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------


def demo_html(d: DemoResult) -> str:
    """The demo's findings as one self-contained HTML page."""
    from .views import _CSS, completeness_html, fmt_value, gaps_html

    e = html.escape
    sn = d.forms[0]
    root = sn.tree.ids[0]
    parts = [
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>unionstat demo — {e(d.names.get(root, root))}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}h2{border-bottom:1px solid #ccc}</style>",
        _CSS, "</head><body>",
        f"<h1>unionstat demo — {e(root)} {e(d.names.get(root, ''))}, 2018 送温暖 campaign</h1>",
        f"<p class='us-muted'>sample province generated with seed {d.seed}; {len(sn.tree):,} unions in {e(sn.period)}</p>",
        "<ul>" + "".join(f"<li>{e(r.form.id)} {e(r.form.title)}: {len(r.reports):,} reports for period {e(r.period)}</li>"
                         for r in d.forms) + "</ul>",
        "<h2>1. Which units have errors</h2>",
    ]
    for r in d.forms:
        v = r.violations
        parts.append(f"<h3>{e(r.form.id)}: {v['unit'].nunique()} unit(s) with errors or warnings</h3>")
        if len(v):
            by_sev = v.groupby("severity").agg(violations=("rule", "size"), units=("unit", "nunique")).reset_index()
            parts.append(by_sev.to_html(index=False, classes="us-t"))
            cols = ["unit", "name", "level", "rule", "severity", "origin", "lhs", "rhs", "message"]
            rows = "".join(
                f"<tr class='{'us-fail' if x.severity == 'error' else 'us-warn'}'>"
                + "".join(f"<td>{e(str(getattr(x, c)))}</td>" for c in cols) + "</tr>"
                for x in v.itertuples()
            )
            parts.append("<table class='us-t'><tr>" + "".join(f"<th>{c}</th>" for c in cols) + f"</tr>{rows}</table>")
        failing = r.summary[(r.summary["fails"] > 0) | (r.summary["errors"] > 0)]
        parts.append("<p class='us-muted'>rules that failed somewhere</p>"
                     + failing[["rule", "severity", "check", "items", "passes", "fails", "skipped"]].to_html(index=False, classes="us-t"))
    parts.append(f"<h2>2. Province totals ({e(root)} {e(d.names.get(root, ''))})</h2>")
    for r in d.forms:
        reported = r.reports.set_index("unit").loc[root] if r.consolidated and root in set(r.reports["unit"]) else None
        cells = []
        for code, label, measure in _key_fields(r.form):
            computed = r.totals.loc[root, code]
            extra = f"<td>{e(fmt_value(reported[code]))}</td>" if reported is not None else ""
            cells.append(f"<tr><td>{e(code)}</td><td>{e(label)}</td><td>{e(fmt_value(computed))}</td><td>{e(measure)}</td>{extra}</tr>")
        head = "<th>code</th><th>field</th><th>computed</th><th>unit</th>" + ("<th>reported</th>" if reported is not None else "")
        parts.append(f"<h3>{e(r.form.id)}</h3><table class='us-t'><tr>{head}</tr>{''.join(cells)}</table>")
        for message in r.warnings:
            parts.append(f"<p class='us-warn'>warning: {e(message)}</p>")
    parts.append("<h2>3. Gaps between reported and computed</h2>")
    for r in d.forms:
        if r.gaps is None:
            parts.append(f"<p>{e(r.form.id)}: every centre reports its own work; nothing to compare.</p>")
        else:
            parts.append(f"<h3>{e(r.form.id)}</h3>" + gaps_html(r.gaps, d.names))
    parts.append("<h2>4. Completeness</h2>")
    for r in d.forms:
        parts.append(f"<h3>{e(r.form.id)}</h3>" + completeness_html(r.completeness))
        for u in r.unknown_units:
            parts.append(f"<p class='us-warn'>not in the tree: {e(u)} — left out of roll-up, check and completeness</p>")
    parts.append("<h2>5. Planted mistakes</h2>")
    parts.append(d.mistakes.to_html(index=False, classes="us-t"))
    if d.outliers is not None:
        parts.append(_outliers_html(d))
    parts.append("</body></html>")
    return "".join(parts)


def _outliers_html(d: DemoResult, limit: int = 20) -> str:
    """Section 6: the outliers of songnuan, their peers' distributions and the roll-up of
    the flagged amount by the province's children, as inline SVG (or a note without
    matplotlib)."""
    from .plots import MISSING, available

    e = html.escape
    o = d.outliers
    sn = d.forms[0]
    root = sn.tree.ids[0]
    parts = ["<h2 id='outliers'>6. Figures that pass the rules but stand out (outliers)</h2>",
             f"<p>{len(o):,} finding(s) in {len(o.units()):,} unit(s) of {e(sn.form.id)}: robust z-scores among peers "
             "(same parent, level and kind), ratios, and magnitude slips (元 typed into 万元 blanks); best first.</p>"]
    cols = ["unit", "field", "label", "method", "value", "score", "peer_median", "reason"]
    rows = "".join(
        "<tr>" + "".join(f"<td>{e(f'{r[c]:.1f}' if c == 'score' else str(r[c] if r[c] is not None else ''))}</td>"
                         for c in cols) + "</tr>"
        for r in o.table.slice(0, limit).to_pylist()
    )
    parts.append("<table class='us-t'><tr>" + "".join(f"<th>{c}</th>" for c in cols) + f"</tr>{rows}</table>")
    if not available():
        parts.append(f"<p class='us-muted'>{e(MISSING)}</p>")
        return "".join(parts)
    parts.append("<h3>The flagged fields among their peers</h3><div class='us-plots'>")
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
    parts.append(f"<h3>{e(code)} rolled up by the children of {e(root)} {e(d.names.get(root, ''))}</h3>")
    parts.append(str(view.plot(code, highlight=[c for c in view.children if c in path])))
    return "".join(parts)


def run_demo(output: str = "unionstat-demo.html", *, quiet: bool = False, seed: int = 2018) -> int:
    """Runs the demo: prints the summary (unless ``quiet``) and writes the HTML report.
    Returns 0: finding the planted mistakes is the demo working."""
    d = build_demo(seed)
    Path(output).write_text(demo_html(d), encoding="utf-8")
    d.output = output
    if not quiet:
        print(demo_text(d))
    return 0
