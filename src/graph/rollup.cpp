// Roll-up: reports matched to units once, then per field one forward scatter-add over
// the parent array in topological order; on the secondary line, reports of units with a
// secondary parent somewhere above them are added to each of their distinct ancestors.
// Columns in, columns out; no per-unit maps.

#include "unionstat/graph/rollup.hpp"

#include <algorithm>

#include "unionstat/graph/unit_rows.hpp"

namespace unionstat {

namespace {

[[noreturn]] void overflow_at(const hierarchy& tree, std::size_t unit, const field_def& f) {
    location l;
    l.unit = tree.id(unit);
    l.field = f.code;
    throw overflow_error("the total of field " + f.code + " overflows at unit " + tree.id(unit), l);
}

// One reporting unit: its index and its row.
struct source_row {
    std::uint32_t at;
    std::uint32_t row;
};

}  // namespace

rollup_result rollup(const hierarchy& tree, const report_batch& batch, const rollup_options& options) {
    unit_rows m = match_rows(tree, batch, options.period);
    const std::size_t n = tree.size();
    const std::size_t width = batch.width();
    const bool primary = options.along == line::primary;
    const auto& form = batch.form();
    const auto& g = tree.graph();

    rollup_result out{report_batch(batch.form_ptr()), {}, std::move(m.unknown_rows), std::move(m.unknown_units), {}};
    out.totals.set_keys(tree.ids(), std::vector<std::string>(n, m.period));

    // Secondary line: a unit is "plain" when neither it nor any primary ancestor has a
    // secondary parent; then the units above it are exactly its primary ancestors and it
    // rolls up along the primary scatter-add. The others get explicit ancestor lists.
    std::vector<std::uint8_t> plain;
    if (!primary) {
        plain.assign(n, 1);
        for (std::uint32_t u : tree.preorder()) {
            const std::size_t p = tree.parent(u);
            bool secondary = p != hierarchy::npos && !plain[p];
            for (auto [e, end] = boost::in_edges(u, g); e != end && !secondary; ++e)
                secondary = g[*e].along == line::secondary;
            plain[u] = !secondary;
        }
    }

    // Reporting units, in row order so that input columns are read front to back.
    std::vector<source_row> sources, special;
    sources.reserve(m.matched);
    for (std::size_t u = 0; u < n; ++u) {
        if (m.row[u] < 0) continue;
        const bool inner = primary ? !tree.is_leaf(u) : boost::out_degree(u, g) > 0;
        if (inner && options.inner == inner_reports::ignore) {
            out.ignored_rows.push_back(static_cast<std::size_t>(m.row[u]));
            continue;
        }
        const source_row s{static_cast<std::uint32_t>(u), static_cast<std::uint32_t>(m.row[u])};
        (primary || plain[u] ? sources : special).push_back(s);
    }
    std::vector<std::int64_t>().swap(m.row);
    std::vector<std::uint8_t>().swap(plain);
    std::sort(out.ignored_rows.begin(), out.ignored_rows.end());
    auto by_row = [](const source_row& a, const source_row& b) { return a.row < b.row; };
    std::sort(sources.begin(), sources.end(), by_row);
    std::sort(special.begin(), special.end(), by_row);

    // The special units' distinct ancestors (itself first), as flat arrays.
    std::vector<std::uint32_t> anc_begin, anc;
    if (!special.empty()) {
        std::vector<std::uint32_t> stamp(n, 0xFFFFFFFFu);
        anc_begin.reserve(special.size() + 1);
        for (std::uint32_t s = 0; s < special.size(); ++s) {
            anc_begin.push_back(static_cast<std::uint32_t>(anc.size()));
            const std::size_t first = anc.size();
            anc.push_back(special[s].at);
            stamp[special[s].at] = s;
            for (std::size_t k = first; k < anc.size(); ++k)
                for (auto [e, end] = boost::in_edges(anc[k], g); e != end; ++e) {
                    const auto p = static_cast<std::uint32_t>(boost::source(*e, g));
                    if (stamp[p] != s) {
                        stamp[p] = s;
                        anc.push_back(p);
                    }
                }
        }
        anc_begin.push_back(static_cast<std::uint32_t>(anc.size()));
    }

    // The primary scatter-add: (child → parent) along the topological order, roots
    // (which come last) left out.
    const std::uint32_t* order = tree.topological_order().data();
    const std::uint32_t* parent = tree.parent_array().data();
    const std::size_t links = n - tree.roots().size();

    // Reports per unit.
    out.reports.assign(n, 0);
    for (const auto& s : sources) out.reports[s.at] = 1;
    for (std::size_t k = 0; k < links; ++k) out.reports[parent[order[k]]] += out.reports[order[k]];
    for (std::uint32_t a : anc) ++out.reports[a];

    std::vector<std::uint8_t> has(n);
    for (std::size_t f = 0; f < width; ++f) {
        const field_def& field = form.fields[f];
        const std::int64_t* values = batch.values(f);
        const std::uint64_t* missing = batch.missing_bits(f);
        const bool count_true = field.agg == aggregation::count_true;
        const bool adds = field.agg != aggregation::none;
        auto blank_at = [missing](std::uint32_t row) { return missing && ((missing[row >> 6] >> (row & 63)) & 1u); };
        std::vector<std::int64_t> column(n, 0);  // the accumulator is the result column
        std::int64_t* a = column.data();
        std::uint8_t* h = has.data();
        std::fill(has.begin(), has.end(), 0);
        for (const auto& s : sources) {
            if (blank_at(s.row)) continue;
            const std::int64_t v = values[s.row];
            a[s.at] = count_true ? (v != 0) : v;
            h[s.at] = 1;
        }
        if (adds) {
            // The hot loop: children come before parents, so a[v] is final when read.
            for (std::size_t k = 0; k < links; ++k) {
                const std::uint32_t v = order[k];
                const std::uint32_t q = parent[v];
                if (__builtin_add_overflow(a[q], a[v], &a[q])) overflow_at(tree, q, field);
                h[q] |= h[v];
            }
        }
        for (std::size_t s = 0; s < special.size(); ++s) {
            const std::uint32_t row = special[s].row;
            if (blank_at(row)) continue;
            const std::int64_t v = count_true ? (values[row] != 0) : values[row];
            const std::uint32_t last = adds ? anc_begin[s + 1] : anc_begin[s] + 1;
            for (std::uint32_t k = anc_begin[s]; k < last; ++k) {
                const std::uint32_t u = anc[k];
                if (__builtin_add_overflow(a[u], v, &a[u])) overflow_at(tree, u, field);
                h[u] = 1;
            }
        }
        std::vector<std::uint64_t> blank((n + 63) / 64, 0);
        for (std::size_t w = 0; w < blank.size(); ++w) {
            const std::size_t lo = w * 64, hi = std::min(n, lo + 64);
            std::uint64_t bits = 0;
            for (std::size_t u = lo; u < hi; ++u) bits |= std::uint64_t(h[u] == 0) << (u - lo);
            blank[w] = bits;
        }
        out.totals.set_column(f, std::move(column), std::move(blank));
    }
    return out;
}

}  // namespace unionstat
