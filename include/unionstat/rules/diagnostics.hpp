#pragma once
/// \file diagnostics.hpp
/// User mistakes in rules are diagnostics, not crashes: each names the rule, the
/// column in its text, and shows a caret under it.

#include <string>
#include <vector>

#include "unionstat/error.hpp"

namespace unionstat {
namespace rules {

/// One problem found while parsing or checking a rule.
struct diagnostic {
    std::string rule;      ///< rule id
    std::string text;      ///< the rule's check text
    int column = 0;        ///< 1-based column (in characters) inside `text`
    int length = 1;        ///< characters to underline
    std::string message;   ///< what is wrong and what was expected
    std::string file;      ///< schema file, if any
    int line = 0;          ///< line in `file` of the character at `column`, if known
    int file_column = 0;   ///< column in `file` of the character at `column` (0 if unknown)
    bool warning = false;  ///< true: reported but the rule still compiles

    /// "file:line: rule R, column C: message\n  text\n  ^^^"
    std::string to_string() const;
};

/// A schema's rules did not compile. Carries every diagnostic, not just the first.
class rule_error : public schema_error {
public:
    explicit rule_error(std::vector<diagnostic> diags);
    /// All diagnostics, in rule order.
    const std::vector<diagnostic>& diagnostics() const noexcept { return diags_; }

private:
    static std::string summarize(const std::vector<diagnostic>& diags);
    static location place(const std::vector<diagnostic>& diags);
    std::vector<diagnostic> diags_;
};

}  // namespace rules
}  // namespace unionstat
