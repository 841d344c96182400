#pragma once
/// \file parser.hpp
/// Recursive-descent parser for the rule language (first stage: text → ast).

#include <string_view>
#include <vector>

#include "unionstat/rules/ast.hpp"
#include "unionstat/rules/diagnostics.hpp"

namespace unionstat {
namespace rules {

/// Grammar, loosest first:
///   rule     := 'if' or 'then' or | or
///   or       := and ('or' and)*
///   and      := not ('and' not)*
///   not      := 'not' not | cmp
///   cmp      := add (('=='|'!='|'<'|'<='|'>'|'>=') add)?
///   add      := mul (('+'|'-') mul)*
///   mul      := unary (('*'|'/') unary)*
///   unary    := '-' unary | primary
///   primary  := number | code | key | 'true' | 'false' | '(' rule ')' | func '(' args ')'
///   args     := arg (',' arg)*,  arg := rule | code ':' code
/// Returns true and fills `out` on success; otherwise appends diagnostics (rule id,
/// column, message) and returns false.
bool parse(std::string_view text, const std::string& rule_id, ast& out, std::vector<diagnostic>& diags);

}  // namespace rules
}  // namespace unionstat
