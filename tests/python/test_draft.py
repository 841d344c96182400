"""``unionstat draft`` / ``us.draft_form``: schemas drafted from a notice's plain text.

On every seed notice the drafted fields must match the bundled schema — code, unit, type
and part_of — for at least 95 % of the fields of each of the eight forms (the score is
printed per form, with the groups' agreement for information); on three notices the drafter
was never tuned on (tests/data/draft, each transcribed by hand before the drafter ran on it,
groups included) and on seeds and held-out notices damaged further (five kinds of damage),
for at least 90 %. The drafter's code holds no text of the seed forms. Bad input exits 2
naming the file; a draft the loader refuses exits 2 saying why."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import unionstat as us
from unionstat.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tests" / "data" / "seeds"
HELDOUT = ROOT / "tests" / "data" / "draft"
DRAFT_PY = ROOT / "bindings" / "python" / "unionstat" / "draft.py"

#: The seed each bundled form was transcribed from.
SEED_OF = {
    "songnuan-2012": "001_5a217ed4d29cc839.txt",
    "bangfu-2011": "001_5a217ed4d29cc839.txt",
    "songnuan-2014": "003_bc84a7887c23e440.txt",
    "bangfu-2013": "003_bc84a7887c23e440.txt",
    "songnuan-2015": "004_ac0f2153fb24165b.txt",
    "bangfu-2014": "004_ac0f2153fb24165b.txt",
    "songnuan-2018": "000_83a61a127dc4ba27.txt",
    "bangfu-2017": "000_83a61a127dc4ba27.txt",
}
#: Traditional unit words and the schema's (bundled forms may print either).
_UNIT = str.maketrans("戶個萬節輛張對場", "户个万节辆张对场")


def score(drafted: list[dict[str, Any]], expected: list[dict[str, Any]]) -> tuple[float, list[str]]:
    """Share of the expected fields whose code, unit, type and part_of the draft has right."""
    by_code = {str(f["code"]): f for f in drafted}
    misses = []
    for f in expected:
        d = by_code.get(str(f["code"]))
        got = None if d is None else (d["unit"].translate(_UNIT), d["type"], d.get("part_of"))
        want = (str(f["unit"]).translate(_UNIT), f["type"], f.get("part_of"))
        if got != want:
            misses.append(f"{f['code']}: want {want}, drafted {got}")
    return 1 - len(misses) / len(expected), misses


@pytest.fixture(scope="module")
def seed_drafts() -> dict[str, us.FormDraft]:
    out: dict[str, us.FormDraft] = {}
    for seed in sorted(set(SEED_OF.values())):
        for d in us.draft_file(SEEDS / seed):
            out[d.id] = d
    return out


def _bundled(form_id: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "schemas" / "forms" / f"{form_id}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("form_id", sorted(SEED_OF))
def test_drafts_of_the_seed_notices_match_the_bundled_schemas(
    form_id: str, seed_drafts: dict[str, us.FormDraft]
) -> None:
    assert form_id in seed_drafts, f"no draft of {form_id} from {SEED_OF[form_id]}: {sorted(seed_drafts)}"
    bundled = _bundled(form_id)
    share, misses = score(seed_drafts[form_id].fields, bundled["fields"])
    print(f"\n{form_id}: {share:.1%} of {len(bundled['fields'])} fields match (code, unit, type, part_of)")
    gshare, gmisses = _group_score(seed_drafts[form_id].document.get("groups", []), bundled.get("groups", []))
    # Groups are printed for information: the bundled ones also record what the print does
    # not say (县级以上 levels are all of them), which a drafter cannot read.
    print(
        f"{form_id}: {gshare:.1%} of {len(bundled.get('groups', []))} groups match (total, parts, exhaustive)"
        + "".join(f"\n    {m}" for m in gmisses)
    )
    assert share >= 0.95, "\n".join(misses)
    extra = {f["code"] for f in seed_drafts[form_id].fields} - {str(f["code"]) for f in bundled["fields"]}
    assert not extra, f"blanks drafted that the form does not print: {sorted(extra)}"


def test_each_seed_notice_drafts_exactly_its_attached_forms() -> None:
    for seed in sorted(set(SEED_OF.values())):
        ids = sorted(d.id for d in us.draft_file(SEEDS / seed))
        assert ids == sorted(k for k, v in SEED_OF.items() if v == seed), seed


def test_the_deadline_is_the_one_printed_and_a_garbled_one_is_left_for_review(
    seed_drafts: dict[str, us.FormDraft],
) -> None:
    assert seed_drafts["songnuan-2012"].deadline == "2012年1月8日"  # 于2012年1月8日前…报送
    assert seed_drafts["bangfu-2011"].deadline == "2012年1月8日"
    assert seed_drafts["songnuan-2018"].deadline == "2018年2月底"  # 于2018年2月底前…报
    # Wuhan prints 于201521日前: the digits of month and day are lost; never guessed.
    assert seed_drafts["songnuan-2015"].deadline == ""
    assert any("201521日前" in r for r in seed_drafts["songnuan-2015"].review)
    # Pingdingshan's notice prints no deadline at all.
    assert seed_drafts["songnuan-2014"].deadline == ""
    assert any("no reporting deadline" in r for r in seed_drafts["songnuan-2014"].review)


def test_metadata_groups_and_notes_follow_the_print(seed_drafts: dict[str, us.FormDraft]) -> None:
    d = seed_drafts["songnuan-2012"].document
    assert (d["family"], d["year"], d["title"]) == ("songnuan", 2012, "送温暖工程统计表")
    assert d["source"]["issuer"] == "大连市总工会" and d["source"]["notice"] == "大工办发[2011] 49号"
    assert d["source"]["attachment"] == "附件1"
    assert d["notes"][0]["text"].startswith("注:本表中职工均包括农民工")
    groups = {g["total"]: g for g in d["groups"]}
    assert groups["05A"]["parts"] == ["05B", "05C", "05D", "05E"] and groups["05A"]["exhaustive"] is True
    assert groups["03A"]["exhaustive"] is False and groups["03A"]["severity"] == "warning"
    assert groups["09_total"]["parts"] == ["09A", "09B", "09C", "09D"]
    assert seed_drafts["songnuan-2015"].document["script"] == "traditional"
    assert seed_drafts["bangfu-2014"].document["source"]["notice"] == "武工辦〔2014〕74號"
    review = " ".join(seed_drafts["songnuan-2012"].review)
    for place in ("'0l'", "13_2", "人（次）", "'名'", "prints no year"):
        assert place in review, place
    assert any("(F) to (H)" in r for r in seed_drafts["bangfu-2011"].review)  # 12G is not printed


def test_groups_follow_the_lists_as_printed(seed_drafts: dict[str, us.FormDraft]) -> None:
    def groups(form_id: str) -> dict[str, dict[str, Any]]:
        return {g["total"]: g for g in seed_drafts[form_id].document.get("groups", [])}

    # (B)其中困难农民工__户。 ends in 。: the 其中 items (C)…(E) after it are a list of their own
    assert groups("songnuan-2018")["03A"]["parts"] == ["03C", "03D", "03E"]
    assert groups("songnuan-2015")["03A"]["parts"] == ["03C", "03D", "03E"]
    # (S)其他帮扶__人次，(T)帮扶款物__万元: the money list ends in 其他 on the same line too
    for form_id in ("bangfu-2014", "bangfu-2017"):
        g = groups(form_id)
        assert g["09B"]["parts"][-1] == "09T" and g["09B"]["exhaustive"] is True
        assert g["10B"]["exhaustive"] is True
    # each part and the total print one 其中新生代农民工: a parallel breakdown of 09_2
    g = groups("songnuan-2012")["09_2"]
    assert g["parts"] == ["09A_2", "09B_2", "09C_2", "09D_2"] and g["exhaustive"] is True
    # (A)…__个；(B)其中省级__个；(C)地市级…；(D)县级…: a printed list, a warning (no 其他)
    g = groups("bangfu-2011")["01A"]
    assert g["parts"] == ["01B", "01C", "01D"] and g["severity"] == "warning"
    assert groups("bangfu-2011")["01A_2"]["parts"] == ["01B_2", "01C_2", "01D_2"]
    # a list ending in 其他 with no 其中 printed: no part_of guessed, a human look asked for
    assert not any(g["total"].startswith("08") for g in seed_drafts["bangfu-2011"].document["groups"])
    assert any("08J (其他帮扶) ends a list in 其他" in r for r in seed_drafts["bangfu-2011"].review)
    # songnuan's (D)慰问困难家庭总数__户，(E)其中困难职工__户，(F)…: parts, but commas, no list
    assert "04D" not in groups("songnuan-2018")


def test_every_seed_draft_loads_with_the_projects_loader(seed_drafts: dict[str, us.FormDraft]) -> None:
    stream = us.drafts_to_yaml(seed_drafts.values())
    forms = us.load_drafts(stream, "seeds.yaml")
    assert [f.id for f in forms] == list(seed_drafts)
    for form, d in zip(forms, seed_drafts.values()):
        assert len(form.fields) == len(d.fields)
        assert form.review == d.review and form.deadline == d.deadline
        assert any(r.origin == "part_of" for r in form.rules)
    assert len(list(yaml.safe_load_all(stream))) == len(seed_drafts)
    jsonschema = pytest.importorskip("jsonschema")
    meta = yaml.safe_load((ROOT / "schemas" / "form-schema.json").read_text(encoding="utf-8"))
    for doc in yaml.safe_load_all(stream):
        jsonschema.validate(doc, meta)


def test_a_draft_the_loader_refuses_is_reported_at_its_line_in_the_stream(seed_drafts: dict[str, us.FormDraft]) -> None:
    stream = us.drafts_to_yaml([seed_drafts["songnuan-2018"], seed_drafts["bangfu-2017"]])
    lines = stream.split("\n")
    bad = next(i for i, line in enumerate(lines) if 'code: "05A"' in line and i > len(lines) // 2)
    lines[bad] = lines[bad].replace('unit: "万元"', 'unit: "名"')
    with pytest.raises(us.SchemaError, match=rf"drafts\.yaml:{bad + 1}:\d+.*unknown unit '名'"):
        us.load_drafts("\n".join(lines), "drafts.yaml")


#: Notices the drafter was never tuned on, each with its schema transcribed by hand:
#: 2020 — a changed songnuan form (rows renamed and re-ordered, an added row, 元 where the
#: seeds print 万元, letters stacked, a cell split across lines, a lost digit) and a short
#: bangfu form; 2019 — both forms printed wholly in traditional characters with changed and
#: added rows and blanks, renumbered letters, the lost digit O3, stacked letters, cells split
#: across lines, blanks as ____, spaces and ideographic spaces; 2016 — Pingdingshan's layout
#: (row numbers and letters on lines of their own, letters stacked before their texts) with
#: rows changed from every seed (see each expected file's head).
HELDOUT_CASES = [
    ("heldout-notice.txt", "heldout-expected.yaml"),
    ("heldout-2019-notice.txt", "heldout-2019-expected.yaml"),
    ("heldout-2016-notice.txt", "heldout-2016-expected.yaml"),
]


def _group_score(drafted: list[dict[str, Any]], expected: list[dict[str, Any]]) -> tuple[float, list[str]]:
    """Share of the expected groups the draft has with the same total, parts and exhaustiveness."""
    by_total = {str(g["total"]): g for g in drafted}
    misses = []
    for g in expected:
        d = by_total.get(str(g["total"]))
        got = None if d is None else (sorted(map(str, d["parts"])), bool(d.get("exhaustive")))
        want = (sorted(map(str, g["parts"])), bool(g.get("exhaustive")))
        if got != want:
            misses.append(f"group of {g['total']}: want {want}, drafted {got}")
    return (1 - len(misses) / len(expected)) if expected else 1.0, misses


@pytest.mark.parametrize("notice, expected_file", HELDOUT_CASES)
def test_a_notice_never_seen_drafts_as_well(notice: str, expected_file: str) -> None:
    # The fields (code, unit, type, part_of) of every form the notice attaches match the
    # hand transcription for >= 90 %; the deadline is the one printed; no blank is drafted
    # that the form does not print; the groups written by hand are drafted as such; the
    # whole stream loads with the project's loader.
    expected = yaml.safe_load((HELDOUT / expected_file).read_text(encoding="utf-8"))
    drafts = {d.id: d for d in us.draft_file(HELDOUT / notice)}
    assert sorted(drafts) == sorted(e["id"] for e in expected)
    for e in expected:
        d = drafts[e["id"]]
        share, misses = score(d.fields, e["fields"])
        print(f"\nheld-out {e['id']}: {share:.1%} of {len(e['fields'])} fields match (code, unit, type, part_of)")
        assert share >= 0.90, "\n".join(misses)
        assert d.deadline == e["deadline"]
        extra = {f["code"] for f in d.fields} - {str(f["code"]) for f in e["fields"]}
        assert not extra, f"blanks drafted that the form does not print: {sorted(extra)}"
        if "groups" in e:
            gshare, gmisses = _group_score(d.document.get("groups", []), e["groups"])
            print(f"held-out {e['id']}: {gshare:.1%} of {len(e['groups'])} groups match (total, parts, exhaustive)")
            assert gshare == 1.0, "\n".join(gmisses)
    us.load_drafts(us.drafts_to_yaml(drafts.values()), notice)


def _damage(text: str) -> str:
    """More of the layout damage the seeds show: blanks as spaces, letters on lines of
    their own, traditional unit words, rows split after their number."""
    text = re.sub(r"_{2,}", "          ", text)
    text = re.sub(r"(?m)^- ", "", text)
    text = re.sub(r"(?m)^\(([B-Z])\) ", r"(\1)\n\t", text)
    text = re.sub(r"(?m)^([0-9]{2}) \(A\) ", r"\1\n(A)\n\t", text)
    return text.translate(str.maketrans("户个", "戶個")).replace("万元", "萬元")


def _damage_more(text: str) -> str:
    """Other damage of the same kinds: blanks as ideographic spaces or tabs, every letter
    after a comma moved to a line of its own, long labels split in the middle of a word
    (a cell split across lines), row numbers 01 printed O1."""
    count = iter(range(1 << 30))
    text = re.sub(r"_{2,}", lambda m: "\u3000\u3000\u3000" if next(count) % 2 == 0 else "\t\t", text)
    text = re.sub(r"([，,])\s*([（(][A-Z][)）])", r"\1\n\2", text)
    text = re.sub(
        r"(?<=[)）]) ?[\u4e00-\u9fff]{14,}",
        lambda m: m.group()[: len(m.group()) // 2] + "\n" + m.group()[len(m.group()) // 2 :],
        text,
    )
    return re.sub(r"(?m)^(\s*-?\s*)0([1-9])\b", r"\1O\2", text)


def _full_width(text: str) -> str:
    """Digits and Latin letters typeset full width (０１ （Ａ） ２０１９年), as many notices are."""
    ascii_ = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return text.translate(str.maketrans(ascii_, "".join(chr(ord(c) + 0xFEE0) for c in ascii_)))


def _lost_zero(text: str) -> str:
    """Row numbers that lost their leading zero (1 (A)…, （2）（A）…)."""
    return re.sub(r"(?m)^(\s*-?\s*[（(]?)0([1-9])(?![0-9])", r"\1\2", text)


def _split_title(text: str) -> str:
    """Each form's title broken across two lines before its last words (…送温暖\n活动统计表)."""
    return re.sub(r"(?m)^(\s*\S[^\n]{2,}?)(\S{2}[统統]\s*[计計]表\s*)$", r"\1\n\2", text)


def _damage_cases() -> list[Any]:
    seeds = ["songnuan-2018", "bangfu-2017", "songnuan-2012", "bangfu-2014"]
    cases = [(f"seeds/{SEED_OF[f]}", f, "bundled") for f in seeds]
    for notice, expected_file in HELDOUT_CASES:
        for e in yaml.safe_load((HELDOUT / expected_file).read_text(encoding="utf-8")):
            cases.append((f"draft/{notice}", e["id"], expected_file))
    # _damage changes underscores, bullets and simplified unit words: Wuhan's text has none
    return [
        pytest.param(damage, *c, id=f"{damage.__name__}-{c[1]}")
        for damage in (_damage, _damage_more, _full_width, _lost_zero, _split_title)
        for c in cases
        if not (damage is _damage and c[1] == "bangfu-2014")
    ]


@pytest.mark.parametrize("damage, notice, form_id, expected_from", _damage_cases())
def test_a_notice_damaged_further_still_drafts(damage: Any, notice: str, form_id: str, expected_from: str) -> None:
    text = damage((ROOT / "tests" / "data" / notice).read_text(encoding="utf-8"))
    assert text != (ROOT / "tests" / "data" / notice).read_text(encoding="utf-8")
    drafts = {d.id: d for d in us.draft_form(text)}
    if expected_from == "bundled":
        expected = _bundled(form_id)["fields"]
    else:
        expected = next(
            e for e in yaml.safe_load((HELDOUT / expected_from).read_text(encoding="utf-8")) if e["id"] == form_id
        )["fields"]
    share, misses = score(drafts[form_id].fields, expected)
    print(f"\n{damage.__name__} {form_id}: {share:.1%}")
    assert share >= 0.90, "\n".join(misses)
    if damage is _split_title:
        assert any("the title is printed across lines" in r for r in drafts[form_id].review)
    if damage is _full_width:
        # the deadline is written in ASCII digits, the form's id and notice number read
        original = {d.id: d for d in us.draft_form((ROOT / "tests" / "data" / notice).read_text(encoding="utf-8"))}
        assert drafts[form_id].deadline == original[form_id].deadline
        assert bool(drafts[form_id].document["source"]["notice"]) == bool(
            original[form_id].document["source"]["notice"]
        )


def test_the_drafter_holds_no_text_of_the_seed_forms() -> None:
    # No per-file tables: no string the code uses (docstrings and comments aside) holds a
    # run of five or more Chinese characters printed in a seed notice, no seed file name.
    import ast

    tree = ast.parse(DRAFT_PY.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    used = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]
    seeds = "".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    found = sorted({run for text in used for run in re.findall(r"[\u4e00-\u9fff]{5,}", text) if run in seeds})
    assert not found, found
    assert not any(p.stem.split("_")[-1] in " ".join(used) for p in SEEDS.glob("*.txt"))


def test_the_drafter_reads_no_bundled_schema() -> None:
    # It must work on a notice it has never seen: no lookup of bundled forms or their labels.
    source = DRAFT_PY.read_text(encoding="utf-8")
    for forbidden in ("schema_dir", "forms()", "schemas/forms", "SchemaRegistry", ".yaml"):
        assert forbidden not in source, forbidden


def test_draft_form_takes_text_and_refuses_a_text_without_a_form() -> None:
    text = (SEEDS / "000_83a61a127dc4ba27.txt").read_text(encoding="utf-8")
    assert [d.id for d in us.draft_form(text)] == ["songnuan-2018", "bangfu-2017"]
    with pytest.raises(us.InputError, match="no statistical form found"):
        us.draft_form("关于开展送温暖活动的通知\n\n请于2019年1月16日前报送。\n")
    with pytest.raises(us.InputError, match="as str"):
        us.draft_form(b"bytes")  # type: ignore[arg-type]


def test_cli_writes_one_document_per_form_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drafts.yaml"
    assert main(["draft", str(SEEDS / "004_ac0f2153fb24165b.txt"), "-o", str(out)]) == 0
    docs = list(yaml.safe_load_all(out.read_text(encoding="utf-8")))
    assert [d["id"] for d in docs] == ["songnuan-2015", "bangfu-2014"]
    err = capsys.readouterr().err
    assert "songnuan-2015: 60 fields" in err and "201521日前" in err


def _bad(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(
    "case, expect",
    [
        ("empty", "empty file"),
        ("blank", "empty file"),
        ("no_form", "no statistical form found"),
        ("binary", "binary content"),
        ("gbk", "GBK"),
        ("directory", "is a directory"),
        ("missing", "cannot read"),
    ],
)
def test_cli_refuses_bad_notices_naming_the_file(
    case: str, expect: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = (SEEDS / "000_83a61a127dc4ba27.txt").read_text(encoding="utf-8")
    path = {
        "empty": lambda: _bad(tmp_path, "empty.txt", b""),
        "blank": lambda: _bad(tmp_path, "blank.txt", b"  \n\n"),
        "no_form": lambda: SEEDS / "002_9e49aaa7d37dff6f.txt",
        "binary": lambda: _bad(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20),
        "gbk": lambda: _bad(tmp_path, "gbk.txt", seed.encode("gbk")),
        "directory": lambda: tmp_path,
        "missing": lambda: tmp_path / "nowhere.txt",
    }[case]()
    assert main(["draft", str(path), "-o", str(tmp_path / "out.yaml")]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and expect in err, err
    assert "Traceback" not in err


def test_cli_reads_a_gbk_notice_when_told(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = (SEEDS / "000_83a61a127dc4ba27.txt").read_text(encoding="utf-8")
    p = _bad(tmp_path, "gbk.txt", seed.encode("gbk"))
    assert main(["draft", str(p), "--encoding", "gbk", "-o", str(tmp_path / "out.yaml")]) == 0
    assert "songnuan-2018: 60 fields" in capsys.readouterr().err


def test_cli_exits_2_with_the_loaders_place_when_a_draft_does_not_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from unionstat import draft

    real = draft.drafts_to_yaml
    monkeypatch.setattr(draft, "drafts_to_yaml", lambda ds: real(ds).replace('unit: "万元"', 'unit: "萬圓"', 1))
    out = tmp_path / "out.yaml"
    assert main(["draft", str(SEEDS / "000_83a61a127dc4ba27.txt"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    line = next(i for i, t in enumerate(out.read_text(encoding="utf-8").split("\n"), 1) if "萬圓" in t)
    assert f"{out}:{line}:" in err and "unknown unit" in err


def test_a_measure_word_the_format_lacks_is_drafted_as_printed_and_the_cli_says_why_it_does_not_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notice = _bad(
        tmp_path,
        "notice.txt",
        (
            "2019年工会送温暖活动统计表\n\n"
            "01 (A)当地职工总数______人，(B)其中农民工______人。\n"
            "02 (A)开展职工技能培训______期，培训职工______人次；\n"
            "   (B)走访企业______家。\n"
        ).encode(),
    )
    (d,) = us.draft_file(notice)
    f = {x["code"]: x for x in d.fields}
    assert (f["02A"]["unit"], f["02A"]["type"], f["02A_2"]["unit"]) == ("期", "count", "人次")
    assert any("line 4: 02A unit printed '期' is none the schema format knows" in r for r in d.review)
    out = tmp_path / "out.yaml"
    assert main(["draft", str(notice), "-o", str(out)]) == 2
    line = next(i for i, t in enumerate(out.read_text(encoding="utf-8").split("\n"), 1) if 'unit: "期"' in t)
    err = capsys.readouterr().err
    assert f"does not load as a form: {out}:{line}:" in err and "unknown unit '期'" in err


def test_the_units_the_drafter_knows_are_those_of_the_schema_format() -> None:
    from unionstat import draft

    doc = (ROOT / "docs" / "schema-format.md").read_text(encoding="utf-8")
    row = next(line for line in doc.split("\n") if line.startswith("| `unit` | yes |"))
    printed = set(re.findall(r"[\u4e00-\u9fff/]+", row.split("|")[3].split(";")[0])) | {"是/否"}
    assert len(printed) == 21 and printed == draft._KNOWN_UNITS


def test_a_qizhong_whose_total_is_an_earlier_item_of_the_row() -> None:
    # (C)'s item holds no 人 blank before its 其中: the 农民工 helped are part of (B)'s 职工
    (d,) = us.draft_form(
        "2019年工会送温暖活动统计表\n\n01 (A)当地职工总数____人。\n"
        "02 (A)为____人次职工维权；\n   (B)协助政府帮助____人职工(C)追讨欠薪\n"
        "____万元；其中帮助____名农民工追讨欠薪____万元。\n"
    )
    part_of = {f["code"]: f.get("part_of") for f in d.fields}
    assert part_of == {"01A": None, "02A": None, "02B": None, "02C": None, "02C_2": "02B", "02C_3": "02C"}
