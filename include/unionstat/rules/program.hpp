#pragma once
/// \file program.hpp
/// Third stage: a checked rule planned into an immutable program of column-wise
/// instructions, and the set of a form's compiled rules.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "unionstat/rules/checker.hpp"

namespace unionstat {
class form_schema;
namespace rules {

/// Instruction codes. Registers hold exact numerators (or 0/1 for conditions).
enum class opcode : std::uint8_t {
    constant,    ///< dst = k
    load,        ///< dst = value of field (blank → 0) from `source`
    is_missing,  ///< dst = field blank in `source` ? 1 : 0
    scale,       ///< dst = a * k
    add,         ///< dst = a * ka + b * kb
    sub,         ///< dst = a * ka - b * kb
    mul,         ///< dst = a * b
    neg,         ///< dst = -a
    abs,         ///< dst = |a|
    min,         ///< dst = min(a * ka, b * kb)
    max,         ///< dst = max(a * ka, b * kb)
    eq,
    ne,
    lt,
    le,
    gt,
    ge,  ///< dst = compare(a * ka, b * kb) within tolerance t
    logical_and,
    logical_or,
    logical_not,
    implies
};

/// One instruction. Operands are register numbers; register r belongs to node r.
struct instruction {
    opcode op = opcode::constant;
    int dst = 0, a = -1, b = -1;
    std::int64_t ka = 1, kb = 1, k = 0, t = 0;
    int field = -1;
    value_source source = value_source::current;
};

/// A compiled rule: the checked rule and its program.
class compiled_rule {
public:
    /// Plans a checked rule.
    explicit compiled_rule(checked_rule checked);

    const rule_def& def() const noexcept { return checked_.def; }
    const checked_rule& checked() const noexcept { return checked_; }
    const std::vector<instruction>& code() const noexcept { return code_; }
    /// Register holding the rule's result (0/1).
    int result_register() const noexcept { return checked_.tree.root; }
    /// Number of registers the program uses.
    int registers() const noexcept { return static_cast<int>(checked_.tree.nodes.size()); }
    /// Every field index the rule reads (any source), sorted, distinct.
    const std::vector<int>& fields() const noexcept { return fields_; }
    /// True if the rule needs a previous-period report.
    bool uses_previous() const noexcept { return uses_prev_; }
    /// True if the rule needs children sums (hierarchy rules).
    bool uses_children() const noexcept { return uses_children_; }
    /// Denominators of the reported sides (lhs, rhs), 1 when the rule reports none.
    std::int64_t lhs_den() const noexcept;
    std::int64_t rhs_den() const noexcept;
    /// Registers of the reported sides, or -1.
    int lhs_register() const noexcept;
    int rhs_register() const noexcept;

private:
    checked_rule checked_;
    std::vector<instruction> code_;
    std::vector<int> fields_;
    bool uses_prev_ = false, uses_children_ = false;
};

/// Every rule of a form, compiled once and evaluated many times.
class rule_set {
public:
    /// Parses, checks and plans every rule of `form` (explicit and generated).
    /// Throws rule_error with all diagnostics if any rule is bad.
    explicit rule_set(const form_schema& form);

    /// Rules in declaration order.
    const std::vector<compiled_rule>& rules() const noexcept { return rules_; }
    std::size_t size() const noexcept { return rules_.size(); }
    const compiled_rule& operator[](std::size_t i) const noexcept { return rules_[i]; }
    /// Index of a rule by id; throws lookup_error.
    std::size_t index(const std::string& id) const;
    /// Warnings the checker produced (the rules still compiled).
    const std::vector<diagnostic>& warnings() const noexcept { return warnings_; }

private:
    std::vector<compiled_rule> rules_;
    std::vector<diagnostic> warnings_;
};

/// Parses, checks and plans one rule against a form (for ad-hoc rules from Python or
/// the command line). Throws rule_error with its diagnostics.
compiled_rule compile_rule(const form_schema& form, const rule_def& def);

}  // namespace rules
}  // namespace unionstat
