// make_rule_inputs(): levels per row and, per field, the children's figures in one pass
// over the topological order (the `computed` of check()).

#include "unionstat/graph/rule_inputs.hpp"

#include "unionstat/graph/unit_rows.hpp"

namespace unionstat {

rule_inputs make_rule_inputs(const hierarchy& tree, const report_batch& batch, std::string_view period) {
    unit_rows m = match_rows(tree, batch, period);
    if (!m.unknown_rows.empty()) {
        const std::size_t r = m.unknown_rows.front();
        location l;
        l.row = static_cast<std::int64_t>(r);
        l.unit = batch.units()[r];
        throw lookup_error("unit " + batch.units()[r] + " is not in the tree", l);
    }
    rule_inputs out{{}, report_batch(batch.form_ptr())};
    out.levels.reserve(batch.size());
    for (const auto& id : batch.units()) {
        const auto u = tree.find(id);
        if (!u) {
            location l;
            l.unit = id;
            throw lookup_error("unit " + id + " is not in the tree", l);
        }
        out.levels.push_back(tree.level(*u));
    }
    out.children.set_keys(batch.units(), batch.periods());

    const std::size_t n = tree.size();
    const auto& order = tree.topological_order();
    const auto& parent = tree.parent_array();
    std::vector<std::int64_t> loc(n);
    std::vector<std::uint8_t> has(n);
    for (std::size_t f = 0; f < batch.width(); ++f) {
        const field_def& field = batch.form().fields[f];
        const column_view values = batch.column(f);
        const std::uint64_t* missing = batch.missing_bits(f);
        std::vector<std::int64_t> column(batch.size(), 0);
        std::vector<std::uint64_t> blank((batch.size() + 63) / 64, ~std::uint64_t(0));
        if (field.agg != aggregation::none) {
            std::fill(loc.begin(), loc.end(), 0);
            std::fill(has.begin(), has.end(), 0);
            const bool count_true = field.agg == aggregation::count_true;
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t u = order[k];
                const std::int64_t r = m.row[u];
                const bool reported = r >= 0 && !(missing && ((missing[static_cast<std::size_t>(r) >> 6] >> (r & 63)) & 1u));
                if (r >= 0 && has[u]) {
                    column[static_cast<std::size_t>(r)] = loc[u];
                    blank[static_cast<std::size_t>(r) >> 6] &= ~(std::uint64_t(1) << (r & 63));
                }
                const std::uint32_t q = parent[u];
                if (q == hierarchy::root_parent) continue;
                std::int64_t up = 0;
                if (reported) up = count_true ? (values[r] != 0) : values[r];
                else if (has[u] && !count_true) up = loc[u];
                else continue;
                if (__builtin_add_overflow(loc[q], up, &loc[q])) {
                    location l;
                    l.unit = tree.id(q);
                    l.field = field.code;
                    throw overflow_error("the children's total of field " + field.code + " overflows at unit " + tree.id(q), l);
                }
                has[q] = 1;
            }
        }
        out.children.set_column(f, std::move(column), std::move(blank));
    }
    return out;
}

}  // namespace unionstat
