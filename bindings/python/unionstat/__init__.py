"""unionstat: trade-union statistical reporting — typed forms, exact integrity rules,
hierarchy roll-up.

>>> import unionstat as us
>>> form = us.forms()["songnuan-2018"]
>>> rep = form.report(unit="630100", period="2018", values={"01A": 183000, "01B": 41000})
>>> form.validate(rep).ok
True
"""

from __future__ import annotations

from ._core import FieldDef, FormSchema, Report, ReportBatch, RuleOutcome, __version__
from .crosswalks import (
    ConceptMapping,
    Crosswalk,
    CrosswalkResult,
    UnmappedField,
    bundled_crosswalks,
    crosswalk,
    load_crosswalk,
)
from .draft import FormDraft, draft_file, draft_form, drafts_to_yaml, load_drafts, read_notice
from .errors import (
    Error,
    ExactOverflowError,
    HierarchyError,
    InputError,
    InputNotice,
    PackageError,
    RuleError,
    SchemaError,
    UnknownNameError,
    UsageError,
)
from .forms import Form, forms, load_form, schema_dir
from .frames import batch_to_frame, read_reports, to_batch, write_reports
from .graph import Completeness, Hierarchy, RollupView, UnknownUnitsWarning
from .i18n import get_lang, set_lang
from .io import ReadResult, read_batch, read_file, strip_id
from .localise import Localisation, Localisations
from .outliers import OutlierResult, outliers
from .package import Package, PackageFinding, PackageVerification, merge_packages, package, read_package, verify_package
from .rules import BatchValidation, Explanation, ReportValidation
from .ruleset import Finding, RuleAnalysis
from .templates import template

__all__ = [
    "BatchValidation",
    "Completeness",
    "ConceptMapping",
    "Crosswalk",
    "CrosswalkResult",
    "Error",
    "ExactOverflowError",
    "Explanation",
    "FieldDef",
    "Finding",
    "Form",
    "FormDraft",
    "FormSchema",
    "Hierarchy",
    "HierarchyError",
    "InputError",
    "InputNotice",
    "Localisation",
    "Localisations",
    "OutlierResult",
    "Package",
    "PackageError",
    "PackageFinding",
    "PackageVerification",
    "ReadResult",
    "Report",
    "ReportBatch",
    "ReportValidation",
    "RollupView",
    "RuleAnalysis",
    "RuleError",
    "RuleOutcome",
    "SchemaError",
    "UnknownNameError",
    "UnknownUnitsWarning",
    "UnmappedField",
    "UsageError",
    "__version__",
    "batch_to_frame",
    "bundled_crosswalks",
    "crosswalk",
    "draft_file",
    "draft_form",
    "drafts_to_yaml",
    "forms",
    "get_lang",
    "load_crosswalk",
    "load_drafts",
    "load_form",
    "merge_packages",
    "outliers",
    "package",
    "read_batch",
    "read_file",
    "read_notice",
    "read_package",
    "read_reports",
    "schema_dir",
    "set_lang",
    "strip_id",
    "template",
    "to_batch",
    "verify_package",
    "write_reports",
]
