#pragma once
// What a comparison means, written once. Every path instantiates these descriptions:
// the one-report tree walk (kernel.hpp) and the column kernels of each instruction set
// (kernels/baseline.cpp, avx2.cpp, avx512.cpp), and the kernel tests hold every
// instruction set to the one-row functions below. They are constexpr data (which tests,
// which sides, whether negated) rather than code, so that each instruction set builds
// its own loop from them under its own target options. Private to src/.

#include <cstdint>

#include "unionstat/rules/program.hpp"

namespace unionstat {
namespace rules {
namespace simd {

/// A comparison as the kernels know it.
enum class cmp_kind { gt, ge, lt, le, eq, ne };

/// The comparison an opcode eq … ge stands for.
constexpr cmp_kind kind_of(opcode op) noexcept {
    switch (op) {
        case opcode::gt: return cmp_kind::gt;
        case opcode::ge: return cmp_kind::ge;
        case opcode::lt: return cmp_kind::lt;
        case opcode::le: return cmp_kind::le;
        case opcode::eq: return cmp_kind::eq;
        default: return cmp_kind::ne;
    }
}

/// Whether op is one of the comparisons eq … ge.
constexpr bool is_comparison(opcode op) noexcept { return op >= opcode::eq && op <= opcode::ge; }

/// The comparison with its sides swapped (k < y is y > k).
constexpr cmp_kind mirror(cmp_kind k) noexcept {
    switch (k) {
        case cmp_kind::gt: return cmp_kind::lt;
        case cmp_kind::lt: return cmp_kind::gt;
        case cmp_kind::ge: return cmp_kind::le;
        case cmp_kind::le: return cmp_kind::ge;
        default: return k;
    }
}

/// An exact comparison x (k) y as every instruction set has it natively: equality or
/// greater-than (`eq`), of (y, x) instead of (x, y) (`swap`), perhaps negated.
struct exact_form {
    bool eq, swap, negate;
};

constexpr exact_form form_of(cmp_kind k) noexcept {
    switch (k) {
        case cmp_kind::gt: return {false, false, false};  // x > y
        case cmp_kind::lt: return {false, true, false};   // y > x
        case cmp_kind::le: return {false, false, true};   // not x > y
        case cmp_kind::ge: return {false, true, true};    // not y > x
        case cmp_kind::eq: return {true, false, false};   // x == y
        default: return {true, false, true};              // ne: not x == y
    }
}

/// One row of an exact comparison.
constexpr bool compare1(cmp_kind k, std::int64_t x, std::int64_t y) noexcept {
    const exact_form f = form_of(k);
    const bool r = f.eq ? x == y : f.swap ? y > x : x > y;
    return r != f.negate;
}

/// A comparison of x and y within the tolerance t (t > 0), on their difference d = x - y:
/// eq |d| <= t, ne |d| > t, lt d < t, le d <= t, gt d > -t, ge d >= -t. Each fails
/// where d is above t (`above`), at t (`at_hi`), below -t (`below`) or at -t (`at_lo`),
/// as marked; `negate` turns "fails" into "holds" (ne is eq negated).
struct within_form {
    bool above, at_hi, below, at_lo, negate;
};

constexpr within_form within_of(opcode op) noexcept {
    switch (op) {
        case opcode::eq: return {true, false, true, false, false};   // -t <= d <= t
        case opcode::ne: return {true, false, true, false, true};    // not (-t <= d <= t)
        case opcode::lt: return {true, true, false, false, false};   // not d >= t
        case opcode::le: return {true, false, false, false, false};  // not d > t
        case opcode::gt: return {false, false, true, true, false};   // not d <= -t
        default: return {false, false, true, false, false};          // ge: not d < -t
    }
}

/// One row of a comparison within t, given the difference d.
constexpr bool holds_within(opcode op, std::int64_t d, std::int64_t t) noexcept {
    const within_form f = within_of(op);
    const bool fails = (f.above && d > t) || (f.at_hi && d == t) || (f.below && d < -t) || (f.at_lo && d == -t);
    return fails == f.negate;
}

}  // namespace simd
}  // namespace rules
}  // namespace unionstat
