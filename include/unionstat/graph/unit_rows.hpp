#pragma once
/// \file unit_rows.hpp
/// Which report of a batch belongs to which unit of a hierarchy, in one period.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/graph/hierarchy.hpp"

namespace unionstat {

/// The rows of a batch matched to the units of a hierarchy for one period. Rows whose
/// unit is not in the tree are kept aside (never silently dropped), so that the caller
/// can warn about them.
struct unit_rows {
    std::string period;                      ///< the period matched
    std::vector<std::int64_t> row;           ///< per unit index: its row in the batch, or -1
    std::size_t matched = 0;                 ///< number of units with a row
    std::vector<std::size_t> unknown_rows;   ///< rows of the period whose unit is not in the tree
    std::vector<std::string> unknown_units;  ///< their unit ids, each once, in first-seen order
};

/// Matches the rows of `batch` in `period` to the units of `tree`. An empty `period`
/// means the batch's only period (value_error if it holds several); rows of other
/// periods are left out; rows with an empty period belong to whichever period is asked. Throws value_error naming the unit and
/// both rows when a unit reports twice in the period.
unit_rows match_rows(const hierarchy& tree, const report_batch& batch, std::string_view period = {});

}  // namespace unionstat
