#pragma once
/// \file field.hpp
/// One blank of a printed form.

#include <optional>
#include <string>
#include <string_view>

namespace unionstat {

/// What a blank holds.
enum class field_type {
    count,  ///< non-negative whole number (人, 户, 人次, 家, 个, …)
    money,  ///< exact decimal in 万元 or 元, stored to the 分
    flag    ///< 是/否, stored as 1/0
};

/// How a field adds up the hierarchy.
enum class aggregation {
    sum,         ///< counts and money
    count_true,  ///< number of 是 answers among the children
    none         ///< does not add (ratios, yes/no of the reporting unit itself)
};

/// A field definition: one blank of the form as printed, plus what it means.
struct field_def {
    std::string code;      ///< as printed, e.g. "05C"; suffixed for unlettered blanks ("04A_2", "05_total")
    std::string row;       ///< printed row number, "05"
    std::string letter;    ///< printed letter, "" when the blank has none
    std::string key;       ///< concept key, stable across versions ("funds_raised.local_fiscal")
    std::string label;     ///< label in the form's own script
    std::string label_en;  ///< English label
    field_type type = field_type::count;
    std::string unit;     ///< as printed: 人 户 人次 … 万元 元; 是/否 for flags
    int decimals = 0;     ///< decimals a filler is expected to report (money: 2 by default)
    int scale = 0;        ///< decimals stored exactly: 6 for 万元 (to the 分), 2 for 元, 0 otherwise
    std::string part_of;  ///< code of the total this blank is a "其中" of, or ""
    unionstat::aggregation agg = aggregation::sum;
    std::string printed;  ///< printed wording when `label` shortens it
    std::string note;     ///< transcriber's note
    /// Error localisation's weight (> 0; 1 unless the form says): how much more reliable
    /// this blank is than a blank of weight 1 — a heavier field is changed less readily.
    /// A ratio of trust, not a figure of the report, so binary floating point is fine.
    double weight = 1.0;
    int line = 0;  ///< where declared in the schema file (1-based), 0 if built in code
    int column = 0;
};

/// Storage scale for a money unit: 6 for 万元 (1 分 = 0.000001 万元), 2 for 元; 0 otherwise.
inline int storage_scale(field_type type, std::string_view unit) noexcept {
    if (type != field_type::money) return 0;
    return unit == "万元" ? 6 : 2;
}

/// "count", "money", "flag".
inline const char* to_string(field_type t) noexcept {
    return t == field_type::count ? "count" : t == field_type::money ? "money" : "flag";
}
/// "sum", "count_true", "none".
inline const char* to_string(aggregation a) noexcept {
    return a == aggregation::sum ? "sum" : a == aggregation::count_true ? "count_true" : "none";
}

}  // namespace unionstat
