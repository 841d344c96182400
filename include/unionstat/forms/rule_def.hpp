#pragma once
/// \file rule_def.hpp
/// A rule as declared in a form schema, before it is parsed and compiled.

#include <optional>
#include <string>
#include <vector>

#include "unionstat/decimal.hpp"
#include "unionstat/level.hpp"

namespace unionstat {

/// How serious a failed rule is.
enum class severity { error, warning };

/// What a rule does when a referenced value is blank. Names follow DHIS2.
enum class missing_strategy {
    skip_if_any_missing,  ///< default: skip the rule if any referenced value is blank
    skip_if_all_missing,  ///< skip only if every referenced value is blank; blanks count as 0
    never_skip            ///< always evaluate; blanks count as 0
};

/// Where a rule came from.
enum class rule_origin {
    explicit_rule,  ///< written under `rules:`
    part_of,        ///< generated from a field's `part_of` ("其中")
    group           ///< generated from a breakdown under `groups:`
};

/// A rule declaration: id, expression text and how to report it.
struct rule_def {
    std::string id;     ///< unique in its form, e.g. "songnuan.heating_per_household"
    std::string check;  ///< expression text in the rule language
    unionstat::severity sev = severity::error;
    std::string message;                      ///< Chinese message with {code} placeholders ("" → generated)
    std::string message_en;                   ///< English message with {code} placeholders
    std::optional<missing_strategy> missing;  ///< unset → the form's default
    std::optional<decimal> tolerance;         ///< unset → default rounding tolerance
    std::vector<unit_level> levels;           ///< empty → every level
    std::string note;  ///< why the rule holds: the printed basis, or for a plausibility bound where its figure comes from
    rule_origin origin = rule_origin::explicit_rule;
    std::string file;  ///< schema file it was declared in
    int line = 0;      ///< line of the `check` text (1-based) in `file`
    int column = 0;    ///< column where the check text starts
};

/// "error" / "warning".
inline const char* to_string(severity s) noexcept { return s == severity::error ? "error" : "warning"; }
/// DHIS2 name of a strategy.
inline const char* to_string(missing_strategy m) noexcept {
    return m == missing_strategy::skip_if_any_missing   ? "skip_if_any_missing"
           : m == missing_strategy::skip_if_all_missing ? "skip_if_all_missing"
                                                        : "never_skip";
}

}  // namespace unionstat
