// Arrow in and out through the PyCapsule interface: any object with __arrow_c_stream__ or
// __arrow_c_array__ (pyarrow, polars, duckdb, pandas through pyarrow) goes into a batch
// without a Python object per row or cell; results leave as capsules any consumer reads.
#include "prelude.hpp"

#include <optional>

#include <unionstat/io/arrow_abi.hpp>
#include <unionstat/io/arrow_import.hpp>
#include <unionstat/io/arrow_table.hpp>

using namespace unionstat;

namespace {

constexpr const char* schema_name = "arrow_schema";
constexpr const char* array_name = "arrow_array";
constexpr const char* stream_name = "arrow_array_stream";

// Capsule destructors: a consumer that took the struct marked it released (release ==
// NULL); otherwise it is released here. The struct itself was allocated by us.
template <class T>
void capsule_destructor(PyObject* capsule, const char* name) {
    if (!PyCapsule_IsValid(capsule, name)) return;  // IsValid sets no Python error
    auto* p = static_cast<T*>(PyCapsule_GetPointer(capsule, name));
    if (p->release) p->release(p);
    delete p;
}
void schema_capsule_destructor(PyObject* c) { capsule_destructor<ArrowSchema>(c, schema_name); }
void array_capsule_destructor(PyObject* c) { capsule_destructor<ArrowArray>(c, array_name); }
void stream_capsule_destructor(PyObject* c) { capsule_destructor<ArrowArrayStream>(c, stream_name); }

// A capsule owning a freshly exported struct (released by the destructor if unused).
template <class T>
py::object make_capsule(arrow_owner<T>& owned, const char* name, PyCapsule_Destructor destructor) {
    auto* p = new T;
    owned.move_to(p);
    PyObject* capsule = PyCapsule_New(p, name, destructor);
    if (!capsule) {
        if (p->release) p->release(p);
        delete p;
        throw py::error_already_set();
    }
    return py::reinterpret_steal<py::object>(capsule);
}

bool is_capsule(const py::handle& h, const char* name) { return PyCapsule_IsValid(h.ptr(), name) != 0; }

// The struct inside a producer's capsule, moved out (the capsule's copy marked
// released, as the spec asks of a consumer), so that the capsule's destructor does not
// release it again.
template <class T>
arrow_owner<T> take(const py::handle& capsule, const char* name) {
    if (!is_capsule(capsule, name))
        throw py::type_error(std::string("expected a PyCapsule named '") + name + "', got " +
                             py::str(py::type::of(capsule)).cast<std::string>());
    auto* p = static_cast<T*>(PyCapsule_GetPointer(capsule.ptr(), name));
    if (!p->release) throw value_error(std::string("the '") + name + "' capsule was already consumed");
    return arrow_owner<T>(p);
}

py::tuple read_arrow(const std::shared_ptr<form_schema>& form, const py::object& data, bool strict, const std::string& row_column,
                     std::size_t expected_rows) {
    arrow_import_options o;
    o.strict = strict;
    o.row_column = row_column;
    o.expected_rows = expected_rows;
    std::optional<arrow_stream_owner> stream;
    std::optional<arrow_schema_owner> schema;
    std::optional<arrow_array_owner> array;
    auto take_pair = [&](const py::handle& pair) {
        if (!py::isinstance<py::tuple>(pair) || py::len(pair) != 2)
            throw py::type_error("__arrow_c_array__ must return a tuple (schema capsule, array capsule)");
        const py::tuple t = py::reinterpret_borrow<py::tuple>(pair);
        schema.emplace(take<ArrowSchema>(t[0], schema_name));
        array.emplace(take<ArrowArray>(t[1], array_name));
    };
    if (py::hasattr(data, "__arrow_c_stream__")) {
        stream.emplace(take<ArrowArrayStream>(data.attr("__arrow_c_stream__")(), stream_name));
    } else if (py::hasattr(data, "__arrow_c_array__")) {
        take_pair(data.attr("__arrow_c_array__")());
    } else if (is_capsule(data, stream_name)) {
        stream.emplace(take<ArrowArrayStream>(data, stream_name));
    } else if (py::isinstance<py::tuple>(data)) {
        take_pair(data);
    } else {
        throw py::type_error(
            "read_arrow takes an Arrow table: an object with __arrow_c_stream__ or __arrow_c_array__ "
            "(pyarrow, polars, duckdb) or their capsules, got " +
            py::str(py::type::of(data)).cast<std::string>());
    }
    std::optional<read_result> r;
    {
        // The producer's callbacks take the GIL themselves if they need Python.
        py::gil_scoped_release nogil;
        if (stream) r.emplace(import_arrow(form, stream->get(), o));
        else r.emplace(import_arrow(form, schema->get(), array->get(), o));
    }
    return read_result_to_python(std::move(*r));
}

}  // namespace

void register_arrow(py::module_& m) {
    m.def("read_arrow", &read_arrow, py::arg("form"), py::arg("data"), py::arg("strict") = false, py::arg("row_column") = "",
          py::arg("expected_rows") = 0,
          "Reads an Arrow table (any __arrow_c_stream__ / __arrow_c_array__ producer, or their capsules) into a "
          "batch; returns (batch, problems as (row, column, unit, field, text, message), notices, ignored columns, \"\"). "
          "expected_rows: the rows the stream is known to hold (room made at once), 0 when unknown.");

    py::class_<result_table, std::shared_ptr<result_table>>(
        m, "ArrowTable", "A columnar result built in C++, read by any Arrow consumer (pa.table(t), pl.from_arrow(t)).")
        .def(
            "__arrow_c_stream__",
            [](const result_table& t, const py::object& /*requested_schema*/) {
                // The requested schema is a hint the spec lets a producer ignore: the
                // table has one natural schema, and the consumer casts if it wants.
                arrow_stream_owner s;
                t.export_stream(s.out());
                return make_capsule(s, stream_name, stream_capsule_destructor);
            },
            py::arg("requested_schema") = py::none())
        .def(
            "__arrow_c_array__",
            [](const result_table& t, const py::object& /*requested_schema*/) {
                arrow_schema_owner s;
                arrow_array_owner a;
                t.export_array(s.out(), a.out());
                py::object sc = make_capsule(s, schema_name, schema_capsule_destructor);
                return py::make_tuple(sc, make_capsule(a, array_name, array_capsule_destructor));
            },
            py::arg("requested_schema") = py::none())
        .def("__arrow_c_schema__",
             [](const result_table& t) {
                 arrow_schema_owner s;
                 t.export_schema(s.out());
                 return make_capsule(s, schema_name, schema_capsule_destructor);
             })
        .def_property_readonly("num_rows", &result_table::num_rows, "The number of rows.")
        .def_property_readonly("column_names", &result_table::column_names, "The names of the columns, in order.")
        .def("__len__", &result_table::num_rows)
        .def("__repr__", [](const result_table& t) {
            std::string s = "<ArrowTable " + std::to_string(t.num_rows()) + " rows: ";
            const auto names = t.column_names();
            for (std::size_t i = 0; i < names.size() && i < 8; ++i) s += (i ? ", " : "") + names[i];
            if (names.size() > 8) s += ", … (" + std::to_string(names.size()) + " columns)";
            return s + ">";
        });

    m.def(
        "batch_to_arrow",
        [](const report_batch& b) {
            py::gil_scoped_release nogil;
            return std::make_shared<result_table>(batch_to_table(b));
        },
        py::arg("batch"),
        "The batch as an ArrowTable: row, unit, period, then every field by code (counts int64, money "
        "decimal128(38, scale), flags bool; blanks null).");
}
