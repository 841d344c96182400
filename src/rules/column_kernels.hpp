#pragma once
// Column kernels of the batch VM: comparisons written straight to bit words (bit i of
// out[i / 64]: row i holds), sums, differences and scalings with their overflow flags as
// bit words (ORed into e[i / 64]). Each kernel exists for three instruction sets — plain
// C++, AVX2 and AVX-512 — and the best one the CPU has is picked once, at first use, as
// numpy dispatches; UNIONSTAT_SIMD=baseline|avx2 lowers the pick, so that the tests can
// run every variant on one machine. Calls are per chunk of rows: the indirect call costs
// nothing measurable. Private to src/.

#include <cstddef>
#include <cstdint>

#include "unionstat/rules/program.hpp"

namespace unionstat {
namespace rules {
namespace simd {

/// Instruction sets the kernels are written for, weakest first.
enum class level { baseline, avx2, avx512 };

/// The level in use: the best the CPU and OS support, lowered by $UNIONSTAT_SIMD
/// ("baseline" or "avx2"; any other value leaves the best level).
level active() noexcept;

/// "baseline", "avx2" or "avx512".
const char* to_string(level l) noexcept;

/// A comparison as the kernels know it.
enum class cmp_kind { gt, ge, lt, le, eq, ne };

inline cmp_kind kind_of(opcode op) noexcept {
    switch (op) {
        case opcode::gt: return cmp_kind::gt;
        case opcode::ge: return cmp_kind::ge;
        case opcode::lt: return cmp_kind::lt;
        case opcode::le: return cmp_kind::le;
        case opcode::eq: return cmp_kind::eq;
        default: return cmp_kind::ne;
    }
}

/// The comparison with its sides swapped (k < y is y > k).
inline cmp_kind mirror(cmp_kind k) noexcept {
    switch (k) {
        case cmp_kind::gt: return cmp_kind::lt;
        case cmp_kind::lt: return cmp_kind::gt;
        case cmp_kind::ge: return cmp_kind::le;
        case cmp_kind::le: return cmp_kind::ge;
        default: return k;
    }
}

inline bool compare1(cmp_kind k, std::int64_t x, std::int64_t y) noexcept {
    switch (k) {
        case cmp_kind::gt: return x > y;
        case cmp_kind::ge: return x >= y;
        case cmp_kind::lt: return x < y;
        case cmp_kind::le: return x <= y;
        case cmp_kind::eq: return x == y;
        default: return x != y;
    }
}

/// A chunk of values a kernel reads: int64, or int32 where a narrow column of the
/// batch is read in place.
struct operand {
    const void* p = nullptr;
    bool narrow = false;

    operand() = default;
    operand(const std::int64_t* v) noexcept : p(v) {}  // NOLINT: a wide chunk reads as itself
    operand(const void* v, bool is_narrow) noexcept : p(v), narrow(is_narrow) {}

    std::int64_t operator[](std::size_t i) const noexcept {
        return narrow ? static_cast<const std::int32_t*>(p)[i] : static_cast<const std::int64_t*>(p)[i];
    }
    explicit operator bool() const noexcept { return p != nullptr; }
};

/// d = a * k, flagging the rows where the product does not fit in int64.
void scale(operand a, std::int64_t k, std::int64_t* d, std::uint64_t* e, std::size_t n);

/// d = a + b (or a - b), flagging the rows that overflow.
void add(operand a, operand b, std::int64_t* d, std::uint64_t* e, std::size_t n, bool sub);

/// out = x (k) y row by row, or x (k) ys when y is empty. Bits past row n are 0.
void compare_bits(cmp_kind k, operand x, operand y, std::int64_t ys, std::uint64_t* out, std::size_t n);

/// d = ops[0] + ops[1] + ... + ops[k - 1] (k >= 2), added left to right, flagging the
/// rows where a partial sum overflows, as the chain of adds it stands for would.
void sum(const operand* ops, std::size_t k, std::int64_t* d, std::uint64_t* e, std::size_t n);

/// The comparison `op` of x and y within the tolerance t, on their difference
/// x - y = d: eq |d| <= t, ne |d| > t, lt d < t, le d <= t, gt d > -t, ge d >= -t.
/// Flags the rows where the difference overflows. Bits past row n are 0.
void within(opcode op, operand x, operand y, std::int64_t t, std::uint64_t* out, std::uint64_t* e, std::size_t n);

/// Set bits in w[0 .. words).
std::size_t popcount(const std::uint64_t* w, std::size_t words);

}  // namespace simd
}  // namespace rules
}  // namespace unionstat
