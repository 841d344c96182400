#pragma once
/// \file arrow_import.hpp
/// Reports from any Arrow producer (pyarrow, polars, duckdb, an XLSX or Parquet reader)
/// through the C data interface: cells parsed exactly in C++ from the Arrow buffers.

#include <memory>
#include <string>

#include "unionstat/forms/schema.hpp"
#include "unionstat/io/arrow_abi.hpp"
#include "unionstat/io/read_result.hpp"

namespace unionstat {

/// How import_arrow reads a table.
struct arrow_import_options {
    /// Refuse columns that are no field and no key (instead of listing them as not read).
    bool strict = false;
    /// The name of an integer input column giving the user's row numbers (an XLSX reader
    /// passes the sheet rows), so that problems name the rows the user sees; that column
    /// is not read as a field. Empty: rows are numbered 1, 2, … across the whole input.
    std::string row_column;
    /// Rows the stream is known to hold (a Parquet file's metadata says), 0 when unknown:
    /// the batch is given room for them at once. Without it the room doubles as record
    /// batches come, and each doubling copies every column (a sixth of a 2.8 M-row read).
    /// A wrong hint costs memory or copies, never rows: the batch holds what the stream has.
    std::size_t expected_rows = 0;
};

/// Reads a stream of record batches into a batch of `form`. Columns are named as in a
/// CSV header (column_map::from_header: `unit`/`单位代码`, optional `period`, fields by
/// code or concept key). Each record batch is parsed and released as soon as its rows
/// are in the batch, so the peak memory is the batch plus one record batch.
///
/// Every bad cell or row (a value that does not fit its field, a missing unit id, a
/// uint64 too large, a float that is not exact at the field's decimals) is a
/// read_problem naming its row, column, unit and field, never an exception. Throws
/// value_error only when the input cannot be read at all: no unit or no field column,
/// a read column of an unsupported Arrow type (a boolean column for a count or money
/// field is a column problem instead), a malformed array (bad format string,
/// missing buffers, decreasing offsets, …), or a producer error; the message names the
/// column. Consumes the stream: it is released whatever happens.
read_result import_arrow(std::shared_ptr<const form_schema> form, ArrowArrayStream* stream,
                         const arrow_import_options& options = {});

/// Reads one record batch given as a struct array (`+s`) and its schema, as
/// `__arrow_c_array__` hands them over. Consumes both: they are released whatever happens.
read_result import_arrow(std::shared_ptr<const form_schema> form, ArrowSchema* schema, ArrowArray* array,
                         const arrow_import_options& options = {});

}  // namespace unionstat
