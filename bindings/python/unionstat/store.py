"""A submission package's parts on disk — a folder or a ``.zip`` — and its manifest, read
and checked for the keys every reader needs. The layer below :mod:`unionstat.io` (which
reads a package's reports as any file of reports) and :mod:`unionstat.package` (which
writes, verifies and merges packages)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Self

from . import _core
from .errors import PackageError

__all__ = [
    "CUSTODY",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "REPORTS",
    "RULES",
    "SCHEMA",
    "SUMMARY",
    "TREE",
    "Store",
    "canonical_json",
    "is_package",
    "read_manifest",
    "sha256",
    "write_parts",
]

#: The manifest's format marker and version.
FORMAT = "unionstat-package"
FORMAT_VERSION = 1

MANIFEST = "manifest.json"
REPORTS = "reports.parquet"
SCHEMA = "form.yaml"
RULES = "rules.json"
TREE = "tree.csv"
SUMMARY = "validation.json"
CUSTODY = "custody"

_CHUNK = 1 << 20


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj: dict[str, Any]) -> bytes:
    """A part's JSON as written (UTF-8): one top-level key a line, and one element a line
    of a top-level list of objects (rules, children); every value else compact — so the
    encoder stays in C for a national package's million units, and a person can still
    read it."""

    def compact(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False)

    lines = []
    for key, value in obj.items():
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            inner = ",\n".join(f"  {compact(x)}" for x in value)
            lines.append(f" {compact(key)}: [\n{inner}\n ]")
        else:
            lines.append(f" {compact(key)}: {compact(value)}")
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")


class Store:
    """The parts of a package on disk (a folder or a zip), by their names. A zip whose
    entries all sit in one folder holding the manifest (``zip -r k1.zip k1/``) is read as
    that folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if path.is_dir():
            self.names = sorted(q.relative_to(path).as_posix() for q in path.rglob("*") if q.is_file())
        elif path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise PackageError(
                    f"{path}: not a submission package (neither a folder nor a zip: {exc})", file=str(path)
                ) from exc
            names = sorted(i.filename for i in self._zip.infolist() if not i.is_dir())
            top = {n.split("/", 1)[0] for n in names}
            if MANIFEST not in names and len(top) == 1 and f"{next(iter(top))}/{MANIFEST}" in names:
                self._prefix = next(iter(top)) + "/"
            self.names = [n[len(self._prefix) :] for n in names]
        else:
            raise PackageError(f"{path}: no such package (a folder or a .zip)", file=str(path))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()

    def read(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(self._prefix + name)
        return (self.path / name).read_bytes()

    def hash(self, name: str) -> tuple[str, int]:
        """(SHA-256, size) of a part, read in chunks."""
        h = hashlib.sha256()
        size = 0
        with self._zip.open(self._prefix + name) if self._zip is not None else (self.path / name).open("rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
        return h.hexdigest(), size


def write_parts(output: Path, parts: dict[str, bytes]) -> None:
    """Writes the parts as a zip (``output`` ends in .zip: written aside, then moved into
    place) or into a folder that does not exist yet or is empty (a folder holding anything
    would mix an older package's parts into this one)."""
    if output.suffix.lower() == ".zip":
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".unionstat-", suffix=".zip", dir=output.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
                for name in [MANIFEST] + sorted(n for n in parts if n != MANIFEST):
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # the time is in the manifest
                    # Parquet is compressed inside (zstd): deflating it again costs time for nothing.
                    info.compress_type = zipfile.ZIP_STORED if name.endswith(".parquet") else zipfile.ZIP_DEFLATED
                    z.writestr(info, parts[name])
            os.replace(tmp, output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        what = "a folder that is not empty" if output.is_dir() else "a file"
        raise PackageError(
            f"{output}: already exists and is {what}; a package folder must be new or empty (or give a .zip)",
            file=str(output),
        )
    for name, data in parts.items():
        q = output / name
        q.parent.mkdir(parents=True, exist_ok=True)
        q.write_bytes(data)


def read_manifest(store: Store, path: Path) -> tuple[dict[str, Any], bytes]:
    """The manifest of a package, checked for the keys every reader needs."""
    if MANIFEST not in store.names:
        raise PackageError(f"{path}: not a submission package (no {MANIFEST})", file=str(path), part=MANIFEST)
    raw = store.read(MANIFEST)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PackageError(
            f"{path}/{MANIFEST}: not UTF-8 text (byte {exc.start})", file=str(path), part=MANIFEST
        ) from exc
    except json.JSONDecodeError as exc:
        raise PackageError(
            f"{path}/{MANIFEST}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}",
            file=str(path),
            part=MANIFEST,
            line=exc.lineno,
            column=exc.colno,
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PackageError(
            f'{path}/{MANIFEST}: not a unionstat package manifest (no "format": "{FORMAT}")',
            file=str(path),
            part=MANIFEST,
        )
    if manifest.get("format_version") != FORMAT_VERSION:
        raise PackageError(
            f"{path}/{MANIFEST}: package format version {manifest.get('format_version')!r}; this "
            f"library ({_core.__version__}) reads version {FORMAT_VERSION}",
            file=str(path),
            part=MANIFEST,
        )
    shapes: dict[str, type | tuple[type, ...]] = {
        "form": dict,
        "periods": list,
        "units": list,
        "reports": int,
        "reports_digest": str,
        "parts": dict,
        "package_sha256": str,
        "validation": dict,
        "created": str,
        "children": list,
        "library": dict,
    }
    for key, kind in shapes.items():
        if not isinstance(manifest.get(key), kind):
            raise PackageError(
                f'{path}/{MANIFEST}: "{key}" is missing or not a JSON '
                f"{'object' if kind is dict else 'list' if kind is list else kind.__name__}",  # type: ignore[union-attr]
                file=str(path),
                part=MANIFEST,
            )
    for name, entry in manifest["parts"].items():
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("sha256"), str)
            or not isinstance(entry.get("bytes"), int)
        ):
            raise PackageError(
                f'{path}/{MANIFEST}: part "{name}" lacks its sha256 or bytes', file=str(path), part=MANIFEST
            )
    if not isinstance(manifest["form"].get("id"), str):
        raise PackageError(f'{path}/{MANIFEST}: "form" lacks its "id"', file=str(path), part=MANIFEST)
    return manifest, raw


def is_package(path: str | os.PathLike[str]) -> bool:
    """True for a folder or a zip holding a ``manifest.json`` (whether or not it is sound)."""
    p = Path(path)
    if p.is_dir():
        return (p / MANIFEST).is_file()
    if p.is_file() and zipfile.is_zipfile(p):
        try:
            with Store(p) as store:
                return MANIFEST in store.names
        except PackageError:
            return False
    return False
