#include "unionstat/rules/outcome_text.hpp"

#include "unionstat/checked.hpp"

namespace unionstat {
namespace rules {

namespace {
bool has_values(const batch_result& r, std::size_t i) { return r.st[i] != status::skipped && r.st[i] != status::error; }

std::string side(const rule_set& rules, const batch_result& r, std::size_t i, bool lhs) {
    const compiled_rule& rule = rules[r.rule[i]];
    const int reg = lhs ? rule.lhs_register() : rule.rhs_register();
    if (reg < 0 || !has_values(r, i)) return {};
    return format_ratio(lhs ? r.lhs[i] : r.rhs[i], lhs ? rule.lhs_den() : rule.rhs_den());
}
}  // namespace

std::string lhs_text(const rule_set& rules, const batch_result& result, std::size_t i) { return side(rules, result, i, true); }

std::string rhs_text(const rule_set& rules, const batch_result& result, std::size_t i) { return side(rules, result, i, false); }

std::string difference_text(const rule_set& rules, const batch_result& r, std::size_t i) {
    const compiled_rule& rule = rules[r.rule[i]];
    const int node = rule.checked().report_node;
    if (node < 0 || !has_values(r, i)) return {};
    const node_info& x = rule.checked().info[static_cast<std::size_t>(node)];
    const wide_int d = wide_int(r.lhs[i]) * x.lhs_factor - wide_int(r.rhs[i]) * x.rhs_factor;
    return detail::fits_int64(d) ? format_ratio(static_cast<std::int64_t>(d), x.common_den) : std::string();
}

std::string message_text(const rule_set& rules, const batch_result& r, const report_batch& b, std::size_t i, bool english) {
    const rule_def& def = rules[r.rule[i]].def();
    const std::string& t = english ? def.message_en : def.message;
    std::string msg = t.empty() ? def.check : fill_message(t, b, r.row[i]);
    if (english) {
        // fill_message writes blanks the Chinese way; English readers get "(blank)".
        static const std::string blank = "（空）";
        for (std::size_t p; (p = msg.find(blank)) != std::string::npos;) msg.replace(p, blank.size(), "(blank)");
    }
    return msg;
}

}  // namespace rules
}  // namespace unionstat
