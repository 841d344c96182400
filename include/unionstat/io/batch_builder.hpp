#pragma once
/// \file batch_builder.hpp
/// Assembles a report_batch from chunks of rows that readers (CSV, Arrow) parse
/// independently, so that parsing runs on every core while the batch is built once.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/forms/schema.hpp"
#include "unionstat/io/read_problem.hpp"

namespace unionstat {

/// A run of consecutive input rows, parsed but not yet in the batch. Shaped by
/// batch_builder::make_chunk for the fields the input carries; one reader thread fills
/// one chunk. Cell values are the exact stored raw values (as parse_cell gives them).
struct batch_chunk {
    std::vector<std::string> units;    ///< unit id per row
    std::vector<std::string> periods;  ///< period per row ("" when the input has none)
    std::vector<std::int64_t> rows;    ///< the user's row number per row (see read_problem::row)
    /// values[k][i]: raw value of the builder's k-th field in row i (0 under a blank).
    std::vector<std::vector<std::int64_t>> values;
    /// blank[k][i]: 1 when that cell is blank (missing or not applicable), else 0.
    std::vector<std::vector<std::uint8_t>> blank;
    /// Everything wrong in these rows, in row order.
    std::vector<read_problem> problems;

    /// Rows in the chunk.
    std::size_t size() const noexcept { return units.size(); }
    /// Appends a row whose cells are all blank and returns its index.
    std::size_t add_row(std::string unit, std::string period, std::int64_t row) {
        units.push_back(std::move(unit));
        periods.push_back(std::move(period));
        rows.push_back(row);
        for (auto& v : values) v.push_back(0);
        for (auto& b : blank) b.push_back(1);
        return units.size() - 1;
    }
    /// Sets the k-th field of row i.
    void set(std::size_t k, std::size_t i, std::int64_t raw) noexcept {
        values[k][i] = raw;
        blank[k][i] = 0;
    }
};

/// Builds one report_batch from chunks appended in input order. Columns grow in 32 bits
/// while their values fit and widen once at the first that does not, so a batch of
/// counts never exists in 64 bits (the peak memory of a read is the batch plus the
/// chunks in flight). Fields the input does not carry are blank in every row.
class batch_builder {
public:
    /// A builder for `form` whose input carries `fields` (form field indices, each once).
    batch_builder(std::shared_ptr<const form_schema> form, std::vector<std::size_t> fields);

    /// The form field index of each of the input's fields, in the order of the chunks' columns.
    const std::vector<std::size_t>& fields() const noexcept { return fields_; }
    /// An empty chunk with one column per input field, with room for `rows` rows.
    batch_chunk make_chunk(std::size_t rows = 0) const;
    /// Appends a chunk's rows after those appended so far; its problems are kept.
    void append(batch_chunk&& chunk);
    /// Rows appended so far.
    std::size_t size() const noexcept { return units_.size(); }
    /// Problems of every chunk appended so far, in row order; readers may add their own.
    std::vector<read_problem>& problems() noexcept { return problems_; }
    /// Reserves room for `rows` rows in every column (untouched memory costs nothing).
    void reserve(std::size_t rows);
    /// The batch of every row appended (row numbers kept); the builder is empty afterwards.
    report_batch finish();

private:
    struct column {
        std::vector<std::int32_t> v32;
        std::vector<std::int64_t> v64;
        bool wide = false;
        std::vector<std::uint64_t> missing;  // one bit a row, set = blank
        std::size_t blanks = 0;
    };
    std::shared_ptr<const form_schema> form_;
    std::vector<std::size_t> fields_;
    std::vector<column> columns_;
    std::vector<std::string> units_, periods_;
    std::vector<std::int64_t> rows_;
    std::vector<read_problem> problems_;
    // Chunks already appended, kept with their memory for make_chunk (called from
    // reader threads, hence the lock).
    static constexpr std::size_t max_spare = 16;
    mutable std::mutex spare_mutex_;
    mutable std::vector<batch_chunk> spare_;
};

}  // namespace unionstat
