#include "unionstat/decimal.hpp"

#include <stdexcept>

#include "unionstat/text.hpp"

namespace unionstat {

decimal decimal::from_raw(std::int64_t raw, int scale) {
    if (scale < 0 || scale > 18) throw std::invalid_argument("decimal scale must be 0..18");
    return decimal(raw, scale);
}

namespace {

// What has been read of a number's digits, separators and point so far.
struct number_scan {
    wide_int acc = 0;
    int int_digits = 0, frac_digits = 0, group = -1;  // group: digits since last ','
    bool seen_comma = false, seen_point = false;
};

[[noreturn]] void misplaced_separator(std::string_view input) {
    throw value_error("misplaced thousands separator in '" + std::string(input) + "'");
}

constexpr wide_int digits_limit = wide_int(1) << 64;  // past any int64 magnitude: stop reading

inline void scan_digit(number_scan& n, char c, std::string_view input) {
    n.acc = n.acc * 10 + (c - '0');
    if (n.acc > digits_limit) throw overflow_error("number '" + std::string(input) + "' is out of range");
    if (n.seen_point) {
        ++n.frac_digits;
    } else {
        ++n.int_digits;
        if (n.seen_comma) ++n.group;
    }
}

// Thousands separator: the first group has 1-3 digits, every later one exactly 3.
inline void scan_comma(number_scan& n, std::string_view input) {
    if (n.int_digits == 0 || (n.seen_comma && n.group != 3) || (!n.seen_comma && n.int_digits > 3)) misplaced_separator(input);
    n.seen_comma = true;
    n.group = 0;
}

inline void scan_point(number_scan& n, std::string_view input) {
    if (n.seen_comma && n.group != 3) misplaced_separator(input);
    n.seen_point = true;
}

// The number read is whole: its last group complete, a digit on each side of a point,
// no more decimals than allowed.
void check_scan_end(const number_scan& n, std::string_view input, int max_scale) {
    if (n.seen_comma && !n.seen_point && n.group != 3) misplaced_separator(input);
    if (n.int_digits == 0 && n.frac_digits == 0) throw value_error("'" + std::string(input) + "' is not a number");
    if (n.seen_point && n.frac_digits == 0) throw value_error("'" + std::string(input) + "' ends with a decimal point");
    if (n.frac_digits > max_scale)
        throw value_error("'" + std::string(input) + "' has " + std::to_string(n.frac_digits) + " decimals; at most " +
                          std::to_string(max_scale) + " allowed");
}

}  // namespace

decimal decimal::parse(std::string_view input, int max_scale) {
    const std::string text = detail::fold_number_text(input);
    if (text.empty()) throw value_error("empty number");
    std::size_t i = 0;
    bool negative = false;
    if (text[i] == '-' || text[i] == '+') {
        negative = text[i] == '-';
        ++i;
    }
    number_scan n;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') scan_digit(n, c, input);
        else if (c == ',' && !n.seen_point) scan_comma(n, input);
        else if (c == '.' && !n.seen_point) scan_point(n, input);
        else throw value_error("'" + std::string(input) + "' is not a number");
    }
    check_scan_end(n, input, max_scale);
    wide_int acc = n.acc;
    if (negative) acc = -acc;
    if (!detail::fits_int64(acc)) throw overflow_error("number '" + std::string(input) + "' is out of range");
    return decimal(static_cast<std::int64_t>(acc), n.frac_digits);
}

decimal decimal::rescaled(int new_scale) const {
    if (new_scale < 0 || new_scale > 18) throw std::invalid_argument("decimal scale must be 0..18");
    if (new_scale >= scale_) {
        std::int64_t out;
        if (!detail::mul_ok(raw_, detail::pow10(new_scale - scale_), out))
            throw overflow_error("value " + to_string() + " does not fit at scale " + std::to_string(new_scale));
        return decimal(out, new_scale);
    }
    const std::int64_t f = detail::pow10(scale_ - new_scale);
    if (raw_ % f != 0) throw value_error("value " + to_string() + " has more than " + std::to_string(new_scale) + " decimals");
    return decimal(raw_ / f, new_scale);
}

decimal decimal::combine(const decimal& a, const decimal& b, bool subtract) {
    const int s = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
    const decimal x = a.rescaled(s), y = b.rescaled(s);
    std::int64_t out;
    if (subtract ? !detail::sub_ok(x.raw_, y.raw_, out) : !detail::add_ok(x.raw_, y.raw_, out))
        throw overflow_error("decimal " + std::string(subtract ? "difference" : "sum") + " of " + a.to_string() + " and " +
                             b.to_string() + " leaves the int64 range");
    return decimal(out, s);
}

int compare(const decimal& a, const decimal& b) {
    const int s = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
    const wide_int x = wide_int(a.raw_) * detail::pow10(s - a.scale_);
    const wide_int y = wide_int(b.raw_) * detail::pow10(s - b.scale_);
    return x < y ? -1 : (x > y ? 1 : 0);
}

std::string decimal::to_string(bool trim) const { return format_scaled(raw_, scale_, trim); }

std::string format_scaled(const wide_int& raw, int scale, bool trim) {
    const bool negative = raw < 0;
    std::string digits = (negative ? wide_int(-raw) : raw).str();
    if (scale > 0) {
        if (static_cast<int>(digits.size()) <= scale) digits.insert(0, static_cast<std::size_t>(scale) + 1 - digits.size(), '0');
        digits.insert(digits.size() - static_cast<std::size_t>(scale), ".");
        if (trim) {
            while (digits.back() == '0') digits.pop_back();
            if (digits.back() == '.') digits.pop_back();
        }
    }
    return negative ? "-" + digits : digits;
}

std::string format_scaled(std::int64_t raw, int scale, bool trim) { return format_scaled(wide_int(raw), scale, trim); }

}  // namespace unionstat
