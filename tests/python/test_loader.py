"""The loader and the API given hostile or mistaken input (issue 16, part 2): each case
crashed, hung, allocated gigabytes or raised a pybind/attribute error before, and is now a
``us.Error`` subclass naming the place or saying what to pass instead."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

import unionstat as us
from unionstat import _core

BUNDLED = Path(us.schema_dir())


def songnuan_2018() -> str:
    return (BUNDLED / "songnuan-2018.yaml").read_text(encoding="utf-8")


def with_rule(check: str) -> str:
    return songnuan_2018().replace(
        "rules:\n", f'rules:\n  - id: test.huge\n    check: "{check}"\n    message: x\n    message_en: x\n', 1
    )


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(data, str):
        p.write_text(data, encoding="utf-8")
    else:
        p.write_bytes(data)
    return p


def line_of(text: str, what: str) -> int:
    return text[: text.index(what)].count("\n") + 1


# -- bounded work in rules ---------------------------------------------------------------


@pytest.mark.parametrize(
    "check, message",
    [
        (" + ".join(["01A"] * 40000) + " >= 0", "operations deep"),
        (" and ".join(["01A >= 0"] * 30000), "operations deep"),
        ("min(" + ", ".join(["01A"] * 100000) + ") >= 0", "at most 256 arguments"),
    ],
)
def test_huge_rules_are_refused_with_a_diagnostic(tmp_path: Path, check: str, message: str) -> None:
    text = with_rule(check)
    path = write(tmp_path, "huge.yaml", text)
    with pytest.raises(us.RuleError) as info:
        us.load_form(path)
    err = info.value
    assert err.file == str(path) and err.rule == "test.huge"
    assert err.line == line_of(text, 'check: "' + check[:8])
    [d] = err.diagnostics
    assert message in d["message"] and d["rule"] == "test.huge"


def test_an_ordinary_long_sum_still_loads(tmp_path: Path) -> None:
    form = us.load_form(write(tmp_path, "ok.yaml", with_rule(" + ".join(["01A"] * 200) + " >= 200 * 01A")))
    rep = form.report("630000", "2018", {"01A": 2})
    outcome = {o.rule_id: o.status for o in form.validate(rep).outcomes}
    assert outcome["test.huge"] == "pass"
    # Python walks rules recursively too (the HiGHS models): the longest rule allowed fits.
    deepest = us.load_form(write(tmp_path, "deep.yaml", with_rule(" + ".join(["01A"] * 255) + " >= 0")))
    assert deepest.analyse_rules() is not None


# -- files ---------------------------------------------------------------------------------


def test_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    bomb = 'quirks:\n  - &big "' + "A" * 100_000 + '"\n  - [' + ", ".join(["*big"] * 100_000) + "]\nunused:\n"
    text = songnuan_2018().replace("quirks:\n", bomb, 1)
    assert len(text) > 500_000
    with pytest.raises(us.SchemaError, match="aliases expand"):
        us.load_form(write(tmp_path, "bomb.yaml", text))


def test_files_that_are_not_schemas_are_named(tmp_path: Path) -> None:
    with pytest.raises(us.SchemaError, match="not a regular file") as info:
        us.load_form("/dev/zero")
    assert info.value.file == "/dev/zero"
    with pytest.raises(us.SchemaError, match="is a directory"):
        us.load_form(tmp_path)
    with pytest.raises(us.SchemaError, match="is empty"):
        us.load_form(write(tmp_path, "empty.yaml", ""))
    with pytest.raises(us.SchemaError, match="the limit is 4 MiB"):
        us.load_form(write(tmp_path, "big.yaml", "# " + "x" * (5 << 20) + "\n"))


def test_gbk_bytes_in_a_schema_name_file_and_line(tmp_path: Path) -> None:
    text = songnuan_2018()
    raw = text.encode("utf-8").replace("当地职工总数".encode(), "当地职工总数".encode("gbk"), 1)
    path = write(tmp_path, "gbk.yaml", raw)
    with pytest.raises(us.SchemaError, match="not UTF-8") as info:
        us.load_form(path)
    assert info.value.file == str(path) and info.value.line == line_of(text, "当地职工总数")


def test_gbk_bytes_in_a_units_file_name_file_and_line(tmp_path: Path) -> None:
    csv = "id,name,level,kind,parent\nP,province,province,regional,\nC,青海,city,regional,P\n"
    path = write(tmp_path, "units.csv", csv.encode("gbk"))
    with pytest.raises(us.HierarchyError, match="not UTF-8") as info:
        us.Hierarchy.read_csv(path)
    assert info.value.file == str(path) and info.value.line == 3
    ypath = write(
        tmp_path, "units.yaml", "units:\n  - {id: P, name: 青海, level: province, kind: regional}\n".encode("gbk")
    )
    with pytest.raises(us.HierarchyError, match="not UTF-8") as info:
        us.Hierarchy.read_yaml(ypath)
    assert info.value.line == 2


# -- structure and patterns ------------------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("unit: 人, part_of: 01A}", "unit: 人, part_of: 01B}", "01B is part_of itself"),
        ("type: count, unit: 人}", "type: count, unit: 人, part_of: 01B}", "part_of makes a cycle: 01A → 01B → 01A"),
        ("parts: [03C, 03D, 03E]", "parts: [03C, 03D, 03D]", "names part 03D twice"),
        ("parts: [03C, 03D, 03E]", "parts: [03A, 03D, 03E]", "has its total 03A among its parts"),
        ("id: songnuan-2018", "id: SONGNUAN", "not a form id"),
        ("key: workers.total,", "key: workers,", "not a dotted concept key"),
        ("- id: songnuan.hardship_workers_within_workers", "- id: Hardship", "not a dotted rule id"),
        ("message: 困难职工总数{02A}人", "message: 困难职工总数{02Q}人", "placeholder {02Q} names no field"),
        (
            "\n  - id: funds_raised_by_source",
            "\n    tolerance: 0.5\n  - id: funds_raised_by_source",
            "must be quoted text",
        ),
    ],
)
def test_schema_mistakes_are_refused_naming_them(tmp_path: Path, old: str, new: str, message: str) -> None:
    base = songnuan_2018()
    assert old in base
    text = base.replace(old, new, 1)
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(us.SchemaError) as info:
        us.load_form(path)
    assert message in str(info.value)
    # The line of the changed text (the inserted tolerance is the line below the group's last).
    changed = next(i for i, (a, b) in enumerate(zip(base.splitlines(), text.splitlines()), 1) if a != b)
    assert info.value.file == str(path) and info.value.line == changed


def test_rule_diagnostics_give_the_column_in_the_file(tmp_path: Path) -> None:
    base = songnuan_2018()
    path = write(tmp_path, "r.yaml", base.replace('check: "02A <= 01A"', 'check: "02A <= 01Q"', 1))
    with pytest.raises(us.RuleError) as info:
        us.load_form(path)
    [d] = info.value.diagnostics
    assert d["column"] == 8 and d["file_column"] == 20  # '    check: "' is 12 characters
    assert info.value.line == line_of(base, 'check: "02A <= 01A"') and info.value.column == 20
    assert f"r.yaml:{info.value.line}:20:" in str(info.value)


# -- the registry from threads ----------------------------------------------------------------


def test_a_fresh_registry_serves_four_threads() -> None:
    reg = _core.SchemaRegistry(str(BUNDLED))
    ids = reg.ids()
    got: list[list[str]] = [[] for _ in range(4)]

    def work(t: int) -> None:
        for k in range(len(ids)):
            got[t].append(reg.get(ids[(k + t) % len(ids)]).id)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(sorted(g) == sorted(ids) for g in got)


# -- API mistakes -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def form() -> us.Form:
    return us.forms()["songnuan-2018"]


@pytest.fixture(scope="module")
def other() -> us.Form:
    return us.forms()["songnuan-2014"]


def test_a_report_of_another_form_is_refused_naming_both(form: us.Form, other: us.Form) -> None:
    rep = other.report("630000", "2014", {"01A": 5})
    for call in (form.validate, form.view):
        with pytest.raises(us.UsageError, match=r"songnuan-2014.*songnuan-2018"):
            call(rep)
    with pytest.raises(us.UsageError, match=r"songnuan-2014.*songnuan-2018"):
        form.check([rep])
    batch = other.batch([rep])
    with pytest.raises(us.UsageError, match="the batch is of form songnuan-2014"):
        form.check(batch)
    tree = us.Hierarchy(_core.Hierarchy.parse_csv("id,name,level,kind,parent\n630000,p,province,regional,\n", "t.csv"))
    for call in (tree.rollup, tree.check):
        with pytest.raises(us.UsageError, match=r"songnuan-2014.*songnuan-2018"):
            call(batch, form)


def test_api_mistakes_raise_errors_with_a_hint(form: us.Form) -> None:
    tree = us.Hierarchy(_core.Hierarchy.parse_csv("id,name,level,kind,parent\n630000,p,province,regional,\n", "t.csv"))
    rep = form.report("630000", "2018", {"01A": 5})
    with pytest.raises(us.UsageError, match=r"us.forms\(\)\['songnuan-2018'\]"):
        tree.rollup([rep], "songnuan-2018")
    with pytest.raises(us.UsageError, match="unit must be the unit's id as text"):
        form.report(630100, "2018")
    with pytest.raises(us.UsageError, match="values must map field codes"):
        form.report("630100", "2018", [1, 2, 3])
    with pytest.raises(us.ExactOverflowError, match="does not fit in 64 bits") as info:
        form.report("630100", "2018", {"01A": 2**63})
    assert info.value.field == "01A"
    with pytest.raises(us.InputError, match="give a number, not True") as info:
        form.report("630100", "2018", {"01A": True})
    assert info.value.field == "01A" and info.value.unit == "630100"
    # What is right still works: the largest int64, a flag as a bool.
    assert form.report("630100", "2018", {"01A": 2**63 - 1}).get("01A") == 2**63 - 1
    flag = next(f.code for f in us.forms()["bangfu-2017"].fields if f.type == "flag")
    assert us.forms()["bangfu-2017"].report("630100", "2017", {flag: True}).get(flag) is True
    assert form.report("630100", "2018", {"05A": Decimal("1.5")}).get("05A") == Decimal("1.5")


def test_hierarchy_at_refuses_a_period_it_cannot_parse() -> None:
    tree = us.Hierarchy(
        _core.Hierarchy.parse_csv(
            "id,name,level,kind,parent,valid_from,valid_to\n630000,p,province,regional,,,\n"
            "a,x,city,regional,630000,2012,2014\n",
            "t.csv",
        )
    )
    assert len(tree.at("2013").ids) == 2 and len(tree.at("2016").ids) == 1
    assert len(tree.at("2011-12/2012-02").ids) == 2
    for bad in ("2013年", "13", "2013-13", "2013/xx"):
        with pytest.raises(us.InputError, match="is not a period"):
            tree.at(bad)
    with pytest.raises(us.InputError, match="period must be text"):
        tree.at(2013)  # type: ignore[arg-type]


def test_check_traces_are_shared_not_copied() -> None:
    # A chain 2,000 deep whose bottom unit's report differs from what its parent passed up:
    # every row's trace runs to the bottom, and all of them read the same links.
    n = 2000
    lines = ["id,name,level,kind,parent", "u0,u0,province,regional,"]
    lines += [f"u{i},u{i},city,regional,u{i - 1}" for i in range(1, n)]
    tree = us.Hierarchy(_core.Hierarchy.parse_csv("\n".join(lines) + "\n", "chain.csv"))
    form = us.forms()["songnuan-2018"]
    reps = [form.report(f"u{i}", "2018", {"01A": 10}) for i in range(n - 1)]
    reps.append(form.report(f"u{n - 1}", "2018", {"01A": 3}))  # the gap is made at the bottom
    df = tree.check(reps, form)
    rows = df[df["field"] == "01A"].reset_index(drop=True)
    assert len(rows) >= n - 2
    top = rows[rows["unit"] == "u0"].iloc[0]
    assert list(top["trace"]) == [f"u{i}" for i in range(n - 1)]
    links = {id(t._links) for t in rows["trace"]}
    assert len(links) == 1  # one set of links for every row
    assert top["trace"] == [f"u{i}" for i in range(n - 1)] and len(top["trace"]) == n - 1
