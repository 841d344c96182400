"""Type stubs of ``unionstat._core``, the pybind11 extension (bindings/python/register_*.cpp).

The pure-Python package wraps most of this; users normally need ``FormSchema``,
``FieldDef``, ``RuleDef``, ``Report``, ``ReportBatch`` and ``RuleOutcome`` only.
Raw stored values: counts as counted, money as an integer count of ``10**-scale`` of the
printed unit (万元 at scale 6: one raw unit is 1e-6 万元 = 0.01 元), flags 0/1.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Literal, TypedDict, overload

import numpy as np
import numpy.typing as npt

__version__: str

_Severity = Literal["error", "warning"]
_Status = Literal["pass", "fail", "skipped", "error"]
_FieldType = Literal["count", "money", "flag"]
_Aggregation = Literal["sum", "count_true", "none"]
_Level = Literal["national", "province", "city", "county", "grassroots"]
_Kind = Literal["regional", "industry", "direct", "enterprise"]
_Value = int | bool | Decimal

# --- forms (register_forms.cpp) ---------------------------------------------------------

class FieldDef:
    """One blank of a printed form."""

    @property
    def code(self) -> str: ...
    @property
    def row(self) -> str: ...
    @property
    def letter(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def label_en(self) -> str: ...
    @property
    def type(self) -> _FieldType: ...
    @property
    def unit(self) -> str: ...
    @property
    def decimals(self) -> int: ...
    @property
    def scale(self) -> int: ...
    @property
    def part_of(self) -> str: ...
    @property
    def aggregation(self) -> _Aggregation: ...
    @property
    def printed(self) -> str: ...
    @property
    def note(self) -> str: ...
    @property
    def weight(self) -> float:
        """Error localisation's weight (1 unless the form declares one)."""
    @property
    def line(self) -> int: ...

class RuleDef:
    """A rule as declared in a form schema (or generated from ``part_of`` and groups)."""

    @property
    def id(self) -> str: ...
    @property
    def check(self) -> str: ...
    @property
    def severity(self) -> _Severity: ...
    @property
    def message(self) -> str: ...
    @property
    def message_en(self) -> str: ...
    @property
    def missing(self) -> Literal["skip_if_any_missing", "skip_if_all_missing", "never_skip"] | None: ...
    @property
    def tolerance(self) -> str | None: ...
    @property
    def levels(self) -> list[str]: ...
    @property
    def origin(self) -> Literal["explicit", "part_of", "group"]: ...
    @property
    def note(self) -> str:
        """Why the rule holds: its printed basis, or where a plausibility bound's figure comes from ("" when none)."""
    @property
    def line(self) -> int: ...

class _Source(TypedDict):
    issuer: str
    issuer_en: str
    notice: str
    seed: str
    attachment: str

class _Group(TypedDict):
    id: str
    total: str
    parts: list[str]
    exhaustive: bool
    severity: _Severity
    note: str

class FormSchema:
    """One printed version of one form."""

    @property
    def id(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def year(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def title_en(self) -> str: ...
    @property
    def script(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def quirks(self) -> list[str]: ...
    @property
    def deadline(self) -> str:
        """The reporting deadline as the notice prints it ("" when none is recorded)."""
    @property
    def signature(self) -> dict[str, str]:
        """The 填报单位/填报人/联系电话/日期 labels as printed: ``unit``, ``reporter``, ``phone``,
        ``date`` ("" each when the schema does not say; ``date`` "" when no date is printed)."""
    @property
    def review(self) -> list[str]:
        """Places a drafted schema still needs a human look at (``unionstat draft``)."""
    @property
    def file(self) -> str: ...
    @property
    def level_scale(self) -> dict[str, float]:
        """Level → factor on the localisation weights of a report at that level (``localisation: level_scale``)."""
    @property
    def source(self) -> _Source: ...
    @property
    def notes(self) -> list[tuple[str, str]]:
        """(text, text_en) of each 说明/注 line."""
    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """(row number, heading, heading_en) in paper order."""
    @property
    def groups(self) -> list[_Group]: ...
    @property
    def default_missing(self) -> str: ...
    @property
    def fields(self) -> list[FieldDef]: ...
    @property
    def rules(self) -> list[RuleDef]: ...
    def field(self, code_or_key: str) -> FieldDef:
        """The field of a code or concept key; raises UnknownNameError."""
    def index(self, code_or_key: str) -> int:
        """Position of a field; raises UnknownNameError."""
    def find(self, code_or_key: str) -> int | None:
        """Position of a field, or None."""
    def __len__(self) -> int: ...

def load_form(path: str) -> FormSchema:
    """Loads a form schema YAML file; errors name file:line:column."""

def load_form_text(text: str, name: str = "<string>") -> FormSchema: ...

class SchemaRegistry:
    """Forms by id."""

    @overload
    def __init__(self) -> None: ...
    @overload
    def __init__(self, directory: str) -> None: ...
    def ids(self) -> list[str]: ...
    def __contains__(self, form_id: str) -> bool: ...
    def get(self, form_id: str) -> FormSchema: ...
    def add_file(self, path: str) -> str: ...
    def add_directory(self, directory: str) -> None: ...

class Report:
    """One unit × one period × one form; blanks are None, never 0."""

    def __init__(self, form: FormSchema, unit: str, period: str = "") -> None: ...
    @property
    def unit(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def form(self) -> FormSchema: ...
    def set(self, code_or_key: str, value: int | str | Decimal | float | bool | None) -> None:
        """Sets a value (str is parsed exactly: "1,234", "１２", "是"); None blanks it."""
    def get(self, code_or_key: str) -> _Value | None: ...
    def clear(self, code_or_key: str) -> None: ...
    def to_dict(self) -> dict[str, _Value | None]: ...

_CellProblem = tuple[int, str, str, str, str]
"""(row, unit, field code, cell text, message) of a refused cell."""

class ReportBatch:
    """Many reports of one form, stored by column (32- or 64-bit values + a missing bitmap)."""

    def __init__(self, form: FormSchema) -> None: ...
    @property
    def form(self) -> FormSchema: ...
    def __len__(self) -> int: ...
    @property
    def row_numbers(self) -> npt.NDArray[np.int64]:
        """The row each report is known by: the file's line (CSV), the sheet's row (XLSX), else its 1-based position."""
    def take(self, rows: Sequence[int]) -> ReportBatch:
        """A batch of these rows (0-based), keys, row numbers and values copied."""
    @property
    def units(self) -> list[str]: ...
    @property
    def periods(self) -> list[str]: ...
    def add_row(self, unit: str, period: str = "") -> int: ...
    def append(self, report: Report) -> int: ...
    def set_keys(self, units: Sequence[str], periods: Sequence[str]) -> None: ...
    def row(self, index: int) -> Report: ...
    def find(self, unit: str, period: str = "") -> int: ...
    def is_missing(self, row: int, field: int) -> bool: ...
    def raw_column(self, code_or_key: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """(values, missing) as numpy arrays; values are raw (money scaled to the 分)."""
    def set_column_raw(
        self,
        code_or_key: str,
        values: npt.NDArray[np.int64] | npt.NDArray[np.int32],
        missing: npt.ArrayLike | None = None,
    ) -> None:
        """Borrows a contiguous int64 (held in 64 bits) or int32 (narrow) array of raw values without copying;
        other integer arrays and strided views are copied to a contiguous int64 array first."""
    def compact(self) -> int:
        """Holds every column whose values fit in 32 bits narrow (copying borrowed ones); returns how many."""
    def value_bits(self, code_or_key: str) -> int:
        """Bits a stored value of the column takes: 32 (narrow) or 64."""
    def set_column_int(
        self, code_or_key: str, values: npt.ArrayLike, missing: npt.ArrayLike | None = None
    ) -> list[_CellProblem]:
        """Sets whole-number values in the field's unit; returns the cells it refused."""
    def set_column_float(self, code_or_key: str, values: npt.ArrayLike) -> list[_CellProblem]:
        """Sets floats read through their shortest decimal text; NaN is blank."""
    def set_column_text(self, code_or_key: str, texts: Sequence[str | None]) -> list[_CellProblem]:
        """Parses every cell and reports every bad one, not just the first."""
    def format_column(self, code_or_key: str) -> list[str | None]:
        """Exact text of every cell (None for blanks)."""

# --- rules (register_rules.cpp) ---------------------------------------------------------

class RuleOutcome:
    """One rule's outcome on one report."""

    @property
    def rule_id(self) -> str: ...
    @property
    def severity(self) -> _Severity: ...
    @property
    def status(self) -> _Status: ...
    @property
    def reason(self) -> str: ...
    @property
    def lhs(self) -> str | None: ...
    @property
    def rhs(self) -> str | None: ...
    @property
    def difference(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def message_en(self) -> str: ...
    @property
    def fields(self) -> list[str]: ...

class _BatchArrays(TypedDict):
    row: npt.NDArray[np.uint32]
    rule: npt.NDArray[np.uint32]
    status: npt.NDArray[np.uint8]
    reason: npt.NDArray[np.uint8]

class BatchResult:
    """Columnar result of validating a batch: one entry per listed (row, rule)."""

    @property
    def rows(self) -> int: ...
    def __len__(self) -> int: ...
    def arrays(self) -> _BatchArrays:
        """row, rule (index), status (0 pass 1 fail 2 skipped 3 error), reason codes."""
    def counts(self) -> list[tuple[int, int, int, int, int]]:
        """Per rule: (items, passes, fails, skipped, errors)."""
    def lhs_text(self, batch: ReportBatch, /) -> list[str]: ...
    def rhs_text(self, batch: ReportBatch, /) -> list[str]: ...
    def difference_text(self, batch: ReportBatch, /) -> list[str]: ...
    def messages(self, batch: ReportBatch, english: bool = False, limit: int = ...) -> list[str]:
        """The filled messages of the first ``limit`` listed pairs (all by default)."""
    def keys(self, batch: ReportBatch, /) -> tuple[list[str], list[str], npt.NDArray[np.int64]]:
        """(units, periods, row numbers) of the listed pairs' rows: only those, not the batch's."""

def validate_report(
    report: Report, previous: Report | None = None, children: Report | None = None, level: str | None = None
) -> list[RuleOutcome]:
    """Every rule's outcome on one report, in rule order."""

def explain(
    report: Report, rule_id: str, previous: Report | None = None
) -> list[tuple[int, str, str, str, str | None, bool]]:
    """(depth, sub-expression, value, unit, tolerance or None, tolerance stated by the rule) for every node
    of a rule on a report, outermost first."""

def check_rule(form: FormSchema, check: str, id: str = "adhoc") -> None:
    """Parses and checks a rule against a form; raises RuleError with diagnostics."""

def rule_ast(form: FormSchema, rule_id: str) -> dict[str, Any]:
    """The checked syntax tree of one compiled rule: nodes (kind, args, value raw/scale, field index, source, exact denominators and tolerances) and the rule's resolved missing strategy, refs and levels."""

def rule_asts(form: FormSchema) -> list[dict[str, Any]]:
    """rule_ast of every compiled rule of a form, in rule order."""

def batch_kernels() -> str:
    """Instruction set of the batch kernels here: 'avx512', 'avx2' or 'baseline' (UNIONSTAT_SIMD lowers it)."""

def validate_batch(
    batch: ReportBatch,
    previous: ReportBatch | None = None,
    previous_rows: Sequence[int] | npt.NDArray[np.int64] = ...,
    levels: Sequence[str] = ...,
    keep_passes: bool = False,
    keep_skipped: bool = False,
    threads: int = 0,
) -> BatchResult:
    """Validates every row against every rule; the GIL is released while it runs."""

# --- hierarchy (register_graph.cpp) -----------------------------------------------------

class _UnitColumns(TypedDict):
    unit: list[str]
    name: list[str]
    level: list[str]
    kind: list[str]
    parent: list[str]
    depth: npt.NDArray[np.int64]

class Hierarchy:
    """Org units of the union hierarchy (Boost.Graph); units are addressed by index."""

    @staticmethod
    def read_csv(path: str) -> Hierarchy: ...
    @staticmethod
    def read_yaml(path: str) -> Hierarchy: ...
    @staticmethod
    def read(path: str) -> Hierarchy: ...
    @staticmethod
    def parse_csv(text: str | bytes, name: str = "<string>") -> Hierarchy: ...
    @staticmethod
    def from_columns(
        ids: Sequence[str],
        names: Sequence[str],
        levels: Sequence[str],
        kinds: Sequence[str],
        parents: Sequence[str],
        secondary_parents: Sequence[str],
        valid_from: Sequence[str],
        valid_to: Sequence[str],
        source: str = "<frame>",
    ) -> Hierarchy: ...
    def __len__(self) -> int: ...
    def ids(self) -> list[str]: ...
    def find(self, unit: str, /) -> int | None: ...
    def index(self, unit: str, /) -> int: ...
    def id(self, index: int, /) -> str: ...
    def name(self, index: int, /) -> str: ...
    def level(self, index: int, /) -> _Level: ...
    def kind(self, index: int, /) -> _Kind: ...
    def parent(self, index: int, /) -> int | None: ...
    def children(self, index: int, /) -> list[int]: ...
    def secondary_parents(self, index: int, /) -> list[int]: ...
    def ancestors(self, index: int, /) -> list[int]: ...
    def path(self, index: int, /) -> list[int]: ...
    def subtree(self, index: int, /) -> list[int]: ...
    def depth(self, index: int, /) -> int: ...
    def roots(self) -> list[int]: ...
    def at(self, period: str) -> Hierarchy: ...
    @property
    def versioned(self) -> bool: ...
    def to_csv(self) -> str: ...
    def columns(self, units: Sequence[int] | npt.NDArray[np.uint64] | None = None) -> _UnitColumns:
        """The unit table as columns: every unit, or the units given (by index), in that order."""

class _Rollup(TypedDict):
    totals: ReportBatch
    units: npt.NDArray[np.uint64]
    reports: npt.NDArray[np.uint32]
    own_rows: npt.NDArray[np.int64]
    unknown_units: list[str]
    unknown_rows: npt.NDArray[np.uint64]
    ignored_rows: npt.NDArray[np.uint64]

def rollup(
    tree: Hierarchy,
    batch: ReportBatch,
    along: str = "primary",
    period: str = "",
    ignore_inner: bool = False,
    leaves: bool = False,
) -> _Rollup:
    """Consolidated totals of the inner units (every unit with leaves=True); ``units`` is
    the tree index of each row of ``totals`` (GIL released while it runs)."""

class _Check(TypedDict):
    period: str
    unit: npt.NDArray[np.uint64]
    field: npt.NDArray[np.uint64]
    has_reported: npt.NDArray[np.uint8]
    reported: npt.NDArray[np.int64]
    computed: npt.NDArray[np.int64]
    difference: npt.NDArray[np.int64]
    tolerance: npt.NDArray[np.int64]
    within_tolerance: npt.NDArray[np.uint8]
    bottom_up: npt.NDArray[np.int64]
    gap: npt.NDArray[np.int64]
    gap_tolerance: npt.NDArray[np.int64]
    gap_within_tolerance: npt.NDArray[np.uint8]
    children: npt.NDArray[np.uint32]
    explained_by: list[list[str]]
    explained_rows: list[list[int]]  # per row: the rows that explain its gap (the drill-down's links)
    unknown_units: list[str]

def check(
    tree: Hierarchy,
    batch: ReportBatch,
    period: str = "",
    money_per_child: int | str | Decimal | float | None = None,
    count_per_child: int = 0,
    keep_balanced: bool = True,
    leaf_units: npt.NDArray[np.uint64] | None = None,
    leaf_sum: npt.NDArray[np.int64] | None = None,
    leaf_count: npt.NDArray[np.uint32] | None = None,
) -> _Check:
    """Parents' reported totals against their children (raw integers in each field's storage scale); with
    leaf_units/leaf_sum/leaf_count (as sum_leaves gives them) the leaf reports come summed."""

class _LeafSums(TypedDict):
    period: str
    units: npt.NDArray[np.uint64]
    sum: npt.NDArray[np.int64]
    count: npt.NDArray[np.uint32]
    inner_rows: npt.NDArray[np.uint64]
    unknown_units: list[str]
    unknown_rows: npt.NDArray[np.uint64]

def sum_leaves(tree: Hierarchy, batch: ReportBatch, period: str = "") -> _LeafSums:
    """Per inner unit and sum field: the sum of its leaf children's figures (fields × inner units) and how many
    reported; the batch rows of inner units' reports."""

class _UnitRows(TypedDict):
    period: str
    row: npt.NDArray[np.int64]
    unknown_units: list[str]
    unknown_rows: npt.NDArray[np.uint64]

def match_units(tree: Hierarchy, batch: ReportBatch, period: str = "") -> _UnitRows:
    """Each unit's row in the batch for the period (-1: none); value_error when a unit reports twice."""

class _Completeness(TypedDict):
    period: str
    missing: npt.NDArray[np.uint64]
    by_level: list[tuple[str, int, int]]
    by_kind: list[tuple[str, int, int]]
    total: tuple[int, int]
    unknown_units: list[str]

def completeness(tree: Hierarchy, batch: ReportBatch, period: str = "", root: str = "") -> _Completeness: ...
def validate_in_tree(tree: Hierarchy, batch: ReportBatch, period: str = "") -> BatchResult:
    """Validates with each unit's level and its children's sums from the tree."""

# --- crosswalks (register_crosswalk.cpp) ------------------------------------------------

class _Unmapped(TypedDict):
    code: str
    key: str
    label: str
    reason: str
    note: str
    values: int

class _ConceptColumn(TypedDict):
    key: str
    label: str
    label_en: str
    type: _FieldType
    unit: str
    scale: int
    derived: bool
    values: npt.NDArray[np.int64]
    missing: npt.NDArray[np.bool_]
    texts: list[str | None]

class _Mapped(TypedDict):
    key: str
    target_code: str
    method: str
    source_codes: list[str]
    note: str

class _CrosswalkMap(TypedDict):
    source: str
    target: str
    extra: list[_ConceptColumn]
    mapped: list[_Mapped]
    unmapped: list[_Unmapped]
    unfilled: list[_Unmapped]
    batch: ReportBatch

class Crosswalk:
    """How the concepts of one form family relate across its versions (schemas/crosswalks/<family>.yaml)."""

    @property
    def family(self) -> str: ...
    @property
    def forms(self) -> list[str]: ...
    @property
    def note(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def sums(self) -> list[dict[str, Any]]: ...
    @property
    def unit_changes(self) -> list[dict[str, Any]]: ...
    @property
    def same(self) -> list[dict[str, Any]]: ...
    @property
    def only_in(self) -> list[dict[str, Any]]: ...
    def covers(self, form_id: str) -> bool: ...
    def canonical(self, key: str) -> str: ...
    def map(self, source: ReportBatch, target: FormSchema) -> _CrosswalkMap:
        """Maps a batch onto the target form's concepts."""

def load_crosswalk(path: str, forms: SchemaRegistry) -> Crosswalk:
    """Loads a crosswalk file, checked against the forms; errors name file:line:column."""

def load_crosswalk_text(text: str, forms: SchemaRegistry, name: str = "<string>") -> Crosswalk: ...

# --- arrow (register_arrow.cpp) ---------------------------------------------------------

_ReadProblem = tuple[int, int, str, str, str, str]
"""(row, 1-based input column, unit, field code or column name, cell text, message) of a read problem;
row 0 for a problem of a column or of the header."""

def read_arrow(
    form: FormSchema, data: Any, strict: bool = False, row_column: str = "", expected_rows: int = 0
) -> tuple[ReportBatch, list[_ReadProblem], list[str], list[str], str]:
    """Reads an Arrow table (an object with ``__arrow_c_stream__`` or ``__arrow_c_array__``: pyarrow,
    polars, duckdb; or such capsules) into a batch, parsing every cell in C++ with the GIL released.
    Returns (batch, problems, notices, ignored columns, ""); bad cells are blank in the batch and listed
    in problems."""

class ArrowTable:
    """A columnar result built in C++, read by any Arrow consumer (``pa.table(t)``, ``pl.from_arrow(t)``)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """An ``arrow_array_stream`` capsule (the requested schema is ignored, as the spec allows)."""
    def __arrow_c_array__(self, requested_schema: object | None = None) -> tuple[object, object]:
        """(``arrow_schema``, ``arrow_array``) capsules of the whole table as one struct array."""
    def __arrow_c_schema__(self) -> object:
        """An ``arrow_schema`` capsule."""
    @property
    def num_rows(self) -> int: ...
    @property
    def column_names(self) -> list[str]: ...
    def __len__(self) -> int: ...

def batch_to_arrow(batch: ReportBatch) -> ArrowTable:
    """The batch as Arrow: ``row``, ``unit``, ``period``, then every field by code (counts int64,
    money decimal128(38, scale), flags bool; blanks null)."""

def strip_id(text: str) -> str: ...
def exact_values(raw: Any, scale: Any, decimals: Any, money: Any) -> list[Any]: ...
def read_csv(
    path: str,
    form: FormSchema,
    encoding: str = "",
    strict: bool = False,
    threads: int = 0,
    progress: Callable[[int], object] | None = None,
) -> tuple[ReportBatch, list[_ReadProblem], list[str], list[str], str]:
    """Reads a CSV file of reports: (batch, problems, notices, ignored_columns, encoding). Problems are
    (row, column, unit, field, text, message), row being the file's line."""

def map_header(form: FormSchema, names: Sequence[str], row: int = 0, strict: bool = False) -> dict[str, Any] | None:
    """The meaning of a header row's columns (unit, period, field columns, ignored), or None when the row is
    not a header of the form."""

def period_counts(batch: ReportBatch) -> list[tuple[str, int]]:
    """[(period, reports)] in the order the periods first appear."""

def select_period(batch: ReportBatch, period: str) -> ReportBatch:
    """The reports of one period (row numbers kept)."""

def duplicate_keys(batch: ReportBatch) -> list[tuple[int, int]]:
    """(first row, later row) for every row whose (unit, period) an earlier row has."""

def violations_table(
    batch: ReportBatch, result: BatchResult, messages: bool = True, limit: int = ..., offset: int = 0
) -> ArrowTable:
    """The listed outcomes [offset, offset + limit) as an ArrowTable (row = the user's row number), messages made for the rows it holds."""

def summary_table(batch: ReportBatch, result: BatchResult) -> ArrowTable:
    """One row per rule: items, passes, fails, skipped, errors (ArrowTable)."""
