#include "prelude.hpp"

namespace {

// Raises the Python class `name` from unionstat.errors with the C++ place as attributes.
void raise(const char* name, const unionstat::error& e, py::dict extra = {}) {
    py::object cls = py::module_::import("unionstat.errors").attr(name);
    const auto& w = e.where();
    py::object exc = cls(e.what());
    exc.attr("message") = e.message();
    exc.attr("file") = w.file.empty() ? py::none() : py::cast(w.file);
    exc.attr("line") = w.line ? py::cast(w.line) : py::none();
    exc.attr("column") = w.column ? py::cast(w.column) : py::none();
    exc.attr("row") = w.row >= 0 ? py::cast(w.row) : py::none();
    exc.attr("unit") = w.unit.empty() ? py::none() : py::cast(w.unit);
    exc.attr("field") = w.field.empty() ? py::none() : py::cast(w.field);
    exc.attr("rule") = w.rule.empty() ? py::none() : py::cast(w.rule);
    for (auto item : extra) exc.attr(item.first) = item.second;
    PyErr_SetObject(cls.ptr(), exc.ptr());
}

}  // namespace

void register_errors(py::module_& m) {
    (void)m;
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const unionstat::rules::rule_error& e) {
            py::list diags;
            for (const auto& d : e.diagnostics()) {
                py::dict x;
                x["rule"] = d.rule;
                x["column"] = d.column;
                x["length"] = d.length;
                x["message"] = d.message;
                x["text"] = d.text;
                x["file"] = d.file;
                x["line"] = d.line;
                x["file_column"] = d.file_column;  // 0 when the rule was not read from a file
                x["rendered"] = d.to_string();
                diags.append(x);
            }
            py::dict extra;
            extra["diagnostics"] = diags;
            raise("RuleError", e, extra);
        } catch (const unionstat::schema_error& e) {
            raise("SchemaError", e);
        } catch (const unionstat::value_error& e) {
            raise("InputError", e);
        } catch (const unionstat::overflow_error& e) {
            raise("ExactOverflowError", e);
        } catch (const unionstat::lookup_error& e) {
            raise("UnknownNameError", e);
        } catch (const unionstat::hierarchy_error& e) {
            py::dict extra;
            extra["units"] = e.units();
            raise("HierarchyError", e, extra);
        } catch (const unionstat::error& e) {
            raise("Error", e);
        }
    });
}
