"""Tamper-evident submission packages: what a unit sends up, and proof of what it was
checked against.

A package is a folder or a ``.zip`` of parts (see ``docs/packages.md``):

* ``reports.parquet`` — the reports, as the core writes them to Arrow (counts int64, money
  exact ``decimal128(38, scale)``, flags bool; blanks null), read back exactly;
* ``form.yaml`` — the form schema file, byte for byte; ``rules.json`` — the rule set it
  compiles to (every rule, generated ones too: id, check, severity, missing, tolerance,
  levels, messages);
* ``tree.csv`` — the units file of the tree validated against (when there was one);
* ``validation.json`` — the validation summary: per rule items, passes, fails, skipped,
  errors;
* ``custody/<sha256>.json`` — in a merged package, every descendant's manifest, verbatim;
* ``manifest.json`` — SHA-256 and size of every other part, the hash of the whole, the
  library version, the time, the form, the periods and units, a digest of the reports'
  content, and (merged) each child's manifest hash.

:func:`verify_package` recomputes all of it: hashes, the data read again through the
packaged schema, the rule set compiled again, the validation run again and compared.
:func:`merge_packages` joins children's packages into the parent's, refusing overlapping
units and mixed forms or periods, and keeps the chain of custody.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io as _io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from .errors import Error, InputError, PackageError
from .store import (
    CUSTODY,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    REPORTS,
    RULES,
    SCHEMA,
    SUMMARY,
    TREE,
    Store,
    canonical_json,
    read_manifest,
    sha256,
    write_parts,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from .forms import Form
    from .graph import Hierarchy

__all__ = [
    "FORMAT",
    "Package",
    "PackageFinding",
    "PackageVerification",
    "merge_packages",
    "package",
    "read_package",
    "reports_digest",
    "verify_package",
]


# ---------------------------------------------------------------------------------------
# Content: digests, the rule set, the validation summary


def reports_digest(batch: _core.ReportBatch) -> str:
    """SHA-256 of a batch's content, whatever file it came from and in whatever row order:
    the form id and field codes, the (unit, period) keys sorted, then per field the raw
    exact values (int64, money in the form's fixed-point units) and the blanks, in that
    order. Two batches of the same form holding the same reports have the same digest."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = batch.form
    keys = pa.table({"unit": pa.array(batch.units, pa.string()), "period": pa.array(batch.periods, pa.string())})
    order = pc.sort_indices(keys, sort_keys=[("unit", "ascending"), ("period", "ascending")])  # UTF-8 byte order
    h = hashlib.sha256()
    h.update(json.dumps([FORMAT + "/reports/1", schema.id, [f.code for f in schema.fields]]).encode())
    for name in ("unit", "period"):
        # The sorted keys as Arrow lays them out: int32 offsets from 0, then the UTF-8 bytes.
        col = pc.take(keys.column(name), order).combine_chunks()
        offsets = np.frombuffer(col.buffers()[1], dtype="<i4", count=len(col) + 1, offset=col.offset * 4)
        offsets = offsets - offsets[0]
        data = col.buffers()[2]
        start = int(np.frombuffer(col.buffers()[1], dtype="<i4", count=1, offset=col.offset * 4)[0])
        h.update(offsets.astype("<i4").tobytes())
        h.update(b"" if data is None else data.to_pybytes()[start : start + int(offsets[-1])])
    order = order.to_numpy()
    for f in schema.fields:
        values, missing = batch.raw_column(f.code)
        v = np.asarray(values, dtype="<i8")[order]
        m = np.asarray(missing, dtype=bool)[order]
        v[m] = 0  # a blank's stored value means nothing
        h.update(f.code.encode("utf-8") + b"\0")
        h.update(v.tobytes())
        h.update(np.packbits(m).tobytes())
    return h.hexdigest()


def _rules_json(schema: _core.FormSchema) -> bytes:
    """The rule set a schema compiles to, as canonical JSON (every rule, those generated
    from ``part_of`` and groups too)."""
    rules = [
        {
            "id": r.id,
            "origin": r.origin,
            "check": r.check,
            "severity": r.severity,
            "missing": r.missing,
            "tolerance": r.tolerance,
            "levels": list(r.levels),
            "message": r.message,
            "message_en": r.message_en,
        }
        for r in schema.rules
    ]
    return canonical_json({"form": schema.id, "rules": rules})


def _summary(batch: _core.ReportBatch, form: Form, tree: Hierarchy | None) -> dict[str, Any]:
    """Validation of the reports (in the tree, period by period, when there is one) as the
    summary a package carries: per rule items, passes, fails, skipped and errors."""
    from .rules import validate_batch

    if tree is None:
        results = [validate_batch(batch)]
    else:
        periods = [p for p, _n in _core.period_counts(batch)]
        results = []
        for p in periods:
            sub = _core.select_period(batch, p) if len(periods) > 1 else batch
            results.append(tree.at(p).validate(sub, form, period=p, unknown="error"))
    rules: dict[str, dict[str, Any]] = {}
    for res in results:
        for r in res.summary_table().to_pylist():
            row = rules.setdefault(
                r["rule"],
                {
                    "rule": r["rule"],
                    "severity": r["severity"],
                    "items": 0,
                    "passes": 0,
                    "fails": 0,
                    "skipped": 0,
                    "errors": 0,
                },
            )
            for k in ("items", "passes", "fails", "skipped", "errors"):
                row[k] += int(r[k])
    errors = sum(r["fails"] + r["errors"] for r in rules.values() if r["severity"] == "error")
    warnings_ = sum(r["fails"] + r["errors"] for r in rules.values() if r["severity"] != "error")
    return {
        "form": form.id,
        "reports": len(batch),
        "in_tree": tree is not None,
        "ok": errors == 0,
        "errors": errors,
        "warnings": warnings_,
        "violations": sum(len(r) for r in results),
        "rules": list(rules.values()),
    }


def _arrow_of(batch: _core.ReportBatch) -> pa.Table:
    import pyarrow as pa

    return pa.table(_core.batch_to_arrow(batch)).drop_columns(["row"])


def _parquet(batch: _core.ReportBatch) -> bytes:
    import pyarrow.parquet as pq

    buf = _io.BytesIO()
    pq.write_table(_arrow_of(batch), buf, compression="zstd")
    return buf.getvalue()


def _batch_of_parquet(data: bytes, schema: _core.FormSchema, what: str) -> _core.ReportBatch:
    """The reports of a packaged Parquet part, through the core's exact Arrow import."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .io import read_arrow

    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as exc:  # pyarrow's own errors: not Parquet, truncated, bad page …
        raise InputError(f"{what}: cannot read the part as Parquet: {exc}", file=what) from exc
    res = read_arrow(table, schema, what=what, strict=True, file=what)
    return res.batch


def _utc(created: dt.datetime | None) -> str:
    when = created or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        raise ValueError("created must carry a time zone (e.g. datetime.timezone.utc)")
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _whole(parts: dict[str, str]) -> str:
    """The hash of the whole: SHA-256 of the lines ``<sha256>  <part>`` (as sha256sum
    prints them) of every part but the manifest, sorted by part name."""
    text = "".join(f"{h}  {name}\n" for name, h in sorted(parts.items()))
    return sha256(text.encode("utf-8"))


# ---------------------------------------------------------------------------------------
# Storage: a folder or a zip


# ---------------------------------------------------------------------------------------
# Packages


@dataclass
class Package:
    """A submission package as written or read: where it is, its manifest and the
    manifest's SHA-256 (what a parent keeps as the chain of custody)."""

    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str

    @property
    def form_id(self) -> str:
        """The packaged form's id (``songnuan-2018``)."""
        return str(self.manifest["form"]["id"])

    @property
    def periods(self) -> list[str]:
        """The periods of the packaged reports, sorted."""
        return list(self.manifest["periods"])

    @property
    def units(self) -> list[str]:
        """The units of the packaged reports, sorted."""
        return list(self.manifest["units"])

    @property
    def ok(self) -> bool:
        """True when the packaged reports failed no rule of severity error."""
        return bool(self.manifest["validation"]["ok"])

    def form(self) -> Form:
        """The packaged form, loaded from the package's own copy of the schema."""
        from .forms import Form

        with Store(self.path) as store:
            return Form(_load_schema(store, self.path))

    def batch(self) -> _core.ReportBatch:
        """The packaged reports, read exactly through the packaged schema."""
        with Store(self.path) as store:
            schema = _load_schema(store, self.path)
            return _batch_of_parquet(store.read(REPORTS), schema, f"{self.path}/{REPORTS}")

    def tree(self) -> Hierarchy | None:
        """The packaged tree snapshot, None when the reports were packaged without one."""
        from .graph import Hierarchy

        with Store(self.path) as store:
            if TREE not in store.names:
                return None
            return Hierarchy(_core.Hierarchy.parse_csv(store.read(TREE).decode("utf-8"), f"{self.path}/{TREE}"))

    @property
    def children(self) -> list[dict[str, Any]]:
        """The merged children (manifest hash, units, periods, created …), [] for a unit's own package."""
        return list(self.manifest.get("children", []))

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"<Package {self.path}: {m['form']['id']} period {', '.join(m['periods']) or '(none)'}, "
            f"{m['reports']:,} reports of {len(m['units']):,} units, "
            f"{'ok' if self.ok else 'errors'}; manifest {self.manifest_sha256[:12]}…>"
        )


def _load_schema(store: Store, path: Path) -> _core.FormSchema:
    try:
        text = store.read(SCHEMA).decode("utf-8")
    except KeyError as exc:
        raise PackageError(f"{path}: part {SCHEMA} is missing", file=str(path), part=SCHEMA) from exc
    return _core.load_form_text(text, f"{path}/{SCHEMA}")


def _resolve_form(form: Form | str | os.PathLike[str]) -> Form:
    from .forms import Form, forms, load_form

    if isinstance(form, Form):
        return form
    if isinstance(form, _core.FormSchema):
        return Form(form)
    known = forms()
    if str(form) in known:
        return known[str(form)]
    if Path(form).is_file():
        return load_form(form)
    raise InputError(f"{form}: neither a bundled form ({', '.join(known)}) nor a schema file", file=str(form))


def _resolve_tree(tree: Hierarchy | str | os.PathLike[str] | None) -> Hierarchy | None:
    from .graph import Hierarchy, sample_tree

    if tree is None or isinstance(tree, Hierarchy):
        return tree
    p = Path(tree)
    if p.is_file():
        return Hierarchy.read(p)
    spec = str(tree)
    if "/" not in spec and "\\" not in spec and sample_tree(spec).is_file():
        return Hierarchy.sample(spec)
    raise InputError(f"{spec}: no such units file (nor a bundled tree: qinghai, pingdingshan)", file=spec)


def _check_keys(batch: _core.ReportBatch, what: str) -> None:
    if len(batch) == 0:
        raise InputError(f"{what}: holds no reports; an empty package proves nothing", file=what)
    dups = _core.duplicate_keys(batch)
    if dups:
        a, b = dups[0]
        rows = batch.row_numbers
        raise InputError(
            f"{what}: {len(dups)} report(s) given twice, e.g. unit {batch.units[a]} period "
            f"{batch.periods[a] or '(none)'} in rows {rows[a]} and {rows[b]}",
            file=what,
            row=int(rows[b]),
            unit=batch.units[a],
        )


def _build(
    batch: _core.ReportBatch,
    form: Form,
    tree: Hierarchy | None,
    schema_text: bytes,
    created: str,
    extra: dict[str, bytes],
    manifest_extra: dict[str, Any],
) -> dict[str, bytes]:
    """Every part of a package, the manifest last (it hashes the others)."""
    summary = _summary(batch, form, tree)
    parts: dict[str, bytes] = {
        REPORTS: _parquet(batch),
        SCHEMA: schema_text,
        RULES: _rules_json(form.schema),
        SUMMARY: canonical_json(summary),
    }
    if tree is not None:
        parts[TREE] = tree.core.to_csv().encode("utf-8")
    parts.update(extra)
    hashes = {name: sha256(data) for name, data in parts.items()}
    periods = [p for p, _n in _core.period_counts(batch)]
    units = sorted(set(batch.units))
    roots = [tree.core.id(r) for r in tree.core.roots()] if tree is not None else []
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library": {"name": "unionstat", "version": _core.__version__},
        "created": created,
        "form": {
            "id": form.id,
            "title": form.title,
            "year": form.year,
            "schema_sha256": hashes[SCHEMA],
            "rules_sha256": hashes[RULES],
            "rules": len(form.rules),
        },
        "periods": sorted(periods),
        "units": units,
        "reports": len(batch),
        "reports_digest": reports_digest(batch),
        "tree": None if tree is None else {"units": len(tree), "roots": roots, "sha256": hashes[TREE]},
        "validation": {k: summary[k] for k in ("ok", "errors", "warnings", "violations")},
        **manifest_extra,
        "parts": {name: {"sha256": hashes[name], "bytes": len(parts[name])} for name in sorted(parts)},
        "package_sha256": _whole(hashes),
    }
    parts[MANIFEST] = canonical_json(manifest)
    return parts


def package(
    data: Any,
    form: Form | str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    tree: Hierarchy | str | os.PathLike[str] | None = None,
    period: str | None = None,
    created: dt.datetime | None = None,
) -> Package:
    """Writes a submission package of reports to ``output`` (a folder, new or empty, or a
    ``.zip``) and returns it. ``data``: a file of reports (every format
    :func:`unionstat.read_batch` reads, filled templates too), a batch, a DataFrame or an
    Arrow table; ``form``: a Form, a bundled form id or a schema file; ``tree``: a
    Hierarchy, a units file or a bundled tree's name, against which the reports are
    validated (and whose snapshot is packaged); ``period``: keep only that period's
    reports. No report twice, no unit outside the tree (:class:`InputError`,
    :class:`UnknownNameError`)."""
    f = _resolve_form(form)
    t = _resolve_tree(tree)
    what = "the data"
    if isinstance(data, (str, os.PathLike)):
        from .io import read_batch

        what = str(data)
        batch = read_batch(data, f)
    else:
        batch = f.batch(data)
    if period is not None:
        counts = dict(_core.period_counts(batch))
        if str(period) not in counts:
            raise InputError(
                f"{what}: no reports of period {period} (periods present: {', '.join(p or '(none)' for p in counts)})",
                file=what,
            )
        batch = _core.select_period(batch, str(period))
    _check_keys(batch, what)
    if not f.schema.file or not Path(f.schema.file).is_file():
        raise InputError(f"form {f.id} was not loaded from a schema file: there is no exact schema to package")
    schema_text = Path(f.schema.file).read_bytes()
    parts = _build(batch, f, t, schema_text, _utc(created), {}, {"children": []})
    out = Path(output)
    write_parts(out, parts)
    return Package(out, json.loads(parts[MANIFEST]), sha256(parts[MANIFEST]))


def read_package(path: str | os.PathLike[str]) -> Package:
    """A package's manifest, read (not verified: see :func:`verify_package`). Raises
    :class:`PackageError` for what is not a package or a manifest that is no JSON."""
    p = Path(path)
    with Store(p) as store:
        manifest, raw = read_manifest(store, p)
    return Package(p, manifest, sha256(raw))


# ---------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class PackageFinding:
    """One thing about a package that is not as its manifest says: the part (file name
    inside the package) and what is wrong with it."""

    part: str
    message: str

    def __str__(self) -> str:
        return f"{self.part}: {self.message}"


@dataclass
class PackageVerification:
    """The result of :func:`verify_package`: ``ok`` when every part is as the manifest
    says and everything recomputed agrees; ``findings`` otherwise, each naming its part."""

    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    findings: list[PackageFinding] = field(default_factory=list)
    #: What was recomputed and agreed (for the record): parts hashed, reports re-read …
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the package is intact: no finding."""
        return not self.findings

    def __bool__(self) -> bool:
        return self.ok

    @property
    def parts(self) -> list[str]:
        """The parts with findings, each once, in the order found."""
        return list(dict.fromkeys(f.part for f in self.findings))

    def records(self) -> dict[str, Any]:
        """The result as JSON-ready data (what ``unionstat verify --format json`` prints)."""
        return {
            "package": str(self.path),
            "ok": self.ok,
            "manifest_sha256": self.manifest_sha256,
            "package_sha256": self.manifest.get("package_sha256"),
            "findings": [{"part": f.part, "message": f.message} for f in self.findings],
            "checked": self.checked,
        }

    def __repr__(self) -> str:
        state = "intact" if self.ok else f"{len(self.findings)} finding(s) in {', '.join(self.parts)}"
        return f"<PackageVerification {self.path}: {state}>"


def verify_package(path: str | os.PathLike[str], *, manifest_sha256: str | None = None) -> PackageVerification:
    """Recomputes everything a package claims: every part's SHA-256 and size, the hash of
    the whole, no part missing and none extra; the schema copy compiled again and its rule
    set compared with ``rules.json``; the tree snapshot parsed; the reports read again
    through the packaged schema (units, periods, count and content digest against the
    manifest); the validation run again with the packaged schema and tree and compared
    with ``validation.json``; in a merged package, every child's manifest kept and its
    reports' digest matching their rows here. ``manifest_sha256``: the manifest's hash as
    the receiver was told it (a parent's record): a different manifest is a finding.

    Findings (a tampered or missing part) are in the result; what is not a package at all,
    or a manifest that is no JSON, raises :class:`PackageError`."""
    p = Path(path)
    with Store(p) as store:
        manifest, raw = read_manifest(store, p)
        res = PackageVerification(p, manifest, sha256(raw))
        _verify(store, p, manifest, res, manifest_sha256)
    return res


def _verify(store: Store, p: Path, manifest: dict[str, Any], res: PackageVerification, expected: str | None) -> None:
    find = res.findings.append
    if expected is not None and expected.lower() != res.manifest_sha256:
        find(PackageFinding(MANIFEST, f"SHA-256 is {res.manifest_sha256}, not {expected.lower()} as recorded"))
    listed: dict[str, dict[str, Any]] = manifest["parts"]
    present = [n for n in store.names if n != MANIFEST]
    actual: dict[str, str] = {}
    for name in sorted(set(listed) - set(present)):
        find(PackageFinding(name, "missing (the manifest lists it)"))
    for name in present:
        if name not in listed:
            find(PackageFinding(name, "not listed in the manifest (a part added after packaging)"))
            continue
        digest, size = store.hash(name)
        actual[name] = digest
        want = listed[name]
        if digest != want["sha256"] or size != want["bytes"]:
            find(
                PackageFinding(
                    name,
                    f"SHA-256 {digest} ({size:,} bytes) differs from the manifest's "
                    f"{want['sha256']} ({want['bytes']:,} bytes): the part was changed",
                )
            )
    res.checked.append(f"{len(actual)} part(s) hashed")
    whole = _whole({n: actual.get(n, listed[n]["sha256"]) for n in listed})
    if whole != manifest["package_sha256"]:
        find(
            PackageFinding(
                MANIFEST, f"the hash of the whole is {whole}, the manifest says {manifest['package_sha256']}"
            )
        )
    for name, key in ((SCHEMA, "schema_sha256"), (RULES, "rules_sha256")):
        if name in listed and manifest["form"].get(key) not in (None, listed[name]["sha256"]):
            find(PackageFinding(MANIFEST, f"form.{key} disagrees with the hash listed for {name}"))

    # The schema copy, compiled again; its rule set against rules.json.
    schema = None
    if SCHEMA in store.names:
        try:
            schema = _load_schema(store, p)
        except Error as exc:
            find(PackageFinding(SCHEMA, f"does not load as a form schema: {exc}"))
    if schema is not None:
        if schema.id != manifest["form"]["id"]:
            find(PackageFinding(SCHEMA, f"is form {schema.id}, the manifest says {manifest['form']['id']}"))
        if RULES in store.names:
            _compare_rules(store, schema, res)
        res.checked.append(f"{SCHEMA} compiled ({len(schema.rules)} rules)")

    # The tree snapshot.
    tree = None
    if TREE in store.names:
        from .graph import Hierarchy

        try:
            tree = Hierarchy(_core.Hierarchy.parse_csv(store.read(TREE).decode("utf-8"), f"{p}/{TREE}"))
            info = manifest.get("tree") or {}
            if info.get("units") not in (None, len(tree)):
                find(PackageFinding(TREE, f"holds {len(tree):,} units, the manifest says {info['units']:,}"))
        except (Error, UnicodeDecodeError) as exc:
            find(PackageFinding(TREE, f"does not read as a units file: {exc}"))
    elif manifest.get("tree"):
        pass  # already a missing part

    # The reports, read again through the packaged schema.
    if schema is None or REPORTS not in store.names:
        return
    try:
        batch = _batch_of_parquet(store.read(REPORTS), schema, f"{p}/{REPORTS}")
    except Error as exc:
        find(PackageFinding(REPORTS, f"does not read back as reports of {schema.id}: {exc}"))
        return
    units = sorted(set(batch.units))
    periods = sorted(p_ for p_, _n in _core.period_counts(batch))
    if len(batch) != manifest["reports"]:
        find(PackageFinding(REPORTS, f"holds {len(batch):,} reports, the manifest says {manifest['reports']:,}"))
    if units != manifest["units"]:
        gone = sorted(set(manifest["units"]) - set(units))[:5]
        new = sorted(set(units) - set(manifest["units"]))[:5]
        find(
            PackageFinding(
                REPORTS,
                f"its units differ from the manifest's (not in the data: {', '.join(gone) or '-'}; "
                f"not in the manifest: {', '.join(new) or '-'})",
            )
        )
    if periods != manifest["periods"]:
        find(
            PackageFinding(
                REPORTS, f"holds periods {', '.join(periods)}, the manifest says {', '.join(manifest['periods'])}"
            )
        )
    if reports_digest(batch) != manifest["reports_digest"]:
        find(PackageFinding(REPORTS, "its content digest differs from the manifest's: the reports were changed"))
    res.checked.append(f"{REPORTS} read ({len(batch):,} reports)")

    # The validation, run again with the packaged schema and tree.
    if SUMMARY in store.names:
        from .forms import Form

        try:
            again = _summary(batch, Form(schema), tree)
        except Error as exc:
            find(PackageFinding(TREE if tree is not None else REPORTS, f"validation could not run again: {exc}"))
        else:
            _compare_summary(store, again, manifest, res)
            res.checked.append(f"validation run again ({again['violations']:,} violation(s))")

    # The chain of custody: every descendant's manifest kept, its reports here unchanged.
    _verify_custody(store, batch, schema, manifest, res)


def _json_part(
    store: Store, part: str, key: str, what: str, res: PackageVerification
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A packaged JSON part and its ``rules`` by ``key``; None (with a finding naming the
    part) when it is not what the package wrote."""
    try:
        recorded = json.loads(store.read(part).decode("utf-8"))
        return recorded, {r[key]: r for r in recorded["rules"]}
    except (ValueError, KeyError, TypeError) as exc:
        res.findings.append(PackageFinding(part, f"not {what} as packaged ({exc})"))
        return None


def _differences(res: PackageVerification, part: str, what: str, diffs: list[str]) -> None:
    """One finding for ``part`` naming its first three differences (and how many more)."""
    if diffs:
        more = f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else ""
        res.findings.append(PackageFinding(part, f"{what}: " + "; ".join(diffs[:3]) + more))


def _compare_rules(store: Store, schema: _core.FormSchema, res: PackageVerification) -> None:
    got = _json_part(store, RULES, "id", "a rule set", res)
    if got is None:
        return
    _recorded, rules = got
    compiled = {r["id"]: r for r in json.loads(_rules_json(schema))["rules"]}
    diffs = []
    for rid in list(dict.fromkeys([*rules, *compiled])):
        a, b = rules.get(rid), compiled.get(rid)
        if a is None:
            diffs.append(f"rule {rid} is in {SCHEMA} but not in {RULES}")
        elif b is None:
            diffs.append(f"rule {rid} is in {RULES} but not in {SCHEMA}")
        elif a != b:
            k = next(k for k in dict.fromkeys([*b, *a]) if a.get(k) != b.get(k))
            diffs.append(f"rule {rid}: {k} {a.get(k)!r} in {RULES}, {b.get(k)!r} in {SCHEMA}")
    _differences(res, RULES, "the rule set differs from what the packaged schema compiles to", diffs)


def _compare_summary(store: Store, again: dict[str, Any], manifest: dict[str, Any], res: PackageVerification) -> None:
    got = _json_part(store, SUMMARY, "rule", "a validation summary", res)
    if got is None:
        return
    recorded, rows = got
    diffs = []
    for r in again["rules"]:
        was = rows.pop(r["rule"], None)
        if was is None:
            diffs.append(f"rule {r['rule']} is not in the summary")
            continue
        for k in ("items", "passes", "fails", "skipped", "errors"):
            if was.get(k) != r[k]:
                diffs.append(f"rule {r['rule']}: {k} {r[k]:,} now, {was.get(k)!r} recorded")
                break
    diffs += [f"rule {rid} is in the summary but not in the rule set" for rid in rows]
    for k in ("ok", "errors", "warnings", "violations", "reports"):
        if k in recorded and recorded[k] != again[k]:
            diffs.append(f"{k} {again[k]!r} now, {recorded[k]!r} recorded")
    _differences(res, SUMMARY, "validating again gives another result", diffs)
    status = manifest["validation"]
    if any(status.get(k) != again[k] for k in ("ok", "errors", "warnings", "violations")):
        res.findings.append(
            PackageFinding(
                MANIFEST,
                f"its validation status {status} is not what validating again "
                f"gives ({again['errors']} errors, {again['violations']} "
                "violations)",
            )
        )


def _custody_name(sha: str) -> str:
    return f"{CUSTODY}/{sha}.json"


def _verify_custody(
    store: Store, batch: _core.ReportBatch, schema: _core.FormSchema, manifest: dict[str, Any], res: PackageVerification
) -> None:
    """Every child manifest the package names is kept (custody/<its sha256>.json, those
    of the children's children too), and the reports of each one's units are here as it
    packaged them (the same content digest)."""
    rows_of: dict[str, list[int]] = {}
    for i, u in enumerate(batch.units):
        rows_of.setdefault(u, []).append(i)
    pending = [(c, "") for c in manifest["children"]]
    seen = 0
    while pending:
        child, via = pending.pop(0)
        sha = child.get("manifest_sha256") if isinstance(child, dict) else None
        if not isinstance(sha, str):
            res.findings.append(PackageFinding(MANIFEST, f"a child entry{via} lacks its manifest_sha256"))
            continue
        name = _custody_name(sha)
        if name not in store.names:
            if name not in manifest["parts"]:  # a listed one that is gone is a missing part already
                res.findings.append(
                    PackageFinding(name, f"missing: the manifest of child {child.get('source', sha)}{via} is not kept")
                )
            continue
        raw = store.read(name)
        if sha256(raw) != sha:
            continue  # its hash differs from its name: found as a changed part (its listed hash is its name)
        try:
            kid = json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            res.findings.append(PackageFinding(name, f"not a manifest: {exc}"))
            continue
        seen += 1
        if kid.get("form", {}).get("schema_sha256") != manifest["form"].get("schema_sha256"):
            res.findings.append(
                PackageFinding(name, f"child {child.get('source', sha)} was packaged with another form schema")
            )
        mine = set(kid.get("units", []))
        rows = sorted(i for u in mine for i in rows_of.get(u, ()))
        if reports_digest(batch.take(rows)) != kid.get("reports_digest"):
            res.findings.append(
                PackageFinding(
                    REPORTS,
                    f"the reports of child {child.get('source', sha)}{via} "
                    f"({len(mine):,} units) are not as it packaged them",
                )
            )
        pending += [(c, f" (via {child.get('source', sha)})") for c in kid.get("children", [])]
    if manifest["children"]:
        res.checked.append(f"chain of custody: {seen} kept manifest(s) checked against the reports")


# ---------------------------------------------------------------------------------------
# Merging


def merge_packages(
    packages: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    tree: Hierarchy | str | os.PathLike[str] | None = None,
    created: dt.datetime | None = None,
) -> Package:
    """Merges children's packages into the parent's (``output``: a new or empty folder or
    a ``.zip``): each child verified first; the same form version (schema and rule set)
    and the same periods in all; no unit in two children. The merged reports are
    validated again in ``tree`` (default: the children's tree snapshot, which must then be
    the same in all that carry one). The parent's manifest keeps each child's manifest
    hash, and every descendant's manifest is kept as ``custody/<sha256>.json``: the chain
    county → city → province verifies end to end. Raises :class:`PackageError` naming the
    packages that do not fit together."""
    if len(packages) < 1:
        raise PackageError("merge needs at least one package")
    kids: list[tuple[Path, PackageVerification]] = []
    for path in packages:
        v = verify_package(path)
        if not v.ok:
            raise PackageError(
                f"{path}: does not verify, not merged: " + "; ".join(map(str, v.findings[:3])),
                file=str(path),
                part=v.findings[0].part,
            )
        kids.append((Path(path), v))
    names = [str(p) for p, _v in kids]
    if len({Path(n).resolve() for n in names}) != len(names):
        raise PackageError("the same package is given twice: " + ", ".join(names))

    def version(v: PackageVerification) -> tuple[str, str, str]:
        f = v.manifest["form"]
        return f["id"], f["schema_sha256"], f["rules_sha256"]

    versions = {version(v) for _p, v in kids}
    if len(versions) > 1:
        shown = "; ".join(f"{p}: {v.manifest['form']['id']} (schema {version(v)[1][:12]}…)" for p, v in kids)
        raise PackageError(f"mixed form versions, not merged: {shown}", file=str(kids[0][0]))
    periods = {tuple(v.manifest["periods"]) for _p, v in kids}
    if len(periods) > 1:
        shown = "; ".join(f"{p}: {', '.join(v.manifest['periods'])}" for p, v in kids)
        raise PackageError(f"mixed periods, not merged: {shown}", file=str(kids[0][0]))
    owner: dict[str, Path] = {}
    overlaps: list[str] = []
    for p, v in kids:
        for u in v.manifest["units"]:
            if u in owner:
                overlaps.append(f"{u} ({owner[u]} and {p})")
            else:
                owner[u] = p
    if overlaps:
        more = f" … ({len(overlaps)} in all)" if len(overlaps) > 10 else ""
        raise PackageError(
            f"overlapping units, not merged: {'; '.join(overlaps[:10])}{more}",
            file=str(kids[0][0]),
            unit=overlaps[0].split(" ")[0],
        )

    form = Package(kids[0][0], kids[0][1].manifest, kids[0][1].manifest_sha256).form()
    t = _resolve_tree(tree)
    if t is None:
        trees = {v.manifest["tree"]["sha256"]: p for p, v in kids if v.manifest.get("tree")}
        if len(trees) > 1:
            shown = "; ".join(f"{p}: tree {h[:12]}…" for h, p in trees.items())
            raise PackageError(
                f"the children were validated against different trees ({shown}): give the parent's tree (--tree)",
                file=str(kids[0][0]),
                part=TREE,
            )
        if trees:
            t = Package(*_first_with_tree(kids)).tree()

    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    custody: dict[str, bytes] = {}
    children = []
    schema_text = b""
    for p, v in kids:
        with Store(p) as store:
            tables.append(pq.read_table(pa.BufferReader(store.read(REPORTS))))
            schema_text = store.read(SCHEMA)
            custody[_custody_name(v.manifest_sha256)] = store.read(MANIFEST)
            for name in store.names:
                if name.startswith(CUSTODY + "/"):
                    custody[name] = store.read(name)
        m = v.manifest
        children.append(
            {
                "source": p.name,
                "manifest_sha256": v.manifest_sha256,
                "package_sha256": m["package_sha256"],
                "created": m["created"],
                "units": len(m["units"]),
                "reports": m["reports"],
                "reports_digest": m["reports_digest"],
                "validation": m["validation"],
            }
        )
    from .io import read_arrow

    batch = read_arrow(pa.concat_tables(tables), form.schema, what="the merged reports", strict=True).batch
    _check_keys(batch, "the merged reports")
    parts = _build(batch, form, t, schema_text, _utc(created), custody, {"children": children})
    out = Path(output)
    write_parts(out, parts)
    return Package(out, json.loads(parts[MANIFEST]), sha256(parts[MANIFEST]))


def _first_with_tree(kids: Iterable[tuple[Path, PackageVerification]]) -> tuple[Path, dict[str, Any], str]:
    for p, v in kids:
        if v.manifest.get("tree"):
            return p, v.manifest, v.manifest_sha256
    raise AssertionError("no child carries a tree")  # pragma: no cover - asked only when one does
