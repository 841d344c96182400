"""Typed form models: the bundled forms, user schema files, reports and validation."""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _core
from .errors import InputError, SchemaError, UnknownNameError, UsageError
from .rules import BatchValidation, ReportValidation, validate_batch

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Form", "as_schema", "forms", "load_form", "parse_deadline", "require_form", "schema_dir"]


def schema_dir() -> Path:
    """Directory of the bundled form schemas (installed with the package)."""
    env = os.environ.get("UNIONSTAT_SCHEMA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "schemas" / "forms"


def parse_deadline(text: str) -> dt.date | dt.datetime | None:
    """A reporting deadline: an ISO date (``2012-01-08``) or date and time
    (``2012-01-08 17:00``), or the date as a notice prints it — ``2012年1月8日``, or
    ``2018年2月底`` (the end of February: its last day). "" is None; anything else raises
    ``ValueError``. A date means the whole day: a report of that day is on time."""
    t = text.strip()
    if not t:
        return None
    m = re.fullmatch(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(?:(\d{1,2})\s*[日号]|(底))", t)
    try:
        if m:
            year, month = int(m.group(1)), int(m.group(2))
            day = calendar.monthrange(year, month)[1] if m.group(4) else int(m.group(3))
            return dt.date(year, month, day)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            return dt.date.fromisoformat(t)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?", t):
            return dt.datetime.fromisoformat(t)
    except ValueError:
        pass
    raise ValueError(f"'{text}' is not a deadline (2012-01-08, 2012-01-08 17:00, 2012年1月8日 or 2018年2月底)")


def as_schema(form: Any, what: str = "form") -> _core.FormSchema:
    """The C++ schema of a :class:`Form` (or a schema itself); anything else — above all a
    form id string — is a :class:`UsageError` saying how to get the form."""
    if isinstance(form, Form):
        return form.schema
    if isinstance(form, _core.FormSchema):
        return form
    if isinstance(form, str):
        raise UsageError(
            f"{what} must be a Form, not the id string '{form}': pass us.forms()['{form}'] "
            "(or us.load_form(path) for a form of your own)"
        )
    raise UsageError(f"{what} must be a Form (us.forms()['songnuan-2018']), not {type(form).__name__}")


def require_form(schema: _core.FormSchema, other: _core.FormSchema, what: str) -> None:
    """Refuses a report or batch of another form than the one it is used with: its own
    form would otherwise be used silently, with rules the caller did not ask for."""
    if other.id != schema.id:
        raise UsageError(
            f"{what} is of form {other.id}, but form {schema.id} was asked for: "
            f"use us.forms()['{other.id}'] for it, or read the data again with form {schema.id}"
        )


class Form:
    """One printed version of a form (``songnuan-2018``): its fields, rules and paper
    layout. Wraps the C++ ``FormSchema``; attributes not defined here (``id``,
    ``title``, ``fields``, ``rules``…) are the schema's own."""

    def __init__(self, schema: _core.FormSchema) -> None:
        self._schema = schema

    @property
    def schema(self) -> _core.FormSchema:
        """The underlying C++ schema."""
        return self._schema

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # no dunder of the schema (pickle asks for __getstate__ …)
            raise AttributeError(name)
        return getattr(self._schema, name)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        # Pickled as what it was loaded from: a bundled form by its id, a user's by the
        # text of its schema file (read now, so the receiving process needs no file).
        s = self._schema
        bundled = forms()
        if s.id in bundled and bundled[s.id].schema.file == s.file:
            return (_form_of, ("", s.id))
        if not s.file or not Path(s.file).exists():
            raise TypeError(f"form {s.id} was not loaded from a file and cannot be pickled")
        return (_form_of, (Path(s.file).read_text(encoding="utf-8"), s.file))

    def __len__(self) -> int:
        return len(self._schema.fields)

    def __repr__(self) -> str:
        s = self._schema
        return f"<Form {s.id}: {s.title} ({len(s.fields)} fields, {len(s.rules)} rules)>"

    @property
    def deadline_date(self) -> dt.date | dt.datetime | None:
        """The reporting deadline the notice prints (``deadline`` in the schema) as a date,
        None when the notice prints none; a deadline that does not read as a date is a
        :class:`SchemaError` naming the schema file."""
        try:
            return parse_deadline(self._schema.deadline)
        except ValueError as exc:
            raise SchemaError(
                f"{self._schema.file}: form {self._schema.id}: deadline {exc}", file=self._schema.file
            ) from exc

    def report(self, unit: str, period: str = "", values: Mapping[str, Any] | None = None) -> _core.Report:
        """A report of this form. ``values`` maps codes or concept keys to int, str,
        ``Decimal`` or float (read through its shortest text); None leaves a blank."""
        if not isinstance(unit, str):
            raise UsageError(
                f"unit must be the unit's id as text ('{unit}'), not {type(unit).__name__} {unit!r}: "
                "ids such as 630100 or 063010 are names, and an int would drop leading zeros"
            )
        if not isinstance(period, str):
            raise UsageError(f"period must be text such as '2018', not {type(period).__name__} {period!r}")
        if values is not None and not isinstance(values, Mapping):
            raise UsageError(
                f"values must map field codes or keys to values ({{'01A': 5}}), not a "
                f"{type(values).__name__}: the order of a list names no field"
            )
        rep = _core.Report(self._schema, unit, period)
        for name, value in (values or {}).items():
            rep.set(name, value)
        return rep

    def batch(self, data: Any, *, what: str = "the data") -> _core.ReportBatch:
        """A columnar batch from a DataFrame, an Arrow-compatible object, a list of
        reports or an existing batch."""
        return to_batch_any(data, self, what=what)

    def validate(self, data: Any, *, level: str | None = None, previous: Any = None) -> ReportValidation | pd.DataFrame:
        """Validates one report (→ :class:`ReportValidation`) or many (DataFrame, Arrow
        table, batch → a DataFrame with one row per violation; see :meth:`check` for
        the summary too). ``previous``: what ``prev()`` reads — the unit's previous
        report for one report, the earlier periods' reports for many."""
        if isinstance(data, _core.Report):
            if previous is not None and not isinstance(previous, _core.Report):
                raise UsageError(f"the previous of one report is one Report, not {type(previous).__name__}")
            require_form(self._schema, data.form, f"the report of unit {data.unit}")
            if previous is not None:
                require_form(self._schema, previous.form, f"the previous report of unit {previous.unit}")
            return ReportValidation(data, _core.validate_report(data, previous=previous, level=level), previous)
        return self.check(data, previous=previous).violations

    def view(
        self, report: _core.Report, *, level: str | None = None, previous: _core.Report | None = None
    ) -> ReportValidation:
        """A report for reading (Jupyter shows it as a table): every field with its value
        and unit, blanks shown as 空, the messages of the rules it breaks beside the cells
        they name. Same as :meth:`validate` on one report."""
        if not isinstance(report, _core.Report):
            raise UsageError(f"view takes one Report (form.report(...)), not {type(report).__name__}")
        require_form(self._schema, report.form, f"the report of unit {report.unit}")
        if previous is not None:
            require_form(self._schema, previous.form, f"the previous report of unit {previous.unit}")
        return ReportValidation(report, _core.validate_report(report, previous=previous, level=level), previous)

    def check(
        self, data: Any, *, levels: list[str] | None = None, threads: int = 0, previous: Any = None
    ) -> BatchValidation:
        """Validates many reports: violations and a per-rule summary (as R's validate).
        ``previous``: reports of earlier periods (DataFrame, Arrow table, batch — or the
        same data when it holds several periods) for ``prev()`` rules: each report reads
        its unit's report of the period before its own (the latest earlier period the
        previous data holds, periods compared as text)."""
        batch = self.batch(data)
        if previous is None:
            return validate_batch(batch, levels=levels, threads=threads)
        before = batch if previous is data else self.batch(previous, what="the previous period's data")
        return validate_batch(batch, levels=levels, threads=threads, previous=before)

    def localise(
        self,
        data: Any,
        *,
        weights: Mapping[str, float] | None = None,
        totals: float | None = None,
        level: str | None = None,
        levels: list[str] | None = None,
        scale: Any = None,
        level_scale: Mapping[str, float] | None = None,
        progress: Any = False,
        workers: int | None = None,
    ) -> Any:
        """Error localisation (Fellegi–Holt, solved by HiGHS): for one report a
        :class:`~unionstat.localise.Localisation` (None when no error rule fails) — the
        fields of least total weight to change and values with which every error rule
        passes; for many reports (DataFrame, Arrow table, batch) a
        :class:`~unionstat.localise.Localisations` of the failing ones. ``weights``: code
        → weight (default: the form's ``weight`` of the field, 1 unless declared);
        ``totals``: the weight of a field that is a total of ``part_of`` fields or of a
        group, unless ``weights`` names it (2: totals are more reliable than their
        parts); ``scale``: per unit or per row, a factor on a report's weights (汇总
        reports more reliable); ``level_scale``: level → such a factor for reports whose
        ``level``/``levels`` is given, when ``scale`` is not (default: the form's
        ``localisation: level_scale``); ``workers``: processes for a batch (default:
        every core). See docs/localisation.md."""
        from .localise import localise_batch, localise_report

        loc = self._localiser()
        if isinstance(data, _core.Report):
            return localise_report(loc, data, weights=weights, totals=totals, level=level, level_scale=level_scale)
        return localise_batch(
            self._schema,
            self.batch(data),
            weights=weights,
            totals=totals,
            levels=levels,
            scale=scale,
            level_scale=level_scale,
            progress=progress,
            workers=workers,
            ref=self._ref(),
            localiser=loc,
        )

    def analyse_rules(self) -> Any:
        """Rule-set analysis with HiGHS: rules no report can satisfy together
        (``infeasible``), rules the others imply (``redundant``), fields forced to one
        value (``fixed``) or bounded (``bound``) — see :mod:`unionstat.ruleset`."""
        from .ruleset import analyse_rules

        return analyse_rules(self._schema)

    def _localiser(self) -> Any:
        from .localise import Localiser

        loc = self.__dict__.get("_loc")
        if loc is None:
            loc = self.__dict__["_loc"] = Localiser(self._schema)
        return loc

    def _ref(self) -> tuple[str, str] | None:
        """How a worker process loads this form again: (bundled directory, id) or
        ("file", path); None for a form built from text."""
        bundled = schema_dir()
        f = self._schema.file
        if f and Path(f).resolve().parent == bundled.resolve():
            return (str(bundled), self._schema.id)
        if f and Path(f).exists():
            return ("file", str(f))
        return None

    def render(self, lang: str = "zh", detail: bool = False) -> str:
        """The form as text in its paper layout, to hold against the printed notice;
        ``detail`` adds each blank's printed wording and transcriber's note."""
        from .views import form_text

        return form_text(self, lang, detail)

    def _repr_html_(self) -> str:
        from .views import form_html

        return form_html(self)


def to_batch_any(data: Any, form: Form | _core.FormSchema, *, what: str = "the data") -> _core.ReportBatch:
    """A batch from whatever holds reports: a batch, reports, a pandas DataFrame or a
    mapping of columns (the pandas adapter), or any Arrow producer — pyarrow, polars,
    DuckDB — which goes to the core through the Arrow C stream with no pandas and no
    Python work per row."""
    schema = as_schema(form)
    if isinstance(data, _core.ReportBatch):
        require_form(schema, data.form, "the batch")
        return data
    if isinstance(data, _core.Report):
        data = [data]
    if isinstance(data, list) and all(isinstance(r, _core.Report) for r in data):
        batch = _core.ReportBatch(schema)
        for r in data:
            require_form(schema, r.form, f"the report of unit {r.unit}")
            batch.append(r)
        return batch
    if isinstance(data, (list, tuple)):
        raise UsageError(
            f"cannot read reports from a {type(data).__name__} of "
            f"{', '.join(sorted({type(x).__name__ for x in data})) or 'nothing'}: give a list of "
            "Reports, a DataFrame, an Arrow table or a ReportBatch"
        )
    if (
        type(data).__module__.partition(".")[0] != "pandas"
        and not isinstance(data, dict)
        and (hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"))
    ):
        from .io import read_arrow, warn_notices

        result = read_arrow(data, schema, what=what)
        warn_notices(result)
        return result.batch
    if hasattr(data, "arrow") and type(data).__module__.partition(".")[0] == "duckdb":
        from .io import read_arrow, warn_notices

        result = read_arrow(data.arrow(), schema, what=what)  # a DuckDB relation: its Arrow reader
        warn_notices(result)
        return result.batch
    from .frames import to_batch

    if isinstance(data, dict):
        import pandas as pd

        data = pd.DataFrame(data)
    if type(data).__module__.partition(".")[0] != "pandas":
        raise InputError(f"cannot read reports from a {type(data).__name__}")
    return to_batch(data, schema, what=what)


def _form_of(text: str, name: str) -> Form:
    """A pickled :class:`Form` back: the bundled form ``name`` when ``text`` is empty,
    else the schema in ``text`` (loaded from file ``name``)."""
    if not text:
        return forms()[name]
    return Form(_core.load_form_text(text, name))


class _Registry(Mapping[str, Form]):
    def __init__(self, registry: _core.SchemaRegistry) -> None:
        self._reg = registry
        self._cache: dict[str, Form] = {}

    def __getitem__(self, form_id: str) -> Form:
        if form_id not in self._cache:
            if form_id not in self._reg:
                raise UnknownNameError(f"unknown form '{form_id}' (known: {', '.join(self._reg.ids())})")
            self._cache[form_id] = Form(self._reg.get(form_id))
        return self._cache[form_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._reg.ids())

    @property
    def core(self) -> _core.SchemaRegistry:
        """The underlying C++ registry (crosswalks are checked against it)."""
        return self._reg

    def __len__(self) -> int:
        return len(self._reg.ids())

    def __repr__(self) -> str:
        return f"<forms: {', '.join(self._reg.ids())}>"


_bundled: _Registry | None = None


def forms() -> Mapping[str, Form]:
    """The bundled forms by id (``forms()["songnuan-2018"]``), loaded on first use."""
    global _bundled
    if _bundled is None:
        _bundled = _Registry(_core.SchemaRegistry(str(schema_dir())))
    return _bundled


def load_form(path: str | os.PathLike[str]) -> Form:
    """Loads a user's form schema file; errors name file, line and column."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file", file=str(p))
    return Form(_core.load_form(str(p)))
