#pragma once
/// \file check.hpp
/// Parents' reported consolidated totals against their children, with a drill-down to
/// where a gap was introduced.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "unionstat/decimal.hpp"
#include "unionstat/forms/batch.hpp"
#include "unionstat/graph/hierarchy.hpp"
#include "unionstat/graph/leaf_sums.hpp"

namespace unionstat {

/// Options of `check`.
struct check_options {
    /// Period to check; "" → the batch's only period (value_error if it holds several).
    std::string period;
    /// Allowed |difference| per contributing child, for money fields, in the field's
    /// printed unit (万元 or 元). Default: half of the last decimal a filler reports
    /// (0.005 万元 for the usual 2 decimals), the most that rounding each child's
    /// figure can move a parent's total; 0 when the storage is no finer than that.
    std::optional<decimal> money_per_child;
    /// Allowed |difference| per contributing child for count fields. Default 0: exact.
    std::int64_t count_per_child = 0;
    /// Also list comparisons within tolerance (default). When false, only rows with a
    /// difference or gap outside tolerance are listed.
    bool keep_balanced = true;
    /// The leaf reports given already summed per parent (`sum_leaves` of the leaf reports,
    /// or the element-wise sum of several parts' sums): the batch then holds the inner
    /// units' reports only (a leaf report in it is a value_error), and the result is the
    /// same as checking the inner reports together with the leaf reports summed. This is
    /// how a check is split over parts of the data.
    const leaf_sums* leaves = nullptr;
};

/// One comparison: unit × field. Values are stored raw (scaled by the field's scale).
///
/// Figures, for a unit u and field f:
/// - reported: what u itself reported (its consolidated total);
/// - passed up: reported if present, else the computed total (what u's parent sees);
/// - computed: Σ of the children's passed-up figures (children's reported totals where
///   present, else computed) — what u should have reported given its children;
/// - bottom_up: the total from the lowest reports of u's subtree (a reporting unit with no
///   reporting descendants counts as lowest), ignoring every reported total in between.
///
/// `difference = reported − computed` is a gap introduced *at* u; `gap = passed up −
/// bottom_up` is every gap introduced at or below u. A wrong figure planted in one
/// grassroots report after its county aggregated shows as a difference at the county
/// only, and as a gap at the county and every level above it up to the root.
struct check_row {
    std::size_t unit = 0;                  ///< unit index in the tree
    std::size_t field = 0;                 ///< field index in the form
    std::optional<std::int64_t> reported;  ///< blank: u did not report the field (listed only for its gap)
    std::int64_t computed = 0;             ///< Σ children's passed-up figures
    std::int64_t difference = 0;           ///< reported − computed (0 when reported is blank)
    std::int64_t tolerance = 0;            ///< allowed |difference| = per-child tolerance × children
    bool within_tolerance = true;          ///< |difference| <= tolerance
    std::int64_t bottom_up = 0;            ///< total of the lowest reports below u
    std::int64_t gap = 0;                  ///< passed up − bottom_up
    std::int64_t gap_tolerance = 0;        ///< Σ of the tolerances of u and every reporting unit below it
    bool gap_within_tolerance = true;      ///< |gap| <= gap_tolerance
    std::uint32_t children = 0;            ///< children that contributed a figure
    /// Rows of u's children (same field) whose gap is outside tolerance: the children whose
    /// figures explain u's gap. Empty at the level where the gap was introduced.
    std::vector<std::size_t> explained_by;

    /// True when the difference or the gap is outside tolerance.
    bool imbalanced() const noexcept { return !within_tolerance || !gap_within_tolerance; }
};

/// One step of a drill-down: a row and how far below the starting row it is.
struct check_step {
    std::size_t row = 0;    ///< index into check_result::rows
    std::size_t depth = 0;  ///< 0 for the starting row
};

/// The result of `check`: one row per comparison, grouped by field (fields in form order),
/// within a field children's rows before their parents'.
struct check_result {
    std::string period;                      ///< the period checked
    std::vector<check_row> rows;             ///< comparisons
    std::vector<std::size_t> unknown_rows;   ///< rows of the period whose unit is not in the tree
    std::vector<std::string> unknown_units;  ///< their unit ids, each once

    /// Rows whose difference or gap is outside tolerance.
    std::vector<std::size_t> imbalances() const;
    /// Row of (unit, field), or nullopt.
    std::optional<std::size_t> find(std::size_t unit, std::size_t field) const;
    /// The drill-down from a row: the row, then recursively the rows of the children
    /// that explain its gap, in pre-order, down to the rows where the gap was introduced.
    std::vector<check_step> trace(std::size_t row) const;
};

/// Compares the consolidated totals that inner units reported with their children's
/// figures, for every `sum` field (`count_true` and `none` fields are not compared: a
/// parent's 是/否 is its own answer). Every report in `batch` is read as the unit's
/// consolidated total (a grassroots unit's total is its own activity). Only units with
/// primary children that reported a field are compared; a unit that did not report
/// but passes a gap up gets a row with `reported` blank so that traces run through it.
/// Blanks count as 0 once any child contributes; the tree is used as given.
/// Throws value_error when a unit reports twice, overflow_error on overflow.
check_result check(const hierarchy& tree, const report_batch& batch, const check_options& options = {});

}  // namespace unionstat
