#pragma once
/// \file duplicate_keys.hpp
/// Reports given twice: the same unit and period in two rows of a batch.

#include <cstddef>
#include <vector>

#include "unionstat/forms/batch.hpp"

namespace unionstat {

/// A (unit, period) that a batch holds more than once.
struct duplicate_key {
    std::size_t first = 0;  ///< batch row where the key first appears
    std::size_t again = 0;  ///< a later batch row with the same key
};

/// Every row whose (unit, period) appeared in an earlier row, paired with that earlier
/// row, in row order. A unit that reports twice for one period is a mistake every
/// command must name (summed twice in a roll-up, counted twice in a tally).
std::vector<duplicate_key> find_duplicate_keys(const report_batch& batch);

}  // namespace unionstat
