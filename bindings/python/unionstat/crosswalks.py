"""Comparing years: mapping reports of one form version onto another version's concepts.

>>> import unionstat as us
>>> rep = us.forms()["songnuan-2012"].report("210200", "2012", {"05B": 40, "07I_2": "12345.67"})
>>> res = us.crosswalk(rep, to="songnuan-2018")
>>> str(res.frame.loc[0, "funds_raised.government"]), str(res.frame.loc[0, "heating.amount"])
('40.00', '1.234567')
>>> res.unmapped_codes[:3]
['04A_2', '08A_2', '08B_2']
>>> [(u.code, u.values) for u in res.unmapped if u.values]  # data that could not be carried
[]
"""

from __future__ import annotations

import decimal
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _core
from .errors import InputError, UnknownNameError
from .forms import Form, forms, schema_dir, to_batch_any
from .frames import batch_to_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ConceptMapping",
    "Crosswalk",
    "CrosswalkResult",
    "UnmappedField",
    "bundled_crosswalks",
    "crosswalk",
    "crosswalk_dir",
    "load_crosswalk",
]

#: The C++ crosswalk: ``family``, ``forms``, ``sums``, ``unit_changes``, ``same``,
#: ``only_in`` (lists of dicts with their notes) and ``map(batch, target_schema)``.
Crosswalk = _core.Crosswalk


def crosswalk_dir() -> Path:
    """Directory of the bundled crosswalks: ``crosswalks/`` beside the forms' directory."""
    return schema_dir().parent / "crosswalks"


@dataclass(frozen=True)
class UnmappedField:
    """A field the mapping could not carry across: a source field whose value reaches no
    target concept, or a target field (``code`` empty for an extra concept column) left
    blank. ``reason`` names the forms and concepts; ``note`` is the crosswalk's note."""

    code: str
    key: str
    label: str
    reason: str
    note: str = ""
    values: int = 0  #: source rows with a value in this field (0 for target fields)


@dataclass(frozen=True)
class ConceptMapping:
    """How one target concept was filled: ``copy``, ``rescale`` (money between 元 and
    万元, exact), ``unit_change`` (a count whose measure word changed, as the crosswalk
    allows) or ``sum`` (of the source concepts the crosswalk names as its parts)."""

    key: str
    target_code: str
    method: str
    source_codes: tuple[str, ...]
    note: str = ""


@dataclass
class CrosswalkResult:
    """Reports of one form version expressed in another version's concepts.

    ``frame`` has ``unit``, ``period``, one column per target field named by its concept
    key (in printed order), then the extra sum concepts the target form lacks (e.g.
    ``funds_raised.government`` on 2018). Counts are nullable ``Int64``, flags
    ``boolean``, money exact ``Decimal`` in the target's unit. ``batch`` holds the
    target fields as a batch of the target form, ready for ``form.check``.
    """

    source: str
    target: str
    frame: pd.DataFrame
    batch: _core.ReportBatch
    extra: list[str]
    mapped: list[ConceptMapping]
    unmapped: list[UnmappedField]
    unfilled: list[UnmappedField]
    _codes: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def unmapped_codes(self) -> list[str]:
        """Codes of the source fields that could not be mapped."""
        return [u.code for u in self.unmapped]

    @property
    def unfilled_codes(self) -> list[str]:
        """Codes (or, for extra concept columns, keys) of the target concepts left blank."""
        return [u.code or u.key for u in self.unfilled]

    def column_codes(self) -> dict[str, str]:
        """Target field code of each concept column (extra concept columns map to "")."""
        return dict(self._codes)

    def report(self) -> str:
        """A readable account: what was mapped how, what could not be and why."""
        lines = [f"{self.source} → {self.target}: {len(self.frame)} report(s)"]
        for m in self.mapped:
            if m.method != "copy" or m.note:
                where = m.target_code or "extra column"
                lines.append(f"  {m.key} [{where}] ← {' + '.join(m.source_codes)} ({m.method})")
        if self.unmapped:
            lines.append(f"  not mapped from {self.source}:")
            lines += [
                f"    {u.code} {u.key}: {u.reason}" + (f" ({u.values} value(s) not carried)" if u.values else "")
                for u in self.unmapped
            ]
        if self.unfilled:
            lines.append(f"  left blank on {self.target}:")
            lines += [f"    {u.code or '(extra)'} {u.key}: {u.reason}" for u in self.unfilled]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<CrosswalkResult {self.source} → {self.target}: {len(self.frame)} row(s), "
            f"{len(self.mapped)} concepts mapped, {len(self.unmapped)} unmapped, {len(self.unfilled)} unfilled>"
        )


class _Crosswalks(Mapping[str, "_core.Crosswalk"]):
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._cache: dict[str, _core.Crosswalk] = {}

    def _families(self) -> list[str]:
        return sorted(p.stem for p in self._dir.glob("*.yaml")) if self._dir.is_dir() else []

    def __getitem__(self, family: str) -> _core.Crosswalk:
        if family not in self._cache:
            path = self._dir / f"{family}.yaml"
            if not path.is_file():
                raise UnknownNameError(f"no crosswalk for family '{family}' (known: {', '.join(self._families())})")
            self._cache[family] = load_crosswalk(path)
        return self._cache[family]

    def __iter__(self) -> Iterator[str]:
        return iter(self._families())

    def __len__(self) -> int:
        return len(self._families())

    def __repr__(self) -> str:
        return f"<crosswalks: {', '.join(self._families())}>"


_bundled: _Crosswalks | None = None


def bundled_crosswalks() -> Mapping[str, _core.Crosswalk]:
    """The bundled crosswalks by family (``bundled_crosswalks()["songnuan"]``), loaded and
    checked against the bundled forms on first use."""
    global _bundled
    if _bundled is None:
        _bundled = _Crosswalks(crosswalk_dir())
    return _bundled


def load_crosswalk(path: str | os.PathLike[str], registry: _core.SchemaRegistry | None = None) -> _core.Crosswalk:
    """Loads a crosswalk file, checked against the forms it names (the bundled forms unless
    ``registry`` is given); errors name file, line and column."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file", file=str(p))
    if registry is None:
        registry = forms().core  # type: ignore[attr-defined]
    return _core.load_crosswalk(str(p), registry)


FormLike = str | Form | _core.FormSchema


def _schema(form: FormLike) -> _core.FormSchema:
    if isinstance(form, Form):
        return form.schema
    if isinstance(form, _core.FormSchema):
        return form
    return forms()[form].schema


def _source_batch(data: Any, from_: FormLike | None) -> _core.ReportBatch:
    carried: _core.FormSchema | None = None
    if isinstance(data, (_core.Report, _core.ReportBatch)):
        carried = data.form
    elif isinstance(data, list) and data and all(isinstance(r, _core.Report) for r in data):
        carried = data[0].form
    if carried is not None:
        if from_ is not None and _schema(from_).id != carried.id:
            raise InputError(f"from_={_schema(from_).id!r} but the data are reports of {carried.id}")
        return to_batch_any(data, carried)
    if from_ is None:
        raise InputError(
            "a DataFrame does not say which form it was filled on: pass from_='songnuan-2012' (the source form id)"
        )
    return to_batch_any(data, _schema(from_), what="the data to map")


def crosswalk(
    data: Any,
    to: FormLike = "songnuan-2018",
    from_: FormLike | None = None,
    *,
    using: _core.Crosswalk | None = None,
) -> CrosswalkResult:
    """Maps reports of one form version onto another version's concepts.

    ``data`` is a report, a list of reports, a batch, or a DataFrame / Arrow table of
    one form (then ``from_`` names it). Concepts present on both forms are copied (money
    converted exactly between 元 and 万元); a target concept the crosswalk defines as a
    sum (2012 政府拨款 = 2018 中央财政 + 地方财政) is filled from its parts; the sum
    concepts the target lacks are added as extra columns. Every source field that could
    not be mapped is listed in ``unmapped``, every target concept left blank in
    ``unfilled``, each with the reason: nothing is dropped silently.
    """
    import pandas as pd

    source = _source_batch(data, from_)
    target = _schema(to)
    if source.form.family != target.family:
        raise InputError(
            f"cannot map {source.form.id} onto {target.id}: crosswalks relate versions of one family "
            f"({source.form.family} ≠ {target.family})"
        )
    cw = using if using is not None else bundled_crosswalks()[target.family]
    raw = cw.map(source, target)
    batch: _core.ReportBatch = raw["batch"]
    frame = batch_to_frame(batch)
    codes = {f.key: f.code for f in target.fields}
    frame = frame.rename(columns={f.code: f.key for f in target.fields})
    extra_keys: list[str] = []
    for col in raw["extra"]:
        key = col["key"]
        extra_keys.append(key)
        codes[key] = ""
        if col["type"] == "money":
            frame[key] = [None if t is None else decimal.Decimal(t) for t in col["texts"]]
        elif col["type"] == "flag":
            frame[key] = pd.arrays.BooleanArray(col["values"].astype(bool), col["missing"])
        else:
            frame[key] = pd.arrays.IntegerArray(col["values"], col["missing"])
    return CrosswalkResult(
        source=raw["source"],
        target=raw["target"],
        frame=frame,
        batch=batch,
        extra=extra_keys,
        mapped=[
            ConceptMapping(m["key"], m["target_code"], m["method"], tuple(m["source_codes"]), m["note"])
            for m in raw["mapped"]
        ],
        unmapped=[UnmappedField(**u) for u in raw["unmapped"]],
        unfilled=[UnmappedField(**u) for u in raw["unfilled"]],
        _codes=codes,
    )
