// Roll-up: reports matched to units once, then per field one forward scatter-add over
// the parent array in topological order; on the secondary line, reports of units with a
// secondary parent somewhere above them are added to each of their distinct ancestors.
// Columns in, columns out; no per-unit maps.
//
// Performance (national size, 2.8M units x 60 fields): the work is memory traffic —
// read the reports once, write the totals once — and the page faults of the fresh
// result memory. So: the totals are summed in place in one buffer of fresh zero pages
// on huge pages and lent to the result batch (no zero-fill, no copy); fields without
// blank cells go through the tree 8 at a time (scatter_block: one pass over the order
// and parent arrays for 8 columns, each report put in place at its turn); work items
// are spread over the cores, and the result's keys are made on a second thread while
// this one plans.

#include "unionstat/graph/rollup.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "unionstat/graph/unit_rows.hpp"

#if defined(__SSE2__) && (defined(__x86_64__) || defined(_M_X64))
#include <immintrin.h>
#define UNIONSTAT_STREAM_STORES 1
#endif

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

constexpr std::uint32_t no_row = 0xFFFFFFFFu;

// Room for n elements, on huge pages where the system gives them: the large working
// arrays are written once right away, and at national size 4 KiB page faults cost as
// much as the work.
template <class T>
void reserve_huge(std::vector<T>& v, std::size_t n) {
    v.reserve(n);
    detail::advise_huge(v.data(), n * sizeof(T));
}

// The primary scatter-add of B fields at once, in one pass over the topological order
// (the order, parent and row arrays are read once for the B fields). `leaf_row[k]` is
// the row of the report of the unit at position k when that unit has a parent and no
// children (nothing is added into it, so its report is put in place at its turn);
// every other report is in place before. The additions are those of the field-by-field
// pass, in the same order. Returns false on overflow (the caller then redoes the fields
// one by one to throw the error of the first).
template <bool CountTrue, std::size_t B>
bool scatter_block(std::int64_t* const* col, const std::int64_t* const* values, const std::uint32_t* order,
                   const std::uint32_t* parent, const std::uint32_t* leaf_row, std::size_t links) {
    std::int64_t* a[B];
    const std::int64_t* in[B];
    for (std::size_t b = 0; b < B; ++b) {
        a[b] = col[b];
        in[b] = values[b];
    }
    bool bad = false;
    for (std::size_t k = 0; k < links; ++k) {
        const std::uint32_t v = order[k];
        const std::uint32_t q = parent[v];
        const std::uint32_t r = leaf_row[k];
        if (r != no_row) {
            for (std::size_t b = 0; b < B; ++b) {
                const std::int64_t x = CountTrue ? std::int64_t(in[b][r] != 0) : in[b][r];
#ifdef UNIONSTAT_STREAM_STORES
                _mm_stream_si64(reinterpret_cast<long long*>(a[b] + v), x);  // written once, read by no one here
#else
                a[b][v] = x;
#endif
                bad |= __builtin_add_overflow(a[b][q], x, &a[b][q]);
            }
        } else {
            for (std::size_t b = 0; b < B; ++b) bad |= __builtin_add_overflow(a[b][q], a[b][v], &a[b][q]);
        }
        if (bad) break;
    }
#ifdef UNIONSTAT_STREAM_STORES
    _mm_sfence();  // the streamed totals are in memory before anyone reads them
#endif
    return !bad;
}

template <bool CountTrue>
bool scatter_block(std::size_t width, std::int64_t* const* col, const std::int64_t* const* values,
                   const std::uint32_t* order, const std::uint32_t* parent, const std::uint32_t* leaf_row,
                   std::size_t links) {
    switch (width) {
        case 1: return scatter_block<CountTrue, 1>(col, values, order, parent, leaf_row, links);
        case 2: return scatter_block<CountTrue, 2>(col, values, order, parent, leaf_row, links);
        case 3: return scatter_block<CountTrue, 3>(col, values, order, parent, leaf_row, links);
        default: return scatter_block<CountTrue, 4>(col, values, order, parent, leaf_row, links);
    }
}

}  // namespace

rollup_result rollup(const hierarchy& tree, const report_batch& batch, const rollup_options& options) {
    const std::size_t n = tree.size();
    const std::size_t width = batch.width();
    const bool primary = options.along == line::primary;
    const auto& form = batch.form();
    const auto& g = tree.graph();

    rollup_result out{report_batch(batch.form_ptr()), {}, {}, {}, {}};
    unit_rows m;  // matched below, once the helper thread runs

    // The primary scatter-add: (child → parent) along the topological order, roots
    // (which come last) left out.
    const std::uint32_t* order = tree.topological_order().data();
    const std::uint32_t* parent = tree.parent_array().data();
    const std::size_t links = n - tree.roots().size();

    // ---- threads ------------------------------------------------------------------
    // Below ~1M cells a thread costs more than it saves.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t threads = n * width < (std::size_t(1) << 20) ? 1 : std::min<std::size_t>(cores, width);

    // The plan, filled below before any worker starts (the gate).
    std::vector<source_row> sources, special, early;
    std::vector<std::uint32_t> anc_begin, anc, leaf_row;
    const std::size_t words = (n + 63) / 64;
    std::vector<std::uint64_t> blank_sub, blank_own;
    const std::size_t stride = (n + 7) / 8 * 8;
    std::shared_ptr<std::int64_t> buffer;
    struct item {
        std::size_t first, count;
        bool fused;
    };
    constexpr std::size_t block = 4;
    std::vector<item> items;
    std::vector<std::vector<std::uint64_t>> blanks(width);
    std::vector<std::exception_ptr> errors(width);
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> failed{width};

    // One field the plain way: its column of totals in place (the buffer starts at
    // zero) and its blanks. `has` is per-thread scratch for fields with blank cells.
    auto run_field = [&](std::size_t f, std::vector<std::uint8_t>& has) {
        const field_def& field = form.fields[f];
        const std::int64_t* values = batch.values(f);
        const std::uint64_t* missing = batch.missing_bits(f);
        const bool count_true = field.agg == aggregation::count_true;
        const bool adds = field.agg != aggregation::none;
        std::int64_t* a = buffer.get() + f * stride;
        auto blank_at = [missing](std::uint32_t row) { return missing && ((missing[row >> 6] >> (row & 63)) & 1u); };
        if (missing) has.assign(n, 0);
        std::uint8_t* h = has.data();
        for (const auto& s : sources) {
            if (blank_at(s.row)) continue;
            const std::int64_t v = values[s.row];
            a[s.at] = count_true ? (v != 0) : v;
            if (missing) h[s.at] = 1;
        }
        if (adds) {
            // Children come before parents, so a[v] is final when read.
            for (std::size_t k = 0; k < links; ++k) {
                const std::uint32_t v = order[k];
                const std::uint32_t q = parent[v];
                if (__builtin_add_overflow(a[q], a[v], &a[q])) overflow_at(tree, q, field);
                if (missing) h[q] |= h[v];
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
                if (missing) h[u] = 1;
            }
        }
        if (!missing) {  // every report in play counts: the shared blanks
            blanks[f] = adds ? blank_sub : blank_own;
            return;
        }
        std::vector<std::uint64_t> blank(words, 0);
        for (std::size_t w = 0; w < words; ++w) {
            const std::size_t lo = w * 64, hi = std::min(n, lo + 64);
            std::uint64_t bits = 0;
            for (std::size_t u = lo; u < hi; ++u) bits |= std::uint64_t(h[u] == 0) << (u - lo);
            blank[w] = bits;
        }
        blanks[f] = std::move(blank);
    };

    // Up to 8 fields that add, with no blank cell, through the tree together.
    auto run_fused = [&](const item& it) {
        std::int64_t* col[block] = {};
        const std::int64_t* in[block] = {};
        const bool count_true = form.fields[it.first].agg == aggregation::count_true;
        for (std::size_t b = 0; b < it.count; ++b) {
            col[b] = buffer.get() + (it.first + b) * stride;
            in[b] = batch.values(it.first + b);
            for (const auto& s : early) col[b][s.at] = count_true ? (in[b][s.row] != 0) : in[b][s.row];
        }
        const bool ok = count_true ? scatter_block<true>(it.count, col, in, order, parent, leaf_row.data(), links)
                                   : scatter_block<false>(it.count, col, in, order, parent, leaf_row.data(), links);
        if (!ok) return false;
        for (std::size_t b = 0; b < it.count; ++b) {
            const std::size_t f = it.first + b;
            const field_def& field = form.fields[f];
            for (std::size_t s = 0; s < special.size(); ++s) {
                const std::int64_t v = count_true ? (in[b][special[s].row] != 0) : in[b][special[s].row];
                for (std::uint32_t k = anc_begin[s]; k < anc_begin[s + 1]; ++k) {
                    const std::uint32_t u = anc[k];
                    if (__builtin_add_overflow(col[b][u], v, &col[b][u])) overflow_at(tree, u, field);
                }
            }
            blanks[f] = blank_sub;
        }
        return true;
    };

    // Each thread takes the next work item. After an overflow no later item is started;
    // the error thrown is the one of the first field that overflows, as in a
    // field-by-field pass (a fused item that overflows is redone field by field from zero).
    auto worker = [&] {
        std::vector<std::uint8_t> has;
        for (std::size_t i; (i = next.fetch_add(1)) < items.size();) {
            const item& it = items[i];
            if (it.first > failed.load()) break;
            std::size_t f = it.first;
            try {
                if (it.fused && run_fused(it)) continue;
                if (it.fused) std::fill(buffer.get() + f * stride, buffer.get() + (f + it.count) * stride, 0);
                for (; f < it.first + it.count; ++f) run_field(f, has);
            } catch (...) {
                errors[f] = std::current_exception();
                for (std::size_t was = failed.load(); f < was && !failed.compare_exchange_weak(was, f);) {
                }
            }
        }
    };

    // The gate: helper threads wait for the match (the period of the keys), then for the
    // plan, then work; they leave if either fails.
    std::mutex gate_mutex;
    std::condition_variable gate_cv;
    enum class gate_state { closed, matched, open, cancelled };  // in this order
    gate_state gate = gate_state::closed;
    auto set_gate = [&](gate_state s) {
        {
            std::lock_guard<std::mutex> lock(gate_mutex);
            gate = s;
        }
        gate_cv.notify_all();
    };
    auto wait_gate = [&](gate_state s) {  // false when cancelled
        std::unique_lock<std::mutex> lock(gate_mutex);
        gate_cv.wait(lock, [&] { return gate >= s; });
        return gate != gate_state::cancelled;
    };

    // The result's keys need nothing of the plan: the first helper thread makes them
    // while this thread matches and plans (the ids right away, the periods once the
    // period is known).
    std::exception_ptr keys_error;
    auto make_keys = [&](bool helper) {
        try {
            std::vector<std::string> ids, periods;
            reserve_huge(ids, n);
            ids.assign(tree.ids().begin(), tree.ids().end());
            if (helper && !wait_gate(gate_state::matched)) return;
            reserve_huge(periods, n);
            periods.assign(n, m.period);
            out.totals.set_keys(std::move(ids), std::move(periods));  // blank columns cost nothing here
        } catch (...) {
            keys_error = std::current_exception();
            failed.store(0);
        }
    };

    std::vector<std::thread> pool;
    struct joiner {
        std::vector<std::thread>& pool;
        std::function<void()> cancel;
        ~joiner() {
            if (pool.empty()) return;
            cancel();  // no-op once the gate is open
            for (auto& th : pool) th.join();
        }
    } join_pool{pool, [&] {
                    std::lock_guard<std::mutex> lock(gate_mutex);
                    if (gate != gate_state::open) gate = gate_state::cancelled;
                    gate_cv.notify_all();
                }};
    for (std::size_t t = 1; t < threads; ++t) {
        try {
            pool.emplace_back([&, t] {
                if (t == 1) make_keys(true);
                if (wait_gate(gate_state::open)) worker();
            });
        } catch (...) {  // no thread to be had: the others (and this one) do the work
            break;
        }
    }
    const bool keys_here = pool.empty();

    m = match_rows(tree, batch, options.period);
    out.unknown_rows = std::move(m.unknown_rows);
    out.unknown_units = std::move(m.unknown_units);
    set_gate(gate_state::matched);

    // ---- the plan -----------------------------------------------------------------
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
    reserve_huge(sources, m.matched);
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
    std::vector<std::uint8_t>().swap(plain);
    std::sort(out.ignored_rows.begin(), out.ignored_rows.end());
    auto by_row = [](const source_row& a, const source_row& b) { return a.row < b.row; };
    // (Batches usually list units in the tree's order: then there is nothing to sort.)
    if (!std::is_sorted(sources.begin(), sources.end(), by_row)) std::sort(sources.begin(), sources.end(), by_row);
    if (!std::is_sorted(special.begin(), special.end(), by_row)) std::sort(special.begin(), special.end(), by_row);

    // The special units' distinct ancestors (itself first), as flat arrays.
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

    // Reports per unit.
    reserve_huge(out.reports, n);
    out.reports.assign(n, 0);
    for (const auto& s : sources) out.reports[s.at] = 1;
    for (std::size_t k = 0; k < links; ++k) out.reports[parent[order[k]]] += out.reports[order[k]];
    for (std::uint32_t a : anc) ++out.reports[a];

    // Blank totals when no report in play has a blank cell in the field (the usual
    // case): shared by every such field instead of tracking "has a value" per unit.
    // sub: no report counted in the unit's total; own: the unit did not report itself.
    blank_sub.assign(words, 0);
    blank_own.assign(words, 0);
    {
        std::vector<std::uint8_t> own(n, 0);
        for (const auto& s : sources) own[s.at] = 1;
        for (const auto& s : special) own[s.at] = 1;
        for (std::size_t u = 0; u < n; ++u) {
            blank_sub[u >> 6] |= std::uint64_t(out.reports[u] == 0) << (u & 63);
            blank_own[u >> 6] |= std::uint64_t(own[u] == 0) << (u & 63);
        }
    }

    // The result columns: one buffer for all of them (fresh zero pages, huge pages where
    // the system gives them, each column on its own cache lines), filled in place and
    // lent to the result batch.
    buffer = detail::zeroed_int64(stride * std::max<std::size_t>(width, 1), true);

    // The fused pass (scatter_block): reports of units with a parent and no children are
    // read at their turn (leaf_row, by topological position); the others first (early).
    const std::uint32_t* position = tree.topological_position().data();
    reserve_huge(leaf_row, links);
    leaf_row.assign(links, no_row);
    for (const auto& s : sources) {
        const std::uint32_t k = position[s.at];
        if (k < links && tree.is_leaf(s.at)) leaf_row[k] = s.row;
        else early.push_back(s);
    }
    std::vector<std::int64_t>().swap(m.row);

    // Work items: up to 8 consecutive fields that add (sum, count_true alike) with no
    // blank cell go through the fused pass together; any other field goes alone.
    auto fusable = [&](std::size_t f) { return !batch.missing_bits(f) && form.fields[f].agg != aggregation::none; };
    for (std::size_t f = 0; f < width;) {
        std::size_t e = f + 1;
        if (fusable(f))
            while (e < width && e - f < block && fusable(e) && form.fields[e].agg == form.fields[f].agg) ++e;
        items.push_back({f, e - f, fusable(f)});
        f = e;
    }

    // ---- the work -----------------------------------------------------------------
    set_gate(gate_state::open);
    if (keys_here) make_keys(false);
    worker();
    for (auto& th : pool) th.join();
    pool.clear();
    if (keys_error) std::rethrow_exception(keys_error);
    for (std::size_t f = 0; f < width; ++f)
        if (errors[f]) std::rethrow_exception(errors[f]);

    for (std::size_t f = 0; f < width; ++f)
        out.totals.borrow_column(f, buffer.get() + f * stride, buffer, std::move(blanks[f]));
    return out;
}

}  // namespace unionstat
