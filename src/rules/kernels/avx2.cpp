// The AVX2 kernels: four 64-bit rows a vector (a narrow chunk widened on the way in), or
// eight rows when both sides of a comparison are narrow; comparisons are cmpgt/cmpeq,
// the others swap the operands or negate the result (exact_form). The whole file past
// the includes is one target region, and its functions live in simd::avx2; what it
// shares with the others (scalar.hpp) is compiled for the baseline before the region.

#include "scalar.hpp"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,popcnt"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,popcnt")
#endif

namespace unionstat {
namespace rules {
namespace simd {
namespace avx2 {
namespace {

using namespace scalar;

// A 32-bit value times a 32-bit factor: one signed 32x32→64 multiply, never an
// overflow (|product| <= 2^62).
void scale_narrow_avx2(const std::int32_t* a, std::int32_t k, std::int64_t* d, std::size_t n) {
    const __m256i kv = _mm256_set1_epi64x(k);
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256i v = _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), _mm256_mul_epi32(v, kv));
    }
    for (; i < n; ++i) d[i] = std::int64_t(a[i]) * k;
}

void scale(operand a, std::int64_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    if (a.narrow && fits32(k))
        return scale_narrow_avx2(static_cast<const std::int32_t*>(a.p), static_cast<std::int32_t>(k), d, n);
    // (AVX2 has no 64-bit multiply: the compiler does what it can with the plain loop)
    a.narrow ? scale_body<true>(a.p, k, d, e, n) : scale_body<false>(a.p, k, d, e, n);
}

template <bool N>
__attribute__((always_inline)) inline __m256i load4(const void* p, std::size_t i) {
    if constexpr (N)
        return _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const std::int32_t*>(p) + i)));
    else return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::int64_t*>(p) + i));
}

template <bool Sub, bool NA, bool NB>
__attribute__((always_inline)) inline std::uint64_t add4(const void* a, const void* b, std::int64_t* d, std::size_t i) {
    const __m256i x = load4<NA>(a, i), y = load4<NB>(b, i);
    const __m256i r = Sub ? _mm256_sub_epi64(x, y) : _mm256_add_epi64(x, y);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), r);
    const __m256i o = Sub ? _mm256_and_si256(_mm256_xor_si256(x, y), _mm256_xor_si256(x, r))
                          : _mm256_and_si256(_mm256_xor_si256(x, r), _mm256_xor_si256(y, r));
    return static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(o)));
}

template <bool Sub, bool NA, bool NB>
void add_avx2(const void* a, const void* b, std::int64_t* d, std::uint64_t* e, std::size_t n) {
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

void add(operand a, operand b, std::int64_t* d, std::uint64_t* e, std::size_t n, bool sub) {
    by_width(a, b, [&](auto na, auto nb) {
        sub ? add_avx2<true, na, nb>(a.p, b.p, d, e, n) : add_avx2<false, na, nb>(a.p, b.p, d, e, n);
    });
}

// One comparison, unswitched: Eq picks cmpeq over cmpgt, Swap the operands, Negate the
// result; against a scalar when Scalar. 16 rows an iteration, their bits put together
// before they join the word.
template <bool Eq, bool Swap, bool NX, bool NY, bool Scalar>
__attribute__((always_inline)) inline std::uint64_t four_bits(const void* x, const void* y, __m256i s, std::size_t i) {
    const __m256i a = load4<NX>(x, i);
    const __m256i b = Scalar ? s : load4<NY>(y, i);
    const __m256i c = Eq ? _mm256_cmpeq_epi64(a, b) : Swap ? _mm256_cmpgt_epi64(b, a) : _mm256_cmpgt_epi64(a, b);
    return static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(c)));
}

// Eight narrow rows at once (both sides 32-bit, or the scalar fits in 32 bits).
template <bool Eq, bool Swap, bool Scalar>
__attribute__((always_inline)) inline std::uint64_t eight_bits(const void* x, const void* y, __m256i s, std::size_t i) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::int32_t*>(x) + i));
    const __m256i b = Scalar ? s : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::int32_t*>(y) + i));
    const __m256i c = Eq ? _mm256_cmpeq_epi32(a, b) : Swap ? _mm256_cmpgt_epi32(b, a) : _mm256_cmpgt_epi32(a, b);
    return static_cast<std::uint64_t>(_mm256_movemask_ps(_mm256_castsi256_ps(c)));
}

// The comparison K from its exact_form (comparison.hpp): cmpeq or cmpgt, the operands
// perhaps swapped, the result perhaps negated. Thin: both sides in 32-bit lanes (both
// narrow, or narrow against a scalar that fits).
template <cmp_kind K, bool NX, bool NY, bool Scalar, bool Thin>
void compare_avx2(const void* x, const void* y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    constexpr bool thin = Thin;
    constexpr exact_form f = form_of(K);
    constexpr bool Eq = f.eq, Swap = f.swap;
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
            bits |= std::uint64_t(Eq ? a == b : Swap ? b > a : a > b) << (i - lo);  // (unnegated, as the vectors)
        }
        if (f.negate) bits = ~bits & valid_bits(hi - lo);
        out[lo / 64] = bits;
    }
}

void compare(cmp_kind k, operand x, operand y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    by_kind(k, [&](auto kind) {
        by_lanes(x, y, ys, [&](auto nx, auto ny, auto scalar, auto thin) {
            compare_avx2<kind, nx, ny, scalar, thin>(x.p, y.p, ys, out, n);
        });
    });
}

// Sixteen rows at a time in four accumulators, the operands added in turn (one width
// test per operand and block, not per vector).
template <bool Flags>
void sum_avx2(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
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
                if (Flags)
                    flag[v] = _mm256_or_si256(flag[v], _mm256_and_si256(_mm256_xor_si256(acc[v], r), _mm256_xor_si256(x[v], r)));
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

void sum(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    may_overflow(ops, k) ? sum_avx2<true>(ops, k, d, e, n) : sum_avx2<false>(ops, k, d, e, n);
}

// Four rows of a comparison within t from the tests its within_form (comparison.hpp)
// names: r > t and r < -t, r == t and r == -t (cmpgt and cmpeq are all AVX2 has).
template <opcode Op>
__attribute__((always_inline)) inline std::uint64_t within4(__m256i r, __m256i hi, __m256i lo) {
    constexpr within_form f = within_of(Op);
    auto bits = [](__m256i c) { return static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(c))); };
    std::uint64_t fails = 0;
    if constexpr (f.above) fails |= bits(_mm256_cmpgt_epi64(r, hi));
    if constexpr (f.at_hi) fails |= bits(_mm256_cmpeq_epi64(r, hi));
    if constexpr (f.below) fails |= bits(_mm256_cmpgt_epi64(lo, r));
    if constexpr (f.at_lo) fails |= bits(_mm256_cmpeq_epi64(r, lo));
    return (f.negate ? fails : ~fails) & 0xF;
}

template <opcode Op, bool NX, bool NY>
void within_avx2(const void* x, const void* y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n) {
    const __m256i hi = _mm256_set1_epi64x(t), lo = _mm256_set1_epi64x(-t);
    for (std::size_t w = 0; w * 64 < n; ++w) {
        const std::size_t base = w * 64, m = std::min<std::size_t>(64, n - base);
        std::uint64_t bits = 0, flags = 0;
        std::size_t j = 0;
        for (; j + 4 <= m; j += 4) {
            const __m256i a = load4<NX>(x, base + j), b = load4<NY>(y, base + j), r = _mm256_sub_epi64(a, b);
            const __m256i o = _mm256_and_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(a, r));
            flags |= static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(o))) << j;
            bits |= within4<Op>(r, hi, lo) << j;
        }
        for (; j < m; ++j) bits |= within_row<NX, NY>(Op, x, y, base + j, t, flags, j) << j;
        out[w] = bits;
        e[w] |= flags;
    }
}

void within(opcode op, operand x, operand y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n) {
    by_op(op, [&](auto o) { by_width(x, y, [&](auto nx, auto ny) { within_avx2<o, nx, ny>(x.p, y.p, t, out, e, n); }); });
}

// (the same loop, compiled with the popcnt instruction instead of libgcc's routine)
std::size_t popcount(const std::uint64_t* w, std::size_t words) { return popcount_body(w, words); }

constexpr kernel_table table{scale, add, compare, popcount, sum, within};

}  // namespace
}  // namespace avx2

const kernel_table* avx2_table() noexcept { return &avx2::table; }

}  // namespace simd
}  // namespace rules
}  // namespace unionstat

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else  // no AVX2 kernels in this build

namespace unionstat {
namespace rules {
namespace simd {
const kernel_table* avx2_table() noexcept { return nullptr; }
}  // namespace simd
}  // namespace rules
}  // namespace unionstat

#endif
