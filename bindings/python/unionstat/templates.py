"""A form as an Excel template in its paper layout, for a county clerk to fill.

``template(form, path)`` writes the printed title, the 填报单位/填报人/联系电话/日期
lines, the 说明 lines where the paper has them, then one line per blank — row number,
letter, label, the blank, its unit and its code — and the 注 lines; every blank is an
unlocked cell with Excel data validation (whole numbers ≥ 0 for counts, at most the
field's decimals for money, a 是/否 list for flags) and an input hint in Chinese; the
labels are locked (sheet protection without a password). The page is A4 portrait,
fitted to the width. Each blank carries the defined name ``f_`` + its code, the key cells
``unit``, ``period``, ``date``, ``reporter``, ``phone`` (see :mod:`unionstat.filled` and
``docs/templates.md``), so that other software can fill and read it by name.

With ``units``, one sheet per unit (sheet name = unit id, the unit pre-filled, names
scoped to the sheet) and a cover sheet listing them. Written with XlsxWriter.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from .errors import InputError
from .filled import CODE_COLUMN_OFFSET, FIELD_PREFIX, TEMPLATE_VERSION, fields_fingerprint
from .forms import Form, forms
from .io import strip_id
from .views import _blank_text, _notes_after, _row_heading_shown, _rows, _width

__all__ = ["read_units", "template"]

UnitsLike = Union[str, "os.PathLike[str]", Sequence[Any], Mapping[str, str], Any]

#: Column widths (characters) of 行次, 项, 指标, 数值, 单位, 代码: about 100 characters, which
#: fit an A4 portrait page at 10.5 pt (the page is also set to fit its width).
_WIDTHS = (5, 4, 54, 16, 7, 9)
_LABEL_WIDTH = _WIDTHS[2]
_FONT = {"zh": "宋体", "en": "Arial"}
_BAD_SHEET_CHARS = set("[]:*?/\\")


def read_units(units: UnitsLike) -> list[tuple[str, str]]:
    """Units as (id, name) pairs from a CSV file (columns ``id`` or ``unit`` or ``单位代码``,
    and optionally ``name`` or ``单位名称``: a tree's units file will do), a list of ids or
    of (id, name) pairs, a mapping id → name or a DataFrame. Checks each id can be a sheet
    name and none is given twice."""
    pairs: list[tuple[str, str, str]] = []  # id, name, where
    if isinstance(units, (str, os.PathLike)):
        p = Path(units)
        if not p.is_file():
            raise InputError(f"{p}: no such units file", file=str(p))
        raw = p.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        # Lines starting with # are comments (as in the bundled trees); line numbers stay the file's.
        numbered = [(i, line) for i, line in enumerate(text.splitlines(), 1) if not line.lstrip().startswith("#")]
        rows = list(csv.reader(line for _i, line in numbered))
        if not rows:
            raise InputError(f"{p}: an empty units file", file=str(p))
        lines = [i for i, _line in numbered]
        header = [h.strip().lower() for h in rows[0]]
        idcol = next((header.index(h) for h in ("id", "unit", "单位代码", "代码") if h in header), -1)
        namecol = next((header.index(h) for h in ("name", "单位名称", "名称") if h in header), -1)
        if idcol < 0:
            raise InputError(
                f"{p}:{lines[0]}: the units file has no id column (id, unit or 单位代码); header: {', '.join(rows[0])}",
                file=str(p),
                line=lines[0],
            )
        for i, row in zip(lines[1:], rows[1:]):
            if not any(c.strip() for c in row):
                continue
            uid = strip_id(row[idcol]) if idcol < len(row) else ""  # the readers' rule for ids
            if not uid:
                raise InputError(f"{p}:{i}: a unit without an id", file=str(p), line=i)
            name = row[namecol].strip() if 0 <= namecol < len(row) else ""
            pairs.append((uid, name, f"{p}:{i}"))
    elif hasattr(units, "columns") and hasattr(units, "itertuples"):
        frame: Any = units  # a DataFrame (pandas, polars…), known by its columns
        cols = list(frame.columns)
        id_name = next((c for c in ("id", "unit", "单位代码") if c in cols), None)
        if id_name is None:
            raise InputError(f"units table has no id column (id or unit); columns: {', '.join(map(str, cols))}")
        names = frame["name"].tolist() if "name" in cols else [""] * len(frame)
        pairs = [
            (strip_id(str(u)), "" if n is None else str(n), f"row {i}")
            for i, (u, n) in enumerate(zip(frame[id_name].tolist(), names), 1)
        ]
    elif isinstance(units, Mapping):
        pairs = [(str(u), str(n), f"unit {u}") for u, n in units.items()]
    else:
        for i, u in enumerate(units, 1):
            if isinstance(u, (tuple, list)):
                pairs.append((str(u[0]), str(u[1]) if len(u) > 1 else "", f"item {i}"))
            else:
                pairs.append((str(u), "", f"item {i}"))
    if not pairs:
        raise InputError("no units to write sheets for")
    seen: dict[str, str] = {}
    for uid, _name, where in pairs:
        bad = sorted(set(uid) & _BAD_SHEET_CHARS)
        if len(uid) > 31 or bad or uid.startswith("'") or uid.endswith("'") or uid.lower() == "history":
            why = "longer than 31 characters" if len(uid) > 31 else (f"holds {' '.join(bad)}" if bad else "not allowed")
            raise InputError(f"{where}: unit id '{uid}' cannot be a sheet name ({why})", unit=uid)
        key = uid.lower()  # Excel's sheet names are unique regardless of case
        if key in seen:
            raise InputError(f"{where}: unit '{uid}' is given twice (first at {seen[key]})", unit=uid)
        seen[key] = where
    return [(u, n) for u, n, _w in pairs]


class _Writer:
    def __init__(self, wb: Any, form: Form, lang: str) -> None:
        self.wb = wb
        self.form = form
        self.en = lang == "en"
        font = _FONT[lang]
        base = {"font_name": font, "font_size": 10.5, "valign": "vcenter"}
        f = wb.add_format
        self.f_title = f({**base, "font_size": 15, "bold": True, "align": "center"})
        self.f_source = f({**base, "font_size": 9, "font_color": "#555555", "align": "center"})
        self.f_key = f({**base, "align": "right"})
        self.f_input = f({**base, "locked": False, "bottom": 1, "bg_color": "#FFFDE7"})
        self.f_fixed = f({**base, "bottom": 1})
        self.f_date = f(
            {**base, "locked": False, "bottom": 1, "bg_color": "#FFFDE7", "num_format": "yyyy-mm-dd", "align": "left"}
        )
        self.f_note = f({**base, "font_size": 9.5, "text_wrap": True, "valign": "top"})
        self.f_head = f(
            {**base, "bold": True, "align": "center", "border": 1, "bg_color": "#EEEEEE", "text_wrap": True}
        )
        self.f_row = f({**base, "align": "center", "border": 1})
        self.f_heading = f({**base, "bold": True, "border": 1, "text_wrap": True})
        self.f_label = f({**base, "border": 1, "text_wrap": True})
        self.f_unit = f({**base, "align": "center", "border": 1})
        self.f_code = f({**base, "font_size": 8, "font_color": "#777777", "align": "center", "border": 1})
        self.f_foot = f({**base, "font_size": 8, "font_color": "#777777"})
        self.f_blank: dict[tuple[str, int, int], Any] = {}
        self.base = base

    def blank_format(self, field: Any) -> Any:
        key = (field.type, field.decimals, field.scale)
        if key not in self.f_blank:
            spec = {**self.base, "locked": False, "border": 1, "bg_color": "#FFFDE7", "align": "right"}
            if field.type == "count":
                spec["num_format"] = "#,##0"
            elif field.type == "money":
                shown = max(0, field.decimals if field.decimals >= 0 else 2)
                more = max(0, field.scale - shown)
                spec["num_format"] = "#,##0" + ("." + "0" * shown + "#" * more if shown + more else "")
            else:
                spec["align"] = "center"
                spec["num_format"] = "@"
            self.f_blank[key] = self.wb.add_format(spec)
        return self.f_blank[key]

    def sheet(self, ws: Any, *, scope: str | None, unit: str = "", unit_name: str = "", period: str = "") -> None:
        form, en = self.form, self.en
        names: dict[str, str] = {}
        quoted = "'" + ws.name.replace("'", "''") + "'"

        def name(n: str, row: int, col: int) -> None:
            from xlsxwriter.utility import xl_rowcol_to_cell

            ref = xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
            full = f"{quoted}!{n}" if scope is not None else n
            self.wb.define_name(full, f"={quoted}!{ref}")
            names[n] = ref

        for i, w in enumerate(_WIDTHS):
            ws.set_column(i, i, w)
        src = form.source
        ws.merge_range(0, 0, 0, 5, form.title_en if en else form.title, self.f_title)
        ws.set_row(0, 24)
        source = f"{src['issuer_en'] if en else src['issuer']} {src['notice']} {src['attachment']}".strip()
        ws.merge_range(1, 0, 1, 5, f"{source} · {form.id}" + (f" · {unit_name}" if unit_name else ""), self.f_source)
        # 填报单位, 填报人, 联系电话 and 日期 as the notices print them above the table, and 报告期
        # for the period every report carries: one line each, the label right-aligned beside
        # its cell (merged over three columns, wide enough for a date; the name is on the first).
        sig = _signature(form)
        trad = form.script == "traditional"
        keys = [
            ("unit", "Reporting unit (id):" if en else f"{sig['unit']}（{'代碼' if trad else '代码'}）：", unit),
            ("period", "Period:" if en else ("報告期：" if trad else "报告期："), period),
            ("reporter", "Filled in by:" if en else f"{sig['reporter']}：", ""),
            ("phone", "Telephone:" if en else f"{sig['phone']}：", ""),
            # A form that prints no date line gets one all the same: it is the submission time.
            (
                "date",
                "Date:" if en else ("日期（年月日）：" if sig["date"] else ("報送日期：" if trad else "报送日期：")),
                "",
            ),
        ]
        row = 2
        for lname, label, value in keys:
            ws.write_string(row, 2, label, self.f_key)
            fmt = self.f_fixed if (lname == "unit" and unit) else self.f_input
            if lname == "date":
                ws.merge_range(row, 3, row, 5, "", self.f_date)
                ws.data_validation(
                    row,
                    3,
                    row,
                    3,
                    {
                        "validate": "date",
                        "criteria": ">",
                        "value": dt.date(2000, 1, 1),
                        "input_title": "填报日期",
                        "input_message": "请填写报送日期，如 2012-01-06（用于统计是否按时报送）。",
                        "error_title": "不是日期",
                        "error_message": "请填写日期，如 2012-01-06。",
                        "error_type": "warning",
                    },
                )
            else:
                ws.merge_range(row, 3, row, 5, value, fmt)
            name(lname, row, 3)
            ws.set_row(row, 18)
            row += 1
        notes = [text_en if en else text for text, text_en in form.notes]
        after = _notes_after(form)

        def note_lines(r: int) -> int:
            for text in notes:
                ws.merge_range(r, 0, r, 5, text, self.f_note)
                ws.set_row(r, 15 * max(1, math.ceil(_width(text) / 96)))
                r += 1
            return r

        if notes and not after:
            row = note_lines(row)
        heads = (
            ["Row", "Item", "Indicator", "Value", "Unit", "Code"]
            if en
            else ["行次", "项", "指标名称", "数值", "单位", "代码"]
        )
        for c, h in enumerate(heads):
            ws.write_string(row, c, h, self.f_head)
        header_row = row
        row += 1
        for number, heading, heading_en, fields in _rows(form):
            head = heading_en if en else heading
            labels = [f.label_en if en else f.label for f in fields]
            shown = _row_heading_shown(heading, fields) and bool(head)
            if shown:
                ws.write_string(row, 0, number, self.f_row)
                ws.merge_range(row, 1, row, 5, head, self.f_heading)
                row += 1
            for i, (f, label) in enumerate(zip(fields, labels)):
                ws.write_string(row, 0, number if (i == 0 and not shown) else "", self.f_row)
                ws.write_string(row, 1, f.letter or "", self.f_row)
                text = _blank_text(label, f.unit, "＿＿", script=form.script) if "__" in label else label
                ws.write_string(row, 2, text, self.f_label)
                ws.write_blank(row, 3, None, self.blank_format(f))
                ws.write_string(row, 4, f.unit, self.f_unit)
                ws.write_string(row, 3 + CODE_COLUMN_OFFSET, f.code, self.f_code)
                ws.set_row(row, 16 * max(1, math.ceil(_width(text) / (_LABEL_WIDTH - 2))))
                ws.data_validation(row, 3, row, 3, _validation(f, label, row))
                name(FIELD_PREFIX + f.code, row, 3)
                row += 1
        if notes and after:
            row = note_lines(row)
        foot = (
            "Blank = not reported (not zero). Template of unionstat; cells are named f_<code>."
            if en
            else "空白表示未填报（不是零）。本表由 unionstat 生成，各填报格的名称为 f_代码。"
        )
        ws.merge_range(row, 0, row, 5, foot, self.f_foot)
        # A4 portrait, one page wide, the column headings repeated on every page.
        ws.set_paper(9)
        ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.center_horizontally()
        ws.repeat_rows(header_row)
        ws.print_area(0, 0, row, 5)
        ws.set_footer("&C&P / &N")
        ws.hide_gridlines(2)
        ws.protect(
            "",
            {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True, "format_rows": True},
        )


def _signature(form: Form) -> dict[str, str]:
    """The 填报单位/填报人/联系电话/日期 labels the form prints (its schema's ``signature``),
    the common ones where the schema does not say."""
    sig = dict(form.signature)
    if not any(sig.values()):
        return {"unit": "填报单位", "reporter": "填报人", "phone": "联系电话", "date": "年月日"}
    return sig


def _validation(f: Any, label: str, row: int) -> dict[str, Any]:
    """Excel's data validation of one blank, with a hint in Chinese."""
    cell = f"D{row + 1}"
    short = label.replace("__", "＿")
    short = short if len(short) <= 40 else short[:39] + "…"
    blank = "不填表示未填报（不是零）。"
    if f.type == "count":
        rule = {"validate": "integer", "criteria": ">=", "value": 0}
        hint, err = f"请填写不小于0的整数，单位：{f.unit}。{blank}", f"{f.code} 须为不小于0的整数（{f.unit}）。"
    elif f.type == "money":
        rule = {"validate": "custom", "value": f"=AND(ISNUMBER({cell}),{cell}>=0,ROUND({cell},{f.scale})={cell})"}
        shown = f.decimals if f.decimals >= 0 else 2
        hint = f"请填写金额，单位：{f.unit}，通常保留{shown}位小数，最多{f.scale}位。{blank}"
        err = f"{f.code} 须为不小于0的金额（{f.unit}），最多{f.scale}位小数。"
    else:
        rule = {"validate": "list", "source": ["是", "否"]}
        hint, err = f"请选择“是”或“否”。{blank}", f"{f.code} 只能填“是”或“否”。"
    title = f"{f.code} {short}"
    return {
        **rule,
        "ignore_blank": True,
        "input_title": title[:32],
        "input_message": f"{short}\n{hint}"[:255],
        "error_title": "数值不符合要求",
        "error_message": err[:255],
    }


def template(
    form: Form | str,
    path: str | os.PathLike[str],
    units: UnitsLike | None = None,
    lang: str = "zh",
    period: str | None = None,
) -> Path:
    """Writes ``form`` (a Form or its id) as an Excel template to ``path`` and returns the
    path. ``units`` (a CSV file, ids, (id, name) pairs, a mapping or a DataFrame) gives one
    sheet per unit and a cover sheet; ``lang`` ``"zh"`` (default) or ``"en"`` the language
    of the labels; ``period`` pre-fills the 报告期 cell (default: the form's year)."""
    try:
        import xlsxwriter
        import xlsxwriter.exceptions
    except ImportError as exc:  # pragma: no cover - a dependency
        raise InputError("writing templates needs XlsxWriter (pip install xlsxwriter)") from exc
    if lang not in ("zh", "en"):
        raise InputError(f"lang must be zh or en, not {lang!r}")
    f = forms()[form] if isinstance(form, str) else form
    pairs = read_units(units) if units is not None else None
    p = Path(path)
    if p.suffix.lower() != ".xlsx":
        raise InputError(f"{p}: a template is written as .xlsx", file=str(p))
    shown_period = str(f.year) if period is None else str(period)
    wb = xlsxwriter.Workbook(str(p), {"strings_to_numbers": False, "strings_to_formulas": False})
    try:
        w = _Writer(wb, f, lang)
        if pairs is None:
            ws = wb.add_worksheet(f.id[:31])
            w.sheet(ws, scope=None, period=shown_period)
        else:
            cover_name = "Cover" if lang == "en" else "封面"
            if cover_name.lower() in {u.lower() for u, _n in pairs}:
                cover_name = "_cover"
            cover = wb.add_worksheet(cover_name)
            sheets = []
            for uid, uname in pairs:
                ws = wb.add_worksheet(uid)
                w.sheet(ws, scope=uid, unit=uid, unit_name=uname, period=shown_period)
                sheets.append(ws)
            _cover(w, cover, pairs, lang)
            cover.activate()
        wb.define_name("us_form", f'="{f.id}"')
        wb.define_name("us_fields", f'="{fields_fingerprint(f.schema)}"')
        wb.define_name("us_template", f'="{TEMPLATE_VERSION}"')
        wb.set_properties({"title": f.title, "subject": f.id, "comments": "unionstat template"})
    finally:
        try:
            wb.close()
        except (OSError, xlsxwriter.exceptions.FileCreateError) as exc:
            raise InputError(f"{p}: cannot write the template: {exc}", file=str(p)) from exc
    return p


def _cover(w: _Writer, ws: Any, pairs: list[tuple[str, str]], lang: str) -> None:
    en = lang == "en"
    form = w.form
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 2, 48)
    ws.set_column(3, 3, 16)
    ws.merge_range(0, 0, 0, 3, form.title_en if en else form.title, w.f_title)
    ws.set_row(0, 24)
    intro = (
        f"{form.id}: one sheet per unit below; fill the yellow cells of each unit's sheet. Blank = not reported."
        if en
        else f"{form.id}：每个填报单位一张工作表（工作表名称为单位代码），请填写黄色格；空白表示未填报（不是零）。"
    )
    ws.merge_range(1, 0, 1, 3, intro, w.f_note)
    ws.set_row(1, 30)
    heads = ["No.", "Unit id", "Unit name", "Sheet"] if en else ["序号", "单位代码", "单位名称", "工作表"]
    for c, h in enumerate(heads):
        ws.write_string(3, c, h, w.f_head)
    for i, (uid, name) in enumerate(pairs, 1):
        r = 3 + i
        ws.write_number(r, 0, i, w.f_row)
        ws.write_string(r, 1, uid, w.f_label)
        ws.write_string(r, 2, name, w.f_label)
        ws.write_url(r, 3, f"internal:'{uid.replace(chr(39), chr(39) * 2)}'!A1", w.f_label, string=uid)
    ws.set_paper(9)
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(3)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
