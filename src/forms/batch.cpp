#include "unionstat/forms/batch.hpp"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#define UNIONSTAT_HAVE_MMAP 1
#endif

#include "unionstat/forms/cell.hpp"

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
    return std::shared_ptr<std::int64_t>(reinterpret_cast<std::int64_t*>(base),
                                         [size](std::int64_t* q) { ::munmap(q, size); });
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

report_batch::report_batch(std::shared_ptr<const form_schema> form)
    : form_(std::move(form)), columns_(form_->size()) {
    for (auto& c : columns_) c.data = c.own.data();
}

void report_batch::reserve(std::size_t n) {
    units_.reserve(n);
    periods_.reserve(n);
    for (auto& c : columns_) {
        if (!c.owner) {
            c.own.reserve(n);
            c.data = c.own.data();
        }
        c.missing.reserve((n + 63) / 64);
    }
}

report_batch::column& report_batch::writable(std::size_t field) {
    column& c = columns_.at(field);
    if (c.owner) {  // copy-on-write: never modify a borrowed buffer
        if (c.zeros) c.own.assign(size(), 0);  // (without reading the untouched zero pages)
        else c.own.assign(c.data, c.data + size());
        c.owner.reset();
        c.zeros = false;
    }
    c.data = c.own.data();
    return c;
}

void report_batch::resize_rows(std::size_t n) {
    const std::size_t old = units_.size();
    if (old == 0 && n > 0) {
        // Every cell is new and blank: the columns borrow one shared zero buffer that is
        // never written (its pages cost nothing until read; a write copies the column).
        std::shared_ptr<const void> zero = detail::zeroed_int64(n);
        const std::size_t words = (n + 63) / 64;
        for (auto& c : columns_) {
            std::vector<std::int64_t>().swap(c.own);
            c.data = static_cast<const std::int64_t*>(zero.get());
            c.owner = zero;
            c.zeros = true;
            c.missing.assign(words, ~std::uint64_t(0));
            if (n & 63) c.missing.back() = (std::uint64_t(1) << (n & 63)) - 1;
            c.blanks = n;
        }
        return;
    }
    for (std::size_t f = 0; f < columns_.size(); ++f) {
        column& c = writable(f);
        c.own.resize(n, 0);
        c.data = c.own.data();
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

void report_batch::recount(column& c) {
    c.blanks = 0;
    for (std::uint64_t w : c.missing) c.blanks += static_cast<std::size_t>(__builtin_popcountll(w));
}

std::size_t report_batch::add_row(std::string unit, std::string period) {
    const std::size_t r = units_.size();
    units_.push_back(std::move(unit));
    periods_.push_back(std::move(period));
    for (auto& c : columns_) {
        if (c.owner) {
            if (c.zeros) c.own.assign(r, 0);
            else c.own.assign(c.data, c.data + r);
            c.owner.reset();
            c.zeros = false;
        }
        c.own.push_back(0);
        c.data = c.own.data();
        if (c.missing.size() < (r + 64) / 64) c.missing.push_back(0);
        c.missing[r >> 6] |= std::uint64_t(1) << (r & 63);
        ++c.blanks;
    }
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

void report_batch::set_keys(std::vector<std::string> units, std::vector<std::string> periods) {
    if (!periods.empty() && periods.size() != units.size())
        throw value_error("periods has " + std::to_string(periods.size()) + " entries for " +
                          std::to_string(units.size()) + " units");
    const std::size_t n = units.size();
    if (periods.empty()) periods.assign(n, std::string());
    if (n != size()) {
        units_.resize(std::min(units_.size(), n));
        resize_rows(n);
    }
    units_ = std::move(units);
    periods_ = std::move(periods);
}

void report_batch::set_raw(std::size_t row, std::size_t field, std::int64_t raw) {
    column& c = writable(field);
    c.own[row] = raw;
    const std::uint64_t bit = std::uint64_t(1) << (row & 63);
    if (c.missing[row >> 6] & bit) {
        c.missing[row >> 6] &= ~bit;
        --c.blanks;
    }
}

void report_batch::set_missing(std::size_t row, std::size_t field) {
    column& c = writable(field);
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
    column& c = columns_.at(field);
    if (!missing.empty() && missing.size() < (size() + 63) / 64)
        throw value_error("missing bitmap too short for column " + form_->fields[field].code);
    c.own.clear();
    c.own.shrink_to_fit();
    c.zeros = false;
    c.data = data;
    c.owner = owner ? std::move(owner) : std::shared_ptr<const void>(data, [](const void*) {});
    c.missing = std::move(missing);
    c.missing.resize((size() + 63) / 64, 0);
    if (size() & 63) c.missing.back() &= (std::uint64_t(1) << (size() & 63)) - 1;  // no bits past the end
    recount(c);
}

void report_batch::set_column(std::size_t field, std::vector<std::int64_t> values, std::vector<std::uint64_t> missing) {
    if (values.size() != size())
        throw value_error("column " + form_->fields.at(field).code + " has " + std::to_string(values.size()) +
                          " values for " + std::to_string(size()) + " rows");
    column& c = columns_.at(field);
    c.owner.reset();
    c.zeros = false;
    c.own = std::move(values);
    c.data = c.own.data();
    c.missing = std::move(missing);
    c.missing.resize((size() + 63) / 64, 0);
    if (size() & 63) c.missing.back() &= (std::uint64_t(1) << (size() & 63)) - 1;  // no bits past the end
    recount(c);
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
