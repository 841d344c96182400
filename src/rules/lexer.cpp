#include "unionstat/rules/lexer.hpp"

#include <cctype>

namespace unionstat {
namespace rules {

namespace {
bool digit(char c) { return c >= '0' && c <= '9'; }
bool lower(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
bool word_char(char c) { return lower(c) || digit(c); }
}  // namespace

lex_result lex(std::string_view s) {
    lex_result out;
    std::size_t i = 0;
    int column = 1;
    auto push = [&](token_kind kind, std::size_t begin, std::size_t end) {
        token t;
        t.kind = kind;
        t.text = std::string(s.substr(begin, end - begin));
        t.offset = static_cast<int>(begin);
        t.column = column;
        t.length = static_cast<int>(end - begin);
        out.tokens.push_back(std::move(t));
        column += static_cast<int>(end - begin);
        i = end;
    };
    while (i < s.size()) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ++i;
            ++column;
            continue;
        }
        if (digit(c)) {
            std::size_t j = i;
            while (j < s.size() && digit(s[j])) ++j;
            // Two digits followed by a capital letter or '_' make a printed field code.
            if (j - i == 2 && j < s.size() && ((s[j] >= 'A' && s[j] <= 'Z') || s[j] == '_')) {
                if (s[j] != '_') ++j;
                if (j < s.size() && s[j] == '_') {
                    ++j;
                    while (j < s.size() && (digit(s[j]) || (s[j] >= 'a' && s[j] <= 'z'))) ++j;
                }
                push(token_kind::code, i, j);
                continue;
            }
            if (j < s.size() && s[j] == '.' && j + 1 < s.size() && digit(s[j + 1])) {
                ++j;
                while (j < s.size() && digit(s[j])) ++j;
            }
            push(token_kind::number, i, j);
            continue;
        }
        if (lower(c)) {
            std::size_t j = i;
            bool dotted = false;
            while (j < s.size() && word_char(s[j])) ++j;
            while (j + 1 < s.size() && s[j] == '.' && lower(s[j + 1])) {
                dotted = true;
                ++j;
                while (j < s.size() && word_char(s[j])) ++j;
            }
            push(dotted ? token_kind::key : token_kind::word, i, j);
            continue;
        }
        static const char* two[] = {"==", "!=", "<=", ">="};
        bool matched = false;
        for (const char* op : two) {
            if (s.substr(i, 2) == op) {
                push(token_kind::op, i, i + 2);
                matched = true;
                break;
            }
        }
        if (matched) continue;
        if (std::string_view("+-*/<>(),:").find(c) != std::string_view::npos) {
            push(token_kind::op, i, i + 1);
            continue;
        }
        // Anything else (including '=' alone and non-ASCII text) is a lexical error.
        out.ok = false;
        out.error_column = column;
        if (c == '=') out.error = "'=' is not an operator; use '==' to compare";
        else if (static_cast<unsigned char>(c) >= 0x80) out.error = "unexpected non-ASCII character (full-width symbol?)";
        else out.error = std::string("unexpected character '") + c + "'";
        return out;
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
