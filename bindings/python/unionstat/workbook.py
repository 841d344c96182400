"""What an XLSX file holds, read from its parts with zipfile and an XML parser: the
workbook's defined names, its sheets, each cell's stored text (the number exactly as the
file writes it, the formula and whether its result is stored) and the merged ranges.

The templates of :mod:`unionstat.templates` are read through this module: their blanks
are found by their defined names (``f_01A``), which the table readers (fastexcel/calamine)
do not expose, and their numbers are taken from the text the file stores rather than
from a reader's float. A template is small (one sheet per unit, a hundred cells each), so
a plain XML parse is cheap; large tables of reports go through :mod:`unionstat.io`'s
fastexcel path.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from .errors import InputError

__all__ = ["Cell", "DefinedName", "Sheet", "Workbook", "cell_ref", "excel_date", "split_ref"]

_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"


def _local(tag: str) -> str:
    """An element's name without its namespace (transitional and strict OOXML alike)."""
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> Iterator[ET.Element]:
    return (c for c in el if _local(c.tag) == name)


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next(_children(el, name), None)


def _text_of(el: ET.Element) -> str:
    """The text of a string item: ``<t>`` or rich-text runs ``<r><t>`` (phonetic runs
    ``<rPh>`` are not part of the value)."""
    t = _child(el, "t")
    if t is not None:
        return t.text or ""
    return "".join((rt.text or "") for r in _children(el, "r") if (rt := _child(r, "t")) is not None)


_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})$")


def split_ref(ref: str) -> tuple[int, int]:
    """``"D12"`` → (row 12, column 4), both 1-based."""
    m = _REF.match(ref)
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    col = 0
    for ch in m.group(1):
        col = col * 26 + (ord(ch) - 64)
    return int(m.group(2)), col


def cell_ref(row: int, col: int) -> str:
    """(12, 4) → ``"D12"`` (1-based)."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


@dataclass
class Cell:
    """One stored cell: ``kind`` is ``number``, ``text``, ``bool``, ``error``, ``date`` or
    ``empty``; ``text`` the value as the file stores it (a number's own digits)."""

    ref: str
    kind: str
    text: str
    formula: bool = False
    style: int = 0


@dataclass
class DefinedName:
    """A defined name: its name, the sheet it is scoped to (None: the workbook), and what
    it refers to (``sheet``/``ref`` when it is one cell; ``value`` when it is a constant;
    ``broken`` when the reference was deleted, as ``#REF!``)."""

    name: str
    scope: str | None
    formula: str
    sheet: str | None = None
    ref: str | None = None
    value: str | None = None
    broken: bool = False
    is_range: bool = False


@dataclass
class Sheet:
    """A worksheet: its cells by reference and its merged ranges."""

    name: str
    cells: dict[str, Cell] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2

    def merge_at(self, ref: str) -> tuple[int, int, int, int] | None:
        """The merged range that covers a cell, if any."""
        r, c = split_ref(ref)
        for m in self.merged:
            if m[0] <= r <= m[2] and m[1] <= c <= m[3]:
                return m
        return None

    def value(self, ref: str) -> Cell:
        return self.cells.get(ref) or Cell(ref, "empty", "")


_DEFINED = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]{1,3}\$?[0-9]{1,7})(?::(\$?[A-Z]{1,3}\$?[0-9]{1,7}))?$")


def _parse_defined(name: str, scope: str | None, formula: str) -> DefinedName:
    d = DefinedName(name, scope, formula)
    text = formula.strip()
    if text.startswith("="):
        text = text[1:]
    if "#REF!" in text:
        d.broken = True
        return d
    m = _DEFINED.match(text)
    if m:
        d.sheet = (m.group(1).replace("''", "'")) if m.group(1) is not None else m.group(2)
        d.ref = m.group(3).replace("$", "")
        if m.group(4) and m.group(4).replace("$", "") != d.ref:
            d.is_range = True
        return d
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        d.value = text[1:-1].replace('""', '"')
    return d


class Workbook:
    """An XLSX file's parts, read once. Raises :class:`InputError` naming the file when it
    is not a workbook."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
            wb = ET.fromstring(self._zip.read("xl/workbook.xml"))
        except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError) as exc:
            raise InputError(f"{self.path}: cannot read the file as XLSX: {exc}", file=str(self.path)) from exc
        try:
            rels = ET.fromstring(self._zip.read("xl/_rels/workbook.xml.rels"))
        except KeyError:
            rels = ET.Element("Relationships")
        targets = {r.get("Id"): r.get("Target", "") for r in rels if _local(r.tag) == "Relationship"}
        pr = _child(wb, "workbookPr")
        self.date1904 = pr is not None and pr.get("date1904", "0") in ("1", "true")
        self.sheet_names: list[str] = []
        self._sheet_paths: list[str] = []
        sheets = _child(wb, "sheets")
        for s in sheets if sheets is not None else []:
            if _local(s.tag) != "sheet":
                continue
            rid = s.get(f"{{{_REL_NS}}}id") or s.get(f"{{{_STRICT_REL_NS}}}id") or ""
            target = targets.get(rid, "")
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            self.sheet_names.append(s.get("name", ""))
            self._sheet_paths.append(path)
        self.names: list[DefinedName] = []
        dn = _child(wb, "definedNames")
        for d in dn if dn is not None else []:
            if _local(d.tag) != "definedName":
                continue
            local = d.get("localSheetId")
            scope = None
            if local is not None and local.isdigit() and int(local) < len(self.sheet_names):
                scope = self.sheet_names[int(local)]
            self.names.append(_parse_defined(d.get("name", ""), scope, d.text or ""))
        self._strings: list[str] | None = None
        self._sheets: dict[str, Sheet] = {}

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _shared_strings(self) -> list[str]:
        if self._strings is None:
            try:
                root = ET.fromstring(self._zip.read("xl/sharedStrings.xml"))
            except KeyError:
                root = ET.Element("sst")
            self._strings = [_text_of(si) for si in root if _local(si.tag) == "si"]
        return self._strings

    def sheet(self, name: str) -> Sheet:
        """One worksheet's cells and merged ranges (parsed on first use)."""
        if name in self._sheets:
            return self._sheets[name]
        if name not in self.sheet_names:
            raise InputError(
                f"{self.path}: no sheet '{name}' (sheets: {', '.join(self.sheet_names)})", file=str(self.path)
            )
        try:
            root = ET.fromstring(self._zip.read(self._sheet_paths[self.sheet_names.index(name)]))
        except (KeyError, ET.ParseError) as exc:
            raise InputError(f"{self.path}: sheet '{name}' cannot be read: {exc}", file=str(self.path)) from exc
        sheet = Sheet(name)
        strings = None
        data = _child(root, "sheetData")
        for row in data if data is not None else []:
            for c in _children(row, "c"):
                ref = c.get("r", "")
                t = c.get("t", "n")
                f = _child(c, "f")
                v = _child(c, "v")
                style = int(c.get("s", "0") or 0)
                text = v.text if v is not None and v.text is not None else None
                if t == "inlineStr":
                    is_ = _child(c, "is")
                    sheet.cells[ref] = Cell(ref, "text", _text_of(is_) if is_ is not None else "", f is not None, style)
                    continue
                if text is None:
                    sheet.cells[ref] = Cell(ref, "empty", "", f is not None, style)
                    continue
                if t == "s":
                    if strings is None:
                        strings = self._shared_strings()
                    i = int(text)
                    kind, text = "text", strings[i] if 0 <= i < len(strings) else ""
                elif t == "str":
                    kind = "text"
                elif t == "b":
                    kind = "bool"
                elif t == "e":
                    kind = "error"
                elif t == "d":
                    kind = "date"
                else:
                    kind = "number"
                sheet.cells[ref] = Cell(ref, kind, text, f is not None, style)
        merges = _child(root, "mergeCells")
        for m in merges if merges is not None else []:
            parts = m.get("ref", "").split(":")
            if len(parts) == 2:
                (r1, c1), (r2, c2) = split_ref(parts[0]), split_ref(parts[1])
                sheet.merged.append((r1, c1, r2, c2))
        self._sheets[name] = sheet
        return sheet


def excel_date(serial: str, date1904: bool = False) -> dt.datetime:
    """An Excel date serial (days, the fraction the time of day) as a datetime."""
    from decimal import Decimal

    base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    days = Decimal(serial)
    seconds = int((days - int(days)) * 86400 + Decimal("0.5"))
    return base + dt.timedelta(days=int(days), seconds=seconds)
