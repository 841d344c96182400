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
    return Decimal(format_scaled(raw, f.scale, false));
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
    if (!m || static_cast<std::size_t>(m.size()) != n) throw value_error("missing mask must be a boolean array of one entry per row");
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
        .def_readonly("code", &field_def::code)
        .def_readonly("row", &field_def::row)
        .def_readonly("letter", &field_def::letter)
        .def_readonly("key", &field_def::key)
        .def_readonly("label", &field_def::label)
        .def_readonly("label_en", &field_def::label_en)
        .def_property_readonly("type", [](const field_def& f) { return to_string(f.type); })
        .def_readonly("unit", &field_def::unit)
        .def_readonly("decimals", &field_def::decimals)
        .def_readonly("scale", &field_def::scale)
        .def_readonly("part_of", &field_def::part_of)
        .def_property_readonly("aggregation", [](const field_def& f) { return to_string(f.agg); })
        .def_readonly("printed", &field_def::printed)
        .def_readonly("note", &field_def::note)
        .def_readonly("weight", &field_def::weight, "Error localisation's weight (1 unless the form declares one).")
        .def_readonly("line", &field_def::line)
        .def("__repr__", [](const field_def& f) { return "<FieldDef " + f.code + " " + f.label + " (" + f.unit + ")>"; });

    py::class_<rule_def>(m, "RuleDef", "A rule as declared in a form schema.")
        .def_readonly("id", &rule_def::id)
        .def_readonly("check", &rule_def::check)
        .def_property_readonly("severity", [](const rule_def& r) { return to_string(r.sev); })
        .def_readonly("message", &rule_def::message)
        .def_readonly("message_en", &rule_def::message_en)
        .def_property_readonly("missing", [](const rule_def& r) -> py::object {
            return r.missing ? py::cast(to_string(*r.missing)) : py::none();
        })
        .def_property_readonly("tolerance", [](const rule_def& r) -> py::object {
            return r.tolerance ? py::cast(r.tolerance->to_string()) : py::none();
        })
        .def_property_readonly("levels", [](const rule_def& r) {
            std::vector<std::string> out;
            for (auto l : r.levels) out.push_back(to_string(l));
            return out;
        })
        .def_property_readonly("origin", [](const rule_def& r) {
            return r.origin == rule_origin::explicit_rule ? "explicit" : r.origin == rule_origin::part_of ? "part_of" : "group";
        })
        .def_readonly("note", &rule_def::note)
        .def_readonly("line", &rule_def::line)
        .def("__repr__", [](const rule_def& r) { return "<RuleDef " + r.id + ": " + r.check + ">"; });

    py::class_<form_schema, std::shared_ptr<form_schema>>(m, "FormSchema", "One printed version of one form.")
        .def_readonly("id", &form_schema::id)
        .def_readonly("family", &form_schema::family)
        .def_readonly("year", &form_schema::year)
        .def_readonly("title", &form_schema::title)
        .def_readonly("title_en", &form_schema::title_en)
        .def_readonly("script", &form_schema::script)
        .def_readonly("period", &form_schema::period)
        .def_readonly("quirks", &form_schema::quirks)
        .def_readonly("deadline", &form_schema::deadline)
        .def_property_readonly("signature", [](const form_schema& s) {
            py::dict d;
            d["unit"] = s.signature.unit;
            d["reporter"] = s.signature.reporter;
            d["phone"] = s.signature.phone;
            d["date"] = s.signature.date;
            return d;
        })
        .def_readonly("review", &form_schema::review)
        .def_readonly("file", &form_schema::file)
        .def_property_readonly("level_scale", [](const form_schema& s) {
            py::dict d;  // level → factor on a report's localisation weights (consolidated reports)
            for (const auto& [level, factor] : s.level_scale) d[py::str(to_string(level))] = factor;
            return d;
        })
        .def_property_readonly("source", [](const form_schema& s) {
            py::dict d;
            d["issuer"] = s.source.issuer;
            d["issuer_en"] = s.source.issuer_en;
            d["notice"] = s.source.notice;
            d["seed"] = s.source.seed;
            d["attachment"] = s.source.attachment;
            return d;
        })
        .def_property_readonly("notes", [](const form_schema& s) {
            py::list out;
            for (const auto& n : s.notes) out.append(py::make_tuple(n.text, n.text_en));
            return out;
        })
        .def_property_readonly("rows", [](const form_schema& s) {
            py::list out;
            for (const auto& r : s.rows) out.append(py::make_tuple(r.row, r.heading, r.heading_en));
            return out;
        })
        .def_property_readonly("groups", [](const form_schema& s) {
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
        })
        .def_property_readonly("default_missing", [](const form_schema& s) { return to_string(s.default_missing); })
        .def_readonly("fields", &form_schema::fields)
        .def_readonly("rules", &form_schema::rules)
        .def("field", &form_schema::field, py::arg("code_or_key"), py::return_value_policy::reference_internal)
        .def("index", &form_schema::index, py::arg("code_or_key"))
        .def("find", &form_schema::find, py::arg("code_or_key"))
        .def("__len__", &form_schema::size)
        .def("__repr__", [](const form_schema& s) {
            return "<FormSchema " + s.id + ": " + s.title + ", " + std::to_string(s.fields.size()) + " fields, " +
                   std::to_string(s.rules.size()) + " rules>";
        });

    m.def("load_form", [](const std::string& path) { return std::const_pointer_cast<form_schema>(load_form(path)); },
          py::arg("path"), "Loads a form schema YAML file; errors name file:line:column.");
    m.def("load_form_text",
          [](const std::string& text, const std::string& name) {
              return std::const_pointer_cast<form_schema>(load_form_text(text, name));
          },
          py::arg("text"), py::arg("name") = "<string>");

    py::class_<schema_registry>(m, "SchemaRegistry", "Forms by id.")
        .def(py::init<>())
        .def(py::init<std::string>(), py::arg("directory"))
        .def("ids", &schema_registry::ids)
        .def("__contains__", [](const schema_registry& r, const std::string& id) { return r.contains(id); })
        .def("get", [](const schema_registry& r, const std::string& id) { return std::const_pointer_cast<form_schema>(r.get(id)); })
        .def("add_file", &schema_registry::add_file)
        .def("add_directory", &schema_registry::add_directory);

    py::class_<report>(m, "Report", "One unit x one period x one form; blanks are None, never 0.")
        .def(py::init([](std::shared_ptr<form_schema> f, std::string unit, std::string period) {
                 return report(std::move(f), std::move(unit), std::move(period));
             }),
             py::arg("form"), py::arg("unit"), py::arg("period") = "")
        .def_property_readonly("unit", &report::unit)
        .def_property_readonly("period", &report::period)
        .def_property_readonly("form", [](const report& r) { return std::const_pointer_cast<form_schema>(r.form_ptr()); })
        .def("set",
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
             py::arg("code_or_key"), py::arg("value"))
        .def("get",
             [](const report& r, const std::string& name) -> py::object {
                 const std::size_t i = r.form().index(name);
                 const auto& v = r.raw()[i];
                 return v ? to_python(r.form().fields[i], *v) : py::none();
             },
             py::arg("code_or_key"))
        .def("clear", &report::clear)
        .def("to_dict", [](const report& r) {
            py::dict d;
            for (std::size_t i = 0; i < r.raw().size(); ++i)
                d[py::str(r.form().fields[i].code)] = r.raw()[i] ? to_python(r.form().fields[i], *r.raw()[i]) : py::none();
            return d;
        });

    py::class_<report_batch, std::shared_ptr<report_batch>>(m, "ReportBatch", "Many reports of one form, stored by column.")
        .def(py::init([](std::shared_ptr<form_schema> f) { return std::make_shared<report_batch>(std::move(f)); }), py::arg("form"))
        .def_property_readonly("form", [](const report_batch& b) { return std::const_pointer_cast<form_schema>(b.form_ptr()); })
        .def("__len__", &report_batch::size)
        .def_property_readonly("units", &report_batch::units)
        .def_property_readonly("periods", &report_batch::periods)
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
        .def("add_row", &report_batch::add_row, py::arg("unit"), py::arg("period") = "")
        .def("append", &report_batch::append, py::arg("report"))
        .def("set_keys", &report_batch::set_keys, py::arg("units"), py::arg("periods"))
        .def("row", &report_batch::row, py::arg("index"))
        .def("find", &report_batch::find, py::arg("unit"), py::arg("period") = "")
        .def("is_missing", &report_batch::is_missing)
        .def("raw_column",
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
        .def("set_column_raw",
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
                 else if (!(values.flags() & py::array::c_style))
                     values = np.attr("ascontiguousarray")(values);
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
             py::arg("code_or_key"), py::arg("values"), py::arg("missing") = py::none())
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
        .def("set_column_int",
             [](report_batch& b, const std::string& name, py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> values,
                const py::object& mask) {
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
                                                 v[i] < 0 ? "value cannot be negative"
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
        .def("set_column_float",
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
             py::arg("code_or_key"), py::arg("values"))
        .def("set_column_text",
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
             py::arg("code_or_key"), py::arg("texts"))
        .def("format_column",
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
