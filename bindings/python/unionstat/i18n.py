"""The words of the documents in the reader's language: the headings, column names and
summaries of the HTML report, the command line's tables and the Jupyter views, in Chinese
(``zh``) or English (``en``) — every one of them in the single table :data:`TEXTS`, so
that a provincial office can forward a report as it is and a translation is fixed in one
place.

The language of a document is, in this order: the one asked for (``lang=``, ``--lang``),
the one chosen for the session with :func:`set_lang` (Jupyter), the language of the form
it shows (:func:`lang_of`: Chinese for every bundled form), else Chinese.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import InputError

__all__ = ["LANGS", "TEXTS", "get_lang", "lang_of", "resolve", "set_lang", "t", "word", "words"]

#: The languages of the documents.
LANGS = ("zh", "en")

#: key → (English, Chinese). The key is the English text as the documents printed it
#: before they were translated (so ``en`` output is unchanged); where one English word
#: has two meanings in Chinese the key says which (``measure``: a unit of measure, 计量单位,
#: beside ``unit``, a union, 单位). ``{name}`` fields are filled by :func:`t`; both texts
#: of a key have the same fields (tests/python/test_i18n.py checks it).
TEXTS: dict[str, tuple[str, str]] = {
    # --- column names ---------------------------------------------------------------
    "unit": ("unit", "单位"),
    "name": ("name", "名称"),
    "level": ("level", "层级"),
    "kind": ("kind", "类别"),
    "parent": ("parent", "上级单位"),
    "code": ("code", "代码"),
    "field": ("field", "指标"),
    "fields": ("fields", "指标"),
    "label": ("label", "内容"),
    "measure": ("unit", "计量单位"),
    "value": ("value", "数值"),
    "row": ("row", "行"),
    "letter": ("item", "项"),
    "problems": ("problems", "问题"),
    "concept": ("concept", "概念键"),
    "period": ("period", "报告期"),
    "rule": ("rule", "规则"),
    "severity": ("severity", "严重程度"),
    "check": ("check", "检查内容"),
    "items": ("items", "检查数"),
    "passes": ("passes", "通过"),
    "fails": ("fails", "未通过"),
    "skipped": ("skipped", "跳过"),
    "errors": ("errors", "计算出错"),
    "violations": ("violations", "违规数"),
    "units": ("units", "单位数"),
    "origin": ("origin", "出处"),
    "lhs": ("lhs", "左式值"),
    "rhs": ("rhs", "右式值"),
    "message": ("message", "说明"),
    "reported": ("reported", "上报数"),
    "computed": ("computed", "汇总数"),
    "difference": ("difference", "差额"),
    "tolerance": ("tolerance", "容差"),
    "gap": ("gap", "缺口"),
    "traced path": ("traced path", "追溯路径"),
    "expected": ("expected", "应报"),
    "reported units": ("reported", "已报"),
    "missing": ("missing", "未报"),
    "rate": ("rate", "报送率"),
    "on_time": ("on time", "按时"),
    "late": ("late", "逾期"),
    "no_time": ("no time", "无报送时间"),
    "on_time_rate": ("on-time rate", "按时率"),
    "submitted": ("submitted", "报送时间"),
    "late_by": ("late by", "逾期时长"),
    "method": ("method", "方法"),
    "score": ("score", "得分"),
    "peer_median": ("peer_median", "同级中位数"),
    "peers' median": ("peers' median", "同级中位数"),
    "reason": ("reason", "原因"),
    "what": ("what", "错误内容"),
    "found_by": ("found_by", "发现环节"),
    "found": ("found", "已发现"),
    "form": ("form", "报表"),
    "units below": ("units below", "下属单位数"),
    "all": ("all", "合计"),
    "suggested": ("suggested", "建议值"),
    "weight": ("weight", "权重"),
    "ties": ("ties", "并列"),
    "status": ("status", "状态"),
    "{unit} total": ("{unit} total", "{unit} 合计"),
    # --- values the documents print as words (keys "=value": see word()) -------------
    "=error": ("error", "错误"),
    "=warning": ("warning", "警告"),
    "=made here": ("made here", "本级产生"),
    "=carried up": ("carried up", "下级带入"),
    "=national": ("national", "全国"),
    "=province": ("province", "省级"),
    "=city": ("city", "市级"),
    "=county": ("county", "县级"),
    "=grassroots": ("grassroots", "基层"),
    "=regional": ("regional", "地方工会"),
    "=industry": ("industry", "产业工会"),
    "=direct": ("direct", "直属工会"),
    "=enterprise": ("enterprise", "企业工会"),
    "=robust_z": ("robust_z", "稳健Z分数"),
    "=ratio_z": ("ratio_z", "比率Z分数"),
    "=hb": ("hb", "环比变动"),
    "=magnitude": ("magnitude", "数量级错位"),
    "=validate": ("validate", "校验"),
    "=completeness": ("completeness", "报送完整性"),
    "=timeliness": ("timeliness", "报送及时性"),
    "=outliers": ("outliers", "异常值"),
    "=rollup": ("rollup", "汇总"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "(none)": ("(none)", "（无）"),
    "(any)": ("(any)", "（任意）"),
    "(not in tree)": ("(not in tree)", "（不在组织树中）"),
    "=check": ("check", "核对"),
    "=on time": ("on time", "按时"),
    "=late": ("late", "逾期"),
    "=no time": ("no time", "无报送时间"),
    "=infeasible": ("infeasible", "互相矛盾"),
    "=redundant": ("redundant", "冗余"),
    "=fixed": ("fixed", "取值固定"),
    "=bound": ("bound", "取值界限"),
    "=True": ("True", "是"),
    "=False": ("False", "否"),
    # --- views: forms and reports ----------------------------------------------------
    "seed {seed} · period {period} · {n} blanks": (
        "seed {seed} · period {period} · {n} blanks",
        "来源 {seed} · 报告期 {period} · {n} 个填报项",
    ),
    "printed: {text}": ("printed: {text}", "印刷原文：{text}"),
    "note: {text}": ("note: {text}", "说明：{text}"),
    "seed {seed} · {n} blanks": ("seed {seed} · {n} blanks", "来源 {seed} · {n} 个填报项"),
    "quirks kept as printed ({n})": ("quirks kept as printed ({n})", "印刷原样保留之处（{n}）"),
    "✓ ok": ("✓ ok", "✓ 通过"),
    "✗ errors": ("✗ errors", "✗ 有错误"),
    "{title} · {n} violation(s) ({errors} error(s)), {skipped} rule(s) skipped for blanks, {rules} rules": (
        "{title} · {n} violation(s) ({errors} error(s)), {skipped} rule(s) skipped for blanks, {rules} rules",
        "{title} · {n} 处违规（{errors} 处错误），{skipped} 条规则因空项跳过，共 {rules} 条规则",
    ),
    "{n} violation(s) in {units} unit(s); {failing} of {rules} rules failed somewhere": (
        "{n} violation(s) in {units} unit(s); {failing} of {rules} rules failed somewhere",
        "{units} 个单位共 {n} 处违规；{rules} 条规则中有 {failing} 条未通过",
    ),
    # --- views: trees, roll-ups, gaps, completeness ----------------------------------
    "Hierarchy: {n} units · {roots} {heads}": (
        "Hierarchy: {n} units · {roots} {heads}",
        "组织树：{n} 个单位 · {roots} {heads}",
    ),
    "root": ("root", "根单位"),
    "roots": ("roots", "根单位"),
    "units by level and kind": ("units by level and kind", "各层级、各类别单位数"),
    "one step below the root": ("one step below the root", "根单位的直属下级"),
    "{days} day(s) {hours}:{minutes}": ("{days} day(s) {hours}:{minutes}", "{days} 天 {hours}:{minutes}"),
    "… and {n} more": ("… and {n} more", "…… 另有 {n} 项"),
    "Roll-up of {form}: {unit} {name} — {n} report(s) counted": (
        "Roll-up of {form}: {unit} {name} — {n} report(s) counted",
        "{form} 汇总：{unit} {name} — 计入 {n} 份报表",
    ),
    "{n} more children not shown": ("{n} more children not shown", "另有 {n} 个下级单位未列出"),
    "{n} report(s) from units not in the tree left out: {units}": (
        "{n} report(s) from units not in the tree left out: {units}",
        "{n} 份报表的填报单位不在组织树中，未计入：{units}",
    ),
    "{n} imbalance(s) between reported and computed totals": (
        "{n} imbalance(s) between reported and computed totals",
        "上报数与汇总数不符 {n} 处",
    ),
    "introduced here": ("introduced here", "本级产生"),
    "{reported} of {expected} units reported ({rate}) for period {period}": (
        "{reported} of {expected} units reported ({rate}) for period {period}",
        "报告期 {period}：应报 {expected} 个单位，已报 {reported} 个（{rate}）",
    ),
    "by level": ("by level", "按层级"),
    "by kind": ("by kind", "按类别"),
    "deadline {deadline}: {on_time} on time, {late} late, {missing} missing": (
        "deadline {deadline}: {on_time} on time, {late} late, {missing} missing",
        "截止日期 {deadline}：按时 {on_time} 个，逾期 {late} 个，未报 {missing} 个",
    ),
    "cumulative reporting curve": ("cumulative reporting curve", "累计报送进度"),
    "reported late ({n})": ("reported late ({n})", "逾期报送（{n}）"),
    "not reported ({n})": ("not reported ({n})", "未报送（{n}）"),
    "plots need matplotlib: pip install unionstat[plot]": (
        "plots need matplotlib: pip install unionstat[plot]",
        "图需要 matplotlib：pip install unionstat[plot]",
    ),
    "<OutlierResult {form}: {n} finding(s) in {units} unit(s) of {reports} reports>": (
        "<OutlierResult {form}: {n} finding(s) in {units} unit(s) of {reports} reports>",
        "{form} 异常值：{reports} 份报表中 {units} 个单位共 {n} 项",
    ),
    "… and {n} more (.table for all)": ("… and {n} more (.table for all)", "…… 另有 {n} 项（全部见 .table）"),
    # --- the demo --------------------------------------------------------------------
    "unionstat demo — sample province {root} {name}, 2018 送温暖 campaign (seed {seed})": (
        "unionstat demo — sample province {root} {name}, 2018 送温暖 campaign (seed {seed})",
        "unionstat 演示 — 样例省 {root} {name}，2018 年送温暖活动（随机种子 {seed}）",
    ),
    "unionstat demo — {root} {name}, 2018 送温暖 campaign": (
        "unionstat demo — {root} {name}, 2018 送温暖 campaign",
        "unionstat 演示 — {root} {name}，2018 年送温暖活动",
    ),
    "unionstat demo — {name}": ("unionstat demo — {name}", "unionstat 演示 — {name}"),
    "sample province generated with seed {seed}; {n} unions in {period}": (
        "sample province generated with seed {seed}; {n} unions in {period}",
        "样例省由随机种子 {seed} 生成；{period} 年共 {n} 个工会",
    ),
    "tree: {n} unions in {period}: ": ("tree: {n} unions in {period}: ", "组织树：{period} 年共 {n} 个工会："),
    "{n} {level}": ("{n} {level}", "{level} {n} 个"),
    "{n} {kind}": ("{n} {kind}", "{kind} {n} 个"),
    "{form} {title}: {n} reports for period {period}": (
        "{form} {title}: {n} reports for period {period}",
        "{form} {title}：报告期 {period} 共 {n} 份报表",
    ),
    "1. Which units have errors": ("1. Which units have errors", "1. 哪些单位有错误"),
    "{form}: {n} reports × {rules} rules → {errors} unit(s) with errors, {warnings} more with warnings only": (
        "{form}: {n} reports × {rules} rules → {errors} unit(s) with errors, {warnings} more with warnings only",
        "{form}：{n} 份报表 × {rules} 条规则 → {errors} 个单位有错误，另有 {warnings} 个单位只有警告",
    ),
    "; {n} of them only pass up a mistake made below": (
        "; {n} of them only pass up a mistake made below",
        "；其中 {n} 个单位只是带上了下级的错误",
    ),
    "  top rules: ": ("  top rules: ", "  违规最多的规则："),
    "  where the mistakes were made:": ("  where the mistakes were made:", "  错误产生之处："),
    "    … and {n} more": ("    … and {n} more", "    …… 另有 {n} 处"),
    "  {rule} carried up by the consolidated reports (汇总) of ": (
        "  {rule} carried up by the consolidated reports (汇总) of ",
        "  {rule} 经以下单位的汇总报表逐级带上：",
    ),
    "{form}: {n} unit(s) with errors or warnings": (
        "{form}: {n} unit(s) with errors or warnings",
        "{form}：{n} 个单位有错误或警告",
    ),
    "rules that failed somewhere": ("rules that failed somewhere", "未通过的规则"),
    "2. Province totals ({root} {name})": ("2. Province totals ({root} {name})", "2. 全省合计（{root} {name}）"),
    "rolled up from the lowest reports": ("rolled up from the lowest reports", "由最基层报表汇总"),
    "rolled up from every centre's own report": (
        "rolled up from every centre's own report",
        "由各帮扶中心本级报表汇总",
    ),
    "{form} ({how}):": ("{form} ({how}):", "{form}（{how}）："),
    "  warning: {message}": ("  warning: {message}", "  警告：{message}"),
    "warning: {message}": ("warning: {message}", "警告：{message}"),
    "{n} unit(s) not in the tree were left out of the roll-up: {units}": (
        "{n} unit(s) not in the tree were left out of the roll-up: {units}",
        "{n} 个不在组织树中的单位未计入汇总：{units}",
    ),
    "3. Gaps between reported and computed (consolidated reports against their units)": (
        "3. Gaps between reported and computed (consolidated reports against their units)",
        "3. 上报数与汇总数之差（汇总报表与其下级单位比对）",
    ),
    "3. Gaps between reported and computed": ("3. Gaps between reported and computed", "3. 上报数与汇总数之差"),
    "{form}: every centre reports its own work; nothing to compare": (
        "{form}: every centre reports its own work; nothing to compare",
        "{form}：各帮扶中心只报本级工作，无需比对",
    ),
    "{form}: every centre reports its own work; nothing to compare.": (
        "{form}: every centre reports its own work; nothing to compare.",
        "{form}：各帮扶中心只报本级工作，无需比对。",
    ),
    "{form}: {n} imbalance(s) (unit × field)": (
        "{form}: {n} imbalance(s) (unit × field)",
        "{form}：{n} 处不符（单位 × 指标）",
    ),
    "4. Completeness": ("4. Completeness", "4. 报送完整性"),
    "{form} ({period}): {reported} of {expected} units reported ({rate})": (
        "{form} ({period}): {reported} of {expected} units reported ({rate})",
        "{form}（{period}）：应报 {expected} 个单位，已报 {reported} 个（{rate}）",
    ),
    "  deadline {deadline}: {on_time} on time, {late} late, {missing} missing": (
        "  deadline {deadline}: {on_time} on time, {late} late, {missing} missing",
        "  截止日期 {deadline}：按时 {on_time} 个，逾期 {late} 个，未报 {missing} 个",
    ),
    "  reported late: {unit} {name} ({level}) on {submitted}, {days} day(s) {hours} h after the deadline": (
        "  reported late: {unit} {name} ({level}) on {submitted}, {days} day(s) {hours} h after the deadline",
        "  逾期报送：{unit} {name}（{level}）于 {submitted} 报送，晚于截止日期 {days} 天 {hours} 小时",
    ),
    "  not reported: {unit} {name} ({level}, under {parent})": (
        "  not reported: {unit} {name} ({level}, under {parent})",
        "  未报送：{unit} {name}（{level}，上级 {parent}）",
    ),
    "  not in the tree: {unit} — its report is left out of roll-up, check and completeness": (
        "  not in the tree: {unit} — its report is left out of roll-up, check and completeness",
        "  不在组织树中：{unit} — 其报表未计入汇总、核对和完整性统计",
    ),
    "not in the tree: {unit} — left out of roll-up, check and completeness": (
        "not in the tree: {unit} — left out of roll-up, check and completeness",
        "不在组织树中：{unit} — 未计入汇总、核对和完整性统计",
    ),
    "{unit} (not in the tree)": ("{unit} (not in the tree)", "{unit}（不在组织树中）"),
    "5. Planted mistakes: {found} of {n} found": (
        "5. Planted mistakes: {found} of {n} found",
        "5. 预设错误：{n} 处中发现 {found} 处",
    ),
    "5. Planted mistakes": ("5. Planted mistakes", "5. 预设错误"),
    "6. Figures that pass the rules but stand out among their peers: {n} in {units} unit(s) of songnuan": (
        "6. Figures that pass the rules but stand out among their peers: {n} in {units} unit(s) of songnuan",
        "6. 通过规则校验但在同级单位中明显异常的数字：送温暖表 {units} 个单位共 {n} 项",
    ),
    "6. Figures that pass the rules but stand out (outliers)": (
        "6. Figures that pass the rules but stand out (outliers)",
        "6. 通过规则校验但明显异常的数字（异常值）",
    ),
    "{n} finding(s) in {units} unit(s) of {form}: robust z-scores among peers (same parent, level and kind), ratios, "
    "and magnitude slips (元 typed into 万元 blanks); best first.": (
        "{n} finding(s) in {units} unit(s) of {form}: robust z-scores among peers (same parent, level and kind), "
        "ratios, and magnitude slips (元 typed into 万元 blanks); best first.",
        "{form} 中 {units} 个单位共 {n} 项：同级单位（同一上级、层级和类别）中的稳健Z分数、比率，以及数量级错位"
        "（把元填进了万元栏）；按可疑程度排序。",
    ),
    "The flagged fields among their peers": ("The flagged fields among their peers", "异常指标在同级单位中的分布"),
    "{code} rolled up by the children of {root} {name}": (
        "{code} rolled up by the children of {root} {name}",
        "{code} 按 {root} {name} 的下级单位汇总",
    ),
    "wrote {output} ({seconds} s)": ("wrote {output} ({seconds} s)", "已写出 {output}（{seconds} 秒）"),
    # --- the command line's tables ---------------------------------------------------
    "{n} reports, {violations} violations ({errors} errors)": (
        "{n} reports, {violations} violations ({errors} errors)",
        "{n} 份报表，{violations} 处违规（{errors} 处错误）",
    ),
    "  row {row} unit {unit}: [{severity}] {rule}: {message}": (
        "  row {row} unit {unit}: [{severity}] {rule}: {message}",
        "  第 {row} 行 单位 {unit}：[{severity}] {rule}：{message}",
    ),
    "  … and {n} more (--limit, or --format csv for all)": (
        "  … and {n} more (--limit, or --format csv for all)",
        "  …… 另有 {n} 项（--limit，或 --format csv 列出全部）",
    ),
    "  … and {n} more reports (--limit, or --format csv for all)": (
        "  … and {n} more reports (--limit, or --format csv for all)",
        "  …… 另有 {n} 份报表（--limit，或 --format csv 列出全部）",
    ),
    "{form} period {period}: {unit} {name} — {n} report(s) counted": (
        "{form} period {period}: {unit} {name} — {n} report(s) counted",
        "{form} 报告期 {period}：{unit} {name} — 计入 {n} 份报表",
    ),
    "{form} period {period}: {n} imbalance(s) (unit × field)": (
        "{form} period {period}: {n} imbalance(s) (unit × field)",
        "{form} 报告期 {period}：{n} 处不符（单位 × 指标）",
    ),
    "{form} period {period}: {reported} of {expected} units reported ({rate})": (
        "{form} period {period}: {reported} of {expected} units reported ({rate})",
        "{form} 报告期 {period}：应报 {expected} 个单位，已报 {reported} 个（{rate}）",
    ),
    "deadline {deadline}: {on_time} on time, {late} late, {missing} missing (cli)": (
        "deadline {deadline}: {on_time} on time, {late} late, {missing} missing",
        "截止日期 {deadline}：按时 {on_time} 个，逾期 {late} 个，未报 {missing} 个",
    ),
    "(none: the form prints none; --deadline)": (
        "(none: the form prints none; --deadline)",
        "（无：报表未印截止日期；可用 --deadline）",
    ),
    "deadline {deadline}: submission times not known (a submitted column, or the 日期 cell of filled templates)": (
        "deadline {deadline}: submission times not known (a submitted column, or the 日期 cell of filled templates)",
        "截止日期 {deadline}：不知道报送时间（需 submitted 列，或已填模板的日期单元格）",
    ),
    "reported late ({n}):": ("reported late ({n}):", "逾期报送（{n}）："),
    "not reported ({n}):": ("not reported ({n}):", "未报送（{n}）："),
    "{form} period {period}: {n} outlier(s) in {units} unit(s) of {reports} reports ({peers}{previous})": (
        "{form} period {period}: {n} outlier(s) in {units} unit(s) of {reports} reports ({peers}{previous})",
        "{form} 报告期 {period}：{reports} 份报表中 {units} 个单位共 {n} 个异常值（{peers}{previous}）",
    ),
    "peers from {tree}": ("peers from {tree}", "同级单位取自 {tree}"),
    "all reports as peers": ("all reports as peers", "全部报表互为同级"),
    ", previous period from {file}": (", previous period from {file}", "，上期数据取自 {file}"),
    "{n} reports, {failing} failing an error rule; the fields to change (least weight) and values with which every "
    "error rule passes:": (
        "{n} reports, {failing} failing an error rule; the fields to change (least weight) and values with which "
        "every error rule passes:",
        "{n} 份报表，{failing} 份未通过错误级规则；应修改的指标（权重最小）及使所有错误级规则通过的值：",
    ),
    "unverified": ("unverified", "未验证"),
    "{form}: {rules} rules; {kinds} (for complete reports)": (
        "{form}: {rules} rules; {kinds} (for complete reports)",
        "{form}：{rules} 条规则；{kinds}（就完整报表而言）",
    ),
    "no findings": ("no findings", "无发现"),
    "  not analysed (not linear): {rules}": ("  not analysed (not linear): {rules}", "  未分析（非线性）：{rules}"),
}

_chosen: str | None = None
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _check(lang: str) -> str:
    if lang not in LANGS:
        raise InputError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def set_lang(lang: str | None) -> None:
    """The language of the documents for this session (Jupyter's views, and every call
    that does not ask for one); ``None`` goes back to each form's own language."""
    global _chosen
    _chosen = None if lang is None else _check(lang)


def get_lang() -> str | None:
    """The language chosen with :func:`set_lang`, or None."""
    return _chosen


def lang_of(form: Any) -> str:
    """A form's own language: Chinese when its title is written in Chinese characters
    (every bundled form), else English."""
    schema = getattr(form, "schema", form)
    title = str(getattr(schema, "title", "") or "")
    return "zh" if _CJK.search(title) or not title else "en"


def resolve(lang: str | None = None, form: Any = None) -> str:
    """The language of a document: ``lang`` when given, else the session's
    (:func:`set_lang`), else the form's (:func:`lang_of`), else Chinese."""
    if lang is not None:
        return _check(lang)
    if _chosen is not None:
        return _chosen
    return lang_of(form) if form is not None else "zh"


def t(key: str, lang: str, **fields: Any) -> str:
    """The text of ``key`` in ``lang``, its ``{fields}`` filled. An unknown key is a bug
    of the package (a KeyError), never a silent English fallback."""
    en, zh = TEXTS[key]
    text = en if lang == "en" else zh
    return text.format(**fields) if fields else text


def word(value: Any, lang: str) -> str:
    """A value that the documents print as a word (a level, a kind, a severity, a
    method: the keys ``"=value"`` of :data:`TEXTS`) in ``lang``; any other value — data —
    as it is."""
    text = str(value)
    key = "=" + text
    return t(key, lang) if key in TEXTS else text


def words(keys: list[str], lang: str) -> list[str]:
    """Column names in ``lang`` (see :data:`TEXTS`)."""
    return [t(k, lang) for k in keys]
