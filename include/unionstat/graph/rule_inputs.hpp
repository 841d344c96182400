#pragma once
/// \file rule_inputs.hpp
/// What the rule engine needs from the tree: each report's level (rules restricted by
/// level) and its children's figures (`children_sum()`).

#include <string_view>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/graph/hierarchy.hpp"
#include "unionstat/level.hpp"

namespace unionstat {

/// Inputs for `rules::evaluate(rules, batch, options)` taken from a hierarchy: set
/// `options.levels = inputs.levels` and `options.children = &inputs.children`.
struct rule_inputs {
    /// Level of each row's unit, one per row of the batch.
    std::vector<unit_level> levels;
    /// Row-aligned with the batch: for each row of the period, the sum over the unit's
    /// primary children of their figures — a child's reported total where it reported,
    /// else its own children's sum, recursively (as `check` computes). `count_true`
    /// fields: the number of children whose own report says 是; `none` fields: blank.
    /// Blank when no child contributes, and for rows of other periods.
    report_batch children;
};

/// Builds the rule inputs of `batch` for the period ("" → the batch's only period).
/// Throws lookup_error naming the first row whose unit is not in the tree (drop those
/// rows first: `rollup` and `check` list them), value_error when a unit reports twice.
rule_inputs make_rule_inputs(const hierarchy& tree, const report_batch& batch, std::string_view period = {});

}  // namespace unionstat
