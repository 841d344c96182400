#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "batch_widths.hpp"
#include "unionstat/forms/batch.hpp"
#include "unionstat/forms/registry.hpp"
#include "unionstat/forms/schema.hpp"
#include "unionstat/graph/check.hpp"
#include "unionstat/graph/completeness.hpp"
#include "unionstat/graph/hierarchy.hpp"
#include "unionstat/graph/hierarchy_builder.hpp"
#include "unionstat/graph/rollup.hpp"
#include "unionstat/graph/rule_inputs.hpp"
#include "unionstat/rules/evaluator.hpp"
#include "unionstat/graph/unit_rows.hpp"

using namespace unionstat;

namespace {

// A small form with one field of each aggregation: 01A count (sum), 05A money in 万元
// (sum, stored to the 分: scale 6), 06B 是/否 (count_true), 09A count that does not add.
std::shared_ptr<const form_schema> test_form() {
    static const std::shared_ptr<const form_schema> form = [] {
        auto f = std::make_shared<form_schema>();
        f->id = "tree-test";
        f->family = "tree";
        f->year = 2018;
        auto add = [&](std::string code, std::string key, field_type type, std::string unit, aggregation agg) {
            field_def d;
            d.code = std::move(code);
            d.row = d.code.substr(0, 2);
            d.key = std::move(key);
            d.label = d.key;
            d.type = type;
            d.unit = std::move(unit);
            d.decimals = type == field_type::money ? 2 : 0;
            d.agg = agg;
            f->fields.push_back(d);
        };
        add("01A", "workers.total", field_type::count, "人", aggregation::sum);
        add("05A", "funds.total", field_type::money, "万元", aggregation::sum);
        add("06B", "fund.in_budget", field_type::flag, "是/否", aggregation::count_true);
        add("09A", "ratio.own", field_type::count, "个", aggregation::none);
        f->finalize();
        return std::shared_ptr<const form_schema>(f);
    }();
    return form;
}

constexpr std::size_t workers = 0, funds = 1, in_budget = 2, own_only = 3;

// Money in 万元 as stored (scale 6): wan(1.25) == 1250000.
std::int64_t wan(double v) { return static_cast<std::int64_t>(v * 1e6 + (v >= 0 ? 0.5 : -0.5)); }

// Adds a report: values in field order, nullopt = blank.
std::size_t add_report(report_batch& b, const std::string& unit, std::vector<std::optional<std::int64_t>> values,
                       const std::string& period = "2018") {
    const std::size_t r = b.add_row(unit, period);
    for (std::size_t f = 0; f < values.size(); ++f)
        if (values[f]) b.set_raw(r, f, *values[f]);
    return r;
}

// The total of `unit` in a roll-up; the unit must be a row of the result.
std::optional<std::int64_t> total(const rollup_result& r, const hierarchy& t, const std::string& unit, std::size_t field) {
    const auto row = r.row(t.index(unit));
    INFO("unit " << unit << " is a row of the roll-up");
    REQUIRE(row);
    return r.totals.raw(*row, field);
}

// True when unit u has children along the line (a row of an inner-only roll-up).
bool inner_unit(const hierarchy& t, std::size_t u, line along) {
    return along == line::primary ? !t.is_leaf(u) : boost::out_degree(static_cast<std::uint32_t>(u), t.graph()) > 0;
}

// Rolls up with a row for every unit (`leaves`), and checks on the way that the default
// roll-up (inner units only) has exactly the inner units as rows, in tree order, with
// the same keys, totals, blanks and report counts, and every other list alike.
rollup_result rollup_all(const hierarchy& t, const report_batch& b, rollup_options o = {}) {
    o.leaves = true;
    rollup_result all = rollup(t, b, o);
    o.leaves = false;
    const rollup_result inner = rollup(t, b, o);
    REQUIRE(all.units.size() == t.size());
    REQUIRE(all.totals.size() == t.size());
    REQUIRE(all.reports.size() == t.size());
    REQUIRE(all.totals.units() == t.ids());
    REQUIRE(inner.totals.size() == inner.units.size());
    REQUIRE(inner.reports.size() == inner.units.size());
    std::size_t r = 0;
    for (std::size_t u = 0; u < t.size(); ++u) {
        CAPTURE(t.id(u));
        CHECK(all.units[u] == u);
        CHECK(all.row(u) == u);
        if (!inner_unit(t, u, o.along)) {
            CHECK_FALSE(inner.row(u));
            continue;
        }
        REQUIRE(inner.row(u) == r);
        CHECK(inner.units[r] == u);
        CHECK(inner.totals.units()[r] == t.id(u));
        CHECK(inner.totals.periods()[r] == all.totals.periods()[u]);
        CHECK(inner.reports[r] == all.reports[u]);
        CHECK(inner.own_rows[r] == all.own_rows[u]);
        for (std::size_t f = 0; f < b.width(); ++f) CHECK(inner.totals.raw(r, f) == all.totals.raw(u, f));
        ++r;
    }
    CHECK(r == inner.units.size());
    CHECK(inner.unknown_rows == all.unknown_rows);
    CHECK(inner.unknown_units == all.unknown_units);
    CHECK(inner.ignored_rows == all.ignored_rows);
    return all;
}

rollup_result rollup_all(const hierarchy& t, const report_batch& b, line along) {
    rollup_options o;
    o.along = along;
    return rollup_all(t, b, o);
}

std::vector<std::string> ids_of(const hierarchy& t, const std::vector<std::size_t>& units) {
    std::vector<std::string> out;
    for (auto u : units) out.push_back(t.id(u));
    return out;
}

// The small ragged tree of the hand-computed tests:
//
//   P province ─┬─ C1 city ─┬─ K1 county ─┬─ g1   (secondary parent: I)
//               │           │             └─ g2   (secondary parent: C1, already above it)
//               │           ├─ K2 county (no children)
//               │           └─ g3   (grassroots straight under the city)
//               ├─ C2 city ──── g4   (secondary parent: I)
//               ├─ I industry union (city level)
//               └─ g5   (grassroots straight under the province)
const char* small_tree_csv =
    "id,name,level,kind,parent,secondary_parents\n"
    "P,省总工会,province,regional,,\n"
    "C1,甲市总工会,city,regional,P,\n"
    "K1,甲县总工会,county,regional,C1,\n"
    "g1,一厂工会,grassroots,enterprise,K1,I\n"
    "g2,二厂工会,grassroots,enterprise,K1,C1\n"
    "K2,乙县总工会,county,regional,C1,\n"
    "g3,三厂工会,grassroots,enterprise,C1,\n"
    "C2,乙市总工会,city,regional,P,\n"
    "g4,四厂工会,grassroots,enterprise,C2,I\n"
    "I,省产业工会,city,industry,P,\n"
    "g5,五厂工会,grassroots,direct,P,\n";

hierarchy small_tree() { return hierarchy::parse_csv(small_tree_csv, "small.csv"); }

template <class F>
hierarchy_error load_error(F&& load) {
    try {
        load();
    } catch (const hierarchy_error& e) {
        return e;
    }
    FAIL("no hierarchy_error was thrown");
    throw std::logic_error("unreachable");
}

std::string source_dir() { return UNIONSTAT_SOURCE_DIR; }

}  // namespace

// ---------------------------------------------------------------------------------------
// load errors

TEST_CASE("a duplicate unit id is rejected naming the unit and both lines", "[hierarchy]") {
    auto e = load_error([] {
        hierarchy::parse_csv("id,name,level,kind,parent\nP,p,province,regional,\na,x,city,regional,P\na,y,city,regional,P\n",
                             "dup.csv");
    });
    CHECK(e.units() == std::vector<std::string>{"a"});
    CHECK(e.where().file == "dup.csv");
    CHECK(e.where().line == 4);
    CHECK_THAT(e.what(), Catch::Contains("duplicate unit id a") && Catch::Contains("lines 3 and 4"));
}

TEST_CASE("a unit listed twice with different primary parents has two primary parents", "[hierarchy]") {
    auto e = load_error([] {
        hierarchy::parse_csv(
            "id,name,level,kind,parent\nP,p,province,regional,\nQ,q,province,regional,\na,x,city,regional,P\n"
            "a,x,city,regional,Q\n",
            "two.csv");
    });
    CHECK(e.units() == std::vector<std::string>{"a", "P", "Q"});
    CHECK(e.where().line == 5);
    CHECK_THAT(e.what(), Catch::Contains("two primary parents"));
}

TEST_CASE("a YAML unit giving parent twice or two primary parents is rejected", "[hierarchy]") {
    SECTION("parent given twice") {
        auto e = load_error([] {
            hierarchy::parse_yaml(
                "units:\n"
                "  - {id: P, name: p, level: province, kind: regional}\n"
                "  - {id: Q, name: q, level: province, kind: regional}\n"
                "  - id: a\n"
                "    level: city\n"
                "    kind: regional\n"
                "    parent: P\n"
                "    parent: Q\n",
                "twice.yaml");
        });
        CHECK(e.units() == std::vector<std::string>{"a", "P", "Q"});
        CHECK(e.where().file == "twice.yaml");
        CHECK(e.where().line == 8);
    }
    SECTION("a parents list with two primaries") {
        auto e = load_error([] {
            hierarchy::parse_yaml(
                "units:\n"
                "  - {id: P, name: p, level: province, kind: regional}\n"
                "  - {id: Q, name: q, level: province, kind: regional}\n"
                "  - id: a\n"
                "    level: city\n"
                "    kind: regional\n"
                "    parents:\n"
                "      - {id: P, line: primary}\n"
                "      - {id: Q, line: primary}\n",
                "list.yaml");
        });
        CHECK(e.units() == std::vector<std::string>{"a", "P", "Q"});
        CHECK(e.where().line == 9);
    }
}

TEST_CASE("an unknown parent is rejected naming the unit and the parent", "[hierarchy]") {
    SECTION("primary") {
        auto e = load_error(
            [] { hierarchy::parse_csv("id,name,level,kind,parent\nP,p,province,regional,\na,x,city,regional,PP\n", "u.csv"); });
        CHECK(e.units() == std::vector<std::string>{"a", "PP"});
        CHECK(e.where().line == 3);
        CHECK(e.where().unit == "a");
    }
    SECTION("secondary") {
        auto e = load_error([] {
            hierarchy::parse_csv(
                "id,name,level,kind,parent,secondary_parents\nP,p,province,regional,,\n"
                "a,x,city,regional,P,P;nowhere\n",
                "u.csv");
        });
        CHECK(e.units() == std::vector<std::string>{"a", "P"});
        CHECK_THAT(e.what(), Catch::Contains("both as primary and as secondary"));
        auto e2 = load_error([] {
            hierarchy::parse_csv(
                "id,name,level,kind,parent,secondary_parents\nP,p,province,regional,,\n"
                "a,x,city,regional,P,nowhere\n",
                "u.csv");
        });
        CHECK(e2.units() == std::vector<std::string>{"a", "nowhere"});
    }
}

TEST_CASE("a cycle is rejected with its path", "[hierarchy]") {
    SECTION("a → b → c → a") {
        auto e = load_error([] {
            hierarchy::parse_csv(
                "id,name,level,kind,parent\nR,r,province,regional,\na,x,city,regional,b\n"
                "b,y,city,regional,c\nc,z,city,regional,a\n",
                "cycle.csv");
        });
        CHECK(e.units() == std::vector<std::string>{"a", "b", "c", "a"});
        CHECK_THAT(e.what(), Catch::Contains("a → b → c → a"));
        CHECK(e.where().line == 3);
    }
    SECTION("a unit that is its own parent") {
        auto e = load_error([] { hierarchy::parse_csv("id,name,level,kind,parent\na,x,city,regional,a\n"); });
        CHECK(e.units() == std::vector<std::string>{"a", "a"});
    }
    SECTION("through a secondary parent") {
        auto e = load_error([] {
            hierarchy::parse_csv(
                "id,name,level,kind,parent,secondary_parents\nR,r,city,regional,,\n"
                "a,x,city,industry,R,b\nb,y,city,industry,R,a\n");
        });
        CHECK(e.units() == std::vector<std::string>{"a", "b", "a"});
    }
}

TEST_CASE("a province under a city is rejected", "[hierarchy]") {
    auto e = load_error(
        [] { hierarchy::parse_csv("id,name,level,kind,parent\nC,c,city,regional,\nP,p,province,regional,C\n", "lvl.csv"); });
    CHECK(e.units() == std::vector<std::string>{"P", "C"});
    CHECK(e.where().line == 3);
    CHECK_THAT(e.what(), Catch::Contains("P (province) is above its parent C (city)"));
}

TEST_CASE("a bad level or kind names the line and the column", "[hierarchy]") {
    SECTION("CSV, columns counted in characters") {
        auto e = load_error([] {
            hierarchy::parse_csv(
                "id,name,level,kind,parent\nP,p,province,regional,\n"
                "g,\"平顶山, 一厂\",villa,enterprise,P\n",
                "bad.csv");
        });
        CHECK(e.units() == std::vector<std::string>{"g"});
        CHECK(e.where().line == 3);
        CHECK(e.where().column == 13);  // g,"平顶山, 一厂", is 12 characters
        CHECK_THAT(e.what(), Catch::Contains("level 'villa'"));
    }
    SECTION("YAML") {
        auto e = load_error(
            [] { hierarchy::parse_yaml("units:\n  - id: P\n    level: province\n    kind: regionall\n", "bad.yaml"); });
        CHECK(e.units() == std::vector<std::string>{"P"});
        CHECK(e.where().line == 4);
        CHECK(e.where().column == 11);
    }
    SECTION("an unknown YAML key") {
        auto e = load_error(
            [] { hierarchy::parse_yaml("units:\n  - id: P\n    level: province\n    kind: regional\n    parnet: X\n"); });
        CHECK(e.where().line == 5);
        CHECK(e.where().column == 5);
        CHECK_THAT(e.what(), Catch::Contains("unknown key 'parnet'"));
    }
    SECTION("a CSV line with too few fields or an open quote") {
        auto e = load_error([] { hierarchy::parse_csv("id,name,level,kind,parent\nP,p,province,regional,\na,x,city\n"); });
        CHECK(e.where().line == 3);
        auto q = load_error([] { hierarchy::parse_csv("id,name,level,kind,parent\nP,\"p,province,regional,\n"); });
        CHECK(q.where().line == 2);
        CHECK(q.where().column == 3);
    }
    SECTION("an unknown CSV column") {
        auto e = load_error([] { hierarchy::parse_csv("id,name,level,kind,parent,colour\n"); });
        CHECK(e.where().line == 1);
        CHECK(e.where().column == 27);
    }
}

TEST_CASE("quoted CSV fields with commas, quotes and a BOM load", "[hierarchy]") {
    auto t = hierarchy::parse_csv(
        "\xEF\xBB\xBFid,name,level,kind,parent,secondary_parents\r\n"
        "# a comment\r\n"
        "P,\"河南省总工会, \"\"省总\"\"\",province,regional,,\r\n"
        "I,产业,city,industry,P,\r\n"
        "J,产业,city,industry,P,\r\n"
        "a,\"多行\n名称\",city,regional,P,\"I; J\"\r\n");
    REQUIRE(t.size() == 4);
    CHECK(t.name(0) == "河南省总工会, \"省总\"");
    CHECK(t.name(3) == "多行\n名称");
    CHECK(ids_of(t, t.secondary_parents(3)) == std::vector<std::string>{"I", "J"});
    // And back: to_csv reads in as the same units.
    auto again = hierarchy::parse_csv(t.to_csv());
    REQUIRE(again.size() == t.size());
    for (std::size_t i = 0; i < t.size(); ++i) {
        CHECK(again.id(i) == t.id(i));
        CHECK(again.name(i) == t.name(i));
        CHECK(again.parent(i) == t.parent(i));
        CHECK(again.secondary_parents(i) == t.secondary_parents(i));
    }
}

namespace {
// Units CSV of a province, 40 cities and `n` grassroots spread over them (in city
// order), some of them also under an industry union; larger than the size above which
// the reader parses two halves on two threads.
std::string big_units_csv(int n, const std::string& extra = {}) {
    std::string text =
        "id,name,level,kind,parent,secondary_parents\nP,某省总工会,province,regional,,\n"
        "I,某产业工会,city,industry,P,\n";
    for (int c = 0; c < 40; ++c) text += "C" + std::to_string(c) + ",市总工会" + std::to_string(c) + ",city,regional,P,\n";
    for (int g = 0; g < n; ++g) {
        text += "G" + std::to_string(g) + ",某某有限公司工会委员会第" + std::to_string(g) + "号,grassroots,enterprise,C" +
                std::to_string(g * 40 / n) + "," + (g % 1000 == 7 ? "I" : "") + "\n";
        if (g == n / 2) text += extra;
    }
    return text;
}
}  // namespace

TEST_CASE("a large units file read in two halves is the tree read in one", "[hierarchy]") {
    const int n = 120000;
    const std::string text = big_units_csv(n);
    REQUIRE(text.size() > (5u << 20));
    const auto t = hierarchy::parse_csv(text);
    // A quote anywhere keeps the reader to one pass (a quoted cell may hold a line break).
    const auto one = hierarchy::parse_csv(big_units_csv(n, "Q,\"引号, 名称\",grassroots,enterprise,C3,\n"));
    REQUIRE(t.size() == static_cast<std::size_t>(n) + 42);
    REQUIRE(one.size() == t.size() + 1);
    for (std::size_t i = 0; i < t.size(); i += 997) {
        const std::size_t j = one.index(t.id(i));
        CHECK(one.id(one.parent(j) == hierarchy::npos ? j : one.parent(j)) ==
              t.id(t.parent(i) == hierarchy::npos ? i : t.parent(i)));
        CHECK(one.name(j) == t.name(i));
        CHECK(ids_of(one, one.secondary_parents(j)) == ids_of(t, t.secondary_parents(i)));
    }
    // Line numbers run on across the halves: unit G<k> is on line 44 + k of the file.
    const std::size_t last = t.index("G" + std::to_string(n - 1));
    CHECK(t.unit(last).line == 44 + (n - 1));
    CHECK(t.unit(t.index("G10")).line == 54);
    CHECK(t.child_count(t.index("C39")) == static_cast<std::size_t>(n / 40));
    CHECK(ids_of(t, t.secondary_children(t.index("I"))).size() == static_cast<std::size_t>(n / 1000));
    CHECK(t.name(t.index("G5")) == "某某有限公司工会委员会第5号");
}

TEST_CASE("an error in the second half of a large units file names its own line", "[hierarchy]") {
    const int n = 120000;
    // The bad line comes right after G60000 (line 44 + 60000).
    const std::string text = big_units_csv(n, "X,坏的,village,regional,C1,\n");
    try {
        hierarchy::parse_csv(text, "big.csv");
        FAIL("no error");
    } catch (const hierarchy_error& e) {
        CHECK(e.where().file == "big.csv");
        CHECK(e.where().line == 44 + 60000 + 1);
        CHECK(e.where().unit == "X");
        CHECK_THAT(e.what(), Catch::Contains("level 'village'"));
    }
    // And a unit of the second half naming an unknown parent.
    try {
        hierarchy::parse_csv(big_units_csv(n, "Y,孤儿,grassroots,regional,NOPE,\n"), "big.csv");
        FAIL("no error");
    } catch (const hierarchy_error& e) {
        CHECK(e.where().line == 44 + 60000 + 1);
        CHECK_THAT(e.what(), Catch::Contains("names parent NOPE"));
    }
}

TEST_CASE("reports in any order match their units", "[hierarchy]") {
    // Rows in the tree's order take the fast path; shuffled rows are looked up together.
    const int n = 5000;
    const auto t = hierarchy::parse_csv(big_units_csv(n));
    std::vector<std::string> ids;
    for (int g = 0; g < n; ++g) ids.push_back("G" + std::to_string(g));
    std::mt19937 rng(7);
    std::shuffle(ids.begin(), ids.end(), rng);
    report_batch b(test_form());
    for (std::size_t k = 0; k < ids.size(); ++k) add_report(b, ids[k], {static_cast<std::int64_t>(k), 0, 0, 0});
    add_report(b, "nobody", {1, 0, 0, 0});
    const unit_rows m = match_rows(t, b);
    CHECK(m.matched == static_cast<std::size_t>(n));
    CHECK(m.unknown_units == std::vector<std::string>{"nobody"});
    CHECK(m.unknown_rows == std::vector<std::size_t>{static_cast<std::size_t>(n)});
    for (std::size_t k = 0; k < ids.size(); k += 101) CHECK(m.row[t.index(ids[k])] == static_cast<std::int64_t>(k));
    // A unit given twice, one row in order and one shuffled: named with both rows.
    add_report(b, ids[3], {1, 0, 0, 0});
    try {
        match_rows(t, b);
        FAIL("no error");
    } catch (const value_error& e) {
        CHECK(e.where().unit == ids[3]);
        CHECK_THAT(e.what(), Catch::Contains("rows 4 and " + std::to_string(n + 2)));
    }
}

TEST_CASE("a YAML tree reads Chinese levels, a parents list and validity", "[hierarchy]") {
    auto t = hierarchy::parse_yaml(
        "name: small\n"
        "units:\n"
        "  - {id: P, name: 省总工会, level: 省级, kind: 地方}\n"
        "  - {id: I, name: 产业工会, level: city, kind: industry, parent: P}\n"
        "  - {id: 410400, name: 市总工会, level: city, kind: regional, parent: P}\n"
        "  - id: g\n"
        "    name: 厂工会\n"
        "    level: grassroots\n"
        "    kind: enterprise\n"
        "    parents: [{id: 410400, line: primary}, {id: I, line: secondary}]\n"
        "    valid_from: '2016'\n");
    REQUIRE(t.size() == 4);
    CHECK(t.level(0) == unit_level::province);
    CHECK(t.id(t.parent(t.index("g"))) == "410400");
    CHECK(ids_of(t, t.secondary_parents(t.index("g"))) == std::vector<std::string>{"I"});
    CHECK(t.versioned());
    CHECK_FALSE(t.valid_at(t.index("g"), "2015"));
    CHECK(t.valid_at(t.index("g"), "2016-03"));
}

// ---------------------------------------------------------------------------------------
// queries

TEST_CASE("an empty tree and an empty batch roll up to nothing", "[hierarchy]") {
    auto t = hierarchy::parse_csv("id,name,level,kind,parent\n");
    CHECK(t.empty());
    report_batch b(test_form());
    auto r = rollup(t, b);
    CHECK(r.totals.size() == 0);
    CHECK(check(t, b).rows.empty());
    CHECK(completeness(t, b).total.rate() == 1.0);
}

TEST_CASE("tree queries walk the primary line", "[hierarchy]") {
    auto t = small_tree();
    const auto P = t.index("P"), C1 = t.index("C1"), K1 = t.index("K1"), g2 = t.index("g2");
    CHECK(t.parent(P) == hierarchy::npos);
    CHECK(t.parent(g2) == K1);
    CHECK(ids_of(t, t.children(C1)) == std::vector<std::string>{"K1", "K2", "g3"});
    CHECK(ids_of(t, t.ancestors(g2)) == std::vector<std::string>{"K1", "C1", "P"});
    CHECK(ids_of(t, t.path(g2)) == std::vector<std::string>{"P", "C1", "K1", "g2"});
    CHECK(ids_of(t, t.subtree(C1)) == std::vector<std::string>{"C1", "K1", "g1", "g2", "K2", "g3"});
    CHECK(t.depth(P) == 0);
    CHECK(t.depth(g2) == 3);
    CHECK(t.depth(t.index("g5")) == 1);
    CHECK(ids_of(t, t.roots()) == std::vector<std::string>{"P"});
    CHECK(t.in_subtree(g2, C1));
    CHECK_FALSE(t.in_subtree(t.index("g4"), C1));
    CHECK(ids_of(t, t.secondary_children(t.index("I"))) == std::vector<std::string>{"g1", "g4"});
    CHECK(t.is_leaf(t.index("K2")));
    CHECK_FALSE(t.find("nope"));
    CHECK_THROWS_AS(t.index("nope"), lookup_error);

    SECTION("the topological arrays put children before parents") {
        const auto& order = t.topological_order();
        const auto& up = t.topological_parent();
        REQUIRE(order.size() == t.size());
        for (std::size_t p = 0; p < order.size(); ++p) {
            const auto parent = t.parent(order[p]);
            if (parent == hierarchy::npos) {
                CHECK(up[p] == -1);
            } else {
                CHECK(up[p] > static_cast<std::int32_t>(p));
                CHECK(order[static_cast<std::size_t>(up[p])] == parent);
            }
        }
    }
    SECTION("reachable follows secondary edges and lists each unit once") {
        auto r = ids_of(t, t.reachable(C1));
        std::sort(r.begin(), r.end());
        CHECK(r == std::vector<std::string>{"C1", "K1", "K2", "g1", "g2", "g3"});
    }
}

// ---------------------------------------------------------------------------------------
// roll-up

TEST_CASE("a roll-up on a small ragged tree matches the hand computation", "[hierarchy]") {
    auto t = small_tree();
    report_batch b(test_form());
    //              01A      05A (万元)         06B        09A
    add_report(b, "g1", {10, wan(1.25), 1, 7});
    add_report(b, "g2", {20, std::nullopt, 0, 8});
    add_report(b, "g3", {5, wan(0.50), 1, std::nullopt});
    add_report(b, "g4", {7, wan(2.00), std::nullopt, 9});
    add_report(b, "g5", {1, std::nullopt, 1, 4});
    add_report(b, "C1", {100, wan(10.00), 0, 3});  // the city's own activity
    add_report(b, "K2", {std::nullopt, std::nullopt, std::nullopt, std::nullopt});

    auto r = rollup_all(t, b);
    REQUIRE(r.totals.size() == t.size());
    CHECK(r.totals.units() == t.ids());
    CHECK(r.totals.periods().front() == "2018");
    CHECK(r.unknown_units.empty());

    CHECK(total(r, t, "K1", workers) == 30);
    CHECK(total(r, t, "C1", workers) == 135);
    CHECK(total(r, t, "C2", workers) == 7);
    CHECK(total(r, t, "P", workers) == 143);
    CHECK(total(r, t, "I", workers) == std::nullopt);   // nobody reports along the primary line
    CHECK(total(r, t, "K2", workers) == std::nullopt);  // reported, but blank

    CHECK(total(r, t, "K1", funds) == wan(1.25));  // g2's blank counts as 0
    CHECK(total(r, t, "C1", funds) == wan(11.75));
    CHECK(total(r, t, "P", funds) == wan(13.75));
    CHECK(total(r, t, "g5", funds) == std::nullopt);  // its only report is blank

    CHECK(total(r, t, "K1", in_budget) == 1);  // number of 是
    CHECK(total(r, t, "C1", in_budget) == 2);
    CHECK(total(r, t, "P", in_budget) == 3);
    CHECK(total(r, t, "g2", in_budget) == 0);

    CHECK(total(r, t, "g1", own_only) == 7);  // `none`: own value only
    CHECK(total(r, t, "C1", own_only) == 3);
    CHECK(total(r, t, "K1", own_only) == std::nullopt);
    CHECK(total(r, t, "P", own_only) == std::nullopt);

    CHECK(r.reports[t.index("P")] == 7);
    CHECK(r.reports[t.index("C1")] == 5);
    CHECK(r.reports[t.index("K1")] == 2);
    CHECK(r.reports[t.index("I")] == 0);

    SECTION("inner units' reports can be left out") {
        rollup_options o;
        o.inner = inner_reports::ignore;
        auto r2 = rollup_all(t, b, o);
        CHECK(total(r2, t, "C1", workers) == 35);
        CHECK(r2.ignored_rows == std::vector<std::size_t>{5});
        CHECK(r2.own_rows[t.index("C1")] == -1);  // left out
        CHECK(r2.own_rows[t.index("g3")] == 2);
    }
}

TEST_CASE("a roll-up holds the inner units only unless leaves are asked for", "[hierarchy]") {
    auto t = small_tree();
    report_batch b(test_form());
    add_report(b, "g1", {10, wan(1.25), 1, 7});
    add_report(b, "g4", {7, wan(2.00), 0, 9});
    add_report(b, "C1", {100, wan(10.00), 0, 3});

    const auto inner = rollup(t, b);
    // Primary line: the units with primary children, in tree order; K2 and I have none.
    CHECK(ids_of(t, inner.units) == std::vector<std::string>{"P", "C1", "K1", "C2"});
    CHECK(inner.totals.units() == std::vector<std::string>{"P", "C1", "K1", "C2"});
    CHECK(inner.reports == std::vector<std::uint32_t>{3, 2, 1, 1});
    CHECK(inner.own_rows == std::vector<std::int64_t>{-1, 2, -1, -1});  // C1 reported itself in row 2
    CHECK_FALSE(inner.row(t.index("g1")));
    CHECK_FALSE(inner.row(t.index("K2")));
    CHECK(total(inner, t, "P", workers) == 117);
    CHECK(total(inner, t, "K1", in_budget) == 1);

    rollup_options o;
    o.leaves = true;
    const auto all = rollup(t, b, o);
    REQUIRE(all.units.size() == t.size());
    // A leaf's total is its own report.
    CHECK(total(all, t, "g1", workers) == 10);
    CHECK(total(all, t, "g1", funds) == wan(1.25));
    CHECK(total(all, t, "g1", own_only) == 7);
    CHECK(total(all, t, "g2", workers) == std::nullopt);  // did not report
    CHECK(all.reports[t.index("g1")] == 1);
    for (const char* u : {"P", "C1", "K1", "C2"})
        for (std::size_t f = 0; f < 4; ++f) CHECK(total(all, t, u, f) == total(inner, t, u, f));

    SECTION("on the secondary line a unit with secondary children only is inner") {
        const auto s = rollup(t, b, line::secondary);
        CHECK(ids_of(t, s.units) == std::vector<std::string>{"P", "C1", "K1", "C2", "I"});
        CHECK(total(s, t, "I", workers) == 17);  // g1 and g4, both leaves
        CHECK_FALSE(s.row(t.index("g4")));
    }
    SECTION("a unit alone (a root without children) is a leaf") {
        auto lone = hierarchy::parse_csv("id,name,level,kind,parent\nA,a,city,regional,\n");
        report_batch c(test_form());
        add_report(c, "A", {3, 0, 1, 1});
        CHECK(rollup(lone, c).units.empty());
        CHECK(rollup(lone, c).totals.size() == 0);
        rollup_options with;
        with.leaves = true;
        CHECK(total(rollup(lone, c, with), lone, "A", workers) == 3);
    }
}

TEST_CASE("reports of units not in the tree are returned, not dropped", "[hierarchy]") {
    auto t = small_tree();
    report_batch b(test_form());
    add_report(b, "g1", {10, 0, 0, 0});
    add_report(b, "ghost", {1000, 0, 0, 0});
    add_report(b, "ghost", {1000, 0, 0, 0});
    add_report(b, "g9", {1, 0, 0, 0});
    auto r = rollup(t, b);
    CHECK(r.unknown_units == std::vector<std::string>{"ghost", "g9"});
    CHECK(r.unknown_rows == std::vector<std::size_t>{1, 2, 3});
    CHECK(total(r, t, "P", workers) == 10);
}

TEST_CASE("a unit reporting twice in one period is an error naming it", "[hierarchy]") {
    auto t = small_tree();
    report_batch b(test_form());
    add_report(b, "g1", {10, 0, 0, 0});
    add_report(b, "g2", {10, 0, 0, 0});
    add_report(b, "g1", {11, 0, 0, 0});
    add_report(b, "g2", {10, 0, 0, 0}, "2017");  // another period: not a duplicate
    try {
        rollup(t, b, rollup_options{line::primary, "2018", inner_reports::own_activity});
        FAIL("no error");
    } catch (const value_error& e) {
        CHECK(e.where().unit == "g1");
        CHECK(e.where().row == 2);
        CHECK_THAT(e.what(), Catch::Contains("rows 1 and 3"));
    }
    SECTION("and a batch of several periods needs one chosen") {
        report_batch c(test_form());
        add_report(c, "g1", {1, 0, 0, 0}, "2017");
        add_report(c, "g1", {2, 0, 0, 0}, "2018");
        CHECK_THROWS_AS(rollup(t, c), value_error);
        rollup_options o;
        o.period = "2017";
        CHECK(total(rollup(t, c, o), t, "P", workers) == 1);
    }
}

TEST_CASE("an overflowing total is an error naming the unit and the field", "[hierarchy]") {
    auto t = small_tree();
    report_batch b(test_form());
    const std::int64_t big = std::numeric_limits<std::int64_t>::max() / 2 + 1;
    add_report(b, "g1", {1, big, 0, 0});
    add_report(b, "g2", {1, big, 0, 0});
    try {
        rollup(t, b);
        FAIL("no overflow_error");
    } catch (const overflow_error& e) {
        CHECK(e.where().unit == "K1");
        CHECK(e.where().field == "05A");
    }
    SECTION("on the secondary line too") { CHECK_THROWS_AS(rollup(t, b, line::secondary), overflow_error); }
    SECTION("and with the leaves' rows") {
        rollup_options o;
        o.leaves = true;
        try {
            rollup(t, b, o);
            FAIL("no overflow_error");
        } catch (const overflow_error& e) {
            CHECK(e.where().unit == "K1");
            CHECK(e.where().field == "05A");
        }
    }
}

namespace {

// Independent reference: recursive sums over a parent map built from the listings.
struct naive_tree {
    std::vector<org_unit> units;
    std::map<std::string, std::vector<std::string>> children;
    std::map<std::string, std::string> parent;

    explicit naive_tree(std::vector<org_unit> u) : units(std::move(u)) {
        for (const auto& x : units) {
            parent[x.id] = x.parent;
            if (!x.parent.empty()) children[x.parent].push_back(x.id);
        }
    }
    // (value, any) of the subtree of `id` for one field.
    std::pair<std::int64_t, bool> sum(const std::string& id, const std::map<std::string, std::optional<std::int64_t>>& own,
                                      aggregation agg) const {
        std::int64_t v = 0;
        bool any = false;
        auto it = own.find(id);
        if (it != own.end() && it->second) {
            v = agg == aggregation::count_true ? (*it->second != 0) : *it->second;
            any = true;
        }
        if (agg == aggregation::none) return {v, any};
        auto c = children.find(id);
        if (c != children.end())
            for (const auto& child : c->second) {
                auto [cv, ca] = sum(child, own, agg);
                v += cv;
                any |= ca;
            }
        return {v, any};
    }
};

// A random ragged tree: levels never rise going down, grassroots may hang anywhere.
std::vector<org_unit> random_units(std::mt19937_64& rng, std::size_t n) {
    std::vector<org_unit> units;
    org_unit root;
    root.id = "u0";
    root.level = unit_level::province;
    units.push_back(root);
    for (std::size_t i = 1; i < n; ++i) {
        const org_unit& p = units[std::uniform_int_distribution<std::size_t>(0, i - 1)(rng)];
        org_unit u;
        u.id = "u" + std::to_string(i);
        u.parent = p.id;
        const int lo = std::min(4, static_cast<int>(p.level) + 1);
        u.level = static_cast<unit_level>(std::uniform_int_distribution<int>(lo, 4)(rng));
        u.kind = u.level == unit_level::grassroots ? unit_kind::enterprise : unit_kind::regional;
        units.push_back(u);
    }
    // Shuffle the listing order: children may come before their parents.
    std::shuffle(units.begin() + 1, units.end(), rng);
    return units;
}

// A unit of a hand-made tree: grassroots units are enterprises, the others regional.
org_unit make_unit(std::string id, std::string parent, unit_level level) {
    org_unit u;
    u.id = std::move(id);
    u.parent = std::move(parent);
    u.level = level;
    u.kind = level == unit_level::grassroots ? unit_kind::enterprise : unit_kind::regional;
    return u;
}

hierarchy build(const std::vector<org_unit>& units) {
    hierarchy_builder b;
    for (const auto& u : units) b.add_unit(u);
    return b.build();
}

}  // namespace

TEST_CASE("the roll-up of random ragged trees equals a naive recursive sum", "[hierarchy]") {
    const auto seed = GENERATE(1u, 2u, 3u, 17u, 2018u);
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 400)(rng);
    auto units = random_units(rng, n);
    auto t = build(units);
    naive_tree ref(units);

    report_batch b(test_form());
    std::vector<std::map<std::string, std::optional<std::int64_t>>> own(4);
    std::uniform_int_distribution<std::int64_t> value(0, 1000000);
    for (const auto& u : units) {
        if (rng() % 3 == 0) continue;  // no report
        std::vector<std::optional<std::int64_t>> vals(4);
        for (std::size_t f = 0; f < 4; ++f) {
            if (rng() % 5 == 0) continue;  // blank
            vals[f] = f == in_budget ? static_cast<std::int64_t>(rng() % 2) : value(rng);
            own[f][u.id] = vals[f];
        }
        add_report(b, u.id, vals);
    }
    auto r = rollup_all(t, b);
    for (auto kind : {testing::storage::as_built, testing::storage::wide}) {
        CAPTURE(testing::to_string(kind));
        const auto rk = kind == testing::storage::as_built ? rollup_all(t, b) : rollup_all(t, testing::with_storage(b, kind));
        for (const auto& u : units)
            for (std::size_t f = 0; f < 4; ++f) {
                auto [v, any] = ref.sum(u.id, own[f], test_form()->fields[f].agg);
                CAPTURE(u.id, f);
                CHECK(total(rk, t, u.id, f) == (any ? std::optional<std::int64_t>(v) : std::nullopt));
            }
    }

    SECTION("correcting one leaf changes exactly its ancestors") {
        std::vector<std::string> leaves;
        for (std::size_t row = 0; row < b.size(); ++row)
            if (t.is_leaf(t.index(b.units()[row])) && !b.is_missing(row, workers)) leaves.push_back(b.units()[row]);
        if (leaves.empty()) return;
        const std::string leaf = leaves[rng() % leaves.size()];
        const auto row = static_cast<std::size_t>(b.find(leaf));
        b.set_raw(row, workers, *b.raw(row, workers) + 7);
        auto r2 = rollup_all(t, b);
        std::set<std::string> expected{leaf};
        for (std::string p = ref.parent[leaf]; !p.empty(); p = ref.parent[p]) expected.insert(p);
        std::set<std::string> changed;
        for (std::size_t i = 0; i < t.size(); ++i) {
            if (r2.totals.raw(i, workers) != r.totals.raw(i, workers)) {
                changed.insert(t.id(i));
                CHECK(*r2.totals.raw(i, workers) - *r.totals.raw(i, workers) == 7);
            }
            for (std::size_t f : {funds, in_budget, own_only}) CHECK(r2.totals.raw(i, f) == r.totals.raw(i, f));
        }
        CHECK(changed == expected);
    }
}

TEST_CASE("complete columns roll up alike whether siblings report together or scattered", "[hierarchy]") {
    // Fields without blanks take the leaves-first pass: segments of siblings summed at
    // once, mixed segments added leaf by leaf, a fall-back on negative values. Each
    // layout of the batch must give the reference totals.
    std::mt19937_64 rng(20181225);
    std::vector<org_unit> units;
    auto unit = [&](std::string id, std::string parent, unit_level level) {
        units.push_back(make_unit(std::move(id), std::move(parent), level));
    };
    unit("R", "", unit_level::province);
    for (int c = 0; c < 3; ++c) unit("C" + std::to_string(c), "R", unit_level::city);
    for (int k = 0; k < 6; ++k) unit("K" + std::to_string(k), "C" + std::to_string(k % 3), unit_level::county);
    int g = 0;
    auto grass = [&](const std::string& parent) { unit("G" + std::to_string(g++), parent, unit_level::grassroots); };
    for (int k = 0; k < 6; ++k)  // long runs of siblings
        for (int i = 0; i < 15 + 10 * k; ++i) grass("K" + std::to_string(k));
    for (int i = 0; i < 200; ++i) {  // scattered parents, with runs of 1..20 siblings now and then
        const std::string p = rng() % 4 ? "K" + std::to_string(rng() % 6) : "C" + std::to_string(rng() % 3);
        const int run = rng() % 8 == 0 ? 1 + static_cast<int>(rng() % 20) : 1;
        for (int j = 0; j < run; ++j) grass(p);
    }
    const hierarchy t = build(units);
    naive_tree ref(units);

    const auto layout =
        GENERATE(as<std::string>{}, "tree order", "shuffled", "tree order, one negative value", "inner units report too");
    CAPTURE(layout);
    std::vector<const org_unit*> reporting;
    for (const auto& u : units)
        if (t.is_leaf(t.index(u.id)) || layout == "inner units report too") reporting.push_back(&u);
    if (layout == "shuffled") std::shuffle(reporting.begin(), reporting.end(), rng);
    report_batch b(test_form());
    std::vector<std::map<std::string, std::optional<std::int64_t>>> own(4);
    for (const org_unit* u : reporting) {
        std::vector<std::optional<std::int64_t>> vals{
            static_cast<std::int64_t>(rng() % 1000), static_cast<std::int64_t>(rng() % 100000000),
            static_cast<std::int64_t>(rng() % 2), static_cast<std::int64_t>(rng() % 50)};
        if (layout == "tree order, one negative value" && u->id == "G100") vals[workers] = -5;
        for (std::size_t f = 0; f < 4; ++f) own[f][u->id] = vals[f];
        add_report(b, u->id, vals);
    }
    for (std::size_t f = 0; f < 4; ++f) REQUIRE(b.missing_bits(f) == nullptr);  // complete columns
    for (std::size_t f = 0; f < 4; ++f) REQUIRE(b.column(f).narrow());          // (as built: every value fits in 32 bits)
    for (auto kind : {testing::storage::as_built, testing::storage::wide}) {
        CAPTURE(testing::to_string(kind));
        const auto r = rollup_all(t, testing::with_storage(b, kind));
        for (const auto& u : units)
            for (std::size_t f = 0; f < 4; ++f) {
                CAPTURE(u.id, f);
                const auto [v, any] = ref.sum(u.id, own[f], test_form()->fields[f].agg);
                CHECK(total(r, t, u.id, f) == (any ? std::optional<std::int64_t>(v) : std::nullopt));
            }
    }
}

TEST_CASE("an overflow in a long run of siblings names their parent", "[hierarchy]") {
    std::vector<org_unit> units{make_unit("R", "", unit_level::city), make_unit("K0", "R", unit_level::county),
                                make_unit("K1", "R", unit_level::county)};
    for (int i = 0; i < 40; ++i)
        units.push_back(make_unit("G" + std::to_string(i), i < 20 ? "K0" : "K1", unit_level::grassroots));
    const hierarchy t = build(units);
    report_batch b(test_form());
    const std::int64_t big = std::numeric_limits<std::int64_t>::max() / 15;  // 20 of them overflow
    for (int i = 0; i < 40; ++i) add_report(b, "G" + std::to_string(i), {i < 20 ? 1 : big, 1, 0, 0});
    for (const bool leaves : {false, true}) {
        CAPTURE(leaves);
        rollup_options o;
        o.leaves = leaves;
        try {
            rollup(t, b, o);
            FAIL("no overflow_error");
        } catch (const overflow_error& e) {
            CHECK(e.where().unit == "K1");
            CHECK(e.where().field == "01A");
        }
    }
}

TEST_CASE("a secondary view never counts a unit twice", "[hierarchy]") {
    auto t = small_tree();
    report_batch b(test_form());
    for (const char* g : {"g1", "g2", "g3", "g4", "g5"}) add_report(b, g, {10, wan(1), 1, 1});
    add_report(b, "I", {1, 0, 0, 0});
    auto primary = rollup_all(t, b);
    auto secondary = rollup_all(t, b, line::secondary);

    // g2 hangs under K1 and, as a secondary child, under C1 again: counted once.
    CHECK(total(secondary, t, "C1", workers) == 30);
    CHECK(total(secondary, t, "C1", workers) == total(primary, t, "C1", workers));
    // The industry union's view: itself and its secondary children g1 and g4.
    CHECK(total(secondary, t, "I", workers) == 21);
    CHECK(total(secondary, t, "I", in_budget) == 2);
    CHECK(secondary.reports[t.index("I")] == 3);
    // g1 and g4 reach P along their primary line and again through I: counted once.
    CHECK(total(secondary, t, "P", workers) == 51);
    CHECK(total(secondary, t, "P", workers) == total(primary, t, "P", workers));
    CHECK(secondary.reports[t.index("P")] == 6);
    CHECK(total(secondary, t, "g1", own_only) == 1);
    CHECK(total(secondary, t, "I", own_only) == 0);
    CHECK(total(secondary, t, "C1", own_only) == std::nullopt);

    SECTION("on a random tree with random secondary links every total counts each reachable report once") {
        std::mt19937_64 rng(99);
        auto units = random_units(rng, 300);
        std::map<std::string, std::size_t> at;
        for (std::size_t i = 0; i < units.size(); ++i) at[units[i].id] = i;
        // Secondary parents drawn among the primary ancestors' siblings' subtrees keep it acyclic:
        // pick any unit of a strictly higher level that is not already a parent.
        for (auto& u : units) {
            if (u.level == unit_level::province || rng() % 3) continue;
            for (const auto& v : units)
                if (static_cast<int>(v.level) < static_cast<int>(u.level) && v.id != u.parent && rng() % 40 == 0) {
                    u.secondary_parents.push_back(v.id);
                    if (u.secondary_parents.size() == 2) break;
                }
        }
        auto rt = build(units);
        report_batch rb(test_form());
        for (const auto& u : units) add_report(rb, u.id, {1, 0, 0, 0});
        auto s = rollup_all(rt, rb, line::secondary);
        for (std::size_t i = 0; i < rt.size(); ++i) {
            CAPTURE(rt.id(i));
            CHECK(total(s, rt, rt.id(i), workers) == static_cast<std::int64_t>(rt.reachable(i).size()));
            CHECK(s.reports[i] == rt.reachable(i).size());
        }
    }
}

// ---------------------------------------------------------------------------------------
// check

namespace {

// Reports for every unit of `t`: grassroots figures random, every inner unit reporting
// the exact sum of its children (consistent consolidated reports).
report_batch consistent_reports(const hierarchy& t, std::mt19937_64& rng) {
    report_batch leaves(test_form());
    for (std::size_t i = 0; i < t.size(); ++i)
        if (t.is_leaf(i))
            add_report(leaves, t.id(i), {static_cast<std::int64_t>(rng() % 500), wan(0.01 * (rng() % 10000)), 1, 1});
    auto r = rollup_all(t, leaves);
    report_batch all(test_form());
    for (std::size_t i = 0; i < t.size(); ++i) add_report(all, t.id(i), {r.totals.raw(i, workers), r.totals.raw(i, funds), 1, 1});
    return all;
}

}  // namespace

TEST_CASE("consistent consolidated reports check clean", "[hierarchy]") {
    std::mt19937_64 rng(7);
    auto t = build(random_units(rng, 200));
    auto b = consistent_reports(t, rng);
    auto c = check(t, b);
    CHECK(c.imbalances().empty());
    std::size_t inner = 0;
    for (std::size_t i = 0; i < t.size(); ++i) inner += !t.is_leaf(i);
    CHECK(c.rows.size() == 2 * inner);  // two `sum` fields; flags and `none` are not compared
}

TEST_CASE("a discrepancy planted in one grassroots report is traced at every level up to the root", "[hierarchy]") {
    // A deep ragged chain with side branches: P → C → K → X → g (g grassroots) …
    const char* csv =
        "id,name,level,kind,parent\n"
        "P,省,province,regional,\n"
        "C,市,city,regional,P\n"
        "C2,市2,city,regional,P\n"
        "K,县,county,regional,C\n"
        "K2,县2,county,regional,C\n"
        "X,联合工会,grassroots,regional,K\n"
        "g,厂,grassroots,enterprise,X\n"
        "h,厂2,grassroots,enterprise,X\n"
        "k,厂3,grassroots,enterprise,K2\n"
        "m,厂4,grassroots,enterprise,C2\n"
        "n,厂5,grassroots,enterprise,P\n";
    auto t = hierarchy::parse_csv(csv);
    std::mt19937_64 rng(5);
    auto b = consistent_reports(t, rng);
    const auto g_row = static_cast<std::size_t>(b.find("g"));
    b.set_raw(g_row, funds, *b.raw(g_row, funds) + wan(3.00));  // corrected after X aggregated

    auto c = check(t, b);
    const auto top = c.find(t.index("P"), funds);
    REQUIRE(top);
    CHECK_FALSE(c.rows[*top].gap_within_tolerance);
    CHECK(c.rows[*top].within_tolerance);  // P added its children correctly
    CHECK(c.rows[*top].gap == -wan(3.00));

    auto steps = c.trace(*top);
    std::vector<std::string> units;
    for (const auto& s : steps) units.push_back(t.id(c.rows[s.row].unit));
    CHECK(units == std::vector<std::string>{"P", "C", "K", "X"});
    for (std::size_t d = 0; d < steps.size(); ++d) {
        CHECK(steps[d].depth == d);
        CHECK(c.rows[steps[d].row].gap == -wan(3.00));
    }
    const check_row& origin = c.rows[steps.back().row];
    CHECK_FALSE(origin.within_tolerance);  // the level where reported and computed diverge
    CHECK(origin.difference == -wan(3.00));
    CHECK(origin.explained_by.empty());
    // Counts were left alone: clean.
    CHECK(c.rows[*c.find(t.index("P"), workers)].gap == 0);
    CHECK(c.imbalances().size() == 4);

    SECTION("a unit that did not report passes the gap through") {
        report_batch without(test_form());
        for (std::size_t r = 0; r < b.size(); ++r)
            if (b.units()[r] != "K") add_report(without, b.units()[r], {b.raw(r, 0), b.raw(r, 1), b.raw(r, 2), b.raw(r, 3)});
        auto c2 = check(t, without);
        auto s2 = c2.trace(*c2.find(t.index("P"), funds));
        std::vector<std::string> u2;
        for (const auto& s : s2) u2.push_back(t.id(c2.rows[s.row].unit));
        CHECK(u2 == std::vector<std::string>{"P", "C", "K", "X"});
        CHECK_FALSE(c2.rows[s2[2].row].reported);
    }
    SECTION("only imbalances when asked") {
        check_options o;
        o.keep_balanced = false;
        auto c3 = check(t, b, o);
        CHECK(c3.rows.size() == 4);
    }
}

TEST_CASE("a money total off by at most 0.005 万元 per child passes, a count must be exact", "[hierarchy]") {
    auto t = hierarchy::parse_csv(
        "id,name,level,kind,parent\nK,县,county,regional,\na,a,grassroots,enterprise,K\n"
        "b,b,grassroots,enterprise,K\nc,c,grassroots,enterprise,K\n");
    report_batch b(test_form());
    add_report(b, "a", {1, wan(1.004), 1, 1});
    add_report(b, "b", {1, wan(1.004), 1, 1});
    add_report(b, "c", {1, wan(1.004), 1, 1});
    SECTION("rounded total within 3 × 0.005") {
        add_report(b, "K", {3, wan(3.02), 1, 1});
        auto c = check(t, b);
        const auto& row = c.rows[*c.find(t.index("K"), funds)];
        CHECK(row.tolerance == wan(0.015));
        CHECK(row.difference == wan(0.008));
        CHECK(row.within_tolerance);
    }
    SECTION("a total 0.02 off") {
        add_report(b, "K", {3, wan(3.032), 1, 1});
        auto c = check(t, b);
        CHECK_FALSE(c.rows[*c.find(t.index("K"), funds)].within_tolerance);
    }
    SECTION("a count one off") {
        add_report(b, "K", {4, wan(3.012), 1, 1});
        auto c = check(t, b);
        const auto& row = c.rows[*c.find(t.index("K"), workers)];
        CHECK(row.difference == 1);
        CHECK_FALSE(row.within_tolerance);
        CHECK(c.rows[*c.find(t.index("K"), funds)].within_tolerance);
    }
    SECTION("an explicit tolerance") {
        add_report(b, "K", {3, wan(3.032), 1, 1});
        check_options o;
        o.money_per_child = decimal::parse("0.01");
        CHECK(check(t, b, o).imbalances().empty());
    }
}

// ---------------------------------------------------------------------------------------
// completeness

TEST_CASE("completeness lists who has not reported and rates by level and kind", "[hierarchy]") {
    auto t = small_tree();
    report_batch b(test_form());
    for (const char* u : {"P", "C1", "g1", "g2", "g4", "ghost"}) add_report(b, u, {1, 0, 0, 0});
    auto c = completeness(t, b, "2018");
    CHECK(ids_of(t, c.missing) == std::vector<std::string>{"K1", "K2", "g3", "C2", "I", "g5"});
    CHECK(c.total.expected == 11);
    CHECK(c.total.reported == 5);
    CHECK(c.of(unit_level::grassroots).expected == 5);
    CHECK(c.of(unit_level::grassroots).reported == 3);
    CHECK(c.of(unit_level::grassroots).rate() == Approx(0.6));
    CHECK(c.of(unit_level::county).rate() == 0.0);
    CHECK(c.of(unit_level::province).rate() == 1.0);
    CHECK(c.of(unit_kind::industry).missing() == 1);
    CHECK(c.of(unit_kind::direct).expected == 1);
    CHECK(c.unknown_units == std::vector<std::string>{"ghost"});

    SECTION("of one subtree") {
        auto s = completeness(t, b, "2018", "C1");
        CHECK(ids_of(t, s.missing) == std::vector<std::string>{"K1", "K2", "g3"});
        CHECK(s.total.expected == 6);
        CHECK(s.total.rate() == Approx(0.5));
    }
    SECTION("of another period: nobody") { CHECK(completeness(t, b, "2019").total.reported == 0); }
}

// ---------------------------------------------------------------------------------------
// periods and versions

TEST_CASE("a unit that moved is taken at its place in each period", "[hierarchy]") {
    const char* csv =
        "id,name,level,kind,parent,secondary_parents,valid_from,valid_to\n"
        "Q,省,province,regional,,,,\n"
        "old,湟中县,county,regional,Q,,,2019\n"
        "new,湟中区,county,regional,Q,,2020,\n"
        "g,厂,grassroots,enterprise,old,,,2019\n"
        "g,厂,grassroots,enterprise,new,,2020,\n"
        "late,新厂,grassroots,enterprise,new,,2021-07,\n";
    auto t = hierarchy::parse_csv(csv, "moves.csv");
    CHECK(t.versioned());
    CHECK(t.size() == 5);  // each id once, at its latest version
    CHECK(t.id(t.parent(t.index("g"))) == "new");

    auto y2018 = t.at("2018");
    CHECK(y2018.size() == 3);
    CHECK(y2018.id(y2018.parent(y2018.index("g"))) == "old");
    CHECK_FALSE(y2018.contains("new"));
    auto y2021 = t.at("2021");
    CHECK(y2021.contains("late"));
    CHECK_FALSE(y2021.contains("old"));
    CHECK_FALSE(t.at("2021-06").contains("late"));

    SECTION("completeness of the period's tree expects only the units of the period") {
        report_batch b(test_form());
        add_report(b, "g", {1, 0, 0, 0}, "2018");
        auto c = completeness(y2018, b, "2018");
        CHECK(c.total.expected == 3);
        CHECK(ids_of(y2018, c.missing) == std::vector<std::string>{"Q", "old"});
        // The all-periods view holds g at its 2020 place, where it did not exist in 2018.
        CHECK(completeness(t, b, "2018").total.expected == 2);
    }
    SECTION("overlapping versions are a duplicate") {
        auto e = load_error([] {
            hierarchy::parse_csv(
                "id,name,level,kind,parent,valid_from,valid_to\nQ,q,province,regional,,,\n"
                "g,x,grassroots,enterprise,Q,2015,2019\ng,x,grassroots,enterprise,Q,2019,\n");
        });
        CHECK(e.units() == std::vector<std::string>{"g"});
        CHECK_THAT(e.what(), Catch::Contains("overlapping validity"));
    }
    SECTION("a unit outliving its parent breaks the tree of that period") {
        auto bad = hierarchy::parse_csv(
            "id,name,level,kind,parent,valid_from,valid_to\nQ,q,province,regional,,,2019\n"
            "g,x,grassroots,enterprise,Q,,\n");
        auto e = load_error([&] { bad.at("2020"); });
        CHECK(e.units() == std::vector<std::string>{"g", "Q"});
    }
}

// ---------------------------------------------------------------------------------------
// bundled sample trees

TEST_CASE("the Pingdingshan tree of seed 003 loads with its enterprises on two lines", "[hierarchy]") {
    auto t = hierarchy::read_csv(source_dir() + "/schemas/trees/pingdingshan.csv");
    REQUIRE(t.roots().size() == 1);
    CHECK(t.name(t.roots().front()) == "平顶山市总工会");
    CHECK(t.children(t.index("410400")).size() == 19);
    const auto pingmei = t.index("pds-pingmei");
    CHECK(t.kind(pingmei) == unit_kind::enterprise);
    CHECK(t.id(t.parent(pingmei)) == "410402");
    CHECK(ids_of(t, t.secondary_parents(pingmei)) == std::vector<std::string>{"410400"});
    // Every enterprise is counted once in the city's total on either line.
    report_batch b(test_form());
    for (std::size_t i = 0; i < t.size(); ++i) add_report(b, t.id(i), {1, 0, 0, 0});
    CHECK(total(rollup(t, b, line::secondary), t, "410400", workers) == static_cast<std::int64_t>(t.size()));
    CHECK(total(rollup(t, b), t, "410400", workers) == static_cast<std::int64_t>(t.size()));
    CHECK(total(rollup(t, b, line::secondary), t, "pds-gongjiao", workers) == 6);
}

TEST_CASE("the Qinghai tree has eight prefectures and is ragged and versioned", "[hierarchy]") {
    auto all = hierarchy::read_csv(source_dir() + "/schemas/trees/qinghai.csv");
    CHECK(all.versioned());
    auto t = all.at("2018");
    const auto qinghai = t.index("630000");
    std::size_t prefectures = 0, direct_grassroots = 0;
    for (auto c : t.children(qinghai)) {
        prefectures += t.level(c) == unit_level::city && t.kind(c) == unit_kind::regional;
        direct_grassroots += t.level(c) == unit_level::grassroots;
    }
    CHECK(prefectures == 8);
    CHECK(direct_grassroots >= 1);
    CHECK(t.size() > 500);
    CHECK(t.contains("630122"));  // 湟中县 in 2018
    CHECK_FALSE(t.contains("630106"));
    CHECK(all.at("2021").contains("630106"));
    CHECK(t.name(t.index("632800")) == "海西州总工会");
}

TEST_CASE("the YAML example tree loads", "[hierarchy]") {
    auto t = hierarchy::read(source_dir() + "/schemas/trees/example.yaml");
    CHECK(t.size() == 6);
    const auto demo = t.index("632801-demo");
    CHECK(t.id(t.parent(demo)) == "632801");
    CHECK(ids_of(t, t.secondary_parents(demo)) == std::vector<std::string>{"qh-nyhx"});
    CHECK_FALSE(t.at("2017").contains("632803"));
}

// ---------------------------------------------------------------------------------------
// rules

TEST_CASE("rules restricted by level see each unit's level and its children's sums", "[hierarchy]") {
    auto form = std::make_shared<form_schema>(*test_form());
    rule_def rule;
    rule.id = "tree.children_add_up";
    rule.check = "01A == children_sum(01A)";
    rule.levels = {unit_level::county, unit_level::city};
    form->rules.push_back(rule);
    form->finalize();

    auto t = small_tree();
    report_batch b(form);
    add_report(b, "g1", {10, 0, 1, 0});
    add_report(b, "g2", {20, 0, 0, 0});
    add_report(b, "g3", {5, 0, 1, 0});
    add_report(b, "K1", {30, 0, 1, 0});   // = g1 + g2
    add_report(b, "C1", {100, 0, 1, 0});  // ≠ K1 + g3 = 35
    auto in = make_rule_inputs(t, b);
    CHECK(in.levels == std::vector<unit_level>{unit_level::grassroots, unit_level::grassroots, unit_level::grassroots,
                                               unit_level::county, unit_level::city});
    CHECK(in.children.raw(3, workers) == 30);
    CHECK(in.children.raw(4, workers) == 35);
    CHECK(in.children.raw(4, in_budget) == 2);  // K1 and g3 said 是
    CHECK(in.children.raw(0, workers) == std::nullopt);
    CHECK(in.children.raw(4, own_only) == std::nullopt);

    rules::batch_options o;
    o.levels = in.levels;
    o.children = &in.children;
    auto res = rules::evaluate(form->compiled(), b, o);
    const auto& counts = res.counts[form->compiled().index("tree.children_add_up")];
    CHECK(counts.passes == 1);
    CHECK(counts.fails == 1);
    CHECK(counts.skipped == 3);

    SECTION("a report of a unit not in the tree is named") {
        add_report(b, "ghost", {1, 0, 0, 0});
        try {
            make_rule_inputs(t, b);
            FAIL("no lookup_error");
        } catch (const lookup_error& e) {
            CHECK(e.where().unit == "ghost");
        }
    }
}

// ---------------------------------------------------------------------------------------
// benchmark (hidden: run with "[.bench]"; prints figures, asserts nothing about time)

namespace {

double seconds_of(const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("roll-up at national size against one pass over the leaf columns", "[.bench]") {
    // 2.8M grassroots under ~3,400 inner units (41 provinces, 410 cities, 2,900
    // counties; 90% under counties, 8% under cities, 2% under provinces), every leaf
    // reporting the songnuan-2018 form, complete columns, listed in tree order.
    const std::size_t leaves =
        std::getenv("UNIONSTAT_BENCH_LEAVES") ? std::stoul(std::getenv("UNIONSTAT_BENCH_LEAVES")) : 2800000;
    hierarchy_builder tb;
    std::vector<std::string> leaf_ids;
    leaf_ids.reserve(leaves);
    tb.reserve(leaves + 4000);
    tb.add_unit("N", "national", unit_level::national, unit_kind::regional);
    std::vector<std::string> provinces, cities, counties;
    for (int p = 0; p < 41; ++p) provinces.push_back("P" + std::to_string(p));
    for (int c = 0; c < 410; ++c) cities.push_back("C" + std::to_string(c));
    for (int k = 0; k < 2900; ++k) counties.push_back("K" + std::to_string(k));
    std::size_t g = 0;
    auto grass = [&](const std::string& parent, std::size_t count) {
        for (std::size_t i = 0; i < count && g < leaves; ++i, ++g) {
            leaf_ids.push_back("G" + std::to_string(g));
            tb.add_unit(leaf_ids.back(), "g", unit_level::grassroots, unit_kind::enterprise, parent);
        }
    };
    for (std::size_t p = 0; p < provinces.size(); ++p) {
        tb.add_unit(provinces[p], "p", unit_level::province, unit_kind::regional, "N");
        grass(provinces[p], leaves * 2 / 100 / 41);
        for (std::size_t c = p; c < cities.size(); c += provinces.size()) {
            tb.add_unit(cities[c], "c", unit_level::city, unit_kind::regional, provinces[p]);
            grass(cities[c], leaves * 8 / 100 / 410);
            for (std::size_t k = c; k < counties.size(); k += cities.size()) {
                tb.add_unit(counties[k], "k", unit_level::county, unit_kind::regional, cities[c]);
                grass(counties[k], leaves * 90 / 100 / 2900 + 1);
            }
        }
    }
    const hierarchy t = tb.build();
    const auto form = schema_registry::bundled().get("songnuan-2018");
    report_batch b(form);
    b.set_keys(std::vector<std::string>(leaf_ids), std::vector<std::string>(leaf_ids.size(), "2018"));
    std::mt19937_64 rng(1);
    for (std::size_t f = 0; f < b.width(); ++f) {
        std::vector<std::int64_t> v(b.size());
        const bool flag = form->fields[f].type == field_type::flag;
        for (auto& x : v) x = flag ? static_cast<std::int64_t>(rng() & 1) : static_cast<std::int64_t>(rng() % 100000);
        b.set_column(f, std::move(v));
    }
    std::vector<std::size_t> fields;  // every field the roll-up reads
    for (std::size_t f = 0; f < b.width(); ++f) fields.push_back(f);

    std::int64_t checksum = 0;
    auto one_pass = [&] {
        for (std::size_t f : fields) {
            const column_view c = b.column(f);
            std::int64_t s = 0;
            if (c.narrow())
                for (std::size_t i = 0; i < b.size(); ++i) s += c.int32()[i];
            else
                for (std::size_t i = 0; i < b.size(); ++i) s += c.int64()[i];
            checksum += s;
        }
    };
    rollup_result r = rollup(t, b);  // warm: the pages of the batch and the tree
    std::vector<double> sum_t, roll_t, all_t;
    for (int rep = 0; rep < 5; ++rep) {
        sum_t.push_back(seconds_of(one_pass));
        roll_t.push_back(seconds_of([&] { r = rollup(t, b); }));
        if (rep < 2) {
            rollup_options o;
            o.leaves = true;
            all_t.push_back(seconds_of([&] { rollup(t, b, o); }));
        }
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    WARN("units " << t.size() << ", leaves " << b.size() << ", fields " << b.width() << ", inner rows " << r.units.size());
    WARN("one pass summing the leaf columns (1 thread): " << median(sum_t) * 1e3 << " ms");
    WARN("rollup (inner units): " << median(roll_t) * 1e3 << " ms = " << median(roll_t) / median(sum_t) << "x");
    WARN("rollup (leaves too):  " << median(all_t) * 1e3 << " ms");
    CHECK(r.units.size() == t.size() - b.size());
    CHECK(checksum != 0);
}

// ---------------------------------------------------------------------------------------
// a check split over parts of the data: leaf sums

namespace {

// The check's rows compared field by field.
void same_check(const check_result& a, const check_result& b) {
    REQUIRE(a.rows.size() == b.rows.size());
    for (std::size_t k = 0; k < a.rows.size(); ++k) {
        const check_row &x = a.rows[k], &y = b.rows[k];
        CAPTURE(k, x.unit, x.field);
        CHECK(x.unit == y.unit);
        CHECK(x.field == y.field);
        CHECK(x.reported == y.reported);
        CHECK(x.computed == y.computed);
        CHECK(x.difference == y.difference);
        CHECK(x.tolerance == y.tolerance);
        CHECK(x.within_tolerance == y.within_tolerance);
        CHECK(x.bottom_up == y.bottom_up);
        CHECK(x.gap == y.gap);
        CHECK(x.gap_tolerance == y.gap_tolerance);
        CHECK(x.gap_within_tolerance == y.gap_within_tolerance);
        CHECK(x.children == y.children);
        CHECK(x.explained_by == y.explained_by);
    }
}

}  // namespace

TEST_CASE("a check of the inner reports against leaf sums added over parts is the check of the whole", "[hierarchy]") {
    std::mt19937_64 rng(11);
    auto t = build(random_units(rng, 300));
    auto all = consistent_reports(t, rng);
    // Blanks, wrong figures, and leaves that did not report.
    report_batch b(test_form());
    for (std::size_t r = 0; r < all.size(); ++r) {
        if (rng() % 9 == 0) continue;
        std::vector<std::optional<std::int64_t>> v;
        for (std::size_t f = 0; f < all.width(); ++f) v.push_back(rng() % 7 == 0 ? std::nullopt : all.raw(r, f));
        if (v[funds] && rng() % 11 == 0) *v[funds] += wan(0.02 * static_cast<double>(rng() % 5));
        add_report(b, all.units()[r], v);
    }
    const check_result whole = check(t, b);
    REQUIRE_FALSE(whole.imbalances().empty());

    // Three parts of the rows, one of them empty; their leaf sums added element-wise.
    std::vector<std::vector<std::size_t>> parts(3);
    for (std::size_t r = 0; r < b.size(); ++r) parts[r % 2 == 0 ? 0 : 2].push_back(r);
    leaf_sums sum;
    std::vector<std::size_t> inner_rows;
    for (const auto& rows : parts) {
        const report_batch part = b.take(rows);
        leaf_sums s = sum_leaves(t, part, "2018");
        CHECK(s.period == "2018");
        for (auto r : s.inner_rows) inner_rows.push_back(rows[r]);
        if (sum.units.empty()) {
            sum = s;
            continue;
        }
        REQUIRE(s.units == sum.units);
        for (std::size_t k = 0; k < s.sum.size(); ++k) {
            sum.sum[k] += s.sum[k];
            sum.count[k] += s.count[k];
        }
    }
    std::sort(inner_rows.begin(), inner_rows.end());
    check_options o;
    o.leaves = &sum;
    o.period = "2018";
    same_check(check(t, b.take(inner_rows), o), whole);

    SECTION("a leaf report beside the sums is an error naming it") {
        std::size_t leaf_row = 0;
        while (!t.is_leaf(t.index(b.units()[leaf_row]))) ++leaf_row;
        inner_rows.push_back(leaf_row);
        std::sort(inner_rows.begin(), inner_rows.end());
        CHECK_THROWS_AS(check(t, b.take(inner_rows), o), value_error);
    }
    SECTION("sums of another tree are refused") {
        auto other = hierarchy::parse_csv("id,name,level,kind,parent\nK,县,county,regional,\na,a,grassroots,enterprise,K\n");
        CHECK_THROWS_AS(check(other, report_batch(test_form()), o), value_error);
    }
}

TEST_CASE("leaf sums are exact and name the parent on overflow", "[hierarchy]") {
    auto t = hierarchy::parse_csv(
        "id,name,level,kind,parent\nK,县,county,regional,\na,a,grassroots,enterprise,K\n"
        "b,b,grassroots,enterprise,K\nc,c,grassroots,enterprise,K\n");
    report_batch b(test_form());
    add_report(b, "a", {5, wan(1.25), 1, 7});
    add_report(b, "b", {std::nullopt, wan(2.5), 0, 8});
    add_report(b, "K", {100, wan(9.0), 1, 9});
    const leaf_sums s = sum_leaves(t, b);
    REQUIRE(s.units == std::vector<std::size_t>{t.index("K")});
    CHECK(s.sum[workers] == 5);
    CHECK(s.count[workers] == 1);  // b's blank is not a figure
    CHECK(s.sum[funds] == wan(3.75));
    CHECK(s.count[funds] == 2);
    CHECK(s.count[own_only] == 0);  // fields that do not add are not summed
    CHECK(s.inner_rows == std::vector<std::size_t>{2});

    report_batch big(test_form());
    add_report(big, "a", {std::int64_t(1) << 62, 0, 0, 0});
    add_report(big, "b", {std::int64_t(1) << 62, 0, 0, 0});
    try {
        sum_leaves(t, big);
        FAIL("no overflow");
    } catch (const overflow_error& e) {
        CHECK(e.where().unit == "K");
        CHECK(e.where().field == "01A");
    }
}
