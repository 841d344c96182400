#pragma once
// Test helper: the same batch with its columns held at another width, so that every
// reader can be checked on 32-bit (narrow) and 64-bit storage alike.

#include <memory>
#include <string>
#include <vector>

#include "unionstat/forms/batch.hpp"

namespace unionstat {
namespace testing {

/// How a copy holds its columns.
enum class storage { as_built, wide, compact };

inline const char* to_string(storage s) {
    return s == storage::wide ? "64-bit columns" : s == storage::compact ? "compacted columns" : "columns as built";
}

/// A copy of `b` with every column held in 64 bits (borrowed int64 buffers, as numpy
/// arrays are), or compacted (32 bits wherever the values fit), or as it was built.
inline report_batch with_storage(const report_batch& b, storage s) {
    report_batch out(b);
    if (s == storage::compact) {
        out.compact();
    } else if (s == storage::wide) {
        const std::size_t n = b.size();
        for (std::size_t f = 0; f < b.width(); ++f) {
            auto values = std::make_shared<std::vector<std::int64_t>>(n);
            b.column(f).copy_to(0, n, values->data());
            std::vector<std::uint64_t> missing;
            if (const std::uint64_t* m = b.missing_bits(f)) missing.assign(m, m + (n + 63) / 64);
            out.borrow_column(f, values->data(), values, std::move(missing));
        }
    }
    return out;
}

}  // namespace testing
}  // namespace unionstat
