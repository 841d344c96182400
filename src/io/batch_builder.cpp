#include "unionstat/io/batch_builder.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <utility>

#include "../parallel_for.hpp"
#include "unionstat/error.hpp"

namespace unionstat {

batch_builder::batch_builder(std::shared_ptr<const form_schema> form, std::vector<std::size_t> fields)
    : form_(std::move(form)), fields_(std::move(fields)), columns_(fields_.size()) {
    std::vector<bool> seen(form_->size(), false);
    for (auto f : fields_) {
        if (f >= form_->size()) throw value_error("field index " + std::to_string(f) + " is not a field of " + form_->id);
        if (seen[f]) throw value_error("field " + form_->fields[f].code + " given twice");
        seen[f] = true;
    }
}

batch_chunk batch_builder::make_chunk(std::size_t rows) const {
    batch_chunk c;
    {
        // A chunk appended before, with its memory: a fresh one would be fresh pages for
        // the kernel to clear (an eighth of an Arrow import's time).
        std::lock_guard<std::mutex> lock(spare_mutex_);
        if (!spare_.empty()) {
            c = std::move(spare_.back());
            spare_.pop_back();
        }
    }
    c.values.resize(fields_.size());
    c.blank.resize(fields_.size());
    c.units.reserve(rows);
    c.periods.reserve(rows);
    c.rows.reserve(rows);
    for (auto& v : c.values) v.reserve(rows);
    for (auto& b : c.blank) b.reserve(rows);
    return c;
}

void batch_builder::reserve(std::size_t rows) {
    units_.reserve(rows);
    periods_.reserve(rows);
    rows_.reserve(rows);
    for (auto& c : columns_) {
        if (c.wide) c.v64.reserve(rows);
        else c.v32.reserve(rows);
        c.missing.reserve((rows + 63) / 64);
    }
}

void batch_builder::append(batch_chunk&& chunk) {
    const std::size_t n = chunk.size(), base = size();
    if (chunk.values.size() != columns_.size() || chunk.blank.size() != columns_.size())
        throw value_error("a chunk with " + std::to_string(chunk.values.size()) + " columns for a builder of " +
                          std::to_string(columns_.size()));
    constexpr std::int64_t lo = std::numeric_limits<std::int32_t>::min(), hi = std::numeric_limits<std::int32_t>::max();
    auto append_column = [&](std::size_t k) {
        column& c = columns_[k];
        const std::vector<std::int64_t>& v = chunk.values[k];
        const std::vector<std::uint8_t>& b = chunk.blank[k];
        if (!c.wide) {
            bool fits = true;
            for (std::size_t i = 0; i < n; ++i) fits &= (b[i] || (v[i] >= lo && v[i] <= hi));
            if (!fits) {  // widen once; every later chunk goes straight to 64 bits
                c.v64.reserve(std::max(c.v32.capacity(), base + n));
                c.v64.assign(c.v32.begin(), c.v32.end());
                std::vector<std::int32_t>().swap(c.v32);
                c.wide = true;
            }
        }
        if (c.wide) {
            c.v64.resize(base + n);
            for (std::size_t i = 0; i < n; ++i) c.v64[base + i] = b[i] ? 0 : v[i];
        } else {
            c.v32.resize(base + n);
            for (std::size_t i = 0; i < n; ++i) c.v32[base + i] = b[i] ? 0 : static_cast<std::int32_t>(v[i]);
        }
        c.missing.resize((base + n + 63) / 64, 0);
        std::uint64_t* words = c.missing.data();
        std::size_t blanks = 0;
        for (std::size_t i = 0; i < n; ++i) {  // branch-free: blanks are scattered
            const std::size_t r = base + i;
            const std::uint64_t bit = b[i] & 1u;
            words[r >> 6] |= bit << (r & 63);
            blanks += bit;
        }
        c.blanks += blanks;
    };
    for (std::size_t k = 0; k < columns_.size(); ++k)
        if (chunk.values[k].size() != n || chunk.blank[k].size() != n) throw value_error("a chunk column of the wrong length");
    // The columns are independent: taken in turn by two cores when the chunk is large
    // (the reader threads feed chunks too, so more would only compete with them).
    const bool large = n * columns_.size() >= (1u << 18);
    detail::parallel_for(columns_.size(), detail::thread_count(2, large ? columns_.size() : 1),
                         [&](std::size_t k, unsigned) { append_column(k); });
    // Taking the chunk's vector whole is only right while it is at least as large as
    // what reserve() set aside (else the reservation is lost); growth is geometric, as
    // an exact reserve on every chunk would copy all rows so far each time.
    auto move_all = [](auto& to, auto& from) {
        if (to.empty() && to.capacity() <= from.capacity()) {
            to = std::move(from);
            return;
        }
        if (to.capacity() < to.size() + from.size()) to.reserve(std::max(to.size() + from.size(), 2 * to.capacity()));
        to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    };
    move_all(units_, chunk.units);
    move_all(periods_, chunk.periods);
    move_all(rows_, chunk.rows);
    move_all(problems_, chunk.problems);
    // Kept for make_chunk, emptied but with its capacity (a few: the chunks in flight).
    for (auto& v : chunk.values) v.clear();
    for (auto& b : chunk.blank) b.clear();
    chunk.units.clear();
    chunk.periods.clear();
    chunk.rows.clear();
    chunk.problems.clear();
    std::lock_guard<std::mutex> lock(spare_mutex_);
    if (spare_.size() < max_spare) spare_.push_back(std::move(chunk));
}

report_batch batch_builder::finish() {
    report_batch b(form_);
    b.set_keys(std::move(units_), std::move(periods_));
    for (std::size_t k = 0; k < columns_.size(); ++k) {
        column& c = columns_[k];
        std::vector<std::uint64_t> missing;
        if (c.blanks) missing = std::move(c.missing);
        if (c.wide) b.set_column(fields_[k], std::move(c.v64), std::move(missing));
        else b.set_column_narrow(fields_[k], std::move(c.v32), std::move(missing));
    }
    b.set_row_numbers(std::move(rows_));
    columns_.assign(fields_.size(), column{});
    units_.clear();
    periods_.clear();
    rows_.clear();
    return b;
}

}  // namespace unionstat
