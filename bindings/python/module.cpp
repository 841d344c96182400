#include "prelude.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "unionstat C++ core: exact typed forms, compiled integrity rules, hierarchy roll-up";
    m.attr("__version__") = UNIONSTAT_VERSION;
    register_errors(m);
    register_forms(m);
    register_rules(m);
    register_graph(m);
    register_crosswalk(m);
    register_arrow(m);
    register_io(m);
}
