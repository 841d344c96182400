#include <catch2/catch.hpp>

#include <fstream>
#include <limits>

#include "form_text.hpp"
#include "unionstat/unionstat.hpp"

using namespace unionstat;

namespace {
std::shared_ptr<const form_schema> form(const std::string& id) { return schema_registry::bundled().get(id); }

using unionstat_test::songnuan_2018_text;
using unionstat_test::with;
}  // namespace

TEST_CASE("all eight bundled forms load and compile their rules", "[forms]") {
    const auto ids = schema_registry::bundled().ids();
    REQUIRE(ids.size() == 8);
    for (const auto& id : ids) {
        CAPTURE(id);
        auto f = form(id);
        CHECK(f->id == id);
        CHECK(f->compiled().size() == f->rules.size());
    }
}

TEST_CASE("songnuan-2018 has the 60 blanks of the Qinghai form", "[forms]") {
    auto f = form("songnuan-2018");
    REQUIRE(f->fields.size() == 60);
    CHECK(f->fields.front().code == "01A");
    CHECK(f->fields.back().code == "11A");
    CHECK(f->field("05C").key == "funds_raised.local_fiscal");
    CHECK(f->field("funds_raised.local_fiscal").code == "05C");
    CHECK(f->field("05C").part_of == "05A");
    CHECK(f->field("05C").scale == 6);
    CHECK(f->field("07I").unit == "户");
}

TEST_CASE("the forms carry their notices' deadlines and signature lines as printed", "[forms]") {
    CHECK(form("songnuan-2012")->deadline == "2012-01-08");
    CHECK(form("bangfu-2011")->deadline == "2012-01-08");
    CHECK(form("songnuan-2015")->deadline.empty());  // Wuhan's 于201521日前 is not guessed
    CHECK(form("bangfu-2011")->signature.unit == "填表单位");
    CHECK(form("bangfu-2011")->signature.reporter == "填表人");
    CHECK(form("songnuan-2018")->signature.unit == "填报单位");
    CHECK(form("songnuan-2015")->signature.phone == "聯系電話");
    CHECK(form("songnuan-2015")->signature.date.empty());  // no date line printed
    const auto text = with(songnuan_2018_text(), "phone: 联系电话, ", "telephone: 联系电话, ");
    try {
        load_form_text(text, "sig.yaml");
        FAIL("an unknown signature key loaded");
    } catch (const schema_error& e) {
        CHECK(e.where().file == "sig.yaml");
        CHECK(e.where().line == 18);
        CHECK_THAT(e.what(), Catch::Contains("sig.yaml:18:") && Catch::Contains("telephone"));
    }
}

TEST_CASE("every 其中 becomes a part_of rule", "[forms]") {
    auto f = form("songnuan-2018");
    std::size_t part_of = 0, groups = 0;
    for (const auto& r : f->rules) {
        part_of += r.origin == rule_origin::part_of;
        groups += r.origin == rule_origin::group;
    }
    std::size_t declared = 0;
    for (const auto& fd : f->fields) declared += !fd.part_of.empty();
    CHECK(part_of == declared);
    CHECK(groups == f->groups.size());
}

TEST_CASE("a rule and a group keep their note, and a group's severity reaches its rule", "[forms]") {
    // The basis of a plausibility bound lives in its rule's note (issue 16).
    const auto* bound = &form("bangfu-2014")->rules.front();
    for (const auto& r : form("bangfu-2014")->rules)
        if (r.id == "bangfu.assistance_living_relief_per_person") bound = &r;
    REQUIRE(bound->id == "bangfu.assistance_living_relief_per_person");
    CHECK(bound->sev == severity::warning);
    CHECK_THAT(bound->note, Catch::StartsWith("Plausibility bound, not printed"));
    // Overlapping 其中 lists are warnings, and the generated rule carries the group's note.
    for (const auto& id : {"songnuan-2012", "songnuan-2014", "songnuan-2015", "songnuan-2018"}) {
        CAPTURE(id);
        auto f = form(id);
        for (const auto& group : {"hardship_households_by_cause", "funds_paid_to_groups"}) {
            CAPTURE(group);
            const rule_def* r = nullptr;
            for (const auto& rd : f->rules)
                if (rd.id == std::string("songnuan.group.") + group) r = &rd;
            REQUIRE(r);
            CHECK(r->sev == severity::warning);
            CHECK_FALSE(r->note.empty());
        }
    }
    // A note on a rule written in a schema file is kept as written.
    const auto text = with(songnuan_2018_text(), "note: \"Plausibility bound, not printed: no notice sets a heating-subsidy",
                           "note: \"a test note: no notice sets a heating-subsidy");
    auto f = load_form_text(text, "note.yaml");
    const rule_def* r = nullptr;
    for (const auto& rd : f->rules)
        if (rd.id == "songnuan.heating_per_household") r = &rd;
    REQUIRE(r);
    CHECK_THAT(r->note, Catch::StartsWith("a test note: no notice sets a heating-subsidy standard."));
}

TEST_CASE("a misspelt key in a schema file fails with its line and column", "[forms][errors]") {
    const std::string text = with(songnuan_2018_text(), "  attachment: 附件1", "  atachment: 附件1");
    try {
        load_form_text(text, "bad.yaml");
        FAIL("no error");
    } catch (const schema_error& e) {
        CHECK(e.where().file == "bad.yaml");
        CHECK(e.where().line == 15);
        CHECK(e.where().column == 3);
        CHECK_THAT(e.what(), Catch::Contains("bad.yaml:15:3") && Catch::Contains("unknown key 'atachment'"));
    }
}

TEST_CASE("schema mistakes are refused with the place named", "[forms][errors]") {
    const std::string base = songnuan_2018_text();
    SECTION("a duplicate field code") {
        const std::string text = with(base, "{code: 01B, row: \"01\", letter: B,", "{code: 01A, row: \"01\", letter: A,");
        CHECK_THROWS_WITH(load_form_text(text, "dup.yaml"),
                          Catch::Contains("dup.yaml:") && Catch::Contains("duplicate field code '01A'"));
    }
    SECTION("a part_of naming no field") {
        const std::string text = with(base, "part_of: 01A}", "part_of: 01Z}");
        CHECK_THROWS_WITH(load_form_text(text, "p.yaml"),
                          Catch::Contains("p.yaml:") && Catch::Contains("'01Z' is not a field code"));
    }
    SECTION("a wrong type") {
        const std::string text = with(base, "type: count, unit: 人}", "type: counter, unit: 人}");
        CHECK_THROWS_WITH(load_form_text(text, "t.yaml"),
                          Catch::Contains("t.yaml:") && Catch::Contains("type must be count, money or flag"));
    }
    SECTION("a money field in a count unit") {
        const std::string text = with(base, "type: money, unit: 万元}", "type: money, unit: 人}");
        CHECK_THROWS_WITH(load_form_text(text, "u.yaml"), Catch::Contains("does not fit a money field"));
    }
    SECTION("a rule that references a missing field") {
        const std::string text = with(base, "check: \"02A <= 01A\"", "check: \"02A <= 01Q\"");
        try {
            load_form_text(text, "r.yaml");
            FAIL("no error");
        } catch (const rules::rule_error& e) {
            REQUIRE(e.diagnostics().size() == 1);
            CHECK(e.diagnostics()[0].rule == "songnuan.hardship_workers_within_workers");
            CHECK(e.diagnostics()[0].column == 8);
            CHECK_THAT(e.what(), Catch::Contains("unknown field '01Q'") && Catch::Contains("r.yaml:"));
        }
    }
    SECTION("broken YAML") {
        CHECK_THROWS_WITH(load_form_text("id: [unclosed\n", "y.yaml"),
                          Catch::Contains("y.yaml:") && Catch::Contains("YAML syntax"));
    }
}

TEST_CASE("a report keeps blanks distinct from zero", "[forms]") {
    auto f = form("songnuan-2018");
    report r(f, "630100", "2018");
    CHECK_FALSE(r.get("01A").has_value());
    r.set("01A", 0);
    REQUIRE(r.get("01A").has_value());
    CHECK(*r.get("01A") == decimal::from_int(0));
    r.set_text("05A", "1,234.56");
    CHECK(r.get("05A")->to_string(true) == "1234.56");
}

TEST_CASE("bad values name the unit and the field", "[forms][errors]") {
    auto f = form("songnuan-2018");
    report r(f, "630100", "2018");
    try {
        r.set_text("05C", "1.2345678");
        FAIL("no error");
    } catch (const value_error& e) {
        CHECK(e.where().field == "05C");
        CHECK(e.where().unit == "630100");
    }
    CHECK_THROWS_WITH(r.set("01A", -1), Catch::Contains("field 01A") && Catch::Contains("negative"));
    CHECK_THROWS_WITH(r.set("01A", decimal::parse("1.5")), Catch::Contains("field 01A") && Catch::Contains("whole"));
    CHECK_THROWS_AS(r.set("99Z", 1), lookup_error);
}

TEST_CASE("a batch stores columns with a missing bitmap", "[forms][batch]") {
    auto f = form("songnuan-2018");
    report_batch b(f);
    const std::size_t a01 = f->index("01A");
    for (int i = 0; i < 130; ++i) {
        const auto row = b.add_row("u" + std::to_string(i), "2018");
        if (i % 3) b.set_raw(row, a01, i);
    }
    REQUIRE(b.size() == 130);
    CHECK(b.is_missing(0, a01));
    CHECK_FALSE(b.is_missing(1, a01));
    CHECK(b.column(a01)[128] == 128);
    CHECK(b.row(4).get("01A") == decimal::from_int(4));
    try {
        b.set_text(7, a01, "约100");
        FAIL("no error");
    } catch (const value_error& e) {
        CHECK(e.where().row == 7);
        CHECK(e.where().unit == "u7");
        CHECK(e.where().field == "01A");
    }
}

TEST_CASE("a column has a missing bitmap exactly while a cell is blank", "[forms][batch]") {
    // Kernels take faster paths for columns without blanks: the bitmap must go away
    // when the last blank is filled, and come back with the next one.
    auto f = form("songnuan-2018");
    report_batch b(f);
    for (int i = 0; i < 70; ++i) b.add_row("u" + std::to_string(i), "2018");
    CHECK(b.missing_bits(0) != nullptr);
    for (std::size_t r = 0; r < 70; ++r) b.set_raw(r, 0, 1);
    CHECK(b.missing_bits(0) == nullptr);
    b.set_raw(5, 0, 2);  // already filled: still none
    CHECK(b.missing_bits(0) == nullptr);
    b.set_missing(69, 0);
    b.set_missing(69, 0);  // twice: one blank
    REQUIRE(b.missing_bits(0) != nullptr);
    CHECK(b.is_missing(69, 0));
    b.set_raw(69, 0, 3);
    CHECK(b.missing_bits(0) == nullptr);
    b.add_row("u70", "2018");
    CHECK(b.is_missing(70, 0));
    std::vector<std::string> units(b.units().begin(), b.units().begin() + 70);
    b.set_keys(units, {});  // the blank row cut off
    CHECK(b.missing_bits(0) == nullptr);
    b.set_column(1, std::vector<std::int64_t>(70, 4), {std::uint64_t(0), std::uint64_t(1) << 63});  // bit past the end
    CHECK(b.missing_bits(1) == nullptr);
}

TEST_CASE("growing a batch marks exactly the new rows blank", "[forms][batch]") {
    auto f = form("songnuan-2018");
    for (std::size_t old_n : {0u, 3u, 64u, 70u}) {
        for (std::size_t new_n : {old_n + 1, old_n + 60, old_n + 200}) {
            report_batch b(f);
            std::vector<std::string> units(old_n, "u");
            b.set_keys(units, {});
            for (std::size_t r = 0; r < old_n; ++r) b.set_raw(r, 0, 1);
            units.resize(new_n, "v");
            b.set_keys(units, {});
            for (std::size_t r = 0; r < new_n; ++r) {
                CAPTURE(old_n, new_n, r);
                CHECK(b.is_missing(r, 0) == (r >= old_n));
            }
        }
    }
}

TEST_CASE("a column is held in 32 bits while its values fit and widens at the first that does not", "[forms][batch][width]") {
    auto f = form("songnuan-2018");
    const std::size_t a01 = f->index("01A"), a05 = f->index("05A");
    report_batch b(f);
    for (int i = 0; i < 100; ++i) b.add_row("u" + std::to_string(i), "2018");
    CHECK(b.column(a01).narrow());  // blank columns start narrow
    const std::int64_t top = std::numeric_limits<std::int32_t>::max(), bottom = std::numeric_limits<std::int32_t>::min();
    b.set_raw(0, a01, top);
    b.set_raw(1, a01, bottom);
    b.set_raw(2, a01, 7);
    REQUIRE(b.column(a01).narrow());
    CHECK(b.column(a01).bits() == 32);
    CHECK(b.raw(0, a01) == top);
    CHECK(b.raw(1, a01) == bottom);
    b.set_raw(3, a01, top + 1);  // one past: the column widens, every value kept
    REQUIRE_FALSE(b.column(a01).narrow());
    CHECK(b.column(a01).bits() == 64);
    CHECK(b.raw(0, a01) == top);
    CHECK(b.raw(1, a01) == bottom);
    CHECK(b.raw(2, a01) == 7);
    CHECK(b.raw(3, a01) == top + 1);
    CHECK_FALSE(b.raw(4, a01).has_value());
    b.set_raw(3, a01, 1);  // widening is for good: no flip-flopping on every write
    CHECK_FALSE(b.column(a01).narrow());
    b.add_row("u100", "2018");
    CHECK(b.is_missing(100, a01));
    b.set_raw(100, a05, bottom - 1);  // negative too (a money column)
    CHECK_FALSE(b.column(a05).narrow());
    CHECK(b.raw(100, a05) == bottom - 1);
    CHECK(b.column(f->index("01B")).narrow());  // other columns are untouched
}

TEST_CASE("set_column narrows on the values that are not blank", "[forms][batch][width]") {
    auto f = form("songnuan-2018");
    report_batch b(f);
    b.set_keys({"a", "b", "c"}, {});
    const std::int64_t huge = std::int64_t(1) << 40;
    b.set_column(0, {5, huge, 6}, {std::uint64_t(2)});  // the huge value is under a blank
    CHECK(b.column(0).narrow());
    CHECK(b.raw(0, 0) == 5);
    CHECK_FALSE(b.raw(1, 0).has_value());
    CHECK(b.raw(2, 0) == 6);
    b.set_column(1, {5, huge, 6});
    CHECK_FALSE(b.column(1).narrow());
    CHECK(b.raw(1, 1) == huge);
}

TEST_CASE("compact narrows borrowed 64-bit columns that fit and leaves the others", "[forms][batch][width]") {
    auto f = form("songnuan-2018");
    report_batch b(f);
    const std::size_t n = 130;
    std::vector<std::string> units;
    for (std::size_t i = 0; i < n; ++i) units.push_back("u" + std::to_string(i));
    b.set_keys(units, {});
    auto small = std::make_shared<std::vector<std::int64_t>>(n), big = std::make_shared<std::vector<std::int64_t>>(n);
    for (std::size_t i = 0; i < n; ++i) {
        (*small)[i] = static_cast<std::int64_t>(i * i) - 1000;
        (*big)[i] = static_cast<std::int64_t>(i) << 33;
    }
    std::vector<std::uint64_t> blank_row_64{0, 1, 0};  // row 64 blank
    b.borrow_column(0, small->data(), small, blank_row_64);
    b.borrow_column(1, big->data(), big);
    REQUIRE_FALSE(b.column(0).narrow());
    const std::size_t before = b.compact();
    CHECK(before >= 1);
    CHECK(b.column(0).narrow());
    CHECK_FALSE(b.column(1).narrow());
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        if (i == 64) CHECK_FALSE(b.raw(i, 0).has_value());
        else CHECK(b.raw(i, 0) == (*small)[i]);
        CHECK(b.raw(i, 1) == (*big)[i]);
    }
    (*small)[0] = 99;  // no longer borrowed: the copy does not see the buffer change
    CHECK(b.raw(0, 0) == -1000);
    CHECK(b.compact() == 0);  // nothing left to narrow
}

TEST_CASE("a borrowed 32-bit column is held narrow and copied before a write", "[forms][batch][width]") {
    auto f = form("songnuan-2018");
    report_batch b(f);
    b.set_keys({"a", "b"}, {});
    auto v = std::make_shared<std::vector<std::int32_t>>(std::vector<std::int32_t>{3, -4});
    b.borrow_column(0, v->data(), v);
    REQUIRE(b.column(0).narrow());
    CHECK(b.column(0).int32() == v->data());  // no copy
    b.set_raw(1, 0, 8);
    CHECK((*v)[1] == -4);  // the lender's buffer is never written
    CHECK(b.raw(1, 0) == 8);
    CHECK(b.raw(0, 0) == 3);
    std::vector<std::string> units(65, "u");
    b.set_keys(units, {});  // 65 rows: a bitmap of one word is too short
    auto longer = std::make_shared<std::vector<std::int32_t>>(65, 1);
    CHECK_THROWS_WITH(b.borrow_column(0, longer->data(), longer, {std::uint64_t(1)}),
                      Catch::Contains("bitmap too short") && Catch::Contains("01A"));
}

TEST_CASE("a copied batch owns its copies of the owned columns", "[forms][batch]") {
    auto f = form("songnuan-2018");
    report_batch b(f);
    b.add_row("a", "2018");
    b.set_raw(0, 0, 1);
    b.set_raw(0, 1, std::int64_t(1) << 40);
    report_batch c(b);
    b.set_raw(0, 0, 2);
    b.set_raw(0, 1, 3);
    CHECK(c.raw(0, 0) == 1);
    CHECK(c.raw(0, 1) == std::int64_t(1) << 40);
    report_batch d(f);
    d = c;
    c = report_batch(f);
    CHECK(d.raw(0, 1) == std::int64_t(1) << 40);
}
