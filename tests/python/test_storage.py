"""Column storage: 32-bit where the values fit, 64-bit elsewhere, the same results."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import unionstat as us
from unionstat import _core

INT32_MAX = 2**31 - 1


def frame(n: int = 300, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 10_000, n)
    b = a // 2  # 其中农民工 within the total: every rule holds
    return pd.DataFrame({"unit": [f"u{i}" for i in range(n)], "period": "2018", "01A": a, "01B": b})


def test_to_batch_holds_columns_that_fit_in_32_bits(form: us.Form) -> None:
    df = frame().assign(**{"05A": 2147.48, "05B": 2147.49})  # 万元 in 分: 2,147,480,000 fits, 2,147,490,000 not
    df.loc[5, "01B"] = 3_000_000_000  # beyond int32: this column stays 64-bit
    batch = us.to_batch(df, form.schema)
    assert batch.value_bits("01A") == 32
    assert batch.value_bits("01B") == 64
    assert (batch.value_bits("05A"), batch.value_bits("05B")) == (32, 64)
    assert batch.value_bits("02A") == 32  # a column not given: blank, narrow
    got, missing = batch.raw_column("01B")
    assert got.dtype == np.int64 and not missing.any()
    assert got.tolist() == df["01B"].tolist()
    assert batch.raw_column("01A")[0].tolist() == df["01A"].tolist()
    wide = us.to_batch(df, form.schema, compact=False)
    assert wide.value_bits("01A") == 64  # borrowed from the frame as it is


def test_validation_is_the_same_at_either_width(form: us.Form) -> None:
    df = frame()
    df.loc[3, "01B"] = df.loc[3, "01A"] + 1  # 01B <= 01A broken
    df.loc[4, ["01A", "01B"]] = [3_000_000_000, 3_000_000_001]  # broken at 64 bits
    df.loc[6, ["01A", "01B"]] = [INT32_MAX, INT32_MAX]  # at the int32 bound: holds
    narrow = us.to_batch(df.drop(index=4), form.schema)
    assert narrow.value_bits("01A") == narrow.value_bits("01B") == 32
    for d in (df, df.drop(index=4)):
        a = us.rules.validate_batch(us.to_batch(d, form.schema)).violations
        b = us.rules.validate_batch(us.to_batch(d, form.schema, compact=False)).violations
        pd.testing.assert_frame_equal(a, b)
        bad = set(a.loc[a["rule"] == "songnuan.part_of.01B", "unit"])
        assert bad == ({"u3", "u4"} if len(d) == len(df) else {"u3"})


def test_an_int32_column_is_borrowed_narrow(form: us.Form) -> None:
    batch = _core.ReportBatch(form.schema)
    batch.set_keys(["a", "b", "c"], ["2018"] * 3)
    values = np.array([1, -(2**31), INT32_MAX], dtype=np.int32)
    batch.set_column_raw("01A", values)
    assert batch.value_bits("01A") == 32
    got, _ = batch.raw_column("01A")
    assert got.dtype == np.int64 and got.tolist() == [1, -(2**31), INT32_MAX]
    df = pd.DataFrame({"unit": ["a", "b"], "01A": np.array([4, 5], dtype=np.int32)})
    assert us.to_batch(df, form.schema, compact=False).value_bits("01A") == 32


def test_compact_narrows_borrowed_columns_and_counts_them(form: us.Form) -> None:
    batch = _core.ReportBatch(form.schema)
    batch.set_keys(["a", "b"], ["2018"] * 2)
    batch.set_column_raw("01A", np.array([1, 2], dtype=np.int64))
    batch.set_column_raw("01B", np.array([1, 2**40], dtype=np.int64))
    assert batch.compact() == 1
    assert (batch.value_bits("01A"), batch.value_bits("01B")) == (32, 64)
    assert batch.compact() == 0


@pytest.mark.parametrize(
    "values, error",
    [
        (np.array([1.0, 2.0]), TypeError),
        (np.array([1, 2], dtype=np.uint64), TypeError),  # no safe cast to int64
        (np.array([[1, 2]], dtype=np.int64), ValueError),
        (np.array([1, 2, 3], dtype=np.int64), ValueError),
    ],
)
def test_set_column_raw_refuses_what_is_not_a_column_of_integers(
    form: us.Form, values: np.ndarray, error: type
) -> None:
    batch = _core.ReportBatch(form.schema)
    batch.set_keys(["a", "b"], ["2018"] * 2)
    with pytest.raises(error, match="01A"):
        batch.set_column_raw("01A", values)


@pytest.mark.parametrize(
    "values, bits",
    [
        (np.arange(4, dtype=np.int64)[::2], 64),  # a strided view: copied, contiguous
        (np.arange(4, dtype=np.int32)[::2], 32),
        (np.array([0, 2], dtype=np.int16), 64),  # other integers: copied to int64
        (np.array([False, True]), 64),
    ],
)
def test_set_column_raw_copies_what_it_cannot_borrow(form: us.Form, values: np.ndarray, bits: int) -> None:
    batch = _core.ReportBatch(form.schema)
    batch.set_keys(["a", "b"], ["2018"] * 2)
    batch.set_column_raw("01A", values)
    assert batch.value_bits("01A") == bits
    assert batch.raw_column("01A")[0].tolist() == [int(v) for v in values]


def test_every_instruction_set_gives_the_same_violations(root) -> None:
    # The batch kernels are picked at run time; UNIONSTAT_SIMD lowers the pick. Each level
    # validates the sample province's songnuan reports in a fresh process.
    code = (
        "import unionstat as us, unionstat.sample, sys;"
        "from unionstat import _core;"
        "p = us.sample.sample_province();"
        "v = us.forms()['songnuan-2018'].check(p.songnuan).violations;"
        "sys.stdout.write(_core.batch_kernels() + '\\n' + v.to_csv(index=False))"
    )
    outputs = {}
    for level in ("", "avx2", "baseline"):
        env = dict(os.environ)
        env.pop("UNIONSTAT_SIMD", None)
        if level:
            env["UNIONSTAT_SIMD"] = level
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
        used, _, table = out.partition("\n")
        assert used in ("avx512", "avx2", "baseline")
        if level == "baseline":
            assert used == "baseline"
        outputs[level] = table
    assert outputs["avx2"] == outputs[""] == outputs["baseline"]
    assert outputs[""].count("\n") > 1  # the planted mistakes are found
