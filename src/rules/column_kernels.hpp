#pragma once
// Column kernels of the batch VM: comparisons written straight to bit words (bit i of
// out[i / 64]: row i holds), sums, differences and scalings with their overflow flags as
// bit words (ORed into e[i / 64]). Organised as simdjson organises its implementations:
// each instruction set has its own file over a shared scalar header (kernels/scalar.hpp;
// the meaning of a comparison is in comparison.hpp) — kernels/baseline.cpp (plain C++),
// kernels/avx2.cpp, kernels/avx512.cpp, each compiled under its own target region — and
// each gives one kernel_table; kernels/dispatch.cpp picks the best table the CPU runs
// once, at first use, as numpy dispatches. UNIONSTAT_SIMD=baseline|avx2 lowers the pick;
// the kernel tests run every table this CPU has against the scalar semantics. Calls are
// per chunk of rows: the indirect call costs nothing measurable. Private to src/.

#include <cstddef>
#include <cstdint>

#include "comparison.hpp"
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

/// The kernels of one instruction set, with the contracts of the functions above.
struct kernel_table {
    void (*scale)(operand, std::int64_t, std::int64_t*, std::uint64_t*, std::size_t);
    void (*add)(operand, operand, std::int64_t*, std::uint64_t*, std::size_t, bool);
    void (*compare)(cmp_kind, operand, operand, std::int64_t, std::uint64_t*, std::size_t);
    std::size_t (*popcount)(const std::uint64_t*, std::size_t);
    void (*sum)(const operand*, std::size_t, std::int64_t*, std::uint64_t*, std::size_t);
    void (*within)(opcode, operand, operand, std::int64_t, std::uint64_t*, std::uint64_t*, std::size_t);
};

/// Whether this CPU and OS run level l, and this build has its kernels.
bool supported(level l) noexcept;

/// The kernels of level l (whether or not they are the active ones, for the tests);
/// nullptr when !supported(l).
const kernel_table* table(level l) noexcept;

/// Each instruction set's table, defined in its own file (nullptr where the build has
/// none: avx2 and avx512 off x86-64). Calling a table's kernels needs supported().
const kernel_table* baseline_table() noexcept;
const kernel_table* avx2_table() noexcept;
const kernel_table* avx512_table() noexcept;

}  // namespace simd
}  // namespace rules
}  // namespace unionstat
