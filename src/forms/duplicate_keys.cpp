#include "unionstat/forms/duplicate_keys.hpp"

#include <algorithm>
#include <functional>
#include <numeric>
#include <string_view>

namespace unionstat {

std::vector<duplicate_key> find_duplicate_keys(const report_batch& batch) {
    // One 64-bit hash a row, rows sorted by it, the strings compared only where hashes
    // meet: 16 bytes a row, where a hash map of string views would hold ~70 (a million
    // reports: 16 MB instead of 70, and no allocation per row).
    const std::size_t n = batch.size();
    const auto& units = batch.units();
    const auto& periods = batch.periods();
    std::vector<std::uint64_t> hash(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t a = std::hash<std::string_view>{}(units[i]), b = std::hash<std::string_view>{}(periods[i]);
        hash[i] = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    }
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    // Stable by row within a hash, so the first of equal keys is the earliest row.
    std::sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
        return hash[x] != hash[y] ? hash[x] < hash[y] : x < y;
    });
    std::vector<duplicate_key> out;
    for (std::size_t lo = 0; lo < n;) {
        std::size_t hi = lo + 1;
        while (hi < n && hash[order[hi]] == hash[order[lo]]) ++hi;
        // Within a run of equal hashes (almost always one row, else one key): each row
        // is paired with the first earlier row of the same key.
        for (std::size_t i = lo + 1; i < hi; ++i) {
            const std::uint32_t r = order[i];
            for (std::size_t j = lo; j < i; ++j) {
                const std::uint32_t q = order[j];
                if (units[q] == units[r] && periods[q] == periods[r]) {
                    out.push_back({q, r});
                    break;
                }
            }
        }
        lo = hi;
    }
    std::sort(out.begin(), out.end(), [](const duplicate_key& x, const duplicate_key& y) { return x.again < y.again; });
    return out;
}

}  // namespace unionstat
