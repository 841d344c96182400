#pragma once
// Included first by every register_*.cpp: pybind11, the library, and shared helpers.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <unionstat/unionstat.hpp>

namespace py = pybind11;

void register_errors(py::module_& m);
void register_forms(py::module_& m);
void register_rules(py::module_& m);
void register_graph(py::module_& m);
void register_crosswalk(py::module_& m);
void register_arrow(py::module_& m);
void register_io(py::module_& m);

/// Python value → exact decimal: int, str, decimal.Decimal, and float through its
/// shortest round-trip text (so 12.34 means 12.34, not its binary neighbour).
unionstat::decimal to_decimal(const py::handle& value);
/// Stored raw value → Python int (count), Decimal (money) or bool (flag).
py::object to_python(const unionstat::field_def& field, std::int64_t raw);

/// Reader problems → [(row, column, unit, field, text, message)], row as the user knows it.
py::list problems_to_python(const std::vector<unionstat::read_problem>& problems);
/// A reader's result → (batch, problems, notices, ignored columns, encoding).
py::tuple read_result_to_python(unionstat::read_result&& result);
