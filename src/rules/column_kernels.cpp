#include "column_kernels.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <type_traits>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define UNIONSTAT_X86_KERNELS 1
#endif

namespace unionstat {
namespace rules {
namespace simd {

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

inline bool fits32(std::int64_t v) noexcept {
    return v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
}

// a * k fits exactly when lo <= a <= hi (the quotients rounded inwards, as C++ divides).
struct scale_bounds {
    std::int64_t lo, hi;
    explicit scale_bounds(std::int64_t k)
        : lo(k == 0 ? int64_min : k == -1 ? -int64_max : k > 0 ? int64_min / k : int64_max / k),
          hi(k == 0 ? int64_max : k == -1 ? int64_max : k > 0 ? int64_max / k : int64_min / k) {}
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
    if (y) return by_width(x, y, [&](auto nx, auto ny) { f(nx, ny, no{}, std::bool_constant<nx && ny>{}); });
    if (!x.narrow) return f(no{}, no{}, yes{}, no{});
    fits32(ys) ? f(yes{}, no{}, yes{}, yes{}) : f(yes{}, no{}, yes{}, no{});
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

// Does the difference d hold within t as op says?
inline bool holds_within(opcode op, std::int64_t d, std::int64_t t) {
    switch (op) {
        case opcode::eq: return d <= t && d >= -t;
        case opcode::ne: return d > t || d < -t;
        case opcode::lt: return d < t;
        case opcode::le: return d <= t;
        case opcode::gt: return d > -t;
        default: return d >= -t;
    }
}

// One row of x - y within t: the comparison's bit; the difference's overflow flag ORed
// into bit `j` of `flags`.
template <bool NX, bool NY>
inline std::uint64_t within_row(opcode op, const void* x, const void* y, std::size_t i, std::int64_t t,
                                std::uint64_t& flags, std::size_t j) {
    std::int64_t d = 0;
    flags |= add_row<NX, NY>(x, y, i, true, d) << j;
    return holds_within(op, d, t);
}

// ---------------------------------------------------------------------------------
// Plain C++: every CPU, and the yardstick of the others in the tests.

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

void scale_plain(operand a, std::int64_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
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

void add_plain(operand a, operand b, std::int64_t* d, std::uint64_t* e, std::size_t n, bool sub) {
    by_width(a, b, [&](auto na, auto nb) { add_rows<na, nb>(a.p, b.p, d, e, n, sub); });
}

template <bool NX, bool NY, bool Scalar>
void compare_rows(cmp_kind k, const void* x, const void* y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    for (std::size_t lo = 0; lo < n; lo += 64) {
        const std::size_t hi = std::min(n, lo + 64);
        std::uint64_t bits = 0;
        for (std::size_t i = lo; i < hi; ++i)
            bits |= std::uint64_t(compare1(k, at<NX>(x, i), Scalar ? ys : at<NY>(y, i))) << (i - lo);
        out[lo / 64] = bits;
    }
}

void compare_plain(cmp_kind k, operand x, operand y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    by_width(x, y, [&](auto nx, auto ny) {
        y ? compare_rows<nx, ny, false>(k, x.p, y.p, ys, out, n) : compare_rows<nx, ny, true>(k, x.p, y.p, ys, out, n);
    });
}

void sum_plain(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) e[i / 64] |= sum_row(ops, k, i, d[i]) << (i % 64);
}

template <bool NX, bool NY>
void within_rows(opcode op, const void* x, const void* y, std::int64_t t, std::uint64_t* out, std::uint64_t* e,
                 std::size_t n) {
    for (std::size_t w = 0; w * 64 < n; ++w) {
        const std::size_t base = w * 64, m = std::min<std::size_t>(64, n - base);
        std::uint64_t bits = 0, flags = 0;
        for (std::size_t j = 0; j < m; ++j) bits |= within_row<NX, NY>(op, x, y, base + j, t, flags, j) << j;
        out[w] = bits;
        e[w] |= flags;
    }
}

void within_plain(opcode op, operand x, operand y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n) {
    by_width(x, y, [&](auto nx, auto ny) { within_rows<nx, ny>(op, x.p, y.p, t, out, e, n); });
}

__attribute__((always_inline)) inline std::size_t popcount_body(const std::uint64_t* w, std::size_t words) {
    std::size_t c = 0;
    for (std::size_t i = 0; i < words; ++i) c += static_cast<std::size_t>(__builtin_popcountll(w[i]));
    return c;
}

std::size_t popcount_plain(const std::uint64_t* w, std::size_t words) { return popcount_body(w, words); }

#ifdef UNIONSTAT_X86_KERNELS
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's own _mm512_cvtepi32_epi64 starts from an undefined register, which
// -Wmaybe-uninitialized reports inside the header.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define UNIONSTAT_AVX2 __attribute__((target("avx2,popcnt")))
#define UNIONSTAT_AVX512 __attribute__((target("avx2,popcnt,avx512f,avx512bw,avx512dq,avx512vl")))

// ---------------------------------------------------------------------------------
// AVX2: four 64-bit rows a vector (a narrow chunk widened on the way in), or eight rows
// when both sides of a comparison are narrow; comparisons are cmpgt/cmpeq, the others
// swap the operands or negate the result.

// A 32-bit value times a 32-bit factor: one signed 32x32→64 multiply, never an
// overflow (|product| <= 2^62).
UNIONSTAT_AVX2 void scale_narrow_avx2(const std::int32_t* a, std::int32_t k, std::int64_t* d, std::size_t n) {
    const __m256i kv = _mm256_set1_epi64x(k);
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256i v = _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), _mm256_mul_epi32(v, kv));
    }
    for (; i < n; ++i) d[i] = std::int64_t(a[i]) * k;
}

UNIONSTAT_AVX2 void scale_avx2(operand a, std::int64_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    if (a.narrow && fits32(k)) return scale_narrow_avx2(static_cast<const std::int32_t*>(a.p), static_cast<std::int32_t>(k), d, n);
    // (AVX2 has no 64-bit multiply: the compiler does what it can with the plain loop)
    a.narrow ? scale_body<true>(a.p, k, d, e, n) : scale_body<false>(a.p, k, d, e, n);
}

template <bool N>
UNIONSTAT_AVX2 __attribute__((always_inline)) inline __m256i load4(const void* p, std::size_t i) {
    if constexpr (N)
        return _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const std::int32_t*>(p) + i)));
    else return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::int64_t*>(p) + i));
}

template <bool Sub, bool NA, bool NB>
UNIONSTAT_AVX2 __attribute__((always_inline)) inline std::uint64_t add4(const void* a, const void* b, std::int64_t* d,
                                                                        std::size_t i) {
    const __m256i x = load4<NA>(a, i), y = load4<NB>(b, i);
    const __m256i r = Sub ? _mm256_sub_epi64(x, y) : _mm256_add_epi64(x, y);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), r);
    const __m256i o = Sub ? _mm256_and_si256(_mm256_xor_si256(x, y), _mm256_xor_si256(x, r))
                          : _mm256_and_si256(_mm256_xor_si256(x, r), _mm256_xor_si256(y, r));
    return static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(o)));
}

template <bool Sub, bool NA, bool NB>
UNIONSTAT_AVX2 void add_avx2(const void* a, const void* b, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    for (std::size_t w = 0; w * 64 < n; ++w) {
        const std::size_t base = w * 64, m = std::min<std::size_t>(64, n - base);
        std::uint64_t bits = 0;
        std::size_t j = 0;
        for (; j + 16 <= m; j += 16)
            bits |= (add4<Sub, NA, NB>(a, b, d, base + j) | add4<Sub, NA, NB>(a, b, d, base + j + 4) << 4 |
                     add4<Sub, NA, NB>(a, b, d, base + j + 8) << 8 | add4<Sub, NA, NB>(a, b, d, base + j + 12) << 12)
                    << j;
        for (; j < m; ++j) bits |= add_row<NA, NB>(a, b, base + j, Sub, d[base + j]) << j;
        e[w] |= bits;
    }
}

void add_avx2(operand a, operand b, std::int64_t* d, std::uint64_t* e, std::size_t n, bool sub) {
    by_width(a, b, [&](auto na, auto nb) {
        sub ? add_avx2<true, na, nb>(a.p, b.p, d, e, n) : add_avx2<false, na, nb>(a.p, b.p, d, e, n);
    });
}

// One comparison, unswitched: Eq picks cmpeq over cmpgt, Swap the operands, Negate the
// result; against a scalar when Scalar. 16 rows an iteration, their bits put together
// before they join the word.
template <bool Eq, bool Swap, bool NX, bool NY, bool Scalar>
UNIONSTAT_AVX2 __attribute__((always_inline)) inline std::uint64_t four_bits(const void* x, const void* y, __m256i s,
                                                                             std::size_t i) {
    const __m256i a = load4<NX>(x, i);
    const __m256i b = Scalar ? s : load4<NY>(y, i);
    const __m256i c = Eq ? _mm256_cmpeq_epi64(a, b) : Swap ? _mm256_cmpgt_epi64(b, a) : _mm256_cmpgt_epi64(a, b);
    return static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(c)));
}

// Eight narrow rows at once (both sides 32-bit, or the scalar fits in 32 bits).
template <bool Eq, bool Swap, bool Scalar>
UNIONSTAT_AVX2 __attribute__((always_inline)) inline std::uint64_t eight_bits(const void* x, const void* y, __m256i s,
                                                                              std::size_t i) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::int32_t*>(x) + i));
    const __m256i b = Scalar ? s : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::int32_t*>(y) + i));
    const __m256i c = Eq ? _mm256_cmpeq_epi32(a, b) : Swap ? _mm256_cmpgt_epi32(b, a) : _mm256_cmpgt_epi32(a, b);
    return static_cast<std::uint64_t>(_mm256_movemask_ps(_mm256_castsi256_ps(c)));
}

// Thin: both sides in 32-bit lanes (both narrow, or narrow against a scalar that fits).
template <bool Eq, bool Swap, bool Negate, bool NX, bool NY, bool Scalar, bool Thin>
UNIONSTAT_AVX2 void compare_avx2(const void* x, const void* y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    constexpr bool thin = Thin;
    const __m256i s = thin ? _mm256_set1_epi32(static_cast<std::int32_t>(ys)) : _mm256_set1_epi64x(ys);
    for (std::size_t lo = 0; lo < n; lo += 64) {
        const std::size_t hi = std::min(n, lo + 64);
        std::uint64_t bits = 0;
        std::size_t i = lo;
        for (; i + 16 <= hi; i += 16) {
            std::uint64_t b16;
            if constexpr (thin)
                b16 = eight_bits<Eq, Swap, Scalar>(x, y, s, i) | eight_bits<Eq, Swap, Scalar>(x, y, s, i + 8) << 8;
            else
                b16 = four_bits<Eq, Swap, NX, NY, Scalar>(x, y, s, i) | four_bits<Eq, Swap, NX, NY, Scalar>(x, y, s, i + 4) << 4 |
                      four_bits<Eq, Swap, NX, NY, Scalar>(x, y, s, i + 8) << 8 |
                      four_bits<Eq, Swap, NX, NY, Scalar>(x, y, s, i + 12) << 12;
            bits |= b16 << (i - lo);
        }
        for (; i < hi; ++i) {
            const std::int64_t a = at<NX>(x, i), b = Scalar ? ys : at<NY>(y, i);
            bits |= std::uint64_t(Eq ? a == b : Swap ? b > a : a > b) << (i - lo);
        }
        if (Negate) bits = ~bits & valid_bits(hi - lo);
        out[lo / 64] = bits;
    }
}

template <bool NX, bool NY, bool Scalar, bool Thin>
void compare_avx2(cmp_kind k, const void* x, const void* y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    switch (k) {
        case cmp_kind::gt: return compare_avx2<false, false, false, NX, NY, Scalar, Thin>(x, y, ys, out, n);
        case cmp_kind::lt: return compare_avx2<false, true, false, NX, NY, Scalar, Thin>(x, y, ys, out, n);
        case cmp_kind::le: return compare_avx2<false, false, true, NX, NY, Scalar, Thin>(x, y, ys, out, n);
        case cmp_kind::ge: return compare_avx2<false, true, true, NX, NY, Scalar, Thin>(x, y, ys, out, n);
        case cmp_kind::eq: return compare_avx2<true, false, false, NX, NY, Scalar, Thin>(x, y, ys, out, n);
        default: return compare_avx2<true, false, true, NX, NY, Scalar, Thin>(x, y, ys, out, n);
    }
}

void compare_avx2(cmp_kind k, operand x, operand y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    by_lanes(x, y, ys, [&](auto nx, auto ny, auto scalar, auto thin) {
        compare_avx2<nx, ny, scalar, thin>(k, x.p, y.p, ys, out, n);
    });
}

// Sixteen rows at a time in four accumulators, the operands added in turn (one width
// test per operand and block, not per vector).
template <bool Flags>
UNIONSTAT_AVX2 void sum_avx2(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i acc[4], flag[4];
        for (int v = 0; v < 4; ++v) {
            acc[v] = ops[0].narrow ? load4<true>(ops[0].p, i + 4 * v) : load4<false>(ops[0].p, i + 4 * v);
            flag[v] = _mm256_setzero_si256();
        }
        for (std::size_t q = 1; q < k; ++q) {
            __m256i x[4];
            if (ops[q].narrow)
                for (int v = 0; v < 4; ++v) x[v] = load4<true>(ops[q].p, i + 4 * v);
            else
                for (int v = 0; v < 4; ++v) x[v] = load4<false>(ops[q].p, i + 4 * v);
            for (int v = 0; v < 4; ++v) {
                const __m256i r = _mm256_add_epi64(acc[v], x[v]);
                if (Flags) flag[v] = _mm256_or_si256(flag[v], _mm256_and_si256(_mm256_xor_si256(acc[v], r), _mm256_xor_si256(x[v], r)));
                acc[v] = r;
            }
        }
        std::uint64_t bits = 0;
        for (int v = 0; v < 4; ++v) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i + 4 * v), acc[v]);
            if (Flags) bits |= static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(flag[v]))) << (4 * v);
        }
        e[i / 64] |= bits << (i % 64);
    }
    for (; i < n; ++i) e[i / 64] |= sum_row(ops, k, i, d[i]) << (i % 64);  // the last rows of a partial block
}

// Fewer than 2^32 32-bit values never overflow a 64-bit sum.
inline bool may_overflow(const operand* ops, std::size_t k) {
    for (std::size_t q = 0; q < k; ++q)
        if (!ops[q].narrow) return true;
    return false;
}

void sum_avx2(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    may_overflow(ops, k) ? sum_avx2<true>(ops, k, d, e, n) : sum_avx2<false>(ops, k, d, e, n);
}

template <bool NX, bool NY>
UNIONSTAT_AVX2 void within_avx2(opcode op, const void* x, const void* y, std::int64_t t, std::uint64_t* out,
                                std::uint64_t* e, std::size_t n) {
    const __m256i hi = _mm256_set1_epi64x(t), lo = _mm256_set1_epi64x(-t);
    for (std::size_t w = 0; w * 64 < n; ++w) {
        const std::size_t base = w * 64, m = std::min<std::size_t>(64, n - base);
        std::uint64_t bits = 0, flags = 0;
        std::size_t j = 0;
        for (; j + 4 <= m; j += 4) {
            const __m256i a = load4<NX>(x, base + j), b = load4<NY>(y, base + j), r = _mm256_sub_epi64(a, b);
            const __m256i o = _mm256_and_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(a, r));
            flags |= static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(o))) << j;
            // r > t and r < -t, from which every comparison follows
            const auto above = static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(r, hi))));
            const auto below = static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(lo, r))));
            std::uint64_t h;
            switch (op) {
                case opcode::eq: h = ~(above | below); break;
                case opcode::ne: h = above | below; break;
                case opcode::lt:  // r < t: not (r >= t) = not (r > t or r == t)
                    h = ~(above | static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(r, hi)))));
                    break;
                case opcode::le: h = ~above; break;
                case opcode::gt:  // r > -t: not (r <= -t) = not (r < -t or r == -t)
                    h = ~(below | static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(r, lo)))));
                    break;
                default: h = ~below; break;  // ge: r >= -t
            }
            bits |= (h & 0xF) << j;
        }
        for (; j < m; ++j) bits |= within_row<NX, NY>(op, x, y, base + j, t, flags, j) << j;
        out[w] = bits;
        e[w] |= flags;
    }
}

void within_avx2(opcode op, operand x, operand y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n) {
    by_width(x, y, [&](auto nx, auto ny) { within_avx2<nx, ny>(op, x.p, y.p, t, out, e, n); });
}

// (the same loop, compiled with the popcnt instruction instead of libgcc's routine)
UNIONSTAT_AVX2 std::size_t popcount_hw(const std::uint64_t* w, std::size_t words) { return popcount_body(w, words); }

// ---------------------------------------------------------------------------------
// AVX-512: eight 64-bit rows a vector (sixteen when both sides of a comparison are
// narrow), every comparison native and straight into a mask register; the masks of 64
// rows are joined in mask registers. The rows of a partial last word are read and
// written under a mask, never past the end.

inline __mmask8 lanes8(std::size_t rows) { return rows >= 8 ? __mmask8(0xFF) : __mmask8((1u << rows) - 1); }

UNIONSTAT_AVX512 __attribute__((always_inline)) inline std::uint64_t join(const __mmask8 (&m)[8]) {
    const __mmask16 a0 = _mm512_kunpackb(m[1], m[0]), a1 = _mm512_kunpackb(m[3], m[2]);
    const __mmask16 a2 = _mm512_kunpackb(m[5], m[4]), a3 = _mm512_kunpackb(m[7], m[6]);
    const __mmask32 b0 = _mm512_kunpackw(a1, a0), b1 = _mm512_kunpackw(a3, a2);
    return _cvtmask64_u64(_mm512_kunpackd(b1, b0));
}

UNIONSTAT_AVX512 __attribute__((always_inline)) inline std::uint64_t join(const __mmask16 (&m)[4]) {
    return _cvtmask64_u64(_mm512_kunpackd(_mm512_kunpackw(m[3], m[2]), _mm512_kunpackw(m[1], m[0])));
}

// Eight rows from i, widened to 64 bits; lanes off in lm read as 0.
template <bool N>
UNIONSTAT_AVX512 __attribute__((always_inline)) inline __m512i load8(__mmask8 lm, const void* p, std::size_t i) {
    if constexpr (N) return _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(lm, static_cast<const std::int32_t*>(p) + i));
    else return _mm512_maskz_loadu_epi64(lm, static_cast<const std::int64_t*>(p) + i);
}

// The kernels' bodies: rows [i, i + 8) (lanes off in lm left alone) to eight bits.
template <bool N>
struct scale8 {
    const void* a;
    std::int64_t* d;
    __m512i lo, hi, k;
    UNIONSTAT_AVX512 __attribute__((always_inline)) __mmask8 operator()(__mmask8 lm, std::size_t i) const {
        const __m512i v = load8<N>(lm, a, i);
        _mm512_mask_storeu_epi64(d + i, lm, _mm512_mullo_epi64(v, k));
        return _kor_mask8(_mm512_mask_cmplt_epi64_mask(lm, v, lo), _mm512_mask_cmpgt_epi64_mask(lm, v, hi));
    }
};

template <bool Sub, bool NA, bool NB>
struct add8 {
    const void *a, *b;
    std::int64_t* d;
    UNIONSTAT_AVX512 __attribute__((always_inline)) __mmask8 operator()(__mmask8 lm, std::size_t i) const {
        const __m512i x = load8<NA>(lm, a, i), y = load8<NB>(lm, b, i);
        const __m512i r = Sub ? _mm512_sub_epi64(x, y) : _mm512_add_epi64(x, y);
        _mm512_mask_storeu_epi64(d + i, lm, r);
        if constexpr (NA && NB) return 0;  // two 32-bit values never overflow 64 bits
        // 0x18: (x ^ y) & (x ^ r); 0x42: (x ^ r) & (y ^ r) — the sign is the flag.
        return _kand_mask8(lm, _mm512_movepi64_mask(_mm512_ternarylogic_epi64(x, y, r, Sub ? 0x18 : 0x42)));
    }
};

template <int Pred, bool NX, bool NY, bool Scalar>
struct compare8 {
    const void *x, *y;
    __m512i s;
    UNIONSTAT_AVX512 __attribute__((always_inline)) __mmask8 operator()(__mmask8 lm, std::size_t i) const {
        return _mm512_mask_cmp_epi64_mask(lm, load8<NX>(lm, x, i), Scalar ? s : load8<NY>(lm, y, i), Pred);
    }
};

// Sixteen narrow rows against sixteen narrow rows or a scalar that fits in 32 bits.
template <int Pred, bool Scalar>
struct compare16 {
    const std::int32_t *x, *y;
    __m512i s;
    UNIONSTAT_AVX512 __attribute__((always_inline)) __mmask16 operator()(__mmask16 lm, std::size_t i) const {
        const __m512i a = _mm512_maskz_loadu_epi32(lm, x + i);
        return _mm512_mask_cmp_epi32_mask(lm, a, Scalar ? s : _mm512_maskz_loadu_epi32(lm, y + i), Pred);
    }
};

// Runs `body` over rows [0, n), 64 a word, a mask of rows (8 for __mmask8, 16 for
// __mmask16) a step: `out(w, bits)` takes each word.
template <class Mask, class Body, class Out>
UNIONSTAT_AVX512 __attribute__((always_inline)) inline void words(std::size_t n, const Body& body, Out&& out) {
    constexpr std::size_t lanes = 8 * sizeof(Mask), steps = 64 / lanes;
    std::size_t base = 0;
    for (; base + 64 <= n; base += 64) {
        Mask m[steps];
        for (std::size_t j = 0; j < steps; ++j) m[j] = body(Mask(~0u), base + lanes * j);
        out(base / 64, join(m));
    }
    if (base < n) {
        Mask m[steps];
        for (std::size_t j = 0; j < steps; ++j) {
            const std::size_t at = base + lanes * j;
            m[j] = at < n ? body(n - at >= lanes ? Mask(~0u) : Mask((1u << (n - at)) - 1), at) : Mask(0);
        }
        out(base / 64, join(m));
    }
}

template <bool N>
UNIONSTAT_AVX512 void scale_512(const void* a, std::int64_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    const scale_bounds b(k);
    words<__mmask8>(n, scale8<N>{a, d, _mm512_set1_epi64(b.lo), _mm512_set1_epi64(b.hi), _mm512_set1_epi64(k)},
           [e](std::size_t w, std::uint64_t bits) { e[w] |= bits; });
}

// As scale_narrow_avx2, eight rows a step.
UNIONSTAT_AVX512 void scale_narrow_512(const std::int32_t* a, std::int32_t k, std::int64_t* d, std::size_t n) {
    const __m512i kv = _mm512_set1_epi64(k);
    for (std::size_t i = 0; i < n; i += 8) {
        const __mmask8 lm = lanes8(n - i);
        const __m512i v = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(lm, a + i));
        _mm512_mask_storeu_epi64(d + i, lm, _mm512_mul_epi32(v, kv));
    }
}

void scale_512(operand a, std::int64_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    if (a.narrow && fits32(k)) return scale_narrow_512(static_cast<const std::int32_t*>(a.p), static_cast<std::int32_t>(k), d, n);
    a.narrow ? scale_512<true>(a.p, k, d, e, n) : scale_512<false>(a.p, k, d, e, n);
}

template <bool Sub, bool NA, bool NB>
UNIONSTAT_AVX512 void add_512(const void* a, const void* b, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    words<__mmask8>(n, add8<Sub, NA, NB>{a, b, d}, [e](std::size_t w, std::uint64_t bits) { e[w] |= bits; });
}

void add_512(operand a, operand b, std::int64_t* d, std::uint64_t* e, std::size_t n, bool sub) {
    by_width(a, b, [&](auto na, auto nb) {
        sub ? add_512<true, na, nb>(a.p, b.p, d, e, n) : add_512<false, na, nb>(a.p, b.p, d, e, n);
    });
}

// Thin: both sides in 32-bit lanes (both narrow, or narrow against a scalar that fits).
template <int Pred, bool NX, bool NY, bool Scalar, bool Thin>
UNIONSTAT_AVX512 void compare_512(const void* x, const void* y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    auto put = [out](std::size_t w, std::uint64_t bits) { out[w] = bits; };
    if constexpr (Thin) {
        words<__mmask16>(n,
                compare16<Pred, Scalar>{static_cast<const std::int32_t*>(x), static_cast<const std::int32_t*>(y),
                                        _mm512_set1_epi32(static_cast<std::int32_t>(ys))},
                put);
    } else {
        words<__mmask8>(n, compare8<Pred, NX, NY, Scalar>{x, y, _mm512_set1_epi64(ys)}, put);
    }
}

template <bool NX, bool NY, bool Scalar, bool Thin>
void compare_512(cmp_kind k, const void* x, const void* y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    switch (k) {
        case cmp_kind::gt: return compare_512<_MM_CMPINT_NLE, NX, NY, Scalar, Thin>(x, y, ys, out, n);
        case cmp_kind::ge: return compare_512<_MM_CMPINT_NLT, NX, NY, Scalar, Thin>(x, y, ys, out, n);
        case cmp_kind::lt: return compare_512<_MM_CMPINT_LT, NX, NY, Scalar, Thin>(x, y, ys, out, n);
        case cmp_kind::le: return compare_512<_MM_CMPINT_LE, NX, NY, Scalar, Thin>(x, y, ys, out, n);
        case cmp_kind::eq: return compare_512<_MM_CMPINT_EQ, NX, NY, Scalar, Thin>(x, y, ys, out, n);
        default: return compare_512<_MM_CMPINT_NE, NX, NY, Scalar, Thin>(x, y, ys, out, n);
    }
}

void compare_512(cmp_kind k, operand x, operand y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    by_lanes(x, y, ys, [&](auto nx, auto ny, auto scalar, auto thin) {
        compare_512<nx, ny, scalar, thin>(k, x.p, y.p, ys, out, n);
    });
}

// A word of 64 rows at a time in eight accumulators, the operands added in turn.
template <bool Flags>
UNIONSTAT_AVX512 void sum_512(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    for (std::size_t base = 0; base < n; base += 64) {
        __mmask8 lm[8];
        for (std::size_t v = 0; v < 8; ++v) lm[v] = base + 8 * v < n ? lanes8(n - base - 8 * v) : __mmask8(0);
        __m512i acc[8], flag[8];
        for (std::size_t v = 0; v < 8; ++v) {
            acc[v] = ops[0].narrow ? load8<true>(lm[v], ops[0].p, base + 8 * v) : load8<false>(lm[v], ops[0].p, base + 8 * v);
            flag[v] = _mm512_setzero_si512();
        }
        for (std::size_t q = 1; q < k; ++q) {
            __m512i x[8];
            if (ops[q].narrow)
                for (std::size_t v = 0; v < 8; ++v) x[v] = load8<true>(lm[v], ops[q].p, base + 8 * v);
            else
                for (std::size_t v = 0; v < 8; ++v) x[v] = load8<false>(lm[v], ops[q].p, base + 8 * v);
            for (std::size_t v = 0; v < 8; ++v) {
                const __m512i r = _mm512_add_epi64(acc[v], x[v]);
                if (Flags) flag[v] = _mm512_or_si512(flag[v], _mm512_ternarylogic_epi64(acc[v], x[v], r, 0x42));  // (a ^ r) & (x ^ r)
                acc[v] = r;
            }
        }
        __mmask8 m[8];
        for (std::size_t v = 0; v < 8; ++v) {
            _mm512_mask_storeu_epi64(d + base + 8 * v, lm[v], acc[v]);
            m[v] = Flags ? _kand_mask8(lm[v], _mm512_movepi64_mask(flag[v])) : __mmask8(0);
        }
        if (Flags) e[base / 64] |= join(m);
    }
}

void sum_512(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    may_overflow(ops, k) ? sum_512<true>(ops, k, d, e, n) : sum_512<false>(ops, k, d, e, n);
}

template <int Op, bool NX, bool NY>
struct within8 {
    const void *x, *y;
    __m512i hi, lo;
    __mmask8* flags;
    UNIONSTAT_AVX512 __attribute__((always_inline)) __mmask8 operator()(__mmask8 lm, std::size_t i) const {
        const __m512i a = load8<NX>(lm, x, i), b = load8<NY>(lm, y, i), r = _mm512_sub_epi64(a, b);
        flags[(i / 8) % 8] = _kand_mask8(lm, _mm512_movepi64_mask(_mm512_ternarylogic_epi64(a, b, r, 0x18)));
        switch (static_cast<opcode>(Op)) {
            case opcode::eq:
                return _kand_mask8(_mm512_mask_cmple_epi64_mask(lm, r, hi), _mm512_mask_cmpge_epi64_mask(lm, r, lo));
            case opcode::ne:
                return _kor_mask8(_mm512_mask_cmpgt_epi64_mask(lm, r, hi), _mm512_mask_cmplt_epi64_mask(lm, r, lo));
            case opcode::lt: return _mm512_mask_cmplt_epi64_mask(lm, r, hi);
            case opcode::le: return _mm512_mask_cmple_epi64_mask(lm, r, hi);
            case opcode::gt: return _mm512_mask_cmpgt_epi64_mask(lm, r, lo);
            default: return _mm512_mask_cmpge_epi64_mask(lm, r, lo);
        }
    }
};

template <int Op, bool NX, bool NY>
UNIONSTAT_AVX512 void within_512(const void* x, const void* y, std::int64_t t, std::uint64_t* out, std::uint64_t* e,
                                 std::size_t n) {
    __mmask8 flags[8];
    words<__mmask8>(n, within8<Op, NX, NY>{x, y, _mm512_set1_epi64(t), _mm512_set1_epi64(-t), flags},
           [&](std::size_t w, std::uint64_t bits) {
               out[w] = bits;
               // (in the partial last word the lanes past n were not written this time)
               const std::size_t written = std::min<std::size_t>(8, (n - w * 64 + 7) / 8);
               std::uint64_t f = 0;
               for (std::size_t j = 0; j < written; ++j) f |= std::uint64_t(flags[j]) << (8 * j);  // (a mask is a byte)
               e[w] |= f;
           });
}

void within_512(opcode op, operand x, operand y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n) {
    by_width(x, y, [&](auto nx, auto ny) {
        switch (op) {
            case opcode::eq: return within_512<int(opcode::eq), nx, ny>(x.p, y.p, t, out, e, n);
            case opcode::ne: return within_512<int(opcode::ne), nx, ny>(x.p, y.p, t, out, e, n);
            case opcode::lt: return within_512<int(opcode::lt), nx, ny>(x.p, y.p, t, out, e, n);
            case opcode::le: return within_512<int(opcode::le), nx, ny>(x.p, y.p, t, out, e, n);
            case opcode::gt: return within_512<int(opcode::gt), nx, ny>(x.p, y.p, t, out, e, n);
            default: return within_512<int(opcode::ge), nx, ny>(x.p, y.p, t, out, e, n);
        }
    });
}
#endif  // UNIONSTAT_X86_KERNELS

level detect() noexcept {
    level best = level::baseline;
#ifdef UNIONSTAT_X86_KERNELS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) best = level::avx2;
    if (best == level::avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        best = level::avx512;
#endif
    // A lower level on request (for tests and comparisons); a higher one is never taken.
    if (const char* env = std::getenv("UNIONSTAT_SIMD")) {
        const std::string_view v(env);
        if (v == "baseline") best = level::baseline;
        else if (v == "avx2" && best > level::avx2) best = level::avx2;
    }
    return best;
}

struct kernel_table {
    void (*scale)(operand, std::int64_t, std::int64_t*, std::uint64_t*, std::size_t) = scale_plain;
    void (*add)(operand, operand, std::int64_t*, std::uint64_t*, std::size_t, bool) = add_plain;
    void (*compare)(cmp_kind, operand, operand, std::int64_t, std::uint64_t*, std::size_t) = compare_plain;
    std::size_t (*popcount)(const std::uint64_t*, std::size_t) = popcount_plain;
    void (*sum)(const operand*, std::size_t, std::int64_t*, std::uint64_t*, std::size_t) = sum_plain;
    void (*within)(opcode, operand, operand, std::int64_t, std::uint64_t*, std::uint64_t*, std::size_t) = within_plain;
};

kernel_table make_table(level l) noexcept {
    kernel_table t;
#ifdef UNIONSTAT_X86_KERNELS
    if (l >= level::avx2) {
        t.scale = scale_avx2;
        t.add = add_avx2;
        t.compare = compare_avx2;
        t.popcount = popcount_hw;
        t.sum = sum_avx2;
        t.within = within_avx2;
    }
    if (l >= level::avx512) {
        t.scale = scale_512;
        t.add = add_512;
        t.compare = compare_512;
        t.sum = sum_512;
        t.within = within_512;
    }
#else
    (void)l;
#endif
    return t;
}

const kernel_table& kernels() noexcept {
    static const kernel_table t = make_table(active());
    return t;
}

}  // namespace

level active() noexcept {
    static const level l = detect();
    return l;
}

const char* to_string(level l) noexcept {
    switch (l) {
        case level::baseline: return "baseline";
        case level::avx2: return "avx2";
        case level::avx512: return "avx512";
    }
    return "?";
}

void scale(operand a, std::int64_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) { kernels().scale(a, k, d, e, n); }

void add(operand a, operand b, std::int64_t* d, std::uint64_t* e, std::size_t n, bool sub) {
    kernels().add(a, b, d, e, n, sub);
}

void compare_bits(cmp_kind k, operand x, operand y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    kernels().compare(k, x, y, ys, out, n);
}

void sum(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) { kernels().sum(ops, k, d, e, n); }

void within(opcode op, operand x, operand y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n) {
    kernels().within(op, x, y, t, out, e, n);
}

std::size_t popcount(const std::uint64_t* w, std::size_t words) { return kernels().popcount(w, words); }

}  // namespace simd
}  // namespace rules
}  // namespace unionstat
