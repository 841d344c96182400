// libFuzzer target for the rule language: the input bytes are one rule's check text.
// Stages: parse → (if it parses) check against the bundled songnuan-2018 form →
// (if it checks) plan into a compiled_rule. User mistakes must come back as diagnostics;
// a crash, a sanitizer report or an escaping exception is a bug.
//
//   ./run fuzz 600
// or by hand:
//   CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DUNIONSTAT_FUZZ=ON -DUNIONSTAT_TESTS=OFF
//   cmake --build build-fuzz && ./build-fuzz/tests/fuzz/fuzz_rule_parser tests/fuzz/corpus
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/forms/registry.hpp"
#include "unionstat/forms/rule_def.hpp"
#include "unionstat/forms/schema.hpp"
#include "unionstat/rules/checker.hpp"
#include "unionstat/rules/parser.hpp"
#include "unionstat/rules/program.hpp"

namespace {
const unionstat::form_schema& form() {
    static const std::shared_ptr<const unionstat::form_schema> f =
        unionstat::schema_registry::bundled().get("songnuan-2018");
    return *f;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace rules = unionstat::rules;
    const std::string text(reinterpret_cast<const char*>(data), size);

    rules::ast tree;
    std::vector<rules::diagnostic> diags;
    const bool parsed = rules::parse(text, "fuzz.rule", tree, diags);
    if (!parsed) {
        for (const auto& d : diags) (void)d.to_string();  // caret rendering must not crash either
        return 0;
    }
    (void)tree.source(tree.root >= 0 ? tree.root : 0);

    unionstat::rule_def def;
    def.id = "fuzz.rule";
    def.check = text;
    std::optional<rules::checked_rule> checked = rules::check(form(), def, std::move(tree), diags);
    if (!checked) {
        for (const auto& d : diags) (void)d.to_string();
        return 0;
    }
    rules::compiled_rule compiled(std::move(*checked));
    (void)compiled.code().size();
    (void)compiled.lhs_den();
    (void)compiled.rhs_den();
    return 0;
}
