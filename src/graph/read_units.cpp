// Units files: CSV (RFC 4180, UTF-8) and YAML (yaml-cpp, keys checked strictly), both
// read into org_unit listings and validated by hierarchy_builder.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <set>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "../parallel_for.hpp"
#include "unionstat/graph/hierarchy.hpp"
#include "unionstat/graph/hierarchy_builder.hpp"
#include "unionstat/text.hpp"
#include "../utf8_check.hpp"

namespace unionstat {

namespace {

location place(const std::string& file, int line, int column = 0, const std::string& unit = {});

// A units file, open and checked to be a regular file.
struct open_file {
    int fd = -1;
    std::size_t size = 0;
    open_file(const std::string& path) {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw hierarchy_error("cannot open units file " + path + ": " + std::strerror(errno), {}, place(path, 0));
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            throw hierarchy_error("units file " + path + " is not a regular file", {}, place(path, 0));
        }
        size = static_cast<std::size_t>(st.st_size);
    }
    ~open_file() { ::close(fd); }
    open_file(const open_file&) = delete;
    open_file& operator=(const open_file&) = delete;
};

// The whole file in one read of its size (a stream's rdbuf copy was a sixth of a
// 2.8 M-unit load).
std::string read_file(const std::string& path) {
    open_file f(path);
    std::string text(f.size, '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t r = ::read(f.fd, text.data() + got, text.size() - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw hierarchy_error("cannot read units file " + path + ": " + std::strerror(errno), {}, place(path, 0));
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
    }
    text.resize(got);
    return text;
}

// A file mapped read-only: the listings view the page cache itself, with no copy and no
// buffer to clear (a file that cannot be mapped is read instead).
class mapped_text {
public:
    explicit mapped_text(const std::string& path) {
        open_file f(path);
        if (f.size > 0) {
            void* p = ::mmap(nullptr, f.size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, f.fd, 0);
            if (p != MAP_FAILED) {
                data_ = static_cast<const char*>(p);
                size_ = f.size;
                return;
            }
        }
        copy_ = read_file(path);
    }
    ~mapped_text() {
        if (data_) ::munmap(const_cast<char*>(data_), size_);
    }
    mapped_text(const mapped_text&) = delete;
    mapped_text& operator=(const mapped_text&) = delete;
    std::string_view text() const noexcept { return data_ ? std::string_view(data_, size_) : std::string_view(copy_); }

private:
    const char* data_ = nullptr;
    std::size_t size_ = 0;
    std::string copy_;
};

location place(const std::string& file, int line, int column, const std::string& unit) {
    location l;
    l.file = file;
    l.line = line;
    l.column = column;
    l.unit = unit;
    return l;
}

// Units files are UTF-8: one saved as GBK is refused at its first foreign byte, naming
// the line, instead of handing names of mojibake to Python (a UnicodeDecodeError later).
void require_utf8(std::string_view text, const std::string& name) {
    const auto bad = detail::utf8_invalid_offset(text);
    if (bad == std::string_view::npos) return;
    const auto [line, column] = detail::line_column_at(text, bad);
    throw hierarchy_error(detail::not_utf8_message(text, bad, "the units file"), {}, place(name, line, column));
}

const char* level_choices = "national, province, city, county, grassroots (or 全总, 省级, 地市级, 县级, 基层)";
const char* kind_choices = "regional, industry, direct, enterprise (or 地方, 产业, 直属, 企业)";

// Calls f(id) for each id of a secondary_parents cell (views into `text`).
template <class F>
void split_parents(std::string_view text, F&& f) {
    // ';' or the full-width '；' (EF BC 9B) separate ids.
    std::size_t start = 0;
    auto flush = [&](std::size_t end) {
        auto t = detail::trim(text.substr(start, end - start));
        if (!t.empty()) f(t);
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == ';') {
            flush(i);
            start = i + 1;
        } else if (i + 2 < text.size() && static_cast<unsigned char>(text[i]) == 0xEF &&
                   static_cast<unsigned char>(text[i + 1]) == 0xBC && static_cast<unsigned char>(text[i + 2]) == 0x9B) {
            flush(i);
            i += 2;
            start = i + 1;
        }
    }
    flush(text.size());
}

std::vector<std::string> split_parents(std::string_view text) {
    std::vector<std::string> out;
    split_parents(text, [&](std::string_view id) { out.emplace_back(id); });
    return out;
}

// ---------------------------------------------------------------------------------------
// CSV

// A cell of a record: a view into the text, or, for a quoted cell with doubled quotes,
// into the reader's arena (unescaped). Its place (line, column) is worked out only when
// an error needs it.
struct csv_cell {
    std::string_view text;
    int line = 0;
    std::size_t offset = 0;      // where the cell starts in the text
    std::size_t line_start = 0;  // where its line starts
};

// Records of RFC 4180 text, one streaming pass: no copy of an unquoted cell (most are),
// blank lines and lines starting with '#' skipped.
class csv_reader {
public:
    csv_reader(std::string_view text, const std::string& name, std::deque<std::string>& arena)
        : s_(text), name_(name), arena_(arena) {
        if (s_.size() >= 3 && s_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = line_start_ = 3;
    }
    // A reader of the records in [begin, end) of the text, the first on line `line`.
    csv_reader(std::string_view text, std::size_t begin, std::size_t end, int line, const std::string& name,
               std::deque<std::string>& arena)
        : s_(text.substr(0, end)), name_(name), pos_(begin), line_start_(begin), line_(line), arena_(arena) {}

    std::size_t position() const noexcept { return pos_; }
    int line() const noexcept { return line_; }

    // Next record; false at the end. Views stay valid until the reader is destroyed.
    bool next(std::vector<csv_cell>& cells, int& record_line) {
        if (!skip_blank_and_comment_lines()) return false;
        cells.clear();
        record_line = line_;
        for (;;) {
            csv_cell c;
            c.line = line_;
            c.offset = pos_;
            c.line_start = line_start_;
            if (pos_ < s_.size() && s_[pos_] == '"') quoted_cell(c);
            else plain_cell(c);
            cells.push_back(c);
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            skip_line();
            return true;
        }
    }

    // The 1-based column, in characters, of a text offset on the line starting at line_start.
    int column_of(std::size_t line_start, std::size_t p) const {
        return 1 + static_cast<int>(detail::utf8_length(s_.substr(line_start, p - line_start)));
    }
    int column_of(const csv_cell& c) const { return column_of(c.line_start, c.offset); }

private:
    // Past blank lines and '#' comments; false at the end of the text.
    bool skip_blank_and_comment_lines() {
        for (;;) {
            if (pos_ >= s_.size()) return false;
            if (s_[pos_] != '#' && s_[pos_] != '\n' && s_[pos_] != '\r') return true;
            skip_line();
        }
    }

    // A quoted cell from its opening quote: "" is a quote (unescaped into the arena),
    // line breaks inside count; only blanks may follow the closing quote.
    void quoted_cell(csv_cell& c) {
        const char* const d = s_.data();
        const std::size_t size = s_.size();
        const int open_line = line_;
        const std::size_t open_start = line_start_;
        ++pos_;
        const std::size_t first = pos_;
        bool doubled = false;
        for (;;) {
            if (pos_ >= size)
                throw hierarchy_error("unterminated quoted field", {}, place(name_, open_line, column_of(open_start, c.offset)));
            const char ch = d[pos_++];
            if (ch == '"') {
                if (pos_ < size && d[pos_] == '"') {
                    doubled = true;
                    ++pos_;
                    continue;
                }
                break;
            }
            if (ch == '\n') {
                ++line_;
                line_start_ = pos_;
            }
        }
        c.text = s_.substr(first, pos_ - 1 - first);
        if (doubled) c.text = unescaped(c.text);
        while (pos_ < size && (d[pos_] == ' ' || d[pos_] == '\t')) ++pos_;
        if (pos_ < size && d[pos_] != ',' && d[pos_] != '\n' && d[pos_] != '\r')
            throw hierarchy_error("unexpected text after a closing quote", {}, place(name_, line_, column_of(line_start_, pos_)));
    }

    // A quoted cell's text with each "" made one ", kept in the arena.
    std::string_view unescaped(std::string_view t) {
        std::string& u = arena_.emplace_back();
        for (std::size_t i = 0; i < t.size(); ++i) {
            u += t[i];
            if (t[i] == '"') ++i;
        }
        return u;
    }

    // An unquoted cell, up to the next comma or line end; a quote inside is refused.
    void plain_cell(csv_cell& c) {
        const char* const d = s_.data();
        const std::size_t size = s_.size(), start = pos_;
        while (pos_ < size) {
            const char ch = d[pos_];
            if (ch == ',' || ch == '\n' || ch == '\r') break;
            if (ch == '"')
                throw hierarchy_error("a quote inside an unquoted field (quote the whole field)", {},
                                      place(name_, line_, column_of(line_start_, pos_)));
            ++pos_;
        }
        c.text = s_.substr(start, pos_ - start);
    }

    void skip_line() {
        const void* nl = pos_ < s_.size() ? std::memchr(s_.data() + pos_, '\n', s_.size() - pos_) : nullptr;
        pos_ = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - s_.data()) + 1 : s_.size();
        ++line_;
        line_start_ = pos_;
    }

    std::string_view s_;
    const std::string& name_;
    std::size_t pos_ = 0, line_start_ = 0;
    int line_ = 1;
    std::deque<std::string>& arena_;  // unescaped quoted cells (stable addresses)
};

enum csv_col { c_id, c_name, c_level, c_kind, c_parent, c_secondary, c_from, c_to, c_count };
const char* const csv_names[c_count] = {"id", "name", "level", "kind", "parent", "secondary_parents", "valid_from", "valid_to"};

// Where each column is in a units CSV header.
struct csv_header {
    int where[c_count];
    std::size_t width = 0;
};

// Parses the records of one piece of the text into listings (views into the text).
void parse_units_piece(csv_reader& reader, const csv_header& h, const std::string& name, detail::unit_listings& out) {
    std::vector<csv_cell> cells;
    int line = 0;
    const int* where = h.where;
    while (reader.next(cells, line)) {
        if (cells.size() != h.width)
            throw hierarchy_error(
                "line has " + std::to_string(cells.size()) + " fields; the header has " + std::to_string(h.width), {},
                place(name, line));
        auto cell = [&](int c) -> std::string_view {
            return where[c] < 0 ? std::string_view() : detail::trim(cells[where[c]].text);
        };
        detail::unit_listing u;
        u.line = line;
        u.id = cell(c_id);
        if (u.id.empty())
            throw hierarchy_error("a unit has an empty id", {}, place(name, line, reader.column_of(cells[where[c_id]])));
        u.name = cell(c_name);
        const auto level = parse_level(cell(c_level));
        if (!level) {
            const std::string id(u.id);
            throw hierarchy_error("unit " + id + " has level '" + std::string(cell(c_level)) + "'; expected " + level_choices,
                                  {id}, place(name, cells[where[c_level]].line, reader.column_of(cells[where[c_level]]), id));
        }
        u.level = *level;
        const auto kind = parse_kind(cell(c_kind));
        if (!kind) {
            const std::string id(u.id);
            throw hierarchy_error("unit " + id + " has kind '" + std::string(cell(c_kind)) + "'; expected " + kind_choices, {id},
                                  place(name, cells[where[c_kind]].line, reader.column_of(cells[where[c_kind]]), id));
        }
        u.kind = *kind;
        u.parent = cell(c_parent);
        u.secondary_begin = static_cast<std::uint32_t>(out.secondary.size());
        split_parents(cell(c_secondary), [&](std::string_view p) { out.secondary.push_back(p); });
        u.secondary_count = static_cast<std::uint32_t>(out.secondary.size()) - u.secondary_begin;
        for (int c : {c_from, c_to}) {
            const std::string_view b = cell(c);
            if (!detail::is_period_bound(b)) {
                const std::string id(u.id);
                throw hierarchy_error(
                    "unit " + id + " has " + csv_names[c] + " '" + std::string(b) + "'; expected YYYY or YYYY-MM", {id},
                    place(name, cells[where[c]].line, reader.column_of(cells[where[c]]), id));
            }
        }
        u.valid_from = cell(c_from);
        u.valid_to = cell(c_to);
        out.units.push_back(u);
    }
}

// Reads the listings of units CSV text into the builder (validated by its `build`); the
// builder's views point into `text`, which `keep` (when given) keeps alive. Text without
// quotes is parsed in two halves on two threads (a quote may hide a line break, so a
// file with quotes is read in one pass).
void read_csv_units(std::string_view text, const std::string& name, hierarchy_builder& builder,
                    std::shared_ptr<const void> keep) {
    require_utf8(text, name);
    detail::unit_listings first;
    csv_reader reader(text, name, first.arena);
    std::vector<csv_cell> cells;
    int line = 0;
    if (!reader.next(cells, line)) throw hierarchy_error("units file is empty (no header line)", {}, place(name, 1));
    csv_header h;
    std::fill(std::begin(h.where), std::end(h.where), -1);
    for (std::size_t k = 0; k < cells.size(); ++k) {
        const std::string head(detail::trim(cells[k].text));
        int col = -1;
        for (int c = 0; c < c_count; ++c)
            if (head == csv_names[c]) col = c;
        if (col < 0)
            throw hierarchy_error("unknown column '" + head +
                                      "' in the header (expected id, name, level, kind, parent, secondary_parents, "
                                      "valid_from, valid_to)",
                                  {}, place(name, cells[k].line, reader.column_of(cells[k])));
        if (h.where[col] >= 0)
            throw hierarchy_error("column '" + head + "' appears twice in the header", {},
                                  place(name, cells[k].line, reader.column_of(cells[k])));
        h.where[col] = static_cast<int>(k);
    }
    for (int c : {c_id, c_name, c_level, c_kind, c_parent})
        if (h.where[c] < 0)
            throw hierarchy_error(std::string("the header has no '") + csv_names[c] + "' column", {}, place(name, line));
    h.width = cells.size();

    const std::size_t body = reader.position();
    constexpr std::size_t split_above = 4u << 20;  // below, a thread costs more than it saves
    std::size_t mid = text.size();
    if (text.size() - body > split_above && std::thread::hardware_concurrency() > 1 &&
        !std::memchr(text.data() + body, '"', text.size() - body)) {
        const void* nl = std::memchr(text.data() + body + (text.size() - body) / 2, '\n', (text.size() - body) / 2);
        if (nl) mid = static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) + 1;
    }
    // Room for the whole file's listings in the first piece (a listing is rarely under 40
    // bytes; untouched room costs no memory), so that the second is appended without
    // moving the first.
    first.units.reserve((text.size() - body) / 40 + 16);
    if (mid >= text.size()) {
        parse_units_piece(reader, h, name, first);
        builder.add_listings(std::move(keep), std::move(first));
        return;
    }
    // The halves as tasks 0 and 1: the first half's error comes first in the file.
    detail::unit_listings second;
    detail::parallel_for(2, 2, [&](std::size_t half, unsigned) {
        if (half == 0) {
            csv_reader r1(text, body, mid, reader.line(), name, first.arena);
            parse_units_piece(r1, h, name, first);
            return;
        }
        const int line2 = reader.line() + static_cast<int>(std::count(text.data() + body, text.data() + mid, '\n'));
        csv_reader r2(text, mid, text.size(), line2, name, second.arena);
        second.units.reserve((text.size() - mid) / 48);
        parse_units_piece(r2, h, name, second);
    });
    const auto base = static_cast<std::uint32_t>(first.secondary.size());
    for (auto& u : second.units) u.secondary_begin += base;
    first.units.insert(first.units.end(), second.units.begin(), second.units.end());
    second.units = {};
    first.secondary.insert(first.secondary.end(), second.secondary.begin(), second.secondary.end());
    // second.arena is empty: only quoted cells are unescaped into it, and text with a
    // quote is never split.
    builder.add_listings(std::move(keep), std::move(first));
}

hierarchy read_csv_text(std::string_view text, const std::string& name) {
    hierarchy_builder builder(name);
    read_csv_units(text, name, builder, nullptr);
    return builder.build_consuming();
}

// ---------------------------------------------------------------------------------------
// YAML

location mark_of(const std::string& file, const YAML::Node& node, const std::string& unit = {}) {
    const YAML::Mark m = node.Mark();
    return place(file, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0, unit);
}

std::string scalar(const std::string& file, const YAML::Node& node, const std::string& what, const std::string& unit = {}) {
    if (!node.IsScalar())
        throw hierarchy_error(what + " must be a single value",
                              unit.empty() ? std::vector<std::string>{} : std::vector<std::string>{unit},
                              mark_of(file, node, unit));
    return std::string(detail::trim(node.Scalar()));
}

// A unit entry read key by key; `primaries` collects the primary parents given (by
// `parent` or in `parents`), so that two of them are reported with the place of the second.
struct yaml_unit_reader {
    const std::string& file;
    org_unit u;
    std::vector<std::pair<std::string, YAML::Node>> primaries;  // (parent id, where given)
    bool has_level = false, has_kind = false;

    [[noreturn]] void fail(const std::string& message, const YAML::Node& where) const {
        throw hierarchy_error(message, {u.id}, mark_of(file, where, u.id));
    }

    void level(const YAML::Node& value) {
        const auto t = scalar(file, value, "level", u.id);
        const auto l = parse_level(t);
        if (!l) fail("unit " + u.id + " has level '" + t + "'; expected " + level_choices, value);
        u.level = *l;
        has_level = true;
    }

    void kind(const YAML::Node& value) {
        const auto t = scalar(file, value, "kind", u.id);
        const auto k = parse_kind(t);
        if (!k) fail("unit " + u.id + " has kind '" + t + "'; expected " + kind_choices, value);
        u.kind = *k;
        has_kind = true;
    }

    void secondary_parents(const YAML::Node& value) {
        if (value.IsScalar()) {
            for (auto& p : split_parents(value.Scalar())) u.secondary_parents.push_back(p);
        } else if (value.IsSequence()) {
            for (const auto& p : value) u.secondary_parents.push_back(scalar(file, p, "a secondary parent", u.id));
        } else if (!value.IsNull()) {
            fail("secondary_parents of unit " + u.id + " must be a list of ids", value);
        }
    }

    // One {id, line} of `parents`.
    void parent_entry(const YAML::Node& p) {
        if (!p.IsMap()) fail("each parent of unit " + u.id + " must be {id: …, line: primary|secondary}", p);
        std::string pid, along = "primary";
        for (auto pk : p) {
            const std::string k = pk.first.Scalar();
            if (k == "id") pid = scalar(file, pk.second, "id", u.id);
            else if (k == "line") along = scalar(file, pk.second, "line", u.id);
            else fail("unknown key '" + k + "' in a parent of unit " + u.id + " (expected id, line)", pk.first);
        }
        if (pid.empty()) fail("a parent of unit " + u.id + " has no id", p);
        if (along == "primary") primaries.emplace_back(pid, p);
        else if (along == "secondary") u.secondary_parents.push_back(pid);
        else fail("parent " + pid + " of unit " + u.id + " has line '" + along + "'; expected primary or secondary", p);
    }

    void parents(const YAML::Node& value) {
        if (!value.IsSequence()) fail("parents of unit " + u.id + " must be a list of {id, line}", value);
        for (const auto& p : value) parent_entry(p);
    }

    void bound(const std::string& key, const YAML::Node& value) {
        const auto t = scalar(file, value, key, u.id);
        if (!detail::is_period_bound(t)) fail("unit " + u.id + " has " + key + " '" + t + "'; expected YYYY or YYYY-MM", value);
        (key == "valid_from" ? u.valid_from : u.valid_to) = t;
    }

    void key(const YAML::Node& k, const YAML::Node& value) {
        const std::string& key = k.Scalar();
        if (key == "id") return;
        if (key == "name") u.name = scalar(file, value, "name", u.id);
        else if (key == "level") level(value);
        else if (key == "kind") kind(value);
        else if (key == "parent") {
            if (!value.IsNull()) primaries.emplace_back(scalar(file, value, "parent", u.id), k);
        } else if (key == "secondary_parents") secondary_parents(value);
        else if (key == "parents") parents(value);
        else if (key == "valid_from" || key == "valid_to") bound(key, value);
        else
            fail("unknown key '" + key + "' in unit " + u.id +
                     " (expected id, name, level, kind, parent, secondary_parents, parents, valid_from, valid_to)",
                 k);
    }

    void finish(const YAML::Node& node) {
        if (!has_level) fail("unit " + u.id + " has no level", node);
        if (!has_kind) fail("unit " + u.id + " has no kind", node);
        if (primaries.size() > 1)
            throw hierarchy_error(
                "unit " + u.id + " has two primary parents: " + primaries[0].first + " and " + primaries[1].first,
                {u.id, primaries[0].first, primaries[1].first}, mark_of(file, primaries[1].second, u.id));
        if (!primaries.empty()) u.parent = primaries[0].first;
    }
};

org_unit yaml_unit(const std::string& file, const YAML::Node& node) {
    if (!node.IsMap()) throw hierarchy_error("each entry of units must be a map", {}, mark_of(file, node));
    yaml_unit_reader r{file, {}, {}, false, false};
    r.u.line = node.Mark().line + 1;
    // The id first, so that every later error can name the unit.
    for (auto kv : node)
        if (kv.first.Scalar() == "id") r.u.id = scalar(file, kv.second, "id");
    if (r.u.id.empty()) throw hierarchy_error("a unit has no id", {}, mark_of(file, node));
    std::set<std::string> seen;
    for (auto kv : node) {
        const std::string key = kv.first.Scalar();
        if (!seen.insert(key).second && key != "parent") r.fail("unit " + r.u.id + " gives '" + key + "' twice", kv.first);
        r.key(kv.first, kv.second);
    }
    r.finish(node);
    return std::move(r.u);
}

hierarchy read_yaml_text(std::string_view text, const std::string& name) {
    require_utf8(text, name);
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        throw hierarchy_error(e.msg, {},
                              place(name, e.mark.line >= 0 ? e.mark.line + 1 : 0, e.mark.column >= 0 ? e.mark.column + 1 : 0));
    }
    if (!root.IsMap()) throw hierarchy_error("a units YAML file must be a map with a 'units' list", {}, place(name, 1));
    YAML::Node units;
    for (auto kv : root) {
        const std::string key = kv.first.Scalar();
        if (key == "units") units = kv.second;
        else if (key != "name" && key != "description" && key != "source")
            throw hierarchy_error("unknown top-level key '" + key + "' (expected units, name, description, source)", {},
                                  mark_of(name, kv.first));
    }
    if (!units || !units.IsSequence())
        throw hierarchy_error("'units' must be a list of units", {}, units ? mark_of(name, units) : place(name, 1));
    hierarchy_builder builder(name);
    builder.reserve(units.size());
    try {
        for (const auto& u : units) builder.add_unit(yaml_unit(name, u));
    } catch (const YAML::Exception& e) {
        throw hierarchy_error(e.msg, {}, place(name, e.mark.line + 1, e.mark.column + 1));
    }
    return builder.build();
}

bool ends_with(const std::string& s, const char* suffix) {
    const std::string t(suffix);
    return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

}  // namespace

hierarchy hierarchy::read_csv(const std::string& path) {
    // The listings view the file's text; both go once the tree holds its own strings.
    auto text = std::make_shared<const mapped_text>(path);
    hierarchy_builder builder(path);
    read_csv_units(text->text(), path, builder, text);
    text.reset();
    return builder.build_consuming();
}

hierarchy hierarchy::parse_csv(std::string_view text, const std::string& name) { return read_csv_text(text, name); }

hierarchy hierarchy::read_yaml(const std::string& path) { return read_yaml_text(read_file(path), path); }

hierarchy hierarchy::parse_yaml(std::string_view text, const std::string& name) { return read_yaml_text(text, name); }

hierarchy hierarchy::read(const std::string& path) {
    if (ends_with(path, ".csv") || ends_with(path, ".CSV")) return read_csv(path);
    if (ends_with(path, ".yaml") || ends_with(path, ".yml")) return read_yaml(path);
    location l;
    l.file = path;
    throw hierarchy_error("units file " + path + " is neither .csv nor .yaml", {}, l);
}

}  // namespace unionstat
