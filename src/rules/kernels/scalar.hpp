#pragma once
// What the column kernels of every instruction set share: the scalar helpers, one row
// of each kernel (the plain kernels are loops over these; the vector kernels use them
// for the rows a vector does not fill) and the width dispatch. Included by each
// instruction set's file BEFORE its target region opens, so that these inline functions
// are compiled for the baseline in every file (one definition, no AVX instruction in a
// function the baseline path may call); always_inline ones take on the caller's target
// when inlined into it. Private to src/rules/.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../column_kernels.hpp"

namespace unionstat {
namespace rules {
namespace simd {
namespace scalar {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

inline bool fits32(std::int64_t v) noexcept {
    return v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
}

// a * k fits exactly when lo <= a <= hi (the quotients rounded inwards, as C++ divides).
struct scale_bounds {
    std::int64_t lo, hi;
    explicit scale_bounds(std::int64_t k)
        : lo(k == 0    ? int64_min
             : k == -1 ? -int64_max
             : k > 0   ? int64_min / k
                       : int64_max / k),
          hi(k == 0    ? int64_max
             : k == -1 ? int64_max
             : k > 0   ? int64_max / k
                       : int64_min / k) {}
};

inline std::uint64_t valid_bits(std::size_t rows) { return rows >= 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << rows) - 1; }

// Element i of a chunk whose width is known at compile time.
template <bool Narrow>
__attribute__((always_inline)) inline std::int64_t at(const void* p, std::size_t i) {
    if constexpr (Narrow) return static_cast<const std::int32_t*>(p)[i];
    else return static_cast<const std::int64_t*>(p)[i];
}

// Calls f(nx, ny) with std::bool_constant tags of the operands' widths (a missing y
// counts as wide), so that each pair of widths gets its own loop.
template <class F>
__attribute__((always_inline)) inline void by_width(operand x, operand y, F&& f) {
    using yes = std::true_type;
    using no = std::false_type;
    if (x.narrow) y.narrow ? f(yes{}, yes{}) : f(yes{}, no{});
    else y.narrow ? f(no{}, yes{}) : f(no{}, no{});
}

// For a comparison: calls f(nx, ny, scalar, thin) with tags of the widths, whether y is
// the number ys, and whether both sides fit 32-bit lanes (both narrow, or narrow
// against a number that fits).
template <class F>
__attribute__((always_inline)) inline void by_lanes(operand x, operand y, std::int64_t ys, F&& f) {
    using yes = std::true_type;
    using no = std::false_type;
    if (y) return by_width(x, y, [&](auto nx, auto ny) { f(nx, ny, no{}, std::bool_constant < nx && ny > {}); });
    if (!x.narrow) return f(no{}, no{}, yes{}, no{});
    fits32(ys) ? f(yes{}, no{}, yes{}, yes{}) : f(yes{}, no{}, yes{}, no{});
}

// Calls f(tag) with a std::integral_constant of the comparison k, so that each
// comparison gets its own loop (its exact_form known at compile time).
template <class F>
__attribute__((always_inline)) inline void by_kind(cmp_kind k, F&& f) {
    switch (k) {
        case cmp_kind::gt: return f(std::integral_constant<cmp_kind, cmp_kind::gt>{});
        case cmp_kind::ge: return f(std::integral_constant<cmp_kind, cmp_kind::ge>{});
        case cmp_kind::lt: return f(std::integral_constant<cmp_kind, cmp_kind::lt>{});
        case cmp_kind::le: return f(std::integral_constant<cmp_kind, cmp_kind::le>{});
        case cmp_kind::eq: return f(std::integral_constant<cmp_kind, cmp_kind::eq>{});
        default: return f(std::integral_constant<cmp_kind, cmp_kind::ne>{});
    }
}

// Likewise for the comparison opcode of a comparison within a tolerance.
template <class F>
__attribute__((always_inline)) inline void by_op(opcode op, F&& f) {
    switch (op) {
        case opcode::eq: return f(std::integral_constant<opcode, opcode::eq>{});
        case opcode::ne: return f(std::integral_constant<opcode, opcode::ne>{});
        case opcode::lt: return f(std::integral_constant<opcode, opcode::lt>{});
        case opcode::le: return f(std::integral_constant<opcode, opcode::le>{});
        case opcode::gt: return f(std::integral_constant<opcode, opcode::gt>{});
        default: return f(std::integral_constant<opcode, opcode::ge>{});
    }
}

// One row of a ± b into `out`; the overflow flag (the sign of (x ^ r) & (y ^ r) for a
// sum, of (x ^ y) & (x ^ r) for a difference) in bit 0.
template <bool NA, bool NB>
inline std::uint64_t add_row(const void* a, const void* b, std::size_t i, bool sub, std::int64_t& out) {
    const auto x = static_cast<std::uint64_t>(at<NA>(a, i)), y = static_cast<std::uint64_t>(at<NB>(b, i));
    const std::uint64_t r = sub ? x - y : x + y;
    out = static_cast<std::int64_t>(r);
    return (sub ? (x ^ y) & (x ^ r) : (x ^ r) & (y ^ r)) >> 63;
}

// One row of ops[0] + … + ops[k - 1] into `out`; the OR of the partial sums' flags in bit 0.
inline std::uint64_t sum_row(const operand* ops, std::size_t k, std::size_t i, std::int64_t& out) {
    auto acc = static_cast<std::uint64_t>(ops[0][i]);
    std::uint64_t flag = 0;
    for (std::size_t q = 1; q < k; ++q) {
        const auto x = static_cast<std::uint64_t>(ops[q][i]), r = acc + x;
        flag |= ((acc ^ r) & (x ^ r)) >> 63;
        acc = r;
    }
    out = static_cast<std::int64_t>(acc);
    return flag;
}

// One row of x - y within t: the comparison's bit; the difference's overflow flag ORed
// into bit `j` of `flags`.
template <bool NX, bool NY>
inline std::uint64_t within_row(opcode op, const void* x, const void* y, std::size_t i, std::int64_t t, std::uint64_t& flags,
                                std::size_t j) {
    std::int64_t d = 0;
    flags |= add_row<NX, NY>(x, y, i, true, d) << j;
    return holds_within(op, d, t);
}

// Fewer than 2^32 32-bit values never overflow a 64-bit sum.
inline bool may_overflow(const operand* ops, std::size_t k) {
    for (std::size_t q = 0; q < k; ++q)
        if (!ops[q].narrow) return true;
    return false;
}

// The plain loops that the vector kernels fall back on, inlined into them (and so
// compiled, and auto-vectorised, for their instruction set).
template <bool N>
__attribute__((always_inline)) inline void scale_body(const void* a, std::int64_t k, std::int64_t* d, std::uint64_t* e,
                                                      std::size_t n) {
    const scale_bounds b(k);
    for (std::size_t w = 0; w * 64 < n; ++w) {
        const std::size_t base = w * 64, m = std::min<std::size_t>(64, n - base);
        std::uint64_t bits = 0;
        for (std::size_t j = 0; j < m; ++j) {
            const std::int64_t v = at<N>(a, base + j);
            bits |= std::uint64_t((v < b.lo) | (v > b.hi)) << j;
            d[base + j] = static_cast<std::int64_t>(static_cast<std::uint64_t>(v) * static_cast<std::uint64_t>(k));
        }
        e[w] |= bits;
    }
}

__attribute__((always_inline)) inline std::size_t popcount_body(const std::uint64_t* w, std::size_t words) {
    std::size_t c = 0;
    for (std::size_t i = 0; i < words; ++i) c += static_cast<std::size_t>(__builtin_popcountll(w[i]));
    return c;
}

}  // namespace scalar
}  // namespace simd
}  // namespace rules
}  // namespace unionstat
