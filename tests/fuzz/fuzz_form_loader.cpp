// libFuzzer target for the YAML form loader: the input bytes are a form schema file.
// load_form_text must load it or refuse it with a schema_error (rule_error included)
// naming the place; a crash, a hang, a sanitizer report, an allocation past libFuzzer's
// -rss_limit_mb or any other exception is a bug. A form that loads is then used: a report
// with every field set is validated, so a schema the loader accepts must also evaluate.
//
//   ./run fuzz form_loader 600      (seeds: tests/fuzz/corpus_form_loader/)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "unionstat/error.hpp"
#include "unionstat/forms/registry.hpp"
#include "unionstat/forms/report.hpp"
#include "unionstat/rules/evaluator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::shared_ptr<const unionstat::form_schema> form;
    try {
        form = unionstat::load_form_text(text, "fuzz.yaml");
    } catch (const unionstat::schema_error& e) {
        // Every refusal names the file it was given.
        if (e.where().file != "fuzz.yaml") __builtin_trap();
        return 0;
    }
    if (form->fields.empty() || form->compiled().size() != form->rules.size()) __builtin_trap();
    unionstat::report r(form, "000001", "2018");
    for (std::size_t i = 0; i < form->fields.size(); ++i) {
        try {
            r.set(form->fields[i].code, unionstat::decimal::from_int(static_cast<std::int64_t>(i % 3)));
        } catch (const unionstat::value_error&) {  // e.g. 2 for a flag
        }
    }
    const auto result = unionstat::rules::evaluate(form->compiled(), r);
    if (result.outcomes.size() != form->rules.size()) __builtin_trap();
    return 0;
}
