"""Submission packages prove which data, which rule version and which tree a submission
was checked against: an intact package verifies; a changed, missing or added part, a
changed rule or tree makes ``verify`` exit 1 naming the part; merging refuses what does
not fit together and keeps the chain of custody county → city → province."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import unionstat as us
from unionstat.cli import main
from unionstat.package import _build
from unionstat.store import Store, write_parts

FORM = "songnuan-2018"

UNITS = """id,name,level,kind,parent,secondary_parents
P,省总工会,province,regional,,
C1,甲市,city,regional,P,
C2,乙市,city,regional,P,
K1,甲县,county,regional,C1,
K2,乙县,county,regional,C1,
K3,丙县,county,regional,C2,
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reports(units: dict[str, int], period: str = "2018") -> pd.DataFrame:
    # 05A is money (万元) with six decimals, the most the field stores: it must come back exactly.
    return pd.DataFrame(
        {
            "unit": list(units),
            "period": period,
            "01A": list(units.values()),
            "01B": [v // 2 for v in units.values()],
            "05A": [f"{v}.123456" for v in units.values()],
        }
    )


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    f = tmp_path / "units.csv"
    f.write_text(UNITS, encoding="utf-8")
    return f


@pytest.fixture()
def county(tmp_path: Path, tree: Path) -> us.Package:
    return us.package(_reports({"K1": 100}), FORM, tmp_path / "k1", tree=tree)


def _verify(capsys: pytest.CaptureFixture[str], pkg: Path | str, *extra: str) -> tuple[int, str]:
    code = main(["verify", str(pkg), *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


# ---------------------------------------------------------------------------------------
# Writing and verifying


@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_a_package_holds_its_parts_and_verifies(
    tmp_path: Path, tree: Path, form: us.Form, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"k{suffix}"
    pkg = us.package(_reports({"K1": 100, "K2": 50}), FORM, out, tree=tree)
    with Store(out) as store:
        names = set(store.names)
        assert names == {"manifest.json", "reports.parquet", "form.yaml", "rules.json", "tree.csv", "validation.json"}
        manifest = json.loads(store.read("manifest.json"))
        # Each part's SHA-256 is what is on disk; the manifest hash is the manifest's bytes'.
        for name, entry in manifest["parts"].items():
            assert hashlib.sha256(store.read(name)).hexdigest() == entry["sha256"]
            assert len(store.read(name)) == entry["bytes"]
        assert hashlib.sha256(store.read("manifest.json")).hexdigest() == pkg.manifest_sha256
        # The exact schema file, byte for byte; the reports exact (money decimal128, 6 decimals kept).
        assert store.read("form.yaml") == Path(form.schema.file).read_bytes()
        table = pq.read_table(pa.BufferReader(store.read("reports.parquet")))
        summary = json.loads(store.read("validation.json"))
        rules = json.loads(store.read("rules.json"))
    assert table.schema.field("05A").type == pa.decimal128(38, 6)
    assert table.column("05A").to_pylist() == [Decimal("100.123456"), Decimal("50.123456")]
    assert table.column("02A").null_count == 2  # blanks stay blank, never 0
    assert manifest["form"]["id"] == FORM and manifest["periods"] == ["2018"] and manifest["units"] == ["K1", "K2"]
    assert manifest["library"] == {"name": "unionstat", "version": us.__version__}
    assert manifest["created"].endswith("Z") and manifest["tree"]["units"] == 6
    assert [r["id"] for r in rules["rules"]] == [r.id for r in form.rules]
    assert summary["reports"] == 2 and summary["in_tree"] and summary["ok"] is True
    assert len(summary["rules"]) == len(form.rules)
    v = us.verify_package(out)
    assert v.ok and v.findings == [] and v.manifest_sha256 == pkg.manifest_sha256
    code, text = _verify(capsys, out)
    assert code == 0 and "intact" in text and pkg.manifest_sha256 in text
    back = us.read_package(out).batch()
    assert back.format_column("05A") == ["100.123456", "50.123456"] and back.units == ["K1", "K2"]


def test_the_package_command_exits_1_when_the_reports_fail_a_rule(
    tmp_path: Path, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "k.csv"
    csv.write_text("unit,period,01A,01B\nK1,2018,10,30\n", encoding="utf-8")  # 其中农民工 exceeds 职工总数
    assert main(["package", str(csv), "--form", FORM, "--tree", str(tree), "-o", str(tmp_path / "k.zip")]) == 1
    text = capsys.readouterr().out
    assert "1 error(s)" in text and "manifest sha256" in text
    assert us.read_package(tmp_path / "k.zip").manifest["validation"]["errors"] == 1
    assert main(["verify", str(tmp_path / "k.zip")]) == 0  # the package is intact all the same
    csv.write_text("unit,period,01A,01B\nK1,2018,30,10\n", encoding="utf-8")
    assert main(["package", str(csv), "--form", FORM, "-o", str(tmp_path / "clean")]) == 0


def test_several_periods_are_listed(tmp_path: Path) -> None:
    data = pd.concat([_reports({"K1": 1}), _reports({"K1": 2}, period="2019")])
    pkg = us.package(data, FORM, tmp_path / "two.zip")
    assert pkg.periods == ["2018", "2019"] and pkg.manifest["tree"] is None
    assert us.verify_package(tmp_path / "two.zip").ok
    one = us.package(data, FORM, tmp_path / "one.zip", period="2019")
    assert one.periods == ["2019"] and one.manifest["reports"] == 1


# ---------------------------------------------------------------------------------------
# Tampering: each changed, missing or added part is named


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_flipping_one_byte_of_the_data_is_found(county: us.Package, capsys: pytest.CaptureFixture[str]) -> None:
    part = county.path / "reports.parquet"
    data = part.read_bytes()
    part.write_bytes(_flip(data, len(data) // 2))
    code, text = _verify(capsys, county.path)
    assert code == 1
    assert "reports.parquet: SHA-256" in text and "the part was changed" in text
    v = us.verify_package(county.path)
    assert v.parts[0] == "reports.parquet" and "manifest.json" in v.parts  # the hash of the whole differs too


def test_flipping_one_byte_inside_a_zip_is_found(
    tmp_path: Path, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "k.zip"
    us.package(_reports({"K1": 100}), FORM, out, tree=tree)
    with zipfile.ZipFile(out) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["reports.parquet"] = _flip(parts["reports.parquet"], 100)
    out.unlink()
    write_parts(out, parts)
    code, text = _verify(capsys, out)
    assert code == 1 and "reports.parquet" in text


def test_editing_one_rule_in_the_schema_copy_is_found(county: us.Package, capsys: pytest.CaptureFixture[str]) -> None:
    schema = county.path / "form.yaml"
    text = schema.read_text(encoding="utf-8")
    assert text.count('check: "02A <= 01A"') == 1
    schema.write_text(text.replace('check: "02A <= 01A"', 'check: "02A <= 01A + 5"'), encoding="utf-8")
    code, out = _verify(capsys, county.path)
    assert code == 1
    v = us.verify_package(county.path)
    assert v.parts[:2] == ["form.yaml", "manifest.json"]
    # The schema copy no longer compiles to the packaged rule set: the rule is named.
    rules = [f.message for f in v.findings if f.part == "rules.json"]
    assert len(rules) == 1 and "rule songnuan.hardship_workers_within_workers: check" in rules[0]
    assert "form.yaml: SHA-256" in out


def test_a_changed_rule_set_or_tree_is_found(county: us.Package, tmp_path: Path, tree: Path) -> None:
    rules = county.path / "rules.json"
    rs = json.loads(rules.read_text(encoding="utf-8"))
    rs["rules"][0]["severity"] = "warning"
    rules.write_text(json.dumps(rs, ensure_ascii=False), encoding="utf-8")
    v = us.verify_package(county.path)
    assert "rules.json" in v.parts
    msg = next(f.message for f in v.findings if f.part == "rules.json" and "differs from what" in f.message)
    assert "severity 'warning' in rules.json, 'error' in form.yaml" in msg

    other = us.package(_reports({"K1": 100}), FORM, tmp_path / "t", tree=tree)
    snapshot = other.path / "tree.csv"
    snapshot.write_text(
        snapshot.read_text(encoding="utf-8").replace("K1,甲县,county", "K1,甲县,city"), encoding="utf-8"
    )
    v = us.verify_package(other.path)
    assert v.parts[0] == "tree.csv" and not v.ok


def test_a_rule_with_a_key_the_schema_does_not_compile_to_is_named(county: us.Package) -> None:
    # The packaged rule holds a key the compiled one lacks: a finding naming it, not a crash.
    rules = county.path / "rules.json"
    rs = json.loads(rules.read_text(encoding="utf-8"))
    rs["rules"][0]["added_by_hand"] = "yes"
    rules.write_text(json.dumps(rs, ensure_ascii=False), encoding="utf-8")
    v = us.verify_package(county.path)
    msg = next(f.message for f in v.findings if f.part == "rules.json" and "differs from what" in f.message)
    assert "added_by_hand 'yes' in rules.json, None in form.yaml" in msg


def test_a_missing_or_an_extra_part_is_found(county: us.Package, capsys: pytest.CaptureFixture[str]) -> None:
    (county.path / "validation.json").unlink()
    code, text = _verify(capsys, county.path)
    assert code == 1 and "validation.json: missing" in text
    v = us.verify_package(county.path)
    assert v.parts == ["validation.json"]  # its listed hash still makes the whole: nothing else is amiss

    (county.path / "notes.txt").write_text("added later", encoding="utf-8")
    v = us.verify_package(county.path)
    assert "notes.txt" in v.parts
    assert any("not listed in the manifest" in f.message for f in v.findings if f.part == "notes.txt")


def test_a_consistently_rewritten_package_is_caught_by_the_recorded_manifest_hash(
    county: us.Package, tmp_path: Path, form: us.Form, capsys: pytest.CaptureFixture[str]
) -> None:
    # Whoever rewrites the data and every hash in the manifest makes a package that is
    # consistent in itself; the manifest hash the receiver recorded is what tells.
    batch = county.batch()
    forged = form.batch(_reports({"K1": 90}))
    assert batch.units == forged.units
    parts = _build(
        forged,
        form,
        county.tree(),
        (county.path / "form.yaml").read_bytes(),
        county.manifest["created"],
        {},
        {"children": []},
    )
    write_parts(tmp_path / "forged", parts)
    assert us.verify_package(tmp_path / "forged").ok
    code, text = _verify(capsys, tmp_path / "forged", "--manifest-sha256", county.manifest_sha256)
    assert code == 1 and "manifest.json: SHA-256" in text and f"not {county.manifest_sha256} as recorded" in text
    code, _text = _verify(capsys, county.path, "--manifest-sha256", county.manifest_sha256.upper())
    assert code == 0


def test_a_package_folder_zipped_whole_verifies(county: us.Package, tmp_path: Path) -> None:
    # As `zip -r k1.zip k1/` makes it: every entry under the folder's name.
    out = tmp_path / "zipped.zip"
    with zipfile.ZipFile(out, "w") as z:
        for q in sorted(county.path.rglob("*")):
            z.write(q, f"k1/{q.relative_to(county.path).as_posix()}")
    assert us.verify_package(out).ok and us.read_package(out).manifest_sha256 == county.manifest_sha256
    with zipfile.ZipFile(out, "a") as z:
        z.writestr("k1/extra.csv", "unit\n")
    assert us.verify_package(out).parts == ["extra.csv"]


# ---------------------------------------------------------------------------------------
# Bad inputs: errors naming the package and the part, exit 2


def test_what_is_not_a_package_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "reports.csv").write_text("unit,01A\nK1,1\n", encoding="utf-8")
    with pytest.raises(us.PackageError) as err:
        us.verify_package(folder)
    assert err.value.file == str(folder) and err.value.part == "manifest.json" and "no manifest.json" in str(err.value)
    text = tmp_path / "x.zip"
    text.write_text("not a zip", encoding="utf-8")
    with pytest.raises(us.PackageError, match="neither a folder nor a zip"):
        us.verify_package(text)
    with pytest.raises(us.PackageError, match="no such package"):
        us.verify_package(tmp_path / "nowhere")
    assert main(["verify", str(folder)]) == 2
    assert "not a submission package" in capsys.readouterr().err


def test_a_corrupt_manifest_is_refused_with_line_and_column(
    county: us.Package, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = county.path / "manifest.json"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace('"format_version":', '"format_version"')  # a colon dropped on line 3
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(us.PackageError) as err:
        us.verify_package(county.path)
    assert (err.value.line, err.value.column) == (3, 19) and err.value.part == "manifest.json"
    assert main(["verify", str(county.path)]) == 2
    assert f"{county.path}/manifest.json:3:19: not valid JSON" in capsys.readouterr().err
    manifest.write_text(json.dumps({"format": "unionstat-package", "format_version": 1}), encoding="utf-8")
    with pytest.raises(us.PackageError, match='"form" is missing or not a JSON object'):
        us.verify_package(county.path)
    manifest.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    with pytest.raises(us.PackageError, match="not a unionstat package manifest"):
        us.read_package(county.path)


def test_packaging_refuses_bad_reports_and_a_used_folder(tmp_path: Path, tree: Path) -> None:
    twice = pd.concat([_reports({"K1": 1}), _reports({"K1": 2})])
    with pytest.raises(us.InputError, match="given twice") as err:
        us.package(twice, FORM, tmp_path / "a.zip")
    assert err.value.unit == "K1"
    with pytest.raises(us.UnknownNameError, match="X9"):
        us.package(_reports({"X9": 1}), FORM, tmp_path / "b.zip", tree=tree)  # a unit outside the tree
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.txt").write_text("x", encoding="utf-8")
    with pytest.raises(us.PackageError, match="not empty") as perr:
        us.package(_reports({"K1": 1}), FORM, used)
    assert perr.value.file == str(used)
    with pytest.raises(us.InputError, match="no reports of period 2020"):
        us.package(_reports({"K1": 1}), FORM, tmp_path / "c.zip", period="2020")
    assert not (tmp_path / "a.zip").exists() and not (tmp_path / "b.zip").exists()
    assert main(["package", str(tmp_path / "none.csv"), "--form", FORM, "-o", str(tmp_path / "d.zip")]) == 2
    assert main(["package", str(tmp_path / "none.csv"), "--form", "nosuch-2000", "-o", str(tmp_path / "d.zip")]) == 2


# ---------------------------------------------------------------------------------------
# Merging: refusals, and the chain of custody


def test_merge_refuses_overlapping_units(tmp_path: Path, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = us.package(_reports({"K1": 1, "K2": 2}), FORM, tmp_path / "a.zip", tree=tree)
    b = us.package(_reports({"K2": 2}), FORM, tmp_path / "b.zip", tree=tree)
    with pytest.raises(us.PackageError) as err:
        us.merge_packages([a.path, b.path], tmp_path / "c.zip")
    assert "overlapping units" in str(err.value) and f"K2 ({a.path} and {b.path})" in str(err.value)
    assert err.value.unit == "K2"
    assert main(["merge", str(a.path), str(b.path), "-o", str(tmp_path / "c.zip")]) == 2
    assert "overlapping units, not merged: K2" in capsys.readouterr().err
    assert not (tmp_path / "c.zip").exists()


def test_merge_refuses_mixed_form_versions_and_periods(tmp_path: Path) -> None:
    a = us.package(_reports({"K1": 1}), FORM, tmp_path / "a.zip")
    other = us.package(_reports({"K2": 1}, period="2015"), "songnuan-2015", tmp_path / "o.zip")
    with pytest.raises(us.PackageError) as err:
        us.merge_packages([a.path, other.path], tmp_path / "m.zip")
    assert "mixed form versions" in str(err.value)
    assert f"{a.path}: songnuan-2018" in str(err.value) and f"{other.path}: songnuan-2015" in str(err.value)
    later = us.package(_reports({"K2": 1}, period="2019"), FORM, tmp_path / "l.zip")
    with pytest.raises(us.PackageError) as err:
        us.merge_packages([a.path, later.path], tmp_path / "m.zip")
    assert "mixed periods" in str(err.value) and f"{a.path}: 2018" in str(err.value)
    assert f"{later.path}: 2019" in str(err.value)
    # The same form id with an edited schema is another version too.
    edited = tmp_path / "songnuan-2018.yaml"
    edited.write_text(
        Path(us.forms()[FORM].schema.file)
        .read_text(encoding="utf-8")
        .replace('check: "02A <= 01A"', 'check: "02A <= 01A + 5"'),
        encoding="utf-8",
    )
    mine = us.package(_reports({"K3": 1}), edited, tmp_path / "e.zip")
    with pytest.raises(us.PackageError, match="mixed form versions"):
        us.merge_packages([a.path, mine.path], tmp_path / "m.zip")


def test_merge_refuses_a_child_that_does_not_verify(tmp_path: Path) -> None:
    a = us.package(_reports({"K1": 1}), FORM, tmp_path / "a")
    b = us.package(_reports({"K2": 1}), FORM, tmp_path / "b")
    (b.path / "tree.csv").write_text("id,name,level,kind,parent\n", encoding="utf-8")
    with pytest.raises(us.PackageError) as err:
        us.merge_packages([a.path, b.path], tmp_path / "m.zip")
    assert f"{b.path}: does not verify" in str(err.value) and err.value.part == "tree.csv"


def test_merge_needs_the_parents_tree_when_the_childrens_differ(tmp_path: Path, tree: Path) -> None:
    a = us.package(_reports({"K1": 1}), FORM, tmp_path / "a.zip", tree=tree)
    small = tmp_path / "small.csv"
    small.write_text(
        "id,name,level,kind,parent\nC1,甲市,city,regional,\nK2,乙县,county,regional,C1\n", encoding="utf-8"
    )
    b = us.package(_reports({"K2": 1}), FORM, tmp_path / "b.zip", tree=small)
    with pytest.raises(us.PackageError, match="different trees") as err:
        us.merge_packages([a.path, b.path], tmp_path / "m.zip")
    assert err.value.part == "tree.csv"
    m = us.merge_packages([a.path, b.path], tmp_path / "m.zip", tree=tree)
    assert m.manifest["tree"]["units"] == 6 and us.verify_package(m.path).ok


def test_the_chain_of_custody_runs_county_city_province(
    tmp_path: Path, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    k1 = us.package(_reports({"K1": 100}), FORM, tmp_path / "k1.zip", tree=tree)
    k2 = us.package(_reports({"K2": 50}), FORM, tmp_path / "k2", tree=tree)
    c1own = us.package(_reports({"C1": 150}), FORM, tmp_path / "c1-own.zip", tree=tree)  # the city's own report
    k3 = us.package(_reports({"K3": 7}), FORM, tmp_path / "k3.zip", tree=tree)
    assert main(["merge", str(k1.path), str(k2.path), str(c1own.path), "-o", str(tmp_path / "c1.zip")]) == 0
    assert "child k1.zip: manifest sha256 " + k1.manifest_sha256 in capsys.readouterr().out
    c1 = us.read_package(tmp_path / "c1.zip")
    c2 = us.merge_packages([k3.path], tmp_path / "c2")
    p = us.merge_packages([c1.path, c2.path], tmp_path / "p.zip")

    assert [c["manifest_sha256"] for c in c1.children] == [
        k1.manifest_sha256,
        k2.manifest_sha256,
        c1own.manifest_sha256,
    ]
    assert [c["manifest_sha256"] for c in p.children] == [c1.manifest_sha256, c2.manifest_sha256]
    assert [c["source"] for c in p.children] == ["c1.zip", "c2"]
    with zipfile.ZipFile(p.path) as z:
        kept = {
            n.removeprefix("custody/").removesuffix(".json"): z.read(n)
            for n in z.namelist()
            if n.startswith("custody/")
        }
    # Every descendant's manifest, verbatim: the province can show what each county sent.
    every = [k1, k2, c1own, k3, c1, c2]
    assert set(kept) == {x.manifest_sha256 for x in every}
    with zipfile.ZipFile(k1.path) as z:
        assert kept[k1.manifest_sha256] == z.read("manifest.json")
    assert p.manifest["units"] == ["C1", "K1", "K2", "K3"] and p.manifest["reports"] == 4
    v = us.verify_package(p.path)
    assert v.ok, v.findings
    assert any("chain of custody: 6 kept manifest(s)" in c for c in v.checked)
    # The merged data is the children's, exactly.
    assert sorted(p.batch().format_column("05A")) == ["100.123456", "150.123456", "50.123456", "7.123456"]
    code, text = _verify(capsys, p.path)
    assert code == 0 and "chain of custody" in text
    code, text = _verify(capsys, p.path, "--format", "json")
    record = json.loads(text)
    assert code == 0 and record["ok"] and record["manifest_sha256"] == p.manifest_sha256 and record["findings"] == []


def test_a_childs_reports_changed_in_the_parent_break_the_chain(tmp_path: Path, tree: Path, form: us.Form) -> None:
    k1 = us.package(_reports({"K1": 100}), FORM, tmp_path / "k1.zip", tree=tree)
    k2 = us.package(_reports({"K2": 50}), FORM, tmp_path / "k2.zip", tree=tree)
    city = us.merge_packages([k1.path, k2.path], tmp_path / "c1")
    # The city rewrites K2's figure and re-hashes its own package consistently: its manifest
    # is self-consistent, but K2's kept manifest says otherwise.
    custody = {f"custody/{n.name}": n.read_bytes() for n in (city.path / "custody").iterdir()}
    forged = form.batch(_reports({"K1": 100, "K2": 49}))
    parts = _build(
        forged,
        form,
        city.tree(),
        (city.path / "form.yaml").read_bytes(),
        city.manifest["created"],
        custody,
        {"children": city.children},
    )
    write_parts(tmp_path / "forged", parts)
    v = us.verify_package(tmp_path / "forged")
    assert not v.ok and v.parts == ["reports.parquet"]
    assert "the reports of child k2.zip (1 units) are not as it packaged them" in v.findings[0].message
    # A kept child manifest removed from the parent is named.
    (city.path / "custody" / f"{k1.manifest_sha256}.json").unlink()
    v = us.verify_package(city.path)
    assert v.parts == [f"custody/{k1.manifest_sha256}.json"]


# ---------------------------------------------------------------------------------------
# A package is a file of reports for every command; its manifests give submission times


def test_a_package_reads_as_reports_with_each_units_package_time(
    tmp_path: Path, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    utc = dt.UTC
    # songnuan-2018's notice: 2018-02-28. K2 packaged at 20:00 UTC on the 28th, which is
    # 04:00 on 1 March in Beijing: late. The city merges a day later still.
    k1 = us.package(
        _reports({"K1": 100}), FORM, tmp_path / "k1.zip", tree=tree, created=dt.datetime(2018, 2, 27, 9, 0, tzinfo=utc)
    )
    k2 = us.package(
        _reports({"K2": 50}), FORM, tmp_path / "k2.zip", tree=tree, created=dt.datetime(2018, 2, 28, 20, 0, tzinfo=utc)
    )
    city = us.merge_packages([k1.path, k2.path], tmp_path / "c1", created=dt.datetime(2018, 3, 1, 9, tzinfo=utc))
    assert city.manifest["created"] == "2018-03-01T09:00:00Z"
    res = us.read_file(city.path, us.forms()[FORM].schema)
    assert res.batch.units == ["K1", "K2"] and res.batch.format_column("05A") == ["100.123456", "50.123456"]
    assert res.submitted == [dt.datetime(2018, 2, 27, 17, 0), dt.datetime(2018, 3, 1, 4, 0)]
    h = us.Hierarchy.read(tree)
    c = h.completeness(res.batch, us.forms()[FORM], period="2018", submitted=res.submitted)
    assert c.late["unit"].tolist() == ["K2"] and c.on_time == 1
    code = main(["completeness", str(city.path), "--form", FORM, "--tree", str(tree), "--root", "C1", "--lang", "en"])
    out = capsys.readouterr()
    assert code == 1 and "1 on time, 1 late" in out.out and "read as a submission package" in out.err
    # A package whose data changed since it was packaged is not read as reports.
    part = tmp_path / "k2x"
    us.package(_reports({"K2": 50}), FORM, part)
    (part / "reports.parquet").write_bytes(_flip((part / "reports.parquet").read_bytes(), 50))
    with pytest.raises(us.InputError, match="changed since it was packaged") as err:
        us.read_reports(part, us.forms()[FORM])
    assert err.value.file == str(part)
    with pytest.raises(us.InputError, match="a package of form songnuan-2018, not songnuan-2015"):
        us.read_batch(k1.path, us.forms()["songnuan-2015"])
