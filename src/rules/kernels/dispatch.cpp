// The one dispatch table: the best instruction set this CPU runs, picked once at first
// use (as numpy and simdjson dispatch), lowered by $UNIONSTAT_SIMD for tests and
// comparisons. The kernels themselves are in baseline.cpp, avx2.cpp and avx512.cpp.

#include <cstdlib>
#include <string_view>

#include "../column_kernels.hpp"

namespace unionstat {
namespace rules {
namespace simd {

namespace {

bool cpu_has(level l) noexcept {
#if defined(__GNUC__) && defined(__x86_64__)
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
    switch (l) {
        case level::baseline: return true;
        case level::avx2: return avx2;
        case level::avx512:
            return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    }
    return false;
#else
    return l == level::baseline;
#endif
}

const kernel_table* compiled(level l) noexcept {
    switch (l) {
        case level::baseline: return baseline_table();
        case level::avx2: return avx2_table();
        case level::avx512: return avx512_table();
    }
    return nullptr;
}

level detect() noexcept {
    level best = level::baseline;
    for (level l : {level::avx2, level::avx512})
        if (supported(l)) best = l;
    // A lower level on request (for tests and comparisons); a higher one is never taken.
    if (const char* env = std::getenv("UNIONSTAT_SIMD")) {
        const std::string_view v(env);
        if (v == "baseline") best = level::baseline;
        else if (v == "avx2" && best > level::avx2) best = level::avx2;
    }
    return best;
}

const kernel_table& kernels() noexcept {
    static const kernel_table& t = *table(active());
    return t;
}

}  // namespace

bool supported(level l) noexcept { return compiled(l) != nullptr && cpu_has(l); }

const kernel_table* table(level l) noexcept { return supported(l) ? compiled(l) : nullptr; }

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

void add(operand a, operand b, std::int64_t* d, std::uint64_t* e, std::size_t n, bool sub) { kernels().add(a, b, d, e, n, sub); }

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
