#pragma once
/// \file completeness.hpp
/// Who has not reported: missing units and reporting rates by level and by kind.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/graph/hierarchy.hpp"

namespace unionstat {

/// Reports expected and received.
struct reporting_rate {
    std::size_t expected = 0;  ///< units expected to report
    std::size_t reported = 0;  ///< of which reported
    /// reported / expected; 1 when nothing is expected.
    double rate() const noexcept { return expected == 0 ? 1.0 : static_cast<double>(reported) / static_cast<double>(expected); }
    /// expected − reported.
    std::size_t missing() const noexcept { return expected - reported; }
};

/// The result of `completeness`.
struct completeness_result {
    std::string period;                      ///< the period looked at
    std::vector<std::size_t> missing;        ///< units expected but without a report, in pre-order
    reporting_rate total;                    ///< over every expected unit
    std::array<reporting_rate, 5> by_level;  ///< indexed by unit_level (national … grassroots)
    std::array<reporting_rate, 4> by_kind;   ///< indexed by unit_kind (regional … enterprise)
    std::vector<std::size_t> unknown_rows;   ///< rows of the period whose unit is not in the tree
    std::vector<std::string> unknown_units;  ///< their unit ids, each once

    /// The rate of one level.
    const reporting_rate& of(unit_level l) const noexcept { return by_level[static_cast<std::size_t>(l)]; }
    /// The rate of one kind.
    const reporting_rate& of(unit_kind k) const noexcept { return by_kind[static_cast<std::size_t>(k)]; }
};

/// Which units of the primary subtree of `root` (the whole tree when "") have no report
/// in `period` ("" → the batch's only period). Every unit of the subtree that exists in
/// the period (`hierarchy::valid_at`) is expected to report, inner units included;
/// reports of units outside the subtree are ignored, reports of unknown units listed.
/// Throws lookup_error for an unknown root, value_error when a unit reports twice.
completeness_result completeness(const hierarchy& tree, const report_batch& batch, std::string_view period = {},
                                 std::string_view root = {});

}  // namespace unionstat
