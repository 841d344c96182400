#pragma once
/// \file decimal.hpp
/// Exact fixed-point decimal numbers. Money never passes through binary floating
/// point: a value is an int64 count of 10^-scale (for 万元 fields stored to the 分,
/// scale 6; for 元 fields, scale 2).

#include <cstdint>
#include <string>
#include <string_view>

#include "unionstat/checked.hpp"
#include "unionstat/error.hpp"

namespace unionstat {

/// An exact decimal `raw × 10^-scale`, 0 <= scale <= 18.
class decimal {
public:
    /// Zero at scale 0.
    constexpr decimal() noexcept = default;

    /// The value raw × 10^-scale. Throws std::invalid_argument if scale is out of range.
    static decimal from_raw(std::int64_t raw, int scale);

    /// A whole number.
    static decimal from_int(std::int64_t value) noexcept { return decimal(value, 0); }

    /// Parses "1234", "-0.5", "1,234.50", full-width "１２３．４". Thousands separators must
    /// group by three. At most `max_scale` decimals; more is an error (never rounded).
    /// Throws value_error with a message saying what was wrong (the caller adds the place).
    static decimal parse(std::string_view text, int max_scale = 18);

    /// Raw integer (value × 10^scale).
    std::int64_t raw() const noexcept { return raw_; }
    /// Number of decimal places.
    int scale() const noexcept { return scale_; }

    /// The same value with another scale. Throws value_error if precision would be
    /// lost, overflow_error if it does not fit.
    decimal rescaled(int new_scale) const;

    /// Exact sum; throws overflow_error past int64 at the larger scale.
    friend decimal operator+(const decimal& a, const decimal& b) { return combine(a, b, false); }
    /// Exact difference; throws overflow_error past int64.
    friend decimal operator-(const decimal& a, const decimal& b) { return combine(a, b, true); }
    decimal& operator+=(const decimal& b) { return *this = *this + b; }

    /// -1, 0, 1 — exact across scales (compared in 128 bits).
    friend int compare(const decimal& a, const decimal& b);
    friend bool operator==(const decimal& a, const decimal& b) { return compare(a, b) == 0; }
    friend bool operator!=(const decimal& a, const decimal& b) { return compare(a, b) != 0; }
    friend bool operator<(const decimal& a, const decimal& b) { return compare(a, b) < 0; }
    friend bool operator<=(const decimal& a, const decimal& b) { return compare(a, b) <= 0; }
    friend bool operator>(const decimal& a, const decimal& b) { return compare(a, b) > 0; }
    friend bool operator>=(const decimal& a, const decimal& b) { return compare(a, b) >= 0; }

    /// Plain text, trailing zeros kept to `scale()` unless `trim` ("1.50" / "1.5").
    std::string to_string(bool trim = false) const;

private:
    constexpr decimal(std::int64_t raw, int scale) noexcept : raw_(raw), scale_(scale) {}
    static decimal combine(const decimal& a, const decimal& b, bool subtract);

    std::int64_t raw_ = 0;
    int scale_ = 0;
};

/// Formats a raw scaled integer as decimal text ("-12.50").
std::string format_scaled(std::int64_t raw, int scale, bool trim = false);

/// Formats a 128-bit scaled integer as decimal text.
std::string format_scaled(const wide_int& raw, int scale, bool trim = false);

}  // namespace unionstat
