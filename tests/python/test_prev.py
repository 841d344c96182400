"""prev() on one machine over many reports: each report reads its unit's report of the
period before its own in the previous data given (form.check(..., previous=...))."""

from __future__ import annotations

import pytest
from conftest import songnuan_with_rules

import unionstat as us

RULE = """
  - id: songnuan.workers_not_halved
    check: "01A * 2 >= prev(01A)"
    severity: warning
    message: 职工总数{01A}人不足上期的一半
    message_en: "Workers in total ({01A}) fell below half of the previous period's"
"""


@pytest.fixture(scope="module")
def form(tmp_path_factory) -> us.Form:
    return songnuan_with_rules(tmp_path_factory.mktemp("prev"), RULE)


def reports(form: us.Form, rows: list[tuple[str, str, int]]) -> list:
    return [form.report(unit=u, period=p, values={"01A": v}) for u, p, v in rows]


def outcome(res: us.rules.BatchValidation, unit: str, period: str) -> str:
    v = res.violations
    hit = v[(v["unit"] == unit) & (v["period"] == period) & (v["rule"] == "songnuan.workers_not_halved")]
    return "fail" if len(hit) else "pass or skip"


def test_each_report_reads_its_units_previous_period(form) -> None:
    # A halved (fails), C nearly kept (passes), B new in 2018 (no previous: skipped); A's
    # 2016 report is not the one before 2018; the 2016 and 2017 reports have none before
    # them in the data, or read 2016 (A's 2017 against 2016: 10 * 2 >= 100 fails).
    rows = [
        ("A", "2016", 100),
        ("A", "2017", 10),
        ("C", "2017", 3),
        ("A", "2018", 4),
        ("B", "2018", 7),
        ("C", "2018", 2),
    ]
    data = reports(form, rows)
    res = form.check(data, previous=data)
    s = res.summary.set_index("rule").loc["songnuan.workers_not_halved"]
    assert outcome(res, "A", "2018") == "fail" and outcome(res, "A", "2017") == "fail"
    assert outcome(res, "C", "2018") == "pass or skip"
    # evaluated: A2017, A2018, C2018; skipped: A2016, C2017 (nothing before), B2018 (new)
    assert (s["fails"], s["passes"], s["skipped"]) == (2, 1, 3)


def test_a_separate_previous_frame_and_without_one(form) -> None:
    now = reports(form, [("A", "2018", 4), ("C", "2018", 2)])
    before = reports(form, [("A", "2017", 10), ("C", "2017", 3), ("A", "2016", 1)])
    s = form.check(now, previous=before).summary.set_index("rule").loc["songnuan.workers_not_halved"]
    assert (s["fails"], s["passes"], s["skipped"]) == (1, 1, 0)
    s = form.check(now).summary.set_index("rule").loc["songnuan.workers_not_halved"]
    assert (s["fails"], s["passes"], s["skipped"]) == (0, 0, 2)


def test_a_unit_twice_in_a_previous_period_is_named(form) -> None:
    now = reports(form, [("A", "2018", 4)])
    before = reports(form, [("A", "2017", 10), ("A", "2017", 11)])
    with pytest.raises(us.InputError, match="unit A reports twice in period 2017"):
        form.check(now, previous=before)


def test_previous_data_of_another_form_is_refused(form) -> None:
    now = reports(form, [("A", "2018", 4)])
    other = us.forms()["songnuan-2018"]
    before = [other.report(unit="A", period="2017", values={"01A": 10})]
    with pytest.raises(us.UsageError, match="is of form songnuan-2018, but form songnuan-2099 was asked for"):
        form.check(now, previous=before)
