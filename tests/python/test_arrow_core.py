"""Arrow in and out of the C++ core: ``_core.read_arrow`` takes any PyCapsule producer
(pyarrow, polars, duckdb, pandas through pyarrow) and ``_core.batch_to_arrow`` gives a
table any consumer reads, money as exact decimals."""

from __future__ import annotations

import gc
from decimal import Decimal
from typing import Any

import pytest

import unionstat as us
from unionstat import _core

pa = pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def songnuan() -> _core.FormSchema:
    return us.forms()["songnuan-2018"].schema


@pytest.fixture(scope="module")
def bangfu() -> _core.FormSchema:
    return us.forms()["bangfu-2017"].schema


def flag_code(form: _core.FormSchema) -> str:
    return next(f.code for f in form.fields if f.type == "flag")


def cell(batch: _core.ReportBatch, row: int, code: str) -> Any:
    return batch.row(row).get(code)


def column(batch: _core.ReportBatch, code: str) -> list[Any]:
    return [cell(batch, i, code) for i in range(len(batch))]


def test_a_pyarrow_table_of_every_type_reads_exactly(songnuan: _core.FormSchema) -> None:
    t = pa.table(
        {
            "unit": pa.array(["630100", "630200", "630300"]),
            "period": pa.array(["2018", "2018", "2018"], pa.large_string()),
            "01A": pa.array([183000, None, 0], pa.int64()),
            "01B": pa.array([1, 2, 3], pa.uint64()),
            "02A": pa.array([7, 8, None], pa.int8()),
            "02B": pa.array([1e16, 2.0, float("nan")], pa.float64()),
            "03A": pa.array(["1,234", "１２３", None]),
            "05A": pa.array([Decimal("12.345678"), Decimal("0.10"), None], pa.decimal128(38, 6)),
            "05B": pa.array([0.1, 2.5, None], pa.float32()),
            "05C": pa.array(["3.5", "3.5", "0"]).dictionary_encode(),
            "05D": pa.array(["1.25", None, "99999999.99"], pa.string_view()),
            "05E": pa.array([None, None, None], pa.null()),
        }
    )
    batch, problems, notices, *_ = _core.read_arrow(songnuan, t)
    assert problems == []
    assert notices == []
    assert batch.units == ["630100", "630200", "630300"]
    assert batch.periods == ["2018"] * 3
    assert column(batch, "01A") == [183000, None, 0]  # null is blank, never 0
    assert column(batch, "01B") == [1, 2, 3]
    assert column(batch, "02A") == [7, 8, None]
    assert column(batch, "02B") == [10**16, 2, None]  # 1e16 is a whole number; NaN is blank
    assert column(batch, "03A") == [1234, 123, None]
    assert column(batch, "05A") == [Decimal("12.345678"), Decimal("0.1"), None]
    assert column(batch, "05B") == [Decimal("0.1"), Decimal("2.5"), None]  # float32 0.1 is 0.1
    assert column(batch, "05C") == [Decimal("3.5"), Decimal("3.5"), Decimal("0")]
    assert column(batch, "05D") == [Decimal("1.25"), None, Decimal("99999999.99")]
    assert column(batch, "05E") == [None, None, None]
    assert column(batch, "06A") == [None, None, None]  # a field the table does not carry


def test_bad_cells_are_listed_with_their_place_and_left_blank(songnuan: _core.FormSchema) -> None:
    t = pa.table(
        {
            "unit": ["630100", "630200", None],
            "01A": pa.array([-5, 1, 2], pa.int64()),
            "01B": pa.array([2**63 + 1, 1, 2], pa.uint64()),
            "02A": ["12万", "1", "2"],
            "05A": pa.array([0.1 + 0.2, 1.0, 2.0]),
            "备注": ["a", "b", "c"],
        }
    )
    batch, problems, notices, *_ = _core.read_arrow(songnuan, t)
    assert len(batch) == 3
    by_place = {(p[0], p[3]): p for p in problems}
    assert by_place[(1, "01A")][:5] == (1, 2, "630100", "01A", "-5")
    assert "negative" in by_place[(1, "01A")][5]
    assert "too large" in by_place[(1, "01B")][5] and "negative" not in by_place[(1, "01B")][5]
    assert by_place[(1, "02A")][4] == "12万"
    assert by_place[(1, "05A")][4] == "0.30000000000000004"  # refused, not rounded
    assert by_place[(3, "unit")][1] == 1
    assert [p[0] for p in problems] == sorted(p[0] for p in problems)
    assert cell(batch, 0, "01A") is None and cell(batch, 1, "01A") == 1
    assert any("备注" in n for n in notices)
    _, strict_problems, _, *_ = _core.read_arrow(songnuan, t, strict=True)
    assert any(p[3] == "备注" and p[0] == 0 for p in strict_problems)


def test_flags_from_booleans_and_text(bangfu: _core.FormSchema) -> None:
    code = flag_code(bangfu)
    t = pa.table({"unit": ["a", "b", "c", "d"], code: pa.array([True, False, None, True])})
    batch, problems, _, *_ = _core.read_arrow(bangfu, t)
    assert problems == []
    assert column(batch, code) == [True, False, None, True]
    t2 = pa.table({"unit": ["a", "b", "c"], code: ["是", "否", "maybe"]})
    batch2, problems2, _, *_ = _core.read_arrow(bangfu, t2)
    assert column(batch2, code) == [True, False, None]
    assert [(p[0], p[3], p[4]) for p in problems2] == [(3, code, "maybe")]


def test_chunked_and_sliced_tables_number_rows_across_batches(songnuan: _core.FormSchema) -> None:
    batches = [
        pa.record_batch({"unit": [f"u{i}" for i in range(k, k + 3)], "01A": pa.array([k, -1, k + 2], pa.int64())})
        for k in (0, 3, 6)
    ]
    t = pa.Table.from_batches(batches)
    assert t.column("01A").num_chunks == 3
    batch, problems, _, *_ = _core.read_arrow(songnuan, t)
    assert len(batch) == 9
    assert [p[0] for p in problems] == [2, 5, 8]  # 1-based positions across the whole stream
    assert [p[2] for p in problems] == ["u1", "u4", "u7"]
    assert column(batch, "01A")[6] == 6

    sliced = t.slice(4, 4)  # u4 .. u7, crossing a batch boundary
    sb, sp, _, *_ = _core.read_arrow(songnuan, sliced)
    assert sb.units == ["u4", "u5", "u6", "u7"]
    assert column(sb, "01A") == [None, 5, 6, None]
    assert [p[0] for p in sp] == [1, 4]

    rb = batches[1].slice(1)
    rbb, rbp, _, *_ = _core.read_arrow(songnuan, rb)  # a record batch: __arrow_c_array__ (or its stream)
    assert rbb.units == ["u4", "u5"]
    assert [p[0] for p in rbp] == [1]


def test_capsules_are_accepted_directly(songnuan: _core.FormSchema) -> None:
    t = pa.table({"unit": ["a"], "01A": [3]})
    b1, _, _, *_ = _core.read_arrow(songnuan, t.__arrow_c_stream__())
    rb = t.to_batches()[0]
    b2, _, _, *_ = _core.read_arrow(songnuan, rb.__arrow_c_array__())
    assert cell(b1, 0, "01A") == cell(b2, 0, "01A") == 3
    with pytest.raises(TypeError):
        _core.read_arrow(songnuan, [1, 2, 3])


def test_a_row_column_gives_the_users_row_numbers(songnuan: _core.FormSchema) -> None:
    t = pa.table({"sheet_row": pa.array([4, 5, 7], pa.int32()), "unit": ["a", "b", "c"], "01A": [1, -1, 2]})
    _batch, problems, notices, *_ = _core.read_arrow(songnuan, t, row_column="sheet_row")
    assert [(p[0], p[1]) for p in problems] == [(5, 3)]
    assert notices == []


def test_unreadable_tables_raise_input_errors_naming_the_column(songnuan: _core.FormSchema) -> None:
    with pytest.raises(us.InputError, match=r"unit column.*name, 01A"):
        _core.read_arrow(songnuan, pa.table({"name": ["a"], "01A": [1]}))
    with pytest.raises(us.InputError, match="01A"):
        _core.read_arrow(songnuan, pa.table({"unit": ["a"], "01A": pa.array([[1]])}))


def test_pandas_goes_through_pyarrow(songnuan: _core.FormSchema) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"unit": ["a", "b"], "01A": [1.0, float("nan")], "05A": [12.34, 0.5]})
    batch, problems, _, *_ = _core.read_arrow(songnuan, pa.Table.from_pandas(df, preserve_index=False))
    assert problems == []
    assert column(batch, "01A") == [1, None]
    assert column(batch, "05A") == [Decimal("12.34"), Decimal("0.5")]


def test_polars_frames_read_without_pyarrow_in_between(songnuan: _core.FormSchema) -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame(
        {
            "unit": ["630100", "630200000000000001", None],
            "period": pl.Series(["2018", "2018", "2018"], dtype=pl.Categorical),
            "01A": [1, None, 3],
            "05A": pl.Series([Decimal("1.5"), None, Decimal("2.000001")], dtype=pl.Decimal(38, 6)),
            "02A": ["1,234", "long text that is not a number", "7"],
        }
    )
    batch, problems, _, *_ = _core.read_arrow(songnuan, df)
    assert batch.units[:2] == ["630100", "630200000000000001"]
    assert batch.periods == ["2018"] * 3
    assert column(batch, "01A") == [1, None, 3]
    assert column(batch, "05A") == [Decimal("1.5"), None, Decimal("2.000001")]
    assert column(batch, "02A") == [1234, None, 7]
    assert sorted((p[0], p[3]) for p in problems) == [(2, "02A"), (3, "unit")]


def test_duckdb_relations_read_directly(songnuan: _core.FormSchema) -> None:
    duckdb = pytest.importorskip("duckdb")
    rel = duckdb.sql(
        "select 'u' || i::varchar as unit, '2018' as period, i as \"01A\", (i / 4)::decimal(18, 2) as \"05A\" "
        "from range(5000) t(i)"
    )
    batch, problems, _, *_ = _core.read_arrow(songnuan, rel)
    assert problems == []
    assert len(batch) == 5000
    assert batch.units[4999] == "u4999"
    assert cell(batch, 4999, "01A") == 4999
    assert cell(batch, 3, "05A") == Decimal("0.75")


def test_a_batch_leaves_as_arrow_with_exact_money(songnuan: _core.FormSchema) -> None:
    t = pa.table(
        {
            "unit": ["630100", "630200", "630300"],
            "period": ["2018", "2018", "2019"],
            "01A": pa.array([183000, None, 0], pa.int64()),
            "05A": ["12345678.123456", None, "0.000001"],
        }
    )
    batch, _, _, *_ = _core.read_arrow(songnuan, t)
    out = _core.batch_to_arrow(batch)
    assert isinstance(out, _core.ArrowTable)
    assert out.num_rows == len(out) == 3
    assert out.column_names[:4] == ["row", "unit", "period", "01A"]
    assert "3 rows" in repr(out)
    table = pa.table(out)
    assert table.num_columns == 3 + len(songnuan.fields)
    assert table.schema.field("05A").type == pa.decimal128(38, 6)
    assert table.schema.field("01A").type == pa.int64()
    assert table.column("row").to_pylist() == [1, 2, 3]
    assert table.column("unit").to_pylist() == batch.units
    for f in songnuan.fields:
        assert table.column(f.code).to_pylist() == column(batch, f.code), f.code
    assert table.column("05A").to_pylist()[0] == Decimal("12345678.123456")  # exact, no float on the way
    assert pa.schema(out) == table.schema  # __arrow_c_schema__
    rb = pa.record_batch(out)  # __arrow_c_array__
    assert rb.num_rows == 3

    # ... and back in again: the same batch
    back, problems, _, *_ = _core.read_arrow(songnuan, table, row_column="row")
    assert problems == []
    for f in songnuan.fields:
        assert column(back, f.code) == column(batch, f.code)


def test_arrow_tables_outlive_their_batch_and_unused_capsules_are_freed(songnuan: _core.FormSchema) -> None:
    batch, _, _, *_ = _core.read_arrow(songnuan, pa.table({"unit": ["a", "b"], "01A": [1, 2]}))
    out = _core.batch_to_arrow(batch)
    del batch
    capsule = out.__arrow_c_stream__()
    reader = pa.RecordBatchReader._import_from_c_capsule(capsule)
    del out
    gc.collect()
    assert reader.read_all().column("01A").to_pylist() == [1, 2]
    # A capsule nobody consumes is released by its destructor (no leak, no double release).
    for _ in range(100):
        _core.batch_to_arrow(_core.read_arrow(songnuan, pa.table({"unit": ["a"], "01A": [1]}))[0]).__arrow_c_stream__()
    gc.collect()


def test_polars_reads_the_result_table(songnuan: _core.FormSchema) -> None:
    pl = pytest.importorskip("polars")
    batch, _, _, *_ = _core.read_arrow(songnuan, pa.table({"unit": ["a", "b"], "01A": [1, None], "05A": ["1.5", "2"]}))
    df = pl.from_arrow(pa.table(_core.batch_to_arrow(batch)))
    assert df["01A"].to_list() == [1, None]
    assert df["05A"].to_list() == [Decimal("1.5"), Decimal("2")]
