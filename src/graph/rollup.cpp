// Roll-up: reports matched to units once, then per field one forward scatter-add over
// the parent array in topological order; on the secondary line, reports of units with a
// secondary parent somewhere above them are added to each of their distinct ancestors.
// Columns in, columns out; no per-unit maps.
//
// Performance (national size, 2.8M units x 60 fields): the work is memory traffic —
// read the reports once, write the totals once — plus the page faults of the fresh
// result memory. So: the totals are summed in place in one buffer of fresh zero pages
// on huge pages and lent to the result batch (no zero-fill, no copy); fields without
// blank cells go leaves first (leaves_first: each segment of reporting siblings copied
// to their totals past the cache and summed in SIMD lanes, the sum added to the parent
// once; scattered leaves added one by one; then the few inner units in topological
// order); fields are spread over the cores, and the result's keys are made on a second
// thread while this one matches and plans.

#include "unionstat/graph/rollup.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>

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

// Room for n elements, on huge pages where the system gives them: the large working
// arrays are written once right away, and at national size 4 KiB page faults cost as
// much as the work.
template <class T>
void reserve_huge(std::vector<T>& v, std::size_t n) {
    v.reserve(n);
    detail::advise_huge(v.data(), n * sizeof(T));
}

// A segment of reporting leaves: units at, at+1, …, at+len-1 (each with a parent and no
// children) whose reports are rows row, row+1, … (a batch listed in the tree's order
// makes long segments). Either all under one parent (`parent`), when the tree lists
// siblings together — then the segment's sum is added to the parent once — or `mixed`,
// each leaf added to its own parent.
struct leaf_segment {
    static constexpr std::uint32_t mixed = 0xFFFFFFFFu;
    std::uint32_t at, row, len, parent;
};

// Siblings fewer than this in a row join a mixed segment.
constexpr std::uint32_t min_siblings = 16;

// A leaf's total, written past the cache: no one reads it here.
inline void put(std::int64_t* dst, std::int64_t v) {
#ifdef UNIONSTAT_STREAM_STORES
    _mm_stream_si64(reinterpret_cast<long long*>(dst), v);
#else
    *dst = v;
#endif
}

// The leaves' totals are their own reports: copied over, streamed past the cache (no one
// reads them here), and summed on the way into `sum`. False when a value is negative or
// a partial sum overflows. The sum has independent lanes (not one chain through memory);
// with no negative value a lane overflows exactly when its sign bit comes up, which the
// flags collect.
template <bool CountTrue, class T>
inline bool copy_and_sum(std::int64_t* dst, const T* src, std::size_t len, std::int64_t& sum) {
    std::size_t i = 0;
    std::uint64_t head = 0, flags = 0;
    if constexpr (CountTrue) {  // 0/1 values: the sum is at most len
        for (; i < len; ++i) {
            const std::int64_t v = src[i] != 0;
            put(dst + i, v);
            head += static_cast<std::uint64_t>(v);
        }
        sum = static_cast<std::int64_t>(head);
        return true;
    }
    if constexpr (sizeof(T) == 4) {
        // 32-bit values: fewer than 2^32 of them cannot overflow the 64-bit sum; a
        // negative one still sends the field the reference way.
        std::int64_t total = 0, sign = 0;
        for (; i < len; ++i) {
            put(dst + i, src[i]);
            total += src[i];
            sign |= src[i];
        }
        sum = total;
        return sign >= 0;
    }
    std::uint64_t lane[2] = {0, 0};
#ifdef UNIONSTAT_STREAM_STORES
    for (; i < len && (reinterpret_cast<std::uintptr_t>(dst + i) & 15); ++i) {
        put(dst + i, src[i]);
        head += static_cast<std::uint64_t>(src[i]);
        flags |= head | static_cast<std::uint64_t>(src[i]);
    }
    __m128i acc = _mm_setzero_si128(), seen = _mm_setzero_si128();
    for (; i + 2 <= len; i += 2) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
        _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i), x);
        acc = _mm_add_epi64(acc, x);
        seen = _mm_or_si128(seen, _mm_or_si128(acc, x));
    }
    std::uint64_t s[2];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(s), seen);
    flags |= s[0] | s[1];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lane), acc);
#endif
    for (; i < len; ++i) {
        put(dst + i, src[i]);
        head += static_cast<std::uint64_t>(src[i]);
        flags |= head | static_cast<std::uint64_t>(src[i]);
    }
    if (flags >> 63) return false;
    std::int64_t total = static_cast<std::int64_t>(head);
    return !__builtin_add_overflow(total, static_cast<std::int64_t>(lane[0]), &total) &&
           !__builtin_add_overflow(total, static_cast<std::int64_t>(lane[1]), &sum);
}

// The primary scatter-add of one field, leaves first: each segment of reporting leaves
// copied to the leaves' totals and its sum added to the parent's, then the few inner
// units in topological order (a unit's total is final when it is added to its
// parent's). The reports of inner units and roots are in place before. This adds in
// another order than the field-by-field pass, which is the same thing unless a partial
// sum overflows: so it stops at any overflow or negative value (`false`), and the
// caller then redoes the field in the reference order (with no negative addend, a
// partial sum overflows in some order only if a total does, in every order).
template <bool CountTrue, class T>
bool leaves_first(std::int64_t* t, const T* in, const std::uint32_t* parent,
                  const std::vector<leaf_segment>& segments, const std::vector<std::uint32_t>& inner) {
    bool bad = false;
    std::int64_t sign = 0;  // the OR of the values of mixed segments: negative when one is
    for (const leaf_segment& seg : segments) {
        if (seg.parent != leaf_segment::mixed) {
            std::int64_t sum = 0;
            bad |= !copy_and_sum<CountTrue, T>(t + seg.at, in + seg.row, seg.len, sum);
            bad |= __builtin_add_overflow(t[seg.parent], sum, &t[seg.parent]);
        } else {
            const T* x = in + seg.row;
            const std::uint32_t* up = parent + seg.at;
            std::int64_t* own = t + seg.at;
            for (std::size_t i = 0; i < seg.len; ++i) {
                const std::int64_t v = CountTrue ? std::int64_t(x[i] != 0) : x[i];
                put(own + i, v);
                sign |= v;
                bad |= __builtin_add_overflow(t[up[i]], v, &t[up[i]]);
            }
        }
        if (bad) break;
    }
    bad |= sign < 0;
#ifdef UNIONSTAT_STREAM_STORES
    _mm_sfence();  // the streamed totals are in memory before anyone reads them
#endif
    for (std::size_t k = 0; k < inner.size() && !bad; ++k) {
        const std::uint32_t v = inner[k], q = parent[v];
        bad |= __builtin_add_overflow(t[q], t[v], &t[q]);
    }
    return !bad;
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
    std::vector<std::uint32_t> anc_begin, anc, inner;
    std::vector<leaf_segment> segments;
    const std::size_t words = (n + 63) / 64;
    std::vector<std::uint64_t> blank_sub, blank_own;
    const std::size_t stride = (n + 7) / 8 * 8;
    std::shared_ptr<std::int64_t> buffer;
    std::vector<std::uint8_t> fused(width, 0);  // fields for run_fused
    std::vector<std::vector<std::uint64_t>> blanks(width);
    std::vector<std::exception_ptr> errors(width);
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> failed{width};

    // One field the plain way: its column of totals in place (the buffer starts at
    // zero) and its blanks. `has` is per-thread scratch for fields with blank cells.
    auto run_field_of = [&](std::size_t f, std::vector<std::uint8_t>& has, const auto* values) {
        const field_def& field = form.fields[f];
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
    auto run_field = [&](std::size_t f, std::vector<std::uint8_t>& has) {
        const column_view in = batch.column(f);
        in.narrow() ? run_field_of(f, has, in.int32()) : run_field_of(f, has, in.int64());
    };

    // A field that adds, with no blank cell: leaves first (see leaves_first).
    auto run_fused_of = [&](std::size_t f, const auto* in) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(in)>>;
        std::int64_t* col = buffer.get() + f * stride;
        const field_def& field = form.fields[f];
        const bool count_true = field.agg == aggregation::count_true;
        std::int64_t sign = 0;
        for (const auto& s : early) sign |= col[s.at] = count_true ? (in[s.row] != 0) : in[s.row];
        if (sign < 0) return false;
        const bool ok = count_true ? leaves_first<true, T>(col, in, parent, segments, inner)
                                   : leaves_first<false, T>(col, in, parent, segments, inner);
        if (!ok) return false;
        for (std::size_t s = 0; s < special.size(); ++s) {
            const std::int64_t v = count_true ? (in[special[s].row] != 0) : in[special[s].row];
            for (std::uint32_t k = anc_begin[s]; k < anc_begin[s + 1]; ++k) {
                const std::uint32_t u = anc[k];
                if (__builtin_add_overflow(col[u], v, &col[u])) overflow_at(tree, u, field);
            }
        }
        blanks[f] = blank_sub;
        return true;
    };
    auto run_fused = [&](std::size_t f) {
        const column_view in = batch.column(f);
        return in.narrow() ? run_fused_of(f, in.int32()) : run_fused_of(f, in.int64());
    };

    // Each thread takes the next field. After an overflow no later field is started; the
    // error thrown is the one of the first field that overflows, as in a field-by-field
    // pass (a fused field that overflows, or holds a negative value, is redone the plain
    // way from zero).
    auto worker = [&] {
        std::vector<std::uint8_t> has;
        for (std::size_t f; (f = next.fetch_add(1)) < width;) {
            if (f > failed.load()) break;
            try {
                if (fused[f] && run_fused(f)) continue;
                if (fused[f]) std::fill(buffer.get() + f * stride, buffer.get() + (f + 1) * stride, 0);
                run_field(f, has);
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

    // Reporting units, in one pass over the units: the reports counted at each unit,
    // the units that did not report themselves (blank_own), and for the fused pass
    // (leaves_first) the runs of reporting units with a parent and no children, the
    // others apart (early).
    reserve_huge(sources, m.matched);
    reserve_huge(out.reports, n);
    out.reports.assign(n, 0);
    blank_own.assign(words, ~std::uint64_t(0));
    if (n & 63) blank_own.back() = (std::uint64_t(1) << (n & 63)) - 1;
    std::pair<std::uint32_t, std::uint32_t> tail{0, 0};  // the last leaves' parent, and how many in a row
    for (std::size_t u = 0; u < n; ++u) {
        if (m.row[u] < 0) continue;
        const bool leaf = tree.is_leaf(u);
        const bool inner = primary ? !leaf : boost::out_degree(u, g) > 0;
        if (inner && options.inner == inner_reports::ignore) {
            out.ignored_rows.push_back(static_cast<std::size_t>(m.row[u]));
            continue;
        }
        const source_row s{static_cast<std::uint32_t>(u), static_cast<std::uint32_t>(m.row[u])};
        blank_own[u >> 6] &= ~(std::uint64_t(1) << (u & 63));
        if (primary || plain[u]) {
            sources.push_back(s);
            out.reports[u] = 1;
            if (leaf && parent[u] != hierarchy::root_parent) {
                const std::uint32_t p = parent[u];
                leaf_segment* last = segments.empty() ? nullptr : &segments.back();
                if (!last || last->at + last->len != s.at || last->row + last->len != s.row) {
                    segments.push_back({s.at, s.row, 1, p});
                    tail = {p, 1};
                    continue;
                }
                tail = {p, tail.first == p ? tail.second + 1 : 1};
                if (last->parent == p) {
                    ++last->len;
                } else if (last->parent != leaf_segment::mixed && last->len >= min_siblings) {
                    segments.push_back({s.at, s.row, 1, p});
                } else {
                    last->parent = leaf_segment::mixed;
                    ++last->len;
                    if (tail.second == min_siblings) {  // enough siblings in a row: a segment of their own
                        last->len -= min_siblings;
                        const leaf_segment own{s.at + 1 - min_siblings, s.row + 1 - min_siblings, min_siblings, p};
                        if (last->len == 0) *last = own;
                        else segments.push_back(own);
                    }
                }
            } else {
                early.push_back(s);
            }
        } else {
            special.push_back(s);
        }
    }
    std::vector<std::int64_t>().swap(m.row);
    std::vector<std::uint8_t>().swap(plain);
    std::sort(out.ignored_rows.begin(), out.ignored_rows.end());
    // Rows in order so that input columns are read front to back (batches usually list
    // units in the tree's order: then there is nothing to sort).
    auto by_row = [](const source_row& a, const source_row& b) { return a.row < b.row; };
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

    // Reports per unit, up the tree; the units with children, in topological order.
    for (std::size_t k = 0; k < links; ++k) {
        const std::uint32_t v = order[k];
        out.reports[parent[v]] += out.reports[v];
        if (!tree.is_leaf(v)) inner.push_back(v);
    }
    for (std::uint32_t a : anc) ++out.reports[a];

    // Blank totals when no report in play has a blank cell in the field (the usual
    // case): shared by every such field instead of tracking "has a value" per unit.
    // sub: no report counted in the unit's total; own: the unit did not report itself.
    blank_sub.assign(words, 0);
    for (std::size_t u = 0; u < n; ++u) blank_sub[u >> 6] |= std::uint64_t(out.reports[u] == 0) << (u & 63);

    // The result columns: one buffer for all of them (fresh zero pages, huge pages where
    // the system gives them, each column on its own cache lines), filled in place and
    // lent to the result batch.
    buffer = detail::zeroed_int64(stride * std::max<std::size_t>(width, 1), true);

    // Fields that add, with no blank cell, take the fused pass.
    for (std::size_t f = 0; f < width; ++f)
        fused[f] = !batch.missing_bits(f) && form.fields[f].agg != aggregation::none;

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
