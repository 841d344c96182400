#pragma once
/// \file leaf_sums.hpp
/// The leaf reports' figures summed per parent: all that `check` needs of the grassroots
/// reports. A check split over parts of the data (Dask partitions) sums each part's leaves,
/// adds the parts' sums, and checks the inner units' own reports against them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/graph/hierarchy.hpp"

namespace unionstat {

/// Per inner unit (a unit with primary children) and `sum` field: the sum of the figures
/// its leaf children reported (blanks left out) and how many leaf children reported one.
/// Sums of disjoint sets of reports add up: `sum` and `count` of the whole are the
/// element-wise sums of the parts'.
struct leaf_sums {
    std::string period;              ///< the period summed
    std::vector<std::size_t> units;  ///< the inner units (tree indices, ascending): slot k is units[k]
    std::size_t width = 0;           ///< fields of the form
    /// Field-major: entry [field * units.size() + slot]; 0 for fields that are not `sum`.
    std::vector<std::int64_t> sum;
    /// Field-major as `sum`: leaf children that reported the field (not blank).
    std::vector<std::uint32_t> count;
    /// Batch rows of the period whose unit is an inner unit (their own reports), ascending.
    std::vector<std::size_t> inner_rows;
    /// Rows of the period whose unit is not in the tree, and their unit ids (each once).
    std::vector<std::size_t> unknown_rows;
    std::vector<std::string> unknown_units;
};

/// Sums the leaf reports of `batch` in `period` ("" → the batch's only period) per
/// primary parent. Exact: overflow_error naming the parent and field; value_error when
/// a unit reports twice.
leaf_sums sum_leaves(const hierarchy& tree, const report_batch& batch, std::string_view period = {});

}  // namespace unionstat
