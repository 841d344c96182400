#pragma once
/// \file org_unit.hpp
/// One org unit (a trade union) as listed in a units file: what a hierarchy is built from.

#include <string>
#include <string_view>
#include <vector>

#include "unionstat/level.hpp"

namespace unionstat {

/// Which parents a view follows. Every unit is counted along its primary parent;
/// `secondary` views follow primary and secondary parents together and still count
/// each unit at most once in any one total.
enum class line {
    primary,   ///< the 逐级汇总 line: one parent per unit, a tree
    secondary  ///< primary and secondary parents (the industry line and other views)
};

/// "primary" or "secondary".
inline const char* to_string(line l) noexcept { return l == line::primary ? "primary" : "secondary"; }

/// One unit as listed in a units file or handed to `hierarchy_builder::add_unit`.
///
/// A unit is counted along its **primary** parent (the line of 逐级汇总); its
/// **secondary** parents (an enterprise union also under an industry union) only give
/// other views. `valid_from`/`valid_to` bound the periods in which the unit exists,
/// as "YYYY" or "YYYY-MM", inclusive, empty = open. The same id may be listed several
/// times with disjoint validity: each listing is a version (the unit moved, was renamed).
struct org_unit {
    std::string id;                              ///< administrative code or any stable string
    std::string name;                            ///< e.g. 西宁市总工会
    unit_level level = unit_level::grassroots;   ///< national … grassroots
    unit_kind kind = unit_kind::regional;        ///< regional, industry, direct, enterprise
    std::string parent;                          ///< primary parent's id, "" for a root
    std::vector<std::string> secondary_parents;  ///< other parents (views only, never counted twice)
    std::string valid_from;                      ///< first period the unit exists, "" = always
    std::string valid_to;                        ///< last period the unit exists, "" = still
    int line = 0;                                ///< line in the units file (1-based), 0 if built in code
};

namespace detail {

/// Compares two period texts on their common prefix ("2018" vs "2018-06" → 0), so that a
/// year contains its months. Returns <0, 0, >0.
int compare_period_prefix(std::string_view a, std::string_view b) noexcept;

/// True when a period overlaps the inclusive validity [from, to] (empty bound = open).
/// `period` may be "YYYY", "YYYY-MM" or a range "A/B" (e.g. "2017-12/2018-02").
bool period_overlaps(std::string_view period, std::string_view from, std::string_view to) noexcept;

/// True for "", "YYYY" and "YYYY-MM" with a month 01–12.
bool is_period_bound(std::string_view text) noexcept;

}  // namespace detail
}  // namespace unionstat
