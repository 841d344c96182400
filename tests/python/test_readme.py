"""The README's Python example runs as written."""

from __future__ import annotations

import re
import runpy
import warnings
from pathlib import Path

import pytest


def test_readme_python_example_runs(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block, "README has no Python example"
    script = tmp_path / "example.py"
    script.write_text(block.group(1), encoding="utf-8")
    runpy.run_path(str(script))
    out = capsys.readouterr().out
    assert out.startswith("False\n")
    assert "songnuan.part_of.01B 241000 183000" in out


def test_readme_hierarchy_example_runs(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (root / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2, "README lost its hierarchy example"
    script = tmp_path / "hierarchy.py"
    script.write_text(blocks[1], encoding="utf-8")
    runpy.run_path(str(script))
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "250"
    assert re.search(r"630100\s+01A\s+260\s+250\s+10\n", out)


def test_readme_files_and_arrow_example_runs(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("polars")
    import unionstat as us

    text = (root / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    script = tmp_path / "files.py"
    script.write_text(next(b for b in blocks if "read_batch" in b), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runpy.run_path(str(script))
    notes = [str(w.message) for w in caught if issubclass(w.category, us.InputNotice)]
    assert len(notes) == 2 and "above the header" in notes[0] and "备注" in notes[1]
    out = capsys.readouterr().out.splitlines()
    assert out == ["(3, '630102', 'songnuan.part_of.01B')", "False"]


def test_readme_localisation_example_runs(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (root / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    script = tmp_path / "localise.py"
    script.write_text(next(b for b in blocks if ".localise(" in b), encoding="utf-8")
    runpy.run_path(str(script))
    out = capsys.readouterr().out.splitlines()
    assert out == ["01B 100 2.0 True", "{'redundant': 26, 'bound': 1}"]


def test_cli_exit_codes(root: Path, tmp_path: Path) -> None:
    from unionstat.cli import main

    assert main(["forms"]) == 0
    assert main(["show", "songnuan-2012"]) == 0
    assert main(["no-such-command"]) == 2
    clean = tmp_path / "clean.csv"
    clean.write_text("unit,period,01A,01B\na,2018,10,3\n", encoding="utf-8")
    assert main(["validate", str(clean), "--form", "songnuan-2018"]) == 0
    dirty = tmp_path / "dirty.csv"
    dirty.write_text("unit,period,01A,01B\na,2018,10,30\n", encoding="utf-8")
    assert main(["validate", str(dirty), "--form", "songnuan-2018"]) == 1
    assert main(["validate", str(tmp_path / "missing.csv"), "--form", "songnuan-2018"]) == 2


def test_every_bad_cell_is_reported(tmp_path: Path) -> None:
    import unionstat as us

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "unit,period,01A,01B,05A\na,2018,12万,3,1.5\nb,2018,１２,约100,2\nc,2018,1,2,1.2.3\n", encoding="utf-8"
    )
    with pytest.raises(us.InputError) as info:
        us.read_reports(bad, us.forms()["songnuan-2018"])
    problems = info.value.problems
    # Rows are the file's lines, in the message and in the attributes alike.
    assert [(p["row"], p["unit"], p["field"]) for p in problems] == [(2, "a", "01A"), (3, "b", "01B"), (4, "c", "05A")]
    assert "row 2, unit a, field 01A" in str(info.value)


def test_unknown_columns_are_reported(tmp_path: Path) -> None:
    import unionstat as us

    f = tmp_path / "cols.csv"
    f.write_text("unit,period,01A,01Z\na,2018,1,2\n", encoding="utf-8")
    with pytest.raises(us.InputError, match="01Z"):
        us.read_reports(f, us.forms()["songnuan-2018"])


def test_readme_template_and_deadline_example_runs(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import unionstat as us

    text = (root / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    script = tmp_path / "template.py"
    script.write_text(next(b for b in blocks if "us.template(" in b), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", us.UnknownUnitsWarning)  # the sample's planted stranger
        runpy.run_path(str(script))
    assert capsys.readouterr().out == "2018-02-28 949 ['632622']\n"
    assert (tmp_path / "songnuan-2018.xlsx").is_file()
