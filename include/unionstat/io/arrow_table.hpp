#pragma once
/// \file arrow_table.hpp
/// Results leave as Arrow: a columnar table built in C++ and handed to any Arrow
/// consumer (pyarrow, polars, duckdb) through the C data and stream interfaces, without
/// a copy and without a Python object per row.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/io/arrow_abi.hpp"

namespace unionstat {

/// A table of named, typed columns of equal length, exported through the Arrow C
/// interfaces. Blanks are nulls. Money columns are decimal128(38, scale) built from
/// exact raw values (raw × 10^-scale), never floats. Columns are immutable once added
/// and shared: an exported struct keeps the columns it points at alive through its
/// release callback, so the table may die before the consumer releases what it got.
class result_table {
public:
    /// The Arrow types a column can have.
    enum class column_type { int64, int32, uint32, float64, boolean, utf8, decimal128 };

    /// An empty table (no columns, no rows).
    result_table();

    /// Number of rows (that of the first column; 0 without columns).
    std::size_t num_rows() const noexcept { return rows_; }
    /// Number of columns.
    std::size_t num_columns() const noexcept { return columns_.size(); }
    /// Column names in order.
    std::vector<std::string> column_names() const;
    /// The type of column i.
    column_type type(std::size_t i) const;

    // Adding columns. Every column has num_rows() values (the first sets it; a column of
    // another length is refused with value_error). `missing` is a bitmap of ceil(n/64)
    // words, bit set = null (the report_batch convention), or empty when nothing is
    // null. `nullable` is what the Arrow schema says of the column.

    /// An int64 column.
    void add_int64(std::string name, std::vector<std::int64_t> values, std::vector<std::uint64_t> missing = {},
                   bool nullable = true);
    /// An int32 column.
    void add_int32(std::string name, std::vector<std::int32_t> values, std::vector<std::uint64_t> missing = {},
                   bool nullable = true);
    /// A uint32 column.
    void add_uint32(std::string name, std::vector<std::uint32_t> values, std::vector<std::uint64_t> missing = {},
                    bool nullable = true);
    /// A float64 column (ratios and shares; never money).
    void add_float64(std::string name, std::vector<double> values, std::vector<std::uint64_t> missing = {}, bool nullable = true);
    /// A boolean column (values 0/1, bit-packed on export).
    void add_bool(std::string name, const std::vector<std::uint8_t>& values, std::vector<std::uint64_t> missing = {},
                  bool nullable = true);
    /// A UTF-8 column from strings.
    void add_utf8(std::string name, const std::vector<std::string>& values, std::vector<std::uint64_t> missing = {},
                  bool nullable = true);
    /// A UTF-8 column from string views (copied).
    void add_utf8(std::string name, const std::vector<std::string_view>& values, std::vector<std::uint64_t> missing = {},
                  bool nullable = true);
    /// A UTF-8 column from Arrow-style offsets (n + 1 non-decreasing entries into `bytes`).
    void add_utf8(std::string name, std::vector<std::int64_t> offsets, std::string bytes, std::vector<std::uint64_t> missing = {},
                  bool nullable = true);
    /// A decimal128(38, scale) column from int64 raw values: value = raw × 10^-scale,
    /// exact (money as stored in a batch).
    void add_decimal(std::string name, const std::vector<std::int64_t>& raw, int scale, std::vector<std::uint64_t> missing = {},
                     bool nullable = true);

    /// Writes the table's schema (a struct `+s` of its columns) to `out`.
    void export_schema(ArrowSchema* out) const;
    /// Writes the whole table as one struct array and its schema (`__arrow_c_array__`).
    void export_array(ArrowSchema* schema, ArrowArray* array) const;
    /// Writes a stream of record batches of at most `batch_rows` rows each (0: one
    /// batch; an empty table gives none). The batches are slices: no data is copied.
    void export_stream(ArrowArrayStream* out, std::size_t batch_rows = 0) const;

    /// Implementation detail: one stored column (defined in the .cpp).
    struct column;

private:
    void add(std::shared_ptr<column> c, std::size_t n);
    std::vector<std::shared_ptr<const column>> columns_;
    std::size_t rows_ = 0;
};

/// A batch as a table: `row` (the user's row number, int64), `unit`, `period` (utf8),
/// then every field by code: counts int64, money decimal128(38, field.scale), flags
/// bool; blanks are nulls (never 0).
result_table batch_to_table(const report_batch& batch);

}  // namespace unionstat
