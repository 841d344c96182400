#pragma once
/// \file read_problem.hpp
/// One thing wrong with one place of an input file or table, as the readers report it.

#include <cstdint>
#include <string>

namespace unionstat {

/// A bad cell, a bad row or a bad column of an input, with its place. Readers collect
/// every problem of a file instead of stopping at the first, so a user can fix them all
/// at once; the caller decides whether problems are fatal (they are for validation).
struct read_problem {
    /// The row as the user sees it: the line of the file where the record starts (CSV),
    /// the sheet's row number (XLSX), or the 1-based position of the row (in-memory
    /// tables). 0 when the problem concerns a column or the whole input.
    std::int64_t row = 0;
    /// 1-based column of the input (as counted in the file's header), 0 when unknown.
    int column = 0;
    std::string unit;     ///< the row's unit id, when known
    std::string field;    ///< the field code, or the column's name when it is no field
    std::string text;     ///< what the cell held (UTF-8), when it is a cell problem
    std::string message;  ///< what is wrong and what was expected

    /// "row 12, unit 630100, field 05C: '12万' is not a number" — whatever applies.
    std::string to_string() const {
        std::string out;
        auto add = [&out](const std::string& part) {
            if (part.empty()) return;
            if (!out.empty()) out += ", ";
            out += part;
        };
        if (row > 0) add("row " + std::to_string(row));
        if (column > 0) add("column " + std::to_string(column));
        if (!unit.empty()) add("unit " + unit);
        if (!field.empty()) add("field " + field);
        return out.empty() ? message : out + ": " + message;
    }
};

}  // namespace unionstat
