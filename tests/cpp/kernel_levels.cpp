// The column kernels of one instruction set against the scalar semantics, row by row:
// `unionstat_kernel_tests LEVEL` (baseline, avx2 or avx512) runs every kernel of that
// level's table — whichever level the dispatch would pick — on random and boundary
// values, every width pair and chunk length, and compares each output bit and value with
// the arithmetic written out here (checked.hpp and plain C++ operators, not the kernels'
// shared helpers). Exit 0 when all agree, 1 on a disagreement (printed), 77 when this
// CPU lacks the level: ctest then reports the test as skipped (SKIP_RETURN_CODE), so a
// machine without AVX-512 says so instead of passing silently.

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../../src/rules/column_kernels.hpp"
#include "unionstat/checked.hpp"

namespace {

using namespace unionstat;
using namespace unionstat::rules;
using simd::cmp_kind;
using simd::operand;

constexpr std::int64_t max64 = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t min64 = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t max32 = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t min32 = std::numeric_limits<std::int32_t>::min();

std::size_t checks = 0, failures = 0;

void check(bool ok, const std::string& what) {
    ++checks;
    if (ok) return;
    if (++failures <= 20) std::printf("MISMATCH: %s\n", what.c_str());
}

// A column of n values, as int64 and (when `narrow`, values in int32 range) as int32.
struct column {
    std::vector<std::int64_t> wide;
    std::vector<std::int32_t> thin;
    bool narrow = false;
    operand op() const { return narrow ? operand(thin.data(), true) : operand(wide.data()); }
    std::int64_t operator[](std::size_t i) const { return wide[i]; }
};

std::mt19937_64 rng(20260417);

// Values that find the edges: small numbers, the int32 and int64 extremes and their
// neighbours, and random ones of every magnitude.
std::int64_t value(bool narrow) {
    static const std::int64_t edges[] = {0,         1,         -1,        2,         -2,        7,     5000,
                                         -5000,     max32,     min32,     max32 - 1, min32 + 1, max64, min64,
                                         max64 - 1, min64 + 1, max64 / 2, min64 / 2, max64 / 3};
    const std::uint64_t pick = rng() % 4;
    std::int64_t v;
    if (pick == 0) v = edges[rng() % (sizeof edges / sizeof edges[0])];
    else if (pick == 1) v = static_cast<std::int64_t>(rng() % 21) - 10;
    else v = static_cast<std::int64_t>(rng() >> (rng() % 64)) * ((rng() & 1) ? 1 : -1);
    if (narrow && (v < min32 || v > max32)) v = static_cast<std::int32_t>(v);
    return v;
}

column make(std::size_t n, bool narrow) {
    column c;
    c.narrow = narrow;
    for (std::size_t i = 0; i < n; ++i) {
        c.wide.push_back(value(narrow));
        c.thin.push_back(static_cast<std::int32_t>(c.wide.back()));
    }
    return c;
}

bool bit(const std::vector<std::uint64_t>& w, std::size_t i) { return (w[i / 64] >> (i % 64)) & 1u; }

std::string where(const char* kernel, std::size_t n, std::size_t i, const std::string& more = {}) {
    return std::string(kernel) + " n=" + std::to_string(n) + " row " + std::to_string(i) + (more.empty() ? "" : " " + more);
}

bool exact(cmp_kind k, std::int64_t x, std::int64_t y) {
    switch (k) {
        case cmp_kind::gt: return x > y;
        case cmp_kind::ge: return x >= y;
        case cmp_kind::lt: return x < y;
        case cmp_kind::le: return x <= y;
        case cmp_kind::eq: return x == y;
        case cmp_kind::ne: return x != y;
    }
    return false;
}

bool within(opcode op, std::int64_t d, std::int64_t t) {
    switch (op) {
        case opcode::eq: return -t <= d && d <= t;
        case opcode::ne: return d < -t || d > t;
        case opcode::lt: return d < t;
        case opcode::le: return d <= t;
        case opcode::gt: return d > -t;
        default: return d >= -t;
    }
}

void test_scale(const simd::kernel_table& k, std::size_t n, bool narrow) {
    const column a = make(n, narrow);
    for (std::int64_t f : {std::int64_t(0), std::int64_t(1), std::int64_t(-1), std::int64_t(3), std::int64_t(-7),
                           std::int64_t(1000000), max32, min32, max64 / 3, min64, max64}) {
        std::vector<std::int64_t> d(n + 1, 0);
        std::vector<std::uint64_t> e(n / 64 + 1, 0);
        k.scale(a.op(), f, d.data(), e.data(), n);
        for (std::size_t i = 0; i < n; ++i) {
            std::int64_t r = 0;
            const bool ok = detail::mul_ok(a[i], f, r);
            check(bit(e, i) == !ok, where("scale flag", n, i, std::to_string(a[i]) + "*" + std::to_string(f)));
            if (ok) check(d[i] == r, where("scale value", n, i));
        }
        for (std::size_t i = n; i < e.size() * 64; ++i) check(!bit(e, i), where("scale flag past n", n, i));
    }
}

void test_add(const simd::kernel_table& k, std::size_t n, bool na, bool nb) {
    const column a = make(n, na), b = make(n, nb);
    for (bool sub : {false, true}) {
        std::vector<std::int64_t> d(n + 1, 0);
        std::vector<std::uint64_t> e(n / 64 + 1, 0);
        k.add(a.op(), b.op(), d.data(), e.data(), n, sub);
        for (std::size_t i = 0; i < n; ++i) {
            std::int64_t r = 0;
            const bool ok = sub ? detail::sub_ok(a[i], b[i], r) : detail::add_ok(a[i], b[i], r);
            check(bit(e, i) == !ok, where(sub ? "sub flag" : "add flag", n, i));
            if (ok) check(d[i] == r, where(sub ? "sub value" : "add value", n, i));
        }
    }
}

void test_compare(const simd::kernel_table& k, std::size_t n, bool nx, bool ny) {
    const column x = make(n, nx), y = make(n, ny);
    for (cmp_kind kind : {cmp_kind::gt, cmp_kind::ge, cmp_kind::lt, cmp_kind::le, cmp_kind::eq, cmp_kind::ne}) {
        std::vector<std::uint64_t> out(n / 64 + 1, ~std::uint64_t(0));
        k.compare(kind, x.op(), y.op(), 0, out.data(), n);
        for (std::size_t i = 0; i < n; ++i) check(bit(out, i) == exact(kind, x[i], y[i]), where("compare", n, i));
        for (std::size_t i = n; i < (n + 63) / 64 * 64; ++i) check(!bit(out, i), where("compare past n", n, i));
        // Against a number: in and out of 32-bit range, and equal to some rows.
        for (std::int64_t ys : {std::int64_t(0), std::int64_t(-1), max32, max32 + 1, min32 - 1, max64, n ? x[n / 2] : 5}) {
            std::vector<std::uint64_t> o(n / 64 + 1, ~std::uint64_t(0));
            k.compare(kind, x.op(), operand(), ys, o.data(), n);
            for (std::size_t i = 0; i < n; ++i)
                check(bit(o, i) == exact(kind, x[i], ys), where("compare with number", n, i, std::to_string(ys)));
            for (std::size_t i = n; i < (n + 63) / 64 * 64; ++i) check(!bit(o, i), where("compare past n", n, i));
        }
    }
}

void test_within(const simd::kernel_table& k, std::size_t n, bool nx, bool ny) {
    const column x = make(n, nx);
    column y = make(n, ny);
    for (std::size_t i = 0; i + 3 < n; i += 4) y.wide[i] = y.thin[i] = x.thin[i];  // (some differences exactly 0, ±t below)
    for (opcode op : {opcode::eq, opcode::ne, opcode::lt, opcode::le, opcode::gt, opcode::ge})
        for (std::int64_t t : {std::int64_t(1), std::int64_t(5000), max64 / 2}) {
            std::vector<std::uint64_t> out(n / 64 + 1, ~std::uint64_t(0)), e(n / 64 + 1, 0);
            k.within(op, x.op(), y.op(), t, out.data(), e.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                std::int64_t d = 0;
                const bool ok = detail::sub_ok(x[i], y[i], d);
                check(bit(e, i) == !ok, where("within flag", n, i));
                if (ok) check(bit(out, i) == within(op, d, t), where("within", n, i, "d=" + std::to_string(d)));
            }
            for (std::size_t i = n; i < (n + 63) / 64 * 64; ++i) check(!bit(out, i), where("within past n", n, i));
        }
    // Differences exactly at the bounds ±t.
    for (opcode op : {opcode::eq, opcode::ne, opcode::lt, opcode::le, opcode::gt, opcode::ge}) {
        const std::int64_t t = 5;
        column a = make(n, nx), b = a;
        b.narrow = ny;
        const std::int64_t differences[] = {-t - 1, -t, -t + 1, 0, t - 1, t, t + 1};
        for (std::size_t i = 0; i < n; ++i) {
            const auto base = static_cast<std::int32_t>(i % 1000);
            a.wide[i] = a.thin[i] = base;
            b.wide[i] = b.thin[i] = static_cast<std::int32_t>(base - differences[i % 7]);
        }
        std::vector<std::uint64_t> out(n / 64 + 1, 0), e(n / 64 + 1, 0);
        k.within(op, a.op(), b.op(), t, out.data(), e.data(), n);
        for (std::size_t i = 0; i < n; ++i) check(bit(out, i) == within(op, a[i] - b[i], t), where("within at bounds", n, i));
    }
}

void test_sum(const simd::kernel_table& k, std::size_t n) {
    for (std::size_t terms : {2u, 3u, 5u, 16u})
        for (int widths = 0; widths < 3; ++widths) {  // all narrow, all wide, mixed
            std::vector<column> cols;
            std::vector<operand> ops;
            for (std::size_t q = 0; q < terms; ++q) cols.push_back(make(n, widths == 0 || (widths == 2 && q % 2)));
            for (const auto& c : cols) ops.push_back(c.op());
            std::vector<std::int64_t> d(n + 1, 0);
            std::vector<std::uint64_t> e(n / 64 + 1, 0);
            k.sum(ops.data(), terms, d.data(), e.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                std::int64_t acc = cols[0][i];
                bool overflow = false;
                for (std::size_t q = 1; q < terms; ++q) {
                    std::int64_t r = 0;
                    overflow |= !detail::add_ok(acc, cols[q][i], r);
                    acc = static_cast<std::int64_t>(static_cast<std::uint64_t>(acc) + static_cast<std::uint64_t>(cols[q][i]));
                }
                check(bit(e, i) == overflow, where("sum flag", n, i, std::to_string(terms) + " terms"));
                if (!overflow) check(d[i] == acc, where("sum value", n, i));
            }
        }
}

void test_popcount(const simd::kernel_table& k) {
    for (std::size_t words : {0u, 1u, 3u, 64u}) {
        std::vector<std::uint64_t> w(words + 1);
        std::size_t expect = 0;
        for (std::size_t i = 0; i < words; ++i) {
            w[i] = rng();
            for (int b = 0; b < 64; ++b) expect += (w[i] >> b) & 1u;
        }
        check(k.popcount(w.data(), words) == expect, "popcount of " + std::to_string(words) + " words");
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s baseline|avx2|avx512\n", argv[0]);
        return 2;
    }
    const std::string name = argv[1];
    simd::level l = simd::level::baseline;
    if (name == "avx2") l = simd::level::avx2;
    else if (name == "avx512") l = simd::level::avx512;
    else if (name != "baseline") {
        std::fprintf(stderr, "unknown level '%s' (baseline, avx2, avx512)\n", name.c_str());
        return 2;
    }
    const simd::kernel_table* k = simd::table(l);
    if (!k) {
        std::printf("SKIP: this CPU (or build) has no %s: its kernels did not run here (batch kernels in use: %s)\n",
                    name.c_str(), simd::to_string(simd::active()));
        return 77;
    }
    std::printf("running the %s kernels (the batch evaluation here uses %s)\n", simd::to_string(l),
                simd::to_string(simd::active()));
    for (std::size_t n : {1u, 3u, 4u, 7u, 8u, 15u, 16u, 17u, 31u, 63u, 64u, 65u, 100u, 127u, 128u, 200u, 4096u}) {
        for (bool nx : {false, true}) {
            test_scale(*k, n, nx);
            for (bool ny : {false, true}) {
                test_add(*k, n, nx, ny);
                test_compare(*k, n, nx, ny);
                test_within(*k, n, nx, ny);
            }
        }
        test_sum(*k, n);
    }
    test_popcount(*k);
    std::printf("%s kernels: %zu checks, %zu mismatches\n", simd::to_string(l), checks, failures);
    return failures == 0 ? 0 : 1;
}
