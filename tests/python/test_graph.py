"""Hierarchy from Python: load errors, roll-up against an independent pandas reference,
checks that trace a planted discrepancy, completeness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import unionstat as us

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


@pytest.fixture()
def tree(tmp_path: Path) -> us.Hierarchy:
    f = tmp_path / "units.csv"
    f.write_text(UNITS, encoding="utf-8")
    return us.Hierarchy.read_csv(f)


@pytest.mark.parametrize(
    ("text", "named", "words"),
    [
        ("id,name,level,kind,parent\nA,a,province,regional,\nA,b,city,regional,A\n", ["A"], "two primary parents"),
        (
            "id,name,level,kind,parent\nA,a,province,regional,\nB,b,city,regional,Z\n",
            ["B", "Z"],
            "not a unit of the tree",
        ),
        ("id,name,level,kind,parent\nA,a,city,regional,B\nB,b,city,regional,A\n", ["A", "B"], "cycle"),
        ("id,name,level,kind,parent\nA,a,city,regional,\nB,b,province,regional,A\n", ["B", "A"], "above its parent"),
    ],
)
def test_load_errors_name_the_units(tmp_path: Path, text: str, named: list[str], words: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(us.HierarchyError) as info:
        us.Hierarchy.read_csv(f)
    assert set(named) <= set(info.value.units)
    assert words in str(info.value).lower()
    assert info.value.file == str(f)


def test_queries(tree: us.Hierarchy) -> None:
    assert tree.parent("G1") == "K1"
    assert tree.path("G1") == ["P", "C1", "K1", "G1"]
    assert tree.ancestors("G1") == ["K1", "C1", "P"]
    assert set(tree.children("P")) == {"C1", "C2", "G4", "I1"}
    assert tree.subtree("C1") == ["C1", "K1", "G1", "G2"]


def _reports(units: list[str], rng: np.random.Generator) -> pd.DataFrame:
    n = len(units)
    return pd.DataFrame(
        {
            "unit": units,
            "period": "2018",
            "01A": rng.integers(0, 1000, n),
            "05A": [f"{v / 100:.2f}" for v in rng.integers(0, 100000, n)],
        }
    )


def _random_tree(rng: np.random.Generator, n: int) -> pd.DataFrame:
    levels = ["province", "city", "county", "grassroots"]
    rows = [("R", "root", "province", "regional", "")]
    depth = {"R": 0}
    for i in range(1, n):
        parent = rows[int(rng.integers(0, len(rows)))][0]
        if depth[parent] == 3:  # grassroots have no children: attach higher (ragged)
            parent = "R"
        d = min(3, depth[parent] + int(rng.integers(1, 3)))
        uid = f"U{i}"
        depth[uid] = d
        rows.append((uid, uid, levels[d], "regional", parent))
    return pd.DataFrame(rows, columns=["id", "name", "level", "kind", "parent"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_equals_an_independent_pandas_reference(form: us.Form, seed: int) -> None:
    rng = np.random.default_rng(seed)
    units = _random_tree(rng, 300)
    tree = us.Hierarchy.from_pandas(units)
    reporting = units["id"].sample(frac=0.8, random_state=seed).tolist()
    df = _reports(reporting, rng)
    totals = tree.rollup(df, form, leaves=True)  # every unit, leaves too
    # Reference: every report adds to its unit and all of the unit's ancestors.
    parent = dict(zip(units["id"], units["parent"]))
    expected: dict[str, int] = dict.fromkeys(units["id"], 0)
    for unit, value in zip(df["unit"], df["01A"]):
        u = unit
        while u:
            expected[u] += int(value)
            u = parent[u]
    got = totals["01A"].astype("Int64")
    for u, v in expected.items():
        reported_below = any(a in reporting for a in tree.subtree(u))
        assert (pd.isna(got[u]) and not reported_below) or got[u] == v, u

    # Correcting one leaf changes exactly its ancestors' totals.
    leaf = next(u for u in reporting if not tree.children(u))
    df2 = df.copy()
    df2.loc[df2["unit"] == leaf, "01A"] += 7
    totals2 = tree.rollup(df2, form, leaves=True)
    changed = set(totals2.index[(totals2["01A"] != totals["01A"]).fillna(False).to_numpy()])
    assert changed == {leaf, *tree.ancestors(leaf)}

    # By default the rows are the inner units only, with the same totals.
    inner = tree.rollup(df, form)
    assert list(inner.index) == [u for u in units["id"] if tree.children(u)]
    pd.testing.assert_frame_equal(inner, totals.loc[inner.index])


def test_money_rolls_up_exactly(tree: us.Hierarchy, form: us.Form) -> None:
    df = pd.DataFrame({"unit": ["G1", "G2", "G3"], "period": "2018", "05A": ["0.10", "0.20", "0.000001"]})
    totals = tree.rollup(df, form)
    from decimal import Decimal

    assert totals.loc["K1", "05A"] == Decimal("0.30")
    assert totals.loc["P", "05A"] == Decimal("0.300001")
    assert totals.loc["P", "reports"] == 3


def test_unknown_units_are_warned_about_not_dropped_silently(tree: us.Hierarchy, form: us.Form) -> None:
    df = pd.DataFrame({"unit": ["G1", "X9"], "period": "2018", "01A": [1, 2]})
    with pytest.warns(us.UnknownUnitsWarning, match="X9"):
        tree.rollup(df, form)


def test_a_planted_grassroots_discrepancy_is_traced_to_the_root(tree: us.Hierarchy, form: us.Form) -> None:
    leaves = {"G1": 10, "G2": 20, "G3": 30, "G4": 40}
    # Each parent reports the correct consolidated figure of its children …
    reported = {"K1": 30, "C1": 30, "C2": 30, "P": 100}
    # … but G2's own report is later corrected from 20 to 25: every level above is off by 5.
    leaves["G2"] = 25
    df = pd.DataFrame(
        {
            "unit": list(leaves) + list(reported),
            "period": "2018",
            "01A": list(leaves.values()) + list(reported.values()),
        }
    )
    gaps = tree.check(df, form)
    off = gaps[gaps["field"] == "01A"]
    assert set(off["unit"]) >= {"K1", "C1", "P"}
    k1 = off[off["unit"] == "K1"].iloc[0]
    # K1 is where reported and computed diverge …
    assert (k1["reported"], k1["computed"], k1["difference"]) == (30, 35, -5)
    # … and every level above passes the gap up, naming the child it came through.
    c1 = off[off["unit"] == "C1"].iloc[0]
    assert (c1["difference"], c1["gap"], c1["explained_by"]) == (0, -5, ["K1"])
    p = off[off["unit"] == "P"].iloc[0]
    assert (p["difference"], p["gap"], p["explained_by"]) == (0, -5, ["C1"])


def test_completeness_by_level_and_kind(tree: us.Hierarchy, form: us.Form) -> None:
    df = pd.DataFrame({"unit": ["G1", "G3", "K1"], "period": "2018", "01A": [1, 2, 3]})
    c = tree.completeness(df, form)
    assert c.expected == len(tree) and c.reported == 3
    assert set(c.missing["unit"]) == set(tree.ids) - {"G1", "G3", "K1"}
    g = c.by_level.set_index("level").loc["grassroots"]
    assert (g["expected"], g["reported"]) == (4, 2)


def test_secondary_view_counts_each_unit_once(tree: us.Hierarchy, form: us.Form) -> None:
    df = pd.DataFrame({"unit": ["G1", "G2", "G3", "G4"], "period": "2018", "01A": [1, 10, 100, 1000]})
    primary = tree.rollup(df, form)
    secondary = tree.rollup(df, form, along="secondary")
    assert primary.loc["P", "01A"] == 1111
    assert secondary.loc["P", "01A"] == 1111  # G1 and G4 reachable twice, counted once
    assert secondary.loc["I1", "01A"] == 1001  # the industry line: G1 + G4


def test_bundled_sample_trees_load() -> None:
    q = us.Hierarchy.sample("qinghai")
    assert "630000" in q and len(q) > 100
    assert q.path("630100")[0] == "630000"
    p = us.Hierarchy.sample("pingdingshan")
    assert len(p) > 10


def test_a_leaf_is_a_row_only_with_leaves(tree: us.Hierarchy, form: us.Form) -> None:
    df = pd.DataFrame({"unit": ["G1", "G2", "G3"], "period": "2018", "01A": [1, 10, 100], "05A": ["0.10", "0.20", "1"]})
    inner = tree.rollup(df, form)
    assert list(inner.index) == ["P", "C1", "C2", "K1"]  # tree order; G*, and I1 without children, are leaves
    assert "G1" not in inner.index
    everyone = tree.rollup(df, form, leaves=True)
    assert list(everyone.index) == tree.ids
    assert everyone.loc["G1", "01A"] == 1 and everyone.loc["G1", "reports"] == 1
    assert pd.isna(everyone.loc["G4", "01A"]) and everyone.loc["G4", "reports"] == 0
    pd.testing.assert_frame_equal(inner, everyone.loc[inner.index])
    # The secondary line: I1 has secondary children, so it is inner there.
    assert "I1" in tree.rollup(df, form, along="secondary").index
    view = tree.rollup_view(df, form, unit="C1")
    with pytest.raises(KeyError, match="leaves=True"):
        view.total("01A", unit="G1")


def test_money_columns_are_exact_decimal128_without_python_objects(tree: us.Hierarchy, form: us.Form) -> None:
    from decimal import Decimal

    import pyarrow as pa

    big = "123456789012.345678"  # 18 significant digits: no float holds it
    df = pd.DataFrame({"unit": ["G1", "G2", "G3"], "period": "2018", "05A": [big, "0.000001", None]})
    totals = tree.rollup(df, form)
    assert totals["05A"].dtype == pd.ArrowDtype(pa.decimal128(38, 6))
    assert totals.loc["K1", "05A"] == Decimal("123456789012.345679")
    assert totals.loc["P", "05A"] == Decimal(big) + Decimal("0.000001")
    assert pd.isna(totals.loc["C2", "05A"])  # G3's only report is blank
    assert totals["01A"].dtype == "Int64"
    # The same values as Decimal objects on request, with the reported decimals.
    old = tree.rollup(df, form, exact="decimal")
    assert old["05A"].dtype == object
    assert old.loc["K1", "05A"] == totals.loc["K1", "05A"]
    assert str(tree.rollup(df, form, exact=False).loc["K1", "05A"]) == "123456789012.345679"
    with pytest.raises(ValueError, match="exact"):
        tree.rollup(df, form, exact="float")


def test_decimal_array_is_exact_at_the_int64_limits() -> None:
    from decimal import Decimal

    from unionstat.graph import decimal_array

    raw = np.array([0, 1, -1, 2**63 - 1, -(2**63), 123456789012345678], dtype=np.int64)
    missing = np.array([False, False, False, False, False, True])
    arr = decimal_array(raw, missing, 6)
    got = list(arr)
    assert got[:5] == [Decimal(int(v)).scaleb(-6) for v in raw[:5]]
    assert got[5] is pd.NA


def test_from_pandas_takes_numbers_and_blanks(form: us.Form) -> None:
    df = pd.DataFrame(
        {"id": [1, 2, 3], "name": ["a", None, "c"], "level": ["province", "city", "county"], "parent": [None, 1, 2]}
    )
    t = us.Hierarchy.from_pandas(df.astype({"parent": "Int64"}))
    assert t.path("3") == ["1", "2", "3"]
    assert t.to_frame().set_index("unit").loc["2", "name"] == ""


def test_a_tree_without_validity_is_itself_in_every_period(tree: us.Hierarchy) -> None:
    # No copy of a national tree per command: the same immutable object.
    assert tree.at("2018") is tree
    assert tree.at("") is tree
    versioned = us.Hierarchy.sample("qinghai")
    t2018 = versioned.at("2018")
    assert t2018 is not versioned
    assert len(t2018) <= len(versioned)
