#pragma once
/// \file checker.hpp
/// Second stage: resolve names and check types and units of a parsed rule.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "unionstat/forms/rule_def.hpp"
#include "unionstat/rules/ast.hpp"
#include "unionstat/rules/diagnostics.hpp"

namespace unionstat {
class form_schema;
namespace rules {

/// Where a field reference reads from.
enum class value_source : std::uint8_t {
    current,   ///< the report itself
    previous,  ///< the same unit's previous-period report (prev(x))
    children   ///< the sum over the unit's children (children_sum(x))
};

/// What the checker knows about a node.
struct node_info {
    bool boolean = false;  ///< condition (true/false) rather than a number
    std::string unit;      ///< printed unit of a number; "" for a bare constant
    bool money = false;    ///< carries a money unit
    bool scaled = false;   ///< multiplied or divided by a constant: units converted explicitly
    std::int64_t den = 1;  ///< numbers are exact: value = numerator / den (den > 0, static)
    int field = -1;        ///< field nodes: index in the form
    value_source source = value_source::current;
    /// Money fields added linearly at this node (for the default rounding tolerance):
    /// count of terms and sum of their half-units, as a numerator over `den`.
    int money_terms = 0;
    std::int64_t half_units = 0;
    /// Comparisons: scale factors bringing each side to the common denominator, and the
    /// tolerance as a numerator over that denominator.
    std::int64_t lhs_factor = 1, rhs_factor = 1, tolerance = 0, common_den = 1;
};

/// A parsed rule whose names are resolved and whose types and units agree.
struct checked_rule {
    rule_def def;
    ast tree;
    std::vector<node_info> info;                     ///< one per node of `tree`
    std::vector<std::pair<value_source, int>> refs;  ///< distinct values whose blanks count for the missing strategy
    missing_strategy missing = missing_strategy::skip_if_any_missing;
    int report_node = -1;  ///< comparison whose sides are reported as lhs/rhs, or -1
};

/// Resolves field names (code or key; `a:b` ranges in printed order), checks that
/// operands agree (no count + money, no 人 + 人次 without an explicit factor, no money
/// compared with a bare count, division only by a non-zero constant, the whole rule a
/// condition) and computes exact denominators and tolerances. Appends diagnostics and
/// returns nullopt on any error.
std::optional<checked_rule> check(const form_schema& form, const rule_def& def, ast tree, std::vector<diagnostic>& diags);

}  // namespace rules
}  // namespace unionstat
