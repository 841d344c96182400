// libFuzzer target for the units-file reader: the first input byte picks CSV or YAML, the
// rest is the file. A units file must be read into a hierarchy or refused with a
// hierarchy_error (a cycle, an unknown parent, bytes that are not UTF-8, …) naming the
// place; a crash, a hang, a sanitizer report or any other exception is a bug. A tree that
// is read must answer for every unit.
//
//   ./run fuzz units_reader 600     (seeds: tests/fuzz/corpus_units_reader/)
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "unionstat/error.hpp"
#include "unionstat/graph/hierarchy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool yaml = data[0] & 1;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        const unionstat::hierarchy h = yaml ? unionstat::hierarchy::parse_yaml(text, "fuzz.yaml")
                                            : unionstat::hierarchy::parse_csv(text, "fuzz.csv");
        for (std::size_t i = 0; i < h.size(); ++i) {
            if (h.index(h.id(i)) != i) __builtin_trap();
            (void)h.level(i);
        }
        if (h.topological_order().size() != h.size()) __builtin_trap();
    } catch (const unionstat::hierarchy_error& e) {
        if (e.where().file != (yaml ? "fuzz.yaml" : "fuzz.csv")) __builtin_trap();
    }
    return 0;
}
