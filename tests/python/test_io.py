"""Readers and writers, long format, Arrow in and out."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import unionstat as us


@pytest.fixture()
def sample(form: us.Form) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["630100", "630200", "630300"],
            "period": ["2018", "2018", "2018"],
            "01A": ["183,000", "１２３", ""],
            "01B": ["41000", "—", "5"],
            "05A": ["1523.40", "0.000001", "/"],
            "05B": ["600", None, "0"],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".json"])
def test_write_then_read_round_trips_exactly(form: us.Form, sample: pd.DataFrame, tmp_path: Path, suffix: str) -> None:
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    first = us.batch_to_frame(form.batch(sample))
    path = tmp_path / f"reports{suffix}"
    us.write_reports(first, path)
    again = us.read_reports(path, form)
    assert list(again.columns) == list(first.columns)
    for col in first.columns:
        assert (
            again[col].astype(object).where(again[col].notna(), None).tolist()
            == first[col].astype(object).where(first[col].notna(), None).tolist()
        ), col


def test_cells_are_read_the_way_clerks_type_them(form: us.Form, sample: pd.DataFrame) -> None:
    df = us.batch_to_frame(form.batch(sample))
    assert df["01A"].tolist()[:2] == [183000, 123]
    assert pd.isna(df["01A"].iloc[2])  # blank stays blank
    assert pd.isna(df["01B"].iloc[1])  # "—" is not applicable: no value
    assert df["05A"].iloc[1] == Decimal("0.000001")
    assert df["05B"].iloc[2] == Decimal("0")  # zero is a value


def test_long_format_is_accepted(form: us.Form) -> None:
    long = pd.DataFrame(
        {
            "unit": ["a", "a", "b"],
            "period": ["2018"] * 3,
            "code": ["01A", "workers.migrant", "01A"],
            "value": ["10", "30", "7"],
        }
    )
    res = form.check(long)
    assert res.violations["rule"].tolist() == ["songnuan.part_of.01B"]
    assert res.violations["unit"].tolist() == ["a"]


def test_long_format_duplicates_are_errors(form: us.Form) -> None:
    long = pd.DataFrame({"unit": ["a", "a"], "period": ["2018"] * 2, "code": ["01A", "01A"], "value": ["1", "2"]})
    with pytest.raises(us.InputError) as info:
        form.batch(long)
    assert info.value.unit == "a" and info.value.field == "01A"


def test_arrow_tables_go_in_and_results_come_out(form: us.Form) -> None:
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"unit": ["a", "b"], "period": ["2018", "2018"], "01A": [10, 5], "01B": [3, 7]})
    res = form.check(table)
    assert res.violations["unit"].tolist() == ["b"]
    back = pa.table(res)  # BatchValidation speaks the Arrow PyCapsule stream protocol
    assert back.column("rule").to_pylist() == ["songnuan.part_of.01B"]


def test_int64_count_columns_validate_without_copy(form: us.Form) -> None:
    import numpy as np

    n = 10_000
    df = pd.DataFrame(
        {
            "unit": [f"u{i}" for i in range(n)],
            "01A": np.arange(n, dtype=np.int64) + 5,
            "01B": np.full(n, 5, dtype=np.int64),
        }
    )
    res = form.check(df)
    assert len(res.violations) == 0
    assert int(res.summary.set_index("rule").loc["songnuan.part_of.01B", "passes"]) == n


def test_nullable_and_float_columns(form: us.Form) -> None:
    df = pd.DataFrame(
        {
            "unit": ["a", "b"],
            "01A": pd.array([10, None], dtype="Int64"),
            "05A": [1.5, float("nan")],
            "05B": [1.25, 0.1],
        }
    )
    out = us.batch_to_frame(form.batch(df))
    assert out["05A"].tolist()[0] == Decimal("1.5")
    assert out["05B"].tolist() == [Decimal("1.25"), Decimal("0.1")]
    assert out["05A"].isna().tolist() == [False, True]
    with pytest.raises(us.InputError) as info:
        form.batch(pd.DataFrame({"unit": ["a"], "01A": [1.5]}))
    assert info.value.field == "01A" and info.value.row == 1  # 1-based, as in the message
