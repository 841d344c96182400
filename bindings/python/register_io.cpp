// The readers of the core: CSV files into batches, header rows into column maps, and
// the key checks every command shares (duplicates, periods).

#include "prelude.hpp"

#include <string_view>
#include <unordered_map>

#include <unionstat/io/csv_reader.hpp>
#include <unionstat/text.hpp>
#include <unionstat/io/result_tables.hpp>

using namespace unionstat;

py::list problems_to_python(const std::vector<read_problem>& ps) {
    py::list out;
    for (const auto& p : ps) out.append(py::make_tuple(p.row, p.column, p.unit, p.field, p.text, p.message));
    return out;
}

py::tuple read_result_to_python(read_result&& r) {
    py::list problems = problems_to_python(r.problems);
    return py::make_tuple(std::make_shared<report_batch>(std::move(r.batch)), problems, r.notices, r.ignored_columns, r.encoding);
}

void register_io(py::module_& m) {
    m.def(
        "strip_id", [](std::string_view text) { return std::string(detail::trim(text)); }, py::arg("text"),
        "The text stripped by the rule every reader applies to ids, periods and header names: ASCII "
        "white space, U+3000, U+00A0, U+FEFF and U+200B at both ends.");
    m.def(
        "exact_values",
        [](py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> raw,
           py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> scale,
           py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> decimals,
           py::array_t<bool, py::array::c_style | py::array::forcecast> money) {
            const auto n = raw.size();
            if (scale.size() != n || decimals.size() != n || money.size() != n)
                throw value_error("exact_values: raw, scale, decimals and money differ in length");
            static py::object Decimal = py::module_::import("decimal").attr("Decimal");
            py::list out(static_cast<std::size_t>(n));
            const std::int64_t *r = raw.data(), *s = scale.data(), *d = decimals.data();
            const bool* m = money.data();
            for (py::ssize_t i = 0; i < n; ++i)
                out[static_cast<std::size_t>(i)] =
                    m[i] ? Decimal(format_money(r[i], static_cast<int>(s[i]), static_cast<int>(d[i])))
                         : py::object(py::int_(r[i]));
            return out;
        },
        py::arg("raw"), py::arg("scale"), py::arg("decimals"), py::arg("money"),
        "Stored raw values as the user's exact values, one rule on every path: int for counts, "
        "decimal.Decimal for money with the field's reported decimals (more only where the value has them).");
    m.def(
        "read_csv",
        [](const std::string& path, const std::shared_ptr<form_schema>& form, const std::string& encoding, bool strict,
           unsigned threads, const py::object& progress) {
            csv_options o;
            o.encoding = encoding;
            o.strict = strict;
            o.threads = threads;
            if (!progress.is_none()) {
                o.progress = [progress](std::size_t rows) {
                    py::gil_scoped_acquire gil;
                    progress(rows);
                };
            }
            std::optional<read_result> r;
            {
                py::gil_scoped_release release;
                r.emplace(read_csv(path, form, o));
            }
            return read_result_to_python(std::move(*r));
        },
        py::arg("path"), py::arg("form"), py::arg("encoding") = "", py::arg("strict") = false, py::arg("threads") = 0,
        py::arg("progress") = py::none(),
        "Reads a CSV file of reports: (batch, problems, notices, ignored_columns, encoding). Problems are "
        "(row, column, unit, field, text, message), row being the file's line.");

    m.def(
        "map_header",
        [](const std::shared_ptr<form_schema>& form, const std::vector<std::string>& names, std::int64_t row,
           bool strict) -> py::object {
            auto map = column_map::from_header(*form, names, row, strict);
            if (!map) return py::none();
            py::dict d;
            d["unit"] = map->unit;
            d["period"] = map->period;
            d["fields"] = map->fields;
            d["field_columns"] = map->field_columns;
            d["ignored"] = map->ignored;
            d["unnamed"] = map->unnamed;
            d["problems"] = problems_to_python(map->problems);
            return std::move(d);
        },
        py::arg("form"), py::arg("names"), py::arg("row") = 0, py::arg("strict") = false,
        "The meaning of a header row's columns (unit, period, field columns, ignored), or None when the row is "
        "not a header of the form.");

    m.def(
        "period_counts",
        [](const report_batch& b) {
            std::vector<std::pair<std::string, std::size_t>> out;
            std::unordered_map<std::string_view, std::size_t> at;
            for (const auto& p : b.periods()) {
                auto [it, fresh] = at.emplace(p, out.size());
                if (fresh) out.emplace_back(p, 0);
                ++out[it->second].second;
            }
            return out;
        },
        py::arg("batch"), "[(period, reports)] in the order the periods first appear.");

    m.def(
        "select_period",
        [](const report_batch& b, const std::string& period) {
            py::gil_scoped_release release;
            std::vector<std::size_t> rows;
            for (std::size_t i = 0; i < b.size(); ++i)
                if (b.periods()[i] == period) rows.push_back(i);
            return b.take(rows);
        },
        py::arg("batch"), py::arg("period"), "The reports of one period (row numbers kept).");

    m.def(
        "violations_table",
        [](const report_batch& b, const rules::batch_result& r, bool messages, std::size_t limit, std::size_t offset) {
            py::gil_scoped_release release;
            return std::make_shared<result_table>(violations_table(b, r, messages, limit, offset));
        },
        py::arg("batch"), py::arg("result"), py::arg("messages") = true, py::arg("limit") = static_cast<std::size_t>(-1),
        py::arg("offset") = 0,
        "The listed outcomes [offset, offset + limit) as an ArrowTable (row = the user's row number), messages made "
        "for the rows it holds.");
    m.def(
        "summary_table",
        [](const report_batch& b, const rules::batch_result& r) {
            return std::make_shared<result_table>(summary_table(b.form().compiled(), r));
        },
        py::arg("batch"), py::arg("result"), "One row per rule: items, passes, fails, skipped, errors (ArrowTable).");

    m.def(
        "duplicate_keys",
        [](const report_batch& b) {
            std::vector<duplicate_key> found;
            {
                py::gil_scoped_release nogil;
                found = find_duplicate_keys(b);
            }
            py::list out;
            for (const auto& d : found) out.append(py::make_tuple(d.first, d.again));
            return out;
        },
        py::arg("batch"), "(first row, later row) for every row whose (unit, period) an earlier row has.");
}
