#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "unionstat/unionstat.hpp"

using namespace unionstat;

namespace {

std::shared_ptr<const form_schema> form(const std::string& id) { return schema_registry::bundled().get(id); }

std::string crosswalk_text(const std::string& family) {
    std::ifstream in(std::string(UNIONSTAT_SOURCE_DIR) + "/schemas/crosswalks/" + family + ".yaml");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Replaces the first occurrence of `from` in `text`.
std::string with(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// 1-based line of the first occurrence of `needle`.
int line_of(const std::string& text, const std::string& needle) {
    const auto at = text.find(needle);
    REQUIRE(at != std::string::npos);
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

const concept_mapping* mapping_of(const crosswalk_result& r, const std::string& key) {
    for (const auto& m : r.mapped)
        if (m.key == key) return &m;
    return nullptr;
}

const unmapped_field* listed(const std::vector<unmapped_field>& list, const std::string& code) {
    for (const auto& u : list)
        if (u.code == code) return &u;
    return nullptr;
}

decimal value(const crosswalk_result& r, const std::string& code) {
    const std::size_t f = r.batch.form().index(code);
    auto raw = r.batch.raw(0, f);
    REQUIRE(raw);
    return decimal::from_raw(*raw, r.batch.form().fields[f].scale);
}

report dalian_2012() {
    report rep(form("songnuan-2012"), "210200", "2012");
    rep.set("01A", 1000);
    rep.set("01A_2", 300);
    rep.set("05A", decimal::parse("100"));
    rep.set("05B", decimal::parse("40.25"));  // 政府拨款
    rep.set("05C", decimal::parse("29.75"));  // 工会投入
    rep.set("05D", decimal::parse("20"));
    rep.set("05E", decimal::parse("10"));
    rep.set("07I", 12);
    rep.set("07I_2", decimal::parse("12345.67"));  // 元
    rep.set("08A", 15);                            // 名 → 人次 with a declared unit change
    rep.set("08A_2", 4);                           // 新生代农民工: only 2012/2014
    rep.set("12_1", 3);
    rep.set("13_1", 2);
    return rep;
}

}  // namespace

TEST_CASE("the bundled crosswalks load and are checked against every form they name", "[crosswalk]") {
    for (const std::string family : {"songnuan", "bangfu"}) {
        CAPTURE(family);
        auto cw = crosswalk::bundled(family);
        CHECK(cw->family == family);
        CHECK(cw->forms.size() == 4);
        for (const auto& id : cw->forms) CHECK(form(id)->family == family);
    }
    auto cw = crosswalk::bundled("songnuan");
    REQUIRE(cw->sum("funds_raised.government"));
    CHECK(cw->sum("funds_raised.government")->parts ==
          std::vector<std::string>{"funds_raised.central_fiscal", "funds_raised.local_fiscal"});
    REQUIRE(cw->same_of("funds_raised.union_funds"));
    CHECK(cw->same_of("funds_raised.union_funds")->note.find("工会投入") != std::string::npos);
    REQUIRE(cw->unit_change_of("heating.amount"));
    CHECK(cw->unit_change_of("heating.amount")->method == unit_method::rescale);
    CHECK_THROWS_AS(crosswalk::bundled("nosuchfamily"), lookup_error);
}

TEST_CASE("a 2012 Dalian report maps onto 2018 concepts", "[crosswalk]") {
    auto cw = crosswalk::bundled("songnuan");
    const report rep = dalian_2012();
    const crosswalk_result r = cw->map(rep, form("songnuan-2018"));
    REQUIRE(r.batch.size() == 1);
    CHECK(r.batch.units()[0] == "210200");
    CHECK(r.source_form == "songnuan-2012");

    SECTION("政府拨款 arrives as the sum concept funds_raised.government, beside the 2018 fields") {
        REQUIRE(r.extra.size() == 1);
        const concept_column& gov = r.extra[0];
        CHECK(gov.key == "funds_raised.government");
        CHECK(gov.unit == "万元");
        CHECK(gov.derived);
        REQUIRE(gov.raw(0));
        CHECK(decimal::from_raw(*gov.raw(0), gov.scale) == decimal::parse("40.25"));
        const auto* m = mapping_of(r, "funds_raised.government");
        REQUIRE(m);
        CHECK(m->target_code.empty());
        CHECK(m->source_codes == std::vector<std::string>{"05B"});
        // 中央财政 and 地方财政 stay blank, and say why.
        for (const std::string code : {"05B", "05C"}) {
            CAPTURE(code);
            CHECK(r.batch.is_missing(0, r.batch.form().index(code)));
            const auto* u = listed(r.unfilled, code);
            REQUIRE(u);
            CHECK(u->reason.find("funds_raised.government") != std::string::npos);
        }
    }

    SECTION("the 元 heating subsidy arrives exactly in 万元") {
        CHECK(r.batch.form().field("07J").unit == "万元");
        CHECK(value(r, "07J") == decimal::parse("1.234567"));
        const auto* m = mapping_of(r, "heating.amount");
        REQUIRE(m);
        CHECK(m->method == mapping_method::rescale);
        CHECK(m->source_codes == std::vector<std::string>{"07I_2"});
    }

    SECTION("equal concepts are copied, judgments and unit changes carry their notes") {
        CHECK(value(r, "01A") == decimal::from_int(1000));
        CHECK(value(r, "01B") == decimal::from_int(300));
        CHECK(value(r, "05D") == decimal::parse("29.75"));  // 工会投入 → 工会经费
        CHECK(mapping_of(r, "funds_raised.union_funds")->note.find("工会经费") != std::string::npos);
        CHECK(value(r, "08A") == decimal::from_int(15));
        CHECK(mapping_of(r, "rights.cases")->method == mapping_method::unit_change);
        CHECK(r.batch.is_missing(0, r.batch.form().index("04C")));  // blank stays blank
    }

    SECTION("unmappable fields are listed") {
        for (const std::string code : {"08A_2", "08B_2", "09_2", "09A_2", "09B_3", "04A_2", "08C_3", "08C_4", "12_1", "12_2",
                                       "12_3", "13_1", "13_2", "13_3"}) {
            CAPTURE(code);
            const auto* u = listed(r.unmapped, code);
            REQUIRE(u);
            CHECK(u->reason.find("songnuan-2018") != std::string::npos);
        }
        CHECK(listed(r.unmapped, "08A_2")->note.find("新生代农民工") != std::string::npos);
        CHECK(listed(r.unmapped, "08A_2")->values == 1);  // the report had a value there
        CHECK(listed(r.unmapped, "12_2")->values == 0);   // blank: nothing lost
        // 2018-only concepts are listed as unfilled.
        CHECK(listed(r.unfilled, "04C"));  // 慰问一线职工
        CHECK(listed(r.unfilled, "10M"));  // 开设购票窗口的帮扶中心
    }

    SECTION("nothing is dropped silently") {
        std::set<std::string> read;
        for (const auto& m : r.mapped) read.insert(m.source_codes.begin(), m.source_codes.end());
        const auto& src = rep.form();
        for (const auto& f : src.fields) {
            CAPTURE(f.code);
            CHECK((read.count(f.code) + (listed(r.unmapped, f.code) ? 1 : 0)) == 1);
        }
        std::set<std::string> filled;
        for (const auto& m : r.mapped) filled.insert(m.target_code);
        for (const auto& f : r.batch.form().fields) {
            CAPTURE(f.code);
            CHECK((filled.count(f.code) + (listed(r.unfilled, f.code) ? 1 : 0)) == 1);
        }
    }
}

TEST_CASE("mapping 2018 back onto 2012 fills 政府拨款 = 中央财政 + 地方财政", "[crosswalk]") {
    auto cw = crosswalk::bundled("songnuan");
    report_batch b(form("songnuan-2018"));
    report a(form("songnuan-2018"), "630000", "2018");
    a.set("05B", decimal::parse("25.5"));
    a.set("05C", decimal::parse("14.75"));
    a.set("07J", decimal::parse("1.234567"));
    report c(form("songnuan-2018"), "630100", "2018");
    c.set("05B", decimal::parse("3"));  // 地方财政 blank: the sum is unknown, so blank too
    b.append(a);
    b.append(c);
    const crosswalk_result r = cw->map(b, form("songnuan-2012"));
    REQUIRE(r.batch.size() == 2);
    CHECK(r.extra.empty());  // 2012 prints 政府拨款 itself
    const std::size_t gov = r.batch.form().index("05B");
    REQUIRE(r.batch.raw(0, gov));
    CHECK(decimal::from_raw(*r.batch.raw(0, gov), 6) == decimal::parse("40.25"));
    CHECK(r.batch.is_missing(1, gov));
    const auto* m = mapping_of(r, "funds_raised.government");
    REQUIRE(m);
    CHECK(m->method == mapping_method::sum);
    CHECK(m->source_codes == std::vector<std::string>{"05B", "05C"});
    // 1.234567 万元 → 12345.67 元, exactly.
    const std::size_t heat = r.batch.form().index("07I_2");
    CHECK(decimal::from_raw(*r.batch.raw(0, heat), 2) == decimal::parse("12345.67"));
    // 2018-only lines are listed, 2012-only lines unfilled.
    CHECK(listed(r.unmapped, "04C"));
    CHECK(listed(r.unfilled, "12_1"));
    CHECK_FALSE(listed(r.unmapped, "05B"));
}

TEST_CASE("mapping 2015 onto 2018 also derives the sum concept", "[crosswalk]") {
    auto cw = crosswalk::bundled("songnuan");
    report rep(form("songnuan-2015"), "420100", "2015");
    rep.set("05B", decimal::parse("1.5"));
    rep.set("05C", decimal::parse("2.25"));
    const crosswalk_result r = cw->map(rep, form("songnuan-2018"));
    REQUIRE(r.extra.size() == 1);
    CHECK(decimal::from_raw(*r.extra[0].raw(0), r.extra[0].scale) == decimal::parse("3.75"));
    CHECK(r.unmapped.empty());
}

TEST_CASE("a bad crosswalk file names file, line and column", "[crosswalk]") {
    const auto& reg = schema_registry::bundled();
    const std::string good = crosswalk_text("songnuan");
    REQUIRE_NOTHROW(load_crosswalk_text(good, reg, "songnuan.yaml"));

    SECTION("an unknown key") {
        const std::string bad = with(good, "    method: rescale", "    methd: rescale");
        try {
            load_crosswalk_text(bad, reg, "bad.yaml");
            FAIL("no error");
        } catch (const schema_error& e) {
            CHECK(e.where().file == "bad.yaml");
            CHECK(e.where().line == line_of(bad, "methd:"));
            CHECK(e.where().column == 5);
            CHECK(std::string(e.what()).find("bad.yaml:" + std::to_string(e.where().line) + ":5") == 0);
            CHECK(e.message().find("methd") != std::string::npos);
        }
    }
    SECTION("a concept no form carries") {
        const std::string bad = with(good, "parts: [funds_raised.central_fiscal,", "parts: [funds_raised.centrl_fiscal,");
        try {
            load_crosswalk_text(bad, reg, "bad.yaml");
            FAIL("no error");
        } catch (const schema_error& e) {
            CHECK(e.where().line == line_of(bad, "centrl_fiscal"));
            CHECK(e.message().find("centrl_fiscal") != std::string::npos);
        }
    }
    SECTION("an only_in list that does not match the forms") {
        const std::string bad = with(good, "forms: [songnuan-2014]", "forms: [songnuan-2015]");
        try {
            load_crosswalk_text(bad, reg, "bad.yaml");
            FAIL("no error");
        } catch (const schema_error& e) {
            CHECK(e.where().line == line_of(bad, "keys: [publicity.party_congress_study_events]"));
            CHECK(e.message().find("songnuan-2014") != std::string::npos);
        }
    }
    SECTION("a concept on some forms only that the crosswalk does not declare") {
        const std::string bad = with(good,
                                     "  - keys: [publicity.party_congress_study_events]\n    forms: [songnuan-2014]\n"
                                     "    note: 组织召开学习宣传十八大精神会议（活动）__场次 is asked only in 2014 (07A).\n",
                                     "");
        try {
            load_crosswalk_text(bad, reg, "bad.yaml");
            FAIL("no error");
        } catch (const schema_error& e) {
            CHECK(e.where().line == line_of(bad, "forms: [songnuan-2012"));
            CHECK(e.message().find("publicity.party_congress_study_events") != std::string::npos);
        }
    }
    SECTION("a unit change that is not declared") {
        const std::string bad =
            with(good, "  - key: heating.amount\n    method: rescale\n", "  - key: heating.households\n    method: copy\n");
        CHECK_THROWS_AS(load_crosswalk_text(bad, reg, "bad.yaml"), schema_error);
    }
    SECTION("YAML syntax") {
        try {
            load_crosswalk_text("family: songnuan\nforms: [a, b\n", reg, "bad.yaml");
            FAIL("no error");
        } catch (const schema_error& e) {
            CHECK(e.where().line >= 2);
            CHECK(e.message().find("YAML") != std::string::npos);
        }
    }
}

TEST_CASE("mapping onto a form of another family is a lookup error", "[crosswalk]") {
    auto cw = crosswalk::bundled("songnuan");
    report rep(form("songnuan-2012"), "u", "2012");
    CHECK_THROWS_AS(cw->map(rep, form("bangfu-2017")), lookup_error);
}

TEST_CASE("bangfu reports map across every pair of versions without loss of shared concepts", "[crosswalk]") {
    auto cw = crosswalk::bundled("bangfu");
    for (const auto& from : cw->forms)
        for (const auto& to : cw->forms) {
            CAPTURE(from, to);
            report rep(form(from), "u", "p");
            for (const auto& f : rep.form().fields) rep.set(f.code, f.type == field_type::flag ? 1 : 7);
            const crosswalk_result r = cw->map(rep, form(to));
            for (const auto& f : r.batch.form().fields) {
                if (!cw->find(rep.form(), f.key)) continue;
                CAPTURE(f.code);
                REQUIRE(r.batch.raw(0, r.batch.form().index(f.code)));
                CHECK(decimal::from_raw(*r.batch.raw(0, r.batch.form().index(f.code)), f.scale) ==
                      decimal::from_int(f.type == field_type::flag ? 1 : 7));
            }
            if (from == to) {
                CHECK(r.unmapped.empty());
                CHECK(r.unfilled.empty());
            }
        }
}

TEST_CASE("an alias declares that two keys name one concept", "[crosswalk]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / "unionstat_crosswalk_alias";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string forms_dir = std::string(UNIONSTAT_SOURCE_DIR) + "/schemas/forms/";
    for (const std::string id : {"songnuan-2015", "songnuan-2018"}) {
        std::ifstream in(forms_dir + id + ".yaml");
        std::string text(std::istreambuf_iterator<char>(in), {});
        if (id == "songnuan-2015") text = with(text, "key: visits.frontline_workers", "key: visits.frontline_staff");
        std::ofstream(dir / (id + ".yaml")) << text;
    }
    const schema_registry reg(dir.string());
    const std::string base = "family: songnuan\nforms: [songnuan-2015, songnuan-2018]\n";

    // Without the alias, the two keys are two concepts each on one form only: refused.
    try {
        load_crosswalk_text(base, reg, "alias.yaml");
        FAIL("no error");
    } catch (const schema_error& e) {
        CHECK(e.where().line == 2);
        CHECK(e.message().find("visits.frontline") != std::string::npos);
    }

    auto cw = load_crosswalk_text(base +
                                      "same:\n  - key: visits.frontline_workers\n    aliases: [visits.frontline_staff]\n"
                                      "    note: renamed in one year\n",
                                  reg, "alias.yaml");
    CHECK(cw->canonical("visits.frontline_staff") == "visits.frontline_workers");
    report rep(reg.get("songnuan-2015"), "u", "2015");
    rep.set("04C", 120);
    const crosswalk_result r = cw->map(rep, reg.get("songnuan-2018"));
    CHECK(decimal::from_raw(*r.batch.raw(0, r.batch.form().index("04C")), 0) == decimal::from_int(120));
    CHECK(r.unmapped.empty());
    CHECK(r.unfilled.empty());
    fs::remove_all(dir);
}
