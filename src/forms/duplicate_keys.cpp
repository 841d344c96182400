#include "unionstat/forms/duplicate_keys.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string_view>

namespace unionstat {

namespace {

struct keyed_row {
    std::uint64_t hash;
    std::uint32_t row;
};

constexpr unsigned bucket_bits = 16;

}  // namespace

std::vector<duplicate_key> find_duplicate_keys(const report_batch& batch) {
    // One 64-bit hash a row; the rows grouped by hash, the strings compared only where
    // hashes meet: 16 bytes a row, where a hash map of string views would hold ~70 (a
    // million reports: 16 MB instead of 70, and no allocation per row). Equal keys need
    // only be adjacent, not in a total order, so one counting pass on the hash's top
    // bits scatters the rows into 65,536 buckets of a few dozen, each then sorted in
    // cache — sorting row indices by a hash looked up at random took a second for the
    // 2.8 M reports of a national roll-up, this takes a tenth of it.
    const std::size_t n = batch.size();
    const auto& units = batch.units();
    const auto& periods = batch.periods();
    std::vector<std::uint32_t> start((std::size_t(1) << bucket_bits) + 1, 0);
    std::vector<std::uint64_t> hash(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t a = std::hash<std::string_view>{}(units[i]), b = std::hash<std::string_view>{}(periods[i]);
        // The mix spreads even hashes that share their top bits (std::hash of a short
        // string is good, but the combination of two must not cluster).
        std::uint64_t h = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        hash[i] = h;
        ++start[(h >> (64 - bucket_bits)) + 1];
    }
    for (std::size_t k = 1; k < start.size(); ++k) start[k] += start[k - 1];
    std::vector<keyed_row> grouped(n);
    {
        std::vector<std::uint32_t> at(start.begin(), start.end() - 1);
        for (std::size_t i = 0; i < n; ++i)  // in row order: each bucket's rows ascending
            grouped[at[hash[i] >> (64 - bucket_bits)]++] = {hash[i], static_cast<std::uint32_t>(i)};
    }
    std::vector<std::uint64_t>().swap(hash);
    std::vector<duplicate_key> out;
    for (std::size_t k = 0; k + 1 < start.size(); ++k) {
        keyed_row* lo_p = grouped.data() + start[k];
        keyed_row* hi_p = grouped.data() + start[k + 1];
        if (hi_p - lo_p < 2) continue;
        // Stable by row within a hash, so the first of equal keys is the earliest row.
        std::sort(lo_p, hi_p,
                  [](const keyed_row& x, const keyed_row& y) { return x.hash != y.hash ? x.hash < y.hash : x.row < y.row; });
        for (keyed_row* lo = lo_p; lo < hi_p;) {
            keyed_row* hi = lo + 1;
            while (hi < hi_p && hi->hash == lo->hash) ++hi;
            // Within a run of equal hashes (almost always one row, else one key): each
            // row is paired with the first earlier row of the same key.
            for (keyed_row* r = lo + 1; r < hi; ++r) {
                for (keyed_row* q = lo; q < r; ++q) {
                    if (units[q->row] == units[r->row] && periods[q->row] == periods[r->row]) {
                        out.push_back({q->row, r->row});
                        break;
                    }
                }
            }
            lo = hi;
        }
    }
    std::sort(out.begin(), out.end(), [](const duplicate_key& x, const duplicate_key& y) { return x.again < y.again; });
    return out;
}

}  // namespace unionstat
