#include "unionstat/rules/checker.hpp"

#include <algorithm>
#include <numeric>
#include <set>

#include "unionstat/forms/schema.hpp"

namespace unionstat {
namespace rules {

namespace {

class checker {
public:
    checker(const form_schema& form, checked_rule& out, std::vector<diagnostic>& diags)
        : form_(form), out_(out), tree_(out.tree), info_(out.info), diags_(diags) {}

    bool run() {
        // Range expansion appends nodes while callers hold references into the arena;
        // reserving the worst case up front keeps those references valid.
        const std::size_t worst = tree_.nodes.size() * (form_.fields.size() + 4) + 16;
        tree_.nodes.reserve(worst);
        info_.reserve(worst);
        info_.assign(tree_.nodes.size(), node_info());
        const int root = tree_.root;
        if (!visit(root, false)) return false;
        if (!as_condition(root)) {
            diag(root, "a rule must be a condition (a comparison such as '01B <= 01A'), not a number");
            return false;
        }
        collect_refs(root, false);
        const node& r = tree_.nodes[root];
        if (is_comparison(r.kind)) out_.report_node = root;
        else if (r.kind == node_kind::implies && is_comparison(tree_.nodes[r.args[1]].kind)) out_.report_node = r.args[1];
        return ok_;
    }

private:
    void diag(int i, std::string message, bool warning = false) {
        const node& n = tree_.nodes[static_cast<std::size_t>(i)];
        diagnostic d;
        d.rule = out_.def.id;
        d.text = tree_.text;
        d.column = n.column;
        d.length = n.length;
        d.message = std::move(message);
        d.file = out_.def.file;
        d.line = out_.def.line;
        d.warning = warning;
        diags_.push_back(std::move(d));
        if (!warning) ok_ = false;
    }

    node& at(int i) { return tree_.nodes[static_cast<std::size_t>(i)]; }
    node_info& inf(int i) { return info_[static_cast<std::size_t>(i)]; }

    // A flag field (是/否) may stand where a condition is expected: true means 是.
    bool as_condition(int i) {
        if (inf(i).boolean) return true;
        return at(i).kind == node_kind::field && inf(i).field >= 0 &&
               form_.fields[static_cast<std::size_t>(inf(i).field)].type == field_type::flag;
    }
    bool need_condition(int i, const char* what) {
        if (as_condition(i)) return true;
        diag(i, std::string(what) + " needs a condition here (a comparison), but '" + tree_.source(i) + "' is a number");
        return false;
    }
    bool need_number(int i, const char* what) {
        if (!inf(i).boolean) return true;
        diag(i, std::string(what) + " needs a number here, but '" + tree_.source(i) + "' is a condition");
        return false;
    }

    bool lcm(int at_node, std::int64_t a, std::int64_t b, std::int64_t& out) {
        const std::int64_t g = std::gcd(a, b);
        if (!detail::mul_ok(a / g, b, out) || out > detail::pow10(18)) {
            diag(at_node, "the expression is too precise to evaluate exactly (more than 18 decimals)");
            return false;
        }
        return true;
    }

    static std::string describe(const node_info& x) {
        if (x.unit.empty()) return "a bare number";
        return (x.money ? "money (" : x.unit == "是/否" ? "a 是/否 flag (" : "a count (") + x.unit + ")";
    }

    // Units must agree across + - and comparisons unless a constant factor converts them.
    void units_agree(int i, const node_info& a, const node_info& b, bool comparing) {
        if (a.unit.empty() || b.unit.empty() || a.unit == b.unit) return;
        if (a.scaled || b.scaled) return;
        const std::string verb = comparing ? "compares " : "adds ";
        if (a.money != b.money) {
            diag(i, verb + describe(a) + (comparing ? " with " : " to ") + describe(b) +
                        "; multiply by a constant to state the conversion");
        } else if (a.money) {
            diag(i, verb + "万元 and 元 without a factor; scale one side (x 10000)");
        } else {
            diag(i, verb + a.unit + (comparing ? " with " : " to ") + b.unit + " without an explicit factor (different units)");
        }
    }

    void combine(int i, int a, int b, bool comparing) {
        node_info& x = inf(i);
        const node_info &l = inf(a), &r = inf(b);
        units_agree(i, l, r, comparing);
        std::int64_t den;
        if (!lcm(i, l.den, r.den, den)) return;
        x.den = den;
        x.lhs_factor = den / l.den;
        x.rhs_factor = den / r.den;
        x.common_den = den;
        x.unit = l.unit.empty() ? r.unit : l.unit;
        x.money = l.money || r.money;
        x.scaled = l.scaled || r.scaled;
        x.money_terms = l.money_terms + r.money_terms;
        std::int64_t h1 = 0, h2 = 0;
        detail::mul_ok(l.half_units, x.lhs_factor, h1);
        detail::mul_ok(r.half_units, x.rhs_factor, h2);
        x.half_units = h1 + h2;
    }

    void tolerance(int i) {
        node_info& x = inf(i);
        const node_info &l = inf(at(i).args[0]), &r = inf(at(i).args[1]);
        if (out_.def.tolerance) {
            const decimal& t = *out_.def.tolerance;
            // t × common_den must be whole; round down so a stated tolerance is never widened.
            wide_int v = wide_int(t.raw()) * x.common_den / detail::pow10(t.scale());
            x.tolerance = detail::fits_int64(v) ? static_cast<std::int64_t>(v) : 0;
            return;
        }
        // Default: each 万元 term reported to 2 decimals may be off by half a unit (0.005),
        // so a side that adds k >= 2 money terms tolerates the sum of their half-units.
        // One-to-one comparisons are exact: rounding is monotone.
        std::int64_t t = 0;
        if (l.money_terms >= 2) t = std::max(t, l.half_units * x.lhs_factor);
        if (r.money_terms >= 2) t = std::max(t, r.half_units * x.rhs_factor);
        x.tolerance = t;
    }

    // Checks node i and its arguments, filling its node_info; false (with a diagnostic)
    // when it is not well formed. Each kind's rules are in its own function.
    bool visit(int i, bool in_is_missing) {
        node& n = at(i);
        node_info& x = inf(i);
        switch (n.kind) {
            case node_kind::number: x.den = detail::pow10(n.value.scale()); return true;
            case node_kind::boolean: x.boolean = true; return true;
            case node_kind::field: return visit_field(i);
            case node_kind::range: diag(i, "a range 'a:b' is only allowed inside sum(), min() or max()"); return false;
            case node_kind::neg:
            case node_kind::abs: return visit_sign(i, in_is_missing);
            case node_kind::logical_and:
            case node_kind::logical_or:
            case node_kind::implies: return visit_connective(i);
            case node_kind::logical_not:
                if (!visit(n.args[0], false) || !need_condition(n.args[0], "'not'")) return false;
                x.boolean = true;
                return true;
            case node_kind::sum:
            case node_kind::min:
            case node_kind::max: return variadic(i);
            case node_kind::is_missing: return visit_is_missing(i);
            case node_kind::prev:
            case node_kind::children_sum: return visit_source(i, in_is_missing);
            default: return binary(i);  // add, sub, mul, div and the comparisons
        }
    }

    bool visit_field(int i) {
        node& n = at(i);
        node_info& x = inf(i);
        auto f = form_.find(n.name);
        if (!f) {
            diag(i, "unknown field '" + n.name + "': form " + form_.id + " has no such code or key");
            return false;
        }
        const field_def& fd = form_.fields[*f];
        x.field = static_cast<int>(*f);
        x.unit = fd.unit;
        x.money = fd.type == field_type::money;
        x.den = detail::pow10(fd.scale);
        if (x.money) {
            x.money_terms = 1;
            x.half_units = fd.decimals < fd.scale ? 5 * detail::pow10(fd.scale - fd.decimals - 1) : 0;
        }
        return true;
    }

    // -a and abs(a): a number; abs() loses the money terms' rounding (|a| is no sum).
    bool visit_sign(int i, bool in_is_missing) {
        node& n = at(i);
        node_info& x = inf(i);
        if (n.kind == node_kind::abs && n.args.size() != 1) {
            diag(i, "abs() takes exactly one argument");
            return false;
        }
        if (!visit(n.args[0], in_is_missing) || !need_number(n.args[0], n.kind == node_kind::neg ? "'-'" : "abs()")) return false;
        x = inf(n.args[0]);
        x.field = -1;
        if (n.kind == node_kind::abs) x.money_terms = 0, x.half_units = 0;
        return true;
    }

    // and, or, if … then: two conditions (both checked, so that both are diagnosed).
    bool visit_connective(int i) {
        node& n = at(i);
        const char* what = n.kind == node_kind::implies ? "'if … then'" : n.kind == node_kind::logical_and ? "'and'" : "'or'";
        bool ok = visit(n.args[0], false) & visit(n.args[1], false);
        if (!ok) return false;
        ok = need_condition(n.args[0], what) & need_condition(n.args[1], what);
        inf(i).boolean = true;
        return ok;
    }

    bool visit_is_missing(int i) {
        node& n = at(i);
        if (n.args.size() != 1) {
            diag(i, "is_missing() takes exactly one field");
            return false;
        }
        const int a = n.args[0];
        const node_kind k = at(a).kind;
        if (k != node_kind::field && k != node_kind::prev && k != node_kind::children_sum) {
            diag(a, "is_missing() takes a field (or prev(field)), not an expression");
            return false;
        }
        if (!visit(a, true)) return false;
        inf(i).boolean = true;
        return true;
    }

    // prev(field), children_sum(field): the field from another source.
    bool visit_source(int i, bool in_is_missing) {
        node& n = at(i);
        const char* name = n.kind == node_kind::prev ? "prev()" : "children_sum()";
        if (n.args.size() != 1 || at(n.args[0]).kind != node_kind::field) {
            diag(i, std::string(name) + " takes exactly one field");
            return false;
        }
        if (!visit(n.args[0], in_is_missing)) return false;
        const value_source src = n.kind == node_kind::prev ? value_source::previous : value_source::children;
        inf(n.args[0]).source = src;
        node_info& x = inf(i);
        x = inf(n.args[0]);
        x.source = src;
        return true;
    }

    bool binary(int i) {
        node& n = at(i);
        node_info& x = inf(i);
        const int a = n.args[0], b = n.args[1];
        if (!(visit(a, false) & visit(b, false))) return false;
        const bool cmp = is_comparison(n.kind);
        const char* what = cmp ? "a comparison" : "arithmetic";
        if (!(need_number(a, what) & need_number(b, what))) return false;
        switch (n.kind) {
            case node_kind::add:
            case node_kind::sub: combine(i, a, b, false); return ok_;
            case node_kind::mul: {
                const node_info &l = inf(a), &r = inf(b);
                if (!detail::mul_ok(l.den, r.den, x.den) || x.den > detail::pow10(18)) {
                    diag(i, "the product is too precise to evaluate exactly (more than 18 decimals)");
                    return false;
                }
                x.unit = l.unit.empty() ? r.unit : r.unit.empty() ? l.unit : l.unit + "·" + r.unit;
                x.money = l.money || r.money;
                x.scaled = true;  // a constant factor states a conversion explicitly
                return true;
            }
            case node_kind::div: {
                // Only by a constant: a / (p × 10^-q) = a × 10^q / p, exact with a static denominator.
                int c = b;
                bool negative = false;
                if (at(c).kind == node_kind::neg) negative = true, c = at(c).args[0];
                if (at(c).kind != node_kind::number) {
                    diag(b, "division is only allowed by a constant (e.g. '/ 10000')");
                    return false;
                }
                const decimal& v = at(c).value;
                if (v.raw() == 0) {
                    diag(b, "division by zero");
                    return false;
                }
                const node_info& l = inf(a);
                x = l;
                x.field = -1;
                x.money_terms = 0;
                x.half_units = 0;
                x.scaled = true;
                const std::int64_t p = v.raw() < 0 ? -v.raw() : v.raw();
                if (!detail::mul_ok(l.den, p, x.den) || x.den > detail::pow10(18)) {
                    diag(i, "the quotient is too precise to evaluate exactly");
                    return false;
                }
                x.lhs_factor = detail::pow10(v.scale()) * ((v.raw() < 0) != negative ? -1 : 1);
                return true;
            }
            default:  // comparisons
                combine(i, a, b, true);
                if (!ok_) return false;
                tolerance(i);
                x.boolean = true;
                x.unit.clear();
                x.money = false;
                x.money_terms = 0;
                x.half_units = 0;
                return true;
        }
    }

    // sum/min/max take values or ranges; they are rewritten into chains of binary nodes.
    bool variadic(int i) {
        const node_kind kind = at(i).kind;
        const char* name = kind == node_kind::sum ? "sum()" : kind == node_kind::min ? "min()" : "max()";
        std::vector<int> items;
        for (int a : std::vector<int>(at(i).args)) {
            if (at(a).kind != node_kind::range) {
                items.push_back(a);
                continue;
            }
            const int from = at(a).args[0], to = at(a).args[1];
            if (at(from).kind != node_kind::field || at(to).kind != node_kind::field) {
                diag(a, std::string("a range in ") + name + " goes from one field code to another, e.g. 05B:05F");
                return false;
            }
            auto f1 = form_.find(at(from).name), f2 = form_.find(at(to).name);
            if (!f1 || !f2) {
                diag(!f1 ? from : to, "unknown field '" + at(!f1 ? from : to).name + "' in range");
                return false;
            }
            if (*f1 > *f2) {
                diag(a, "range " + tree_.source(a) + " runs backwards; fields are taken in printed order");
                return false;
            }
            // Ranges are the one place a rule grows after parsing: the chains they become
            // are walked recursively (here, by the planner and evaluator, and in Python for
            // HiGHS), so what all of a rule's ranges expand to is bounded too.
            expanded_ += *f2 - *f1 + 1;
            if (expanded_ > max_expanded) {
                diag(a,
                     "the ranges of this rule expand to more than " + std::to_string(max_expanded) + " fields; split the rule");
                return false;
            }
            for (std::size_t f = *f1; f <= *f2; ++f) {
                node n;
                n.kind = node_kind::field;
                n.name = form_.fields[f].code;
                n.column = at(a).column;
                n.length = at(a).length;
                items.push_back(tree_.add(std::move(n)));
                info_.push_back(node_info());
            }
        }
        if (items.empty()) {
            diag(i, std::string(name) + " needs at least one argument");
            return false;
        }
        const node_kind step = kind == node_kind::sum ? node_kind::add : kind;
        if (items.size() == 1) {
            // sum(x) == x + 0, min(x) == max(x) == x: keep one binary shape for the planner.
            node zero;
            zero.kind = node_kind::number;
            zero.column = at(i).column;
            zero.length = at(i).length;
            items.push_back(tree_.add(std::move(zero)));
            info_.push_back(node_info());
            if (step != node_kind::add) items.back() = items.front();
        }
        int acc = items[0];
        for (std::size_t k = 1; k + 1 < items.size(); ++k) {
            node n;
            n.kind = step;
            n.args = {acc, items[k]};
            n.column = at(i).column;
            n.length = at(i).length;
            acc = tree_.add(std::move(n));
            info_.push_back(node_info());
        }
        at(i).kind = step;
        at(i).args = {acc, items.back()};
        if (step == node_kind::add) return binary(i);
        // min/max: like + for units and denominators, but not additive for tolerance.
        const int a = at(i).args[0], b = at(i).args[1];
        if (!(visit(a, false) & visit(b, false))) return false;
        if (!(need_number(a, name) & need_number(b, name))) return false;
        combine(i, a, b, true);
        inf(i).money_terms = 0;
        inf(i).half_units = 0;
        return ok_;
    }

    void collect_refs(int i, bool in_is_missing) {
        const node& n = at(i);
        if (n.kind == node_kind::is_missing) in_is_missing = true;
        if (n.kind == node_kind::field && !in_is_missing) {
            std::pair<value_source, int> ref{inf(i).source, inf(i).field};
            if (std::find(out_.refs.begin(), out_.refs.end(), ref) == out_.refs.end()) out_.refs.push_back(ref);
        }
        for (int a : n.args) collect_refs(a, in_is_missing);
    }

    const form_schema& form_;
    checked_rule& out_;
    ast& tree_;
    std::vector<node_info>& info_;
    std::vector<diagnostic>& diags_;
    bool ok_ = true;
    static constexpr std::size_t max_expanded = 512;  // fields all ranges of one rule may name
    std::size_t expanded_ = 0;
};

}  // namespace

std::optional<checked_rule> check(const form_schema& form, const rule_def& def, ast tree, std::vector<diagnostic>& diags) {
    checked_rule out;
    out.def = def;
    out.tree = std::move(tree);
    out.missing = def.missing.value_or(form.default_missing);
    checker c(form, out, diags);
    if (!c.run()) return std::nullopt;
    return out;
}

}  // namespace rules
}  // namespace unionstat
