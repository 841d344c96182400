"""Contracts every path of the API keeps alike: unit ids stripped by one rule whichever
way they arrive, exact numbers of one type and scale wherever they leave."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import unionstat as us

# What office files put around an id: ASCII space and tab (typed), the ideographic space
# (a Chinese IME), the no-break space (Excel and pages pasted from the web), a byte-order
# mark (files joined or exported by Notepad) and the zero-width space (web pages).
PADDING = [" ", "\t", "\u3000", "\u00a0", "\ufeff", "\u200b", " \u3000\u00a0"]


def _units_csv(tmp_path: Path, pad: str) -> Path:
    f = tmp_path / "units.csv"
    f.write_text(
        "id,name,level,kind,parent\n"
        f"{pad}P{pad},省总工会,province,regional,\n"
        f"{pad}K1{pad},甲县,county,regional,{pad}P{pad}\n"
        f"{pad}K2,乙县,county,regional,P{pad}\n",
        encoding="utf-8",
    )
    return f


def _totals_of_p(tree: us.Hierarchy, data: object, form: us.Form) -> int:
    totals = tree.rollup(data, form)
    return int(totals.loc["P", "01A"])


@pytest.mark.parametrize("pad", PADDING, ids=[repr(p) for p in PADDING])
def test_a_padded_id_is_the_bare_id_in_units_files_and_in_every_report_path(
    tmp_path: Path, form: us.Form, pad: str
) -> None:
    tree = us.Hierarchy.read_csv(_units_csv(tmp_path, pad))
    assert sorted(tree.ids) == ["K1", "K2", "P"]
    assert tree.parent("K1") == "P"

    units = [f"{pad}K1{pad}", f"{pad}K2"]
    # CSV through the core's reader.
    csv = tmp_path / "reports.csv"
    csv.write_text("unit,period,01A\n" + "".join(f"{u},2018,{v}\n" for u, v in zip(units, (10, 5))), encoding="utf-8")
    batch = us.read_batch(csv, form)
    assert list(batch.units) == ["K1", "K2"]
    assert _totals_of_p(tree, batch, form) == 15
    # JSON with exact numbers.
    js = tmp_path / "reports.json"
    js.write_text(
        json.dumps([{"unit": u, "period": "2018", "01A": v} for u, v in zip(units, (10, 5))]), encoding="utf-8"
    )
    assert list(us.read_batch(js, form).units) == ["K1", "K2"]
    # pandas and pyarrow through the Arrow import.
    df = pd.DataFrame({"unit": units, "period": "2018", "01A": [10, 5]})
    assert _totals_of_p(tree, df, form) == 15
    pa = pytest.importorskip("pyarrow")
    assert _totals_of_p(tree, pa.table(df), form) == 15
    # One report built by hand.
    rep = form.report(unit=f"{pad}K1{pad}", period="2018", values={"01A": 10})
    assert rep.unit == "K1"
    # A tree made from a DataFrame.
    frame_tree = us.Hierarchy.from_pandas(
        pd.DataFrame(
            {
                "id": [f"{pad}P", f"K1{pad}"],
                "name": ["p", "k"],
                "level": ["province", "county"],
                "parent": ["", f"{pad}P{pad}"],
            }
        )
    )
    assert sorted(frame_tree.ids) == ["K1", "P"]
    assert frame_tree.parent("K1") == "P"


def test_secondary_parents_split_alike_in_a_units_file_and_a_frame(tmp_path: Path) -> None:
    f = tmp_path / "units.csv"
    f.write_text(
        "id,name,level,kind,parent,secondary_parents\nP,p,province,regional,,\nI,i,city,industry,P,\n"
        "J,j,city,industry,P,\nG,g,grassroots,enterprise,P,I；\u3000J\n",
        encoding="utf-8",
    )
    from_file = us.Hierarchy.read_csv(f)
    from_frame = us.Hierarchy.from_pandas(pd.read_csv(f, dtype=str, keep_default_na=False))

    def secondary(tree: us.Hierarchy) -> list[str]:
        core = tree.core
        return [core.id(i) for i in core.secondary_parents(core.index("G"))]

    assert secondary(from_file) == secondary(from_frame) == ["I", "J"]


def test_stripping_keeps_inner_spaces_and_other_characters() -> None:
    # The rule trims the ends only: an id with a space inside is kept as written.
    assert us.strip_id("\u00a0 63 01\u3000") == "63 01"
    assert us.strip_id("\ufeff630100\u200b") == "630100"
    assert us.strip_id("630100") == "630100"
    assert us.strip_id("\u2003630100") == "\u2003630100"  # an em space is not what office files hold


# ---------------------------------------------------------------------------------
# Exact numbers: one type and one scale on every path.


def _exact_shape(v: object) -> tuple[str, int]:
    assert isinstance(v, Decimal), f"{v!r} is not a Decimal"
    exp = v.as_tuple().exponent
    assert isinstance(exp, int)
    return (str(v), -exp)


def test_money_has_the_fields_reported_decimals_on_every_path(tmp_path: Path, form: us.Form) -> None:
    f05a = form.field("05A")
    assert f05a.decimals == 2
    rep = form.report(unit="K1", period="2018", values={"05A": 5, "01A": 3})
    got = rep.get("05A")
    assert _exact_shape(got) == ("5.00", 2)
    frame = us.batch_to_frame(form.batch([rep]))
    assert _exact_shape(frame.loc[0, "05A"]) == ("5.00", 2)

    tree = us.Hierarchy.read_csv(_units_csv(tmp_path, ""))
    df = pd.DataFrame(
        {
            "unit": ["K1", "K2", "P"],
            "period": "2018",
            "05A": [Decimal("5"), Decimal("1.5"), Decimal("9")],
            "05B": [None, None, None],
        }
    )
    totals = tree.rollup(df.iloc[:2], form)
    assert _exact_shape(totals.loc["P", "05A"]) == ("6.50", 2)
    gaps = tree.check(df, form)
    row = gaps[gaps["field"] == "05A"].iloc[0]
    assert _exact_shape(row["reported"]) == ("9.00", 2)
    assert _exact_shape(row["computed"]) == ("6.50", 2)
    assert _exact_shape(row["difference"]) == ("2.50", 2)
    # A tolerance finer than the reported decimals keeps its digits (never rounded away).
    assert _exact_shape(row["tolerance"])[0] in ("0.01", "0.005", "0.010")


def test_a_value_finer_than_the_reported_decimals_keeps_its_digits_and_no_more(form: us.Form) -> None:
    rep = form.report(unit="K1", period="2018", values={"05A": "1.2345"})
    assert _exact_shape(rep.get("05A")) == ("1.2345", 4)


# ---------------------------------------------------------------------------------
# explain(): a tree with a text and an HTML view, showing each comparison's tolerance.


def _funds(form: us.Form, parts_sum_to: str) -> us.Report:
    # 05B..05E add to 8.00; 05F makes the parts add to `parts_sum_to` against 05A = 10.00.
    last = str(Decimal(parts_sum_to) - 8)
    return form.report(
        unit="K1",
        period="2018",
        values={"05A": "10.00", "05B": "2.00", "05C": "3.00", "05D": "1.00", "05E": "2.00", "05F": last},
    )


def test_explain_is_a_tree_whose_comparison_shows_the_default_tolerance(form: us.Form) -> None:
    rule = "songnuan.group.funds_raised_by_source"  # 05A == 05B + 05C + 05D + 05E + 05F
    e = form.validate(_funds(form, "9.98")).explain(rule)
    assert isinstance(e, us.Explanation)
    assert (e.rule, e.source, e.value, e.passed) == (rule, "05A == 05B + 05C + 05D + 05E + 05F", "true", True)
    # Five 万元 terms reported to 2 decimals: 5 × 0.005 = 0.025 万元, the default.
    assert (e.tolerance, e.unit, e.stated_tolerance) == ("0.025", "万元", False)
    lhs, rhs = e.children
    assert (lhs.source, lhs.value, lhs.unit, lhs.tolerance) == ("05A", "10", "万元", None)
    assert rhs.value == "9.98"
    leaves = [n.source for n in e.walk() if not n.children]
    assert leaves == ["05A", "05B", "05C", "05D", "05E", "05F"]
    text = str(e)
    assert text.splitlines()[0].startswith(rule) and "tolerance 0.025 万元" in text and "default" in text
    assert all(code in text for code in leaves)
    html = e._repr_html_()
    assert "<ul" in html and "0.025" in html and "05F" in html
    # Off by 0.03: outside the tolerance, and the explanation says so.
    off = form.validate(_funds(form, "9.97")).explain(rule)
    assert (off.value, off.passed, off.tolerance) == ("false", False, "0.025")
    assert (e.status, off.status) == ("pass", "fail")


def test_explain_of_a_skipped_rule_says_it_was_skipped_and_why(form: us.Form) -> None:
    # 05A..05F blank: skip_if_any_missing skips the group's rule, whatever the tree computes.
    rep = form.report(unit="K1", period="2018", values={"01A": 10})
    e = form.validate(rep).explain("songnuan.group.funds_raised_by_source")
    assert (e.status, e.reason) == ("skipped", "missing")
    assert str(e).splitlines()[0] == "songnuan.group.funds_raised_by_source: skipped (missing)"
    assert "skipped (missing)" in e._repr_html_()
    assert e.children[0].value == "blank"


def test_explain_of_a_one_to_one_comparison_shows_it_is_exact(form: us.Form) -> None:
    rep = form.report(unit="K1", period="2018", values={"01A": 183000, "01B": 241000})
    e = form.validate(rep).explain("songnuan.part_of.01B")
    assert (e.value, e.tolerance, e.unit) == ("false", "0", "人")
    assert "exact" in str(e)
    assert e.steps() == [(0, "01B <= 01A", "false"), (1, "01B", "241000"), (1, "01A", "183000")]


def test_explain_shows_a_rules_own_tolerance(tmp_path: Path) -> None:
    text = (
        (Path(us.schema_dir()) / "songnuan-2018.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "rules:\n",
            'rules:\n  - id: test.close\n    check: "05A == 05B + 05C"\n    tolerance: "0.1"\n'
            "    message: x\n    message_en: x\n",
            1,
        )
    )
    p = tmp_path / "f.yaml"
    p.write_text(text, encoding="utf-8")
    form = us.load_form(p)
    rep = form.report(unit="K1", period="2018", values={"05A": "10.00", "05B": "6.00", "05C": "3.95"})
    e = form.validate(rep).explain("test.close")
    assert (e.value, e.tolerance, e.stated_tolerance) == ("true", "0.1", True)
    assert "the rule's tolerance" in str(e)


# ---------------------------------------------------------------------------------
# Docstrings: every public name, and every public member of every public class.


def _doc_text(obj: object, name: str) -> str:
    """The docstring without the signature lines pybind11 writes into every one."""
    import re

    doc = getattr(obj, "__doc__", None) or ""
    owner = getattr(obj, "__objclass__", None)
    if not doc and isinstance(getattr(owner, "__slots__", None), dict):
        doc = owner.__slots__.get(name, "")  # a slot documented as help() reads it
    kept = []
    for line in doc.splitlines():
        s = line.strip()
        if re.match(rf"^(\d+\. )?{re.escape(name)}\(.*\)( -> .*)?$", s) or s == "Overloaded function.":
            continue
        kept.append(s)
    return "\n".join(kept).strip()


def _members(cls: type) -> list[tuple[str, object]]:
    import inspect

    out = []
    for attr, member in vars(cls).items():
        if attr.startswith("_"):
            continue
        if isinstance(member, (classmethod, staticmethod)):
            member = member.__func__
        if inspect.isroutine(member) or isinstance(member, property) or inspect.isdatadescriptor(member):
            out.append((attr, member))
    return out


def _public_objects() -> list[tuple[str, object]]:
    """Every name of ``unionstat.__all__`` and of each public module's ``__all__``, and every
    class of the compiled core (its objects reach users as attributes: ``form.rules`` …)."""
    import importlib
    import inspect

    from unionstat import _core

    seen: dict[str, object] = {name: getattr(us, name) for name in us.__all__}
    for module in ("forms", "graph", "io", "rules", "frames", "crosswalks", "localise", "outliers", "package"):
        mod = importlib.import_module(f"unionstat.{module}")
        for name in mod.__all__:
            seen.setdefault(name, getattr(mod, name))
    for name in dir(_core):
        obj = getattr(_core, name)
        if not name.startswith("_") and inspect.isclass(obj):
            seen.setdefault(name, obj)
    return list(seen.items())


def test_every_public_name_and_member_has_a_docstring() -> None:
    import inspect

    undocumented = []
    for name, obj in _public_objects():
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        if not _doc_text(obj, name):
            undocumented.append(name)
        if inspect.isclass(obj):
            for attr, member in _members(obj):
                if not _doc_text(member, attr):
                    undocumented.append(f"{name}.{attr}")
    assert undocumented == []


def test_the_docstring_check_sees_a_pybind_signature_as_no_docstring() -> None:
    # What the walk above relies on: pybind11 writes the signature into every __doc__.
    class Fake:
        __doc__ = "get(self: unionstat._core.Report, code: str) -> object\n"

    assert _doc_text(Fake, "get") == ""
    assert _doc_text(us.strip_id, "strip_id") != ""
