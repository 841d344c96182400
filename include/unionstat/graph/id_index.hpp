#pragma once
/// \file id_index.hpp
/// The index from unit ids to unit positions that a hierarchy and its roll-ups share.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace unionstat {
namespace detail {

/// An open-addressing hash index from string ids to positions 0…n-1, whose keys live
/// elsewhere (`key_of(i)` gives the id of position i).
///
/// Why not `std::unordered_map<std::string_view, std::uint32_t>`: at 2.8 M ids that is
/// a node and a bucket pointer a key, and every lookup chases both. Here a slot is 8
/// bytes — the position and 32 bits of the id's hash — at a load of at most 1/2, so a
/// probe compares an id's text only when the hash bits agree; and the bulk operations
/// hash every key first and prefetch each slot a few keys ahead, so that the cache misses
/// of many lookups overlap instead of queueing (together a third of a tree's build time).
class id_index {
public:
    /// "No position".
    static constexpr std::uint32_t none = 0xFFFFFFFFu;

    /// An empty index (every lookup gives `none`).
    id_index() = default;

    /// An empty index with room for n ids.
    explicit id_index(std::size_t n) {
        std::size_t size = 8;
        while (size < 2 * n) size <<= 1;
        slots_.assign(size, empty);
        mask_ = size - 1;
    }

    /// The hash of an id.
    static std::uint64_t hash(std::string_view key) noexcept { return std::hash<std::string_view>{}(key); }

    /// Number of slots (twice the ids it was made for, or more, a power of two).
    std::size_t slots() const noexcept { return slots_.size(); }

    /// Inserts position i under `key` (whose hash is h) unless the key is present;
    /// returns the position already there, or `none` when i went in.
    template <class KeyOf>
    std::uint32_t insert(std::string_view key, std::uint64_t h, std::uint32_t i, KeyOf&& key_of) {
        const std::uint64_t tag = h >> 32;
        for (std::size_t s = h & mask_;; s = (s + 1) & mask_) {
            const std::uint64_t v = slots_[s];
            if (v == empty) {
                slots_[s] = tag << 32 | i;
                return none;
            }
            if (v >> 32 == tag && key_of(static_cast<std::uint32_t>(v)) == key) return static_cast<std::uint32_t>(v);
        }
    }

    /// Inserts positions 0…n-1 under `key_of(i)`, calling `on_repeat(i, first)` for a
    /// position whose key is already in (under position `first`), which is then not
    /// inserted.
    template <class KeyOf, class OnRepeat>
    void insert_all(std::uint32_t n, KeyOf&& key_of, OnRepeat&& on_repeat) {
        std::vector<std::uint64_t> h(n);
        for (std::uint32_t i = 0; i < n; ++i) h[i] = hash(key_of(i));
        for (std::uint32_t i = 0; i < n; ++i) {
            if (i + ahead < n) __builtin_prefetch(&slots_[h[i + ahead] & mask_], 1);
            const std::uint32_t first = insert(key_of(i), h[i], i, key_of);
            if (first != none) on_repeat(i, first);
        }
    }

    /// The position of `key`, or `none`.
    template <class KeyOf>
    std::uint32_t find(std::string_view key, KeyOf&& key_of) const {
        return find_hashed(key, hash(key), key_of);
    }

    /// out[k] = the position of `key_at(k)` (or `none`) for k in 0…count-1.
    template <class KeyAt, class KeyOf>
    void find_all(std::size_t count, KeyAt&& key_at, std::uint32_t* out, KeyOf&& key_of) const {
        if (slots_.empty()) {
            std::fill(out, out + count, none);
            return;
        }
        constexpr std::size_t block = 4096;
        std::uint64_t h[block];
        for (std::size_t b = 0; b < count; b += block) {
            const std::size_t m = std::min(block, count - b);
            for (std::size_t k = 0; k < m; ++k) h[k] = hash(key_at(b + k));
            for (std::size_t k = 0; k < m; ++k) {
                if (k + ahead < m) __builtin_prefetch(&slots_[h[k + ahead] & mask_]);
                out[b + k] = find_hashed(key_at(b + k), h[k], key_of);
            }
        }
    }

private:
    static constexpr std::uint64_t empty = ~std::uint64_t{0};
    static constexpr std::size_t ahead = 16;  // keys between a prefetch and its use

    template <class KeyOf>
    std::uint32_t find_hashed(std::string_view key, std::uint64_t h, KeyOf&& key_of) const {
        if (slots_.empty()) return none;
        const std::uint64_t tag = h >> 32;
        for (std::size_t s = h & mask_;; s = (s + 1) & mask_) {
            const std::uint64_t v = slots_[s];
            if (v == empty) return none;
            if (v >> 32 == tag && key_of(static_cast<std::uint32_t>(v)) == key) return static_cast<std::uint32_t>(v);
        }
    }

    std::vector<std::uint64_t> slots_;
    std::size_t mask_ = 0;
};

}  // namespace detail
}  // namespace unionstat
