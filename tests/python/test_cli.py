"""The command line's exit status is a contract for ETL scripts: 0 clean, 1 findings
(errors, gaps, units that did not report, reports outside the tree), 2 bad usage or
unreadable input. Every data command is tested for all three, and for its formats."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from unionstat.cli import main

UNITS = """id,name,level,kind,parent,secondary_parents
P,省总工会,province,regional,,
C1,甲市,city,regional,P,
C2,乙市,city,regional,P,
K1,甲县,county,regional,C1,
G1,企业一,grassroots,enterprise,K1,I1
G2,企业二,grassroots,enterprise,K1,
G3,企业三,grassroots,enterprise,C2,
G4,企业四,grassroots,enterprise,P,I1
I1,省产业工会,city,industry,P,
"""

# Every unit reports; inner units their consolidated totals, which agree with their children.
BALANCED = {"G1": 10, "G2": 20, "G3": 30, "G4": 40, "I1": 0, "K1": 30, "C1": 30, "C2": 30, "P": 100}
FORM = "songnuan-2018"


def _csv(path: Path, values: dict[str, object], period: str = "2018", money: bool = True) -> Path:
    rows = ["unit,period,01A,05A" if money else "unit,period,01A"]
    for unit, v in values.items():
        rows.append(f"{unit},{period},{v},1.50" if money else f"{unit},{period},{v}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def tree(tmp_path: Path) -> str:
    f = tmp_path / "units.csv"
    f.write_text(UNITS, encoding="utf-8")
    return str(f)


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, str]:
    leaves = {u: BALANCED[u] for u in ("G1", "G2", "G3", "G4", "I1")}
    out = {
        "balanced": _csv(tmp_path / "balanced.csv", BALANCED, money=False),
        "leaves": _csv(tmp_path / "leaves.csv", leaves),
        # K1's consolidated report says 35 where its units add up to 30, and C1 and P pass it on.
        "gap": _csv(tmp_path / "gap.csv", {**BALANCED, "K1": 35, "C1": 35, "P": 105}, money=False),
        "incomplete": _csv(tmp_path / "incomplete.csv", {u: v for u, v in BALANCED.items() if u != "G3"}, money=False),
        "stranger": _csv(tmp_path / "stranger.csv", {**BALANCED, "X9": 5}, money=False),
        "bad_cell": _csv(tmp_path / "bad.csv", {**BALANCED, "G2": "12万"}, money=False),
    }
    two = pd.concat(
        [pd.read_csv(out["balanced"], dtype=str), pd.read_csv(out["balanced"], dtype=str).assign(period="2019")]
    )
    two.to_csv(tmp_path / "two.csv", index=False)
    out["two_periods"] = tmp_path / "two.csv"
    (tmp_path / "empty.csv").write_bytes(b"")
    out["empty"] = tmp_path / "empty.csv"
    (tmp_path / "latin1.csv").write_bytes("unit,period,01A\n\xe9,2018,1\n".encode("latin-1"))
    out["undecodable"] = tmp_path / "latin1.csv"
    out["missing"] = tmp_path / "nowhere.csv"
    return {k: str(v) for k, v in out.items()}


DATA_COMMANDS = ["rollup", "check", "completeness"]


@pytest.mark.parametrize(
    ("command", "file", "extra", "status"),
    [
        ("rollup", "balanced", ["--lowest-only"], 0),
        ("rollup", "leaves", [], 0),
        ("rollup", "stranger", ["--lowest-only"], 1),  # a report was left out of the totals
        ("check", "balanced", [], 0),
        ("check", "gap", [], 1),
        ("check", "stranger", [], 1),
        ("completeness", "balanced", [], 0),
        ("completeness", "incomplete", [], 1),
        ("completeness", "stranger", [], 1),
        ("completeness", "incomplete", ["--root", "C1"], 0),  # G3 is not under C1
        ("check", "two_periods", ["--period", "2019"], 0),
    ],
)
def test_exit_status_says_clean_or_found(
    tree: str,
    files: dict[str, str],
    command: str,
    file: str,
    extra: list[str],
    status: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([command, files[file], "--tree", tree, "--form", FORM, *extra]) == status
    assert capsys.readouterr().out


@pytest.mark.parametrize("command", DATA_COMMANDS + ["validate"])
@pytest.mark.parametrize(
    ("file", "args", "words"),
    [
        ("missing", [], "no such file"),
        ("bad_cell", [], "row 3, unit G2, field 01A"),  # row = the file's line
        ("empty", [], "no header row"),
        ("undecodable", [], "not valid gb18030 at byte offset 16 (line 2)"),
        ("two_periods", [], "several periods"),
        ("balanced", ["--form", "songnuan-1999"], "unknown form"),
        ("balanced", ["--tree", "no-such-tree"], "no such units file"),
    ],
)
def test_bad_input_exits_2_and_says_why(
    tree: str,
    files: dict[str, str],
    command: str,
    file: str,
    args: list[str],
    words: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [command, files[file], "--tree", tree, "--form", FORM]
    for flag in ("--form", "--tree"):
        if flag in args:
            argv[argv.index(flag) + 1] = args[args.index(flag) + 1]
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_an_inconsistent_tree_exits_2(
    tmp_path: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "cycle.csv"
    bad.write_text("id,name,level,kind,parent\nA,a,city,regional,B\nB,b,city,regional,A\n", encoding="utf-8")
    for command in DATA_COMMANDS:
        assert main([command, files["balanced"], "--tree", str(bad), "--form", FORM]) == 2
        assert "cycle" in capsys.readouterr().err.lower()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["rollup"],
        ["rollup", "x.csv"],
        ["check", "x.csv", "--form", FORM],
        ["completeness", "x.csv", "--tree", "t"],
        ["check", "x.csv", "--tree", "t", "--form", FORM, "--format", "pdf"],
        ["validate", "x.csv"],
        ["frobnicate"],
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "exit status" in capsys.readouterr().out


def test_validate_with_a_tree(tree: str, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", files["balanced"], "--form", FORM, "--tree", tree]) == 0
    # A unit outside the tree is validated by the form alone and told about, not an error.
    assert main(["validate", files["stranger"], "--form", FORM, "--tree", tree]) == 0
    assert "X9" in capsys.readouterr().err


def test_rollup_formats(tree: str, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollup", files["leaves"], "--tree", tree, "--form", FORM, "--lang", "en"]) == 0
    table = capsys.readouterr().out
    assert "P 省总工会 — 5 report(s) counted" in table
    assert main(["rollup", files["leaves"], "--tree", tree, "--form", FORM]) == 0  # Chinese by default
    assert "P 省总工会 — 计入 5 份报表" in capsys.readouterr().out and "100" in table and "7.50" in table
    assert main(["rollup", files["leaves"], "--tree", tree, "--form", FORM, "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"05A": str})
    assert df.set_index("unit").loc["P", "01A"] == 100 and df.set_index("unit").loc["K1", "05A"] == "3.00"
    assert main(["rollup", files["leaves"], "--tree", tree, "--form", FORM, "--format", "json"]) == 0
    rows = {r["unit"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["P"]["01A"] == 100 and rows["P"]["05A"] == "7.50" and rows["P"]["reports"] == 5
    assert main(["rollup", files["leaves"], "--tree", tree, "--form", FORM, "--format", "html", "--unit", "C1"]) == 0
    html = capsys.readouterr().out
    assert "<table" in html and "甲市" in html and "3.00" in html


def test_rollup_of_consolidated_reports_hints_at_lowest_only(
    tree: str, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rollup", files["balanced"], "--tree", tree, "--form", FORM]) == 0
    assert "--lowest-only" in capsys.readouterr().err


def test_check_formats(tree: str, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", files["gap"], "--tree", tree, "--form", FORM, "--lang", "en"]) == 1
    table = capsys.readouterr().out
    assert "3 imbalance(s)" in table and "P → C1 → K1" in table and "introduced here" in table
    assert main(["check", files["gap"], "--tree", tree, "--form", FORM, "--format", "csv"]) == 1
    df = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=str, keep_default_na=False)
    k1 = df.set_index("unit").loc["K1"]
    assert (k1["reported"], k1["computed"], k1["difference"]) == ("35", "30", "5")
    assert df.set_index("unit").loc["P", "trace"] == "P > C1 > K1"
    assert main(["check", files["gap"], "--tree", tree, "--form", FORM, "--format", "json"]) == 1
    rows = {r["unit"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["C1"]["explained_by"] == ["K1"] and rows["K1"]["difference"] == 5
    assert main(["check", files["gap"], "--tree", tree, "--form", FORM, "--format", "html"]) == 1
    assert "P 省总工会 → C1 甲市 → K1 甲县" in capsys.readouterr().out


def test_completeness_formats(tree: str, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completeness", files["incomplete"], "--tree", tree, "--form", FORM, "--lang", "en"]) == 1
    table = capsys.readouterr().out
    assert "8 of 9 units reported" in table and "G3" in table and "企业三" in table
    assert main(["completeness", files["incomplete"], "--tree", tree, "--form", FORM, "--format", "json"]) == 1
    obj = json.loads(capsys.readouterr().out)
    assert (obj["expected"], obj["reported"]) == (9, 8)
    assert [m["unit"] for m in obj["missing"]] == ["G3"]
    assert main(["completeness", files["incomplete"], "--tree", tree, "--form", FORM, "--format", "csv"]) == 1
    assert pd.read_csv(io.StringIO(capsys.readouterr().out))["unit"].tolist() == ["G3"]
    assert (
        main(["completeness", files["incomplete"], "--tree", tree, "--form", FORM, "--format", "html", "--lang", "en"])
        == 1
    )
    assert "8 of 9 units reported" in capsys.readouterr().out
    assert main(["completeness", files["incomplete"], "--tree", tree, "--form", FORM, "--format", "html"]) == 1
    assert "应报 9 个单位，已报 8 个" in capsys.readouterr().out


def test_bundled_tree_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from unionstat.frames import write_reports
    from unionstat.sample import sample_reports

    f = tmp_path / "songnuan.parquet"
    write_reports(sample_reports(FORM, mistakes=False), f)
    assert main(["check", str(f), "--tree", "qinghai", "--form", FORM]) == 0
    assert main(["completeness", str(f), "--tree", "qinghai", "--form", FORM, "--lang", "en"]) == 0
    assert main(["rollup", str(f), "--tree", "qinghai", "--form", FORM, "--lowest-only"]) == 0
    out = capsys.readouterr().out
    assert "951 of 951 units reported" in out and "630000 青海省总工会" in out


@pytest.mark.parametrize("command", DATA_COMMANDS + ["validate"])
def test_progress_bar_only_when_asked_or_on_a_terminal(
    tree: str, files: dict[str, str], command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, files["balanced"], "--tree", tree, "--form", FORM]
    main(argv)  # stderr is not a terminal here: no bar
    assert "[" not in capsys.readouterr().err
    main([*argv, "--progress"])
    err = capsys.readouterr().err
    assert "[########################]" in err and "done" in err and "reading" in err
    main([*argv, "--no-progress"])
    assert "[" not in capsys.readouterr().err


def test_progress_bar_draws_steps() -> None:
    from unionstat.progress import Progress

    out = io.StringIO()
    with Progress(2, enabled=True, stream=out) as bar:
        bar.step("reading")
        bar.note("reading: 200,000 rows")
        bar.step("validating")
    text = out.getvalue()
    assert "0/2 reading: 200,000 rows" in text and "1/2 validating" in text and "2/2 done" in text
    assert text.endswith("\n")
    quiet = io.StringIO()
    with Progress(2, enabled=False, stream=quiet) as bar:
        bar.step("reading")
    assert quiet.getvalue() == ""
