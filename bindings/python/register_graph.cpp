#include "prelude.hpp"

#include <unionstat/graph/check.hpp>
#include <unionstat/text.hpp>
#include <unionstat/graph/completeness.hpp>
#include <unionstat/graph/hierarchy_builder.hpp>
#include <unionstat/graph/leaf_sums.hpp>
#include <unionstat/graph/unit_rows.hpp>
#include <unionstat/graph/rollup.hpp>
#include <unionstat/graph/rule_inputs.hpp>

using namespace unionstat;

namespace {

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
    return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}

py::array_t<std::uint64_t> index_array(const std::vector<std::size_t>& v) {
    py::array_t<std::uint64_t> out(static_cast<py::ssize_t>(v.size()));
    auto* p = out.mutable_data();
    for (std::size_t i = 0; i < v.size(); ++i) p[i] = v[i];
    return out;
}

line line_arg(const std::string& s) {
    if (s == "primary") return line::primary;
    if (s == "secondary") return line::secondary;
    throw value_error("along must be 'primary' or 'secondary', got '" + s + "'");
}

std::vector<std::string> split_parents(std::string s) {
    // ';' or the full-width '；' separate ids, as in a units file (read_units.cpp).
    for (std::size_t i; (i = s.find("\xEF\xBC\x9B")) != std::string::npos;) s.replace(i, 3, ";");
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        const auto end = s.find(';', start);
        std::string part = std::string(detail::trim(s.substr(start, end == std::string::npos ? std::string::npos : end - start)));
        if (!part.empty()) out.push_back(part);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

}  // namespace

void register_graph(py::module_& m) {
    py::class_<hierarchy, std::shared_ptr<hierarchy>>(m, "Hierarchy", "Org units of the union hierarchy (Boost.Graph).")
        // The readers run without the GIL (their arguments are converted first): a
        // 2.8 M-unit tree loads while another thread reads the reports.
        .def_static("read_csv", &hierarchy::read_csv, py::arg("path"), py::call_guard<py::gil_scoped_release>())
        .def_static("read_yaml", &hierarchy::read_yaml, py::arg("path"), py::call_guard<py::gil_scoped_release>())
        .def_static("read", &hierarchy::read, py::arg("path"), py::call_guard<py::gil_scoped_release>())
        .def_static("parse_csv", &hierarchy::parse_csv, py::arg("text"), py::arg("name") = "<string>",
                    py::call_guard<py::gil_scoped_release>())
        .def_static(
            "from_columns",
            [](const std::vector<std::string>& ids, const std::vector<std::string>& names, const std::vector<std::string>& levels,
               const std::vector<std::string>& kinds, const std::vector<std::string>& parents,
               const std::vector<std::string>& secondary, const std::vector<std::string>& valid_from,
               const std::vector<std::string>& valid_to, const std::string& source) {
                const std::size_t n = ids.size();
                for (const auto* col : {&names, &levels, &kinds, &parents, &secondary, &valid_from, &valid_to})
                    if (col->size() != n) throw value_error("unit columns differ in length");
                hierarchy_builder b(source);
                b.reserve(n);
                for (std::size_t i = 0; i < n; ++i) {
                    org_unit u;
                    u.id = ids[i];
                    u.name = names[i];
                    auto lv = parse_level(levels[i]);
                    location l;
                    l.file = source;
                    l.row = static_cast<std::int64_t>(i);
                    l.unit = ids[i];
                    if (!lv) throw hierarchy_error("unknown level '" + levels[i] + "'", {ids[i]}, l);
                    auto kd = parse_kind(kinds[i]);
                    if (!kd) throw hierarchy_error("unknown kind '" + kinds[i] + "'", {ids[i]}, l);
                    u.level = *lv;
                    u.kind = *kd;
                    u.parent = parents[i];
                    u.secondary_parents = split_parents(secondary[i]);
                    u.valid_from = valid_from[i];
                    u.valid_to = valid_to[i];
                    u.line = static_cast<int>(i) + 2;  // as in a CSV file with a header line
                    b.add_unit(std::move(u));
                }
                return b.build();
            },
            py::arg("ids"), py::arg("names"), py::arg("levels"), py::arg("kinds"), py::arg("parents"),
            py::arg("secondary_parents"), py::arg("valid_from"), py::arg("valid_to"), py::arg("source") = "<frame>")
        .def("__len__", &hierarchy::size)
        .def("ids", [](const hierarchy& h) { return h.ids(); })
        .def("find", &hierarchy::find)
        .def("index", &hierarchy::index)
        .def("id", [](const hierarchy& h, std::size_t i) { return h.id(i); })
        .def("name", [](const hierarchy& h, std::size_t i) { return std::string(h.name(i)); })
        .def("level", [](const hierarchy& h, std::size_t i) { return to_string(h.level(i)); })
        .def("kind", [](const hierarchy& h, std::size_t i) { return to_string(h.kind(i)); })
        .def("parent",
             [](const hierarchy& h, std::size_t i) -> py::object {
                 const auto p = h.parent(i);
                 return p == hierarchy::npos ? py::none() : py::cast(p);
             })
        .def("children", &hierarchy::children)
        .def("secondary_parents", &hierarchy::secondary_parents)
        .def("ancestors", &hierarchy::ancestors)
        .def("path", &hierarchy::path)
        .def("subtree", &hierarchy::subtree)
        .def("depth", &hierarchy::depth)
        .def("roots", [](const hierarchy& h) { return h.roots(); })
        .def("at", &hierarchy::at, py::arg("period"))
        .def_property_readonly("versioned", &hierarchy::versioned,
                               "True when some unit has a validity bound or several versions.")
        .def("to_csv", &hierarchy::to_csv)
        .def(
            "columns",
            [](const hierarchy& h, const std::optional<std::vector<std::size_t>>& units) {
                // Unit table as columns (one Python list each) for a DataFrame: every unit,
                // or the units given (the rows of a roll-up), in that order.
                const std::size_t n = units ? units->size() : h.size();
                std::vector<std::string> ids(n), names(n), levels(n), kinds(n), parents(n);
                std::vector<std::int64_t> depth(n);
                for (std::size_t k = 0; k < n; ++k) {
                    const std::size_t i = units ? (*units)[k] : k;
                    if (i >= h.size())
                        throw lookup_error("unit index " + std::to_string(i) + " out of range (" + std::to_string(h.size()) +
                                           " units)");
                    ids[k] = h.id(i);
                    names[k] = std::string(h.name(i));
                    levels[k] = to_string(h.level(i));
                    kinds[k] = to_string(h.kind(i));
                    const auto p = h.parent(i);
                    parents[k] = p == hierarchy::npos ? std::string() : h.id(p);
                    depth[k] = static_cast<std::int64_t>(h.depth(i));
                }
                py::dict d;
                d["unit"] = ids;
                d["name"] = names;
                d["level"] = levels;
                d["kind"] = kinds;
                d["parent"] = parents;
                d["depth"] = to_array(depth);
                return d;
            },
            py::arg("units") = py::none());

    m.def(
        "rollup",
        [](const hierarchy& tree, const report_batch& batch, const std::string& along, const std::string& period,
           bool ignore_inner, bool leaves) {
            rollup_options o;
            o.along = line_arg(along);
            o.period = period;
            o.inner = ignore_inner ? inner_reports::ignore : inner_reports::own_activity;
            o.leaves = leaves;
            std::shared_ptr<rollup_result> r;
            {
                py::gil_scoped_release release;
                r = std::make_shared<rollup_result>(rollup(tree, batch, o));
            }
            py::dict d;
            d["totals"] = std::make_shared<report_batch>(std::move(r->totals));
            d["units"] = index_array(r->units);
            d["reports"] = to_array(r->reports);
            d["own_rows"] = to_array(r->own_rows);
            d["unknown_units"] = r->unknown_units;
            d["unknown_rows"] = index_array(r->unknown_rows);
            d["ignored_rows"] = index_array(r->ignored_rows);
            return d;
        },
        py::arg("tree"), py::arg("batch"), py::arg("along") = "primary", py::arg("period") = "", py::arg("ignore_inner") = false,
        py::arg("leaves") = false,
        "Consolidated totals of the inner units (every unit with leaves=True); 'units' gives the tree index of each "
        "row of 'totals' and 'reports' the reports counted per row (GIL released while it runs).");

    m.def(
        "check",
        [](const hierarchy& tree, const report_batch& batch, const std::string& period, const py::object& money_per_child,
           std::int64_t count_per_child, bool keep_balanced, const py::object& leaf_units, const py::object& leaf_sum,
           const py::object& leaf_count) {
            check_options o;
            o.period = period;
            if (!money_per_child.is_none()) o.money_per_child = to_decimal(money_per_child);
            o.count_per_child = count_per_child;
            o.keep_balanced = keep_balanced;
            leaf_sums leaves;
            if (!leaf_units.is_none()) {
                // Field-major arrays (width × inner units), as sum_leaves gives them.
                auto units = leaf_units.cast<py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>>();
                auto sum = leaf_sum.cast<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>();
                auto count = leaf_count.cast<py::array_t<std::uint32_t, py::array::c_style | py::array::forcecast>>();
                leaves.units.assign(units.data(), units.data() + units.size());
                leaves.width = leaves.units.empty() ? batch.width() : static_cast<std::size_t>(sum.size()) / leaves.units.size();
                leaves.sum.assign(sum.data(), sum.data() + sum.size());
                leaves.count.assign(count.data(), count.data() + count.size());
                o.leaves = &leaves;
            }
            std::shared_ptr<check_result> r;
            {
                py::gil_scoped_release release;
                r = std::make_shared<check_result>(check(tree, batch, o));
            }
            const std::size_t n = r->rows.size();
            std::vector<std::uint64_t> unit(n), field(n);
            std::vector<std::int64_t> reported(n), computed(n), difference(n), tolerance(n), bottom_up(n), gap(n), gap_tol(n);
            std::vector<std::uint8_t> has_reported(n), within(n), gap_within(n);
            std::vector<std::uint32_t> children(n);
            py::list explained;
            for (std::size_t i = 0; i < n; ++i) {
                const check_row& c = r->rows[i];
                unit[i] = c.unit;
                field[i] = c.field;
                has_reported[i] = c.reported.has_value();
                reported[i] = c.reported.value_or(0);
                computed[i] = c.computed;
                difference[i] = c.difference;
                tolerance[i] = c.tolerance;
                within[i] = c.within_tolerance;
                bottom_up[i] = c.bottom_up;
                gap[i] = c.gap;
                gap_tol[i] = c.gap_tolerance;
                gap_within[i] = c.gap_within_tolerance;
                children[i] = c.children;
                py::list ex;
                // explained_by holds rows of the result (the children's comparisons).
                for (auto row : c.explained_by) ex.append(tree.id(r->rows[row].unit));
                explained.append(ex);
            }
            py::dict d;
            d["period"] = r->period;
            d["unit"] = to_array(unit);
            d["field"] = to_array(field);
            d["has_reported"] = to_array(has_reported);
            d["reported"] = to_array(reported);
            d["computed"] = to_array(computed);
            d["difference"] = to_array(difference);
            d["tolerance"] = to_array(tolerance);
            d["within_tolerance"] = to_array(within);
            d["bottom_up"] = to_array(bottom_up);
            d["gap"] = to_array(gap);
            d["gap_tolerance"] = to_array(gap_tol);
            d["gap_within_tolerance"] = to_array(gap_within);
            d["children"] = to_array(children);
            d["explained_by"] = explained;
            // The drill-down links by row index, once each: Python walks them lazily, so a
            // chain 100,000 deep costs memory linear in its depth (a copied trace per row
            // was quadratic: out of memory).
            py::list explained_rows;
            for (const auto& c : r->rows) {
                py::list ex;
                for (auto row : c.explained_by) ex.append(row);
                explained_rows.append(ex);
            }
            d["explained_rows"] = explained_rows;
            d["unknown_units"] = r->unknown_units;
            return d;
        },
        py::arg("tree"), py::arg("batch"), py::arg("period") = "", py::arg("money_per_child") = py::none(),
        py::arg("count_per_child") = 0, py::arg("keep_balanced") = true, py::arg("leaf_units") = py::none(),
        py::arg("leaf_sum") = py::none(), py::arg("leaf_count") = py::none(),
        "Parents' reported totals against their children (raw integers in each field's storage scale). With "
        "leaf_units/leaf_sum/leaf_count (as sum_leaves gives them) the leaf reports come summed and the batch holds "
        "the inner units' reports only.");

    m.def(
        "sum_leaves",
        [](const hierarchy& tree, const report_batch& batch, const std::string& period) {
            std::shared_ptr<leaf_sums> r;
            {
                py::gil_scoped_release release;
                r = std::make_shared<leaf_sums>(sum_leaves(tree, batch, period));
            }
            py::dict d;
            d["period"] = r->period;
            d["units"] = index_array(r->units);
            const auto inner = static_cast<py::ssize_t>(r->units.size()), width = static_cast<py::ssize_t>(r->width);
            py::array_t<std::int64_t> sum({width, inner});
            py::array_t<std::uint32_t> count({width, inner});
            std::copy(r->sum.begin(), r->sum.end(), sum.mutable_data());
            std::copy(r->count.begin(), r->count.end(), count.mutable_data());
            d["sum"] = sum;
            d["count"] = count;
            d["inner_rows"] = index_array(r->inner_rows);
            d["unknown_units"] = r->unknown_units;
            d["unknown_rows"] = index_array(r->unknown_rows);
            return d;
        },
        py::arg("tree"), py::arg("batch"), py::arg("period") = "",
        "Per inner unit and sum field: the sum of its leaf children's reported figures ('sum', fields × inner units) "
        "and how many reported ('count'); 'inner_rows': the batch rows of inner units' reports.");

    m.def(
        "match_units",
        [](const hierarchy& tree, const report_batch& batch, const std::string& period) {
            std::shared_ptr<unit_rows> r;
            {
                py::gil_scoped_release release;
                r = std::make_shared<unit_rows>(match_rows(tree, batch, period));
            }
            py::dict d;
            d["period"] = r->period;
            d["row"] = to_array(r->row);
            d["unknown_units"] = r->unknown_units;
            d["unknown_rows"] = index_array(r->unknown_rows);
            return d;
        },
        py::arg("tree"), py::arg("batch"), py::arg("period") = "",
        "Each unit's row in the batch for the period (-1: none); value_error when a unit reports twice.");

    m.def(
        "completeness",
        [](const hierarchy& tree, const report_batch& batch, const std::string& period, const std::string& root) {
            completeness_result r = completeness(tree, batch, period, root);
            py::dict d;
            d["period"] = r.period;
            d["missing"] = index_array(r.missing);
            py::list by_level, by_kind;
            for (int l = 0; l < 5; ++l) {
                const auto& x = r.by_level[static_cast<std::size_t>(l)];
                by_level.append(py::make_tuple(to_string(static_cast<unit_level>(l)), x.expected, x.reported));
            }
            for (int k = 0; k < 4; ++k) {
                const auto& x = r.by_kind[static_cast<std::size_t>(k)];
                by_kind.append(py::make_tuple(to_string(static_cast<unit_kind>(k)), x.expected, x.reported));
            }
            d["by_level"] = by_level;
            d["by_kind"] = by_kind;
            d["total"] = py::make_tuple(r.total.expected, r.total.reported);
            d["unknown_units"] = r.unknown_units;
            return d;
        },
        py::arg("tree"), py::arg("batch"), py::arg("period") = "", py::arg("root") = "");

    m.def(
        "validate_in_tree",
        [](const hierarchy& tree, const report_batch& batch, const std::string& period) {
            // Levels (for level-restricted rules) and children sums (children_sum()) from the tree.
            py::gil_scoped_release release;
            rule_inputs in = make_rule_inputs(tree, batch, period);
            rules::batch_options opt;
            opt.levels = std::move(in.levels);
            opt.children = &in.children;
            return rules::evaluate(batch.form().compiled(), batch, opt);
        },
        py::arg("tree"), py::arg("batch"), py::arg("period") = "");
}
