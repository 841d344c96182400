#include "prelude.hpp"

// Hierarchy bindings are registered here once the graph module lands.
void register_graph(py::module_& m) { (void)m; }
