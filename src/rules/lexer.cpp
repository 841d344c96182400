#include "unionstat/rules/lexer.hpp"

#include <cctype>
#include <string>
#include <utility>

namespace unionstat {
namespace rules {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool lower(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool word_char(char c) { return lower(c) || digit(c); }

// The end of the run of characters from j that `is` accepts.
template <class Pred>
std::size_t skip(std::string_view s, std::size_t j, Pred is) {
    while (j < s.size() && is(s[j])) ++j;
    return j;
}

// A token starting with a digit at i: a printed field code (two digits followed by a
// capital letter or '_', e.g. 07J, 08_b2) or a number (digits, perhaps a fraction).
std::pair<token_kind, std::size_t> digits_token(std::string_view s, std::size_t i) {
    std::size_t j = skip(s, i, digit);
    if (j - i == 2 && j < s.size() && (upper(s[j]) || s[j] == '_')) {
        if (s[j] != '_') ++j;
        if (j < s.size() && s[j] == '_') j = skip(s, j + 1, [](char c) { return digit(c) || (c >= 'a' && c <= 'z'); });
        return {token_kind::code, j};
    }
    if (j + 1 < s.size() && s[j] == '.' && digit(s[j + 1])) j = skip(s, j + 1, digit);
    return {token_kind::number, j};
}

// A token starting with a lower-case letter at i: a word, or a dotted key (a.b.c).
std::pair<token_kind, std::size_t> word_token(std::string_view s, std::size_t i) {
    std::size_t j = skip(s, i, word_char);
    bool dotted = false;
    while (j + 1 < s.size() && s[j] == '.' && lower(s[j + 1])) {
        dotted = true;
        j = skip(s, j + 1, word_char);
    }
    return {dotted ? token_kind::key : token_kind::word, j};
}

// The length of the operator at i (two characters first), or 0.
std::size_t operator_length(std::string_view s, std::size_t i) {
    for (const char* op : {"==", "!=", "<=", ">="})
        if (s.substr(i, 2) == op) return 2;
    return std::string_view("+-*/<>(),:").find(s[i]) != std::string_view::npos ? 1 : 0;
}

// Why the character c starts no token.
std::string lex_error(char c) {
    if (c == '=') return "'=' is not an operator; use '==' to compare";
    if (static_cast<unsigned char>(c) >= 0x80) return "unexpected non-ASCII character (full-width symbol?)";
    return std::string("unexpected character '") + c + "'";
}

}  // namespace

lex_result lex(std::string_view s) {
    lex_result out;
    std::size_t i = 0;
    int column = 1;
    auto push = [&](token_kind kind, std::size_t end) {
        token t;
        t.kind = kind;
        t.text = std::string(s.substr(i, end - i));
        t.offset = static_cast<int>(i);
        t.column = column;
        t.length = static_cast<int>(end - i);
        out.tokens.push_back(std::move(t));
        column += static_cast<int>(end - i);
        i = end;
    };
    while (i < s.size()) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ++i;
            ++column;
        } else if (digit(c)) {
            const auto [kind, end] = digits_token(s, i);
            push(kind, end);
        } else if (lower(c)) {
            const auto [kind, end] = word_token(s, i);
            push(kind, end);
        } else if (const std::size_t len = operator_length(s, i)) {
            push(token_kind::op, i + len);
        } else {  // anything else (including '=' alone and non-ASCII text) is a lexical error
            out.ok = false;
            out.error_column = column;
            out.error = lex_error(c);
            return out;
        }
    }
    token end;
    end.kind = token_kind::end;
    end.offset = static_cast<int>(s.size());
    end.column = column;
    end.length = 1;
    out.tokens.push_back(end);
    return out;
}

}  // namespace rules
}  // namespace unionstat
