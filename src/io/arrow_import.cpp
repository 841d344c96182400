#include "unionstat/io/arrow_import.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "unionstat/checked.hpp"
#include "unionstat/error.hpp"
#include "unionstat/forms/cell.hpp"
#include "unionstat/io/batch_builder.hpp"
#include "unionstat/io/column_map.hpp"
#include "unionstat/text.hpp"

namespace unionstat {

namespace {

__extension__ typedef __int128 i128;  // GCC and Clang: exact decimal128 arithmetic
__extension__ typedef unsigned __int128 u128;
constexpr i128 int64_max = std::numeric_limits<std::int64_t>::max();

// Rows parsed into one batch_chunk at a time: a record batch of a million rows is read
// in pieces, so the chunk (9 bytes a cell) never rivals the batch itself in memory, and
// the builder copies it out while much of it is still in cache.
constexpr std::int64_t rows_per_chunk = std::int64_t(1) << 13;

// ---------------------------------------------------------------------------------------
// Types, from the format strings of the C data interface.

enum class kind {
    null,
    boolean,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
    float32,
    float64,
    decimal,
    utf8,
    large_utf8,
    utf8_view
};

bool is_integer(kind k) noexcept { return k >= kind::int8 && k <= kind::uint64; }
bool is_text(kind k) noexcept { return k == kind::utf8 || k == kind::large_utf8 || k == kind::utf8_view; }

// One parsed format string.
struct value_type {
    kind k = kind::null;
    int precision = 0, scale = 0, bytes = 16;  // decimals: digits, scale, width of a value
    std::string format;
};

// A column's type: its storage, and the dictionary's value type when it is
// dictionary-encoded (the storage is then the index type).
struct column_type {
    value_type storage;
    std::optional<value_type> dict;
    const value_type& values() const noexcept { return dict ? *dict : storage; }
};

// The input column an error or a problem is about.
struct column_info {
    int index = 0;  // 0-based input column
    std::string name;
};

[[noreturn]] void malformed(const column_info& c, const std::string& what, std::int64_t position = -1) {
    location l;
    l.column = c.index + 1;
    l.field = c.name;
    l.row = position;
    throw value_error(what, l);
}

// A small non-negative decimal integer of a format string ("38" in "d:38,6"); strict:
// digits only, at most three of them.
bool format_int(std::string_view s, int& out) {
    bool negative = false;
    if (!s.empty() && s[0] == '-') {
        negative = true;
        s.remove_prefix(1);
    }
    if (s.empty() || s.size() > 3) return false;
    int v = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') return false;
        v = v * 10 + (ch - '0');
    }
    out = negative ? -v : v;
    return true;
}

// The kind of a one-character format string ("l" is int64), or false for none.
bool primitive_kind(char f, kind& k) noexcept {
    static constexpr std::pair<char, kind> table[] = {
        {'n', kind::null},    {'b', kind::boolean}, {'c', kind::int8},   {'s', kind::int16},     {'i', kind::int32},
        {'l', kind::int64},   {'C', kind::uint8},   {'S', kind::uint16}, {'I', kind::uint32},    {'L', kind::uint64},
        {'f', kind::float32}, {'g', kind::float64}, {'u', kind::utf8},   {'U', kind::large_utf8}};
    for (const auto& [ch, kd] : table)
        if (ch == f) {
            k = kd;
            return true;
        }
    return false;
}

// "d:precision,scale[,bitwidth]" (the bitwidth 128 when absent) into `t`.
void parse_decimal_format(std::string_view rest, value_type& t, const column_info& c) {
    std::vector<std::string_view> parts;
    while (true) {
        const auto comma = rest.find(',');
        parts.push_back(rest.substr(0, comma));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    int bits = 128;
    const bool ok = (parts.size() == 2 || parts.size() == 3) && format_int(parts[0], t.precision) &&
                    format_int(parts[1], t.scale) && (parts.size() == 2 || format_int(parts[2], bits));
    if (!ok || t.precision < 1 || t.precision > 76 || t.scale < -76 || t.scale > 76 ||
        (bits != 32 && bits != 64 && bits != 128 && bits != 256))
        malformed(c, "malformed decimal format string '" + t.format + "' (expected d:precision,scale[,bitwidth])");
    t.k = kind::decimal;
    t.bytes = bits / 8;
}

value_type parse_format(const char* format, const column_info& c) {
    if (!format) malformed(c, "the column's Arrow schema has no format string");
    value_type t;
    t.format = format;
    const std::string_view s = t.format;
    if (s.size() == 1 && primitive_kind(s[0], t.k)) return t;
    if (s == "vu") {
        t.k = kind::utf8_view;
        return t;
    }
    if (s.size() > 2 && s[0] == 'd' && s[1] == ':') {
        parse_decimal_format(s.substr(2), t, c);
        return t;
    }
    malformed(c, "unsupported Arrow type (format '" + t.format +
                     "'): a column unionstat reads holds integers, decimals, floats, booleans, strings or a dictionary of them");
}

column_type parse_column_type(const ArrowSchema* s, const column_info& c) {
    if (!s) malformed(c, "the Arrow schema has no child for this column");
    if (!s->release) malformed(c, "the column's Arrow schema is released");
    column_type t;
    t.storage = parse_format(s->format, c);
    if (s->n_children != 0) malformed(c, "a column of format '" + t.storage.format + "' cannot have children");
    if (s->dictionary) {
        if (!is_integer(t.storage.k))
            malformed(c, "a dictionary-encoded column needs an integer index type, not format '" + t.storage.format + "'");
        const ArrowSchema* d = s->dictionary;
        if (!d->release) malformed(c, "the column's dictionary schema is released");
        t.dict = parse_format(d->format, c);
        if (d->n_children != 0 || d->dictionary)
            malformed(c, "the dictionary of a column must be a flat array, not format '" + t.dict->format + "'");
    }
    return t;
}

// ---------------------------------------------------------------------------------------
// Arrays, checked against their types so that reading them cannot go out of bounds.

template <class T>
T load(const std::uint8_t* p, std::int64_t i) noexcept {
    T v;
    std::memcpy(&v, p + i * static_cast<std::int64_t>(sizeof(T)), sizeof(T));  // memcpy: buffers may be unaligned
    return v;
}

bool bit(const std::uint8_t* bits, std::int64_t i) noexcept { return (bits[i >> 3] >> (i & 7)) & 1u; }

// One column of one record batch, checked: logical row i is at buffer index base + i.
struct column_data {
    const value_type* type = nullptr;
    kind k = kind::null;
    std::int64_t base = 0;
    std::int64_t rows = 0;                          // logical rows that may be read
    const std::uint8_t* validity = nullptr;         // nullptr: every value is valid
    const std::uint8_t* struct_validity = nullptr;  // the record batch's own, at struct_base + i
    std::int64_t struct_base = 0;
    const std::uint8_t* data = nullptr;             // values, views or offsets
    const char* chars = nullptr;                    // utf8 / large_utf8 bytes
    const std::uint8_t* const* variadic = nullptr;  // utf8_view data buffers
    std::int64_t n_variadic = 0;
    std::unique_ptr<column_data> dict;  // the dictionary's values (rows = its length)

    bool row_present(std::int64_t i) const noexcept { return !struct_validity || bit(struct_validity, struct_base + i); }
    bool valid(std::int64_t i) const noexcept { return (!validity || bit(validity, base + i)) && row_present(i); }
    std::string_view text(std::int64_t i) const noexcept {
        const std::int64_t j = base + i;
        if (k == kind::utf8) {
            const auto b = load<std::int32_t>(data, j), e = load<std::int32_t>(data, j + 1);
            if (e == b) return {};  // the data buffer may be null when every string is empty
            return {chars + b, static_cast<std::size_t>(e - b)};
        }
        if (k == kind::large_utf8) {
            const auto b = load<std::int64_t>(data, j), e = load<std::int64_t>(data, j + 1);
            if (e == b) return {};
            return {chars + b, static_cast<std::size_t>(e - b)};
        }
        // utf8_view: 16 bytes a value: length, then the bytes inline (at most 12) or a
        // 4-byte prefix, the data buffer's index and the offset in it.
        const std::uint8_t* v = data + j * 16;
        const auto len = load<std::int32_t>(v, 0);
        if (len <= 12) return {reinterpret_cast<const char*>(v + 4), static_cast<std::size_t>(len)};
        const auto buf = load<std::int32_t>(v + 8, 0), off = load<std::int32_t>(v + 12, 0);
        return {reinterpret_cast<const char*>(variadic[buf]) + off, static_cast<std::size_t>(len)};
    }
    // An integer value (any width, signed or not) as a 128-bit integer.
    i128 integer(std::int64_t i) const noexcept {
        const std::int64_t j = base + i;
        switch (k) {
            case kind::int8: return load<std::int8_t>(data, j);
            case kind::int16: return load<std::int16_t>(data, j);
            case kind::int32: return load<std::int32_t>(data, j);
            case kind::int64: return load<std::int64_t>(data, j);
            case kind::uint8: return load<std::uint8_t>(data, j);
            case kind::uint16: return load<std::uint16_t>(data, j);
            case kind::uint32: return load<std::uint32_t>(data, j);
            case kind::uint64: return load<std::uint64_t>(data, j);
            default: return 0;
        }
    }
    // A decimal's unscaled value; false when a 256-bit value does not fit in 128 bits.
    bool decimal_value(std::int64_t i, i128& out) const noexcept {
        const std::uint8_t* p = data + (base + i) * type->bytes;
        switch (type->bytes) {
            case 4: out = load<std::int32_t>(p, 0); return true;
            case 8: out = load<std::int64_t>(p, 0); return true;
            default: break;
        }
        const auto lo = load<std::uint64_t>(p, 0);
        const auto hi = load<std::int64_t>(p, 1);
        out = static_cast<i128>((static_cast<u128>(static_cast<std::uint64_t>(hi)) << 64) | lo);
        if (type->bytes == 32) {  // the upper half must be the sign extension of the lower
            const std::uint64_t ext = hi < 0 ? ~std::uint64_t(0) : 0;
            return load<std::uint64_t>(p, 2) == ext && load<std::uint64_t>(p, 3) == ext;
        }
        return true;
    }
    // A dictionary index, checked against the dictionary's length.
    std::int64_t index(std::int64_t i, const column_info& c, std::int64_t position) const {
        const i128 v = integer(i);
        if (v < 0 || v >= dict->rows)
            malformed(c,
                      "dictionary index " + std::to_string(static_cast<long long>(v)) + " is out of range (the dictionary has " +
                          std::to_string(dict->rows) + " values)",
                      position);
        return static_cast<std::int64_t>(v);
    }
};

int expected_buffers(kind k) noexcept {
    switch (k) {
        case kind::null: return 0;
        case kind::utf8:
        case kind::large_utf8: return 3;
        default: return 2;
    }
}

template <class O>
void check_offsets(const column_data& d, const column_info& c) {
    O prev = load<O>(d.data, d.base);
    if (prev < 0) malformed(c, "negative string offset " + std::to_string(prev));
    for (std::int64_t i = 1; i <= d.rows; ++i) {
        const O o = load<O>(d.data, d.base + i);
        if (o < prev)
            malformed(c, "string offsets decrease (" + std::to_string(prev) + " then " + std::to_string(o) + ")", i - 1);
        prev = o;
    }
}

// The array's own fields (length, offset, null count, children, dictionary, buffer
// count) against its type and the rows the record batch needs; sets d.base and returns
// the buffer index one past the last row read.
std::int64_t check_array_shape(const ArrowArray* a, const column_type& t, const value_type& type, bool as_dictionary,
                               std::int64_t parent_offset, std::int64_t rows, const char* what, const column_info& c,
                               column_data& d) {
    if (!a) malformed(c, std::string(what) + " is missing");
    if (!a->release) malformed(c, std::string(what) + " is released");
    if (a->length < 0 || a->offset < 0)
        malformed(c, std::string(what) + " has a negative length or offset (" + std::to_string(a->length) + ", " +
                         std::to_string(a->offset) + ")");
    if (a->null_count < -1 || a->null_count > a->length)
        malformed(c, std::string(what) + " has null_count " + std::to_string(a->null_count) + " for length " +
                         std::to_string(a->length));
    std::int64_t end = 0, own_end = 0;
    if (__builtin_add_overflow(a->offset, a->length, &own_end) || __builtin_add_overflow(a->offset, parent_offset, &d.base) ||
        __builtin_add_overflow(d.base, rows, &end))
        malformed(c, std::string(what) + ": offset + length overflows");
    if (a->length - rows < parent_offset)
        malformed(c, std::string(what) + " has " + std::to_string(a->length) + " values; the record batch needs " +
                         std::to_string(parent_offset + rows));
    if (a->n_children != 0) malformed(c, std::string(what) + " of format '" + type.format + "' cannot have children");
    const bool is_dict_storage = !as_dictionary && t.dict;
    if (is_dict_storage && !a->dictionary) malformed(c, "the dictionary-encoded column has no dictionary array");
    if (!is_dict_storage && a->dictionary) malformed(c, std::string(what) + " has a dictionary, but its schema has none");
    const int want = expected_buffers(type.k);
    if (type.k == kind::utf8_view ? a->n_buffers < 3 : a->n_buffers != want)
        malformed(c, std::string(what) + " of format '" + type.format + "' has " + std::to_string(a->n_buffers) +
                         " buffers, expected " + (type.k == kind::utf8_view ? std::string("at least 3") : std::to_string(want)));
    if (a->n_buffers > 0 && !a->buffers) malformed(c, std::string(what) + " has no buffer list");
    return end;
}

// utf8 / large_utf8: offsets in order and within the string data buffer.
void check_strings(const ArrowArray* a, column_data& d, std::int64_t end, const char* what, const column_info& c) {
    std::int64_t first = 0, last = 0;
    if (d.k == kind::utf8) {
        check_offsets<std::int32_t>(d, c);
        first = load<std::int32_t>(d.data, d.base);
        last = load<std::int32_t>(d.data, end);
    } else {
        check_offsets<std::int64_t>(d, c);
        first = load<std::int64_t>(d.data, d.base);
        last = load<std::int64_t>(d.data, end);
    }
    d.chars = static_cast<const char*>(a->buffers[2]);
    if (!d.chars && last > first) malformed(c, std::string(what) + " has string offsets but no string data buffer");
}

// utf8_view: buffers are validity, views, the variadic data buffers, then their sizes
// (int64); every valid view of more than 12 bytes must lie inside its data buffer.
void check_string_views(const ArrowArray* a, column_data& d, std::int64_t rows, const char* what, const column_info& c) {
    d.n_variadic = a->n_buffers - 3;
    d.variadic = reinterpret_cast<const std::uint8_t* const*>(a->buffers + 2);
    const auto* sizes = static_cast<const std::uint8_t*>(a->buffers[a->n_buffers - 1]);
    if (d.n_variadic > 0 && !sizes) malformed(c, std::string(what) + " (string_view) has no buffer of data buffer sizes");
    std::vector<std::int64_t> size(static_cast<std::size_t>(d.n_variadic));
    for (std::int64_t b = 0; b < d.n_variadic; ++b) {
        size[static_cast<std::size_t>(b)] = load<std::int64_t>(sizes, b);
        if (size[static_cast<std::size_t>(b)] < 0) malformed(c, std::string(what) + " has a data buffer of negative size");
        if (!d.variadic[b] && size[static_cast<std::size_t>(b)] > 0)
            malformed(c, std::string(what) + " (string_view) has a null data buffer " + std::to_string(b));
    }
    for (std::int64_t i = 0; i < rows; ++i) {
        if (!d.valid(i)) continue;
        const std::uint8_t* v = d.data + (d.base + i) * 16;
        const auto len = load<std::int32_t>(v, 0);
        if (len < 0) malformed(c, "a string view of negative length " + std::to_string(len), i);
        if (len <= 12) continue;
        const auto buf = load<std::int32_t>(v + 8, 0), off = load<std::int32_t>(v + 12, 0);
        if (buf < 0 || buf >= d.n_variadic || off < 0 ||
            static_cast<std::int64_t>(off) + len > size[static_cast<std::size_t>(buf)])
            malformed(c,
                      "a string view points outside its data buffers (buffer " + std::to_string(buf) + ", offset " +
                          std::to_string(off) + ", length " + std::to_string(len) + ")",
                      i);
    }
}

// Checks `a` against `t` for logical rows [0, rows) starting at `parent_offset` (the
// record batch's own offset), and returns the view to read them through.
column_data check_array(const ArrowArray* a, const column_type& t, bool as_dictionary, std::int64_t parent_offset,
                        std::int64_t rows, const column_info& c) {
    const value_type& type = as_dictionary ? *t.dict : t.storage;
    const char* what = as_dictionary ? "the column's dictionary" : "the column's array";
    column_data d;
    d.type = &type;
    d.k = type.k;
    d.rows = rows;
    const std::int64_t end = check_array_shape(a, t, type, as_dictionary, parent_offset, rows, what, c, d);
    if (type.k == kind::null) return d;  // every value null, nothing to read
    if (a->null_count != 0) {
        d.validity = static_cast<const std::uint8_t*>(a->buffers[0]);
        if (!d.validity && a->null_count > 0)
            malformed(c, std::string(what) + " has " + std::to_string(a->null_count) + " nulls but no validity buffer");
    }
    if (rows == 0) return d;  // nothing is read, so no data buffer is needed
    d.data = static_cast<const std::uint8_t*>(a->buffers[1]);
    if (!d.data) malformed(c, std::string(what) + " of format '" + type.format + "' has no data buffer");
    if (type.k == kind::utf8 || type.k == kind::large_utf8) check_strings(a, d, end, what, c);
    else if (type.k == kind::utf8_view) check_string_views(a, d, rows, what, c);
    if (!as_dictionary && t.dict)
        d.dict = std::make_unique<column_data>(check_array(a->dictionary, t, true, 0, a->dictionary->length, c));
    return d;
}

// ---------------------------------------------------------------------------------------
// Values → stored raw values, by the same rules as a CSV cell.

enum class got { value, blank, bad };

// What a refused cell held and why.
struct bad_cell {
    std::string text, message;
};

std::string i128_text(i128 v) {
    if (v == 0) return "0";
    const bool negative = v < 0;
    u128 u = negative ? -static_cast<u128>(v) : static_cast<u128>(v);
    std::string s;
    while (u) {
        s += static_cast<char>('0' + static_cast<int>(u % 10));
        u /= 10;
    }
    if (negative) s += '-';
    std::reverse(s.begin(), s.end());
    return s;
}

// An unscaled decimal as text: 12345 at scale 2 is "123.45", at scale -2 "1234500".
std::string decimal_text(i128 v, int scale) {
    std::string s = i128_text(v);
    if (scale <= 0) return v == 0 ? s : s + std::string(static_cast<std::size_t>(-scale), '0');
    const bool negative = s[0] == '-';
    std::string digits = negative ? s.substr(1) : s;
    if (digits.size() <= static_cast<std::size_t>(scale))
        digits.insert(0, static_cast<std::size_t>(scale) + 1 - digits.size(), '0');
    digits.insert(digits.size() - static_cast<std::size_t>(scale), ".");
    return negative ? "-" + digits : digits;
}

got call_to_raw(const field_def& f, const decimal& d, const std::string& text, std::int64_t& raw, bad_cell& b) {
    try {
        raw = to_raw(f, d);
        return got::value;
    } catch (const error& e) {  // value_error, or overflow_error from a rescale
        b.text = text;
        b.message = e.message();
        return got::bad;
    }
}

got from_integer(const field_def& f, i128 v, std::int64_t& raw, bad_cell& b) {
    if (v >= 0 && v <= int64_max) {
        const auto x = static_cast<std::int64_t>(v);
        switch (f.type) {
            case field_type::count: raw = x; return got::value;
            case field_type::money:
                if (detail::mul_ok(x, detail::pow10(f.scale), raw)) return got::value;
                break;
            case field_type::flag:
                if (x <= 1) {
                    raw = x;
                    return got::value;
                }
                break;
        }
    }
    if (v > int64_max) {  // a uint64 past int64: too large for any field, whatever its sign rules
        b.text = i128_text(v);
        b.message = b.text + " is too large (at most " + std::to_string(std::numeric_limits<std::int64_t>::max()) + ")";
        return got::bad;
    }
    return call_to_raw(f, decimal::from_int(static_cast<std::int64_t>(v)), i128_text(v), raw, b);
}

got from_text(const field_def& f, std::string_view t, std::int64_t& raw, bad_cell& b) {
    // Fast path for what most cells hold: ASCII digits with at most one '.' inside, no
    // sign, no space, at most 18 digits. The result is what parse_cell gives for them;
    // anything else (and every refusal) goes through parse_cell itself.
    if (!t.empty() && t.size() <= 19 && f.type != field_type::flag) {
        std::int64_t acc = 0;
        int digits = 0, frac = -1;
        bool plain = true;
        for (std::size_t i = 0; i < t.size(); ++i) {
            const char ch = t[i];
            if (ch >= '0' && ch <= '9') {
                acc = acc * 10 + (ch - '0');
                ++digits;
                if (frac >= 0) ++frac;
            } else if (ch == '.' && frac < 0 && i > 0) {
                frac = 0;
            } else {
                plain = false;
                break;
            }
        }
        if (plain && frac != 0 && digits <= 18) {
            const int fr = frac < 0 ? 0 : frac, fs = f.type == field_type::money ? f.scale : 0;
            if (fr <= fs) {
                if (detail::mul_ok(acc, detail::pow10(fs - fr), raw)) return got::value;
            } else if (acc % detail::pow10(fr - fs) == 0) {
                raw = acc / detail::pow10(fr - fs);
                return got::value;
            }
        }
    }
    try {
        const cell c = parse_cell(f, t);
        if (c.state != cell_state::value) return got::blank;
        raw = c.raw;
        return got::value;
    } catch (const error& e) {
        b.text = std::string(t);
        b.message = e.message();
        return got::bad;
    }
}

// The shortest decimal text that reads back as `v` in its own precision, written out
// in full ("10000000000000000", "0.00001"), never with an exponent: the number parser
// takes plain decimals only, and a count of 1e16 is the whole number 10^16.
template <class F>
std::string shortest_text(F v) {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    const std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));  // "-1.2345e+05"
    const auto e = sci.find('e');
    std::string_view mant = sci.substr(0, e);
    const int exp = std::atoi(std::string(sci.substr(e + 1)).c_str());
    std::string out;
    if (!mant.empty() && mant[0] == '-') {
        out += '-';
        mant.remove_prefix(1);
    }
    std::string digits;
    for (char ch : mant)
        if (ch != '.') digits += ch;
    const int point = 1 + exp;  // digits before the decimal point
    const int n = static_cast<int>(digits.size());
    if (point <= 0) {
        out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    } else if (point >= n) {
        out += digits + std::string(static_cast<std::size_t>(point - n), '0');
    } else {
        out += digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
    }
    return out;
}

// A float is taken as the number it was typed as: its shortest round-trip text in its
// own precision (float32 0.1 is 0.1), then the cell rules. Money from a float is
// therefore allowed only when that text has no more decimals than the field stores:
// a float that came from typing "12.34" passes exactly, one that came from arithmetic
// (0.1 + 0.2 = 0.30000000000000004) is refused instead of rounded, since rounding it
// would silently change a figure. NaN is blank (pandas' missing value); ±inf is refused.
template <class F>
got from_float(const field_def& f, F v, std::int64_t& raw, bad_cell& b) {
    if (std::isnan(v)) return got::blank;
    if (std::isinf(v)) {
        b.text = v > 0 ? "inf" : "-inf";
        b.message = "not a finite number";
        return got::bad;
    }
    if (std::is_same<F, double>::value && f.type != field_type::flag && v >= 0) {
        // Below 2^50 / 10^scale a double is within 1/8 of a stored unit of x·10^scale, so
        // the rounded product is the only candidate, and the value is exact at the
        // field's scale iff that candidate divides back to it; then it is also what the
        // shortest text says. Everything else takes the text path.
        const int fs = f.type == field_type::money ? f.scale : 0;
        const double scale = static_cast<double>(detail::pow10(fs));
        if (static_cast<double>(v) < 1125899906842624.0 / scale) {
            const double r = std::nearbyint(static_cast<double>(v) * scale);
            if (r / scale == static_cast<double>(v)) {
                raw = static_cast<std::int64_t>(r);
                return got::value;
            }
        }
    }
    const std::string text = shortest_text(v);
    try {
        const cell c = parse_cell(f, text);
        if (c.state != cell_state::value) return got::blank;
        raw = c.raw;
        return got::value;
    } catch (const error& e) {
        b.text = text;
        b.message = e.message();
        return got::bad;
    }
}

i128 pow10_128(int n) noexcept {
    i128 p = 1;
    for (int i = 0; i < n; ++i) p *= 10;
    return p;
}

got from_decimal(const field_def& f, i128 v, int scale, std::int64_t& raw, bad_cell& b) {
    const int fs = f.type == field_type::money ? f.scale : 0;
    // The value at the field's scale, when exact (extra digits only zeros) and in range.
    bool exact = true;
    i128 r = 0;
    if (scale > fs) {
        const int d = scale - fs;
        if (d > 38) {
            exact = v == 0;
        } else {
            const i128 p = pow10_128(d);
            exact = v % p == 0;
            r = v / p;
        }
    } else {
        const int d = fs - scale;
        const i128 limit = std::numeric_limits<std::int64_t>::max();
        if (d > 38 || (v != 0 && (v > limit / pow10_128(d) || v < -limit / pow10_128(d)))) {
            exact = v == 0;  // anything else is far out of range
            r = v == 0 ? 0 : (v > 0 ? limit + 1 : -limit - 1);
        } else {
            r = v * pow10_128(d);
        }
    }
    if (exact && r >= 0 && r <= int64_max && (f.type != field_type::flag || r <= 1)) {
        raw = static_cast<std::int64_t>(r);
        return got::value;
    }
    const std::string text = decimal_text(v, scale);
    const i128 lo = std::numeric_limits<std::int64_t>::min();
    if (v >= lo && v <= int64_max && scale >= 0 && scale <= 18)  // the cell rules say why, word for word
        return call_to_raw(f, decimal::from_raw(static_cast<std::int64_t>(v), scale), text, raw, b);
    b.text = text;
    if (v < 0)
        b.message = f.type == field_type::count   ? "count cannot be negative, got " + text
                    : f.type == field_type::money ? "amount cannot be negative, got " + text
                                                  : "flag field takes 是/否 (1/0), got " + text;
    else if (!exact) b.message = "value " + text + " has more than " + std::to_string(fs) + " decimals";
    else
        b.message = text + " is too large (at most " + std::to_string(std::numeric_limits<std::int64_t>::max()) + " at scale " +
                    std::to_string(fs) + ")";
    return got::bad;
}

// Any one value of a column (dictionary values are read through this).
got read_value(const column_data& c, std::int64_t i, const field_def& f, std::int64_t& raw, bad_cell& b) {
    switch (c.k) {
        case kind::null: return got::blank;
        case kind::boolean:
            raw = bit(c.data, c.base + i) ? 1 : 0;  // only flag columns get here (checked by the plan)
            return got::value;
        case kind::float32: return from_float(f, load<float>(c.data, c.base + i), raw, b);
        case kind::float64: return from_float(f, load<double>(c.data, c.base + i), raw, b);
        case kind::decimal: {
            i128 v = 0;
            if (!c.decimal_value(i, v)) {
                b.text = "(a decimal256 beyond 128 bits)";
                b.message = "too large";
                return got::bad;
            }
            return from_decimal(f, v, c.type->scale, raw, b);
        }
        case kind::utf8:
        case kind::large_utf8:
        case kind::utf8_view: return from_text(f, c.text(i), raw, b);
        default: return from_integer(f, c.integer(i), raw, b);
    }
}

// ---------------------------------------------------------------------------------------
// The reader.

// What the reader does with one input column, decided once per stream.
struct column_plan {
    column_info info;
    column_type type;
    std::size_t k = 0;  // the builder's field index, for field columns
    const field_def* field = nullptr;
    bool skip = false;  // refused as a whole (a problem says why): not read
};

// A problem found while parsing a chunk, with the chunk row it belongs to (for ordering).
struct pending_problem {
    std::size_t at;
    read_problem p;
};

class arrow_reader {
public:
    arrow_reader(std::shared_ptr<const form_schema> form, const arrow_import_options& options)
        : form_(std::move(form)), options_(options) {}

    // Reads the table's schema (the struct of columns) and maps its columns.
    void start(const ArrowSchema* schema) {
        schema_ = schema;
        all_ = column_names(schema);
        // The row-number column is no field: the header map sees the other columns only.
        std::vector<std::string> names;
        for (std::size_t i = 0; i < all_.size(); ++i) {
            if (!options_.row_column.empty() && row_col_ < 0 && all_[i] == options_.row_column) {
                row_col_ = static_cast<int>(i);
                continue;
            }
            names.push_back(all_[i]);
            input_of_.push_back(static_cast<int>(i));
        }
        if (!options_.row_column.empty() && row_col_ < 0)
            throw value_error("the row-number column '" + options_.row_column +
                              "' is not in the table (its columns: " + joined(all_) + ")");
        auto map = column_map::from_header(*form_, names, 0, options_.strict);
        if (!map)
            throw value_error("the table needs a unit column (unit, 单位代码, 填报单位, …) and field columns of " + form_->id +
                              " (codes such as " + (form_->fields.empty() ? std::string("01A") : form_->fields.front().code) +
                              " or concept keys); its columns are: " + joined(all_));
        for (auto& p : map->problems) {
            p.column = input(p.column - 1) + 1;
            problems_.push_back(std::move(p));
        }
        plan_keys(*map);
        for (std::size_t k = 0; k < map->fields.size(); ++k) plan_field(*map, k);
        for (int c : map->unnamed) unnamed_.push_back(plan_of(input(c)));
        unnamed_bad_.assign(unnamed_.size(), false);
        for (std::size_t i = 0; i < map->ignored.size(); ++i) ignored_.push_back(map->ignored_names[i]);
        builder_.emplace(form_, map->fields);
    }

    // Appends the rows of one record batch (a struct array of the schema's columns).
    void add(const ArrowArray* batch) {
        if (!batch->release) throw value_error("the record batch is released");
        if (batch->length < 0 || batch->offset < 0) throw value_error("the record batch has a negative length or offset");
        if (batch->n_children != n_columns_)
            throw value_error("the record batch has " + std::to_string(batch->n_children) + " columns, its schema " +
                              std::to_string(n_columns_));
        if (batch->n_children > 0 && !batch->children) throw value_error("the record batch has no column list");
        if (batch->n_buffers != 1 || !batch->buffers)
            throw value_error("a struct array (record batch) has one buffer, this one " + std::to_string(batch->n_buffers));
        if (batch->null_count < -1 || batch->null_count > batch->length)
            throw value_error("the record batch has null_count " + std::to_string(batch->null_count));
        std::int64_t end = 0;
        if (__builtin_add_overflow(batch->offset, batch->length, &end))
            throw value_error("the record batch's offset + length overflows");
        const std::int64_t n = batch->length;
        const auto* struct_validity = batch->null_count != 0 ? static_cast<const std::uint8_t*>(batch->buffers[0]) : nullptr;
        if (!struct_validity && batch->null_count > 0) throw value_error("the record batch has nulls but no validity buffer");

        auto view = [&](column_plan& pl) {
            column_data d = check_array(batch->children[pl.info.index], pl.type, false, batch->offset, n, pl.info);
            d.struct_validity = struct_validity;
            d.struct_base = batch->offset;
            return d;
        };
        column_data unit = view(unit_);
        std::optional<column_data> period, row;
        if (period_) period = view(*period_);
        if (row_) row = view(*row_);
        std::vector<column_data> fields;
        fields.reserve(fields_.size());
        for (auto& pl : fields_) fields.push_back(view(pl));
        for (std::size_t u = 0; u < unnamed_.size(); ++u) check_unnamed(u, view(unnamed_[u]), n);

        // Dictionary entries are parsed once per record batch, when first used.
        memos memo(fields.size());
        // Room for the rows of this batch: exact for a table of one batch, doubling for a
        // stream of many, so the columns are not copied at every chunk.
        const auto needed = builder_->size() + static_cast<std::size_t>(n);
        if (needed > reserved_) {
            // A hint past any real table (a damaged footer may claim anything) is ignored.
            constexpr std::size_t largest_hint = std::size_t(1) << 26;
            const std::size_t hint = options_.expected_rows <= largest_hint ? options_.expected_rows : 0;
            reserved_ = std::max({needed, 2 * reserved_, hint});
            builder_->reserve(reserved_);
        }
        const std::int64_t pieces = (n + rows_per_chunk - 1) / rows_per_chunk;
        const unsigned threads = std::max(1u, std::min(std::thread::hardware_concurrency(), 2u));
        if (threads < 2 || pieces < 2) {
            for (std::int64_t r0 = 0; r0 < n; r0 += rows_per_chunk) {
                const std::int64_t m = std::min(rows_per_chunk, n - r0);
                builder_->append(parse_chunk(unit, period, row, fields, memo, r0, m));
            }
        } else {
            parse_in_waves(unit, period, row, fields, n, pieces, threads);
        }
        position_ += n;
    }

    read_result finish() {
        read_result out(builder_->finish());
        out.problems = std::move(problems_);
        auto& rows = builder_->problems();
        out.problems.insert(out.problems.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
        if (!ignored_.empty()) {
            out.notices.push_back("columns that are no field of " + form_->id + " were not read: " + joined(ignored_));
            out.ignored_columns = ignored_;
        }
        return out;
    }

private:
    // The names of a struct schema's columns ("" for an unnamed one), the schema checked.
    std::vector<std::string> column_names(const ArrowSchema* schema) {
        if (!schema || !schema->release) throw value_error("the Arrow schema is missing or released");
        if (!schema->format || std::string_view(schema->format) != "+s")
            throw value_error(std::string("an Arrow table must be a struct array (format '+s'), got format '") +
                              (schema->format ? schema->format : "(null)") + "'");
        if (schema->n_children < 0 || (schema->n_children > 0 && !schema->children))
            throw value_error("the Arrow schema's children are malformed");
        n_columns_ = schema->n_children;
        std::vector<std::string> all;
        for (std::int64_t i = 0; i < n_columns_; ++i) {
            const ArrowSchema* c = schema->children[i];
            if (!c) throw value_error("the Arrow schema has no child " + std::to_string(i + 1));
            all.push_back(c->name ? c->name : "");
        }
        return all;
    }

    // The input column of a header-map column (the map sees no row-number column); -1 stays.
    int input(int c) const { return c < 0 ? -1 : input_of_[static_cast<std::size_t>(c)]; }

    column_plan plan_of(int col) const {
        column_plan pl;
        pl.info = {col, all_[static_cast<std::size_t>(col)]};
        pl.type = parse_column_type(schema_->children[col], pl.info);
        return pl;
    }

    // The unit, period and row-number columns: each of a type keys can be read from.
    void plan_keys(const column_map& map) {
        unit_ = plan_of(input(map.unit));
        check_key_type(unit_, "unit id");
        if (map.period >= 0) {
            period_ = plan_of(input(map.period));
            check_key_type(*period_, "period");
        }
        if (row_col_ >= 0) {
            row_ = plan_of(row_col_);
            if (row_->type.dict || !is_integer(row_->type.storage.k))
                malformed(row_->info, "the row-number column must hold integers, not format '" + row_->type.storage.format + "'");
        }
    }

    // The k-th field column; a true/false column for a field that is no flag is refused
    // whole (a problem says why) and not read.
    void plan_field(const column_map& map, std::size_t k) {
        column_plan pl = plan_of(input(map.field_columns[k]));
        pl.k = k;
        pl.field = &form_->fields[map.fields[k]];
        if (pl.type.values().k == kind::boolean && pl.field->type != field_type::flag) {
            read_problem p;
            p.column = pl.info.index + 1;
            p.field = pl.field->code;
            p.message = "a true/false column cannot hold " + std::string(to_string(pl.field->type)) + " field " + pl.field->code +
                        " (" + pl.field->unit + "); the column is not read";
            problems_.push_back(std::move(p));
            pl.skip = true;
        }
        fields_.push_back(std::move(pl));
    }

    // A dictionary entry parsed for one field.
    struct memo_entry {
        std::uint8_t state = 0;  // 0 not parsed yet, else 1 + got
        std::int64_t raw = 0;
        bad_cell bad;
    };
    struct memos {
        explicit memos(std::size_t n) : fields(n) {}
        std::vector<std::vector<memo_entry>> fields;
        std::vector<std::optional<std::string>> unit, period;
        bool unit_ready = false, period_ready = false;
    };

    static std::string joined(const std::vector<std::string>& names) {
        std::string s;
        for (const auto& n : names) {
            if (!s.empty()) s += ", ";
            s += n.empty() ? "(unnamed)" : n;
        }
        return s.empty() ? "(none)" : s;
    }

    static void check_key_type(const column_plan& pl, const char* what) {
        const kind k = pl.type.values().k;
        if (!is_text(k) && !is_integer(k) && k != kind::null)
            malformed(pl.info, std::string("the ") + what + " column must hold text or integers, not format '" +
                                   pl.type.values().format + "'");
    }

    // The key of logical row i (unit id or period), or nullopt when it is null.
    static std::optional<std::string> key_value(const column_data& c, std::int64_t i) {
        if (c.k == kind::null || !c.valid(i)) return std::nullopt;
        if (is_text(c.k)) return std::string(detail::trim(c.text(i)));
        return i128_text(c.integer(i));
    }

    std::optional<std::string> key_at(const column_data& c, std::int64_t i, const column_info& info,
                                      std::vector<std::optional<std::string>>& memo, bool& ready) {
        if (!c.dict) return key_value(c, i);
        if (!c.valid(i)) return std::nullopt;
        if (!ready) {
            memo.assign(static_cast<std::size_t>(c.dict->rows), std::nullopt);
            for (std::int64_t j = 0; j < c.dict->rows; ++j) memo[static_cast<std::size_t>(j)] = key_value(*c.dict, j);
            ready = true;
        }
        return memo[static_cast<std::size_t>(c.index(i, info, position_ + i))];
    }

    void check_unnamed(std::size_t u, const column_data& c, std::int64_t n) {
        if (unnamed_bad_[u]) return;
        const column_info& info = unnamed_[u].info;
        for (std::int64_t i = 0; i < n; ++i) {
            if (c.k == kind::null || !c.valid(i)) continue;
            std::string text;
            if (c.dict) {
                const column_data& d = *c.dict;
                const std::int64_t j = c.index(i, info, position_ + i);
                if (d.k == kind::null || !d.valid(j)) continue;
                if (is_text(d.k)) text = d.text(j);
                else text = "(a value)";
            } else if (is_text(c.k)) {
                text = c.text(i);
            } else {
                text = "(a value)";
            }
            if (is_text(c.dict ? c.dict->k : c.k) && detail::trim(text).empty()) continue;
            read_problem p;
            p.row = position_ + i + 1;
            p.column = info.index + 1;
            p.text = is_text(c.dict ? c.dict->k : c.k) ? text : "";
            p.message = "column " + std::to_string(info.index + 1) + " has no name but holds values";
            problems_.push_back(std::move(p));
            unnamed_bad_[u] = true;
            return;
        }
    }

    static std::size_t add_keys(batch_chunk& ch, std::string unit, std::string period, std::int64_t row) {
        ch.units.push_back(std::move(unit));
        ch.periods.push_back(std::move(period));
        ch.rows.push_back(row);
        return ch.units.size() - 1;
    }

    // The pieces of a record batch parsed on `threads` cores, a few per core at a time
    // (so the chunks in flight stay small), appended in order. Each core has its own
    // dictionary memo: a dictionary entry may be parsed once per core, never shared
    // mid-write. An exception (a malformed dictionary index) is rethrown for the first
    // piece that had one, as the one-core order would have met it.
    void parse_in_waves(const column_data& unit, const std::optional<column_data>& period, const std::optional<column_data>& row,
                        const std::vector<column_data>& fields, std::int64_t n, std::int64_t pieces, unsigned threads) {
        const std::int64_t wave = 4 * static_cast<std::int64_t>(threads);
        std::vector<memos> memo(threads, memos(fields.size()));
        for (std::int64_t w0 = 0; w0 < pieces; w0 += wave) {
            const std::int64_t w1 = std::min(pieces, w0 + wave);
            std::vector<std::optional<batch_chunk>> done(static_cast<std::size_t>(w1 - w0));
            std::vector<std::exception_ptr> failed(done.size());
            auto work = [&](unsigned t) {
                for (std::int64_t p = w0 + t; p < w1; p += threads) {
                    const auto slot = static_cast<std::size_t>(p - w0);
                    try {
                        const std::int64_t r0 = p * rows_per_chunk, m = std::min(rows_per_chunk, n - r0);
                        done[slot].emplace(parse_chunk(unit, period, row, fields, memo[t], r0, m));
                    } catch (...) {
                        failed[slot] = std::current_exception();
                        return;
                    }
                }
            };
            std::vector<std::thread> pool;
            for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
            work(0);
            for (auto& th : pool) th.join();
            for (std::size_t i = 0; i < done.size(); ++i) {
                if (failed[i]) std::rethrow_exception(failed[i]);
                builder_->append(std::move(*done[i]));
            }
        }
    }

    batch_chunk parse_chunk(const column_data& unit, const std::optional<column_data>& period,
                            const std::optional<column_data>& row, const std::vector<column_data>& fields, memos& memo,
                            std::int64_t r0, std::int64_t m) {
        batch_chunk ch = builder_->make_chunk(static_cast<std::size_t>(m));
        std::vector<pending_problem> problems;
        auto key_problem = [&](std::size_t at, const column_info& info, std::string message) {
            read_problem p;
            p.row = ch.rows[at];
            p.column = info.index + 1;
            p.field = info.name;
            p.message = std::move(message);
            problems.push_back({at, std::move(p)});
        };
        for (std::int64_t i = 0; i < m; ++i) {
            const std::int64_t r = r0 + i, position = position_ + r + 1;
            std::int64_t number = position;
            std::string number_problem;
            if (row) {
                if (!row->valid(r)) {
                    number_problem = "the row number is missing";
                } else {
                    const i128 v = row->integer(r);
                    if (v > int64_max) number_problem = "the row number " + i128_text(v) + " is too large";
                    else number = static_cast<std::int64_t>(v);
                }
            }
            if (!unit.row_present(r)) {  // a null row of the record batch itself
                add_keys(ch, std::string(), std::string(), number);
                read_problem p;
                p.row = number;
                p.message = "the row is null (no unit, no values)";
                problems.push_back({static_cast<std::size_t>(i), std::move(p)});
                continue;
            }
            auto u = key_at(unit, r, unit_.info, memo.unit, memo.unit_ready);
            std::optional<std::string> pe;
            if (period) pe = key_at(*period, r, period_->info, memo.period, memo.period_ready);
            const bool no_unit = !u || u->empty(), no_period = period && (!pe || pe->empty());
            const std::size_t at = add_keys(ch, u ? std::move(*u) : std::string(), pe ? std::move(*pe) : std::string(), number);
            if (!number_problem.empty()) key_problem(at, row_->info, number_problem);
            if (no_unit) key_problem(at, unit_.info, "the unit id is missing");
            if (no_period) key_problem(at, period_->info, "the period is missing");
        }
        // Every cell blank until read, set column by column (batch_chunk::add_row would
        // push into every column row by row).
        for (auto& v : ch.values) v.assign(static_cast<std::size_t>(m), 0);
        for (auto& b : ch.blank) b.assign(static_cast<std::size_t>(m), 1);
        for (std::size_t f = 0; f < fields.size(); ++f) {
            const column_plan& pl = fields_[f];
            if (pl.skip) continue;
            read_field(pl, fields[f], memo.fields[f], ch, problems, r0, m);
        }
        std::stable_sort(problems.begin(), problems.end(), [](const pending_problem& a, const pending_problem& b) {
            return a.at != b.at ? a.at < b.at : a.p.column < b.p.column;
        });
        ch.problems.reserve(problems.size());
        for (auto& p : problems) ch.problems.push_back(std::move(p.p));
        return ch;
    }

    // One field column of one chunk being read: the cells in, the stored values and the
    // bad cells (with their row, unit and field) out.
    struct field_pass {
        const column_plan& pl;
        const column_data& c;
        batch_chunk& ch;
        std::vector<pending_problem>& problems;
        std::int64_t r0, m;

        void bad(std::int64_t i, bad_cell&& b) {
            const auto at = static_cast<std::size_t>(i);
            read_problem p;
            p.row = ch.rows[at];
            p.column = pl.info.index + 1;
            p.unit = ch.units[at];
            p.field = pl.field->code;
            p.text = std::move(b.text);
            p.message = std::move(b.message);
            problems.push_back({at, std::move(p)});
        }

        // Every valid cell through convert(row, raw, bad) → got.
        template <class Convert>
        void each(Convert&& convert) {
            std::int64_t raw = 0;
            bad_cell b;
            for (std::int64_t i = 0; i < m; ++i) {
                if (!c.valid(r0 + i)) continue;
                const got g = convert(r0 + i, raw, b);
                if (g == got::value) ch.set(pl.k, static_cast<std::size_t>(i), raw);
                else if (g == got::bad) {
                    bad(i, std::move(b));
                    b = bad_cell{};  // moved from: the next bad cell starts from a defined state
                }
            }
        }

        // A dictionary-encoded column: each entry parsed once (the memo), then looked up.
        void dictionary(std::vector<memo_entry>& memo, std::int64_t position) {
            const column_data& d = *c.dict;
            const field_def& f = *pl.field;
            if (memo.size() != static_cast<std::size_t>(d.rows)) memo.assign(static_cast<std::size_t>(d.rows), memo_entry{});
            each([&](std::int64_t r, std::int64_t& raw, bad_cell& b) {
                const std::int64_t j = c.index(r, pl.info, position + r);
                memo_entry& e = memo[static_cast<std::size_t>(j)];
                if (e.state == 0) {
                    const got g = d.k == kind::null || !d.valid(j) ? got::blank : read_value(d, j, f, e.raw, e.bad);
                    e.state = static_cast<std::uint8_t>(1 + static_cast<int>(g));
                }
                const got g = static_cast<got>(e.state - 1);
                raw = e.raw;
                if (g == got::bad) b = e.bad;
                return g;
            });
        }

        // What Parquet and polars hand over for counts and money: a tight loop for the
        // values that are fine as they are (≥ 0, and in range once scaled), the 128-bit
        // general path only for those that are not.
        void counts_and_money() {
            const field_def& f = *pl.field;
            const std::int64_t mul = f.type == field_type::money ? detail::pow10(f.scale) : 1;
            std::int64_t raw = 0;
            bad_cell b;
            for (std::int64_t i = 0; i < m; ++i) {
                const std::int64_t r = r0 + i;
                if (!c.valid(r)) continue;
                const std::int64_t v = load<std::int64_t>(c.data, c.base + r);
                if (v >= 0 && (mul == 1 ? (raw = v, true) : detail::mul_ok(v, mul, raw))) {
                    ch.set(pl.k, static_cast<std::size_t>(i), raw);
                    continue;
                }
                const got g = from_integer(f, v, raw, b);
                if (g == got::value) ch.set(pl.k, static_cast<std::size_t>(i), raw);
                else if (g == got::bad) {
                    bad(i, std::move(b));
                    b = bad_cell{};  // moved from: the next bad cell starts from a defined state
                }
            }
        }

        void run(std::vector<memo_entry>& memo, std::int64_t position) {
            const field_def& f = *pl.field;
            if (c.dict) return dictionary(memo, position);
            switch (c.k) {
                case kind::null: return;
                case kind::int64:
                    if (f.type != field_type::flag) return counts_and_money();
                    return each([&](std::int64_t r, std::int64_t& raw, bad_cell& b) {
                        return from_integer(f, load<std::int64_t>(c.data, c.base + r), raw, b);
                    });
                case kind::int32:
                    return each([&](std::int64_t r, std::int64_t& raw, bad_cell& b) {
                        return from_integer(f, load<std::int32_t>(c.data, c.base + r), raw, b);
                    });
                case kind::float64:
                    return each([&](std::int64_t r, std::int64_t& raw, bad_cell& b) {
                        return from_float(f, load<double>(c.data, c.base + r), raw, b);
                    });
                case kind::utf8:
                case kind::large_utf8:
                case kind::utf8_view:
                    return each([&](std::int64_t r, std::int64_t& raw, bad_cell& b) { return from_text(f, c.text(r), raw, b); });
                default: return each([&](std::int64_t r, std::int64_t& raw, bad_cell& b) { return read_value(c, r, f, raw, b); });
            }
        }
    };

    void read_field(const column_plan& pl, const column_data& c, std::vector<memo_entry>& memo, batch_chunk& ch,
                    std::vector<pending_problem>& problems, std::int64_t r0, std::int64_t m) {
        field_pass{pl, c, ch, problems, r0, m}.run(memo, position_);
    }

    std::shared_ptr<const form_schema> form_;
    arrow_import_options options_;
    std::int64_t n_columns_ = 0;
    int row_col_ = -1;
    column_plan unit_;
    std::optional<column_plan> period_, row_;
    const ArrowSchema* schema_ = nullptr;  // the stream's schema (alive while start() plans)
    std::vector<std::string> all_;         // every input column's name
    std::vector<int> input_of_;            // header-map column → input column
    std::vector<column_plan> fields_, unnamed_;
    std::vector<bool> unnamed_bad_;
    std::vector<std::string> ignored_;
    std::vector<read_problem> problems_;  // header and column problems (row 0), then unnamed-column ones
    std::optional<batch_builder> builder_;
    std::int64_t position_ = 0;  // rows of the record batches read so far
    std::size_t reserved_ = 0;   // rows the builder has room for
};

std::string stream_error(ArrowArrayStream* s, int code) {
    const char* e = s->get_last_error ? s->get_last_error(s) : nullptr;
    return e && *e ? std::string(e) : "error code " + std::to_string(code);
}

}  // namespace

read_result import_arrow(std::shared_ptr<const form_schema> form, ArrowArrayStream* stream, const arrow_import_options& options) {
    arrow_stream_owner s(stream);
    if (!form) throw value_error("import_arrow needs a form");
    if (!s.valid()) throw value_error("the Arrow stream is missing or released");
    if (!s->get_schema || !s->get_next) throw value_error("the Arrow stream has no get_schema or get_next callback");
    arrow_schema_owner schema;
    if (int rc = s->get_schema(s.get(), schema.out()))
        throw value_error("cannot read the Arrow stream's schema: " + stream_error(s.get(), rc));
    arrow_reader reader(std::move(form), options);
    reader.start(schema.get());
    for (;;) {
        arrow_array_owner batch;
        if (int rc = s->get_next(s.get(), batch.out()))
            throw value_error("cannot read the next record batch of the Arrow stream: " + stream_error(s.get(), rc));
        if (!batch.valid()) break;  // the end of the stream is a released array
        reader.add(batch.get());
    }  // each record batch is released here, as soon as its rows are in the batch
    return reader.finish();
}

read_result import_arrow(std::shared_ptr<const form_schema> form, ArrowSchema* schema, ArrowArray* array,
                         const arrow_import_options& options) {
    arrow_schema_owner s(schema);
    arrow_array_owner a(array);
    if (!form) throw value_error("import_arrow needs a form");
    if (!a.valid()) throw value_error("the Arrow array is missing or released");
    arrow_reader reader(std::move(form), options);
    reader.start(s.valid() ? s.get() : nullptr);
    reader.add(a.get());
    a.reset();
    return reader.finish();
}

}  // namespace unionstat
