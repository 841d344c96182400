#pragma once
/// \file lexer.hpp
/// Tokens of the rule language.

#include <string>
#include <string_view>
#include <vector>

namespace unionstat {
namespace rules {

/// Token kinds.
enum class token_kind {
    number,  ///< 10000, 0.005
    code,    ///< a printed field code: 01A, 05_total, 04A_2
    key,     ///< a concept key: funds_raised.total
    word,    ///< keyword or function name: and or not if then sum abs min max is_missing prev children_sum
    op,      ///< + - * / == != < <= > >= ( ) , :
    end      ///< end of text
};

/// One token with its place in the rule text.
struct token {
    token_kind kind = token_kind::end;
    std::string text;
    int offset = 0;  ///< byte offset in the rule text
    int column = 1;  ///< 1-based character column
    int length = 1;  ///< characters
};

/// Result of lexing: tokens (ending with `end`) or the first bad character.
struct lex_result {
    std::vector<token> tokens;
    bool ok = true;
    int error_column = 0;
    std::string error;
};

/// Splits rule text into tokens. Never throws on bad input.
lex_result lex(std::string_view text);

}  // namespace rules
}  // namespace unionstat
