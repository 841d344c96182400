#pragma once
/// \file column_view.hpp
/// A read-only view of one stored column of a report batch.

#include <cstddef>
#include <cstdint>

namespace unionstat {

/// The stored values of one column: 64-bit integers, or 32-bit ones when the batch
/// holds the column narrow (every value fits in int32, as in most count columns: a scan
/// then reads half the memory). Either way a value means the same raw number (money in
/// the field's smallest unit). Blanks live in the batch's bitmap, not here: the value
/// under a blank is unspecified. Valid while the batch is alive and unchanged.
class column_view {
public:
    column_view() = default;
    /// A view of n 64-bit values.
    column_view(const std::int64_t* values, std::size_t n) noexcept : wide_(values), n_(n) {}
    /// A view of n 32-bit values.
    column_view(const std::int32_t* values, std::size_t n) noexcept : narrow_(values), n_(n) {}

    /// Number of values.
    std::size_t size() const noexcept { return n_; }
    /// True when the values are held in 32 bits.
    bool narrow() const noexcept { return narrow_ != nullptr; }
    /// Bits a stored value takes: 32 or 64.
    int bits() const noexcept { return narrow_ ? 32 : 64; }
    /// The values of a 64-bit column; nullptr when the column is narrow.
    const std::int64_t* int64() const noexcept { return wide_; }
    /// The values of a 32-bit column; nullptr when the column is 64-bit.
    const std::int32_t* int32() const noexcept { return narrow_; }
    /// The storage itself, whichever width it has.
    const void* data() const noexcept { return narrow_ ? static_cast<const void*>(narrow_) : wide_; }

    /// The value of one row.
    std::int64_t operator[](std::size_t row) const noexcept { return narrow_ ? narrow_[row] : wide_[row]; }

    /// Copies rows [begin, begin + count) into `out` as int64.
    void copy_to(std::size_t begin, std::size_t count, std::int64_t* out) const noexcept {
        if (narrow_) {
            for (std::size_t i = 0; i < count; ++i) out[i] = narrow_[begin + i];
        } else {
            for (std::size_t i = 0; i < count; ++i) out[i] = wide_[begin + i];
        }
    }

private:
    const std::int64_t* wide_ = nullptr;
    const std::int32_t* narrow_ = nullptr;
    std::size_t n_ = 0;
};

}  // namespace unionstat
