#include "unionstat/text.hpp"

namespace unionstat {
namespace detail {

namespace {
bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// Bytes of the non-ASCII characters trim() removes, in UTF-8 (see text.hpp for why each).
bool is_space_at(std::string_view s, std::size_t i, std::size_t& len) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const std::size_t n = s.size() - i;
    if (n >= 2 && b(0) == 0xC2 && b(1) == 0xA0) {
        len = 2;
        return true;
    }  // U+00A0
    if (n >= 3 && b(0) == 0xE3 && b(1) == 0x80 && b(2) == 0x80) {
        len = 3;
        return true;
    }  // U+3000
    if (n >= 3 && b(0) == 0xEF && b(1) == 0xBB && b(2) == 0xBF) {
        len = 3;
        return true;
    }  // U+FEFF
    if (n >= 3 && b(0) == 0xE2 && b(1) == 0x80 && b(2) == 0x8B) {
        len = 3;
        return true;
    }  // U+200B
    return false;
}

// The length of the stripped character ending at the end of `s`, or 0.
std::size_t space_before_end(std::string_view s) {
    std::size_t len = 0;
    if (s.size() >= 2 && is_space_at(s, s.size() - 2, len) && len == 2) return 2;
    if (s.size() >= 3 && is_space_at(s, s.size() - 3, len) && len == 3) return 3;
    return 0;
}
}  // namespace

std::string_view trim(std::string_view s) noexcept {
    // ASCII first: the common case (no padding, or plain spaces) costs two byte tests.
    for (std::size_t len = 0;;) {
        if (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
        else if (!s.empty() && static_cast<unsigned char>(s.front()) >= 0xC2 && is_space_at(s, 0, len)) s.remove_prefix(len);
        else break;
    }
    for (;;) {
        if (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
        else if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0x80) {
            const std::size_t len = space_before_end(s);
            if (len == 0) break;
            s.remove_suffix(len);
        } else break;
    }
    return s;
}

std::string fold_number_text(std::string_view in) {
    in = trim(in);
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const auto c = static_cast<unsigned char>(in[i]);
        // Full-width forms U+FF01..U+FF5E are EF BC 81..EF BD 9E; the ones a number uses
        // (U+FF0B + , U+FF0C , U+FF0D - U+FF0E . U+FF10..FF19 digits) all sit in EF BC xx.
        if (c == 0xEF && i + 2 < in.size() && static_cast<unsigned char>(in[i + 1]) == 0xBC) {
            const auto d = static_cast<unsigned char>(in[i + 2]);
            if (d >= 0x90 && d <= 0x99) {
                out += static_cast<char>('0' + (d - 0x90));
                i += 2;
                continue;
            }
            if (d == 0x8B) {
                out += '+';
                i += 2;
                continue;
            }
            if (d == 0x8C) {
                out += ',';
                i += 2;
                continue;
            }
            if (d == 0x8D) {
                out += '-';
                i += 2;
                continue;
            }
            if (d == 0x8E) {
                out += '.';
                i += 2;
                continue;
            }
        }
        out += static_cast<char>(c);
    }
    return out;
}

std::size_t utf8_length(std::string_view s) noexcept {
    std::size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

std::size_t display_width(std::string_view s) noexcept {
    std::size_t w = 0;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            w += 1;
            i += 1;
        } else if ((c & 0xE0) == 0xC0) {
            w += 1;
            i += 2;
        } else if ((c & 0xF0) == 0xE0) {
            w += 2;
            i += 3;
        }  // CJK, full-width forms
        else {
            w += 2;
            i += 4;
        }
    }
    return w;
}

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace detail
}  // namespace unionstat
