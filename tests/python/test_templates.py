"""Excel templates of the forms (unionstat.templates) and filled templates read back
(unionstat.filled through every reader): the paper layout, the names, the validation, the
exact values, every bad cell named, printing on A4."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import unionstat as us
from unionstat.cli import main
from unionstat.filled import fields_fingerprint, number_text


def names_of(path: Path) -> dict[str, tuple[str, str]]:
    """Workbook-level defined names → (sheet, cell), as openpyxl reads them."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for name, d in wb.defined_names.items():
        dest = list(d.destinations)
        if dest:
            out[name] = (dest[0][0], dest[0][1].replace("$", ""))
    return out


def fill(path: Path, out: Path, values: dict[str, Any], scope: str | None = None) -> None:
    """Fills a template through its defined names only (as other software would)."""
    wb = openpyxl.load_workbook(path)
    names = wb[scope].defined_names if scope else wb.defined_names
    for name, value in values.items():
        ((sheet, ref),) = list(names[name].destinations)
        wb[sheet][ref.replace("$", "")] = value
    wb.save(out)


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return us.template("songnuan-2018", tmp_path_factory.mktemp("tpl") / "songnuan-2018.xlsx")


def test_every_form_gives_a_template_with_a_named_validated_blank_per_field(tmp_path: Path) -> None:
    for form_id, form in us.forms().items():
        path = us.template(form_id, tmp_path / f"{form_id}.xlsx")
        names = names_of(path)
        codes = {f.code for f in form.fields}
        assert {n[2:] for n in names if n.startswith("f_")} == codes, form_id
        assert {"unit", "period", "date", "reporter", "phone"} <= set(names)
        wb = openpyxl.load_workbook(path)
        ws = wb[form.id]
        assert ws.protection.sheet and not ws.protection.password  # locked, without a password
        assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage  # fitted: one page wide (1 is the default), any tall
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
        rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
        for f in form.fields:
            _sheet, ref = names[f"f_{f.code}"]
            cell = ws[ref]
            assert cell.protection.locked is False, (form_id, f.code)  # the blank is open …
            assert ws.cell(cell.row, 3).protection.locked is not False  # … its label is not
            assert ws.cell(cell.row, 5).value == f.unit and ws.cell(cell.row, 6).value == f.code
            label = ws.cell(cell.row, 3).value
            assert label.replace("＿＿", "__").startswith(f.label.split("__")[0]), (form_id, f.code)
            dv = rules[ref]
            assert dv.promptTitle.startswith(f.code) and re.search("[\u4e00-\u9fff]", dv.prompt)  # a zh hint
            if f.type == "count":
                assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0")
            elif f.type == "money":
                assert dv.type == "custom" and f"ROUND({ref},{f.scale})={ref}" in dv.formula1
                assert ".00" in cell.number_format  # 2 decimals shown, more allowed
            else:
                assert dv.type == "list" and dv.formula1 == '"是,否"'
        # The title and the 说明 lines as printed.
        texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert form.title in texts
        assert all(any(note in t for t in texts) for note, _en in form.notes)
        sig = form.signature  # 填报单位/填报人/联系电话 as this form prints them
        assert all(any(t.startswith(sig[k]) for t in texts) for k in ("unit", "reporter", "phone")), form_id


def test_the_signature_lines_are_the_forms_own(tmp_path: Path) -> None:
    def texts(form_id: str) -> set[str]:
        ws = openpyxl.load_workbook(us.template(form_id, tmp_path / f"{form_id}.xlsx"))[form_id]
        return {c.value for row in ws.iter_rows(max_row=8) for c in row if isinstance(c.value, str)}

    assert {"填表单位（代码）：", "填表人：", "联系电话：", "日期（年月日）："} <= texts("bangfu-2011")  # Dalian's 填表
    assert {"填报单位（代码）：", "填报人：", "联系电话："} <= texts("songnuan-2012")
    # Wuhan prints 填報單位 / 填報人 / 聯系電話 and no date line: the date cell is still there, as 報送日期.
    assert {"填報單位（代碼）：", "填報人：", "聯系電話：", "報送日期："} <= texts("songnuan-2015")
    assert us.forms()["songnuan-2015"].signature == {
        "unit": "填報單位",
        "reporter": "填報人",
        "phone": "聯系電話",
        "date": "",
    }


def test_a_bad_signature_key_names_its_place(tmp_path: Path) -> None:
    src = (us.schema_dir() / "songnuan-2018.yaml").read_text(encoding="utf-8")
    p = tmp_path / "sig.yaml"
    p.write_text(src.replace('phone: 联系电话, date: "年月日"}', "phone: 联系电话}"), encoding="utf-8")
    with pytest.raises(us.SchemaError, match=r"sig.yaml:\d+:\d+: .*date"):
        us.load_form(p)


def test_english_labels_with_lang_en(tmp_path: Path, form: us.Form) -> None:
    path = us.template(form, tmp_path / "en.xlsx", lang="en")
    ws = openpyxl.load_workbook(path)[form.id]
    texts = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert form.title_en in texts and form.fields[0].label_en in texts and form.fields[0].label not in texts


def test_round_trip_through_the_names_gives_exactly_the_values_filled(
    tmp_path: Path, blank: Path, form: us.Form
) -> None:
    values = {
        "unit": "630102",
        "period": "2018",
        "f_01A": 120,
        "f_01B": 100,
        "f_03A": 0,
        "f_05A": 1523.4,
        "f_05B": "12.345678",
        "f_05C": 0.07,
        "f_06A": 98765432.1,
        "date": dt.datetime(2018, 2, 27, 16, 30),
    }
    out = tmp_path / "filled.xlsx"
    fill(blank, out, values)
    df = us.read_reports(out, form)
    assert len(df) == 1
    row = df.iloc[0]
    assert (row["unit"], row["period"]) == ("630102", "2018")
    assert row["01A"] == 120 and row["01B"] == 100 and row["03A"] == 0
    assert row["05A"] == Decimal("1523.4") and row["05B"] == Decimal("12.345678")
    assert row["05C"] == Decimal("0.07") and row["06A"] == Decimal("98765432.1")
    assert df["02A"].isna().all()  # a blank is missing, not zero
    filled = {k[2:] for k in values if k.startswith("f_")}
    assert df[[f.code for f in form.fields if f.code not in filled]].isna().all().all()
    res = us.read_file(out, form.schema)
    assert res.submitted == [dt.datetime(2018, 2, 27, 16, 30)]


def test_a_planted_part_above_its_total_is_reported_by_validate(
    tmp_path: Path, blank: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "planted.xlsx"
    fill(blank, out, {"unit": "630102", "period": "2018", "f_01A": 120, "f_01B": 130})
    assert main(["validate", str(out), "--form", "songnuan-2018"]) == 1
    text = capsys.readouterr().out
    assert "songnuan.part_of.01B" in text and "单位 630102" in text


def test_a_workbook_of_50_unit_sheets_reads_back_as_50_reports(tmp_path: Path, form: us.Form) -> None:
    units = tmp_path / "units.csv"
    units.write_text("id,name\n" + "".join(f"{630100 + i},单位{i}\n" for i in range(50)), encoding="utf-8")
    path = us.template(form, tmp_path / "units.xlsx", units=str(units))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "封面" and wb.sheetnames[1:] == [str(630100 + i) for i in range(50)]
    cover = [c.value for row in wb["封面"].iter_rows() for c in row]
    assert "630149" in cover and "单位49" in cover
    for i, ws in enumerate(wb.worksheets[1:]):
        ((sheet, ref),) = list(ws.defined_names["f_01A"].destinations)  # sheet-scoped names
        assert sheet == ws.title
        ws[ref.replace("$", "")] = 1000 + i
        ((sheet, ref),) = list(ws.defined_names["f_05A"].destinations)
        ws[ref.replace("$", "")] = i / 100
        ((_s, uref),) = list(ws.defined_names["unit"].destinations)
        assert ws[uref.replace("$", "")].value == ws.title  # the unit pre-filled
    wb.save(tmp_path / "filled.xlsx")
    df = us.read_reports(tmp_path / "filled.xlsx", form)
    assert len(df) == 50
    assert df["unit"].tolist() == [str(630100 + i) for i in range(50)]
    assert df["01A"].tolist() == [1000 + i for i in range(50)]
    assert df["05A"].tolist() == [Decimal(i) / 100 for i in range(50)]
    # --sheet picks one unit's sheet.
    one = us.read_reports(tmp_path / "filled.xlsx", form, sheet="630107")
    assert one["unit"].tolist() == ["630107"] and one["01A"].tolist() == [1007]


def test_a_folder_of_filled_templates(tmp_path: Path, blank: Path, form: us.Form) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, unit in enumerate(["630102", "630103", "630104"]):
        fill(blank, folder / f"{unit}.xlsx", {"unit": unit, "period": "2018", "f_01A": 10 + i})
    (folder / "readme.txt").write_text("notes", encoding="utf-8")
    with pytest.warns(us.InputNotice, match="readme.txt"):
        df = us.read_reports(folder, form)
    assert df["unit"].tolist() == ["630102", "630103", "630104"] and df["01A"].tolist() == [10, 11, 12]
    assert main(["completeness", str(folder), "--form", form.id, "--tree", "qinghai"]) == 1  # runs; units missing
    (folder / "other.xlsx").write_bytes((tmp_path / "in" / "630102.xlsx").read_bytes())
    openpyxl.Workbook().save(folder / "other.xlsx")
    with pytest.raises(us.InputError, match=r"other\.xlsx: not a filled template"):
        us.read_reports(folder, form)


def _rewrite(src: Path, dst: Path, sheet_xml: Any) -> None:
    """Copies a workbook, changing its first sheet's XML with ``sheet_xml(text)``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml(data.decode()).encode()
            zout.writestr(item, data)


def test_every_bad_cell_is_named_by_file_sheet_cell_unit_and_field(tmp_path: Path, blank: Path, form: us.Form) -> None:
    names = names_of(blank)
    out = tmp_path / "bad.xlsx"
    fill(
        blank,
        out,
        {
            "unit": "630102",
            "period": "2018",
            "f_01A": 12.5,
            "f_01B": -3,
            "f_05A": "=1+2",
            "f_05B": "abc",
            "f_05C": 1.1234567,
            "f_10A": "也许",
        },
    )
    with pytest.raises(us.InputError) as err:
        us.read_reports(out, form)
    text = str(err.value)
    sheet = form.id
    for code in ("01A", "01B", "05A", "05B", "05C", "10A"):
        ref = names[f"f_{code}"][1]
        assert f"{out}, {sheet}!{ref} (unit 630102, field {code} " in text, code
    assert "formula whose result the file does not store" in text
    assert "more than 6 decimals" in text or "6 this field keeps" in text
    assert len(err.value.problems) == 6 and err.value.unit == "630102"
    # A CLI command: exit 2 with the same places, no traceback.
    assert main(["validate", str(out), "--form", form.id]) == 2


def test_a_binary_residue_is_refused_not_rounded(tmp_path: Path, blank: Path, form: us.Form) -> None:
    filled = tmp_path / "f.xlsx"
    fill(blank, filled, {"unit": "630102", "f_05A": 0.3})
    ref = names_of(blank)["f_05A"][1]
    out = tmp_path / "residue.xlsx"
    _rewrite(filled, out, lambda x: re.sub(rf'(<c r="{ref}"[^>]*>)<v>0\.3</v>', r"\g<1><v>0.30000000000000004</v>", x))
    with pytest.raises(us.InputError, match=rf"{ref} .*0\.30000000000000004 has more than 15 significant digits"):
        us.read_reports(out, form)
    # Excel's 17-digit writing of a typed figure is the typed figure.
    out2 = tmp_path / "seventeen.xlsx"
    _rewrite(filled, out2, lambda x: re.sub(rf'(<c r="{ref}"[^>]*>)<v>0\.3</v>', r"\g<1><v>1523.4000000000001</v>", x))
    assert us.read_reports(out2, form)["05A"].tolist() == [Decimal("1523.4")]
    assert number_text("1.5E-3", 6) == ("0.0015", "")
    assert number_text("12345678901234567", 6)[0] is None


def test_merged_moved_and_foreign_templates_are_clear_errors(tmp_path: Path, blank: Path, form: us.Form) -> None:
    names = names_of(blank)
    ref = names["f_01A"][1]
    row = int(ref[1:])
    wb = openpyxl.load_workbook(blank)
    ws = wb[form.id]
    ws[names["unit"][1]] = "630102"
    ws.merge_cells(f"D{row}:E{row}")
    wb.save(tmp_path / "merged.xlsx")
    with pytest.raises(us.InputError, match=rf"{ref} \(unit 630102, field 01A .*merged"):
        us.read_reports(tmp_path / "merged.xlsx", form)
    # The name moved off its line (the code column beside it is 01B's).
    wb = openpyxl.load_workbook(blank)
    wb[form.id][names["unit"][1]] = "630102"
    wb.defined_names["f_01A"].attr_text = f"'{form.id}'!$D${row + 1}"
    wb.save(tmp_path / "moved.xlsx")
    with pytest.raises(us.InputError, match=r"f_01A was moved: the code column beside it .* reads '01B', not 01A"):
        us.read_reports(tmp_path / "moved.xlsx", form)
    # A deleted cell's name.
    wb = openpyxl.load_workbook(blank)
    wb.defined_names["f_01A"].attr_text = "#REF!"
    wb.save(tmp_path / "deleted.xlsx")
    with pytest.raises(us.InputError, match="f_01A points nowhere"):
        us.read_reports(tmp_path / "deleted.xlsx", form)
    # Another form, and another version of this form's schema.
    other = us.template("songnuan-2015", tmp_path / "s15.xlsx")
    with pytest.raises(us.InputError, match="a template of songnuan-2015, not of songnuan-2018"):
        us.read_reports(other, form)
    wb = openpyxl.load_workbook(blank)
    wb.defined_names["us_fields"].attr_text = '"0123456789ab"'
    wb.save(tmp_path / "version.xlsx")
    with pytest.raises(us.InputError, match="another version of songnuan-2018"):
        us.read_reports(tmp_path / "version.xlsx", form)
    assert fields_fingerprint(form.schema) != fields_fingerprint(us.forms()["songnuan-2015"].schema)
    assert main(["validate", str(other), "--form", form.id]) == 2


def test_units_files_are_checked(tmp_path: Path, form: us.Form) -> None:
    bad = tmp_path / "units.csv"
    bad.write_text("id,name\n630100,a\n630100,b\n", encoding="utf-8")
    with pytest.raises(us.InputError, match=r"units.csv:3: unit '630100' is given twice \(first at .*units.csv:2\)"):
        us.template(form, tmp_path / "x.xlsx", units=str(bad))
    with pytest.raises(us.InputError, match="cannot be a sheet name"):
        us.template(form, tmp_path / "x.xlsx", units=["a/b"])
    assert main(["template", form.id, "-o", str(tmp_path / "x.xlsx"), "--units", str(bad)]) == 2
    assert main(["template", form.id, "-o", str(tmp_path / "no" / "such" / "dir.xlsx")]) == 2
    assert main(["template", form.id, "-o", str(tmp_path / "x.csv")]) == 2
    assert main(["template", "songnuan-1999", "-o", str(tmp_path / "x.xlsx")]) == 2
    assert (
        main(
            ["template", form.id, "-o", str(tmp_path / "ok.xlsx"), "--units", str(us.graph.sample_tree("pingdingshan"))]
        )
        == 0
    )  # a tree's units file (with # comments)
    sheets = openpyxl.load_workbook(tmp_path / "ok.xlsx", read_only=True).sheetnames
    assert sheets[1:] == us.Hierarchy.sample("pingdingshan").ids


@pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice (soffice) is not installed: ./run test installs libreoffice-calc",
)
@pytest.mark.parametrize("form_id", ["songnuan-2018", "bangfu-2017"])
def test_the_template_prints_on_a4_in_libreoffice(tmp_path: Path, form_id: str) -> None:
    pypdf = pytest.importorskip("pypdf")
    form = us.forms()[form_id]
    path = us.template(form_id, tmp_path / f"{form_id}.xlsx")
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = pypdf.PdfReader(tmp_path / f"{form_id}.pdf")
    # One page wide (the code column is on the same page as its row), a few pages long.
    assert 1 <= len(pdf.pages) <= 3
    for page in pdf.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(w - 595.3) < 2 and abs(h - 841.9) < 2  # A4 portrait, in points
    text = "\n".join(p.extract_text() for p in pdf.pages)
    codes = re.findall(r"\b(\d{2}[A-Z]?(?:_\d+)?)\s*$", text, flags=re.M)
    assert [c for c in codes if form.find(c) is not None] == [f.code for f in form.fields]
