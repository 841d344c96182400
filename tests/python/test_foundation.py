"""The foundation: forms load, money is exact, errors name their place."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import unionstat as us


def test_bundled_form_has_sixty_fields(form: us.Form) -> None:
    assert len(form.fields) == 60
    out = subprocess.run(
        [sys.executable, "-c", "import unionstat as us; print(len(us.forms()['songnuan-2018'].fields))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "60"


def test_all_eight_forms_are_bundled() -> None:
    assert sorted(us.forms()) == [
        "bangfu-2011",
        "bangfu-2013",
        "bangfu-2014",
        "bangfu-2017",
        "songnuan-2012",
        "songnuan-2014",
        "songnuan-2015",
        "songnuan-2018",
    ]


def test_every_bundled_schema_matches_the_json_schema(root: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    yaml = pytest.importorskip("yaml")
    meta = json.loads((root / "schemas" / "form-schema.json").read_text(encoding="utf-8"))
    files = sorted((root / "schemas" / "forms").glob("*.yaml"))
    assert len(files) == 8
    for f in files:
        jsonschema.validate(yaml.safe_load(f.read_text(encoding="utf-8")), meta)


def test_money_is_exact(form: us.Form) -> None:
    rep = form.report("630100", "2018", {"05B": "0.10", "05C": "0.20"})
    assert rep.get("05B") + rep.get("05C") == Decimal("0.30")
    rep.set("05D", 0.1)  # a float is read through its shortest text: 0.1, not 0.1000000000000000055
    assert rep.get("05D") == Decimal("0.1")


def test_too_many_decimals_are_rejected_naming_the_field(form: us.Form) -> None:
    rep = form.report("630100", "2018")
    with pytest.raises(us.InputError) as info:
        rep.set("05C", "1.2345678")
    assert info.value.field == "05C"
    assert info.value.unit == "630100"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [-1, 1.5, "-1", "1.5"])
def test_counts_reject_negative_and_fractional_values(form: us.Form, value: object) -> None:
    rep = form.report("630100", "2018")
    with pytest.raises(us.InputError) as info:
        rep.set("01A", value)
    assert info.value.field == "01A"


def test_blank_is_not_zero(form: us.Form) -> None:
    rep = form.report("630100", "2018", {"01A": 0})
    assert rep.get("01A") == 0
    assert rep.get("01B") is None


def test_a_sum_past_int64_is_an_overflow_error(form: us.Form) -> None:
    rep = form.report("u", "2018", {"05A": "9000000000000"})  # 9e12 万元 = 9e18 分: fits
    rep.set("05B", "9000000000000")
    res = form.validate(rep)
    assert res is not None  # a large value itself is fine
    with pytest.raises(us.ExactOverflowError) as info:
        rep.set("05C", "9300000000000")  # 9.3e18 分 > int64
    assert info.value.field == "05C"
    assert isinstance(info.value, OverflowError)


def test_a_rule_overflow_is_an_error_result_not_a_crash(form: us.Form) -> None:
    # 05B + … + 05F overflows int64 in 分: the balance rule reports an error outcome.
    values = dict.fromkeys(("05A", "05B", "05C", "05D", "05E", "05F"), "9000000000000")
    res = form.validate(form.report("u", "2018", values))
    outcome = {o.rule_id: o for o in res.outcomes}["songnuan.group.funds_raised_by_source"]
    assert outcome.status == "error"
    assert outcome.reason == "overflow"
    assert not res.ok


def test_a_misspelt_schema_key_names_line_and_column(tmp_path: Path, root: Path) -> None:
    text = (root / "schemas" / "forms" / "songnuan-2018.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("  attachment: 附件1", "  atachment: 附件1", 1), encoding="utf-8")
    with pytest.raises(us.SchemaError) as info:
        us.load_form(bad)
    assert info.value.file == str(bad)
    assert (info.value.line, info.value.column) == (15, 3)
    assert "atachment" in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, us.Error)


def test_a_rule_syntax_error_shows_a_caret(tmp_path: Path, root: Path) -> None:
    text = (root / "schemas" / "forms" / "songnuan-2018.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad-rule.yaml"
    bad.write_text(text.replace('check: "02A <= 01A"', 'check: "02A <= (01A"', 1), encoding="utf-8")
    with pytest.raises(us.RuleError) as info:
        us.load_form(bad)
    diag = info.value.diagnostics[0]
    assert diag["rule"] == "songnuan.hardship_workers_within_workers"
    assert diag["column"] == 12
    assert "^" in diag["rendered"] and "expected ')'" in diag["message"]


def test_unknown_names_raise_key_errors(form: us.Form) -> None:
    with pytest.raises(KeyError):
        us.forms()["songnuan-1999"]
    with pytest.raises(us.UnknownNameError):
        form.report("u", "2018", {"99Z": 1})


def test_validating_one_report(form: us.Form) -> None:
    rep = form.report("630100", "2018", {"01A": 183000, "01B": 241000})
    res = form.validate(rep)
    assert not res.ok
    assert [o.rule_id for o in res.violations] == ["songnuan.part_of.01B"]
    v = res.violations[0]
    assert (v.lhs, v.rhs, v.difference) == ("241000", "183000", "58000")
    assert "241000" in v.message and "183000" in v.message_en
    assert res.explain("songnuan.part_of.01B").steps() == [
        (0, "01B <= 01A", "false"),
        (1, "01B", "241000"),
        (1, "01A", "183000"),
    ]


def test_raw_column_reads_blanks_as_zero_with_their_mask() -> None:
    import numpy as np

    from unionstat import _core

    schema = us.forms()["songnuan-2018"].schema
    batch = _core.ReportBatch(schema)
    n = 130  # two full bitmap words and a partial one
    batch.set_keys([f"u{i}" for i in range(n)], ["2018"] * n)
    values = np.arange(1, n + 1, dtype=np.int64) * 7  # stale values under the blanks
    blank = np.zeros(n, dtype=bool)
    blank[[0, 63, 64, 129]] = True
    batch.set_column_raw("01A", values, blank)
    got, missing = batch.raw_column("01A")
    assert missing.tolist() == blank.tolist()
    assert got[blank].tolist() == [0, 0, 0, 0]
    assert got[~blank].tolist() == values[~blank].tolist()
    batch.set_column_raw("02A", values)
    got, missing = batch.raw_column("02A")
    assert not missing.any() and got.tolist() == values.tolist()
