// Roll-up: reports matched to units once, then per field one forward scatter-add over
// the parent array in topological order (primary line), or over each report's distinct
// ancestors (secondary line). Columns in, columns out; no per-unit maps.

#include "unionstat/graph/rollup.hpp"

#include <algorithm>
#include <unordered_set>

#include "unionstat/graph/unit_rows.hpp"

namespace unionstat {

unit_rows match_rows(const hierarchy& tree, const report_batch& batch, std::string_view period) {
    unit_rows m;
    const auto& periods = batch.periods();
    const auto& units = batch.units();
    if (period.empty()) {
        std::vector<std::string> seen;
        for (const auto& p : periods)
            if (!p.empty() && std::find(seen.begin(), seen.end(), p) == seen.end()) {
                seen.push_back(p);
                if (seen.size() > 8) break;
            }
        if (seen.size() > 1) {
            std::string list;
            for (const auto& p : seen) list += (list.empty() ? "" : ", ") + p;
            throw value_error("the batch holds reports of several periods (" + list +
                              (seen.size() > 8 ? ", …" : "") + "); choose one");
        }
        if (!seen.empty()) m.period = seen.front();
    } else {
        m.period = std::string(period);
    }
    m.row.assign(tree.size(), -1);
    std::unordered_set<std::string_view> unknown;
    for (std::size_t r = 0; r < batch.size(); ++r) {
        // A row without a period belongs to whichever period is asked for.
        if (!periods[r].empty() && periods[r] != m.period) continue;
        const auto u = tree.find(units[r]);
        if (!u) {
            m.unknown_rows.push_back(r);
            if (unknown.insert(units[r]).second) m.unknown_units.push_back(units[r]);
            continue;
        }
        if (m.row[*u] >= 0) {
            location l;
            l.row = static_cast<std::int64_t>(r);
            l.unit = units[r];
            throw value_error("unit " + units[r] + " reports twice" +
                                  (m.period.empty() ? std::string() : " in period " + m.period) + " (rows " +
                                  std::to_string(m.row[*u] + 1) + " and " + std::to_string(r + 1) + ")",
                              l);
        }
        m.row[*u] = static_cast<std::int64_t>(r);
        ++m.matched;
    }
    return m;
}

namespace {

[[noreturn]] void overflow_at(const hierarchy& tree, std::size_t unit, const field_def& f) {
    location l;
    l.unit = tree.id(unit);
    l.field = f.code;
    throw overflow_error("the total of field " + f.code + " overflows at unit " + tree.id(unit), l);
}

void set_missing_bit(std::vector<std::uint64_t>& bits, std::size_t i) { bits[i >> 6] |= std::uint64_t(1) << (i & 63); }

// One reporting unit: its position (primary) or index (secondary) and its row.
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

    rollup_result out{report_batch(batch.form_ptr()), {}, std::move(m.unknown_rows), std::move(m.unknown_units), {}};
    out.totals.set_keys(tree.ids(), std::vector<std::string>(n, m.period));

    // Reporting units, in the order they are written: topological position (primary)
    // or unit index (secondary).
    const auto& pos = tree.topological_position();
    std::vector<source_row> sources;
    sources.reserve(m.matched);
    for (std::size_t u = 0; u < n; ++u) {
        if (m.row[u] < 0) continue;
        const bool inner = primary ? !tree.is_leaf(u) : boost::out_degree(u, tree.graph()) > 0;
        if (inner && options.inner == inner_reports::ignore) {
            out.ignored_rows.push_back(static_cast<std::size_t>(m.row[u]));
            continue;
        }
        sources.push_back({primary ? pos[u] : static_cast<std::uint32_t>(u), static_cast<std::uint32_t>(m.row[u])});
    }
    std::sort(out.ignored_rows.begin(), out.ignored_rows.end());
    std::sort(sources.begin(), sources.end(), [](const source_row& a, const source_row& b) { return a.at < b.at; });
    std::vector<std::int64_t>().swap(m.row);

    // Secondary line: each source's distinct ancestors (itself first), as flat arrays.
    std::vector<std::uint32_t> anc_begin, anc;
    if (!primary) {
        const auto& g = tree.graph();
        std::vector<std::uint32_t> stamp(n, 0xFFFFFFFFu);
        anc_begin.reserve(sources.size() + 1);
        for (std::uint32_t s = 0; s < sources.size(); ++s) {
            anc_begin.push_back(static_cast<std::uint32_t>(anc.size()));
            const std::size_t first = anc.size();
            anc.push_back(sources[s].at);
            stamp[sources[s].at] = s;
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

    const auto& topo = tree.topological_order();
    const auto& up = tree.topological_parent();
    // Reports per unit.
    {
        std::vector<std::uint32_t> count(n, 0);
        if (primary) {
            for (const auto& s : sources) count[s.at] = 1;
            for (std::size_t p = 0; p < n; ++p)
                if (up[p] >= 0) count[static_cast<std::size_t>(up[p])] += count[p];
            out.reports.resize(n);
            for (std::size_t u = 0; u < n; ++u) out.reports[u] = count[pos[u]];
        } else {
            for (std::uint32_t a : anc) ++count[a];
            out.reports = std::move(count);
        }
    }

    std::vector<std::int64_t> acc(n);
    std::vector<std::uint8_t> has(n);
    for (std::size_t f = 0; f < width; ++f) {
        const field_def& field = form.fields[f];
        const std::int64_t* values = batch.values(f);
        const std::uint64_t* missing = batch.missing_bits(f);
        std::fill(acc.begin(), acc.end(), 0);
        std::fill(has.begin(), has.end(), 0);
        auto value_of = [&](std::uint32_t row, std::int64_t& v) {
            if (missing && ((missing[row >> 6] >> (row & 63)) & 1u)) return false;
            v = values[row];
            if (field.agg == aggregation::count_true) v = v != 0;
            return true;
        };
        if (field.agg == aggregation::none || primary) {
            for (const auto& s : sources) {
                std::int64_t v;
                if (!value_of(s.row, v)) continue;
                acc[s.at] = v;
                has[s.at] = 1;
            }
        } else {
            for (std::size_t s = 0; s < sources.size(); ++s) {
                std::int64_t v;
                if (!value_of(sources[s].row, v)) continue;
                for (std::uint32_t k = anc_begin[s]; k < anc_begin[s + 1]; ++k) {
                    const std::uint32_t a = anc[k];
                    if (__builtin_add_overflow(acc[a], v, &acc[a])) overflow_at(tree, a, field);
                    has[a] = 1;
                }
            }
        }
        if (primary && field.agg != aggregation::none) {
            // The hot loop: children come before parents, so acc[p] is final when read.
            const std::int32_t* parent = up.data();
            std::int64_t* a = acc.data();
            std::uint8_t* h = has.data();
            for (std::size_t p = 0; p < n; ++p) {
                const std::int32_t q = parent[p];
                if (q < 0) continue;
                if (__builtin_add_overflow(a[q], a[p], &a[q])) overflow_at(tree, topo[static_cast<std::size_t>(q)], field);
                h[q] |= h[p];
            }
        }
        std::vector<std::int64_t> column(n);
        std::vector<std::uint64_t> blank((n + 63) / 64, 0);
        if (primary) {
            for (std::size_t u = 0; u < n; ++u) {
                const std::uint32_t p = pos[u];
                column[u] = acc[p];
                if (!has[p]) set_missing_bit(blank, u);
            }
        } else {
            for (std::size_t u = 0; u < n; ++u) {
                column[u] = acc[u];
                if (!has[u]) set_missing_bit(blank, u);
            }
        }
        out.totals.set_column(f, std::move(column), std::move(blank));
    }
    return out;
}

}  // namespace unionstat
