#pragma once
/// \file checked.hpp
/// Overflow-checked int64 arithmetic for hot loops, and an exact wide accumulator.
/// Overflow is always reported, never wrapped.

#include <cstdint>
#include <limits>

#include <boost/multiprecision/cpp_int.hpp>

namespace unionstat {

/// 128-bit integer that throws on overflow (Boost.Multiprecision, checked backend).
using wide_int = boost::multiprecision::checked_int128_t;

namespace detail {

/// a + b; returns false on overflow (out untouched is not guaranteed).
inline bool add_ok(std::int64_t a, std::int64_t b, std::int64_t& out) noexcept { return !__builtin_add_overflow(a, b, &out); }
/// a - b; returns false on overflow.
inline bool sub_ok(std::int64_t a, std::int64_t b, std::int64_t& out) noexcept { return !__builtin_sub_overflow(a, b, &out); }
/// a * b; returns false on overflow.
inline bool mul_ok(std::int64_t a, std::int64_t b, std::int64_t& out) noexcept { return !__builtin_mul_overflow(a, b, &out); }

/// 10^n for 0 <= n <= 18.
inline std::int64_t pow10(int n) noexcept {
    static constexpr std::int64_t table[] = {1,
                                             10,
                                             100,
                                             1000,
                                             10000,
                                             100000,
                                             1000000,
                                             10000000,
                                             100000000,
                                             1000000000,
                                             10000000000,
                                             100000000000,
                                             1000000000000,
                                             10000000000000,
                                             100000000000000,
                                             1000000000000000,
                                             10000000000000000,
                                             100000000000000000,
                                             1000000000000000000};
    return table[n];
}

/// True when a wide value fits back into int64.
inline bool fits_int64(const wide_int& v) {
    return v >= wide_int((std::numeric_limits<std::int64_t>::min)()) && v <= wide_int((std::numeric_limits<std::int64_t>::max)());
}

}  // namespace detail
}  // namespace unionstat
