#pragma once
// Private to src/: where a text stops being UTF-8. Schema and units files are UTF-8 by
// definition; a file saved as GBK must be refused at load, naming its line, rather than
// read as mojibake or failing later in Python with a UnicodeDecodeError.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace unionstat::detail {

/// The first byte offset that is not part of well-formed UTF-8 (no overlong forms, no
/// surrogates, nothing above U+10FFFF), or std::string_view::npos when all of it is.
inline std::size_t utf8_invalid_offset(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) len = 3, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) len = 3, hi = 0x9F;
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) len = 4, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) len = 4, hi = 0x8F;
        else return i;
        if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return i;
        for (std::size_t k = 2; k < len; ++k)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
        i += len;
    }
    return std::string_view::npos;
}

/// 1-based line and column (in characters) of byte `offset` in `s`.
inline std::pair<int, int> line_column_at(std::string_view s, std::size_t offset) noexcept {
    int line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\n') {
            ++line;
            column = 1;
        } else if ((c & 0xC0) != 0x80) {
            ++column;
        }
    }
    return {line, column};
}

/// The message for text that is not UTF-8: the bytes found, and what to do.
inline std::string not_utf8_message(std::string_view s, std::size_t offset, const char* what) {
    static const char hex[] = "0123456789ABCDEF";
    std::string bytes;
    for (std::size_t k = offset; k < s.size() && k < offset + 2; ++k) {
        const unsigned char c = static_cast<unsigned char>(s[k]);
        bytes += std::string(bytes.empty() ? "" : " ") + "0x" + hex[c >> 4] + hex[c & 15];
    }
    return std::string(what) + " is not UTF-8 (bytes " + bytes + "; a file saved as GBK or GB18030?): save it as UTF-8";
}

}  // namespace unionstat::detail
