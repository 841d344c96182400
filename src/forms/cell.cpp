#include "unionstat/forms/cell.hpp"

#include <algorithm>

#include "unionstat/text.hpp"

namespace unionstat {

namespace {
bool any_of(std::string_view t, std::initializer_list<std::string_view> options) {
    for (auto o : options)
        if (t == o) return true;
    return false;
}
}  // namespace

std::int64_t to_raw(const field_def& f, const decimal& v) {
    switch (f.type) {
        case field_type::flag:
            if (v.scale() == 0 && (v.raw() == 0 || v.raw() == 1)) return v.raw();
            if (v == decimal::from_int(0) || v == decimal::from_int(1)) return v.rescaled(0).raw();
            throw value_error("flag field takes 是/否 (1/0), got " + v.to_string());
        case field_type::count: {
            if (v < decimal()) throw value_error("count cannot be negative, got " + v.to_string());
            try {
                return v.rescaled(0).raw();
            } catch (const value_error&) {
                throw value_error("count must be a whole number, got " + v.to_string());
            }
        }
        case field_type::money: {
            if (v < decimal()) throw value_error("amount cannot be negative, got " + v.to_string());
            try {
                return v.rescaled(f.scale).raw();
            } catch (const value_error&) {
                throw value_error("amount " + v.to_string() + " has more than " + std::to_string(f.scale) + " decimals (" +
                                  f.unit + " is stored to the 分)");
            }
        }
    }
    return 0;
}

cell parse_cell(const field_def& f, std::string_view text) {
    const std::string_view t = detail::trim(text);
    if (t.empty()) return {cell_state::blank, 0};
    if (any_of(t, {"—", "-", "/", "－", "／", "——", "--", "N/A", "n/a"})) return {cell_state::not_applicable, 0};
    if (f.type == field_type::flag) {
        if (any_of(t, {"是", "√", "✓", "✔", "Y", "y", "yes", "Yes", "YES", "true", "True", "TRUE", "1"}))
            return {cell_state::value, 1};
        if (any_of(t, {"否", "×", "✗", "✘", "N", "n", "no", "No", "NO", "false", "False", "FALSE", "0"}))
            return {cell_state::value, 0};
        throw value_error("'" + std::string(t) + "' is not 是/否");
    }
    decimal d;
    try {
        d = decimal::parse(t, 18);
    } catch (const value_error& e) {
        // The parser's own words when they already quote the text, else say what it is.
        const std::string quoted = "'" + std::string(t) + "'";
        if (e.message().compare(0, quoted.size(), quoted) == 0) throw value_error(e.message());
        throw value_error(quoted + " is not a number (" + e.message() + ")");
    }
    return {cell_state::value, to_raw(f, d)};
}

std::string format_raw(const field_def& f, std::int64_t raw) {
    if (f.type == field_type::flag) return raw ? "是" : "否";
    if (f.type == field_type::count) return std::to_string(raw);
    return format_money(raw, f.scale, f.decimals);
}

std::string format_money(std::int64_t raw, int scale, int decimals) {
    // Trim trailing zeros, but keep at least the reported decimals.
    std::string s = format_scaled(raw, scale, false);
    const auto point = s.find('.');
    if (point == std::string::npos) return s;
    std::size_t keep = point + 1 + static_cast<std::size_t>(std::max(decimals, 0));
    while (s.size() > keep && s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
}

}  // namespace unionstat
