// The AVX-512 kernels: eight 64-bit rows a vector (sixteen when both sides of a
// comparison are narrow), every comparison native and straight into a mask register;
// the masks of 64 rows are joined in mask registers. The rows of a partial last word are
// read and written under a mask, never past the end. The whole file past the includes
// is one target region, and its functions live in simd::avx512; popcount is AVX2's (no
// faster here). On a CPU without AVX-512 none of this runs: the kernel tests say so
// (ctest reports kernels_avx512 as skipped).

#include "scalar.hpp"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,popcnt,avx512f,avx512bw,avx512dq,avx512vl"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,popcnt,avx512f,avx512bw,avx512dq,avx512vl")
// GCC 12's own _mm512_cvtepi32_epi64 starts from an undefined register, which
// -Wmaybe-uninitialized reports inside the header (popped at the end of the file).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace unionstat {
namespace rules {
namespace simd {
namespace avx512 {
namespace {

using namespace scalar;

inline __mmask8 lanes8(std::size_t rows) { return rows >= 8 ? __mmask8(0xFF) : __mmask8((1u << rows) - 1); }

__attribute__((always_inline)) inline std::uint64_t join(const __mmask8 (&m)[8]) {
    const __mmask16 a0 = _mm512_kunpackb(m[1], m[0]), a1 = _mm512_kunpackb(m[3], m[2]);
    const __mmask16 a2 = _mm512_kunpackb(m[5], m[4]), a3 = _mm512_kunpackb(m[7], m[6]);
    const __mmask32 b0 = _mm512_kunpackw(a1, a0), b1 = _mm512_kunpackw(a3, a2);
    return _cvtmask64_u64(_mm512_kunpackd(b1, b0));
}

__attribute__((always_inline)) inline std::uint64_t join(const __mmask16 (&m)[4]) {
    return _cvtmask64_u64(_mm512_kunpackd(_mm512_kunpackw(m[3], m[2]), _mm512_kunpackw(m[1], m[0])));
}

// Eight rows from i, widened to 64 bits; lanes off in lm read as 0.
template <bool N>
__attribute__((always_inline)) inline __m512i load8(__mmask8 lm, const void* p, std::size_t i) {
    if constexpr (N) return _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(lm, static_cast<const std::int32_t*>(p) + i));
    else return _mm512_maskz_loadu_epi64(lm, static_cast<const std::int64_t*>(p) + i);
}

// The kernels' bodies: rows [i, i + 8) (lanes off in lm left alone) to eight bits.
template <bool N>
struct scale8 {
    const void* a;
    std::int64_t* d;
    __m512i lo, hi, k;
    __attribute__((always_inline)) __mmask8 operator()(__mmask8 lm, std::size_t i) const {
        const __m512i v = load8<N>(lm, a, i);
        _mm512_mask_storeu_epi64(d + i, lm, _mm512_mullo_epi64(v, k));
        return _kor_mask8(_mm512_mask_cmplt_epi64_mask(lm, v, lo), _mm512_mask_cmpgt_epi64_mask(lm, v, hi));
    }
};

template <bool Sub, bool NA, bool NB>
struct add8 {
    const void *a, *b;
    std::int64_t* d;
    __attribute__((always_inline)) __mmask8 operator()(__mmask8 lm, std::size_t i) const {
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
    __attribute__((always_inline)) __mmask8 operator()(__mmask8 lm, std::size_t i) const {
        return _mm512_mask_cmp_epi64_mask(lm, load8<NX>(lm, x, i), Scalar ? s : load8<NY>(lm, y, i), Pred);
    }
};

// Sixteen narrow rows against sixteen narrow rows or a scalar that fits in 32 bits.
template <int Pred, bool Scalar>
struct compare16 {
    const std::int32_t *x, *y;
    __m512i s;
    __attribute__((always_inline)) __mmask16 operator()(__mmask16 lm, std::size_t i) const {
        const __m512i a = _mm512_maskz_loadu_epi32(lm, x + i);
        return _mm512_mask_cmp_epi32_mask(lm, a, Scalar ? s : _mm512_maskz_loadu_epi32(lm, y + i), Pred);
    }
};

// Runs `body` over rows [0, n), 64 a word, a mask of rows (8 for __mmask8, 16 for
// __mmask16) a step: `out(w, bits)` takes each word.
template <class Mask, class Body, class Out>
__attribute__((always_inline)) inline void words(std::size_t n, const Body& body, Out&& out) {
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
void scale_512(const void* a, std::int64_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    const scale_bounds b(k);
    words<__mmask8>(n, scale8<N>{a, d, _mm512_set1_epi64(b.lo), _mm512_set1_epi64(b.hi), _mm512_set1_epi64(k)},
                    [e](std::size_t w, std::uint64_t bits) { e[w] |= bits; });
}

// As scale_narrow_avx2, eight rows a step.
void scale_narrow_512(const std::int32_t* a, std::int32_t k, std::int64_t* d, std::size_t n) {
    const __m512i kv = _mm512_set1_epi64(k);
    for (std::size_t i = 0; i < n; i += 8) {
        const __mmask8 lm = lanes8(n - i);
        const __m512i v = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(lm, a + i));
        _mm512_mask_storeu_epi64(d + i, lm, _mm512_mul_epi32(v, kv));
    }
}

void scale(operand a, std::int64_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    if (a.narrow && fits32(k)) return scale_narrow_512(static_cast<const std::int32_t*>(a.p), static_cast<std::int32_t>(k), d, n);
    a.narrow ? scale_512<true>(a.p, k, d, e, n) : scale_512<false>(a.p, k, d, e, n);
}

template <bool Sub, bool NA, bool NB>
void add_512(const void* a, const void* b, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    words<__mmask8>(n, add8<Sub, NA, NB>{a, b, d}, [e](std::size_t w, std::uint64_t bits) { e[w] |= bits; });
}

void add(operand a, operand b, std::int64_t* d, std::uint64_t* e, std::size_t n, bool sub) {
    by_width(a, b, [&](auto na, auto nb) {
        sub ? add_512<true, na, nb>(a.p, b.p, d, e, n) : add_512<false, na, nb>(a.p, b.p, d, e, n);
    });
}

// Thin: both sides in 32-bit lanes (both narrow, or narrow against a scalar that fits).
template <int Pred, bool NX, bool NY, bool Scalar, bool Thin>
void compare_512(const void* x, const void* y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
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

// The native predicate of the comparison K, from its exact_form (comparison.hpp).
constexpr int predicate(cmp_kind k) {
    constexpr int eq = _MM_CMPINT_EQ, ne = _MM_CMPINT_NE, gt = _MM_CMPINT_NLE, le = _MM_CMPINT_LE;
    constexpr int lt = _MM_CMPINT_LT, ge = _MM_CMPINT_NLT;
    const exact_form f = form_of(k);
    return f.eq ? (f.negate ? ne : eq) : f.swap ? (f.negate ? ge : lt) : (f.negate ? le : gt);
}

void compare(cmp_kind k, operand x, operand y, std::int64_t ys, std::uint64_t* out, std::size_t n) {
    by_kind(k, [&](auto kind) {
        by_lanes(x, y, ys, [&](auto nx, auto ny, auto scalar, auto thin) {
            compare_512<predicate(kind), nx, ny, scalar, thin>(x.p, y.p, ys, out, n);
        });
    });
}

// A word of 64 rows at a time in eight accumulators, the operands added in turn.
template <bool Flags>
void sum_512(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
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
                if (Flags)
                    flag[v] = _mm512_or_si512(flag[v], _mm512_ternarylogic_epi64(acc[v], x[v], r, 0x42));  // (a ^ r) & (x ^ r)
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

void sum(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n) {
    may_overflow(ops, k) ? sum_512<true>(ops, k, d, e, n) : sum_512<false>(ops, k, d, e, n);
}

// Eight rows of a comparison within t: the tests its within_form (comparison.hpp)
// names, two of them joined into one native predicate where they meet (r > t or r == t
// is r >= t).
template <opcode Op, bool NX, bool NY>
struct within8 {
    const void *x, *y;
    __m512i hi, lo;
    __mmask8* flags;
    __attribute__((always_inline)) __mmask8 operator()(__mmask8 lm, std::size_t i) const {
        constexpr within_form f = within_of(Op);
        const __m512i a = load8<NX>(lm, x, i), b = load8<NY>(lm, y, i), r = _mm512_sub_epi64(a, b);
        flags[(i / 8) % 8] = _kand_mask8(lm, _mm512_movepi64_mask(_mm512_ternarylogic_epi64(a, b, r, 0x18)));
        __mmask8 fails = 0;
        if constexpr (f.above && f.at_hi) fails = _mm512_mask_cmpge_epi64_mask(lm, r, hi);
        else if constexpr (f.above) fails = _mm512_mask_cmpgt_epi64_mask(lm, r, hi);
        else if constexpr (f.at_hi) fails = _mm512_mask_cmpeq_epi64_mask(lm, r, hi);
        if constexpr (f.below && f.at_lo) fails = _kor_mask8(fails, _mm512_mask_cmple_epi64_mask(lm, r, lo));
        else if constexpr (f.below) fails = _kor_mask8(fails, _mm512_mask_cmplt_epi64_mask(lm, r, lo));
        else if constexpr (f.at_lo) fails = _kor_mask8(fails, _mm512_mask_cmpeq_epi64_mask(lm, r, lo));
        return f.negate ? fails : _kandn_mask8(fails, lm);
    }
};

template <opcode Op, bool NX, bool NY>
void within_512(const void* x, const void* y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n) {
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

void within(opcode op, operand x, operand y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n) {
    by_op(op, [&](auto o) { by_width(x, y, [&](auto nx, auto ny) { within_512<o, nx, ny>(x.p, y.p, t, out, e, n); }); });
}

}  // namespace
}  // namespace avx512

const kernel_table* avx512_table() noexcept {
    static const kernel_table table{avx512::scale,          avx512::add, avx512::compare,
                                    avx2_table()->popcount, avx512::sum, avx512::within};
    return &table;
}

}  // namespace simd
}  // namespace rules
}  // namespace unionstat

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

#else  // no AVX-512 kernels in this build

namespace unionstat {
namespace rules {
namespace simd {
const kernel_table* avx512_table() noexcept { return nullptr; }
}  // namespace simd
}  // namespace rules
}  // namespace unionstat

#endif
