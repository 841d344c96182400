#include <catch2/catch.hpp>

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "unionstat/unionstat.hpp"

using namespace unionstat;

namespace {
std::shared_ptr<const form_schema> songnuan() { return schema_registry::bundled().get("songnuan-2018"); }

std::vector<std::string> names(std::initializer_list<const char*> list) { return {list.begin(), list.end()}; }
}  // namespace

TEST_CASE("a header names the unit, the period and fields by code or key", "[io]") {
    auto f = songnuan();
    auto m = column_map::from_header(*f, names({"单位代码", "报告期", "01A", "funds_raised.local_fiscal", "备注"}), 1);
    REQUIRE(m);
    CHECK(m->unit == 0);
    CHECK(m->period == 1);
    REQUIRE(m->fields.size() == 2);
    CHECK(f->fields[m->fields[0]].code == "01A");
    CHECK(f->fields[m->fields[1]].key == "funds_raised.local_fiscal");
    CHECK(m->field_columns == std::vector<int>{2, 3});
    CHECK(m->ignored_names == std::vector<std::string>{"备注"});
    CHECK(m->problems.empty());
}

TEST_CASE("full-width codes in a header are the same codes", "[io]") {
    auto m = column_map::from_header(*songnuan(), names({"unit", "０１Ａ"}), 1);
    REQUIRE(m);
    REQUIRE(m->fields.size() == 1);
    CHECK(songnuan()->fields[m->fields[0]].code == "01A");
}

TEST_CASE("a title line is not a header", "[io]") {
    CHECK_FALSE(column_map::from_header(*songnuan(), names({"2018年工会送温暖活动统计表", "", ""}), 1));
    CHECK_FALSE(column_map::from_header(*songnuan(), names({"填报单位：西宁市总工会", ""}), 2));
    // A unit column alone names no field: still not the header of this form.
    CHECK_FALSE(column_map::from_header(*songnuan(), names({"unit", "备注"}), 1));
}

TEST_CASE("header mistakes are problems naming the columns", "[io]") {
    auto f = songnuan();
    SECTION("a code-like column that is no field") {
        auto m = column_map::from_header(*f, names({"unit", "01A", "01Z", "funds.nowhere"}), 3);
        REQUIRE(m);
        REQUIRE(m->problems.size() == 2);
        CHECK(m->problems[0].row == 3);
        CHECK(m->problems[0].column == 3);
        CHECK(m->problems[0].field == "01Z");
        CHECK(m->problems[1].field == "funds.nowhere");
    }
    SECTION("the same column twice, and a field by code and by key") {
        auto m = column_map::from_header(*f, names({"unit", "01A", "01A", "workers.total"}), 1);
        REQUIRE(m);
        REQUIRE(m->problems.size() >= 1);
        CHECK(m->problems[0].message.find("'01A' is given twice (columns 2 and 3)") != std::string::npos);
    }
    SECTION("strict refuses text columns") {
        auto m = column_map::from_header(*f, names({"unit", "01A", "填报人"}), 1, true);
        REQUIRE(m);
        REQUIRE(m->problems.size() == 1);
        CHECK(m->problems[0].field == "填报人");
        CHECK(m->ignored.empty());
    }
    SECTION("columns with no name are kept apart for the reader to check") {
        auto m = column_map::from_header(*f, names({"unit", "01A", "", ""}), 1);
        REQUIRE(m);
        CHECK(m->unnamed == std::vector<int>{2, 3});
        CHECK(m->problems.empty());
    }
}

TEST_CASE("a builder assembles chunks in order, narrow while values fit", "[io]") {
    auto f = songnuan();
    const std::size_t a = f->index("01A"), money = f->index("05A");
    batch_builder b(f, {a, money});
    auto c1 = b.make_chunk();
    auto r = c1.add_row("u1", "2018", 2);
    c1.set(0, r, 12);
    c1.add_row("u2", "2018", 3);  // all blank
    b.append(std::move(c1));
    auto c2 = b.make_chunk();
    for (int i = 0; i < 70; ++i) {  // cross a bitmap word
        auto k = c2.add_row("v" + std::to_string(i), "2018", 10 + i);
        c2.set(0, k, i);
    }
    auto last = c2.add_row("big", "2018", 99);
    c2.set(1, last, std::int64_t(1) << 40);  // money beyond 32 bits: the column widens
    b.append(std::move(c2));
    report_batch batch = b.finish();
    REQUIRE(batch.size() == 73);
    CHECK(batch.units()[0] == "u1");
    CHECK(batch.row_number(0) == 2);
    CHECK(batch.row_number(72) == 99);
    CHECK(batch.raw(0, a) == 12);
    CHECK_FALSE(batch.raw(1, a));
    CHECK(batch.raw(2 + 69, a) == 69);
    CHECK(batch.column(a).narrow());
    CHECK_FALSE(batch.column(money).narrow());
    CHECK(batch.raw(72, money) == (std::int64_t(1) << 40));
    CHECK_FALSE(batch.raw(0, money));
    // Fields the input did not carry are blank everywhere.
    CHECK(batch.is_missing(0, f->index("01B")));
}

TEST_CASE("take copies rows with their numbers, and duplicates are found in row order", "[io]") {
    auto f = songnuan();
    report_batch b(f);
    for (const char* u : {"a", "b", "a", "c", "b"}) b.add_row(u, "2018");
    b.set_raw(2, 0, 7);
    b.set_row_numbers({2, 3, 4, 5, 6});
    auto dups = find_duplicate_keys(b);
    REQUIRE(dups.size() == 2);
    CHECK(dups[0].first == 0);
    CHECK(dups[0].again == 2);
    CHECK(dups[1].first == 1);
    CHECK(dups[1].again == 4);
    report_batch t = b.take({2, 3});
    REQUIRE(t.size() == 2);
    CHECK(t.units()[0] == "a");
    CHECK(t.row_number(0) == 4);
    CHECK(t.raw(0, 0) == 7);
    CHECK_FALSE(t.raw(1, 0));
    CHECK_THROWS_AS(b.take({5}), value_error);
}

TEST_CASE("duplicates among many rows: each later row paired with the key's first row, in row order", "[io]") {
    // Enough rows that the keys spread over every bucket of the grouping pass, with keys
    // seen two and three times, the same unit in other periods, and ids of every length.
    auto f = songnuan();
    report_batch b(f);
    std::vector<std::string> units, periods;
    std::uint64_t x = 88172645463325252ULL;
    auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    const std::size_t n = 150000;
    for (std::size_t i = 0; i < n; ++i) {
        const bool again = i > 10 && next() % 20 == 0;
        if (again) {
            const std::size_t j = next() % i;
            units.push_back(units[j]);
            periods.push_back(next() % 4 == 0 ? "2019" : periods[j]);
        } else {
            units.push_back(std::to_string(next() % 100000000000ULL));
            periods.push_back(next() % 2 ? "2018" : "2019");
        }
    }
    b.set_keys(units, periods);
    std::map<std::pair<std::string, std::string>, std::size_t> first;
    std::vector<duplicate_key> want;
    for (std::size_t i = 0; i < n; ++i) {
        auto [it, fresh] = first.emplace(std::make_pair(units[i], periods[i]), i);
        if (!fresh) want.push_back({it->second, i});
    }
    REQUIRE(want.size() > 1000);
    const auto got = find_duplicate_keys(b);
    REQUIRE(got.size() == want.size());
    for (std::size_t k = 0; k < want.size(); ++k) {
        INFO("duplicate " << k);
        CHECK(got[k].first == want[k].first);
        CHECK(got[k].again == want[k].again);
    }
}
