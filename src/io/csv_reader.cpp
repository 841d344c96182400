#include "unionstat/io/csv_reader.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unionstat/checked.hpp"
#include "unionstat/error.hpp"
#include "unionstat/io/batch_builder.hpp"
#include "unionstat/io/column_map.hpp"
#include "unionstat/io/text_decoder.hpp"
#include "unionstat/text.hpp"

namespace unionstat {

namespace {
std::atomic<std::size_t> block_setting{0}, piece_setting{0};  // 0 = the defaults (tests make them small)
}  // namespace

namespace detail {

bool parse_cell_fast(const field_def& field, std::string_view text, cell& out) noexcept {
    if (text.empty()) {
        out = cell{cell_state::blank, 0};
        return true;
    }
    if (field.type == field_type::flag || text.size() > 19) return false;
    std::uint64_t acc = 0;      // unsigned: 19 digits fit (and are then refused below)
    int digits = 0, frac = -1;  // frac: digits after the '.', -1 without one
    for (char ch : text) {
        if (ch >= '0' && ch <= '9') {
            acc = acc * 10 + static_cast<unsigned>(ch - '0');
            ++digits;
            if (frac >= 0) ++frac;
        } else if (ch == '.' && frac < 0 && digits > 0) {
            frac = 0;
        } else {
            return false;
        }
    }
    if (digits > 18 || frac == 0) return false;  // long numbers and "12." are parse_cell's to judge
    if (field.type == field_type::count) {
        if (frac > 0) return false;  // "12.0" is a count of 12, "12.5" an error: parse_cell decides
        out = cell{cell_state::value, static_cast<std::int64_t>(acc)};
        return true;
    }
    const int f = frac < 0 ? 0 : frac;
    if (f > field.scale) return false;  // more decimals than stored: parse_cell words the error
    std::int64_t raw;
    if (!mul_ok(static_cast<std::int64_t>(acc), pow10(field.scale - f), raw)) return false;  // too large: parse_cell says so
    out = cell{cell_state::value, raw};
    return true;
}

void set_csv_block_sizes(std::size_t block, std::size_t piece) noexcept {
    block_setting.store(block, std::memory_order_relaxed);
    piece_setting.store(piece, std::memory_order_relaxed);
}

}  // namespace detail

namespace {

std::size_t block_size() noexcept {  // read from the file at a time
    const std::size_t b = block_setting.load(std::memory_order_relaxed);
    return b ? b : std::size_t(8) << 20;
}
std::size_t piece_size() noexcept {  // records handed to a worker at a time
    const std::size_t p = piece_setting.load(std::memory_order_relaxed);
    return p ? p : std::size_t(1) << 20;
}
constexpr std::size_t detect_bytes = std::size_t(1) << 20;  // judged for the encoding
constexpr int header_search_records = 50;

location at_file(const std::string& file, std::int64_t line = 0) {
    location where;
    where.file = file;
    where.line = static_cast<int>(std::min<std::int64_t>(line, std::numeric_limits<int>::max()));
    return where;
}

// ---------------------------------------------------------------- input bytes

// The bytes of the input, read front to back.
class byte_source {
public:
    virtual ~byte_source() = default;
    // Reads up to n bytes; 0 at the end.
    virtual std::size_t read(char* dst, std::size_t n) = 0;
    // Bytes in all (for estimating the rows), 0 when unknown.
    virtual std::uint64_t size() const noexcept = 0;
    // Bytes worth asking for next (so a small input never costs a whole block of memory).
    virtual std::size_t want(std::size_t block) const noexcept = 0;
};

class file_source final : public byte_source {
public:
    explicit file_source(const std::string& path) : path_(path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw value_error("cannot open '" + path + "': " + std::strerror(errno), at_file(path));
        struct stat st {};
        if (::fstat(fd_, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                ::close(fd_);
                throw value_error("'" + path + "' is a directory, not a CSV file", at_file(path));
            }
            size_ = static_cast<std::uint64_t>(st.st_size);
        }
#ifdef POSIX_FADV_SEQUENTIAL
        ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    ~file_source() override { ::close(fd_); }
    file_source(const file_source&) = delete;
    file_source& operator=(const file_source&) = delete;

    std::size_t read(char* dst, std::size_t n) override {
        std::size_t got = 0;
        while (got < n) {
            const ssize_t r = ::pread(fd_, dst + got, n - got, static_cast<off_t>(offset_));
            if (r < 0) {
                if (errno == EINTR) continue;
                throw value_error(
                    "cannot read '" + path_ + "' at byte offset " + std::to_string(offset_) + ": " + std::strerror(errno),
                    at_file(path_));
            }
            if (r == 0) break;
            got += static_cast<std::size_t>(r);
            offset_ += static_cast<std::uint64_t>(r);
        }
        return got;
    }
    std::uint64_t size() const noexcept override { return size_; }
    std::size_t want(std::size_t block) const noexcept override {  // the file may grow: ask for 64 KiB at least
        const std::uint64_t left = size_ > offset_ ? size_ - offset_ : 0;
        return static_cast<std::size_t>(std::min<std::uint64_t>(block, std::max<std::uint64_t>(left, 65536)));
    }

private:
    std::string path_;
    int fd_ = -1;
    std::uint64_t offset_ = 0, size_ = 0;
};

class memory_source final : public byte_source {
public:
    explicit memory_source(std::string_view bytes) : bytes_(bytes) {}
    std::size_t read(char* dst, std::size_t n) override {
        n = std::min(n, bytes_.size() - pos_);
        if (n) std::memcpy(dst, bytes_.data() + pos_, n);
        pos_ += n;
        return n;
    }
    std::uint64_t size() const noexcept override { return bytes_.size(); }
    std::size_t want(std::size_t block) const noexcept override { return std::min(block, bytes_.size() - pos_); }

private:
    std::string_view bytes_;
    std::size_t pos_ = 0;
};

// The input as UTF-8 text, block by block: detects the encoding from the first MiB,
// skips a BOM and converts other encodings; UTF-8 is validated by whoever reads it
// (the header search here, the workers for the data), with the help of file_offset().
class text_stream {
public:
    text_stream(byte_source& src, const std::string& file, const std::string& forced) : src_(src), file_(file) {
        head_.resize(src_.want(detect_bytes));
        head_.resize(head_.empty() ? 0 : src_.read(&head_[0], head_.size()));
        if (head_.size() < detect_bytes && src_.want(1) > 0) {  // a file longer than its size said
            const std::size_t at = head_.size();
            head_.resize(detect_bytes);
            head_.resize(at + src_.read(&head_[at], detect_bytes - at));
        }
        const bool whole = head_.size() < detect_bytes;
        enc_ = detect_encoding(head_, whole, forced);
        decoder_ = std::make_unique<text_decoder>(enc_.name, file_);
        decoder_->set_offset(enc_.bom);
        head_.erase(0, enc_.bom);
    }

    const detected_encoding& encoding() const noexcept { return enc_; }
    bool passthrough() const noexcept { return decoder_->passthrough(); }

    // Appends the next block of text to `out`; false when the input is exhausted.
    bool next(std::string& out) {
        if (done_) return false;
        const std::size_t block_bytes = block_size();
        if (head_pos_ < head_.size()) {  // the bytes judged for the encoding, a block at a time
            const std::size_t n = std::min(block_bytes, head_.size() - head_pos_);
            decoder_->decode(std::string_view(head_).substr(head_pos_, n), false, out);
            head_pos_ += n;
            if (head_pos_ == head_.size()) std::string().swap(head_);
            return true;
        }
        if (decoder_->passthrough()) {  // read straight into the text buffer: no copy
            const std::size_t at = out.size(), want = src_.want(block_bytes);
            out.resize(at + want);
            const std::size_t got = want ? src_.read(&out[at], want) : 0;
            out.resize(at + got);
            if (got == 0) done_ = true;
            return got > 0;
        }
        raw_.resize(src_.want(block_bytes));
        raw_.resize(raw_.empty() ? 0 : src_.read(&raw_[0], raw_.size()));
        const std::size_t before = out.size();
        decoder_->decode(raw_, raw_.empty(), out);
        if (raw_.empty()) {
            done_ = true;
            return out.size() > before;
        }
        return true;
    }

    // The file offset of decoded byte `pos` (exact for UTF-8, which is not converted).
    std::uint64_t file_offset(std::uint64_t pos) const noexcept { return pos + enc_.bom; }
    std::uint64_t size() const noexcept { return src_.size(); }

private:
    byte_source& src_;
    std::string file_;
    detected_encoding enc_;
    std::unique_ptr<text_decoder> decoder_;
    std::string head_, raw_;
    std::size_t head_pos_ = 0;
    bool done_ = false;
};

// ---------------------------------------------------------------- records

// One field of a record as the parser found it.
struct raw_field {
    std::size_t off = 0, len = 0;  // in the text, or in the arena when unescaped
    bool in_arena = false;
    bool junk = false;  // text after a closing quote ("12"3)
};

// Splits records into fields. The grammar, shared with the boundary scanner so that both
// agree where records end: a field that starts with '"' is quoted up to the next lone
// '"' ("" is a quote inside); any other '"' is an ordinary character; records end at
// '\n' outside quotes, and a '\r' before it is dropped.
class record_parser {
public:
    explicit record_parser(char delimiter) : delim_(delimiter) {}

    enum class status { record, incomplete, unterminated };

    // Parses the record at text[pos, end). On `record`, `next` is past its newline (or
    // `end` for a last line without one) and `lines` the newlines it spans. On
    // `unterminated` (only when `at_eof`), the record runs to the end of the text inside
    // a quote opened at `quote_line` lines below its start, in field `fields().size()`.
    status parse(const char* text, std::size_t pos, std::size_t end, bool at_eof) {
        text_ = text;
        fields_.clear();
        arena_.clear();
        lines = 0;
        std::size_t s = pos;
        for (;;) {
            raw_field f;
            if (s < end && text[s] == '"') {
                const status st = quoted_field(text, pos, s, end, at_eof, f);
                if (st != status::record) return st;
                junk_after_quote(text, s, end, f);
            } else {
                plain_field(text, s, end, at_eof, f);
            }
            fields_.push_back(f);
            if (s >= end) {
                if (!at_eof) return status::incomplete;
                next = end;
                return status::record;
            }
            if (text[s] == delim_) {
                ++s;
                continue;
            }
            ++lines;  // the record's newline
            next = s + 1;
            return status::record;
        }
    }

    std::size_t size() const noexcept { return fields_.size(); }
    std::string_view field(std::size_t i) const noexcept {
        const raw_field& f = fields_[i];
        return f.in_arena ? std::string_view(arena_.data() + f.off, f.len) : std::string_view(text_ + f.off, f.len);
    }
    bool junk(std::size_t i) const noexcept { return fields_[i].junk; }

    std::size_t next = 0;
    std::int64_t lines = 0, quote_line = 0;

private:
    // The end of the field from text[s]: the next delimiter or '\n', or `end`.
    std::size_t field_end(const char* text, std::size_t s, std::size_t end) const noexcept {
        std::size_t t = s;
        while (t < end && text[t] != delim_ && text[t] != '\n') ++t;
        return t;
    }

    // The quoted field opening at text[s] (the record starting at `pos`): `record` with
    // `s` past its closing quote, or `incomplete`/`unterminated` as parse() returns them.
    status quoted_field(const char* text, std::size_t pos, std::size_t& s, std::size_t end, bool at_eof, raw_field& f) {
        const std::size_t open = s;
        ++s;
        std::size_t start = s;
        bool escaped = false;
        for (;;) {
            const void* hit = std::memchr(text + s, '"', end - s);
            if (!hit) {
                if (!at_eof) return status::incomplete;
                quote_line = count_newlines(pos, open);
                lines = count_newlines(pos, end);
                next = end;
                return status::unterminated;
            }
            const std::size_t q = static_cast<std::size_t>(static_cast<const char*>(hit) - text);
            if (q + 1 == end && !at_eof) return status::incomplete;  // "" or the closing quote?
            if (q + 1 < end && text[q + 1] == '"') {
                if (!escaped) {
                    escaped = true;
                    f.in_arena = true;
                    f.off = arena_.size();
                }
                arena_.append(text + s, q + 1 - s);
                s = q + 2;
                continue;
            }
            lines += count_newlines(start, q);
            if (escaped) {
                arena_.append(text + s, q - s);
                f.len = arena_.size() - f.off;
            } else {
                f.off = start;
                f.len = q - start;
            }
            s = q + 1;
            return status::record;
        }
    }

    // Text between a closing quote at text[s - 1] and the field's end ("12"3): kept with
    // the field in the arena and marked as junk. `s` moves to the field's end.
    void junk_after_quote(const char* text, std::size_t& s, std::size_t end, raw_field& f) {
        std::size_t t = field_end(text, s, end);
        std::size_t junk_end = t;
        if (junk_end > s && text[junk_end - 1] == '\r' && t < end) --junk_end;  // CRLF after the quote
        if (junk_end > s) {
            if (!f.in_arena) {
                const std::size_t o = arena_.size();
                arena_.append(text + f.off, f.len);
                f.off = o;
                f.in_arena = true;
            }
            arena_.append(text + s, junk_end - s);
            f.len = arena_.size() - f.off;
            f.junk = true;
        }
        s = t;
    }

    // The unquoted field from text[s], without the '\r' of a CRLF; `s` moves to its end.
    void plain_field(const char* text, std::size_t& s, std::size_t end, bool at_eof, raw_field& f) const noexcept {
        std::size_t t = field_end(text, s, end);
        f.off = s;
        f.len = t - s;
        if (f.len && text[t - 1] == '\r' && (t < end || at_eof)) --f.len;
        s = t;
    }

    std::int64_t count_newlines(std::size_t a, std::size_t b) const noexcept {
        return b > a ? static_cast<std::int64_t>(std::count(text_ + a, text_ + b, '\n')) : 0;
    }
    const char* text_ = nullptr;
    char delim_;
    std::vector<raw_field> fields_;
    std::string arena_;
};

// Finds record boundaries quote-aware by looking only at the quotes (found with memchr,
// so a file without quotes is scanned at memory speed): the same grammar as
// record_parser. The text scanned always begins at a record's start.
class boundary_scanner {
public:
    explicit boundary_scanner(char delimiter) : delim_(delimiter) {}

    // Advances over text[pos_, to); returns the position after the last newline outside
    // quotes in that range, or npos. Stops early before a quote whose meaning depends on
    // the byte after `to` unless `final`.
    std::size_t scan(const char* text, std::size_t to, bool final) {
        std::size_t last = std::string::npos;
        std::size_t i = pos_;
        while (i < to) {
            const void* hit = std::memchr(text + i, '"', to - i);
            const std::size_t q = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - text) : to;
            if (!quoted_) {
                if (const void* nl = memrchr(text + i, '\n', q - i))
                    last = static_cast<std::size_t>(static_cast<const char*>(nl) - text) + 1;
                if (!hit) {
                    i = to;
                    break;
                }
                if (q == 0 || text[q - 1] == delim_ || text[q - 1] == '\n') quoted_ = true;
                i = q + 1;
            } else {
                if (!hit) {
                    i = to;
                    break;
                }
                if (q + 1 >= to && !final) {
                    i = q;  // "" or a closing quote: the next block tells
                    break;
                }
                if (q + 1 < to && text[q + 1] == '"') {
                    i = q + 2;
                    continue;
                }
                quoted_ = false;
                i = q + 1;
            }
        }
        pos_ = i;
        return last;
    }
    // The text before `at` is dropped: positions move back by `at`.
    void rebase(std::size_t at) noexcept { pos_ -= at; }
    std::size_t position() const noexcept { return pos_; }

private:
    char delim_;
    std::size_t pos_ = 0;
    bool quoted_ = false;
};

// ---------------------------------------------------------------- parsing a piece

// What every worker needs to know about the columns.
struct layout {
    const form_schema* form = nullptr;
    std::string file;
    char delim = ',';
    bool validate_utf8 = false;
    enum kind : std::int32_t { ignored = -1, unnamed = -2, unit = -3, period = -4 };
    std::vector<std::int32_t> action;      // per header column: the chunk's field index k, or a kind
    std::vector<std::string> names;        // header names as written (trimmed)
    std::vector<const field_def*> fields;  // per chunk field k
    std::size_t width = 0;                 // header columns
    std::size_t width_eff = 0;             // up to the last named one
    int unit_col = -1, period_col = -1;
};

// One run of complete records for a worker.
struct piece {
    std::shared_ptr<const std::string> text;
    std::size_t begin = 0, end = 0;
    std::int64_t first_line = 1;    // the line of the file where the piece starts
    std::uint64_t file_offset = 0;  // of text[begin], for UTF-8 errors
    std::int64_t lines = 0;         // newlines in the piece (counted by the dispatcher)
    bool last = false;              // ends the file (may end without a newline, or in a quote)
};

struct piece_result {
    batch_chunk chunk;
    std::optional<value_error> fatal;  // bytes that are not UTF-8: the whole read fails
    std::exception_ptr failure;        // anything else unexpected (out of memory)
};

std::string quote_brief(std::string_view s, std::size_t max_points = 40) {
    std::string out;
    std::size_t points = 0, i = 0;
    while (i < s.size() && points < max_points) {
        std::size_t len = 1;
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0xF0) len = 4;
        else if (c >= 0xE0) len = 3;
        else if (c >= 0xC0) len = 2;
        out.append(s.substr(i, len));
        i += len;
        ++points;
    }
    if (i < s.size()) out += "…";
    return out;
}

bool blank_text(std::string_view s) noexcept { return detail::trim(s).empty(); }

std::string too_large_message(const field_def& f, std::string_view text) {
    const std::string t(detail::trim(text));
    const std::string max = format_scaled(std::numeric_limits<std::int64_t>::max(), f.scale);
    if (!t.empty() && (t[0] == '-' || t.rfind("－", 0) == 0)) return "'" + t + "' is out of range (at least -" + max + ")";
    return "'" + t + "' is too large (at most " + max + (f.unit.empty() ? "" : " " + f.unit) + ")";
}

// Whether `p` ends a field: the delimiter, or the record's '\n' or "\r\n".
inline bool field_ends(const char* p, char d) noexcept { return *p == d || *p == '\n' || (*p == '\r' && p[1] == '\n'); }

// Skips the rest of a field; false on a quote (the general path's grammar decides).
inline bool skip_field(const char*& p, char d) noexcept {
    for (;;) {
        const char ch = *p;
        if (ch == d || ch == '\n') return true;
        if (ch == '"') return false;
        ++p;
    }
}

// The text of a field [f, e), without the '\r' of a CRLF.
inline std::string_view stripped(const char* f, const char* e) noexcept {
    if (e > f && e[-1] == '\r') --e;
    return std::string_view(f, static_cast<std::size_t>(e - f));
}

// The cell at `s` as plain ASCII digits with an optional '.' ("1234", "12.50", or
// blank), stored in `v`/`b`; false for anything else (`s` is then past the digits read).
inline bool fast_number(const field_def& fd, char d, const char*& s, std::int64_t& v, std::uint8_t& b) noexcept {
    std::uint64_t acc = 0;
    int digits = 0, frac = 0;
    bool point = false;
    for (unsigned x; (x = static_cast<unsigned char>(*s) - '0') < 10; ++s, ++digits) acc = acc * 10 + x;
    if (*s == '.') {
        point = true;
        ++s;
        for (unsigned x; (x = static_cast<unsigned char>(*s) - '0') < 10; ++s, ++frac) acc = acc * 10 + x;
    }
    if (!field_ends(s, d) || digits + frac > 18 || fd.type == field_type::flag || (point && (digits == 0 || frac == 0)))
        return false;
    if (digits + frac == 0) {
        v = 0;
        b = 1;
        return true;
    }
    if (fd.type == field_type::count) {
        if (point) return false;
        v = static_cast<std::int64_t>(acc);
        b = 0;
        return true;
    }
    std::int64_t raw;
    if (frac > fd.scale || !detail::mul_ok(static_cast<std::int64_t>(acc), detail::pow10(fd.scale - frac), raw)) return false;
    v = raw;
    b = 0;
    return true;
}

// The cell from `f` that fast_number did not take (full-width digits, "1,234", "—", …):
// parse_cell, as the general path would. False for a quote or a bad cell, which the
// general path lists.
inline bool parsed_cell(const field_def& fd, char d, const char* f, const char*& s, std::int64_t& v, std::uint8_t& b) noexcept {
    if (!skip_field(s, d)) return false;
    try {
        const cell c = parse_cell(fd, stripped(f, s));
        v = c.state == cell_state::value ? c.raw : 0;
        b = c.state == cell_state::value ? 0 : 1;
    } catch (...) {
        return false;
    }
    return true;
}

// A column that is not a field (action `a`): ignored, unnamed (must be empty), or the
// unit or period (taken when not blank and without surrounding space).
inline bool other_column(std::int32_t a, char d, const char*& s, std::string_view& unit, std::string_view& period) noexcept {
    const char* f = s;
    if (!skip_field(s, d)) return false;
    if (a == layout::ignored) return true;
    const std::string_view t = stripped(f, s);
    if (a == layout::unnamed) return t.empty();
    if (t.empty() || detail::trim(t).size() != t.size()) return false;
    (a == layout::unit ? unit : period) = t;
    return true;
}

// The fast path for the ordinary record: no quote anywhere, the header's width, a unit
// and period without surrounding space, every cell a number (or blank) that parse_cell
// takes, unnamed columns and the fields past the header empty. It splits and parses in
// one pass over the bytes and writes row `row` of the chunk's columns, and unit/period.
// Returns the position past the record's '\n', or nullptr for any other record, which
// the general path then parses again from the start: problems are found and worded in
// one place only. `s` must start a record with a '\n' at or after it in the text.
const char* fast_record(const layout& lay, const char* s, std::int64_t* const* col_v, std::uint8_t* const* col_b, std::size_t row,
                        std::string_view& unit, std::string_view& period) noexcept {
    const char d = lay.delim;  // a copy: a store to a byte column could alias lay.delim
    std::size_t c = 0;
    for (;;) {
        if (c < lay.width) {
            const std::int32_t a = lay.action[c];
            if (a >= 0) {
                const field_def& fd = *lay.fields[static_cast<std::size_t>(a)];
                const char* f = s;
                std::int64_t v;
                std::uint8_t b;
                if (!fast_number(fd, d, s, v, b) && !parsed_cell(fd, d, f, s, v, b)) return nullptr;
                col_v[a][row] = v;
                col_b[a][row] = b;
            } else if (!other_column(a, d, s, unit, period)) {
                return nullptr;
            }
        } else if (!field_ends(s, d)) {
            return nullptr;  // something past the header's width
        }
        if (*s == d) {
            ++s;
            ++c;
            continue;
        }
        if (*s == '\r') ++s;
        if (*s != '\n' || c + 1 < lay.width_eff) return nullptr;
        return s + 1;
    }
}

// A piece's chunk as it is filled: columns sized for every line up front and written by
// index (one store a cell, not a push_back), then cut to the rows taken.
struct piece_columns {
    piece_result res;
    std::vector<std::int64_t*> col_v;
    std::vector<std::uint8_t*> col_b;
    std::size_t rows = 0;

    piece_columns(const layout& lay, const piece& pc) : col_v(lay.fields.size()), col_b(lay.fields.size()) {
        const std::size_t nfields = lay.fields.size();
        res.chunk.values.resize(nfields);
        res.chunk.blank.resize(nfields);
        const std::size_t rows_max = static_cast<std::size_t>(pc.lines) + 1;
        res.chunk.units.reserve(rows_max);
        res.chunk.periods.reserve(rows_max);
        res.chunk.rows.reserve(rows_max);
        for (std::size_t k = 0; k < nfields; ++k) {
            res.chunk.values[k].resize(rows_max);
            res.chunk.blank[k].resize(rows_max);
            col_v[k] = res.chunk.values[k].data();
            col_b[k] = res.chunk.blank[k].data();
        }
    }

    // A new row (all blank until its cells are read); its index.
    std::size_t add_row(std::string_view unit, std::string_view period, std::int64_t line) {
        res.chunk.units.emplace_back(unit);
        res.chunk.periods.emplace_back(period);
        res.chunk.rows.push_back(line);
        return rows++;
    }

    void problem(std::int64_t row, int column, std::string unit, std::string field, std::string cell_text, std::string message) {
        read_problem p;
        p.row = row;
        p.column = column;
        p.unit = std::move(unit);
        p.field = std::move(field);
        p.text = std::move(cell_text);
        p.message = std::move(message);
        res.chunk.problems.push_back(std::move(p));
    }

    piece_result finish() {
        for (std::size_t k = 0; k < col_v.size(); ++k) {
            res.chunk.values[k].resize(rows);
            res.chunk.blank[k].resize(rows);
        }
        return std::move(res);
    }
};

// The piece's first byte that is not valid UTF-8 as the fatal error, when lay says to check.
bool bad_utf8(const layout& lay, const piece& pc, piece_result& res) {
    if (!lay.validate_utf8) return false;
    const std::string_view span(pc.text->data() + pc.begin, pc.end - pc.begin);
    const std::size_t ok = utf8_valid_prefix(span);
    if (ok == span.size()) return false;
    const std::int64_t line = pc.first_line + std::count(span.begin(), span.begin() + ok, '\n');
    res.fatal = value_error("bytes that are not valid UTF-8 at byte offset " + std::to_string(pc.file_offset + ok) + " (line " +
                                std::to_string(line) + "); pass the file's encoding (gb18030, utf-16…)",
                            at_file(lay.file, line));
    return true;
}

// A cell of a field in row i of a record the slow path read; its problems reported.
void slow_cell(const layout& lay, const record_parser& rp, std::size_t c, std::int64_t here, std::string_view unit, std::size_t i,
               piece_columns& out) {
    const auto a = static_cast<std::size_t>(lay.action[c]);
    const field_def& f = *lay.fields[a];
    const std::string_view t = rp.field(c);
    cell v;
    if (rp.junk(c)) {
        out.problem(here, static_cast<int>(c) + 1, std::string(unit), f.code, std::string(t),
                    "text after the closing quote of a quoted cell");
        return;
    }
    if (!detail::parse_cell_fast(f, t, v)) {
        try {
            v = parse_cell(f, t);
        } catch (const value_error& e) {
            out.problem(here, static_cast<int>(c) + 1, std::string(unit), f.code, std::string(detail::trim(t)), e.message());
            return;
        } catch (const overflow_error&) {
            out.problem(here, static_cast<int>(c) + 1, std::string(unit), f.code, std::string(detail::trim(t)),
                        too_large_message(f, t));
            return;
        }
    }
    if (v.state == cell_state::value) {
        out.col_v[a][i] = v.raw;
        out.col_b[a][i] = 0;
    }
}

// A record the fast path did not take (quotes, problems, short or long lines), from
// line `here`: a row, or the problems that keep it out.
void slow_record(const layout& lay, const record_parser& rp, std::int64_t here, piece_columns& out) {
    const std::string L = "line " + std::to_string(here);
    const std::size_t n = rp.size();
    std::size_t last_filled = 0;  // 1 + index of the last field that is not blank
    for (std::size_t c = n; c > 0; --c)
        if (!blank_text(rp.field(c - 1))) {
            last_filled = c;
            break;
        }
    if (last_filled == 0) return;  // an empty line, or only commas and spaces
    if (last_filled > lay.width)
        return out.problem(here, 0, {}, {}, {},
                           L + " has " + std::to_string(last_filled) + " fields, the header has " + std::to_string(lay.width) +
                               "; the row was not read");
    if (n < lay.width_eff)
        return out.problem(here, 0, {}, {}, {},
                           L + " has " + std::to_string(n) + " fields, the header has " + std::to_string(lay.width_eff) +
                               "; the row was not read");
    const std::string_view unit = detail::trim(rp.field(static_cast<std::size_t>(lay.unit_col)));
    if (unit.empty())
        return out.problem(here, lay.unit_col + 1, {}, {}, {},
                           L + ": the unit (column " + std::to_string(lay.unit_col + 1) + " '" + lay.names[lay.unit_col] +
                               "') is blank; the row was not read");
    std::string_view period;
    if (lay.period_col >= 0 && static_cast<std::size_t>(lay.period_col) < n)
        period = detail::trim(rp.field(static_cast<std::size_t>(lay.period_col)));
    const std::size_t i = out.add_row(unit, period, here);
    for (std::size_t k = 0; k < out.col_v.size(); ++k) {
        out.col_v[k][i] = 0;
        out.col_b[k][i] = 1;
    }
    const std::size_t cols = std::min(n, lay.width);
    for (std::size_t c = 0; c < cols; ++c) {
        const std::int32_t a = lay.action[c];
        if (a >= 0) {
            slow_cell(lay, rp, c, here, unit, i, out);
        } else if (a == layout::unnamed) {
            const std::string_view t = rp.field(c);
            if (!blank_text(t))
                out.problem(here, static_cast<int>(c) + 1, std::string(unit), {}, std::string(detail::trim(t)),
                            L + ", column " + std::to_string(c + 1) + ": '" + quote_brief(detail::trim(t)) +
                                "' under a column without a name (such columns must be empty)");
        } else if (a == layout::period && period.empty()) {
            out.problem(here, static_cast<int>(c) + 1, std::string(unit), lay.names[c], {},
                        L + ": the period (column " + std::to_string(c + 1) + " '" + lay.names[c] + "') is blank");
        }
    }
}

piece_result parse_piece(const layout& lay, const piece& pc) {
    piece_columns out(lay, pc);
    if (bad_utf8(lay, pc, out.res)) return std::move(out.res);
    const char* text = pc.text->data();
    record_parser rp(lay.delim);
    std::size_t pos = pc.begin;
    std::int64_t line = pc.first_line;
    // Records that start before safe_end have a '\n' ahead: the fast path needs no bounds.
    const void* last_nl = pc.end > pc.begin ? memrchr(text + pc.begin, '\n', pc.end - pc.begin) : nullptr;
    const std::size_t safe_end = last_nl ? static_cast<std::size_t>(static_cast<const char*>(last_nl) - text) + 1 : pc.begin;
    const bool has_period = lay.period_col >= 0;
    while (pos < pc.end) {
        if (pos < safe_end) {
            std::string_view unit, period;
            const char* next = fast_record(lay, text + pos, out.col_v.data(), out.col_b.data(), out.rows, unit, period);
            if (next && (!has_period || !period.empty())) {
                out.add_row(unit, period, line);
                pos = static_cast<std::size_t>(next - text);
                ++line;
                continue;
            }
        }
        const auto st = rp.parse(text, pos, pc.end, pc.last);
        const std::int64_t here = line;
        line += rp.lines;
        pos = rp.next;
        if (st == record_parser::status::incomplete) break;  // cannot happen: pieces end at boundaries
        if (st == record_parser::status::unterminated) {
            const std::int64_t opened = here + rp.quote_line;
            out.problem(here, static_cast<int>(rp.size()) + 1, {}, {}, {},
                        "a quote opened on line " + std::to_string(opened) + " (field " + std::to_string(rp.size() + 1) +
                            ") is never closed; the record from line " + std::to_string(here) +
                            " to the end of the file was not read");
            break;
        }
        slow_record(lay, rp, here, out);
    }
    return out.finish();
}

// ---------------------------------------------------------------- workers

// Parses pieces on `n` threads; results are taken back strictly in submission order.
class piece_pool {
public:
    piece_pool(const layout& lay, unsigned n) : lay_(lay) {
        for (unsigned t = 0; t < n; ++t) threads_.emplace_back([this] { work(); });
    }
    ~piece_pool() {
        {
            std::lock_guard<std::mutex> g(m_);
            stop_ = true;
        }
        cv_work_.notify_all();
        for (auto& t : threads_) t.join();
    }
    piece_pool(const piece_pool&) = delete;
    piece_pool& operator=(const piece_pool&) = delete;

    void submit(piece p) {
        {
            std::lock_guard<std::mutex> g(m_);
            queue_.emplace_back(submitted_++, std::move(p));
        }
        cv_work_.notify_one();
    }
    std::size_t in_flight() const noexcept { return submitted_ - taken_; }
    // The result of the oldest piece not yet taken (waits for it).
    piece_result take() {
        std::unique_lock<std::mutex> g(m_);
        cv_done_.wait(g, [&] { return done_.count(taken_) > 0; });
        auto it = done_.find(taken_);
        piece_result r = std::move(it->second);
        done_.erase(it);
        ++taken_;
        return r;
    }

private:
    void work() {
        for (;;) {
            std::pair<std::size_t, piece> job;
            {
                std::unique_lock<std::mutex> g(m_);
                cv_work_.wait(g, [&] { return stop_ || !queue_.empty(); });
                if (stop_) return;
                job = std::move(queue_.front());
                queue_.pop_front();
            }
            piece_result r;
            try {
                r = parse_piece(lay_, job.second);
            } catch (...) {
                r.failure = std::current_exception();
            }
            job.second.text.reset();  // free the block as soon as its last piece is parsed
            {
                std::lock_guard<std::mutex> g(m_);
                done_.emplace(job.first, std::move(r));
            }
            cv_done_.notify_all();
        }
    }

    const layout& lay_;
    std::vector<std::thread> threads_;
    std::mutex m_;
    std::condition_variable cv_work_, cv_done_;
    std::deque<std::pair<std::size_t, piece>> queue_;
    std::map<std::size_t, piece_result> done_;
    std::size_t submitted_ = 0, taken_ = 0;
    bool stop_ = false;
};

// ---------------------------------------------------------------- the whole read

struct header_found {
    column_map map;
    std::vector<std::string> names;
    std::size_t end = 0;    // text position after the header record
    std::int64_t line = 0;  // the header's line
    std::int64_t next_line = 0;
    std::vector<std::pair<std::int64_t, std::string>> skipped;  // non-empty lines above it
};

// Looks for the header among the first records of text[0, size) with `delim`; sets
// `need_more` when the records ran past the text read so far.
std::optional<header_found> find_header(const std::string& text, bool at_eof, char delim, const form_schema& form, bool strict,
                                        bool& need_more) {
    record_parser rp(delim);
    std::size_t pos = 0;
    std::int64_t line = 1;
    header_found h;
    need_more = false;
    for (int r = 0; r < header_search_records && (pos < text.size()); ++r) {
        const auto st = rp.parse(text.data(), pos, text.size(), at_eof);
        if (st == record_parser::status::incomplete) {
            need_more = true;
            return std::nullopt;
        }
        if (st == record_parser::status::unterminated) return std::nullopt;
        std::vector<std::string> names(rp.size());
        for (std::size_t i = 0; i < rp.size(); ++i) names[i] = std::string(rp.field(i));
        if (auto m = column_map::from_header(form, names, line, strict)) {
            h.map = std::move(*m);
            h.names = std::move(names);
            h.end = rp.next;
            h.line = line;
            h.next_line = line + rp.lines;
            return h;
        }
        std::string shown;
        for (const auto& n : names) {
            const std::string_view t = detail::trim(n);
            if (t.empty()) continue;
            if (!shown.empty()) shown += ' ';
            shown += t;
        }
        if (!shown.empty()) h.skipped.emplace_back(line, std::move(shown));
        line += rp.lines;
        pos = rp.next;
    }
    need_more = !at_eof && pos >= text.size();  // fewer than 50 records read so far
    return std::nullopt;
}

// Checks the UTF-8 read so far (when the stream passes bytes through), before any of it
// is looked at; a character cut by the end is checked again with the next block.
class utf8_guard {
public:
    utf8_guard(const text_stream& in, const std::string& file) : in_(in), file_(file) {}

    void operator()(const std::string& text, bool at_eof) {
        if (!in_.passthrough()) return;
        const std::string_view rest(text.data() + validated_, text.size() - validated_);
        std::size_t whole = 0;
        const std::size_t ok = utf8_valid_prefix(rest, !at_eof, &whole);
        if (ok != rest.size()) {
            const std::int64_t line =
                1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(validated_ + ok), '\n');
            throw value_error("bytes that are not valid UTF-8 at byte offset " +
                                  std::to_string(in_.file_offset(validated_ + ok)) + " (line " + std::to_string(line) +
                                  "); pass the file's encoding (gb18030, utf-16…)",
                              at_file(file_, line));
        }
        validated_ += whole;
    }

private:
    const text_stream& in_;
    const std::string& file_;
    std::size_t validated_ = 0;
};

// The header: the first record (of the first 50) that names the unit and a field, with
// commas, else with tabs (Excel's "Unicode text"); reads on while the records run past
// the text read so far. Sets `delim`.
header_found locate_header(text_stream& in, std::string& text, const std::string& file, const form_schema& form,
                           const csv_options& options, char& delim) {
    utf8_guard validate(in, file);
    bool at_eof = !in.next(text);
    validate(text, at_eof);
    std::optional<header_found> header;
    delim = ',';
    for (;;) {
        bool more_comma = false, more_tab = false;
        header = find_header(text, at_eof, ',', form, options.strict, more_comma);
        if (!header) {
            header = find_header(text, at_eof, '\t', form, options.strict, more_tab);
            if (header) delim = '\t';
        }
        if (header || at_eof || !(more_comma || more_tab)) break;
        at_eof = !in.next(text);
        validate(text, at_eof);
    }
    if (!header)
        throw value_error("no header row found in the first " + std::to_string(header_search_records) +
                              " lines: a header names the unit column (unit, 单位代码, 填报单位, 单位, …) and at least one "
                              "field of " +
                              form.id + " by code (e.g. " +
                              (form.fields.empty() ? std::string("01A") : form.fields.front().code) + ") or concept key",
                          at_file(file));
    return std::move(*header);
}

// What the reader says about the file besides its rows: the encoding, the delimiter,
// lines skipped above the header, columns ignored; the header's problems.
void header_notices(const text_stream& in, const csv_options& options, char delim, header_found& header, const form_schema& form,
                    read_result& result) {
    result.encoding = in.encoding().name;
    const detected_encoding& enc = in.encoding();
    if (enc.name != "utf-8" && enc.name != "utf-8-sig" && options.encoding.empty())
        result.notices.push_back("read as " + enc.name + " (" + enc.reason + ")");
    if (delim == '\t') result.notices.push_back("the columns are separated by tabs");
    if (!header.skipped.empty() || header.line > 1) {
        std::string s = "skipped " + std::to_string(header.line - 1) + " line(s) above the header";
        for (std::size_t i = 0; i < header.skipped.size(); ++i) {
            if (i == 3) {
                s += ", …";
                break;
            }
            s += (i ? ", line " : ": line ") + std::to_string(header.skipped[i].first) + " '" +
                 quote_brief(header.skipped[i].second) + "'";
        }
        result.notices.push_back(s);
    }
    column_map& map = header.map;
    result.problems = std::move(map.problems);
    if (!map.ignored.empty()) {
        std::string s = "ignored " + std::to_string(map.ignored.size()) + " column(s) that are no field of " + form.id + ":";
        for (std::size_t i = 0; i < map.ignored.size(); ++i) {
            s += (i ? ", column " : " column ") + std::to_string(map.ignored[i] + 1) + " '" + map.ignored_names[i] + "'";
            result.ignored_columns.push_back(map.ignored_names[i]);
        }
        result.notices.push_back(s);
    }
}

// What each column of a record is (a field, the unit, the period, ignored, unnamed).
layout make_layout(const form_schema& form, const std::string& file, char delim, bool validate_utf8, const header_found& header) {
    const column_map& map = header.map;
    layout lay;
    lay.form = &form;
    lay.file = file;
    lay.delim = delim;
    lay.validate_utf8 = validate_utf8;
    lay.width = header.names.size();
    lay.action.assign(lay.width, layout::ignored);
    for (int c : map.unnamed) lay.action[static_cast<std::size_t>(c)] = layout::unnamed;
    for (std::size_t k = 0; k < map.fields.size(); ++k) {
        lay.action[static_cast<std::size_t>(map.field_columns[k])] = static_cast<std::int32_t>(k);
        lay.fields.push_back(&form.fields[map.fields[k]]);
    }
    lay.unit_col = map.unit;
    lay.period_col = map.period;
    lay.action[static_cast<std::size_t>(map.unit)] = layout::unit;
    if (map.period >= 0) lay.action[static_cast<std::size_t>(map.period)] = layout::period;
    for (const auto& n : header.names) lay.names.emplace_back(detail::trim(n));
    for (std::size_t c = 0; c < lay.width; ++c)
        if (lay.action[c] != layout::unnamed) lay.width_eff = c + 1;
    return lay;
}

// Pieces to the parser threads (or parsed here, with one thread) and their chunks into
// the builder, in file order; at most 2 pieces a thread in flight.
class piece_feed {
public:
    piece_feed(const layout& lay, batch_builder& builder, const byte_source& src, const csv_options& options)
        : lay_(lay), builder_(builder), src_(src), options_(options) {
        const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
        const unsigned threads = std::min(options.threads == 0 ? hw : options.threads, 256u);
        if (threads > 1) pool_ = std::make_unique<piece_pool>(lay, threads);
        max_in_flight_ = 2 * static_cast<std::size_t>(threads);
    }

    void dispatch(piece pc) {
        if (!pool_) {
            piece_result r = parse_piece(lay_, pc);
            pc.text.reset();
            absorb(std::move(r), &pc);
            return;
        }
        if (!first_piece_) {
            first_piece_ = pc;
            first_piece_->text.reset();
        }
        while (pool_->in_flight() >= max_in_flight_) absorb(pool_->take(), &*first_piece_);
        pool_->submit(std::move(pc));
    }

    void drain() {
        if (pool_)
            while (pool_->in_flight() > 0) absorb(pool_->take(), first_piece_ ? &*first_piece_ : nullptr);
        pool_.reset();
    }

private:
    void absorb(piece_result r, const piece* pc) {
        if (r.failure) std::rethrow_exception(r.failure);
        if (r.fatal) throw *r.fatal;
        if (!reserved_ && pc && pc->lines > 0 && src_.size() > 0) {
            // Rows expected from the first piece's line length; untouched memory is free.
            const double per_line = static_cast<double>(pc->end - pc->begin) / static_cast<double>(pc->lines);
            builder_.reserve(static_cast<std::size_t>(static_cast<double>(src_.size()) / per_line * 1.1) + 1024);
            reserved_ = true;
        }
        builder_.append(std::move(r.chunk));
        if (options_.progress) options_.progress(builder_.size());
    }

    const layout& lay_;
    batch_builder& builder_;
    const byte_source& src_;
    const csv_options& options_;
    std::unique_ptr<piece_pool> pool_;
    std::size_t max_in_flight_ = 0;
    bool reserved_ = false;
    std::optional<piece> first_piece_;  // kept (without its text) for the reserve estimate
};

// The data: text from the header's end on (`buf`, whose [0] is at file offset
// `buf_offset`, line `line`), cut into pieces at record boundaries as blocks are read.
void feed_pieces(text_stream& in, const byte_source& src, std::shared_ptr<std::string> buf, std::uint64_t buf_offset,
                 std::int64_t line, char delim, piece_feed& feed) {
    boundary_scanner scanner(delim);
    auto make_piece = [&](std::size_t begin, std::size_t end) {
        piece pc;
        pc.text = buf;
        pc.begin = begin;
        pc.end = end;
        pc.first_line = line;
        pc.file_offset = buf_offset + begin;
        pc.lines =
            std::count(buf->begin() + static_cast<std::ptrdiff_t>(begin), buf->begin() + static_cast<std::ptrdiff_t>(end), '\n');
        line += pc.lines;
        return pc;
    };
    for (;;) {
        // Cut what is complete into pieces of about piece_bytes.
        const std::size_t piece_bytes = piece_size();
        std::size_t start = 0, cut = std::string::npos;
        while (scanner.position() < buf->size()) {
            // At least two bytes: a quote inside quotes needs the byte after it to be judged.
            const std::size_t to = std::min(buf->size(), scanner.position() + std::max<std::size_t>(piece_bytes, 2));
            const std::size_t c = scanner.scan(buf->data(), to, false);
            if (c != std::string::npos) cut = c;
            const bool block_end = to == buf->size();
            if (cut == std::string::npos || cut <= start || (cut - start < piece_bytes / 2 && !block_end)) {
                if (block_end) break;  // the scanner waits before a quote at the very end
                continue;
            }
            feed.dispatch(make_piece(start, cut));
            start = cut;
            if (block_end) break;
        }
        // Carry the unfinished record into a fresh buffer and read on.
        auto next = std::make_shared<std::string>();
        next->reserve(buf->size() - start + std::min<std::size_t>(block_size(), src.want(block_size())) * 2 + 64);
        next->assign(*buf, start, std::string::npos);
        scanner.rebase(start);
        buf_offset += start;
        buf = std::move(next);
        if (!in.next(*buf)) break;
    }
    if (!buf->empty()) {  // the last record(s): no newline at the end, or an open quote
        piece pc = make_piece(0, buf->size());
        pc.last = true;
        feed.dispatch(std::move(pc));
    }
}

read_result read_stream(byte_source& src, const std::string& file, std::shared_ptr<const form_schema> form,
                        const csv_options& options) {
    if (!form) throw value_error("read_csv needs a form", at_file(file));
    text_stream in(src, file, options.encoding);
    std::string text;
    char delim = ',';
    header_found header = locate_header(in, text, file, *form, options, delim);
    read_result result{report_batch(form)};
    header_notices(in, options, delim, header, *form, result);
    const layout lay = make_layout(*form, file, delim, in.passthrough(), header);

    batch_builder builder(std::move(form), header.map.fields);  // its last use: the builder keeps it
    piece_feed feed(lay, builder, src, options);
    auto buf = std::make_shared<std::string>();
    buf->assign(text, header.end, std::string::npos);
    const std::uint64_t buf_offset = in.file_offset(header.end);  // file offset of (*buf)[0] (UTF-8 only)
    std::string().swap(text);
    feed_pieces(in, src, std::move(buf), buf_offset, header.next_line, delim, feed);
    feed.drain();

    auto& found = builder.problems();
    result.problems.insert(result.problems.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    found.clear();
    result.batch = builder.finish();
    return result;
}

}  // namespace

read_result read_csv(const std::string& path, std::shared_ptr<const form_schema> form, const csv_options& options) {
    file_source src(path);
    return read_stream(src, path, std::move(form), options);
}

read_result read_csv_text(std::string_view bytes, const std::string& name, std::shared_ptr<const form_schema> form,
                          const csv_options& options) {
    memory_source src(bytes);
    return read_stream(src, name, std::move(form), options);
}

}  // namespace unionstat
