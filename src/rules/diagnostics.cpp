#include "unionstat/rules/diagnostics.hpp"

#include "unionstat/rules/ast.hpp"

namespace unionstat {
namespace rules {

std::string diagnostic::to_string() const {
    std::string out;
    if (!file.empty())
        out += file + (line > 0 ? ":" + std::to_string(line) : std::string()) +
               (line > 0 && file_column > 0 ? ":" + std::to_string(file_column) : std::string()) + ": ";
    out += std::string(warning ? "warning" : "error") + ": rule " + rule + ", column " + std::to_string(column) + ": " + message +
           "\n    " + text + "\n    ";
    // Caret under the column; the rule text is mostly ASCII, CJK counts as one column here
    // because columns are counted in characters.
    out += std::string(static_cast<std::size_t>(column > 0 ? column - 1 : 0), ' ');
    out += std::string(static_cast<std::size_t>(length > 0 ? length : 1), '^');
    return out;
}

rule_error::rule_error(std::vector<diagnostic> diags) : schema_error(summarize(diags), place(diags)), diags_(std::move(diags)) {}

std::string rule_error::summarize(const std::vector<diagnostic>& diags) {
    std::string out = std::to_string(diags.size()) + " rule problem" + (diags.size() == 1 ? "" : "s");
    for (const auto& d : diags) out += "\n" + d.to_string();
    return out;
}

location rule_error::place(const std::vector<diagnostic>& diags) {
    location l;
    if (diags.empty()) return l;
    l.file = diags.front().file;
    l.line = diags.front().line;
    // The place in the file when known (the caret in the message shows the rule column).
    l.column = diags.front().file_column > 0 ? diags.front().file_column : diags.front().column;
    l.rule = diags.front().rule;
    return l;
}

std::string ast::source(int i) const {
    const node& n = nodes[static_cast<std::size_t>(i)];
    // Columns are 1-based character positions; rule texts are ASCII apart from strings
    // the lexer rejects, so characters and bytes coincide here.
    return text.substr(static_cast<std::size_t>(n.column - 1), static_cast<std::size_t>(n.length));
}

}  // namespace rules
}  // namespace unionstat
