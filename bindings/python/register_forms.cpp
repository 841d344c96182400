#include <charconv>
#include <cmath>
#include <cstring>

#include "prelude.hpp"

using namespace unionstat;

decimal to_decimal(const py::handle& v) {
    if (py::isinstance<py::bool_>(v)) return decimal::from_int(v.cast<bool>() ? 1 : 0);
    if (py::isinstance<py::int_>(v)) {
        // 2**63 and beyond: an exact overflow, never a wrapped value or a pybind cast error.
        int over = 0;
        const long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &over);
        if (over != 0) throw overflow_error(py::str(v).cast<std::string>() + " does not fit in 64 bits");
        return decimal::from_int(static_cast<std::int64_t>(x));
    }
    if (py::isinstance<py::float_>(v)) {
        const double d = v.cast<double>();
        if (!std::isfinite(d)) throw value_error("not a finite number");
        char buf[64];
        auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
        return decimal::parse(std::string_view(buf, static_cast<std::size_t>(res.ptr - buf)));
    }
    if (py::isinstance<py::str>(v)) return decimal::parse(v.cast<std::string>());
    // decimal.Decimal and anything else with an exact text form.
    return decimal::parse(py::str(v).cast<std::string>());
}

py::object to_python(const field_def& f, std::int64_t raw) {
    if (f.type == field_type::flag) return py::bool_(raw != 0);
    if (f.type == field_type::count) return py::int_(raw);
    static py::object Decimal = py::module_::import("decimal").attr("Decimal");
    // The field's reported decimals (Decimal('5.00')), as frames, totals and gaps give it.
    return Decimal(format_money(raw, f.scale, f.decimals));
}

namespace {

struct cell_problem {
    std::int64_t row;
    std::string unit, field, text, message;
};

py::list problems_to_python(const std::vector<cell_problem>& ps) {
    py::list out;
    for (const auto& p : ps) out.append(py::make_tuple(p.row, p.unit, p.field, p.text, p.message));
    return out;
}

std::vector<std::uint64_t> bitmap_from_mask(const py::object& mask, std::size_t n) {
    std::vector<std::uint64_t> bits;
    if (mask.is_none()) return bits;
    auto m = py::array_t<bool, py::array::c_style | py::array::forcecast>::ensure(mask);
    if (!m || static_cast<std::size_t>(m.size()) != n)
        throw value_error("missing mask must be a boolean array of one entry per row");
    bits.assign((n + 63) / 64, 0);
    const bool* p = m.data();
    for (std::size_t i = 0; i < n; ++i)
        if (p[i]) bits[i >> 6] |= std::uint64_t(1) << (i & 63);
    return bits;
}

bool missing_in(const std::vector<std::uint64_t>& bits, std::size_t i) {
    return !bits.empty() && ((bits[i >> 6] >> (i & 63)) & 1u);
}

location place(const report_batch& b, std::size_t row, std::size_t field) {
    location l;
    l.row = static_cast<std::int64_t>(row);
    l.unit = row < b.units().size() ? b.units()[row] : std::string();
    l.field = b.form().fields[field].code;
    return l;
}

}  // namespace

void register_forms(py::module_& m) {
    py::class_<field_def>(m, "FieldDef", "One blank of a printed form.")
        .def_readonly("code", &field_def::code, "The blank's code as printed on the form (01A, 05C, 07I_2).")
        .def_readonly("row", &field_def::row, "The printed row number the blank sits in (01, 05 …).")
        .def_readonly("letter", &field_def::letter,
                      "The printed column letter of the blank (A, B …), empty for an unlettered total.")
        .def_readonly("key", &field_def::key, "The stable concept key shared across form versions (funds_raised.local_fiscal).")
        .def_readonly("label", &field_def::label, "The printed label in Chinese.")
        .def_readonly("label_en", &field_def::label_en, "The label in English.")
        .def_property_readonly(
            "type", [](const field_def& f) { return to_string(f.type); },
            "count (non-negative integer), money (exact decimal) or flag (是/否).")
        .def_readonly("unit", &field_def::unit, "The printed unit of measure (人, 户, 人次, 万元, 元 …).")
        .def_readonly("decimals", &field_def::decimals,
                      "Money: the decimals a filler reports (2 for 万元); values leave Python as Decimal with these decimals.")
        .def_readonly("scale", &field_def::scale,
                      "Decimals of storage: raw values are integers of 10**-scale units (6 for 万元, to the 分; 0 for counts).")
        .def_readonly("part_of", &field_def::part_of, "The code of the total this blank is a part of (其中), or empty.")
        .def_property_readonly(
            "aggregation", [](const field_def& f) { return to_string(f.agg); },
            "How the field adds up the hierarchy: sum, count_true (the number of 是) or none.")
        .def_readonly("printed", &field_def::printed, "The label exactly as printed, where it differs from label.")
        .def_readonly("note", &field_def::note, "Why the field is as it is (a reading of the print), or empty.")
        .def_readonly("weight", &field_def::weight, "Error localisation's weight (1 unless the form declares one).")
        .def_readonly("line", &field_def::line, "The line of the schema file that declares the field.")
        .def("__repr__", [](const field_def& f) { return "<FieldDef " + f.code + " " + f.label + " (" + f.unit + ")>"; });

    py::class_<rule_def>(m, "RuleDef", "A rule as declared in a form schema.")
        .def_readonly("id", &rule_def::id,
                      "The rule's id (<family>.<name>; generated rules <family>.part_of.<code> and <family>.group.<group>).")
        .def_readonly("check", &rule_def::check, "The rule's text in the rule language.")
        .def_property_readonly(
            "severity", [](const rule_def& r) { return to_string(r.sev); }, "error or warning.")
        .def_readonly("message", &rule_def::message, "The Chinese message, with {code} placeholders filled from the report.")
        .def_readonly("message_en", &rule_def::message_en, "The English message, with {code} placeholders.")
        .def_property_readonly(
            "missing", [](const rule_def& r) -> py::object { return r.missing ? py::cast(to_string(*r.missing)) : py::none(); },
            "The rule's own missing-value strategy (skip_if_any_missing, skip_if_all_missing, never_skip), or None for the "
            "form's default.")
        .def_property_readonly(
            "tolerance",
            [](const rule_def& r) -> py::object { return r.tolerance ? py::cast(r.tolerance->to_string()) : py::none(); },
            "The rule's own tolerance as exact text in the unit of the compared values, or None for the default (k × 0.005 万元 "
            "for a side adding k ≥ 2 万元 terms).")
        .def_property_readonly(
            "levels",
            [](const rule_def& r) {
                std::vector<std::string> out;
                for (auto l : r.levels) out.push_back(to_string(l));
                return out;
            },
            "The org-unit levels the rule applies to; empty: every level.")
        .def_property_readonly(
            "origin",
            [](const rule_def& r) {
                return r.origin == rule_origin::explicit_rule ? "explicit"
                       : r.origin == rule_origin::part_of     ? "part_of"
                                                              : "group";
            },
            "explicit (written in rules:), part_of (from a field's part_of) or group (from a group).")
        .def_readonly("note", &rule_def::note,
                      "The rule's basis: the printed text it follows, or where a plausibility bound comes from.")
        .def_readonly("line", &rule_def::line, "The line of the schema file that declares the rule (or its field or group).")
        .def("__repr__", [](const rule_def& r) { return "<RuleDef " + r.id + ": " + r.check + ">"; });

    py::class_<form_schema, std::shared_ptr<form_schema>>(m, "FormSchema", "One printed version of one form.")
        .def_readonly("id", &form_schema::id, "The form version's id (songnuan-2018).")
        .def_readonly("family", &form_schema::family, "The form family (songnuan, bangfu).")
        .def_readonly("year", &form_schema::year, "The year in the printed title.")
        .def_readonly("title", &form_schema::title, "The printed title in Chinese.")
        .def_readonly("title_en", &form_schema::title_en, "The title in English.")
        .def_readonly("script", &form_schema::script, "The script the form is printed in (simplified or traditional).")
        .def_readonly("period", &form_schema::period, "The reporting period the form asks for.")
        .def_readonly("quirks", &form_schema::quirks, "Known oddities of the print, as notes for a reader.")
        .def_readonly("deadline", &form_schema::deadline, "The reporting deadline as the notice prints it, or empty.")
        .def_property_readonly(
            "signature",
            [](const form_schema& s) {
                py::dict d;
                d["unit"] = s.signature.unit;
                d["reporter"] = s.signature.reporter;
                d["phone"] = s.signature.phone;
                d["date"] = s.signature.date;
                return d;
            },
            "The signature block: dict of unit, reporter, phone and date labels as printed.")
        .def_readonly("review", &form_schema::review, "Places a drafted schema still needs a human look at.")
        .def_readonly("file", &form_schema::file, "The schema file the form was loaded from.")
        .def_property_readonly(
            "level_scale",
            [](const form_schema& s) {
                py::dict d;  // level → factor on a report's localisation weights (consolidated reports)
                for (const auto& [level, factor] : s.level_scale) d[py::str(to_string(level))] = factor;
                return d;
            },
            "Level → factor on the localisation weights of a report at that level (汇总 reports more reliable).")
        .def_property_readonly(
            "source",
            [](const form_schema& s) {
                py::dict d;
                d["issuer"] = s.source.issuer;
                d["issuer_en"] = s.source.issuer_en;
                d["notice"] = s.source.notice;
                d["seed"] = s.source.seed;
                d["attachment"] = s.source.attachment;
                return d;
            },
            "Where the form comes from: dict of issuer, issuer_en, notice, seed and attachment.")
        .def_property_readonly(
            "notes",
            [](const form_schema& s) {
                py::list out;
                for (const auto& n : s.notes) out.append(py::make_tuple(n.text, n.text_en));
                return out;
            },
            "The form's 说明/注 lines as (Chinese, English) pairs.")
        .def_property_readonly(
            "rows",
            [](const form_schema& s) {
                py::list out;
                for (const auto& r : s.rows) out.append(py::make_tuple(r.row, r.heading, r.heading_en));
                return out;
            },
            "The printed rows as (row, heading, heading_en).")
        .def_property_readonly(
            "groups",
            [](const form_schema& s) {
                py::list out;
                for (const auto& g : s.groups) {
                    py::dict d;
                    d["id"] = g.id;
                    d["total"] = g.total;
                    d["parts"] = g.parts;
                    d["exhaustive"] = g.exhaustive;
                    d["severity"] = to_string(g.sev);
                    d["note"] = g.note;
                    out.append(d);
                }
                return out;
            },
            "Breakdowns: dicts of id, total, parts, exhaustive, severity and note.")
        .def_property_readonly(
            "default_missing", [](const form_schema& s) { return to_string(s.default_missing); },
            "The missing-value strategy of rules that set none.")
        .def_readonly("fields", &form_schema::fields, "Every field (FieldDef) in printed order.")
        .def_readonly("rules", &form_schema::rules, "Every rule (RuleDef), generated ones included, in evaluation order.")
        .def("field", &form_schema::field, py::arg("code_or_key"), py::return_value_policy::reference_internal,
             "The field of a code or concept key; raises UnknownNameError naming close matches.")
        .def("index", &form_schema::index, py::arg("code_or_key"), "The position of a field (by code or key) in fields.")
        .def("find", &form_schema::find, py::arg("code_or_key"),
             "The position of a field (by code or key) in fields, or None when the form has none.")
        .def("__len__", &form_schema::size)
        .def("__repr__", [](const form_schema& s) {
            return "<FormSchema " + s.id + ": " + s.title + ", " + std::to_string(s.fields.size()) + " fields, " +
                   std::to_string(s.rules.size()) + " rules>";
        });

    m.def(
        "load_form", [](const std::string& path) { return std::const_pointer_cast<form_schema>(load_form(path)); },
        py::arg("path"), "Loads a form schema YAML file; errors name file:line:column.");
    m.def(
        "load_form_text",
        [](const std::string& text, const std::string& name) {
            return std::const_pointer_cast<form_schema>(load_form_text(text, name));
        },
        py::arg("text"), py::arg("name") = "<string>");

    py::class_<schema_registry>(m, "SchemaRegistry", "Forms by id.")
        .def(py::init<>())
        .def(py::init<std::string>(), py::arg("directory"))
        .def("ids", &schema_registry::ids, "The ids of the forms the registry holds, sorted.")
        .def("__contains__", [](const schema_registry& r, const std::string& id) { return r.contains(id); })
        .def(
            "get",
            [](const schema_registry& r, const std::string& id) { return std::const_pointer_cast<form_schema>(r.get(id)); },
            "The form of an id (loaded on first use; safe from several threads).")
        .def("add_file", &schema_registry::add_file, "Adds the form of a schema YAML file; errors name file:line:column.")
        .def("add_directory", &schema_registry::add_directory, "Adds every schema YAML file of a directory.");

    py::class_<report>(m, "Report", "One unit x one period x one form; blanks are None, never 0.")
        .def(py::init([](std::shared_ptr<form_schema> f, std::string unit, std::string period) {
                 return report(std::move(f), std::move(unit), std::move(period));
             }),
             py::arg("form"), py::arg("unit"), py::arg("period") = "")
        .def_property_readonly("unit", &report::unit, "The reporting unit's id (stripped by the readers' rule, as us.strip_id).")
        .def_property_readonly("period", &report::period, "The report's period (2018).")
        .def_property_readonly(
            "form", [](const report& r) { return std::const_pointer_cast<form_schema>(r.form_ptr()); },
            "The form (FormSchema) the report is of.")
        .def(
            "set",
            [](report& r, const std::string& name, const py::object& value) {
                if (value.is_none()) return r.clear(name);
                if (py::isinstance<py::str>(value)) return r.set_text(name, value.cast<std::string>());
                const field_def& f = r.form().field(name);
                if (py::isinstance<py::bool_>(value) && f.type != field_type::flag) {
                    // True would silently count as 1: a bool is an answer to 是/否, not a figure.
                    location l;
                    l.unit = r.unit();
                    l.field = f.code;
                    throw value_error("field " + f.code + " is a " + (f.type == field_type::count ? "count" : "money") +
                                          " field: give a number, not " + (value.cast<bool>() ? "True" : "False"),
                                      l);
                }
                try {
                    r.set(name, to_decimal(value));
                } catch (const overflow_error& e) {
                    if (!e.where().field.empty()) throw;
                    location l;
                    l.unit = r.unit();
                    l.field = f.code;
                    throw overflow_error("field " + f.code + ": " + e.message(), l);
                } catch (const value_error& e) {
                    if (!e.where().field.empty()) throw;
                    location l;
                    l.unit = r.unit();
                    l.field = f.code;
                    throw value_error(e.message(), l);
                }
            },
            py::arg("code_or_key"), py::arg("value"),
            "Sets a field (by code or key): an int, a str as typed ('1,523.40', '１２３'), a Decimal or a float (by its shortest "
            "text); None blanks it. A bad value raises InputError naming unit and field.")
        .def(
            "get",
            [](const report& r, const std::string& name) -> py::object {
                const std::size_t i = r.form().index(name);
                const auto& v = r.raw()[i];
                return v ? to_python(r.form().fields[i], *v) : py::none();
            },
            py::arg("code_or_key"),
            "A field's value (by code or key): int for a count, bool for a flag, Decimal with the field's reported decimals for "
            "money (Decimal('5.00')); None when blank.")
        .def("clear", &report::clear, "Blanks a field (blank is never 0).")
        .def(
            "to_dict",
            [](const report& r) {
                py::dict d;
                for (std::size_t i = 0; i < r.raw().size(); ++i)
                    d[py::str(r.form().fields[i].code)] = r.raw()[i] ? to_python(r.form().fields[i], *r.raw()[i]) : py::none();
                return d;
            },
            "Every field's value by code, as get gives it (None for a blank).");

    py::class_<report_batch, std::shared_ptr<report_batch>>(m, "ReportBatch", "Many reports of one form, stored by column.")
        .def(py::init([](std::shared_ptr<form_schema> f) { return std::make_shared<report_batch>(std::move(f)); }),
             py::arg("form"))
        .def_property_readonly(
            "form", [](const report_batch& b) { return std::const_pointer_cast<form_schema>(b.form_ptr()); },
            "The form (FormSchema) every report of the batch is of.")
        .def("__len__", &report_batch::size)
        .def_property_readonly("units", &report_batch::units, "The unit id of each row.")
        .def_property_readonly("periods", &report_batch::periods, "The period of each row.")
        .def_property_readonly(
            "row_numbers",
            [](const report_batch& b) {
                py::array_t<std::int64_t> out(static_cast<py::ssize_t>(b.size()));
                auto* p = out.mutable_data();
                for (std::size_t i = 0; i < b.size(); ++i) p[i] = b.row_number(i);
                return out;
            },
            "The row each report is known by: the file's line (CSV), the sheet's row (XLSX), else its 1-based position.")
        .def(
            "take",
            [](const report_batch& b, const std::vector<std::size_t>& rows) {
                py::gil_scoped_release release;
                return b.take(rows);
            },
            py::arg("rows"), "A batch of these rows (0-based), keys, row numbers and values copied.")
        .def("add_row", &report_batch::add_row, py::arg("unit"), py::arg("period") = "",
             "Adds a row of blanks for (unit, period), stripped by the readers' rule; returns its index.")
        .def("append", &report_batch::append, py::arg("report"), "Adds a copy of one Report of the same form.")
        .def("set_keys", &report_batch::set_keys, py::arg("units"), py::arg("periods"),
             "Sets the unit ids and periods of every row (stripped by the readers' rule); the batch gets one row per unit, new "
             "cells blank.")
        .def("row", &report_batch::row, py::arg("index"), "Row i (0-based) as a Report.")
        .def("find", &report_batch::find, py::arg("unit"), py::arg("period") = "",
             "The first row index of (unit, period), or -1 (an index is built on first use).")
        .def("is_missing", &report_batch::is_missing, "True when cell (row, field index) is blank.")
        .def(
            "raw_column",
            [](const report_batch& b, const std::string& name) {
                const std::size_t f = b.form().index(name);
                const std::size_t n = b.size();
                py::array_t<std::int64_t> values(static_cast<py::ssize_t>(n));
                py::array_t<bool> missing(static_cast<py::ssize_t>(n));
                auto* v = values.mutable_data();
                auto* mk = missing.mutable_data();
                {
                    py::gil_scoped_release nogil;
                    const column_view src = b.column(f);
                    const std::uint64_t* bits = b.missing_bits(f);
                    if (n && src.int64()) std::memcpy(v, src.int64(), n * sizeof(std::int64_t));
                    else src.copy_to(0, n, v);  // a narrow column, widened
                    if (!bits) {
                        if (n) std::memset(mk, 0, n);
                    } else {
                        for (std::size_t w = 0; w * 64 < n; ++w) {  // a word of the bitmap at a time
                            const std::size_t lo = w * 64, hi = std::min(n, lo + 64);
                            const std::uint64_t m = bits[w];
                            for (std::size_t i = lo; i < hi; ++i) mk[i] = (m >> (i - lo)) & 1u;
                            if (m)
                                for (std::size_t i = lo; i < hi; ++i)
                                    if (mk[i]) v[i] = 0;  // blank cells read 0, never a stale value
                        }
                    }
                }
                return py::make_tuple(values, missing);
            },
            py::arg("code_or_key"), "(values, missing) as numpy arrays; values are raw (money scaled to the 分).")
        .def(
            "set_column_raw",
            [](report_batch& b, const std::string& name, py::array values, const py::object& mask) {
                // Borrowed without copying: the numpy array stays alive as long as the batch
                // uses it. int64 columns are held in 64 bits, int32 ones narrow; other integer
                // (or bool) arrays and strided views are copied to a contiguous int64 one first.
                const std::size_t f = b.form().index(name);
                const std::string& code = b.form().fields[f].code;
                const py::module_ np = py::module_::import("numpy");
                if (!np.attr("can_cast")(values.dtype(), "int64").cast<bool>())
                    throw py::type_error("column " + code + ": raw values must be integers, not " +
                                         std::string(py::str(values.dtype())));
                if (values.ndim() != 1)
                    throw value_error("column " + code + ": raw values must be a 1-d array, not " +
                                      std::to_string(values.ndim()) + "-d");
                const bool narrow = py::isinstance<py::array_t<std::int32_t>>(values);
                if (!narrow && !py::isinstance<py::array_t<std::int64_t>>(values))
                    values = np.attr("ascontiguousarray")(values, "int64");
                else if (!(values.flags() & py::array::c_style)) values = np.attr("ascontiguousarray")(values);
                if (static_cast<std::size_t>(values.size()) != b.size())
                    throw value_error("column " + code + " has " + std::to_string(values.size()) + " values for " +
                                      std::to_string(b.size()) + " rows");
                auto bits = bitmap_from_mask(mask, b.size());
                auto* keep = new py::object(values);
                std::shared_ptr<const void> owner(keep, [](const void* p) {
                    py::gil_scoped_acquire gil;
                    delete static_cast<const py::object*>(p);
                });
                if (narrow) b.borrow_column(f, static_cast<const std::int32_t*>(values.data()), owner, std::move(bits));
                else b.borrow_column(f, static_cast<const std::int64_t*>(values.data()), owner, std::move(bits));
            },
            py::arg("code_or_key"), py::arg("values"), py::arg("missing") = py::none(),
            "Sets a column from raw stored integers (money in 10**-scale units), borrowing the numpy array without a copy where "
            "it can; mask marks blanks.")
        .def(
            "compact",
            [](report_batch& b) {
                py::gil_scoped_release nogil;
                return b.compact();
            },
            "Holds every column whose values fit in 32 bits narrow (copying borrowed ones); returns how many.")
        .def(
            "value_bits", [](const report_batch& b, const std::string& name) { return b.column(b.form().index(name)).bits(); },
            py::arg("code_or_key"), "Bits a stored value of the column takes: 32 (narrow) or 64.")
        .def(
            "set_column_int",
            [](report_batch& b, const std::string& name,
               py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> values, const py::object& mask) {
                // Whole numbers in the field's unit: counts, flags (0/1), or whole 万元/元.
                const std::size_t f = b.form().index(name);
                const field_def& fd = b.form().fields[f];
                const std::size_t n = b.size();
                if (static_cast<std::size_t>(values.size()) != n) throw value_error("column length does not match the batch");
                auto bits = bitmap_from_mask(mask, n);
                const std::int64_t* v = values.data();
                std::vector<cell_problem> problems;
                std::vector<std::int64_t> out;
                {
                    py::gil_scoped_release release;
                    out.resize(n);
                    const std::int64_t factor = detail::pow10(fd.scale);
                    for (std::size_t i = 0; i < n; ++i) {
                        if (missing_in(bits, i)) continue;
                        if (v[i] < 0 || (fd.type == field_type::flag && v[i] > 1) || !detail::mul_ok(v[i], factor, out[i])) {
                            const location l = place(b, i, f);
                            problems.push_back({l.row, l.unit, l.field, std::to_string(v[i]),
                                                v[i] < 0                      ? "value cannot be negative"
                                                : fd.type == field_type::flag ? "flag field takes 0/1 (否/是)"
                                                                              : "value out of range"});
                            if (bits.empty()) bits.assign((n + 63) / 64, 0);
                            bits[i >> 6] |= std::uint64_t(1) << (i & 63);
                        }
                    }
                }
                b.set_column(f, std::move(out), std::move(bits));
                return problems_to_python(problems);
            },
            py::arg("code_or_key"), py::arg("values"), py::arg("missing") = py::none(),
            "Sets whole-number values; returns the cells it refused as (row, unit, field, text, message).")
        .def(
            "set_column_float",
            [](report_batch& b, const std::string& name, py::array_t<double, py::array::c_style | py::array::forcecast> values) {
                // Each float is read through its shortest round-trip decimal text: 12.34 is 12.34.
                const std::size_t f = b.form().index(name);
                const field_def& fd = b.form().fields[f];
                const std::size_t n = b.size();
                if (static_cast<std::size_t>(values.size()) != n) throw value_error("column length does not match the batch");
                const double* v = values.data();
                std::vector<cell_problem> problems;
                std::vector<std::int64_t> out(n, 0);
                std::vector<std::uint64_t> bits((n + 63) / 64, 0);
                {
                    py::gil_scoped_release release;
                    char buf[64];
                    const double scale = static_cast<double>(detail::pow10(fd.scale));
                    // Below 2^50 / 10^scale a double is at most 1/8 of a stored unit from
                    // x·10^scale, so rounding finds the only candidate; it is exact iff it
                    // converts back to x. Larger or inexact values take the text path.
                    const double fast_limit = 1125899906842624.0 / scale;
                    for (std::size_t i = 0; i < n; ++i) {
                        if (std::isnan(v[i])) {
                            bits[i >> 6] |= std::uint64_t(1) << (i & 63);
                            continue;
                        }
                        if (fd.type != field_type::flag && v[i] >= 0 && v[i] < fast_limit) {
                            const double r = std::nearbyint(v[i] * scale);
                            if (r / scale == v[i]) {
                                out[i] = static_cast<std::int64_t>(r);
                                continue;
                            }
                        }
                        auto res = std::to_chars(buf, buf + sizeof buf, v[i]);
                        const std::string_view text(buf, static_cast<std::size_t>(res.ptr - buf));
                        try {
                            out[i] = to_raw(fd, decimal::parse(text, 18));
                        } catch (const error& e) {
                            const location l = place(b, i, f);
                            problems.push_back({l.row, l.unit, l.field, std::string(text), e.message()});
                            bits[i >> 6] |= std::uint64_t(1) << (i & 63);
                        }
                    }
                }
                b.set_column(f, std::move(out), std::move(bits));
                return problems_to_python(problems);
            },
            py::arg("code_or_key"), py::arg("values"),
            "Sets a column from floats, each read through its shortest round-trip decimal text (12.34 is 12.34); NaN is blank. "
            "Returns the bad cells.")
        .def(
            "set_column_text",
            [](report_batch& b, const std::string& name, const std::vector<std::optional<std::string>>& texts) {
                // Parses every cell and reports every bad one, not just the first.
                const std::size_t f = b.form().index(name);
                const field_def& fd = b.form().fields[f];
                const std::size_t n = b.size();
                if (texts.size() != n) throw value_error("column length does not match the batch");
                std::vector<cell_problem> problems;
                std::vector<std::int64_t> out(n, 0);
                std::vector<std::uint64_t> bits((n + 63) / 64, 0);
                {
                    py::gil_scoped_release release;
                    for (std::size_t i = 0; i < n; ++i) {
                        try {
                            const cell c = texts[i] ? parse_cell(fd, *texts[i]) : cell{};
                            if (c.state == cell_state::value) out[i] = c.raw;
                            else bits[i >> 6] |= std::uint64_t(1) << (i & 63);
                        } catch (const error& e) {
                            const location l = place(b, i, f);
                            problems.push_back({l.row, l.unit, l.field, texts[i].value_or(""), e.message()});
                            bits[i >> 6] |= std::uint64_t(1) << (i & 63);
                        }
                    }
                }
                b.set_column(f, std::move(out), std::move(bits));
                return problems_to_python(problems);
            },
            py::arg("code_or_key"), py::arg("texts"),
            "Sets a column from texts as typed (parsed exactly in C++; None is blank). Returns the bad cells as (row, unit, "
            "field, text, message).")
        .def(
            "format_column",
            [](const report_batch& b, const std::string& name) {
                const std::size_t f = b.form().index(name);
                py::list out;
                for (std::size_t i = 0; i < b.size(); ++i) {
                    if (b.is_missing(i, f)) out.append(py::none());
                    else out.append(format_raw(b.form().fields[f], b.column(f)[i]));
                }
                return out;
            },
            py::arg("code_or_key"), "Exact text of every cell (None for blanks).");
}
