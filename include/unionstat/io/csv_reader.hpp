#pragma once
/// \file csv_reader.hpp
/// Reports from CSV files as office software writes them (Excel in GBK or UTF-16,
/// title lines above the header, trailing commas), parsed on every core straight into
/// a report_batch, without a string per cell.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "unionstat/forms/cell.hpp"
#include "unionstat/forms/schema.hpp"
#include "unionstat/io/read_result.hpp"

namespace unionstat {

/// How to read a CSV file.
struct csv_options {
    /// "" = detect (BOM, else UTF-8 if the first MiB is valid UTF-8, else GB18030); or one
    /// of "utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "utf-16", "utf-16le",
    /// "utf-16be" (case-insensitive). Another name is a value_error.
    std::string encoding;
    /// Columns that are no field (备注, 填报人) are problems instead of being ignored.
    bool strict = false;
    /// Parsing threads; 0 = every core. 1 parses on the calling thread only.
    unsigned threads = 0;
    /// Called on the calling thread with the number of rows read so far, after each
    /// run of rows is added to the batch (so a progress bar can follow a large file).
    std::function<void(std::size_t rows)> progress;
};

/// Reads a CSV file of reports on `form`. The header is the first record within the
/// first 50 that names the unit column and at least one field (title and 填报单位 lines
/// above it are skipped, with a notice); columns are the fields, the unit, an optional
/// period and ignored text columns (see column_map). Records follow RFC 4180 (quotes,
/// "" escapes, delimiters and newlines inside quotes; LF or CRLF); a file whose header
/// is separated by tabs (Excel's "Unicode text") is read as tab-separated.
///
/// Row numbers (`report_batch::row_numbers()`, `read_problem::row`) are the physical
/// lines of the file where each record starts. Every bad cell, row and column is listed
/// in `problems` (in line order, header problems first); rows with a bad structure (too
/// many or too few fields, a blank unit, an unterminated quote) are not put in the
/// batch, rows with bad cells are, the bad cells blank.
///
/// Throws value_error with `location.file` (and `line` where it applies) only when the
/// file cannot be read at all: it does not exist or cannot be read, its bytes are not
/// valid in the encoding (forced or detected; line and byte offset named), or no header
/// is found.
read_result read_csv(const std::string& path, std::shared_ptr<const form_schema> form, const csv_options& options = {});

/// Reads CSV from bytes in memory, as read_csv does a file; `name` stands for the file
/// name in errors.
read_result read_csv_text(std::string_view bytes, const std::string& name, std::shared_ptr<const form_schema> form,
                          const csv_options& options = {});

namespace detail {
/// The fast path of the CSV reader for the common cell: plain ASCII digits with at most
/// one '.' inside, no sign, no space, at most 18 digits, of a count or money field
/// (an empty text is blank). Sets `out` exactly as parse_cell would and returns true;
/// returns false (leaving `out` alone) for every other text, which must then go through
/// parse_cell: that keeps one definition of what a cell means, and errors worded once.
bool parse_cell_fast(const field_def& field, std::string_view text, cell& out) noexcept;

/// For tests and fuzzing: the size of the blocks read (default 8 MiB) and of the runs of
/// records parsed by one worker (default 1 MiB); 0 restores a default. Tiny sizes make
/// every boundary case (a record, a quote, a character cut by a block) happen in a small
/// input, and the result must not change. Applies to reads started afterwards.
void set_csv_block_sizes(std::size_t block, std::size_t piece) noexcept;
}  // namespace detail

}  // namespace unionstat
