#include <limits>

#include "prelude.hpp"

using namespace unionstat;
using namespace unionstat::rules;

namespace {

std::optional<unit_level> level_arg(const py::object& level) {
    if (level.is_none()) return std::nullopt;
    const auto text = level.cast<std::string>();
    auto l = parse_level(text);
    if (!l) throw value_error("unknown level '" + text + "' (national, province, city, county, grassroots)");
    return l;
}

// One text per listed pair of a result, made by `text(rules, result, i)`.
template <class Text>
std::vector<std::string> all_texts(const batch_result& r, const report_batch& b, Text text) {
    const rule_set& rules = b.form().compiled();
    std::vector<std::string> out;
    out.reserve(r.size());
    for (std::size_t i = 0; i < r.size(); ++i) out.push_back(text(rules, r, i));
    return out;
}

const char* kind_name(node_kind k) noexcept {
    switch (k) {
        case node_kind::number: return "number";
        case node_kind::field: return "field";
        case node_kind::neg: return "neg";
        case node_kind::add: return "add";
        case node_kind::sub: return "sub";
        case node_kind::mul: return "mul";
        case node_kind::div: return "div";
        case node_kind::eq: return "eq";
        case node_kind::ne: return "ne";
        case node_kind::lt: return "lt";
        case node_kind::le: return "le";
        case node_kind::gt: return "gt";
        case node_kind::ge: return "ge";
        case node_kind::logical_and: return "and";
        case node_kind::logical_or: return "or";
        case node_kind::logical_not: return "not";
        case node_kind::implies: return "implies";
        case node_kind::sum: return "sum";
        case node_kind::abs: return "abs";
        case node_kind::min: return "min";
        case node_kind::max: return "max";
        case node_kind::is_missing: return "is_missing";
        case node_kind::prev: return "prev";
        case node_kind::children_sum: return "children_sum";
        case node_kind::range: return "range";
        case node_kind::boolean: return "boolean";
    }
    return "?";
}

const char* source_name(value_source s) noexcept {
    return s == value_source::current ? "current" : s == value_source::previous ? "previous" : "children";
}

// A compiled rule's checked tree as plain Python data, for the solvers in Python
// (localisation, rule-set analysis): they read the core's parse and exact arithmetic
// (denominators, tolerances) instead of parsing the rule text a second time.
py::dict rule_tree(const compiled_rule& r) {
    const checked_rule& c = r.checked();
    py::list nodes;
    for (std::size_t i = 0; i < c.tree.nodes.size(); ++i) {
        const node& n = c.tree.nodes[i];
        const node_info& x = c.info[i];
        py::dict d;
        d["kind"] = kind_name(n.kind);
        d["args"] = n.args;
        d["raw"] = n.value.raw();
        d["scale"] = n.value.scale();
        d["field"] = x.field;
        d["source"] = source_name(x.source);
        d["boolean"] = x.boolean;
        d["den"] = x.den;
        d["common_den"] = x.common_den;
        d["lhs_factor"] = x.lhs_factor;
        d["rhs_factor"] = x.rhs_factor;
        d["tolerance"] = x.tolerance;
        d["text"] = c.tree.source(static_cast<int>(i));
        nodes.append(d);
    }
    py::dict out;
    out["id"] = c.def.id;
    out["check"] = c.def.check;
    out["severity"] = to_string(c.def.sev);
    out["missing"] = to_string(c.missing);
    out["origin"] = c.def.origin == rule_origin::part_of ? "part_of" : c.def.origin == rule_origin::group ? "group" : "rule";
    py::list levels;
    for (auto l : c.def.levels) levels.append(to_string(l));
    out["levels"] = levels;
    py::list refs;
    for (const auto& [src, f] : c.refs) refs.append(py::make_tuple(source_name(src), f));
    out["refs"] = refs;
    out["fields"] = r.fields();
    out["uses_previous"] = r.uses_previous();
    out["uses_children"] = r.uses_children();
    out["root"] = c.tree.root;
    out["nodes"] = nodes;
    return out;
}

}  // namespace

void register_rules(py::module_& m) {
    py::class_<rule_outcome>(m, "RuleOutcome", "One rule's outcome on one report.")
        .def_readonly("rule_id", &rule_outcome::rule_id, "The id of the rule.")
        .def_property_readonly(
            "severity", [](const rule_outcome& o) { return to_string(o.sev); }, "error or warning.")
        .def_property_readonly(
            "status", [](const rule_outcome& o) { return to_string(o.st); },
            "pass, fail, skipped or error (could not be evaluated: arithmetic overflow).")
        .def_property_readonly(
            "reason", [](const rule_outcome& o) { return to_string(o.why); },
            "Why a rule was skipped or errored (missing, no_previous, level, overflow), or none.")
        .def_readonly("lhs", &rule_outcome::lhs, "The left side of the rule's comparison, exact text, or None.")
        .def_readonly("rhs", &rule_outcome::rhs, "The right side of the rule's comparison, exact text, or None.")
        .def_readonly("difference", &rule_outcome::difference, "lhs − rhs, exact text, or None.")
        .def_readonly("message", &rule_outcome::message, "The Chinese message, placeholders filled (failed or errored rules).")
        .def_readonly("message_en", &rule_outcome::message_en, "The English message, placeholders filled.")
        .def_readonly("fields", &rule_outcome::fields, "The codes of the fields the rule reads.")
        .def("__repr__", [](const rule_outcome& o) { return "<RuleOutcome " + o.rule_id + " " + to_string(o.st) + ">"; });

    m.def(
        "validate_report",
        [](const report& r, const report* previous, const report* children, const py::object& level) {
            eval_context ctx;
            ctx.previous = previous;
            ctx.children = children;
            ctx.level = level_arg(level);
            return evaluate(r.form().compiled(), r, ctx).outcomes;
        },
        py::arg("report"), py::arg("previous") = nullptr, py::arg("children") = nullptr, py::arg("level") = py::none(),
        "Every rule's outcome on one report, in rule order.");

    m.def(
        "explain",
        [](const report& r, const std::string& rule_id, const report* previous) {
            eval_context ctx;
            ctx.previous = previous;
            const rule_set& rules = r.form().compiled();
            py::list out;
            for (const auto& s : explain(rules, rules.index(rule_id), r, ctx))
                out.append(py::make_tuple(s.depth, s.source, s.value, s.unit,
                                          s.tolerance.empty() ? py::object(py::none()) : py::object(py::str(s.tolerance)),
                                          s.stated_tolerance));
            return out;
        },
        py::arg("report"), py::arg("rule_id"), py::arg("previous") = nullptr,
        "(depth, sub-expression, value, unit, tolerance or None, tolerance stated by the rule) for every node "
        "of a rule on a report, outermost first.");

    m.def(
        "rule_ast",
        [](const std::shared_ptr<form_schema>& form, const std::string& rule_id) {
            const rule_set& rules = form->compiled();
            return rule_tree(rules[rules.index(rule_id)]);
        },
        py::arg("form"), py::arg("rule_id"),
        "The checked syntax tree of one compiled rule: nodes (kind, args, value raw/scale, field index, "
        "source, exact denominators and tolerances) and the rule's resolved missing strategy, refs and levels.");
    m.def(
        "rule_asts",
        [](const std::shared_ptr<form_schema>& form) {
            py::list out;
            for (const auto& r : form->compiled().rules()) out.append(rule_tree(r));
            return out;
        },
        py::arg("form"), "rule_ast of every compiled rule of a form, in rule order.");

    m.def(
        "check_rule",
        [](const std::shared_ptr<form_schema>& form, const std::string& check, const std::string& id) {
            rule_def def;
            def.id = id;
            def.check = check;
            compile_rule(*form, def);
        },
        py::arg("form"), py::arg("check"), py::arg("id") = "adhoc",
        "Parses and checks a rule against a form; raises RuleError with diagnostics.");

    py::class_<batch_result>(m, "BatchResult", "Columnar result of validating a batch.")
        .def_readonly("rows", &batch_result::rows, "The row (0-based) of each listed outcome.")
        .def("__len__", &batch_result::size)
        .def(
            "arrays",
            [](const batch_result& r) {
                py::dict d;
                d["row"] = py::array_t<std::uint32_t>(static_cast<py::ssize_t>(r.size()), r.row.data());
                d["rule"] = py::array_t<std::uint32_t>(static_cast<py::ssize_t>(r.size()), r.rule.data());
                d["status"] = py::array_t<std::uint8_t>(static_cast<py::ssize_t>(r.size()),
                                                        reinterpret_cast<const std::uint8_t*>(r.st.data()));
                d["reason"] = py::array_t<std::uint8_t>(static_cast<py::ssize_t>(r.size()),
                                                        reinterpret_cast<const std::uint8_t*>(r.why.data()));
                return d;
            },
            "row, rule (index), status (0 pass 1 fail 2 skipped 3 error), reason codes as numpy arrays.")
        .def(
            "counts",
            [](const batch_result& r) {
                py::list out;
                for (const auto& c : r.counts) out.append(py::make_tuple(c.items, c.passes, c.fails, c.skipped, c.errors));
                return out;
            },
            "Per rule: items, passes, fails, skipped and errors, flattened (5 per rule).")
        .def(
            "keys",
            [](const batch_result& r, const report_batch& b) {
                std::vector<std::string> units, periods;
                std::vector<std::int64_t> numbers;
                units.reserve(r.size());
                periods.reserve(r.size());
                numbers.reserve(r.size());
                for (std::size_t i = 0; i < r.size(); ++i) {
                    units.push_back(b.units()[r.row[i]]);
                    periods.push_back(b.periods()[r.row[i]]);
                    numbers.push_back(b.row_number(r.row[i]));
                }
                return py::make_tuple(units, periods,
                                      py::array_t<std::int64_t>(static_cast<py::ssize_t>(numbers.size()), numbers.data()));
            },
            py::arg("batch"), "(units, periods, row numbers) of the listed pairs' rows: only those, not the batch's.")
        .def(
            "lhs_text", [](const batch_result& r, const report_batch& b) { return all_texts(r, b, lhs_text); },
            "The left side of each listed outcome's comparison, exact text (None where there is none).")
        .def(
            "rhs_text", [](const batch_result& r, const report_batch& b) { return all_texts(r, b, rhs_text); },
            "The right side of each listed outcome's comparison, exact text.")
        .def(
            "difference_text", [](const batch_result& r, const report_batch& b) { return all_texts(r, b, difference_text); },
            "lhs − rhs of each listed outcome, exact text.")
        .def(
            "messages",
            [](const batch_result& r, const report_batch& b, bool english, std::size_t limit) {
                const rule_set& rules = b.form().compiled();
                std::vector<std::string> out;
                const std::size_t n = std::min(limit, r.size());
                out.reserve(n);
                for (std::size_t i = 0; i < n; ++i) out.push_back(message_text(rules, r, b, i, english));
                return out;
            },
            py::arg("batch"), py::arg("english") = false, py::arg("limit") = std::numeric_limits<std::size_t>::max(),
            "The filled messages of the first `limit` listed pairs (all by default).");

    m.def("batch_kernels", &batch_kernels,
          "Instruction set of the batch kernels here: 'avx512', 'avx2' or 'baseline' (UNIONSTAT_SIMD lowers it).");
    m.def(
        "validate_batch",
        [](const report_batch& b, const report_batch* previous,
           const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>& previous_rows,
           const std::vector<std::string>& levels, bool keep_passes, bool keep_skipped, int threads) {
            batch_options opt;
            opt.previous = previous;
            // A numpy array in one copy: a list of millions of Python ints would be
            // converted one by one.
            opt.previous_rows.assign(previous_rows.data(), previous_rows.data() + previous_rows.size());
            for (const auto& l : levels) {
                auto lv = parse_level(l);
                if (!lv) throw value_error("unknown level '" + l + "'");
                opt.levels.push_back(*lv);
            }
            opt.keep_passes = keep_passes;
            opt.keep_skipped = keep_skipped;
            opt.threads = threads;
            py::gil_scoped_release release;
            return evaluate(b.form().compiled(), b, opt);
        },
        py::arg("batch"), py::arg("previous") = nullptr, py::arg("previous_rows") = py::array_t<std::int64_t>(0),
        py::arg("levels") = std::vector<std::string>{}, py::arg("keep_passes") = false, py::arg("keep_skipped") = false,
        py::arg("threads") = 0, "Validates every row against every rule; the GIL is released while it runs.");
}
