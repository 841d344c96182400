#pragma once
/// \file read_result.hpp
/// What a reader gives back: the batch, and everything it found wrong or left out.

#include <string>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/io/read_problem.hpp"

namespace unionstat {

/// The outcome of reading reports (a CSV file, an Arrow stream, a sheet). Readers do
/// not throw for bad cells or rows: they list them all in `problems`, so that a user
/// sees every mistake of a file at once; a caller that needs clean input refuses a
/// result with problems (the Python layer and the command line do). They throw only
/// when the input cannot be read at all (no such file, undecodable bytes, no header).
struct read_result {
    /// The rows read (rows with bad cells included, the bad cells blank). Row numbers
    /// (`report_batch::row_number`) are the user's: file lines, sheet rows, positions.
    report_batch batch;
    /// Bad cells, rows and columns, in row order (header problems first).
    std::vector<read_problem> problems;
    /// Things done that the user should hear of, as sentences: lines skipped above the
    /// header, columns that are no field and were not read, the encoding detected.
    std::vector<std::string> notices;
    /// Names of input columns that are no field of the form and were not read.
    std::vector<std::string> ignored_columns;
    /// The encoding the bytes were read in ("utf-8", "gb18030", "utf-16le", …), when
    /// the input was bytes.
    std::string encoding;

    explicit read_result(report_batch b) : batch(std::move(b)) {}
};

}  // namespace unionstat
