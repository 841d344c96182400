// Roll-up in named stages: match the reports to the units, plan once (which units are
// rows, who reports where), then per field either the leaves pass (a scatter-add of the
// leaves' column into the inner units' totals) followed by the inner pass (the inner
// units in topological order), or — for fields with blank cells, and as the overflow
// fallback — the reference pass: one forward scatter-add over the parent array of every
// unit in topological order. `none` fields are the own reports of the rows.
//
// Performance (national size, 2.8M leaves under ~3,400 inner units, 60 fields): a leaf's
// total is its own report, so by default nothing is written per leaf. The leaves pass
// reads each column once, front to back: a run of siblings reported in consecutive rows
// is summed in independent lanes and its sum added to the parent once, scattered leaves
// are added one by one; the inner totals of one column (27 KB) stay in L1/L2. So the
// roll-up costs about one read of the leaf columns (the reference ceiling), spread over
// the cores by field (detail::parallel_for).

#include "unionstat/graph/rollup.hpp"

#include <algorithm>
#include <memory>
#include <type_traits>

#include "../parallel_for.hpp"
#include "unionstat/graph/unit_rows.hpp"

namespace unionstat {

std::optional<std::size_t> rollup_result::row(std::size_t unit) const noexcept {
    const auto it = std::lower_bound(units.begin(), units.end(), unit);
    if (it == units.end() || *it != unit) return std::nullopt;
    return static_cast<std::size_t>(it - units.begin());
}

namespace {

constexpr std::uint32_t none = 0xFFFFFFFFu;

[[noreturn]] void overflow_at(const hierarchy& tree, std::size_t unit, const field_def& f) {
    location l;
    l.unit = tree.id(unit);
    l.field = f.code;
    throw overflow_error("the total of field " + f.code + " overflows at unit " + tree.id(unit), l);
}

// One reporting unit (or inner slot) and its row in the batch.
struct source_row {
    std::uint32_t at;
    std::uint32_t row;
};

// Consecutive batch rows row … row+len-1 of reporting leaves (units that are not rows of
// an inner-only result): all added to inner slot `dst` (siblings reported together: the
// run's sum is added once), or, with dst == mixed, row row+i added to slot
// mixed_dst[first + i].
struct leaf_run {
    static constexpr std::uint32_t mixed = 0xFFFFFFFFu;
    std::uint32_t row, len, dst, first;
};

// Siblings fewer than this in a row join a mixed run (the sum-then-add costs more).
constexpr std::uint32_t min_siblings = 16;

// What every field of one roll-up shares: made once, read by all the threads.
struct rollup_plan {
    std::size_t n = 0;                     // units in the tree
    std::size_t inner = 0;                 // inner slots: units with children along the line
    bool all = false;                      // every unit is a row of the result (rollup_options::leaves)
    std::vector<std::size_t> units;        // result row → unit (ascending)
    std::vector<std::uint32_t> slot;       // unit → inner slot, or none for a leaf
    std::vector<std::uint32_t> row_slot;   // result row → inner slot, or none (leaf rows, when `all`)
    std::vector<std::uint32_t> own_row;    // result row → batch row of its own counted report, or none
    std::vector<std::uint32_t> reports;    // reports counted, per unit
    std::vector<std::uint64_t> blank_sub;  // per result row: no report counted in its total
    std::vector<std::uint64_t> blank_own;  // per result row: its own report is not counted
    // The reference pass.
    std::vector<source_row> sources;            // (unit, row) counted along the primary scatter, by row
    std::vector<source_row> special;            // secondary line: (unit, row) with a secondary parent above, by row
    std::vector<std::uint32_t> anc_begin, anc;  // each special unit's distinct ancestors (itself first)
    // The leaves pass and the inner pass.
    std::vector<source_row> own;                              // (slot, row): inner units' own counted reports
    std::vector<leaf_run> runs;                               // the leaves' reports, in row order
    std::vector<std::uint32_t> mixed_dst;                     // slots of the rows of mixed runs
    std::vector<std::pair<std::uint32_t, std::uint32_t>> up;  // (slot, parent's slot) in topological order
};

// ---- stage 1: the plan ------------------------------------------------------------

// Inner units: children along the line. A result row per inner unit (every unit with `all`).
void plan_slots(const hierarchy& tree, bool primary, rollup_plan& p) {
    const auto& g = tree.graph();
    p.slot.assign(p.n, none);
    for (std::size_t u = 0; u < p.n; ++u) {
        const bool inner = primary ? !tree.is_leaf(u) : boost::out_degree(static_cast<std::uint32_t>(u), g) > 0;
        if (inner) p.slot[u] = static_cast<std::uint32_t>(p.inner++);
        if (inner || p.all) p.units.push_back(u);
    }
}

// Secondary line: a unit is "plain" when neither it nor any primary ancestor has a
// secondary parent; then the units above it are exactly its primary ancestors and it
// rolls up along the primary scatter-add. The others get explicit ancestor lists.
std::vector<std::uint8_t> plain_units(const hierarchy& tree) {
    const auto& g = tree.graph();
    std::vector<std::uint8_t> plain(tree.size(), 1);
    for (std::uint32_t u : tree.preorder()) {
        const std::size_t q = tree.parent(u);
        bool secondary = q != hierarchy::npos && !plain[q];
        for (auto [e, end] = boost::in_edges(u, g); e != end && !secondary; ++e) secondary = g[*e].along == line::secondary;
        plain[u] = !secondary;
    }
    return plain;
}

// What the reports feed, found in one pass over the units.
struct report_targets {
    std::vector<std::uint32_t> dst_of_row;  // batch row → inner slot its leaf report goes to, or none
    std::vector<std::uint32_t> own_of;      // unit → its counted row, or none
};

// Reporting units: counted where (primary scatter, special), their own rows, and for the
// leaves pass each leaf's destination slot by row. Consumes the match's rows.
report_targets plan_sources(const hierarchy& tree, std::size_t height, unit_rows& m, const rollup_options& options,
                            rollup_plan& p, rollup_result& out) {
    const bool primary = options.along == line::primary;
    const std::uint32_t* parent = tree.parent_array().data();
    const std::vector<std::uint8_t> plain = primary ? std::vector<std::uint8_t>() : plain_units(tree);
    report_targets t;
    t.dst_of_row.assign(height, none);
    t.own_of.assign(p.n, none);
    p.sources.reserve(m.matched);
    p.reports.assign(p.n, 0);
    for (std::size_t u = 0; u < p.n; ++u) {
        if (m.row[u] < 0) continue;
        const bool inner = p.slot[u] != none;
        const auto row = static_cast<std::uint32_t>(m.row[u]);
        if (inner && options.inner == inner_reports::ignore) {
            out.ignored_rows.push_back(row);
            continue;
        }
        t.own_of[u] = row;
        const source_row s{static_cast<std::uint32_t>(u), row};
        if (!primary && !plain[u]) {
            p.special.push_back(s);
            continue;
        }
        p.sources.push_back(s);
        p.reports[u] = 1;
        if (inner) p.own.push_back({p.slot[u], row});
        else if (parent[u] != hierarchy::root_parent) t.dst_of_row[row] = p.slot[parent[u]];
        // (a leaf root contributes to no inner total: only its own row, with `all`)
    }
    std::vector<std::int64_t>().swap(m.row);
    std::sort(out.ignored_rows.begin(), out.ignored_rows.end());
    // Rows in order so that input columns are read front to back (batches usually list
    // units in the tree's order: then there is nothing to sort).
    auto by_row = [](const source_row& a, const source_row& b) { return a.row < b.row; };
    for (auto* v : {&p.sources, &p.special, &p.own})
        if (!std::is_sorted(v->begin(), v->end(), by_row)) std::sort(v->begin(), v->end(), by_row);
    return t;
}

// The leaves' runs: consecutive rows going to one slot, shorter runs merged into mixed ones.
void plan_runs(const std::vector<std::uint32_t>& dst_of_row, rollup_plan& p) {
    const auto height = static_cast<std::uint32_t>(dst_of_row.size());
    for (std::uint32_t r = 0; r < height;) {
        const std::uint32_t d = dst_of_row[r];
        if (d == none) {
            ++r;
            continue;
        }
        const std::uint32_t start = r;
        while (r < height && dst_of_row[r] == d) ++r;
        const std::uint32_t len = r - start;
        if (len >= min_siblings) {
            p.runs.push_back({start, len, d, 0});
            continue;
        }
        leaf_run* last = p.runs.empty() ? nullptr : &p.runs.back();
        if (!last || last->dst != leaf_run::mixed || last->row + last->len != start) {
            p.runs.push_back({start, 0, leaf_run::mixed, static_cast<std::uint32_t>(p.mixed_dst.size())});
            last = &p.runs.back();
        }
        last->len += len;
        p.mixed_dst.insert(p.mixed_dst.end(), len, d);
    }
}

// The special units' distinct ancestors (itself first), as flat arrays.
void plan_ancestors(const hierarchy& tree, rollup_plan& p) {
    if (p.special.empty()) return;
    const auto& g = tree.graph();
    std::vector<std::uint32_t> stamp(p.n, none);
    p.anc_begin.reserve(p.special.size() + 1);
    for (std::uint32_t s = 0; s < p.special.size(); ++s) {
        p.anc_begin.push_back(static_cast<std::uint32_t>(p.anc.size()));
        const std::size_t first = p.anc.size();
        p.anc.push_back(p.special[s].at);
        stamp[p.special[s].at] = s;
        for (std::size_t k = first; k < p.anc.size(); ++k)
            for (auto [e, end] = boost::in_edges(p.anc[k], g); e != end; ++e) {
                const auto q = static_cast<std::uint32_t>(boost::source(*e, g));
                if (stamp[q] != s) {
                    stamp[q] = s;
                    p.anc.push_back(q);
                }
            }
    }
    p.anc_begin.push_back(static_cast<std::uint32_t>(p.anc.size()));
}

// Reports per unit, up the tree; the inner pass: inner units with a parent, in
// topological order (a unit's total is final when it is added to its parent's).
void plan_upward(const hierarchy& tree, rollup_plan& p) {
    const std::uint32_t* order = tree.topological_order().data();
    const std::uint32_t* parent = tree.parent_array().data();
    const std::size_t links = p.n - tree.roots().size();
    for (std::size_t k = 0; k < links; ++k) {
        const std::uint32_t v = order[k];
        p.reports[parent[v]] += p.reports[v];
        if (p.slot[v] != none) p.up.emplace_back(p.slot[v], p.slot[parent[v]]);
    }
    for (std::uint32_t a : p.anc) ++p.reports[a];
}

// Per result row: its slot, its own row, its reports and the shared blanks (the usual
// case of a field without blank cells).
void plan_rows(const std::vector<std::uint32_t>& own_of, rollup_plan& p, rollup_result& out) {
    const std::size_t rows = p.units.size();
    const std::size_t words = (rows + 63) / 64;
    p.row_slot.resize(rows);
    p.own_row.resize(rows);
    p.blank_sub.assign(words, 0);
    p.blank_own.assign(words, 0);
    out.reports.resize(rows);
    out.own_rows.resize(rows);
    for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t u = p.units[r];
        p.row_slot[r] = p.slot[u];
        p.own_row[r] = own_of[u];
        out.reports[r] = p.reports[u];
        out.own_rows[r] = own_of[u] == none ? -1 : static_cast<std::int64_t>(own_of[u]);
        p.blank_sub[r >> 6] |= std::uint64_t(p.reports[u] == 0) << (r & 63);
        p.blank_own[r >> 6] |= std::uint64_t(own_of[u] == none) << (r & 63);
    }
}

rollup_plan make_plan(const hierarchy& tree, const report_batch& batch, unit_rows& m, const rollup_options& options,
                      rollup_result& out) {
    rollup_plan p;
    p.n = tree.size();
    p.all = options.leaves;
    plan_slots(tree, options.along == line::primary, p);
    report_targets t = plan_sources(tree, batch.size(), m, options, p, out);
    plan_runs(t.dst_of_row, p);
    std::vector<std::uint32_t>().swap(t.dst_of_row);
    plan_ancestors(tree, p);
    plan_upward(tree, p);
    plan_rows(t.own_of, p, out);
    return p;
}

// ---- stage 2: the leaves pass -------------------------------------------------------

// Sums a run of reports (count_true: counts the non-zero ones). False when a value is
// negative or a partial sum overflows. Independent lanes (not one chain through memory);
// with no negative value a lane overflows exactly when its sign bit comes up, which the
// flags collect.
template <bool CountTrue, class T>
inline bool sum_run(const T* src, std::size_t len, std::int64_t& sum) {
    if constexpr (CountTrue) {  // 0/1 values: the sum is at most len
        std::uint64_t c = 0;
        for (std::size_t i = 0; i < len; ++i) c += src[i] != 0;
        sum = static_cast<std::int64_t>(c);
        return true;
    } else if constexpr (sizeof(T) == 4) {
        // 32-bit values: fewer than 2^32 of them cannot overflow the 64-bit sum; a
        // negative one still sends the field the reference way.
        std::int64_t total = 0;
        std::int32_t sign = 0;
        for (std::size_t i = 0; i < len; ++i) {
            total += src[i];
            sign |= src[i];
        }
        sum = total;
        return sign >= 0;
    } else {
        constexpr std::size_t L = 4;
        std::uint64_t lane[L] = {0, 0, 0, 0}, flags = 0;
        std::size_t i = 0;
        for (; i + L <= len; i += L)
            for (std::size_t j = 0; j < L; ++j) {
                lane[j] += static_cast<std::uint64_t>(src[i + j]);
                flags |= lane[j] | static_cast<std::uint64_t>(src[i + j]);
            }
        for (; i < len; ++i) {
            lane[0] += static_cast<std::uint64_t>(src[i]);
            flags |= lane[0] | static_cast<std::uint64_t>(src[i]);
        }
        if (flags >> 63) return false;
        std::int64_t total = 0;
        for (std::size_t j = 0; j < L; ++j)
            if (__builtin_add_overflow(total, static_cast<std::int64_t>(lane[j]), &total)) return false;
        sum = total;
        return true;
    }
}

// The inner totals of one field without blank cells, in `acc` (one entry per inner
// slot): the inner units' own reports, the leaves added run by run, then the inner
// units in topological order. This adds in another order than the reference pass, which
// is the same thing unless a partial sum overflows: so it stops at any overflow or
// negative value (`false`), and the caller redoes the field in the reference order (with
// no negative addend, a partial sum overflows in some order only if a total does, in
// every order). The secondary line's special units are added last, as in the reference
// pass, so their overflow is thrown here naming the same unit.
template <bool CountTrue, class T>
bool leaves_pass(const rollup_plan& p, const hierarchy& tree, const field_def& field, const T* in, std::int64_t* acc) {
    auto value = [in](std::uint32_t row) -> std::int64_t { return CountTrue ? std::int64_t(in[row] != 0) : in[row]; };
    std::fill(acc, acc + p.inner, 0);
    std::int64_t sign = 0;  // the OR of the values added one by one: negative when one is
    for (const source_row& s : p.own) sign |= acc[s.at] = value(s.row);
    bool bad = sign < 0;
    for (const leaf_run& run : p.runs) {
        if (bad) break;
        const T* x = in + run.row;
        if (run.dst != leaf_run::mixed) {
            std::int64_t sum = 0;
            bad |= !sum_run<CountTrue, T>(x, run.len, sum);
            bad |= __builtin_add_overflow(acc[run.dst], sum, &acc[run.dst]);
        } else {
            const std::uint32_t* d = p.mixed_dst.data() + run.first;
            for (std::size_t i = 0; i < run.len; ++i) {
                const std::int64_t v = CountTrue ? std::int64_t(x[i] != 0) : x[i];
                sign |= v;
                bad |= __builtin_add_overflow(acc[d[i]], v, &acc[d[i]]);
            }
        }
    }
    bad |= sign < 0;
    // ---- stage 3: the inner pass ----
    for (std::size_t k = 0; k < p.up.size() && !bad; ++k) {
        const auto [v, q] = p.up[k];
        bad |= __builtin_add_overflow(acc[q], acc[v], &acc[q]);
    }
    if (bad) return false;
    for (std::size_t s = 0; s < p.special.size(); ++s) {
        const std::int64_t v = value(p.special[s].row);
        for (std::uint32_t k = p.anc_begin[s]; k < p.anc_begin[s + 1]; ++k) {
            const std::uint32_t u = p.anc[k], sl = p.slot[u];
            if (sl != none && __builtin_add_overflow(acc[sl], v, &acc[sl])) overflow_at(tree, u, field);
        }
    }
    return true;
}

// ---- stage 4: the reference pass (fields with blanks; the overflow fallback) -----------

// The totals of every unit in `a` (n entries), in the reference order: own reports, the
// primary scatter-add along the topological order, then the special units' ancestors.
// `has` gets, per unit, whether any report counted in it is not blank (only when the
// field has blank cells). Throws overflow_error at the first partial sum that overflows.
template <class T>
void reference_pass(const rollup_plan& p, const hierarchy& tree, const report_batch& batch, std::size_t f, const T* values,
                    std::vector<std::int64_t>& a, std::vector<std::uint8_t>& has) {
    const field_def& field = batch.form().fields[f];
    const std::uint64_t* missing = batch.missing_bits(f);
    const bool count_true = field.agg == aggregation::count_true;
    const std::uint32_t* order = tree.topological_order().data();
    const std::uint32_t* parent = tree.parent_array().data();
    const std::size_t links = p.n - tree.roots().size();
    auto blank_at = [missing](std::uint32_t row) { return missing && ((missing[row >> 6] >> (row & 63)) & 1u); };
    a.assign(p.n, 0);
    if (missing) has.assign(p.n, 0);
    std::uint8_t* h = has.data();
    for (const auto& s : p.sources) {
        if (blank_at(s.row)) continue;
        const std::int64_t v = values[s.row];
        a[s.at] = count_true ? (v != 0) : v;
        if (missing) h[s.at] = 1;
    }
    // Children come before parents, so a[v] is final when read.
    for (std::size_t k = 0; k < links; ++k) {
        const std::uint32_t v = order[k];
        const std::uint32_t q = parent[v];
        if (__builtin_add_overflow(a[q], a[v], &a[q])) overflow_at(tree, q, field);
        if (missing) h[q] |= h[v];
    }
    for (std::size_t s = 0; s < p.special.size(); ++s) {
        const std::uint32_t row = p.special[s].row;
        if (blank_at(row)) continue;
        const std::int64_t v = count_true ? (values[row] != 0) : values[row];
        for (std::uint32_t k = p.anc_begin[s]; k < p.anc_begin[s + 1]; ++k) {
            const std::uint32_t u = p.anc[k];
            if (__builtin_add_overflow(a[u], v, &a[u])) overflow_at(tree, u, field);
            if (missing) h[u] = 1;
        }
    }
}

// Per-thread scratch.
struct scratch {
    std::vector<std::int64_t> acc, all;
    std::vector<std::uint8_t> has;
};

// One field's column of totals (`col`, one entry per result row) and its blanks.
template <class T>
std::vector<std::uint64_t> run_field(const rollup_plan& p, const hierarchy& tree, const report_batch& batch, std::size_t f,
                                     const T* in, std::int64_t* col, scratch& s) {
    const field_def& field = batch.form().fields[f];
    const std::uint64_t* missing = batch.missing_bits(f);
    const std::size_t rows = p.units.size();
    auto blank_at = [missing](std::uint32_t row) { return missing && ((missing[row >> 6] >> (row & 63)) & 1u); };

    if (field.agg == aggregation::none) {  // the rows' own reports
        std::vector<std::uint64_t> blank(p.blank_own);
        for (std::size_t r = 0; r < rows; ++r) {
            const std::uint32_t row = p.own_row[r];
            if (row == none) continue;
            if (blank_at(row)) blank[r >> 6] |= std::uint64_t(1) << (r & 63);
            else col[r] = in[row];
        }
        return blank;
    }

    const bool count_true = field.agg == aggregation::count_true;
    if (!missing) {
        // Inner-only: the leaves pass writes the result column itself.
        std::int64_t* acc = col;
        if (p.all) {
            s.acc.resize(p.inner);
            acc = s.acc.data();
        }
        const bool ok =
            count_true ? leaves_pass<true, T>(p, tree, field, in, acc) : leaves_pass<false, T>(p, tree, field, in, acc);
        if (ok) {
            if (p.all)  // the leaves' totals are their own reports
                for (std::size_t r = 0; r < rows; ++r) {
                    const std::uint32_t sl = p.row_slot[r], row = p.own_row[r];
                    col[r] = sl != none ? acc[sl] : row == none ? 0 : count_true ? (in[row] != 0) : in[row];
                }
            return p.blank_sub;
        }
    }
    reference_pass(p, tree, batch, f, in, s.all, s.has);
    for (std::size_t r = 0; r < rows; ++r) col[r] = s.all[p.units[r]];
    if (!missing) return p.blank_sub;
    std::vector<std::uint64_t> blank((rows + 63) / 64, 0);
    for (std::size_t r = 0; r < rows; ++r) blank[r >> 6] |= std::uint64_t(s.has[p.units[r]] == 0) << (r & 63);
    return blank;
}

}  // namespace

rollup_result rollup(const hierarchy& tree, const report_batch& batch, const rollup_options& options) {
    const std::size_t width = batch.width();
    rollup_result out{report_batch(batch.form_ptr()), {}, {}, {}, {}, {}, {}};

    unit_rows m = match_rows(tree, batch, options.period);
    out.unknown_rows = std::move(m.unknown_rows);
    out.unknown_units = std::move(m.unknown_units);
    const std::string period = m.period;
    const rollup_plan plan = make_plan(tree, batch, m, options, out);
    const std::size_t rows = plan.units.size();

    // The result columns: one buffer for all of them (fresh zero pages, huge pages where
    // the system gives them, each column on its own cache lines), filled in place and
    // lent to the result batch.
    const std::size_t stride = (rows + 7) / 8 * 8;
    const std::shared_ptr<std::int64_t> buffer =
        detail::zeroed_int64(stride * std::max<std::size_t>(width, 1), stride * width > (std::size_t(1) << 18));
    std::vector<std::vector<std::uint64_t>> blanks(width);

    // Task 0 sets the keys (the ids of the result rows, the period) while the other
    // threads start on the fields; task f + 1 is field f. Tasks in this order, an error
    // is the one a field-by-field pass meets first. Below ~1M cells read a thread costs
    // more than it saves.
    const bool small = batch.size() * width < (std::size_t(1) << 20);
    const unsigned threads = detail::thread_count(options.threads, small ? 1 : width);
    std::vector<scratch> scratches(threads);
    detail::parallel_for(width + 1, threads, [&](std::size_t task, unsigned worker) {
        if (task == 0) {
            std::vector<std::string> ids, periods(rows, period);
            ids.reserve(rows);
            for (std::size_t u : plan.units) ids.push_back(tree.id(u));
            out.totals.set_keys(std::move(ids), std::move(periods));  // blank columns cost nothing here
            return;
        }
        const std::size_t f = task - 1;
        const column_view in = batch.column(f);
        std::int64_t* col = buffer.get() + f * stride;
        blanks[f] = in.narrow() ? run_field(plan, tree, batch, f, in.int32(), col, scratches[worker])
                                : run_field(plan, tree, batch, f, in.int64(), col, scratches[worker]);
    });

    for (std::size_t f = 0; f < width; ++f) out.totals.borrow_column(f, buffer.get() + f * stride, buffer, std::move(blanks[f]));
    out.units = plan.units;
    return out;
}

}  // namespace unionstat
