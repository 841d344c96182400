#include "unionstat/io/column_map.hpp"

#include <algorithm>
#include <initializer_list>
#include <map>

#include "unionstat/text.hpp"

namespace unionstat {

namespace {

bool one_of(std::string_view t, std::initializer_list<std::string_view> options) {
    return std::find(options.begin(), options.end(), t) != options.end();
}

// Header text as compared: trimmed, full-width digits and letters folded to ASCII (Excel
// users type codes in either), ASCII letters of keys kept as they are.
std::string folded(std::string_view name) {
    const std::string_view t = detail::trim(name);
    std::string out;
    out.reserve(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) {
        const auto c0 = static_cast<unsigned char>(t[i]);
        // U+FF10..U+FF5A (０-９, Ａ-Ｚ, ＿, ａ-ｚ): EF BC 90..BF, EF BD 80..9A
        if (c0 == 0xEF && i + 2 < t.size()) {
            const auto c1 = static_cast<unsigned char>(t[i + 1]), c2 = static_cast<unsigned char>(t[i + 2]);
            if (c1 == 0xBC && c2 >= 0x90 && c2 <= 0xBF) {
                out += static_cast<char>(c2 - 0x90 + '0');
                i += 2;
                continue;
            }
            if (c1 == 0xBD && c2 >= 0x80 && c2 <= 0x9A) {
                out += static_cast<char>(c2 - 0x80 + '`');
                i += 2;
                continue;
            }
        }
        out += static_cast<char>(c0);
    }
    return out;
}

bool ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool ascii_lower(char c) { return c >= 'a' && c <= 'z'; }
bool ascii_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool column_map::is_unit_name(std::string_view name) noexcept {
    const std::string_view t = detail::trim(name);
    return one_of(t, {"unit", "Unit", "UNIT", "unit_id", "单位代码", "填报单位", "单位", "单位编码", "组织机构代码", "工会代码",
                      "單位代碼", "填報單位", "單位", "單位編碼"});
}

bool column_map::is_period_name(std::string_view name) noexcept {
    const std::string_view t = detail::trim(name);
    return one_of(t, {"period", "Period", "PERIOD", "报告期", "统计期", "期间", "年度", "年份", "報告期", "統計期", "期間"});
}

// A column of each report's submission time (报送时间): not a field, read by the Python
// layer for timeliness, so it is left out without a refusal even under strict.
static bool is_submitted_name(std::string_view name) noexcept {
    const std::string_view t = detail::trim(name);
    return one_of(t, {"submitted", "Submitted", "SUBMITTED", "报送时间", "上报时间", "报送日期", "上报日期", "報送時間",
                      "上報時間", "報送日期", "上報日期"});
}

bool column_map::looks_like_field(std::string_view name) noexcept {
    const std::string t = folded(name);
    if (t.empty()) return false;
    // A code: two digits, one capital letter, optionally _digits (01A, 04A_2, 10B).
    if (t.size() >= 3 && ascii_digit(t[0]) && ascii_digit(t[1]) && ascii_upper(t[2])) {
        std::size_t i = 3;
        if (i == t.size()) return true;
        if (t[i] != '_' || i + 1 == t.size()) return false;
        for (++i; i < t.size(); ++i)
            if (!ascii_digit(t[i])) return false;
        return true;
    }
    // A concept key: lower-case words joined by '_' with at least one '.'.
    bool dot = false;
    for (std::size_t i = 0; i < t.size(); ++i) {
        const char c = t[i];
        if (c == '.') {
            if (i == 0 || i + 1 == t.size() || t[i - 1] == '.') return false;
            dot = true;
        } else if (!(ascii_lower(c) || ascii_digit(c) || c == '_')) {
            return false;
        }
    }
    return dot && ascii_lower(t[0]);
}

std::optional<column_map> column_map::from_header(const form_schema& form, const std::vector<std::string>& names,
                                                  std::int64_t row, bool strict) {
    column_map m;
    int fields_named = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (m.unit < 0 && is_unit_name(names[i])) m.unit = static_cast<int>(i);
        else if (form.find(folded(names[i]))) ++fields_named;
    }
    if (m.unit < 0 || fields_named == 0) return std::nullopt;

    std::map<std::size_t, int> field_at;  // form field → first input column naming it
    std::map<std::string, int> name_at;   // folded name → first input column
    auto problem = [&](int col, const std::string& name, std::string message) {
        read_problem p;
        p.row = row;
        p.column = col + 1;
        p.field = name;
        p.message = std::move(message);
        m.problems.push_back(std::move(p));
    };
    for (std::size_t i = 0; i < names.size(); ++i) {
        const int col = static_cast<int>(i);
        const std::string name = folded(names[i]);
        if (col == m.unit) continue;
        if (name.empty()) {
            m.unnamed.push_back(col);
            continue;
        }
        auto [it, fresh] = name_at.emplace(name, col);
        if (!fresh) {
            problem(col, name,
                    "column '" + name + "' is given twice (columns " + std::to_string(it->second + 1) + " and " +
                        std::to_string(col + 1) + ")");
            continue;
        }
        if (is_unit_name(name)) {
            problem(col, name, "a second unit column '" + name + "' (the first is column " + std::to_string(m.unit + 1) + ")");
            continue;
        }
        if (is_period_name(name)) {
            if (m.period < 0) m.period = col;
            else
                problem(col, name,
                        "a second period column '" + name + "' (the first is column " + std::to_string(m.period + 1) + ")");
            continue;
        }
        if (auto f = form.find(name)) {
            auto [at, first] = field_at.emplace(*f, col);
            if (!first) {
                problem(col, name,
                        "columns " + std::to_string(at->second + 1) + " ('" +
                            folded(names[static_cast<std::size_t>(at->second)]) + "') and " + std::to_string(col + 1) + " ('" +
                            name + "') are the same field " + form.fields[*f].code);
                continue;
            }
            m.fields.push_back(*f);
            m.field_columns.push_back(col);
            continue;
        }
        if (looks_like_field(name)) {
            problem(col, name, "column '" + name + "' is not a field of " + form.id + " (no such code or concept key)");
            continue;
        }
        if (strict && !is_submitted_name(name)) {
            problem(col, name, "column '" + name + "' is not a field of " + form.id + " (strict: other columns are refused)");
            continue;
        }
        m.ignored.push_back(col);
        m.ignored_names.push_back(std::string(detail::trim(names[i])));
    }
    return m;
}

}  // namespace unionstat
