"""Files as union offices produce them, through every reader and command: values land in
the right fields or a clear error names the place (exit 2), never a silent shift, never a
traceback. Each test here failed on the pandas-based readers it replaced."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import unionstat as us
from unionstat.cli import main

FORM = "songnuan-2018"


def form() -> us.Form:
    return us.forms()[FORM]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- CSV as Excel writes it --------------------------------------------------------------


def test_a_trailing_comma_on_data_rows_shifts_nothing(tmp_path: Path) -> None:
    f = write(tmp_path / "r.csv", "unit,period,01A,01B\na,2018,10,3,\nb,2018,20,7,\n")
    df = us.read_reports(f, form())
    assert df["01A"].tolist() == [10, 20]
    assert df["01B"].tolist() == [3, 7]


def test_trailing_all_empty_lines_are_ignored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "r.csv", "unit,period,01A,01B\na,2018,10,3\n,,,\n,,,\n\n")
    assert len(us.read_batch(f, form())) == 1
    status, out, _err = run(["validate", str(f), "--form", FORM, "--lang", "en"], capsys)
    assert status == 0 and out.startswith("1 reports")


def test_a_blank_unit_is_an_error_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "r.csv", "unit,period,01A\na,2018,1\n,2018,2\n")
    with pytest.raises(us.InputError) as info:
        us.read_batch(f, form())
    assert info.value.row == 3
    status, _out, err = run(["validate", str(f), "--form", FORM], capsys)
    assert status == 2 and "row 3" in err and "Traceback" not in err


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-8-sig"])
def test_chinese_excel_encodings_are_read(tmp_path: Path, encoding: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = "单位代码,period,01A,备注\n630100,2018,12,西宁市\n"
    f = write(tmp_path / "r.csv", text, encoding)
    batch = us.read_file(f, form().schema).batch
    assert batch.units == ["630100"] and batch.raw_column("01A")[0].tolist() == [12]
    status, _out, err = run(["validate", str(f), "--form", FORM], capsys)
    assert status == 0, err


def test_the_encoding_can_be_forced_and_a_wrong_one_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write(tmp_path / "r.csv", "单位代码,period,01A\n630100,2018,12\n", "gbk")
    status, _out, err = run(["validate", str(f), "--form", FORM, "--encoding", "gb18030"], capsys)
    assert status == 0, err
    status, _out, err = run(["validate", str(f), "--form", FORM, "--encoding", "utf-8"], capsys)
    assert status == 2 and "line 1" in err and "Traceback" not in err
    status, _out, err = run(["validate", str(f), "--form", FORM, "--encoding", "latin-9x"], capsys)
    assert status == 2 and "latin-9x" in err


def test_title_lines_above_the_header_are_skipped_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(
        tmp_path / "r.csv",
        "2018年工会送温暖活动统计表,,,\n填报单位：西宁市总工会,,,\nunit,period,01A,01B\na,2018,10,3\n",
    )
    status, _out, err = run(["validate", str(f), "--form", FORM, "--format", "csv"], capsys)
    assert status == 0 and "skipped 2 line(s) above the header" in err
    with pytest.warns(us.InputNotice, match="above the header"):
        batch = us.read_batch(f, form())
    assert batch.row_numbers.tolist() == [4]


def test_text_columns_are_listed_and_strict_refuses_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "r.csv", "unit,period,01A,备注,填报人\na,2018,10,无,张三\n")
    status, _out, err = run(["validate", str(f), "--form", FORM], capsys)
    assert status == 0 and "备注" in err and "填报人" in err
    status, _out, err = run(["validate", str(f), "--form", FORM, "--strict"], capsys)
    assert status == 2 and "备注" in err


def test_header_problems_are_named_as_the_file_has_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "r.csv", "unit,period,01A,01A,01Z\na,2018,1,2,3\n")
    status, _out, err = run(["validate", str(f), "--form", FORM], capsys)
    assert status == 2
    assert "01A.1" not in err and "Unnamed" not in err
    assert "'01A' is given twice (columns 3 and 4)" in err and "01Z" in err


def test_row_numbers_are_the_files_lines_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "r.csv", "标题,,\nunit,period,01A,01B\na,2018,10,30\nb,2018,5,1\n")
    status, out, _err = run(["validate", str(f), "--form", FORM, "--format", "json"], capsys)
    rows = json.loads(out)
    assert status == 1 and {r["row"] for r in rows if r["rule"] == "songnuan.part_of.01B"} == {3}
    bad = write(tmp_path / "bad.csv", "标题,,\nunit,period,01A,01B\na,2018,10,30\nb,2018,12万,1\n")
    with pytest.raises(us.InputError) as info:
        us.read_batch(bad, form())
    assert info.value.row == 4 and "row 4" in str(info.value) and info.value.problems[0]["row"] == 4


def test_a_number_beyond_int64_is_too_large_not_negative(tmp_path: Path) -> None:
    f = write(tmp_path / "r.csv", "unit,period,01A\na,2018,9223372036854775808\n")
    with pytest.raises(us.InputError) as info:
        us.read_batch(f, form())
    assert "negative" not in str(info.value) and "large" in str(info.value)


# --- the same rules in every command ----------------------------------------------------


def two_periods(tmp_path: Path) -> Path:
    return write(tmp_path / "p.csv", "unit,period,01A,01B\na,2018,10,3\nb,2018,5,9\na,2017,4,1\n")


def test_period_filters_every_command_and_says_what_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = two_periods(tmp_path)
    status, out, err = run(["validate", str(f), "--form", FORM, "--period", "2017", "--lang", "en"], capsys)
    assert status == 0 and out.startswith("1 reports") and "left out 2 report(s) of other periods (2018: 2)" in err
    status, out, err = run(["validate", str(f), "--form", FORM, "--period", "2018"], capsys)
    assert status == 1 and out.startswith("2 份报表")


def test_an_unknown_period_is_an_error_listing_those_present(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = two_periods(tmp_path)
    for cmd in (["validate"], ["rollup", "--tree", "qinghai"]):
        status, out, err = run([cmd[0], str(f), "--form", FORM, "--period", "2019", *cmd[1:]], capsys)
        assert status == 2 and "2018 (2 reports)" in err and "2017 (1 reports)" in err and out == ""


def test_a_report_given_twice_is_an_error_naming_both_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "d.csv", "unit,period,01A\na,2018,10\nb,2018,5\na,2018,4\n")
    status, _out, err = run(["validate", str(f), "--form", FORM], capsys)
    assert status == 2 and "unit a period 2018 in rows 2 and 4" in err


def test_a_header_only_file_is_empty_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "h.csv", "unit,period,01A\n")
    status, _out, err = run(["validate", str(f), "--form", FORM], capsys)
    assert status == 2 and "holds no reports" in err


def test_output_goes_to_a_file_in_the_format_of_its_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "r.csv", "unit,period,01A,01B\na,2018,10,30\n")
    for suffix in (".csv", ".json", ".parquet"):
        out = tmp_path / f"v{suffix}"
        status, printed, _err = run(["validate", str(f), "--form", FORM, "--output", str(out)], capsys)
        assert status == 1 and printed == "" and out.stat().st_size > 0
    import pyarrow.parquet as pq

    t = pq.read_table(tmp_path / "v.parquet")
    assert "songnuan.part_of.01B" in t.column("rule").to_pylist() and t.column("row").to_pylist()[0] == 2


def test_results_written_slice_by_slice_equal_the_whole_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The CLI writes the violations slice by slice (their text is never held whole): the
    # slices must join to exactly the table, whatever the slice size, in every format.
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = "".join(f"u{i},2018,{i % 7},{i % 11},{i % 5}\n" for i in range(300))
    f = write(tmp_path / "many.csv", "unit,period,01A,01B,02A\n" + rows)
    res = form().check(us.read_batch(f, form()))
    whole = res.violations_table()
    assert whole.num_rows > 100
    for size in (1, 7, 64, 10_000):
        joined = pa.Table.from_batches(list(res.violations_batches(rows=size)), schema=whole.schema)
        assert joined.equals(whole), size
    assert pa.Table.from_batches(list(res.violations_reader(rows=13))).equals(whole)
    with pytest.raises(us.UsageError):
        next(res.violations_batches(rows=0))
    out = tmp_path / "v.parquet"
    assert run(["validate", str(f), "--form", FORM, "--output", str(out)], capsys)[0] == 1
    assert pq.read_table(out).equals(whole)
    status, printed, _err = run(["validate", str(f), "--form", FORM, "--format", "json"], capsys)
    assert status == 1 and json.loads(printed) == json.loads(json.dumps(whole.to_pylist(), ensure_ascii=False))
    status, printed, _err = run(["validate", str(f), "--form", FORM, "--format", "csv"], capsys)
    import pyarrow.csv as pacsv

    assert status == 1 and printed.splitlines()[0].startswith('"row","unit"')
    back = pacsv.read_csv(
        pa.BufferReader(printed.encode()),
        convert_options=pacsv.ConvertOptions(column_types=whole.schema, strings_can_be_null=True),
    )
    assert back.column("message").equals(whole.column("message")) and back.num_rows == whole.num_rows


def test_a_closed_pipe_keeps_the_exit_status(tmp_path: Path) -> None:
    rows = "".join(f"u{i},2018,1,{i + 2}\n" for i in range(5000))
    f = write(tmp_path / "many.csv", "unit,period,01A,01B\n" + rows)
    cmd = f"{sys.executable} -m unionstat validate {f} --form {FORM} --format csv | head -n 2; exit ${{PIPESTATUS[0]}}"
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    assert "Broken pipe" not in p.stderr and "Traceback" not in p.stderr
    assert len(p.stdout.splitlines()) == 2


# --- JSON, Parquet, XLSX ---------------------------------------------------------------------


def test_json_numbers_never_pass_through_float(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    f.write_text('[{"unit": "a", "period": "2018", "05A": 1234567890.123456, "01A": 12}]', encoding="utf-8")
    df = us.read_reports(f, form())
    assert df.loc[0, "05A"] == Decimal("1234567890.123456") and df.loc[0, "01A"] == 12


def test_a_json_null_unit_is_an_error_naming_the_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "r.json"
    f.write_text(
        '[{"unit": "a", "period": "2018", "01A": 1}, {"unit": null, "period": "2018", "01A": 2}]', encoding="utf-8"
    )
    status, _out, err = run(["validate", str(f), "--form", FORM], capsys)
    assert status == 2 and "row 2" in err and "Traceback" not in err


def test_parquet_nulls_big_unsigned_and_floats_are_read_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    f = tmp_path / "r.parquet"
    pq.write_table(pa.table({"unit": ["a", None], "period": ["2018", "2018"], "01A": [1, 2]}), f)
    status, _out, err = run(["validate", str(f), "--form", FORM], capsys)
    assert status == 2 and "row 2" in err and "Traceback" not in err
    pq.write_table(pa.table({"unit": ["a"], "period": ["2018"], "01A": pa.array([2**63], pa.uint64())}), f)
    status, _out, err = run(["validate", str(f), "--form", FORM], capsys)
    assert status == 2 and "large" in err and "negative" not in err
    pq.write_table(
        pa.table({"unit": ["a"], "period": ["2018"], "01A": pa.array([1e16]), "05A": pa.array([0.1], pa.float32())}), f
    )
    df = us.read_reports(f, form())
    assert df.loc[0, "01A"] == 10**16 and df.loc[0, "05A"] == Decimal("0.1")


def xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_title_rows_notes_sheet_and_sheet_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("fastexcel")
    f = xlsx(
        tmp_path / "r.xlsx",
        {
            "说明": [["本表由各级工会填报"]],
            "数据": [
                ["2018年工会送温暖活动统计表"],
                [],
                ["unit", "period", "01A", "01B", "备注"],
                ["a", "2018", 10, 30, "x"],
                ["b", "2018", 5, 1, None],
            ],
        },
    )
    status, out, err = run(["validate", str(f), "--form", FORM, "--format", "json"], capsys)
    assert status == 1, err
    assert "sheet '说明' has no header row" in err and "备注" in err
    assert {r["row"] for r in json.loads(out) if r["rule"] == "songnuan.part_of.01B"} == {4}
    status, _out, err = run(["validate", str(f), "--form", FORM, "--sheet", "说明"], capsys)
    assert status == 2 and "no header row" in err


@pytest.mark.parametrize("late", [None, "—", "1,234", "x"])
def test_xlsx_typed_columns_read_as_the_text_path_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, late: str | None
) -> None:
    # A sheet with a clean header is read with the types fastexcel infers (numbers as
    # numbers); it must give exactly what reading every cell as text gives, including a
    # unit id and a period typed as numbers, money as floats, blanks, a 备注 column, and a
    # text cell far below the rows fastexcel samples for the types (never made a blank).
    from unionstat import io as usio

    rows: list[list[object]] = [["unit", "period", "01A", "01B", "02A", "05A", "05B", "07A", "备注"]]
    for i in range(1500):
        rows.append(
            [630100000000 + i, 2018, i % 50 + 10, i % 7, None if i % 3 else i, 12.34 + i % 5, 0.5, 1e5 + i, "ok"]
        )
    if late is not None:
        rows[-1][3] = late
    f = xlsx(tmp_path / "r.xlsx", {"data": rows})
    schema = form().schema

    def read() -> tuple[object, ...]:
        try:
            res = usio.read_file(f, schema)
        except us.InputError as e:
            return ("error", str(e))
        import pyarrow as pa

        b = res.batch
        return (
            "ok",
            len(b),
            list(b.units),
            list(b.periods),
            list(b.row_numbers),
            pa.table(us._core.batch_to_arrow(b)).to_pylist(),
            res.notices,
        )

    import fastexcel

    plain = usio._load_plain_sheet(fastexcel.read_excel(str(f)), "data", schema, False)
    assert (plain is not None) == (late is None)  # typed when every cell fits its column's type
    typed = read()
    monkeypatch.setattr(usio, "_load_plain_sheet", lambda *a, **k: None)
    text = read()
    assert typed == text
    if late in (None, "—", "1,234"):
        assert typed[0] == "ok" and typed[1] == 1500 and typed[2][0] == "630100000000" and typed[3][0] == "2018"
    else:
        assert typed[0] == "error" and "x" in typed[1]


def test_an_xlsx_formula_without_a_stored_value_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("fastexcel")
    f = xlsx(tmp_path / "r.xlsx", {"data": [["unit", "period", "01A", "01B"], ["a", "2018", 10, "=C2-1"]]})
    status, _out, err = run(["validate", str(f), "--form", FORM], capsys)
    assert status == 2 and "data!D2" in err


# --- Arrow producers without pandas ----------------------------------------------------------

NO_PANDAS = """
import importlib.abc, importlib.machinery, sys

class Refuse(importlib.abc.Loader):
    def create_module(self, spec):
        raise ImportError("pandas may not be imported in this process")
    def exec_module(self, module):  # pragma: no cover - create_module already refused
        raise ImportError("pandas may not be imported in this process")

class Block(importlib.abc.MetaPathFinder):
    # Found but never loadable: `import pandas` fails in every library that tries it.
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            return importlib.machinery.ModuleSpec(name, Refuse())
        return None

sys.meta_path.insert(0, Block())
try:
    import pandas
except ImportError:
    pass
else:
    raise SystemExit("pandas could be imported")
import unionstat as us
form = us.forms()["songnuan-2018"]
tree = us.Hierarchy.sample("qinghai")
leaves = [u for u in tree.subtree("630100") if not tree.children(u)][:3]
data = {"unit": leaves + ["630100"], "period": ["2018"] * 4, "01A": [120, 80, 50, 10], "01B": [3, 90, 1, 1]}
"""


@pytest.mark.parametrize("producer", ["pyarrow", "polars", "duckdb"])
def test_arrow_tables_validate_and_roll_up_without_pandas(producer: str) -> None:
    pytest.importorskip(producer)
    make = {
        "pyarrow": "import pyarrow as pa; table = pa.table(data)",
        "polars": "import polars as pl; table = pl.DataFrame(data)",
        "duckdb": "import duckdb, pyarrow as pa; t0 = pa.table(data); table = duckdb.sql('select * from t0')",
    }[producer]
    code = (
        NO_PANDAS
        + make
        + """
res = form.check(table)
assert not res.ok
import pyarrow as pa
v = pa.table(res)
assert v.column("unit").to_pylist() == [leaves[1]], v
totals = tree.rollup_table(table, form, ignore_inner=True)
t = pa.table(totals)
units = t.column("unit").to_pylist()
assert t.column("01A").to_pylist()[units.index("630100")] == 250
assert "pandas" not in sys.modules
print("ok")
"""
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


def test_reader_option_and_shape_mistakes_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    j = tmp_path / "r.json"
    j.write_text('{"unit": "a"}', encoding="utf-8")
    status, _out, err = run(["validate", str(j), "--form", FORM], capsys)
    assert status == 2 and str(j) in err and "expected a list of reports" in err
    j.write_text('[{"unit": "a", "01A": [1, 2]}]', encoding="utf-8")
    status, _out, err = run(["validate", str(j), "--form", FORM], capsys)
    assert status == 2 and "neither a number, a text nor null" in err
    j.write_text('[{"unit": "a",', encoding="utf-8")
    status, _out, err = run(["validate", str(j), "--form", FORM], capsys)
    assert status == 2 and f"{j}:1:" in err and "not valid JSON" in err
    status, _out, err = run(["validate", str(j), "--form", FORM, "--encoding", "gbk"], capsys)
    assert status == 2 and "CSV files only" in err
    pytest.importorskip("fastexcel")
    x = xlsx(tmp_path / "r.xlsx", {"data": [["unit", "01A"], ["a", 1]]})
    status, _out, err = run(["validate", str(x), "--form", FORM, "--sheet", "5"], capsys)
    assert status == 2 and "no sheet 5 (sheets: data)" in err
    status, _out, err = run(["validate", str(x), "--form", FORM, "--sheet", "notes"], capsys)
    assert status == 2 and "no sheet 'notes'" in err


@pytest.mark.parametrize(
    "suffix,fmt", [(".parquet", "csv"), (".parquet", "json"), (".csv", "parquet"), (".csv", "table"), (".xlsx", "csv")]
)
def test_cli_file_jobs_do_not_load_pandas(tmp_path: Path, suffix: str, fmt: str) -> None:
    # pandas is installed here, but a file in and a result out need none of it: loading it
    # costs a CLI run a third of a second (pyarrow's pa.table() probes for DataFrames).
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    t = pa.table({"unit": ["a", "b"], "period": ["2018", "2018"], "01A": [10, 5], "01B": [3, 7]})
    f = tmp_path / f"r{suffix}"
    if suffix == ".parquet":
        pq.write_table(t, f)
    elif suffix == ".xlsx":
        xlsx(f, {"data": [t.column_names, *(list(r.values()) for r in t.to_pylist())]})
    else:
        pacsv.write_csv(t, f)
    out = tmp_path / "out"
    args = ["validate", str(f), "--form", FORM, "--format", fmt] + (["--output", str(out)] if fmt != "table" else [])
    code = (
        "import sys, unionstat.cli as cli\n"
        f"status = cli.main({args!r})\n"
        "assert 'pandas' not in sys.modules, 'pandas was loaded'\n"
        "print('status', status)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip().endswith("status 1"), p.stderr
    if fmt == "parquet":
        assert pq.read_table(out).column("unit").to_pylist() == ["b"]


def test_rollup_reads_the_tree_and_the_reports_together_and_tells_a_bad_tree_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tree loads on another thread while the reports are read: when both are bad the
    # tree's error is the one told (as when it was loaded first), and when only the
    # reports are bad, theirs, naming the line.
    bad_reports = write(tmp_path / "r.csv", "unit,period,01A\n,2018,10\n")
    status, _out, err = run(["rollup", str(bad_reports), "--tree", str(tmp_path / "none.csv"), "--form", FORM], capsys)
    assert status == 2 and "none.csv: no such units file" in err and "Traceback" not in err
    status, _out, err = run(["rollup", str(bad_reports), "--tree", "qinghai", "--form", FORM], capsys)
    assert status == 2 and "r.csv" in err and "2" in err and "Traceback" not in err
    good = write(tmp_path / "g.csv", "unit,period,01A,01B\n630102,2018,10,3\n")
    status, out, _err = run(["rollup", str(good), "--tree", "qinghai", "--form", FORM, "--format", "csv"], capsys)
    assert status == 0 and out.splitlines()[2].startswith('"630100","西宁市总工会","city",1,"2018",10,3,')
