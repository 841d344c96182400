#include "unionstat/io/text_decoder.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <iconv.h>

#include "unionstat/error.hpp"

namespace unionstat {

namespace {

std::uint64_t count_lines(const char* p, std::size_t n) noexcept {
    return static_cast<std::uint64_t>(std::count(p, p + n, '\n'));
}

bool starts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

const char* iconv_name(const std::string& encoding) noexcept {
    if (encoding == "gb18030") return "GB18030";
    if (encoding == "gbk") return "GBK";
    if (encoding == "gb2312") return "GB2312";
    if (encoding == "utf-16le") return "UTF-16LE";
    if (encoding == "utf-16be") return "UTF-16BE";
    return nullptr;  // UTF-8: passed through
}

bool is_gb(const std::string& encoding) noexcept { return encoding == "gb18030" || encoding == "gbk" || encoding == "gb2312"; }

// Past the ASCII from p[i], eight bytes at a time: data files are mostly digits and commas.
inline std::size_t skip_ascii(const unsigned char* p, std::size_t i, std::size_t n) noexcept {
    while (i + 8 <= n) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull) break;
        i += 8;
    }
    return i;
}

enum class sequence { whole, cut, bad };

// The continuation bytes of the `len`-byte sequence led by p[i]: all there, cut off by
// the end of the text, or wrong (the second byte must be in [lo, hi], the others in
// [0x80, 0xBF]).
inline sequence continuation(const unsigned char* p, std::size_t i, std::size_t n, std::size_t len, unsigned lo,
                             unsigned hi) noexcept {
    if (i + 1 >= n) return sequence::cut;
    if (p[i + 1] < lo || p[i + 1] > hi) return sequence::bad;
    for (std::size_t k = 2; k < len; ++k) {
        if (i + k >= n) return sequence::cut;
        if (p[i + k] < 0x80 || p[i + k] > 0xBF) return sequence::bad;
    }
    return sequence::whole;
}

}  // namespace

std::size_t utf8_valid_prefix(std::string_view s, bool allow_cut, std::size_t* complete) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        i = skip_ascii(p, i, n);
        if (i >= n) break;
        const unsigned c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        unsigned lo = 0x80, hi = 0xBF;  // range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) len = 3, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) len = 3, hi = 0x9F;  // no surrogates
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) len = 4, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) len = 4, hi = 0x8F;  // nothing past U+10FFFF
        else {
            if (complete) *complete = i;
            return i;
        }
        const sequence r = continuation(p, i, n, len, lo, hi);
        if (r != sequence::whole) {
            if (complete) *complete = i;
            return r == sequence::cut && allow_cut ? n : i;
        }
        i += len;
    }
    if (complete) *complete = n;
    return n;
}

detected_encoding detect_encoding(std::string_view head, bool whole, const std::string& forced) {
    const std::string_view bom8 = "\xEF\xBB\xBF", bom_le = "\xFF\xFE", bom_be = "\xFE\xFF";
    detected_encoding d;
    if (!forced.empty()) {
        std::string name;
        for (char c : forced) name += c == '_' ? '-' : static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        if (name == "utf8") name = "utf-8";
        if (name == "utf-8" || name == "utf-8-sig") {
            d.name = name;
            d.bom = starts_with(head, bom8) ? 3 : 0;  // a BOM is never data, even when not announced
        } else if (name == "utf-16") {
            d.name = starts_with(head, bom_be) ? "utf-16be" : "utf-16le";  // Excel writes little-endian
            d.bom = starts_with(head, bom_le) || starts_with(head, bom_be) ? 2 : 0;
        } else if (name == "utf-16le" || name == "utf-16be") {
            d.name = name;
            d.bom = starts_with(head, name == "utf-16le" ? bom_le : bom_be) ? 2 : 0;
        } else if (name == "gb18030" || name == "gbk" || name == "gb2312") {
            d.name = name;
        } else {
            throw value_error("unknown encoding '" + forced +
                              "' (known: utf-8, utf-8-sig, gb18030, gbk, gb2312, utf-16, utf-16le, utf-16be; "
                              "empty to detect)");
        }
        d.reason = "as asked";
        return d;
    }
    if (starts_with(head, bom8)) {
        d.name = "utf-8-sig";
        d.bom = 3;
        d.reason = "byte order mark";
    } else if (starts_with(head, bom_le)) {
        d.name = "utf-16le";
        d.bom = 2;
        d.reason = "byte order mark";
    } else if (starts_with(head, bom_be)) {
        d.name = "utf-16be";
        d.bom = 2;
        d.reason = "byte order mark";
    } else {
        const std::size_t valid = utf8_valid_prefix(head, !whole);
        if (valid == head.size()) {
            d.name = "utf-8";
        } else {
            d.name = "gb18030";
            d.guessed = true;
            d.reason = "its first bytes are not valid UTF-8 (byte offset " + std::to_string(valid) + ")";
        }
    }
    return d;
}

text_decoder::text_decoder(const std::string& encoding, std::string file) : encoding_(encoding), file_(std::move(file)) {
    const char* from = iconv_name(encoding);
    if (!from) return;
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == reinterpret_cast<iconv_t>(-1)) {
        location where;
        where.file = file_;
        throw value_error("this system's iconv cannot decode " + encoding, where);
    }
    cd_ = cd;
}

text_decoder::~text_decoder() {
    if (cd_) iconv_close(static_cast<iconv_t>(cd_));
}

void text_decoder::decode(std::string_view in, bool last, std::string& out) {
    if (!cd_) {
        out.append(in.data(), in.size());
        return;
    }
    std::string joined;
    std::string_view data = in;
    if (!pending_.empty()) {  // a character cut by the last block: rare, so a copy is fine
        joined = std::move(pending_);
        joined.append(in.data(), in.size());
        data = joined;
        pending_.clear();
    }
    const std::size_t out_start = out.size();
    const bool gb = is_gb(encoding_), gb4 = encoding_ == "gb18030";
    auto fail = [&](std::size_t at, const std::string& what) {
        location where;
        where.file = file_;
        const std::uint64_t line = lines_ + count_lines(out.data() + out_start, out.size() - out_start) + 1;
        where.line = static_cast<int>(std::min<std::uint64_t>(line, 0x7fffffff));
        throw value_error(what + " at byte offset " + std::to_string(offset_ + at) + " (line " + std::to_string(line) +
                              "); the file was read as " + encoding_ + ": pass another encoding if it is not",
                          where);
    };
    // Converts data[i, j) with iconv; returns false when the end holds a cut character.
    auto convert = [&](std::size_t i, std::size_t j) {
        char* inp = const_cast<char*>(data.data() + i);
        std::size_t inleft = j - i;
        iconv(static_cast<iconv_t>(cd_), nullptr, nullptr, nullptr, nullptr);
        while (inleft > 0) {
            const std::size_t used = out.size();
            out.resize(used + inleft * 2 + 16);
            char* outp = &out[used];
            std::size_t outleft = out.size() - used;
            const std::size_t r = iconv(static_cast<iconv_t>(cd_), &inp, &inleft, &outp, &outleft);
            const int err = errno;
            out.resize(static_cast<std::size_t>(outp - out.data()));
            if (r != static_cast<std::size_t>(-1)) break;
            if (err == E2BIG) continue;
            const std::size_t at = static_cast<std::size_t>(inp - data.data());
            if (err == EINVAL) {  // the end of the data cuts a character
                if (j < data.size()) fail(at, "bytes that are not valid " + encoding_);
                if (last) fail(at, "the file ends inside a character");
                pending_.assign(inp, inleft);
                return;
            }
            fail(at, "bytes that are not valid " + encoding_);
        }
    };
    if (gb) {
        // In the GB encodings an ASCII byte outside a double-byte character is that ASCII
        // character: copy the ASCII runs (digits, commas) and give iconv only the rest.
        const auto* p = reinterpret_cast<const unsigned char*>(data.data());
        const std::size_t n = data.size();
        std::size_t i = 0;
        while (i < n) {
            std::size_t j = i;
            while (j < n && p[j] < 0x80) ++j;
            out.append(data.data() + i, j - i);
            i = j;
            if (i == n) break;
            while (j < n && p[j] >= 0x80) {
                if (p[j] == 0x80 || p[j] == 0xFF || j + 1 >= n) {  // invalid, or cut: iconv says which
                    ++j;
                    break;
                }
                j += (gb4 && p[j + 1] >= 0x30 && p[j + 1] <= 0x39) ? 4 : 2;
            }
            j = std::min(j, n);
            convert(i, j);
            if (!pending_.empty()) break;
            i = j;
        }
    } else {
        convert(0, data.size());
    }
    lines_ += count_lines(out.data() + out_start, out.size() - out_start);
    offset_ += data.size() - pending_.size();
}

}  // namespace unionstat
