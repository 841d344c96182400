#include "unionstat/forms/batch.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <limits>
#include <new>
#include <unordered_map>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#define UNIONSTAT_HAVE_MMAP 1
#endif

#include "../parallel_for.hpp"
#include "unionstat/forms/cell.hpp"
#include "unionstat/text.hpp"

namespace unionstat {

namespace detail {

std::shared_ptr<std::int64_t> zeroed_int64(std::size_t n, bool huge) {
    const std::size_t bytes = std::max<std::size_t>(n, 1) * sizeof(std::int64_t);
#ifdef UNIONSTAT_HAVE_MMAP
    constexpr std::size_t huge_page = std::size_t(2) << 20;
    huge = huge && bytes >= 2 * huge_page;
    const std::size_t ask = huge ? bytes + huge_page : bytes;
    void* p = ::mmap(nullptr, ask, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    char* base = static_cast<char*>(p);
    std::size_t size = ask;
    if (huge) {  // keep a 2 MiB-aligned start; give the slack before and after back
        const auto addr = reinterpret_cast<std::uintptr_t>(base);
        const std::size_t head = (huge_page - addr % huge_page) % huge_page;
        const std::size_t page = 4096, keep = (bytes + page - 1) / page * page;
        if (head) ::munmap(base, head);
        if (ask - head > keep) ::munmap(base + head + keep, ask - head - keep);
        base += head;
        size = keep;
#ifdef MADV_HUGEPAGE
        ::madvise(base, size, MADV_HUGEPAGE);  // a hint: without it the pages are 4 KiB
#endif
    }
    return std::shared_ptr<std::int64_t>(reinterpret_cast<std::int64_t*>(base), [size](std::int64_t* q) { ::munmap(q, size); });
#else
    (void)huge;
    void* p = std::calloc(bytes / sizeof(std::int64_t), sizeof(std::int64_t));
    if (!p) throw std::bad_alloc();
    return std::shared_ptr<std::int64_t>(static_cast<std::int64_t*>(p), [](std::int64_t* q) { std::free(q); });
#endif
}

void advise_huge(const void* p, std::size_t bytes) noexcept {
#if defined(UNIONSTAT_HAVE_MMAP) && defined(MADV_HUGEPAGE)
    constexpr std::uintptr_t huge_page = std::uintptr_t(2) << 20;
    const auto lo = (reinterpret_cast<std::uintptr_t>(p) + huge_page - 1) / huge_page * huge_page;
    const auto hi = (reinterpret_cast<std::uintptr_t>(p) + bytes) / huge_page * huge_page;
    if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

}  // namespace detail

namespace {

constexpr std::int64_t int32_min = std::numeric_limits<std::int32_t>::min();
constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();

inline bool fits32(std::int64_t v) noexcept { return v >= int32_min && v <= int32_max; }

// The n values as int32 (blanks, per the bitmap `missing` or none, as 0) into `out`;
// false, with `out` unspecified, when a value that is not blank does not fit.
bool narrow_copy(const std::int64_t* v, const std::uint64_t* missing, std::size_t n, std::vector<std::int32_t>& out) {
    out.resize(n);
    std::int32_t* o = out.data();
    for (std::size_t lo = 0; lo < n; lo += 64) {
        const std::size_t hi = std::min(n, lo + 64);
        const std::uint64_t m = missing ? missing[lo >> 6] : 0;
        if (!m) {  // the usual word: no blank, one branch-free pass (v fits when v + 2^31 < 2^32)
            std::uint64_t outside = 0;
            for (std::size_t i = lo; i < hi; ++i) {
                outside |= (static_cast<std::uint64_t>(v[i]) + 0x80000000u) >> 32;
                o[i] = static_cast<std::int32_t>(v[i]);
            }
            if (outside) return false;
            continue;
        }
        for (std::size_t i = lo; i < hi; ++i) {
            if ((m >> (i - lo)) & 1u) {
                o[i] = 0;
            } else {
                if (!fits32(v[i])) return false;
                o[i] = static_cast<std::int32_t>(v[i]);
            }
        }
    }
    return true;
}

}  // namespace

report_batch::report_batch(std::shared_ptr<const form_schema> form) : form_(std::move(form)), columns_(form_->size()) {
    for (auto& c : columns_) c.data32 = c.own32.data();
}

report_batch::report_batch(const report_batch& other)
    : form_(other.form_),
      units_(other.units_),
      periods_(other.periods_),
      row_numbers_(other.row_numbers_),
      columns_(other.columns_) {
    repoint();
}

report_batch& report_batch::operator=(const report_batch& other) {
    if (this != &other) {
        form_ = other.form_;
        units_ = other.units_;
        periods_ = other.periods_;
        row_numbers_ = other.row_numbers_;
        columns_ = other.columns_;
        repoint();
    }
    return *this;
}

// After a copy: owned columns point at their own (copied) values, not the source's.
void report_batch::repoint() {
    for (auto& c : columns_) {
        if (c.owner) continue;
        if (c.narrow) c.data32 = c.own32.data();
        else c.data = c.own.data();
    }
}

void report_batch::reserve(std::size_t n) {
    units_.reserve(n);
    periods_.reserve(n);
    for (auto& c : columns_) {
        if (!c.owner) {
            if (c.narrow) {
                c.own32.reserve(n);
                c.data32 = c.own32.data();
            } else {
                c.own.reserve(n);
                c.data = c.own.data();
            }
        }
        c.missing.reserve((n + 63) / 64);
    }
}

// Makes `c` an owned 64-bit column (widening or copying it): before a write.
void report_batch::own_wide(column_data& c) {
    if (!c.narrow && !c.owner) return;
    std::vector<std::int64_t> w;
    w.reserve(std::max(size(), units_.capacity()));
    if (c.zeros) w.assign(size(), 0);  // (without reading the untouched zero pages)
    else if (c.narrow) w.assign(c.data32, c.data32 + size());
    else w.assign(c.data, c.data + size());
    c.own = std::move(w);
    std::vector<std::int32_t>().swap(c.own32);
    c.owner.reset();
    c.zeros = false;
    c.narrow = false;
    c.data = c.own.data();
    c.data32 = nullptr;
}

// Makes a narrow column `c` owned (copying a borrowed one): before a write that fits.
void report_batch::own_narrow(column_data& c) {
    if (!c.owner) return;
    std::vector<std::int32_t> w;
    w.reserve(std::max(size(), units_.capacity()));
    if (c.zeros) w.assign(size(), 0);
    else w.assign(c.data32, c.data32 + size());
    c.own32 = std::move(w);
    c.owner.reset();
    c.zeros = false;
    c.data32 = c.own32.data();
}

void report_batch::set_bitmap(column_data& c, std::vector<std::uint64_t> missing) {
    c.missing = std::move(missing);
    c.missing.resize((size() + 63) / 64, 0);
    if (size() & 63) c.missing.back() &= (std::uint64_t(1) << (size() & 63)) - 1;  // no bits past the end
    recount(c);
}

void report_batch::resize_rows(std::size_t n) {
    const std::size_t old = units_.size();
    if (old == 0 && n > 0) {
        // Every cell is new and blank: the columns borrow one shared zero buffer that is
        // never written (its pages cost nothing until read; a write copies the column).
        // Zero bytes read as zeros at either width: the columns start narrow.
        std::shared_ptr<const void> zero = detail::zeroed_int64(n);
        const std::size_t words = (n + 63) / 64;
        for (auto& c : columns_) {
            std::vector<std::int64_t>().swap(c.own);
            std::vector<std::int32_t>().swap(c.own32);
            c.narrow = true;
            c.data = nullptr;
            c.data32 = static_cast<const std::int32_t*>(zero.get());
            c.owner = zero;
            c.zeros = true;
            c.missing.assign(words, ~std::uint64_t(0));
            if (n & 63) c.missing.back() = (std::uint64_t(1) << (n & 63)) - 1;
            c.blanks = n;
        }
        return;
    }
    for (auto& c : columns_) {
        if (c.narrow) {
            own_narrow(c);
            c.own32.resize(n, 0);
            c.data32 = c.own32.data();
        } else {
            own_wide(c);
            c.own.resize(n, 0);
            c.data = c.own.data();
        }
        c.missing.resize((n + 63) / 64, 0);
        if (n & 63) c.missing.back() &= (std::uint64_t(1) << (n & 63)) - 1;  // no bits past the end (rows cut off)
        if (n > old) {
            // New rows are blank: set their bits a word at a time.
            std::size_t r = old;
            for (; r < n && (r & 63); ++r) c.missing[r >> 6] |= std::uint64_t(1) << (r & 63);
            if (r < n) {  // r is now word-aligned: whole words from here on
                std::fill(c.missing.begin() + static_cast<std::ptrdiff_t>(r >> 6), c.missing.end(), ~std::uint64_t(0));
                if (n & 63) c.missing.back() &= (std::uint64_t(1) << (n & 63)) - 1;
            }
        }
        recount(c);
    }
}

namespace {
// Unit ids and periods given by a program (a DataFrame's column, add_row) are stripped by
// the readers' rule (detail::trim), as a report made by hand is (report.cpp).
void strip_key(std::string& s) {
    const std::string_view t = detail::trim(s);
    if (t.size() != s.size()) s = std::string(t);
}
}  // namespace

void report_batch::recount(column_data& c) {
    c.blanks = 0;
    for (std::uint64_t w : c.missing) c.blanks += static_cast<std::size_t>(__builtin_popcountll(w));
}

std::size_t report_batch::add_row(std::string unit, std::string period) {
    const std::size_t r = units_.size();
    for (auto& c : columns_) {  // (copies made here see the r rows before this one)
        if (c.narrow) {
            own_narrow(c);
            c.own32.push_back(0);
            c.data32 = c.own32.data();
        } else {
            own_wide(c);
            c.own.push_back(0);
            c.data = c.own.data();
        }
        if (c.missing.size() < (r + 64) / 64) c.missing.push_back(0);
        c.missing[r >> 6] |= std::uint64_t(1) << (r & 63);
        ++c.blanks;
    }
    strip_key(unit);
    strip_key(period);
    units_.push_back(std::move(unit));
    periods_.push_back(std::move(period));
    if (!row_numbers_.empty()) row_numbers_.push_back(static_cast<std::int64_t>(r) + 1);
    return r;
}

std::size_t report_batch::append(const report& rep) {
    if (rep.form_ptr() != form_ && rep.form().id != form_->id)
        throw value_error("report of form " + rep.form().id + " appended to a batch of " + form_->id);
    const std::size_t r = add_row(rep.unit(), rep.period());
    const auto& raw = rep.raw();
    for (std::size_t f = 0; f < raw.size(); ++f)
        if (raw[f]) set_raw(r, f, *raw[f]);
    return r;
}

report_batch::column_data& report_batch::replace_column(std::size_t field, std::size_t n, std::vector<std::uint64_t> missing) {
    if (n != size())
        throw value_error("column " + form_->fields.at(field).code + " has " + std::to_string(n) + " values for " +
                          std::to_string(size()) + " rows");
    column_data& c = columns_.at(field);
    c.owner.reset();
    c.zeros = false;
    set_bitmap(c, std::move(missing));
    return c;
}

void report_batch::set_column_narrow(std::size_t field, std::vector<std::int32_t> values, std::vector<std::uint64_t> missing) {
    column_data& c = replace_column(field, values.size(), std::move(missing));
    std::vector<std::int64_t>().swap(c.own);
    c.own32 = std::move(values);
    c.narrow = true;
    c.data = nullptr;
    c.data32 = c.own32.data();
}

report_batch report_batch::take(const std::vector<std::size_t>& rows) const {
    const std::size_t n = rows.size();
    for (auto r : rows)
        if (r >= size()) throw value_error("row " + std::to_string(r) + " is not a row of a batch of " + std::to_string(size()));
    report_batch out(form_);
    std::vector<std::string> units(n), periods(n);
    std::vector<std::int64_t> numbers(n);
    for (std::size_t i = 0; i < n; ++i) {
        units[i] = units_[rows[i]];
        periods[i] = periods_[rows[i]];
        numbers[i] = row_number(rows[i]);
    }
    out.set_keys(std::move(units), std::move(periods));
    for (std::size_t f = 0; f < columns_.size(); ++f) {
        const column_view v = column(f);
        const std::uint64_t* m = missing_bits(f);
        std::vector<std::uint64_t> missing;
        if (m) {
            missing.assign((n + 63) / 64, 0);
            for (std::size_t i = 0; i < n; ++i)
                if ((m[rows[i] >> 6] >> (rows[i] & 63)) & 1u) missing[i >> 6] |= std::uint64_t(1) << (i & 63);
        }
        if (v.narrow()) {
            std::vector<std::int32_t> vals(n);
            for (std::size_t i = 0; i < n; ++i) vals[i] = v.int32()[rows[i]];
            out.set_column_narrow(f, std::move(vals), std::move(missing));
        } else {
            std::vector<std::int64_t> vals(n);
            for (std::size_t i = 0; i < n; ++i) vals[i] = v.int64()[rows[i]];
            out.set_column(f, std::move(vals), std::move(missing));
        }
    }
    out.set_row_numbers(std::move(numbers));
    return out;
}

void report_batch::set_row_numbers(std::vector<std::int64_t> numbers) {
    if (!numbers.empty() && numbers.size() != size())
        throw value_error(std::to_string(numbers.size()) + " row numbers for " + std::to_string(size()) + " rows");
    row_numbers_ = std::move(numbers);
}

void report_batch::set_keys(std::vector<std::string> units, std::vector<std::string> periods) {
    if (!periods.empty() && periods.size() != units.size())
        throw value_error("periods has " + std::to_string(periods.size()) + " entries for " + std::to_string(units.size()) +
                          " units");
    const std::size_t n = units.size();
    if (periods.empty()) periods.assign(n, std::string());
    if (n != size()) {
        units_.resize(std::min(units_.size(), n));
        resize_rows(n);
        row_numbers_.clear();  // numbered by position again
    }
    for (auto& u : units) strip_key(u);
    for (auto& p : periods) strip_key(p);
    units_ = std::move(units);
    periods_ = std::move(periods);
}

void report_batch::set_raw(std::size_t row, std::size_t field, std::int64_t raw) {
    column_data& c = columns_.at(field);
    if (c.narrow && fits32(raw)) {
        own_narrow(c);
        c.own32[row] = static_cast<std::int32_t>(raw);
    } else {  // a value too wide for 32 bits widens the column for good
        own_wide(c);
        c.own[row] = raw;
    }
    const std::uint64_t bit = std::uint64_t(1) << (row & 63);
    if (c.missing[row >> 6] & bit) {
        c.missing[row >> 6] &= ~bit;
        --c.blanks;
    }
}

void report_batch::set_missing(std::size_t row, std::size_t field) {
    column_data& c = columns_.at(field);  // (the values are not written: no copy)
    if (c.missing.size() < (size() + 63) / 64) c.missing.resize((size() + 63) / 64, 0);
    const std::uint64_t bit = std::uint64_t(1) << (row & 63);
    if (!(c.missing[row >> 6] & bit)) {
        c.missing[row >> 6] |= bit;
        ++c.blanks;
    }
}

void report_batch::set_text(std::size_t row, std::size_t field, std::string_view text) {
    const field_def& f = form_->fields.at(field);
    try {
        const cell c = parse_cell(f, text);
        if (c.state == cell_state::value) set_raw(row, field, c.raw);
        else set_missing(row, field);
    } catch (const error& e) {
        location l;
        l.row = static_cast<std::int64_t>(row);
        l.unit = row < units_.size() ? units_[row] : std::string();
        l.field = f.code;
        if (dynamic_cast<const overflow_error*>(&e)) throw overflow_error(e.message(), l);
        throw value_error(e.message(), l);
    }
}

void report_batch::borrow_column(std::size_t field, const std::int64_t* data, std::shared_ptr<const void> owner,
                                 std::vector<std::uint64_t> missing) {
    borrow(field, data, false, std::move(owner), std::move(missing));
}

void report_batch::borrow_column(std::size_t field, const std::int32_t* data, std::shared_ptr<const void> owner,
                                 std::vector<std::uint64_t> missing) {
    borrow(field, data, true, std::move(owner), std::move(missing));
}

void report_batch::borrow(std::size_t field, const void* data, bool narrow, std::shared_ptr<const void> owner,
                          std::vector<std::uint64_t> missing) {
    column_data& c = columns_.at(field);
    if (!missing.empty() && missing.size() < (size() + 63) / 64)
        throw value_error("missing bitmap too short for column " + form_->fields[field].code);
    std::vector<std::int64_t>().swap(c.own);
    std::vector<std::int32_t>().swap(c.own32);
    c.zeros = false;
    c.narrow = narrow;
    c.data = narrow ? nullptr : static_cast<const std::int64_t*>(data);
    c.data32 = narrow ? static_cast<const std::int32_t*>(data) : nullptr;
    c.owner = owner ? std::move(owner) : std::shared_ptr<const void>(data, [](const void*) {});
    set_bitmap(c, std::move(missing));
}

void report_batch::set_column(std::size_t field, std::vector<std::int64_t> values, std::vector<std::uint64_t> missing) {
    column_data& c = replace_column(field, values.size(), std::move(missing));
    std::vector<std::int32_t> narrow;
    if (narrow_copy(values.data(), c.blanks ? c.missing.data() : nullptr, values.size(), narrow)) {
        std::vector<std::int64_t>().swap(c.own);
        c.own32 = std::move(narrow);
        c.narrow = true;
        c.data = nullptr;
        c.data32 = c.own32.data();
    } else {
        std::vector<std::int32_t>().swap(c.own32);
        c.own = std::move(values);
        c.narrow = false;
        c.data = c.own.data();
        c.data32 = nullptr;
    }
}

std::size_t report_batch::compact() {
    // Columns are independent: the cores take them in turn (a big batch is a pass over
    // memory per column, and a few cores read faster than one; past 8 they only share
    // the memory bus): every core, at most 8. On a failure (out of memory) the column
    // stays as it was.
    std::atomic<std::size_t> narrowed{0};
    const bool small = size() * columns_.size() < (std::size_t(1) << 20);
    const unsigned n = detail::thread_count(0, small ? 1 : std::min<std::size_t>(columns_.size(), 8));
    detail::parallel_for(columns_.size(), n, [&](std::size_t f, unsigned) {
        column_data& c = columns_[f];
        if (c.narrow) return;
        std::vector<std::int32_t> narrow;
        if (!narrow_copy(c.data, c.blanks ? c.missing.data() : nullptr, size(), narrow)) return;
        c.own32 = std::move(narrow);
        std::vector<std::int64_t>().swap(c.own);
        c.owner.reset();
        c.zeros = false;
        c.narrow = true;
        c.data = nullptr;
        c.data32 = c.own32.data();
        ++narrowed;
    });
    return narrowed.load();
}

report report_batch::row(std::size_t i) const {
    if (i >= size()) throw lookup_error("row " + std::to_string(i) + " out of range (" + std::to_string(size()) + " rows)");
    report r(form_, units_[i], periods_[i]);
    for (std::size_t f = 0; f < columns_.size(); ++f) r.set_raw(f, raw(i, f));
    return r;
}

std::ptrdiff_t report_batch::find(std::string_view unit, std::string_view period) const {
    for (std::size_t i = 0; i < units_.size(); ++i)
        if (units_[i] == unit && (period.empty() || periods_[i] == period)) return static_cast<std::ptrdiff_t>(i);
    return -1;
}

}  // namespace unionstat
