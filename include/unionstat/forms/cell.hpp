#pragma once
/// \file cell.hpp
/// Turning what people type into a form's blank into an exact stored value, and back.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "unionstat/decimal.hpp"
#include "unionstat/forms/field.hpp"

namespace unionstat {

/// What a cell held.
enum class cell_state {
    value,          ///< a number or a 是/否
    blank,          ///< empty: missing, never 0
    not_applicable  ///< "—", "-", "/", "－": the blank does not apply; treated as missing
};

/// A parsed cell.
struct cell {
    cell_state state = cell_state::blank;
    std::int64_t raw = 0;  ///< stored value (scaled by the field's storage scale) when state == value
};

/// Parses cell text for a field. Accepts full-width digits (１２３), thousands separators
/// (1,234), 是/否/√/×/Y/N for flags; blank → missing; —, /, - → not applicable.
/// Rejects "12万", "约100", "1.2.3", negative counts, fractional counts, and more
/// decimals than the field stores. Throws value_error whose message says what was
/// wrong; the caller adds row, unit and field to the location.
cell parse_cell(const field_def& field, std::string_view text);

/// Checks an exact value against a field and returns its stored raw value.
/// Throws value_error (negative or fractional count, too many decimals, flag not 0/1).
std::int64_t to_raw(const field_def& field, const decimal& value);

/// The stored raw value as an exact decimal in the field's printed unit.
inline decimal from_raw(const field_def& field, std::int64_t raw) { return decimal::from_raw(raw, field.scale); }

/// Text for a stored value: "12", "3.50" (money trimmed to at least the reported
/// decimals), "是"/"否".
std::string format_raw(const field_def& field, std::int64_t raw);

/// The one exact text of a money value stored as `raw` at `scale` decimals: the field's
/// reported `decimals` ("5.00" for 5 万元 reported to 2 decimals), more only where the
/// value has them ("0.005", "1.2345"), never rounded. Every path that hands money to a
/// user (Report.get, frames, roll-up totals, gaps, suggested values) goes through it.
std::string format_money(std::int64_t raw, int scale, int decimals);

}  // namespace unionstat
