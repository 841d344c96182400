"""Error localisation (Fellegi–Holt with HiGHS): one broken relation → one field of it,
two unrelated → two fields, missing strategies, weights, ties, batches, the CLI and the
hierarchy's gaps. Every suggestion is checked here with the core's validator, not only
by the flag the localiser sets."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

import unionstat as us
from unionstat import _core
from unionstat.cli import main
from unionstat.ruleset import _Analyser

FORMS = sorted(us.forms())


def _error_rules(form: us.Form) -> set[str]:
    return {r.id for r in form.rules if r.severity == "error"}


def _failing(form: us.Form, rep: _core.Report) -> list[str]:
    return [o.rule_id for o in form.validate(rep).violations if o.severity == "error"]


def _with(form: us.Form, rep: _core.Report, values: dict[str, Any]) -> _core.Report:
    out = form.report(rep.unit, rep.period, rep.to_dict())
    for code, v in values.items():
        out.set(code, v)
    return out


def _valid_base(form: us.Form) -> dict[str, Any]:
    """A complete report passing every error rule, each figure at least 10 units (the
    least such, found by HiGHS) so that a figure can be moved either way."""
    from unionstat.mip import Problem

    an = _Analyser(form.schema)
    values: dict[str, Any] = dict.fromkeys(an.codes, 0)
    for part in an.parts():
        n = len(part.fields)
        floor = [0 if k == "flag" else 10 * u for k, u in zip(part.kinds, part.unit_raw)]
        active = [an.rules[r].severity == "error" for r in part.rules]
        prob = Problem(part.models, n, part.unit_raw, part.kinds, floor, [False] * n, active, [0.0] * n, 10**6)
        cost = [0.0] * len(prob.lp.cost)
        for f in range(n):
            cost[prob.dp[f]] = 1.0
        s = prob.solve(an.highs, cost=cost, col_bounds={prob.dm[f]: (0.0, 0.0) for f in range(n)})
        assert s.status == "optimal", part.fields
        for f, g in enumerate(part.fields):
            raw = floor[f] + round(s.values[prob.dp[f]]) * an.unit_raw[g]
            values[an.codes[g]] = us.localise.value_of(an.kinds[g], an.scales[g], an.decimals[g], raw)
    return values


def _breaking_only(form: us.Form, base: dict[str, Any], rule_id: str) -> _core.Report | None:
    """The valid base with one figure of the rule moved so that this rule, and no other
    error rule, fails (found by trying moves with the core's validator)."""
    rule = next(r for r in form.rules if r.id == rule_id)
    codes = [c for c in rule.check.replace("+", " ").replace("=", " ").replace("<", " ").split() if c in base]
    for code in codes:
        f = form.field(code)
        unit = Decimal("0.01") if f.type == "money" else 1
        for step in (1, -1, 10, -10, 1000, -1000):
            v = base[code] + step * unit
            if v < 0:
                continue
            rep = form.report("u1", "2018", {**base, code: v})
            if _failing(form, rep) == [rule_id]:
                return rep
    return None


def _codes(form: us.Form, rule_id: str) -> list[str]:
    rule = next(r for r in form.rules if r.id == rule_id)
    return [
        f.code
        for f in form.fields
        if f.code in rule.check.replace("+", " ").replace("=", " ").replace("<", " ").split()
    ]


def _solver_breaking_only(form: us.Form, rule_id: str) -> _core.Report | None:
    """A complete report passing every error rule but ``rule_id``, found by HiGHS."""
    an = _Analyser(form.schema)
    for part in an.parts():
        ids = [an.rules[r].id for r in part.rules]
        if rule_id not in ids:
            continue
        j = ids.index(rule_id)
        active = {k for k, r in enumerate(part.rules) if an.rules[r].severity == "error" and k != j}
        prob, s = part.solve(active, fail=j, cost=dict.fromkeys(range(len(part.fields)), 1.0))
        if s.status != "optimal":
            return None
        values: dict[str, Any] = dict.fromkeys(an.codes, 0)
        for f, g in enumerate(part.fields):
            units = round(s.values[prob.dp[f]])
            values[an.codes[g]] = us.localise.value_of(
                an.kinds[g], an.scales[g], an.decimals[g], units * an.unit_raw[g]
            )
        return form.report("u1", "2018", values)
    return None


def _relations(form_id: str) -> list[str]:
    form = us.forms()[form_id]
    return [r.id for r in form.rules if r.severity == "error" and (".part_of." in r.id or ".group." in r.id)]


@pytest.mark.parametrize("form_id", FORMS)
def test_one_broken_relation_gives_one_of_its_fields_and_a_value_that_passes(form_id: str) -> None:
    form = us.forms()[form_id]
    base = _valid_base(form)
    assert _failing(form, form.report("u1", "2018", base)) == []
    redundant = {f.rules[0] for f in form.analyse_rules().of("redundant")}
    tried, missed = 0, []
    for rule_id in _relations(form_id):
        rep = _breaking_only(form, base, rule_id)
        if rep is None:  # no move breaks it alone
            missed.append(rule_id)
            continue
        loc = form.localise(rep)
        assert loc is not None and loc.status == "ok" and loc.verified
        rule = next(r for r in form.rules if r.id == rule_id)
        reads = {
            f.code
            for f in form.fields
            if f.code in rule.check.replace("+", " ").replace("=", " ").replace("<", " ").split()
        }
        assert len(loc.fields) == 1 and loc.fields[0] in reads, (rule_id, loc)
        assert loc.weight == 1.0
        fixed = _with(form, rep, loc.values)
        assert _failing(form, fixed) == [], (rule_id, loc)
        # Others kept as reported: only the suggested field differs.
        before, after = rep.to_dict(), fixed.to_dict()
        assert [c for c in before if before[c] != after[c]] == loc.fields
        tried += 1
    assert tried >= 3
    # A relation no single move breaks alone is either implied by the others (a part of
    # an exhaustive breakdown), or tied to breakdowns on both sides (bangfu's 其中事业单位
    # 01B_2 <= 01B, both parts of exhaustive breakdowns): a report breaking it alone, as
    # HiGHS finds one, is mended with one of its fields (and another of a breakdown).
    for rule_id in missed:
        if rule_id in redundant:
            continue
        rep = _solver_breaking_only(form, rule_id)
        assert rep is not None and _failing(form, rep) == [rule_id]
        loc = form.localise(rep)
        assert loc.verified and _failing(form, _with(form, rep, loc.values)) == []
        reads = set(_codes(form, rule_id))
        assert reads & set(loc.fields) and loc.weight in (1, 2), (rule_id, loc)
        if loc.weight == 1:
            assert loc.fields[0] in reads


@pytest.mark.parametrize("form_id", FORMS)
def test_two_unrelated_relations_on_each_bundled_form_give_two_fields(form_id: str) -> None:
    # Two relations in different connected parts of the error rules, each broken alone by
    # one move of the valid base; both moves together: one field of each relation.
    form = us.forms()[form_id]
    base = _valid_base(form)
    loc = form._localiser()
    part = {loc.rules[i].id: k for i, k in loc.part_of_rule.items()}
    moves: list[tuple[str, dict[str, Any]]] = []
    for rule_id in _relations(form_id):
        if rule_id not in part or any(part[r] == part[rule_id] for r, _m in moves):
            continue
        rep = _breaking_only(form, base, rule_id)
        if rep is None:
            continue
        after = rep.to_dict()
        moves.append((rule_id, {c: v for c, v in after.items() if base.get(c) != v}))
        if len(moves) == 2:
            break
    assert len(moves) == 2, moves
    (r1, m1), (r2, m2) = moves
    rep = form.report("u1", "2018", {**base, **m1, **m2})
    assert sorted(_failing(form, rep)) == sorted([r1, r2])
    got = form.localise(rep)
    assert got.status == "ok" and got.verified and got.weight == 2 and len(got.fields) == 2, got
    assert {f for f in got.fields if f in _codes(form, r1)} and {f for f in got.fields if f in _codes(form, r2)}, got
    fixed = _with(form, rep, got.values)
    assert _failing(form, fixed) == []
    before, after = rep.to_dict(), fixed.to_dict()
    assert sorted(c for c in before if before[c] != after[c]) == sorted(got.fields)


def test_two_unrelated_relations_give_two_fields(form: us.Form) -> None:
    rep = form.report("u", "2018", {"01A": 100, "01B": 120, "09A": 10, "09B": 3, "09C": 3, "09D": 3, "09E": 3})
    assert sorted(_failing(form, rep)) == ["songnuan.group.worker_services_by_kind", "songnuan.part_of.01B"]
    loc = form.localise(rep)
    assert loc.weight == 2 and len(loc.fields) == 2
    assert {loc.fields[0] in ("01A", "01B"), loc.fields[1][:2] == "09"} == {True}
    assert loc.ties  # 01A or 01B; 09A or any part
    assert _failing(form, _with(form, rep, loc.values)) == []


def test_the_deductive_value_of_a_total_is_its_parts_sum_to_the_fen(form: us.Form) -> None:
    # 05A must equal its parts within half a 分-rounding per term; the value suggested is
    # the exact sum, not merely one inside the tolerance.
    parts = {"05B": "50.00", "05C": "30.00", "05D": "10.00", "05E": "5.00", "05F": "6.55"}
    rep = form.report("u", "2018", {"05A": "100.00", **parts})
    loc = form.localise(rep, weights=dict.fromkeys(parts, 5))
    assert loc.fields == ["05A"] and not loc.ties
    assert loc.values["05A"] == Decimal("101.55") and isinstance(loc.values["05A"], Decimal)
    assert str(loc.record()["values"]["05A"]) == "101.55"


def test_weights_choose_which_field_changes(form: us.Form) -> None:
    rep = form.report("u", "2018", {"01A": 100, "01B": 120})
    assert form.localise(rep, weights={"01A": 3}).fields == ["01B"]
    loc = form.localise(rep, weights={"workers.migrant": 3})  # a concept key works too
    assert loc.fields == ["01A"] and loc.values == {"01A": 120} and loc.weight == 1 and not loc.ties
    with pytest.raises(us.UnknownNameError, match="no field 'nope'"):
        form.localise(rep, weights={"nope": 2})
    with pytest.raises(us.InputError, match="must be positive"):
        form.localise(rep, weights={"01A": 0})


def test_totals_weigh_more_than_their_parts_when_asked(form: us.Form) -> None:
    rep = form.report("u", "2018", {"01A": 100, "01B": 120})
    loc = form.localise(rep, totals=2)
    # 01A is the total of part_of 01B: at weight 2 the part changes, and no tie remains.
    assert loc.fields == ["01B"] and loc.values == {"01B": 100} and loc.weight == 1 and not loc.ties
    # A group's total too: 09A against its kinds.
    rep = form.report("u", "2018", {"09A": 10, "09B": 3, "09C": 3, "09D": 3, "09E": 3})
    loc = form.localise(rep, totals=2)
    assert loc.fields[0] in ("09B", "09C", "09D", "09E") and loc.weight == 1 and loc.values[loc.fields[0]] == 1
    plain = form.localise(rep)  # at weight 1 the total and each kind tie
    assert plain.ties and plain.weight == 1
    # An explicit weight wins over totals=.
    assert form.localise(form.report("u", "2018", {"01A": 100, "01B": 120}), totals=2, weights={"01B": 5}).fields == [
        "01A"
    ]
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(us.InputError, match="totals"):
            form.localise(rep, totals=bad)


def test_bad_weights_and_workers_are_input_errors_naming_the_field(form: us.Form) -> None:
    rep = form.report("u", "2018", {"01A": 100, "01B": 120})
    for bad in (float("inf"), float("nan"), "heavy", -2):
        with pytest.raises(us.InputError, match="01B has weight") as info:
            form.localise(rep, weights={"01B": bad})
        assert info.value.field == "01B"
    df, _bad = _planted(40, seed=5)
    with pytest.raises(us.InputError, match="workers: 0"):
        form.localise(df, workers=0)


def test_scale_weighs_whole_reports_and_bad_factors_name_the_unit(form: us.Form) -> None:
    df, bad = _planted(40, seed=5)
    u = sorted(bad)[0]
    res = form.localise(df, scale={u: 3}, workers=1)
    weights = {x.unit: x.weight for x in res}
    assert weights[u] == 3 and {w for k, w in weights.items() if k != u} == {1}
    per_row = [3.0 if x == u else 1.0 for x in df["unit"]]
    assert [x.record() for x in form.localise(df, scale=per_row, workers=1)] == [x.record() for x in res]
    with pytest.raises(us.InputError, match="scale: 3 factors for 40 reports"):
        form.localise(df, scale=[1, 2, 3])
    with pytest.raises(us.InputError, match=f"the factor of unit {u} is 0") as info:
        form.localise(df, scale={u: 0})
    assert info.value.unit == u and info.value.row == int(df.index[df["unit"] == u][0]) + 1


def test_ties_are_reported_with_an_alternative(form: us.Form) -> None:
    loc = form.localise(form.report("u", "2018", {"01A": 100, "01B": 120}))
    assert loc.ties and sorted(loc.fields + loc.alternative) == ["01A", "01B"]


def test_missing_values_follow_each_rules_strategy(form: us.Form) -> None:
    # skip_if_any_missing: 01A blank → the part_of rule is skipped, nothing to localise.
    assert form.localise(form.report("u", "2018", {"01B": 120})) is None
    # never_skip: a heating amount with the households blank fails; the fix fills the
    # blank (07I > 0) or clears the amount — never leaves the blank counted as a value.
    rep = form.report("u", "2018", {"07J": "3.20"})
    assert _failing(form, rep) == ["songnuan.heating_amount_needs_households"]
    loc = form.localise(rep)
    assert loc.verified and loc.ties and loc.weight == 1
    assert sorted(loc.fields + loc.alternative) == ["07I", "07J"]
    fixed = _with(form, rep, loc.values)
    assert _failing(form, fixed) == []
    if loc.fields == ["07I"]:
        assert loc.reported == {"07I": None} and loc.values["07I"] >= 1
    # A blank filled in brings its skip_if_any rules in: filling 01A (blank) to fix
    # nothing is never suggested, and a fill must satisfy them.
    rep = form.report("u", "2018", {"01B": 120, "02A": 10, "02B": 130})
    loc = form.localise(rep)  # 02B <= 02A and 02B <= 01B fail; 01A blank skips part_of.01B
    assert loc.weight == 1 and loc.fields == ["02B"] and loc.values["02B"] <= 10
    assert _failing(form, _with(form, rep, loc.values)) == []


def test_skip_if_all_missing_rules_count_blanks_as_zero() -> None:
    text = _mini_form(
        "test-2018",
        """
  - {code: 01A, row: "01", letter: A, key: a.total, label: 总数, label_en: total, type: count, unit: 人}
  - {code: 01B, row: "01", letter: B, key: a.part, label: 其中, label_en: part, type: count, unit: 人}
  - {code: 01C, row: "01", letter: C, key: a.other, label: 其他, label_en: other, type: count, unit: 人}
""",
        """
  - id: songnuan.t_sum
    check: "01B + 01C <= 01A"
    missing: skip_if_all_missing
    message: 分项超过总数
    message_en: parts exceed the total
""",
    )
    form = us.Form(_core.load_form_text(text, "t.yaml"))
    rep = form.report("u", "2018", {"01B": 5, "01C": 4})  # 01A blank counts as 0
    loc = form.localise(rep)
    assert loc.verified and loc.fields == ["01A"] and loc.values == {"01A": 9} and loc.reported == {"01A": None}
    assert form.localise(form.report("u", "2018", {})) is None


def _mini_form(form_id: str, fields: str, rules: str) -> str:
    return f"""id: {form_id}
family: songnuan
year: 2018
title: 测试表
title_en: Test table
script: simplified
source: {{issuer: 测试, issuer_en: Test, notice: "1", seed: none, attachment: 附件1}}
period: 2018
missing: skip_if_any_missing
rows:
  - {{row: "01", heading: "", heading_en: ""}}
fields:{fields}rules:{rules}"""


def _planted(n: int, seed: int = 7) -> tuple[pd.DataFrame, set[str]]:
    from unionstat.sample import grassroots

    _tree, df = grassroots(n, seed=seed)
    rng = np.random.default_rng(seed)
    bad = rng.choice(n, size=n // 4, replace=False)
    for i in bad:
        if i % 2:
            df.loc[i, "01B"] = int(df.loc[i, "01A"]) + 1 + int(rng.integers(0, 50))
        else:
            df.loc[i, "09A"] = int(df.loc[i, "09A"]) + 1 + int(rng.integers(0, 50))
    return df, set(df["unit"].iloc[bad])


def test_a_batch_localises_only_its_failing_rows(form: us.Form) -> None:
    df, bad = _planted(400)
    res = form.localise(df, workers=1)
    assert {x.unit for x in res} == bad and res.reports == 400
    assert all(x.status == "ok" and x.verified and x.weight == 1 and len(x.fields) == 1 for x in res)
    # Apply every suggestion: the whole batch then passes every error rule.
    fixed = df.copy()
    pos = {u: i for i, u in enumerate(df["unit"])}
    for x in res:
        for c, v in x.values.items():
            fixed.loc[pos[x.unit], c] = v
    check = form.check(fixed)
    assert check.summary.query("severity == 'error'")["fails"].sum() == 0
    frame = res.to_frame()
    assert list(frame.columns[:6]) == ["unit", "period", "row", "field", "reported", "suggested"]
    assert len(frame) == len(res)
    rec = res.records()[0]
    assert set(rec) >= {"unit", "period", "fields", "values"} and all(
        isinstance(v, str) for v in rec["values"].values()
    )


def test_a_batch_on_two_processes_gives_what_one_gives(form: us.Form) -> None:
    df, _bad = _planted(1800, seed=3)
    one = form.localise(df, workers=1)
    two = form.localise(df, workers=2)
    assert len(one) >= 400
    assert [x.record() for x in one] == [x.record() for x in two]


def test_hierarchy_gaps_rank_the_report_whose_change_explains_them() -> None:
    form = us.forms()["songnuan-2018"]
    tree = us.Hierarchy.sample("qinghai")
    city = "630100"
    kids = tree.children(city)[:2]
    # Children: 09A equals its parts in each; the city reports 09A 5 more than they add to.
    rows = [
        {"unit": kids[0], "09A": 40, "09B": 10, "09C": 10, "09D": 10, "09E": 10},
        {"unit": kids[1], "09A": 20, "09B": 5, "09C": 5, "09D": 5, "09E": 5},
        {"unit": city, "09A": 65, "09B": 15, "09C": 20, "09D": 15, "09E": 15},
    ]
    reports = pd.DataFrame(rows).assign(period="2018")
    ranked = tree.localise_gaps(reports, form)
    at = ranked[ranked["unit"] == city]
    # The city's own 09A equals its own parts (65 = 15+20+15+15) but its 09C is 5 above
    # the children's: changing the city's 09C alone breaks its 09A = parts, so the city
    # changes 09C and 09A (weight 2) — or a child changes 09C and 09A (weight 2): ties.
    first = at.iloc[0]
    assert first["rank"] == 1 and first["weight"] == 2 and first["ties"]
    assert set(at["candidate"]) == {city, *kids}
    city_row = at[at["candidate"] == city].iloc[0]
    assert city_row["values"] == {"09A": 60, "09C": 15}
    # Consolidated reports more reliable: the city weighs 3× and ranks last.
    ranked = tree.localise_gaps(reports, form, level_scale={"city": 3})
    at = ranked[ranked["unit"] == city]
    assert at.iloc[-1]["candidate"] == city and at.iloc[-1]["weight"] == 6 and at.iloc[0]["role"] == "child"


def test_cli_localise_json_and_exit_status(tmp_path: Any, capsys: Any, form: us.Form) -> None:
    df, bad = _planted(80, seed=11)
    path = tmp_path / "r.csv"
    df.to_csv(path, index=False)
    assert main(["localise", str(path), "--form", "songnuan-2018", "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {r["unit"] for r in out} == bad
    for r in out:
        assert set(r) >= {"unit", "period", "fields", "values"} and len(r["fields"]) == 1
        assert all(isinstance(v, str) for v in r["values"].values())
    assert main(["localise", str(path), "--form", "songnuan-2018", "--weights", "01A=2,09A=2", "--lang", "en"]) == 1
    table = capsys.readouterr().out
    assert "suggested" in table
    clean = tmp_path / "clean.csv"
    df[~df["unit"].isin(bad)].to_csv(clean, index=False)
    assert main(["localise", str(clean), "--form", "songnuan-2018", "--format", "csv"]) == 0
    assert main(["localise", str(path), "--form", "songnuan-2018", "--weights", "01A"]) == 2
    assert "is not CODE=WEIGHT" in capsys.readouterr().err
    assert main(["localise", str(path), "--form", "songnuan-2018", "--weights", "01A=0"]) == 2
    assert "01A has weight" in capsys.readouterr().err
    assert main(["localise", str(path), "--form", "songnuan-2018", "--totals", "2", "--format", "json"]) == 1
    heavy = json.loads(capsys.readouterr().out)
    # Planted: 01B above 01A, or 09A above its kinds. With totals weighing 2, the part
    # changes where the total did before (01A, 09A are totals).
    assert {r["unit"] for r in heavy} == bad
    assert not any(set(r["fields"]) & {"01A", "09A"} for r in heavy)
    assert main(["localise", str(path), "--form", "songnuan-2018", "--totals", "0"]) == 2
    assert main(["localise", str(tmp_path / "none.csv"), "--form", "songnuan-2018"]) == 2


def _varied(form: us.Form, n: int, seed: int) -> pd.DataFrame:
    """Reports of every kind of slip around a valid base: one to three figures moved up
    or down by a little or a lot, typed ×10,000, zeroed or left blank, flags flipped."""
    base = _valid_base(form)
    rng = np.random.default_rng(seed)
    codes = [f.code for f in form.fields]
    rows = []
    for i in range(n):
        row: dict[str, Any] = dict(base)
        for code in rng.choice(codes, size=int(rng.integers(1, 4)), replace=False):
            f = form.field(str(code))
            how = int(rng.integers(0, 6))
            if f.type == "flag":
                row[code] = 1 - int(row[code]) if how < 5 else None
                continue
            unit = Decimal("0.01") if f.type == "money" else 1
            if how == 0:
                row[code] = row[code] + int(rng.integers(1, 40)) * unit
            elif how == 1:
                row[code] = max(row[code] - int(rng.integers(1, 40)) * unit, 0 * unit)
            elif how == 2:
                row[code] = row[code] * 10_000
            elif how == 3:
                row[code] = 0 * unit
            elif how == 4:
                row[code] = None
            else:
                row[code] = row[code] + 1 * unit  # a one-unit slip: often several single fields mend it
        rows.append({"unit": f"u{i}", "period": "2018", **row})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("form_id", "n"), [("songnuan-2018", 120), ("songnuan-2012", 120), ("songnuan-2015", 120)])
def test_deduced_answers_are_the_solvers_answers(form_id: str, n: int, monkeypatch: Any) -> None:
    """The second and third solves answered deductively (unionstat.deduce) give the
    fields, values, weights, ties and alternatives that HiGHS gives on every report —
    ties, blanks, money, flags and uneven weights included — and the deductive path is
    taken for most reports."""
    from unionstat.localise import Localiser, localise_batch

    form = us.forms()[form_id]
    df = _varied(form, n, seed=13)
    batch = form.batch(df)
    rng = np.random.default_rng(5)
    uneven = {f.code: float(rng.choice([0.5, 1.0, 1.5, 2.0, 3.0])) for f in form.fields}
    calls = {"deduced": 0}
    nearest = Localiser._nearest_deduced

    def counted(*args: Any) -> Any:
        out = nearest(*args)
        calls["deduced"] += out is not None
        return out

    monkeypatch.setattr(Localiser, "_nearest_deduced", staticmethod(counted))
    ties = 0
    for kw in ({}, {"totals": 2.0}, {"weights": uneven}):
        fast, slow = Localiser(form.schema), Localiser(form.schema)
        slow.deduce = False
        a = localise_batch(form.schema, batch, workers=1, localiser=fast, **kw)  # type: ignore[arg-type]
        b = localise_batch(form.schema, batch, workers=1, localiser=slow, **kw)  # type: ignore[arg-type]
        assert len(a) >= n // 3
        assert [x.record() for x in a] == [x.record() for x in b]
        ties += sum(x.ties for x in a)
    assert ties >= n // 4 and calls["deduced"] >= n // 2


def test_a_loose_solution_counts_only_when_exactly_feasible() -> None:
    from unionstat.mip import _Lp, exactly_feasible

    lp = _Lp()
    d, z = lp.col(0.0, 10.0), lp.col(0.0, 1.0)
    lp.row([d, z], [1.0, -3_500_000.0], -float("inf"), 0.0)  # d ≤ M z
    arrays = lp.arrays()
    assert exactly_feasible(arrays, np.array([3.0, 1.0]))
    assert exactly_feasible(arrays, np.array([0.0, 0.0]))
    # z within HiGHS's own tolerance of 0 lets d = 3 through; rounded, it does not.
    assert not exactly_feasible(arrays, np.round(np.array([3.0, 1e-6])))
    assert not exactly_feasible(arrays, np.array([11.0, 1.0]))


def test_deduced_answers_round_inwards_and_leave_a_choice_between_equals_to_the_solver() -> None:
    """Rows with coefficients other than ±1 (the bound on a field rounded inwards) and a
    `!=` rule that two changes mend at the same distance (5 → 4 or 6): the deduced and
    the solver's answers agree report by report."""
    from unionstat.localise import Localiser, localise_batch

    text = _mini_form(
        "test-2018",
        """
  - {code: 01A, row: "01", letter: A, key: a.total, label: 总数, label_en: total, type: count, unit: 人}
  - {code: 01B, row: "01", letter: B, key: a.part, label: 其中, label_en: part, type: count, unit: 人}
  - {code: 01C, row: "01", letter: C, key: a.money, label: 金额, label_en: money, type: money, unit: 万元}
  - {code: 01D, row: "01", letter: D, key: a.odd, label: 单数, label_en: odd, type: count, unit: 人}
  - {code: 01E, row: "01", letter: E, key: a.fifth, label: 五分之一, label_en: a fifth, type: count, unit: 人}
""",
        """
  - id: songnuan.t_three
    check: "3 * 01B <= 2 * 01A"
    message: 分项过多
    message_en: too many
  - id: songnuan.t_money
    check: "01C * 10000 <= 7 * 01A"
    message: 金额过多
    message_en: too much money
  - id: songnuan.t_not_five
    check: "01D != 5"
    message: 不能为5
    message_en: not five
  - id: songnuan.t_fifth
    check: "5 * 01E >= 01A + 2"
    message: 五分之一不足
    message_en: a fifth too few
""",
    )
    form = us.Form(_core.load_form_text(text, "t.yaml"))
    rng = np.random.default_rng(3)
    rows = []
    for i in range(150):
        a = int(rng.integers(0, 60))
        wild = rng.random(3) < 0.3  # each rule of the 01A part broken now and then
        rows.append(
            {
                "unit": f"u{i}",
                "period": "2018",
                "01A": a,
                "01B": int(rng.integers(0, 60)) if wild[0] else 2 * a // 3,
                "01C": Decimal(int(rng.integers(0, 5)) if wild[1] else 7 * a // 100) / 100,
                "01D": int(rng.choice([5, 3, 3, 3])),
                "01E": int(rng.integers(0, 14)) if wild[2] else (a + 6) // 5,
            }
        )
    batch = form.batch(pd.DataFrame(rows))
    fast, slow = Localiser(form.schema), Localiser(form.schema)
    slow.deduce = False
    for weights in (None, {"01B": 0.5, "01C": 0.5, "01E": 0.5}):  # the parts, then the totals, change
        a = localise_batch(form.schema, batch, workers=1, localiser=fast, weights=weights)
        b = localise_batch(form.schema, batch, workers=1, localiser=slow, weights=weights)
        assert len(a) >= 80 and all(x.verified for x in a)
        assert [x.record() for x in a] == [x.record() for x in b]
        assert {x.values["01D"] for x in a if x.fields == ["01D"]} <= {4, 6}


def _weighted_form(extra: str = "", weight: str = "3") -> us.Form:
    """songnuan-2018 with 01A declared more reliable (``weight``) and ``extra`` at the top level."""
    with open(us.forms()["songnuan-2018"].schema.file, encoding="utf-8") as fh:
        text = fh.read()
    assert "{code: 01A, " in text
    text = text.replace("{code: 01A, ", f"{{code: 01A, weight: {weight}, ", 1)
    if extra:
        text = text.replace("missing: skip_if_any_missing", "missing: skip_if_any_missing\n" + extra, 1)
    return us.Form(_core.load_form_text(text, "weighted.yaml"))


def test_a_form_declares_field_weights_and_localise_uses_them_unless_the_caller_overrides() -> None:
    plain = us.forms()["songnuan-2018"]
    assert all(f.weight == 1 for f in plain.schema.fields) and plain.schema.level_scale == {}
    form = _weighted_form()
    assert form.schema.fields[form.schema.index("01A")].weight == 3
    rep = form.report("u", "2018", {"01A": 100, "01B": 120})  # 其中农民工 above the total
    assert plain.localise(plain.report("u", "2018", {"01A": 100, "01B": 120})).ties
    loc = form.localise(rep)
    assert loc.fields == ["01B"] and loc.values == {"01B": 100} and loc.weight == 1 and not loc.ties
    # The caller's weights and totals win over the form's.
    assert form.localise(rep, weights={"01A": 1, "01B": 5}).fields == ["01A"]
    assert form.localise(rep, totals=1.0).ties
    df = pd.DataFrame([{"unit": "u", "period": "2018", "01A": 100, "01B": 120}])
    assert form.localise(df, workers=1)[0].fields == ["01B"]


def test_a_form_declares_consolidated_reports_more_reliable_by_level() -> None:
    form = _weighted_form("localisation: {level_scale: {city: 2, province: 3}}", weight="1")
    assert form.schema.level_scale == {"city": 2.0, "province": 3.0}
    rows = [{"unit": u, "period": "2018", "01A": 100, "01B": 120} for u in ("c1", "g1", "p1")]
    df = pd.DataFrame(rows)
    res = form.localise(df, levels=["city", "grassroots", "province"], workers=1)
    assert {x.unit: x.weight for x in res} == {"c1": 2.0, "g1": 1.0, "p1": 3.0}
    # Without levels no factor applies; the caller's level_scale or scale wins.
    assert {x.weight for x in form.localise(df, workers=1)} == {1.0}
    res = form.localise(df, levels=["city", "grassroots", "province"], level_scale={"grassroots": 4}, workers=1)
    assert {x.unit: x.weight for x in res} == {"c1": 1.0, "g1": 4.0, "p1": 1.0}
    res = form.localise(df, levels=["city", "grassroots", "province"], scale={"g1": 5}, workers=1)
    assert {x.unit: x.weight for x in res} == {"c1": 1.0, "g1": 5.0, "p1": 1.0}
    assert form.localise(form.report("p1", "2018", {"01A": 100, "01B": 120}), level="province").weight == 3.0
    with pytest.raises(us.InputError, match="level_scale: the factor of level city is 0"):
        form.localise(df, levels=["city", "grassroots", "province"], level_scale={"city": 0}, workers=1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "must be a positive number"),
        ("-2", "must be a positive number"),
        ('"2"', "not quoted text"),
        ("heavy", "must be a number"),
    ],
)
def test_a_bad_form_weight_is_refused_at_its_place(value: str, message: str) -> None:
    with pytest.raises(us.SchemaError, match=message) as info:
        _weighted_form(weight=value)
    assert info.value.file == "weighted.yaml" and info.value.line > 1 and info.value.field == "01A"


def test_the_json_schema_takes_the_weights_the_loader_takes() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    yaml = pytest.importorskip("yaml")
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    meta = json.loads((root / "schemas" / "form-schema.json").read_text(encoding="utf-8"))
    doc = yaml.safe_load((root / "schemas" / "forms" / "songnuan-2018.yaml").read_text(encoding="utf-8"))
    doc["fields"][0]["weight"] = 2.5
    doc["localisation"] = {"level_scale": {"city": 2, "province": 3}}
    jsonschema.validate(doc, meta)
    for field_weight, localisation in (
        (0, {}),
        ("2", {}),
        (1, {"level_scale": {"town": 2}}),
        (1, {"level_scale": {"city": 0}}),
        (1, {"weights": {}}),
    ):
        doc["fields"][0]["weight"] = field_weight
        doc["localisation"] = localisation
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(doc, meta)
