#include "unionstat/rules/program.hpp"

#include <algorithm>

#include "unionstat/forms/schema.hpp"
#include "unionstat/rules/parser.hpp"

namespace unionstat {
namespace rules {

namespace {

opcode binary_op(node_kind k) {
    switch (k) {
        case node_kind::add: return opcode::add;
        case node_kind::sub: return opcode::sub;
        case node_kind::mul: return opcode::mul;
        case node_kind::min: return opcode::min;
        case node_kind::max: return opcode::max;
        case node_kind::eq: return opcode::eq;
        case node_kind::ne: return opcode::ne;
        case node_kind::lt: return opcode::lt;
        case node_kind::le: return opcode::le;
        case node_kind::gt: return opcode::gt;
        case node_kind::ge: return opcode::ge;
        case node_kind::logical_and: return opcode::logical_and;
        case node_kind::logical_or: return opcode::logical_or;
        case node_kind::implies: return opcode::implies;
        default: return opcode::constant;
    }
}

/// Post-order planning: one instruction per node, register r holds node r.
class planner {
public:
    planner(const checked_rule& c, std::vector<instruction>& code, std::vector<int>& fields, bool& prev, bool& children)
        : c_(c), code_(code), fields_(fields), prev_(prev), children_(children) {}

    void plan(int i) {
        const node& n = c_.tree.nodes[static_cast<std::size_t>(i)];
        const node_info& x = c_.info[static_cast<std::size_t>(i)];
        instruction in;
        in.dst = i;
        switch (n.kind) {
            case node_kind::number:
            case node_kind::boolean:
                in.op = opcode::constant;
                in.k = n.value.raw();
                break;
            case node_kind::field:
                in.op = opcode::load;
                in.field = x.field;
                in.source = x.source;
                note_field(x.field, x.source);
                break;
            case node_kind::prev:
            case node_kind::children_sum: {
                const node_info& f = c_.info[static_cast<std::size_t>(n.args[0])];
                in.op = opcode::load;
                in.field = f.field;
                in.source = f.source;
                note_field(f.field, f.source);
                break;
            }
            case node_kind::is_missing: {
                const node& a = c_.tree.nodes[static_cast<std::size_t>(n.args[0])];
                const int fnode = a.kind == node_kind::field ? n.args[0] : a.args[0];
                const node_info& f = c_.info[static_cast<std::size_t>(fnode)];
                in.op = opcode::is_missing;
                in.field = f.field;
                in.source = f.source;
                note_field(f.field, f.source);
                break;
            }
            case node_kind::neg:
            case node_kind::abs:
            case node_kind::logical_not:
                plan(n.args[0]);
                in.op = n.kind == node_kind::neg ? opcode::neg : n.kind == node_kind::abs ? opcode::abs : opcode::logical_not;
                in.a = n.args[0];
                break;
            case node_kind::div:
                plan(n.args[0]);
                in.op = opcode::scale;
                in.a = n.args[0];
                in.k = x.lhs_factor;
                break;
            default:
                plan(n.args[0]);
                plan(n.args[1]);
                if (n.kind == node_kind::mul && (is_number(n.args[0]) || is_number(n.args[1]))) {
                    // A product with a constant is a scaling: the same value and overflow,
                    // without a register of copies of the constant (which is still planned,
                    // for explain()).
                    const bool first = is_number(n.args[0]);
                    in.op = opcode::scale;
                    in.a = first ? n.args[1] : n.args[0];
                    in.k = c_.tree.nodes[static_cast<std::size_t>(first ? n.args[0] : n.args[1])].value.raw();
                    break;
                }
                in.op = binary_op(n.kind);
                in.a = n.args[0];
                in.b = n.args[1];
                in.ka = x.lhs_factor;
                in.kb = x.rhs_factor;
                in.t = x.tolerance;
                break;
        }
        code_.push_back(in);
    }

private:
    bool is_number(int i) const { return c_.tree.nodes[static_cast<std::size_t>(i)].kind == node_kind::number; }
    void note_field(int f, value_source s) {
        fields_.push_back(f);
        prev_ |= s == value_source::previous;
        children_ |= s == value_source::children;
    }
    const checked_rule& c_;
    std::vector<instruction>& code_;
    std::vector<int>& fields_;
    bool& prev_;
    bool& children_;
};

}  // namespace

compiled_rule::compiled_rule(checked_rule checked) : checked_(std::move(checked)) {
    planner(checked_, code_, fields_, uses_prev_, uses_children_).plan(checked_.tree.root);
    std::sort(fields_.begin(), fields_.end());
    fields_.erase(std::unique(fields_.begin(), fields_.end()), fields_.end());
}

std::int64_t compiled_rule::lhs_den() const noexcept {
    return lhs_register() < 0 ? 1 : checked_.info[static_cast<std::size_t>(lhs_register())].den;
}
std::int64_t compiled_rule::rhs_den() const noexcept {
    return rhs_register() < 0 ? 1 : checked_.info[static_cast<std::size_t>(rhs_register())].den;
}
int compiled_rule::lhs_register() const noexcept {
    return checked_.report_node < 0 ? -1 : checked_.tree.nodes[static_cast<std::size_t>(checked_.report_node)].args[0];
}
int compiled_rule::rhs_register() const noexcept {
    return checked_.report_node < 0 ? -1 : checked_.tree.nodes[static_cast<std::size_t>(checked_.report_node)].args[1];
}

namespace {
std::optional<compiled_rule> compile_one(const form_schema& form, const rule_def& def, std::vector<diagnostic>& diags) {
    ast tree;
    const std::size_t before = diags.size();
    if (!parse(def.check, def.id, tree, diags)) {
        for (std::size_t i = before; i < diags.size(); ++i) {
            diags[i].file = def.file;
            diags[i].line = def.line;
        }
        return std::nullopt;
    }
    auto checked = check(form, def, std::move(tree), diags);
    if (!checked) return std::nullopt;
    return compiled_rule(std::move(*checked));
}
}  // namespace

rule_set::rule_set(const form_schema& form) {
    std::vector<diagnostic> diags;
    for (const auto& def : form.rules) {
        auto r = compile_one(form, def, diags);
        if (r) rules_.push_back(std::move(*r));
    }
    std::vector<diagnostic> errors;
    for (auto& d : diags) (d.warning ? warnings_ : errors).push_back(d);
    if (!errors.empty()) throw rule_error(std::move(errors));
}

std::size_t rule_set::index(const std::string& id) const {
    for (std::size_t i = 0; i < rules_.size(); ++i)
        if (rules_[i].def().id == id) return i;
    location l;
    l.rule = id;
    throw lookup_error("no rule with id '" + id + "'", l);
}

compiled_rule compile_rule(const form_schema& form, const rule_def& def) {
    std::vector<diagnostic> diags;
    auto r = compile_one(form, def, diags);
    std::vector<diagnostic> errors;
    for (auto& d : diags)
        if (!d.warning) errors.push_back(d);
    if (!r || !errors.empty()) throw rule_error(std::move(errors));
    return std::move(*r);
}

}  // namespace rules
}  // namespace unionstat
