#pragma once
// Scalar semantics of every instruction, shared by the batch VM and the one-report
// tree walk so that the two paths cannot drift apart; what a comparison means is in
// comparison.hpp, shared with the column kernels of every instruction set. Private to src/.

#include <cstdint>

#include "comparison.hpp"
#include "unionstat/checked.hpp"
#include "unionstat/rules/program.hpp"

namespace unionstat {
namespace rules {
namespace kernel {

/// Applies a non-load instruction to operand values; sets `err` on overflow.
inline std::int64_t apply(const instruction& in, std::int64_t a, std::int64_t b, bool& err) noexcept {
    std::int64_t x = 0, y = 0, r = 0;
    switch (in.op) {
        case opcode::constant: return in.k;
        case opcode::scale: err |= !detail::mul_ok(a, in.k, r); return r;
        case opcode::neg: err |= !detail::sub_ok(0, a, r); return r;
        case opcode::abs:
            if (a >= 0) return a;
            err |= !detail::sub_ok(0, a, r);
            return r;
        case opcode::mul: err |= !detail::mul_ok(a, b, r); return r;
        case opcode::logical_and: return (a != 0) & (b != 0);
        case opcode::logical_or: return (a != 0) | (b != 0);
        case opcode::logical_not: return a == 0;
        case opcode::implies: return (a == 0) | (b != 0);
        default: break;
    }
    // Binary operations on operands brought to a common denominator.
    err |= !detail::mul_ok(a, in.ka, x);
    err |= !detail::mul_ok(b, in.kb, y);
    switch (in.op) {
        case opcode::add: err |= !detail::add_ok(x, y, r); return r;
        case opcode::sub: err |= !detail::sub_ok(x, y, r); return r;
        case opcode::min: return x < y ? x : y;
        case opcode::max: return x > y ? x : y;
        default: break;
    }
    if (!simd::is_comparison(in.op)) return 0;
    if (in.t == 0) return simd::compare1(simd::kind_of(in.op), x, y);  // exact: no difference that could overflow
    std::int64_t d = 0;
    err |= !detail::sub_ok(x, y, d);
    return simd::holds_within(in.op, d, in.t);
}

}  // namespace kernel
}  // namespace rules
}  // namespace unionstat
