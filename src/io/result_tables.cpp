#include "unionstat/io/result_tables.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "../parallel_for.hpp"
#include "unionstat/forms/cell.hpp"
#include "unionstat/rules/outcome_text.hpp"

namespace unionstat {

namespace {

// A bitmap with a bit set for every empty text: nulls where a side was not evaluated.
std::vector<std::uint64_t> nulls_where_empty(const std::vector<std::string>& texts) {
    std::vector<std::uint64_t> bits;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        if (!texts[i].empty()) continue;
        if (bits.empty()) bits.assign((texts.size() + 63) / 64, 0);
        bits[i >> 6] |= std::uint64_t(1) << (i & 63);
    }
    return bits;
}

}  // namespace

result_table violations_table(const report_batch& batch, const rules::batch_result& r, bool messages, std::size_t limit,
                              std::size_t offset) {
    const rules::rule_set& rules = batch.form().compiled();
    const std::size_t first = std::min(offset, r.size());
    const std::size_t n = std::min(limit, r.size() - first);
    std::vector<std::int64_t> row(n);
    // Rule ids and the status words live as long as the form and the program: viewed,
    // not copied (a string allocation per outcome and column was most of the table's cost).
    std::vector<std::string_view> unit(n), period(n), rule(n), severity(n), status(n), reason(n);
    std::vector<std::string> lhs(n), rhs(n), diff(n);
    // The texts of each outcome are independent: made in blocks of rows on two cores
    // (a writer's slice of 65,536 outcomes with both messages is ~0.1 s on one).
    std::vector<std::string> zh(messages ? n : 0), en(messages ? n : 0);
    constexpr std::size_t block = 4096;
    const std::size_t blocks = (n + block - 1) / block;
    detail::parallel_for(blocks, detail::thread_count(2, blocks), [&](std::size_t task, unsigned) {
        const std::size_t end = std::min(n, (task + 1) * block);
        for (std::size_t j = task * block; j < end; ++j) {
            const std::size_t i = first + j;
            const std::size_t b = r.row[i];
            row[j] = batch.row_number(b);
            unit[j] = batch.units()[b];
            period[j] = batch.periods()[b];
            const rule_def& def = rules[r.rule[i]].def();
            rule[j] = def.id;
            severity[j] = to_string(def.sev);
            status[j] = rules::to_string(r.st[i]);
            reason[j] = rules::to_string(r.why[i]);
            lhs[j] = rules::lhs_text(rules, r, i);
            rhs[j] = rules::rhs_text(rules, r, i);
            diff[j] = rules::difference_text(rules, r, i);
            if (messages) {
                zh[j] = rules::message_text(rules, r, batch, i, false);
                en[j] = rules::message_text(rules, r, batch, i, true);
            }
        }
    });
    result_table t;
    t.add_int64("row", std::move(row), {}, false);
    t.add_utf8("unit", unit, {}, false);
    t.add_utf8("period", period, {}, false);
    t.add_utf8("rule", rule, {}, false);
    t.add_utf8("severity", severity, {}, false);
    t.add_utf8("status", status, {}, false);
    t.add_utf8("reason", reason, {}, false);
    t.add_utf8("lhs", lhs, nulls_where_empty(lhs));
    t.add_utf8("rhs", rhs, nulls_where_empty(rhs));
    t.add_utf8("difference", diff, nulls_where_empty(diff));
    if (messages) {
        t.add_utf8("message", zh, {}, false);
        t.add_utf8("message_en", en, {}, false);
    }
    return t;
}

result_table summary_table(const rules::rule_set& rules, const rules::batch_result& r) {
    const std::size_t n = rules.size();
    std::vector<std::string> id(n), severity(n), check(n);
    std::vector<std::int64_t> items(n), passes(n), fails(n), skipped(n), errors(n);
    for (std::size_t i = 0; i < n; ++i) {
        const rule_def& def = rules[i].def();
        id[i] = def.id;
        severity[i] = to_string(def.sev);
        check[i] = def.check;
        const rules::rule_counts c = i < r.counts.size() ? r.counts[i] : rules::rule_counts{};
        items[i] = static_cast<std::int64_t>(c.items);
        passes[i] = static_cast<std::int64_t>(c.passes);
        fails[i] = static_cast<std::int64_t>(c.fails);
        skipped[i] = static_cast<std::int64_t>(c.skipped);
        errors[i] = static_cast<std::int64_t>(c.errors);
    }
    result_table t;
    t.add_utf8("rule", id, {}, false);
    t.add_utf8("severity", severity, {}, false);
    t.add_utf8("check", check, {}, false);
    t.add_int64("items", std::move(items), {}, false);
    t.add_int64("passes", std::move(passes), {}, false);
    t.add_int64("fails", std::move(fails), {}, false);
    t.add_int64("skipped", std::move(skipped), {}, false);
    t.add_int64("errors", std::move(errors), {}, false);
    return t;
}

result_table check_table(const hierarchy& tree, const form_schema& form, const check_result& res) {
    const std::size_t n = res.rows.size();
    std::vector<std::string> unit(n), field(n), reported(n), computed(n), difference(n), tolerance(n), gap(n), gap_tolerance(n),
        explained(n);
    std::vector<std::uint8_t> within(n), gap_within(n);
    std::vector<std::int64_t> children(n);
    std::vector<std::uint64_t> no_report;
    auto text = [](const field_def& f, std::int64_t raw) { return format_scaled(raw, f.scale, false); };
    for (std::size_t i = 0; i < n; ++i) {
        const check_row& c = res.rows[i];
        const field_def& f = form.fields[c.field];
        unit[i] = tree.id(c.unit);
        field[i] = f.code;
        if (c.reported) {
            reported[i] = text(f, *c.reported);
        } else {
            if (no_report.empty()) no_report.assign((n + 63) / 64, 0);
            no_report[i >> 6] |= std::uint64_t(1) << (i & 63);
        }
        computed[i] = text(f, c.computed);
        difference[i] = text(f, c.difference);
        tolerance[i] = text(f, c.tolerance);
        gap[i] = text(f, c.gap);
        gap_tolerance[i] = text(f, c.gap_tolerance);
        within[i] = c.within_tolerance;
        gap_within[i] = c.gap_within_tolerance;
        children[i] = c.children;
        for (std::size_t k = 0; k < c.explained_by.size(); ++k) {
            if (k) explained[i] += ' ';
            explained[i] += tree.id(res.rows[c.explained_by[k]].unit);
        }
    }
    result_table t;
    t.add_utf8("unit", unit, {}, false);
    t.add_utf8("field", field, {}, false);
    t.add_utf8("reported", reported, std::move(no_report));
    t.add_utf8("computed", computed, {}, false);
    t.add_utf8("difference", difference, {}, false);
    t.add_utf8("tolerance", tolerance, {}, false);
    t.add_utf8("gap", gap, {}, false);
    t.add_utf8("gap_tolerance", gap_tolerance, {}, false);
    t.add_bool("within_tolerance", within, {}, false);
    t.add_bool("gap_within_tolerance", gap_within, {}, false);
    t.add_int64("children", std::move(children), {}, false);
    t.add_utf8("explained_by", explained, {}, false);
    return t;
}

result_table missing_table(const hierarchy& tree, const completeness_result& res) {
    const std::size_t n = res.missing.size();
    std::vector<std::string> unit(n), name(n), level(n), kind(n), parent(n);
    std::vector<std::uint64_t> root;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t u = res.missing[i];
        unit[i] = tree.id(u);
        name[i] = std::string(tree.name(u));
        level[i] = to_string(tree.level(u));
        kind[i] = to_string(tree.kind(u));
        const std::size_t p = tree.parent(u);
        if (p < tree.size()) {
            parent[i] = tree.id(p);
        } else {
            if (root.empty()) root.assign((n + 63) / 64, 0);
            root[i >> 6] |= std::uint64_t(1) << (i & 63);
        }
    }
    result_table t;
    t.add_utf8("unit", unit, {}, false);
    t.add_utf8("name", name, {}, false);
    t.add_utf8("level", level, {}, false);
    t.add_utf8("kind", kind, {}, false);
    t.add_utf8("parent", parent, std::move(root));
    return t;
}

}  // namespace unionstat
