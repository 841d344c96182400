// The plain C++ kernels: every CPU, and the yardstick of the others in the tests. Each
// is a loop over the one-row functions of scalar.hpp, 64 rows (one word of bits) at a time.

#include "scalar.hpp"

namespace unionstat {
namespace rules {
namespace simd {
namespace baseline {
namespace {

using namespace scalar;

void scale(operand a, std::int64_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    a.narrow ? scale_body<true>(a.p, k, d, e, n) : scale_body<false>(a.p, k, d, e, n);
}

template <bool NA, bool NB>
void add_rows(const void* a, const void* b, std::int64_t* d, std::uint64_t* e, std::size_t n, bool sub) {
    for (std::size_t w = 0; w * 64 < n; ++w) {
        const std::size_t base = w * 64, m = std::min<std::size_t>(64, n - base);
        std::uint64_t bits = 0;
        for (std::size_t j = 0; j < m; ++j) bits |= add_row<NA, NB>(a, b, base + j, sub, d[base + j]) << j;
        e[w] |= bits;
    }
}

void add(operand a, operand b, std::int64_t* d, std::uint64_t* e, std::size_t n, bool sub) {
    by_width(a, b, [&](auto na, auto nb) { add_rows<na, nb>(a.p, b.p, d, e, n, sub); });
}

template <cmp_kind K, bool NX, bool NY, bool Scalar>
void compare_rows(const void* x, const void* y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    for (std::size_t lo = 0; lo < n; lo += 64) {
        const std::size_t hi = std::min(n, lo + 64);
        std::uint64_t bits = 0;
        for (std::size_t i = lo; i < hi; ++i)
            bits |= std::uint64_t(compare1(K, at<NX>(x, i), Scalar ? ys : at<NY>(y, i))) << (i - lo);
        out[lo / 64] = bits;
    }
}

void compare(cmp_kind k, operand x, operand y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    by_kind(k, [&](auto kind) {
        by_width(x, y, [&](auto nx, auto ny) {
            y ? compare_rows<kind, nx, ny, false>(x.p, y.p, ys, out, n) : compare_rows<kind, nx, ny, true>(x.p, y.p, ys, out, n);
        });
    });
}

void sum(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) e[i / 64] |= sum_row(ops, k, i, d[i]) << (i % 64);
}

template <bool NX, bool NY>
void within_rows(opcode op, const void* x, const void* y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n) {
    for (std::size_t w = 0; w * 64 < n; ++w) {
        const std::size_t base = w * 64, m = std::min<std::size_t>(64, n - base);
        std::uint64_t bits = 0, flags = 0;
        for (std::size_t j = 0; j < m; ++j) bits |= within_row<NX, NY>(op, x, y, base + j, t, flags, j) << j;
        out[w] = bits;
        e[w] |= flags;
    }
}

void within(opcode op, operand x, operand y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n) {
    by_width(x, y, [&](auto nx, auto ny) { within_rows<nx, ny>(op, x.p, y.p, t, out, e, n); });
}

std::size_t popcount(const std::uint64_t* w, std::size_t words) { return popcount_body(w, words); }

constexpr kernel_table table{scale, add, compare, popcount, sum, within};

}  // namespace
}  // namespace baseline

const kernel_table* baseline_table() noexcept { return &baseline::table; }

}  // namespace simd
}  // namespace rules
}  // namespace unionstat
