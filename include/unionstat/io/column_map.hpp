#pragma once
/// \file column_map.hpp
/// Which input column is the unit, the period, which field — from a header row, the
/// same way for every reader (CSV, Arrow tables, XLSX sheets).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/forms/schema.hpp"
#include "unionstat/io/read_problem.hpp"

namespace unionstat {

/// The meaning of an input's columns for one form.
///
/// A header names the key column (`unit`, `单位代码`, `填报单位`, `单位`, …), optionally a
/// period column (`period`, `报告期`, `年度`, `期间`, …) and fields by code as printed
/// (`01A`, `04A_2`) or concept key (`funds_raised.local_fiscal`). Other columns:
/// - a name that looks like a field code or a concept key but is none of this form's is
///   an error (a typo, or a file of another form version);
/// - a name given twice, or two names of the same field, is an error;
/// - columns with an empty name are ignored when every cell under them is empty (what a
///   trailing comma leaves), which the reader checks;
/// - other text columns (备注, 填报人, 联系电话) are listed in `ignored` and their cells
///   are not read; with `strict` they are errors.
struct column_map {
    int unit = -1;    ///< input column of the unit id (0-based)
    int period = -1;  ///< input column of the period, -1 when there is none
    /// Form field index of each field column, in input order (a batch_builder's fields).
    std::vector<std::size_t> fields;
    /// Input column (0-based) of each entry of `fields`.
    std::vector<int> field_columns;
    /// Input columns that are no field and no key, with their names (not read).
    std::vector<int> ignored;
    std::vector<std::string> ignored_names;
    /// Input columns with an empty name: their cells must all be empty.
    std::vector<int> unnamed;
    /// Problems with the header itself (row = the header's row number).
    std::vector<read_problem> problems;

    /// True when `name` names the unit-id column.
    static bool is_unit_name(std::string_view name) noexcept;
    /// True when `name` names the period column.
    static bool is_period_name(std::string_view name) noexcept;
    /// True when `name` is shaped like a field code (`01A`, `04A_2`, `１０Ｂ`) or a
    /// concept key (`funds_raised.local_fiscal`).
    static bool looks_like_field(std::string_view name) noexcept;

    /// The map of a header row, or nullopt when the row is not a header (it names no
    /// key column, or no field of the form: a title or 填报单位 line above the header).
    /// `row` is the header's row number, put on its problems.
    static std::optional<column_map> from_header(const form_schema& form, const std::vector<std::string>& names, std::int64_t row,
                                                 bool strict = false);
};

}  // namespace unionstat
