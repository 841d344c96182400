#pragma once
/// \file batch.hpp
/// Many reports on one form, stored by column.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/forms/column_view.hpp"
#include "unionstat/forms/report.hpp"
#include "unionstat/forms/schema.hpp"

namespace unionstat {

namespace detail {
/// `n` int64 zeros on fresh pages straight from the system (anonymous mmap where there is
/// one, else calloc): nothing is written, so pages that are never touched cost neither
/// memory nor time, and a caller that fills the buffer faults each page in once, without
/// a memset first. With `huge`, the buffer is aligned to 2 MiB and Linux is asked for
/// transparent huge pages (a large buffer then costs ~1/512 of the page faults). Freed
/// with the last copy of the pointer.
std::shared_ptr<std::int64_t> zeroed_int64(std::size_t n, bool huge = false);

/// Asks Linux for transparent huge pages over the whole 2 MiB pages inside
/// [p, p + bytes) (a large buffer not yet written then costs ~1/512 of the page faults);
/// a no-op elsewhere and for small buffers. A hint: nothing else changes.
void advise_huge(const void* p, std::size_t bytes) noexcept;
}  // namespace detail

/// Many reports of one form, stored by column: one contiguous array per field (raw
/// values scaled by the field's storage scale) plus a missing-value bitmap (bit set =
/// blank). A column whose values all fit in 32 bits is held in 32 bits ("narrow": most
/// count columns, and money columns of modest size), any other in 64; `column()` reads
/// either. Columns filled cell by cell or with set_column() are narrow while their
/// values fit and widen at the first that does not; borrowed columns keep the width they
/// come in (compact() narrows them by copying). The value under a set missing bit is
/// unspecified; readers must consult the bitmap. Columns may be borrowed from an
/// external buffer (numpy, Arrow) without copying; writing to a borrowed column copies
/// it first.
class report_batch {
public:
    /// An empty batch for a form.
    explicit report_batch(std::shared_ptr<const form_schema> form);
    /// A copy: owned columns are copied, borrowed ones stay borrowed (shared owners).
    report_batch(const report_batch& other);
    report_batch& operator=(const report_batch& other);
    report_batch(report_batch&&) noexcept = default;
    report_batch& operator=(report_batch&&) noexcept = default;

    const form_schema& form() const noexcept { return *form_; }
    const std::shared_ptr<const form_schema>& form_ptr() const noexcept { return form_; }

    /// Number of reports (rows).
    std::size_t size() const noexcept { return units_.size(); }
    /// Number of fields (columns).
    std::size_t width() const noexcept { return columns_.size(); }

    /// Reserves space for n rows.
    void reserve(std::size_t n);

    /// Appends a row with every value blank; returns its index.
    std::size_t add_row(std::string unit, std::string period);
    /// Appends a report of the same form (throws value_error if the form differs).
    std::size_t append(const report& r);
    /// Sets the unit ids and periods of all rows at once (resizing every column to
    /// `units.size()` rows, new cells blank). `periods` may be empty (all "") or one per row.
    /// On an empty batch the blank columns share one untouched zero buffer (no memory
    /// until a column is written, which copies it first), so that setting the keys and
    /// then every column (set_column, borrow_column) fills nothing twice.
    void set_keys(std::vector<std::string> units, std::vector<std::string> periods);

    /// Sets a stored raw value (no domain check; see report_batch::set_text for input).
    void set_raw(std::size_t row, std::size_t field, std::int64_t raw);
    /// Marks a cell blank.
    void set_missing(std::size_t row, std::size_t field);
    /// Parses cell text into a cell; throws value_error naming row, unit and field.
    void set_text(std::size_t row, std::size_t field, std::string_view text);

    /// Borrows an external int64 column of `size()` values (no copy; held in 64 bits).
    /// `owner` keeps the buffer alive; `missing` is a bitmap of ceil(size/64) words or
    /// empty (none blank).
    void borrow_column(std::size_t field, const std::int64_t* data, std::shared_ptr<const void> owner,
                       std::vector<std::uint64_t> missing = {});
    /// Borrows an external int32 column of `size()` values (no copy; held narrow).
    void borrow_column(std::size_t field, const std::int32_t* data, std::shared_ptr<const void> owner,
                       std::vector<std::uint64_t> missing = {});
    /// Replaces a column with owned values, held in 32 bits when every value that is
    /// not blank fits.
    void set_column(std::size_t field, std::vector<std::int64_t> values, std::vector<std::uint64_t> missing = {});
    /// Replaces a column with owned 32-bit values (held narrow, no copy).
    void set_column_narrow(std::size_t field, std::vector<std::int32_t> values, std::vector<std::uint64_t> missing = {});
    /// Holds every column whose non-blank values all fit in 32 bits narrow, copying the
    /// borrowed ones (their buffers are then released). Values are unchanged; blanks read
    /// 0 afterwards. Returns the number of columns narrowed.
    std::size_t compact();

    /// The stored values of a column (size() entries, 32- or 64-bit).
    column_view column(std::size_t field) const noexcept {
        const column_data& c = columns_[field];
        return c.narrow ? column_view(c.data32, size()) : column_view(c.data, size());
    }
    /// The missing bitmap of a column: ceil(size()/64) words, or nullptr when no cell is blank.
    const std::uint64_t* missing_bits(std::size_t field) const noexcept {
        return columns_[field].blanks ? columns_[field].missing.data() : nullptr;
    }
    /// True when the cell is blank.
    bool is_missing(std::size_t row, std::size_t field) const noexcept {
        const auto* m = missing_bits(field);
        return m && ((m[row >> 6] >> (row & 63)) & 1u);
    }
    /// The stored value of a cell, nullopt when blank.
    std::optional<std::int64_t> raw(std::size_t row, std::size_t field) const noexcept {
        if (is_missing(row, field)) return std::nullopt;
        return column(field)[row];
    }

    /// Unit ids, one per row.
    const std::vector<std::string>& units() const noexcept { return units_; }
    /// Periods, one per row.
    const std::vector<std::string>& periods() const noexcept { return periods_; }

    /// The row number the user knows each row by (the line of the file it was read
    /// from, the sheet row, …), or empty when the rows are numbered by position.
    const std::vector<std::int64_t>& row_numbers() const noexcept { return row_numbers_; }
    /// Row i's number as the user knows it: row_numbers()[i], or i + 1 without them.
    std::int64_t row_number(std::size_t i) const noexcept {
        return i < row_numbers_.size() ? row_numbers_[i] : static_cast<std::int64_t>(i) + 1;
    }
    /// Sets the user's row numbers (one per row, or empty for positions).
    void set_row_numbers(std::vector<std::int64_t> numbers);

    /// A batch of the given rows, in the order given (a row may appear more than once):
    /// keys, row numbers and values copied, each column at its width.
    report_batch take(const std::vector<std::size_t>& rows) const;

    /// Row i as a report.
    report row(std::size_t i) const;

    /// First row index of (unit, period) or -1. Builds an index on first use.
    std::ptrdiff_t find(std::string_view unit, std::string_view period = {}) const;

private:
    struct column_data {
        std::vector<std::int64_t> own;         // owned 64-bit values
        std::vector<std::int32_t> own32;       // owned 32-bit values
        const std::int64_t* data = nullptr;    // the values when 64-bit
        const std::int32_t* data32 = nullptr;  // the values when narrow
        bool narrow = true;                    // held in 32 bits (data32), else in 64 (data)
        std::shared_ptr<const void> owner;     // non-null when borrowed
        std::vector<std::uint64_t> missing;
        std::size_t blanks = 0;  // set bits of `missing`, kept exact: no bitmap means no blank
        bool zeros = false;      // borrows the shared zero buffer of set_keys: a copy is just zeros
    };
    void repoint();
    void borrow(std::size_t field, const void* data, bool narrow, std::shared_ptr<const void> owner,
                std::vector<std::uint64_t> missing);
    // Checks a new column's length and resets `field` to an owned column with that bitmap.
    column_data& replace_column(std::size_t field, std::size_t n, std::vector<std::uint64_t> missing);
    void own_wide(column_data& c);
    void own_narrow(column_data& c);
    void set_bitmap(column_data& c, std::vector<std::uint64_t> missing);
    static void recount(column_data& c);
    void resize_rows(std::size_t n);

    std::shared_ptr<const form_schema> form_;
    std::vector<std::string> units_, periods_;
    std::vector<std::int64_t> row_numbers_;
    std::vector<column_data> columns_;
};

}  // namespace unionstat
