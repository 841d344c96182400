#pragma once
/// \file report.hpp
/// One unit's report for one period on one form.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/decimal.hpp"
#include "unionstat/forms/schema.hpp"

namespace unionstat {

/// One unit × one period × one form. Values are stored raw (scaled by the field's
/// storage scale); a blank is std::nullopt, never 0.
class report {
public:
    /// An empty report (every value blank).
    report(std::shared_ptr<const form_schema> form, std::string unit, std::string period);

    const form_schema& form() const noexcept { return *form_; }
    const std::shared_ptr<const form_schema>& form_ptr() const noexcept { return form_; }
    const std::string& unit() const noexcept { return unit_; }
    const std::string& period() const noexcept { return period_; }

    /// Sets a value from cell text ("1,234", "１２", "是", "" for blank). Throws
    /// value_error naming the unit and the field.
    void set_text(std::string_view code_or_key, std::string_view text);
    /// Sets an exact value; money is rescaled to the field's storage scale (error if
    /// that loses decimals). Counts must be whole and >= 0; flags 0 or 1.
    void set(std::string_view code_or_key, const decimal& value);
    /// Sets a whole number (counts, flags, whole 万元).
    void set(std::string_view code_or_key, std::int64_t value) { set(code_or_key, decimal::from_int(value)); }
    /// Makes a value blank.
    void clear(std::string_view code_or_key);

    /// The value, or nullopt when blank.
    std::optional<decimal> get(std::string_view code_or_key) const;
    /// Raw stored values, one per field in printed order.
    const std::vector<std::optional<std::int64_t>>& raw() const noexcept { return values_; }
    /// Sets a raw stored value by field index (no checks beyond the field's domain).
    void set_raw(std::size_t field, std::optional<std::int64_t> raw);

private:
    std::shared_ptr<const form_schema> form_;
    std::string unit_, period_;
    std::vector<std::optional<std::int64_t>> values_;
};

}  // namespace unionstat
