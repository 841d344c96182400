// The schema loader and the units reader given hostile or broken input: each case here
// crashed, hung or allocated gigabytes before the loader bounded it, and must now be a
// schema_error (or hierarchy_error) naming the place.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "form_text.hpp"
#include "unionstat/unionstat.hpp"

using namespace unionstat;
namespace fs = std::filesystem;

namespace {
std::string songnuan_2018() { return unionstat_test::songnuan_2018_text(); }
using unionstat_test::with;

// 1-based line of the first occurrence of `what`.
int line_of(const std::string& text, const std::string& what) {
    const auto at = text.find(what);
    REQUIRE(at != std::string::npos);
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

// songnuan-2018 with one more rule whose check is `check`.
std::string with_rule(const std::string& check) {
    return with(songnuan_2018(), "rules:\n",
                "rules:\n  - id: test.huge\n    check: \"" + check + "\"\n    message: x\n    message_en: x\n");
}

std::string repeat(const std::string& first, const std::string& sep_term, int n) {
    std::string out = first;
    out.reserve(first.size() + sep_term.size() * static_cast<std::size_t>(n));
    for (int i = 1; i < n; ++i) out += sep_term;
    return out;
}

// The single diagnostic of a rule that did not compile.
rules::diagnostic only_diagnostic(const std::string& text) {
    try {
        load_form_text(text, "huge.yaml");
    } catch (const rules::rule_error& e) {
        REQUIRE(e.diagnostics().size() == 1);
        return e.diagnostics()[0];
    }
    FAIL("the rule compiled");
    return {};
}

struct scratch_dir {
    fs::path path;
    scratch_dir() {
        path = fs::temp_directory_path() /
               ("unionstat-loader-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        fs::create_directories(path);
    }
    ~scratch_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& bytes) const {
        const auto p = (path / name).string();
        std::ofstream(p, std::ios::binary) << bytes;
        return p;
    }
};
}  // namespace

TEST_CASE("a rule of 40,000 '+' terms is refused, not a stack overflow", "[loader][limits]") {
    const auto d = only_diagnostic(with_rule(repeat("01A", " + 01A", 40000) + " >= 0"));
    CHECK(d.rule == "test.huge");
    CHECK_THAT(d.message, Catch::Contains("more than 256 operations deep"));
    CHECK(d.line == line_of(with_rule("x"), "check: \"x\""));
    CHECK(d.column == 1 + 256 * 6 + 4);  // the "+" after the 257th term, where the limit was crossed
    CHECK(d.file_column == 13 + d.column - 1);
}

TEST_CASE("a rule of 30,000 'and' terms is refused", "[loader][limits]") {
    const auto d = only_diagnostic(with_rule(repeat("01A >= 0", " and 01A >= 0", 30000)));
    CHECK_THAT(d.message, Catch::Contains("operations deep"));
}

TEST_CASE("min() of 100,000 arguments is refused", "[loader][limits]") {
    const auto d = only_diagnostic(with_rule("min(" + repeat("01A", ", 01A", 100000) + ") >= 0"));
    CHECK_THAT(d.message, Catch::Contains("min() takes at most 256 arguments"));
}

TEST_CASE("deep nesting of 'not' and unary minus stays refused", "[loader][limits]") {
    std::string nots;
    for (int i = 0; i < 100000; ++i) nots += "not ";
    CHECK_THAT(only_diagnostic(with_rule(nots + "01A >= 0")).message, Catch::Contains("nested more than"));
}

TEST_CASE("rules of ordinary size below the limits still compile and evaluate", "[loader][limits]") {
    auto f = load_form_text(with_rule(repeat("01A", " + 01A", 200) + " >= 200 * 01A"), "ok.yaml");
    report r(f, "630000", "2018");
    r.set("01A", decimal::from_int(3));
    bool found = false;
    for (const auto& o : rules::evaluate(f->compiled(), r).outcomes)
        if (o.rule_id == "test.huge") {
            found = true;
            CHECK(o.st == rules::status::pass);
        }
    CHECK(found);
    // A function's arguments count one level each (the checker chains them).
    CHECK_NOTHROW(load_form_text(with_rule("max(" + repeat("01A", ", 01A", 200) + ") >= 0"), "ok.yaml"));
    CHECK_THAT(only_diagnostic(with_rule("max(" + repeat("01A", ", 01A", 255) + ") + 1 >= 0")).message,
               Catch::Contains("operations deep"));
}

TEST_CASE("what the ranges of one rule expand to is bounded", "[loader][limits]") {
    // 01A:02B names four fields (all 人): 128 such ranges name 512, 129 name 516.
    CHECK_NOTHROW(load_form_text(with_rule(repeat("sum(01A:02B)", " + sum(01A:02B)", 128) + " >= 0"), "ok.yaml"));
    const auto d = only_diagnostic(with_rule(repeat("sum(01A:02B)", " + sum(01A:02B)", 129) + " >= 0"));
    CHECK_THAT(d.message, Catch::Contains("expand to more than 512 fields"));
    CHECK(d.column == 1 + 128 * 15 + 4);  // the range of the 129th sum
}

TEST_CASE("an alias bomb is refused before its copies are made", "[loader][limits]") {
    // 100 KB of text aliased 100,000 times: a 0.5 MB file that would expand to 10 GB.
    std::string quirks = "quirks:\n  - &big \"" + std::string(100000, 'A') + "\"\n  - [";
    for (int i = 0; i < 100000; ++i) quirks += i ? ", *big" : "*big";
    quirks += "]\n";
    const std::string text = with(songnuan_2018(), "quirks:\n", quirks + "unused_quirks:\n");
    REQUIRE(text.size() > 500000);
    try {
        load_form_text(text, "bomb.yaml");
        FAIL("no error");
    } catch (const schema_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("bomb.yaml:") && Catch::Contains("aliases expand"));
    }
}

TEST_CASE("what is not a readable schema file is named as such", "[loader][files]") {
    scratch_dir dir;
    CHECK_THROWS_WITH(load_form("/dev/zero"), Catch::Contains("/dev/zero") && Catch::Contains("not a regular file"));
    CHECK_THROWS_WITH(load_form(dir.path.string()), Catch::Contains("is a directory"));
    CHECK_THROWS_WITH(load_form(dir.write("empty.yaml", "")), Catch::Contains("empty.yaml") && Catch::Contains("is empty"));
    CHECK_THROWS_WITH(load_form(dir.write("blank.yaml", "\n  \n")), Catch::Contains("is empty"));
    CHECK_THROWS_WITH(load_form(dir.write("comments.yaml", "# nothing\n")), Catch::Contains("no YAML document"));
    CHECK_THROWS_WITH(load_form((dir.path / "absent.yaml").string()), Catch::Contains("no such file"));
    const std::string big = dir.write("big.yaml", "# " + std::string(5u << 20, 'x') + "\n");
    CHECK_THROWS_WITH(load_form(big), Catch::Contains("big.yaml") && Catch::Contains("the limit is 4 MiB"));
    CHECK_THROWS_WITH(load_form_text(std::string(5u << 20, ' '), "big.yaml"), Catch::Contains("the limit is 4 MiB"));
}

TEST_CASE("GBK bytes in a form schema are refused naming the line", "[loader][encoding]") {
    const std::string utf8 = songnuan_2018();
    const std::string text = with(utf8, "label: 当地职工总数", "label: \xb5\xb1\xb5\xd8\xd6\xb0\xb9\xa4\xd7\xdc\xca\xfd");
    try {
        load_form_text(text, "gbk.yaml");
        FAIL("no error");
    } catch (const schema_error& e) {
        CHECK(e.where().line == line_of(utf8, "label: 当地职工总数"));
        CHECK(e.where().column > 1);
        CHECK_THAT(e.what(), Catch::Contains("gbk.yaml:") && Catch::Contains("not UTF-8") && Catch::Contains("0xB5"));
    }
}

TEST_CASE("GBK bytes in a units file are refused naming the line", "[loader][encoding]") {
    const std::string csv = "id,name,level,kind,parent\nP,province,province,regional,\nC,\xc7\xe0\xba\xa3,city,regional,P\n";
    try {
        hierarchy::parse_csv(csv, "units.csv");
        FAIL("no error");
    } catch (const hierarchy_error& e) {
        CHECK(e.where().file == "units.csv");
        CHECK(e.where().line == 3);
        CHECK(e.where().column == 3);
        CHECK_THAT(e.what(), Catch::Contains("not UTF-8"));
    }
    CHECK_THROWS_WITH(hierarchy::parse_yaml("units:\n  - {id: P, name: \xc7\xe0, level: province, kind: regional}\n", "u.yaml"),
                      Catch::Contains("u.yaml:2") && Catch::Contains("not UTF-8"));
    // Well-formed UTF-8 of every length still reads.
    CHECK(hierarchy::parse_csv("id,name,level,kind,parent\nP,青海 é 𠀀,province,regional,\n", "ok.csv").size() == 1);
}

TEST_CASE("part_of cycles and bad groups are refused naming them", "[loader][structure]") {
    const std::string base = songnuan_2018();
    SECTION("a field part_of itself") {
        const std::string text = with(base, "unit: 人, part_of: 01A}", "unit: 人, part_of: 01B}");
        CHECK_THROWS_WITH(load_form_text(text, "self.yaml"),
                          Catch::Contains("self.yaml:") && Catch::Contains("01B is part_of itself"));
    }
    SECTION("a part_of cycle") {
        std::string text = with(base, "type: count, unit: 人}", "type: count, unit: 人, part_of: 01B}");
        CHECK_THROWS_WITH(load_form_text(text, "cycle.yaml"), Catch::Contains("part_of makes a cycle: 01A → 01B → 01A"));
    }
    SECTION("a group naming a part twice") {
        const std::string text = with(base, "parts: [03C, 03D, 03E]", "parts: [03C, 03D, 03C]");
        try {
            load_form_text(text, "g.yaml");
            FAIL("no error");
        } catch (const schema_error& e) {
            CHECK(e.where().line == line_of(base, "parts: [03C, 03D, 03E]"));
            CHECK_THAT(e.what(), Catch::Contains("group hardship_households_by_cause names part 03C twice"));
        }
    }
    SECTION("a group whose total is among its parts") {
        const std::string text = with(base, "parts: [03C, 03D, 03E]", "parts: [03C, 03A, 03E]");
        CHECK_THROWS_WITH(load_form_text(text, "g.yaml"), Catch::Contains("has its total 03A among its parts"));
    }
    SECTION("a group of one part") {
        const std::string text = with(base, "parts: [03C, 03D, 03E]", "parts: [03C]");
        CHECK_THROWS_WITH(load_form_text(text, "g.yaml"), Catch::Contains("needs at least two parts"));
    }
}

TEST_CASE("the loader enforces the patterns of form-schema.json", "[loader][patterns]") {
    const std::string base = songnuan_2018();
    // `below`: the mistake is that many lines below where `from` starts.
    auto refused = [&](const std::string& from, const std::string& to, const std::string& message, int below = 0) {
        CAPTURE(to);
        try {
            load_form_text(with(base, from, to), "p.yaml");
            FAIL("no error");
        } catch (const schema_error& e) {
            CHECK_THAT(e.what(), Catch::Contains(message));
            CHECK(e.where().line == line_of(base, from) + below);
        }
    };
    refused("id: songnuan-2018", "id: Songnuan_2018", "not a form id");
    refused("key: workers.total,", "key: Workers,", "not a dotted concept key");
    refused("row: \"01\", letter: A, key: workers.total", "row: \"1\", letter: A, key: workers.total", "two-digit row");
    refused("row: \"01\", letter: A, key: workers.total", "row: \"02\", letter: A, key: workers.total",
            "its code starts with row 01");
    refused("row: \"01\", letter: A, key: workers.total", "row: \"01\", letter: B, key: workers.total",
            "letter B, which its code does not carry");
    refused("label: 当地职工总数,", "label: \"\",", "'label' is empty");
    refused("- id: hardship_households_by_cause", "- id: Hardship-Households", "not a group id");
    refused("- id: songnuan.hardship_workers_within_workers", "- id: hardship", "not a dotted rule id");
    refused("\n  - id: funds_raised_by_source", "\n    tolerance: 0.01\n  - id: funds_raised_by_source", "must be quoted text",
            1);
    refused("message: 困难职工总数{02A}人", "message: 困难职工总数{02Z}人", "placeholder {02Z} names no field");
    refused("message_en: \"Workers in difficulty ({02A})", "message_en: \"Workers in difficulty ({workers})",
            "placeholder {workers}");
    // Quoted tolerances and placeholders by concept key are fine.
    CHECK_NOTHROW(load_form_text(
        with(base, "\n  - id: funds_raised_by_source", "\n    tolerance: \"0.01\"\n  - id: funds_raised_by_source"), "ok.yaml"));
    CHECK_NOTHROW(
        load_form_text(with(base, "message: 困难职工总数{02A}人", "message: 困难职工总数{hardship_workers.total}人"), "ok.yaml"));
}

TEST_CASE("localisation weights load from the form and bad ones are refused at their place", "[loader][weights]") {
    const std::string base = songnuan_2018();
    const std::string field = "{code: 01B, ";
    auto s = load_form_text(with(base, field, "{code: 01B, weight: 2.5, "), "w.yaml");
    CHECK(s->field("01B").weight == 2.5);
    CHECK(s->field("01A").weight == 1.0);
    CHECK(s->level_scale.empty());
    auto refused = [&](const std::string& from, const std::string& to, const std::string& message) {
        CAPTURE(to);
        try {
            load_form_text(with(base, from, to), "w.yaml");
            FAIL("no error");
        } catch (const schema_error& e) {
            CHECK_THAT(e.what(), Catch::Contains(message));
            CHECK(e.where().file == "w.yaml");
            CHECK(e.where().line == line_of(base, from));
            CHECK(e.where().column > 1);
        }
    };
    for (const char* bad : {"0", "-1", "abc", ".inf", "[1]", "1e400"})
        refused(field, std::string("{code: 01B, weight: ") + bad + ", ", "weight of field 01B must be a");
    refused(field, "{code: 01B, weight: \"2\", ", "not quoted text");
    const std::string missing = "missing: skip_if_any_missing";
    auto l = load_form_text(with(base, missing, missing + "\nlocalisation: {level_scale: {city: 2, province: 3}}"), "w.yaml");
    CHECK(l->level_scale.at(unit_level::city) == 2.0);
    CHECK(l->level_scale.at(unit_level::province) == 3.0);
    CHECK(l->level_scale.count(unit_level::grassroots) == 0);
    auto refused_below = [&](const std::string& to, const std::string& message) {
        CAPTURE(to);
        try {
            load_form_text(with(base, missing, missing + "\n" + to), "w.yaml");
            FAIL("no error");
        } catch (const schema_error& e) {
            CHECK_THAT(e.what(), Catch::Contains(message));
            CHECK(e.where().line == line_of(base, missing) + 1);
        }
    };
    refused_below("localisation: {level_scale: {city: 0}}", "the level_scale factor of city must be a positive number");
    refused_below("localisation: {level_scale: {town: 2}}", "unknown level 'town'");
    refused_below("localisation: {level_scale: {city: 2, city: 3}}", "city");
    refused_below("localisation: {weights: {}}", "unknown key 'weights' in localisation");
}

TEST_CASE("rule diagnostics give the file's line and column", "[loader][places]") {
    const std::string base = songnuan_2018();
    SECTION("a quoted check on one line") {
        const auto d = only_diagnostic(with(base, "check: \"02A <= 01A\"", "check: \"02A <= 01Q\""));
        CHECK(d.column == 8);  // in the rule text
        CHECK(d.line == line_of(base, "check: \"02A <= 01A\""));
        CHECK(d.file_column == 13 + 8 - 1);  // the text starts after '    check: "', at column 13
    }
    SECTION("a folded check over several lines") {
        const std::string text = with(base, "check: \"02A <= 01A\"", "check: >\n      02A\n      <= 01Q");
        const auto d = only_diagnostic(text);
        CHECK(d.line == line_of(text, "      <= 01Q"));
        CHECK(d.file_column == 10);
    }
    SECTION("group rules carry the group's line") {
        auto f = load_form_text(base, "ok.yaml");
        bool found = false;
        for (const auto& r : f->rules)
            if (r.id == "songnuan.group.hardship_households_by_cause") {
                found = true;
                CHECK(r.line == line_of(base, "- id: hardship_households_by_cause"));
            }
        CHECK(found);
    }
}

TEST_CASE("four threads loading forms lazily from one registry agree", "[loader][threads]") {
    const schema_registry reg(std::string(UNIONSTAT_SOURCE_DIR) + "/schemas/forms");
    const auto ids = reg.ids();
    REQUIRE(ids.size() == 8);
    std::vector<std::vector<const form_schema*>> seen(4);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            try {
                for (int round = 0; round < 3; ++round)
                    for (std::size_t k = 0; k < ids.size(); ++k) {
                        const auto& id = ids[(k + static_cast<std::size_t>(t)) % ids.size()];
                        const auto f = reg.get(id);
                        if (f->id != id || !reg.contains(id)) ++failures;
                        if (round == 2) seen[static_cast<std::size_t>(t)].push_back(f.get());
                    }
            } catch (...) {
                ++failures;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    // Every thread got the one object the registry keeps for each id.
    std::set<const form_schema*> distinct;
    for (const auto& s : seen) distinct.insert(s.begin(), s.end());
    CHECK(distinct.size() == ids.size());
    CHECK(schema_registry::bundled().get("songnuan-2018") == schema_registry::bundled().get("songnuan-2018"));
}
