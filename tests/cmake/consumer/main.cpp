// A user's program: load the installed songnuan-2018 form, validate one report.
#include <iostream>

#include <unionstat/unionstat.hpp>

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    unionstat::schema_registry forms(argv[1]);
    auto form = forms.get("songnuan-2018");
    unionstat::report r(form, "630100", "2018");
    r.set("01A", 183000);
    r.set("01B", 241000);  // more migrant workers than workers: must fail
    auto result = unionstat::rules::evaluate(form->compiled(), r);
    for (const auto* v : result.violations()) std::cout << v->rule_id << ": " << v->message_en << "\n";
    const bool expected = !result.ok() && form->fields.size() == 60;
    std::cout << (expected ? "consumer ok" : "consumer FAILED") << "\n";
    return expected ? 0 : 1;
}
