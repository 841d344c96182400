#pragma once
/// \file rollup.hpp
/// Consolidated totals up the hierarchy (逐级汇总): exact, columnar, overflow-checked.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/graph/hierarchy.hpp"
#include "unionstat/graph/org_unit.hpp"

namespace unionstat {

/// What to do with a report submitted by a unit that has children.
enum class inner_reports {
    own_activity,  ///< it is the unit's own activity and is added to its children's totals
    ignore         ///< it is left out (listed in rollup_result::ignored_rows): roll up the lowest reports only
};

/// Options of `rollup`.
struct rollup_options {
    /// Which parents to follow. `line::primary`: each unit's total covers its primary
    /// subtree. `line::secondary`: each unit's total covers every unit reachable
    /// downwards along primary and secondary edges, each unit counted once however
    /// many paths lead to it (an enterprise both under a district and, as a secondary
    /// child, under the city is counted once in the city's total).
    unionstat::line along = line::primary;
    /// Period to roll up; "" → the batch's only period (value_error if it holds several).
    std::string period;
    /// Reports of units that have children (along `along`): own activity or left out.
    unionstat::inner_reports inner = inner_reports::own_activity;
    /// Also give the leaves' rows. A leaf (a unit without children along `along`) has its
    /// own report as its total, so by default the result holds the inner units only and
    /// no leaf report is copied; `true` gives one row per unit of the tree.
    bool leaves = false;
    /// Threads that total the fields (one field at a time each); 0 = every core. Small
    /// roll-ups (under ~1M cells read) run on the calling thread whatever this says.
    unsigned threads = 0;
};

/// Consolidated totals of the inner units (every unit with `leaves`).
///
/// Contract (per field, by the field's aggregation policy):
/// - `sum` (counts, money): total(u) = own report of u (if any) + Σ total(children of u).
///   Exact int64 arithmetic; overflow throws overflow_error naming unit and field.
/// - `count_true` (是/否 flags): total(u) = number of 是 answers among the reports in
///   u's subtree, u's own report included. The column then holds counts, not 0/1.
/// - `none` (does not add): total(u) = u's own reported value, or blank when u did not
///   report; children never contribute.
/// - Blanks: a total is blank only when every report that could contribute is blank
///   for that field (or there is none); otherwise blanks count as 0.
/// - Every report given is own activity (unless `inner_reports::ignore`). Do not pass
///   parents' consolidated reports here — they would be counted twice; compare them
///   with their children with `check()` instead.
/// - The tree is used as given: for a versioned tree take `tree.at(period)` first.
/// - Which units are rows: the units with children along `along` (primary children on
///   the primary line; primary or secondary children on the secondary line), or every
///   unit with `rollup_options::leaves`. `units` says which, in tree (index) order.
struct rollup_result {
    /// One row per unit of `units` (row r = unit units[r] of the tree), period = the
    /// period rolled up, same form as the input.
    report_batch totals;
    /// The tree index of each row of `totals`, ascending: the inner units, or every unit
    /// (then units[i] == i) with `rollup_options::leaves`.
    std::vector<std::size_t> units;
    /// Per row of `totals`: number of reports counted in its unit's total (its own included).
    std::vector<std::uint32_t> reports;
    /// Per row of `totals`: the batch row of its unit's own report when that report is
    /// counted, else -1 (no report, or left out by `inner_reports::ignore`). Tells which
    /// inner units reported themselves without matching the batch again.
    std::vector<std::int64_t> own_rows;
    /// Rows of the period whose unit is not in the tree: not counted anywhere.
    std::vector<std::size_t> unknown_rows;
    /// Their unit ids, each once, in first-seen order (the Python layer warns about them).
    std::vector<std::string> unknown_units;
    /// Rows left out by `inner_reports::ignore`.
    std::vector<std::size_t> ignored_rows;

    /// The row of `totals` holding tree unit `unit`, or nullopt when the unit is not a
    /// row (a leaf, unless the roll-up was asked for leaves). A binary search of `units`.
    std::optional<std::size_t> row(std::size_t unit) const noexcept;
};

/// Rolls the reports of `batch` up `tree` (see rollup_result for the contract).
/// Columnar, per field: a field without blanks is one scatter-add of the leaves' column
/// into the inner units' totals (a few thousand entries at national size: they stay in
/// cache), then the inner units in topological order; any other field (or one with a
/// negative value or an overflowing partial sum) one forward pass over the tree's parent
/// array in topological order. On the secondary line, units with a secondary parent
/// anywhere above them are added to each of their distinct ancestors instead. Working
/// memory beyond the result: a few arrays of one entry per unit, and one column of
/// totals per thread.
/// Throws value_error when a unit reports twice in the period, overflow_error on overflow.
rollup_result rollup(const hierarchy& tree, const report_batch& batch, const rollup_options& options = {});

/// Shorthand: `rollup(tree, batch, {along})`.
inline rollup_result rollup(const hierarchy& tree, const report_batch& batch, unionstat::line along) {
    rollup_options o;
    o.along = along;
    return rollup(tree, batch, o);
}

}  // namespace unionstat
