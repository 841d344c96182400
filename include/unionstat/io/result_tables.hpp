#pragma once
/// \file result_tables.hpp
/// Every result as an Arrow table (result_table), so that C++ callers and the Python
/// layer hand results to any Arrow consumer without building them row by row: the
/// listed outcomes and the rule tallies of a validation, parents' reported totals
/// against their children, the units that did not report.

#include <cstddef>

#include "unionstat/forms/batch.hpp"
#include "unionstat/graph/check.hpp"
#include "unionstat/graph/completeness.hpp"
#include "unionstat/graph/hierarchy.hpp"
#include "unionstat/io/arrow_table.hpp"
#include "unionstat/rules/evaluator.hpp"

namespace unionstat {

/// The listed outcomes of a batch validation, in listing order: `row` (the user's row
/// number), `unit`, `period`, `rule`, `severity`, `status`, `reason` (utf8), `lhs`,
/// `rhs`, `difference` (exact text; null when not evaluated) and, with `messages`,
/// `message` and `message_en` — made only for the first `limit` outcomes, which are
/// the rows the table holds (a million listed outcomes cost nothing until asked for).
/// `offset` skips the first outcomes: a writer takes the table in slices of rows
/// (offset, limit), so a result of millions of outcomes is never held as text at once.
result_table violations_table(const report_batch& batch, const rules::batch_result& result, bool messages = true,
                              std::size_t limit = static_cast<std::size_t>(-1), std::size_t offset = 0);

/// One row per rule of the set: `rule`, `severity`, `check` (utf8), `items`, `passes`,
/// `fails`, `skipped`, `errors` (int64).
result_table summary_table(const rules::rule_set& rules, const rules::batch_result& result);

/// One row per comparison of `check`: `unit`, `field`; the figures `reported` (null
/// when the unit did not report the field), `computed`, `difference`, `tolerance`,
/// `gap`, `gap_tolerance` as exact text in the field's printed unit (one column holds
/// fields of different scales, so no single decimal type fits them); the verdicts
/// `within_tolerance`, `gap_within_tolerance` (bool); `children` (int64); and
/// `explained_by`, the ids of the children whose figures explain the gap, space-separated.
result_table check_table(const hierarchy& tree, const form_schema& form, const check_result& result);

/// The units expected to report that did not, in pre-order: `unit`, `name`, `level`,
/// `kind`, `parent` (utf8; parent null for a root).
result_table missing_table(const hierarchy& tree, const completeness_result& result);

}  // namespace unionstat
