#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "batch_widths.hpp"
#include "unionstat/unionstat.hpp"

using namespace unionstat;
using namespace unionstat::rules;

namespace {

std::shared_ptr<const form_schema> songnuan() { return schema_registry::bundled().get("songnuan-2018"); }

// A small form built in code, with one rule under test.
std::shared_ptr<form_schema> tiny(const std::string& check, std::optional<missing_strategy> missing = std::nullopt) {
    auto f = std::make_shared<form_schema>();
    f->id = "songnuan-2099";
    f->family = "songnuan";
    f->rows = {{"01", "", ""}, {"05", "", ""}};
    auto add = [&](const std::string& code, field_type t, const std::string& unit, const std::string& key) {
        field_def d;
        d.code = code;
        d.row = code.substr(0, 2);
        d.letter = code.substr(2, 1);
        d.key = key;
        d.label = key;
        d.label_en = key;
        d.type = t;
        d.unit = unit;
        d.decimals = t == field_type::money ? 2 : 0;
        f->fields.push_back(d);
    };
    add("01A", field_type::count, "人", "workers.total");
    add("01B", field_type::count, "人", "workers.migrant");
    add("01C", field_type::count, "人次", "services.total");
    for (const char* c : {"05A", "05B", "05C", "05D", "05E", "05F"})
        add(c, field_type::money, "万元", std::string("funds.f") + c);
    rule_def r;
    r.id = "songnuan.under_test";
    r.check = check;
    r.missing = missing;
    f->rules.push_back(r);
    f->finalize();
    return f;
}

status run(const std::shared_ptr<form_schema>& f, std::initializer_list<std::pair<const char*, const char*>> values) {
    report r(f, "u1", "2018");
    for (const auto& [k, v] : values) r.set_text(k, v);
    return evaluate(f->compiled(), r).outcomes.at(0).st;
}

using check_list = std::vector<std::pair<std::string, std::optional<missing_strategy>>>;

// Replaces the form's rules by `checks` (ids prefix0, prefix1, ...) and compiles them.
const rule_set& with_rules(form_schema& f, const std::string& prefix, const check_list& checks) {
    f.rules.clear();
    for (std::size_t i = 0; i < checks.size(); ++i) {
        rule_def r;
        r.id = prefix + std::to_string(i);
        r.check = checks[i].first;
        r.missing = checks[i].second;
        f.rules.push_back(r);
    }
    f.finalize();
    REQUIRE(f.compiled().size() == checks.size());
    return f.compiled();
}

// The batch VM (one and two threads; the columns as built, all 64-bit and compacted)
// gives every (row, rule) the status the one-report path gives row `row` (`singles`);
// every rule passes somewhere and fails somewhere, or errs somewhere for the rules in
// `overflowing`.
void require_paths_agree(const rule_set& rules, const report_batch& built, const std::vector<report_result>& singles,
                         const std::set<std::string>& overflowing = {}) {
    using testing::storage;
    std::vector<std::int64_t> lhs, rhs;  // of the first run: every other must report the same sides
    for (storage kind : {storage::as_built, storage::wide, storage::compact})
        for (unsigned threads : {1u, 2u}) {
            const report_batch batch = testing::with_storage(built, kind);
            CAPTURE(testing::to_string(kind), batch_kernels());
            batch_options opt;
            opt.keep_passes = true;
            opt.keep_skipped = true;
            opt.threads = threads;
            const batch_result res = evaluate(rules, batch, opt);
            REQUIRE(res.size() == singles.size() * rules.size());
            if (lhs.empty()) lhs = res.lhs, rhs = res.rhs;
            CHECK(res.lhs == lhs);
            CHECK(res.rhs == rhs);
            std::vector<std::array<std::size_t, 4>> seen(rules.size());
            for (std::size_t i = 0; i < res.size(); ++i) {
                const rule_outcome& one = singles[res.row[i]].outcomes[res.rule[i]];
                if (one.st != res.st[i]) {
                    CAPTURE(threads, res.row[i], rules[res.rule[i]].def().check, to_string(one.st), to_string(res.st[i]));
                    FAIL("paths disagree");
                }
                ++seen[res.rule[i]][static_cast<std::size_t>(one.st)];
            }
            for (std::size_t r = 0; r < rules.size(); ++r) {  // both outcomes occur for every rule
                CAPTURE(rules[r].def().check);
                CHECK(seen[r][static_cast<std::size_t>(status::pass)] > 0);
                if (!overflowing.count(rules[r].def().check)) CHECK(seen[r][static_cast<std::size_t>(status::fail)] > 0);
                else CHECK(seen[r][static_cast<std::size_t>(status::error)] > 0);
            }
        }
}

}  // namespace

TEST_CASE("a 5-term 万元 balance off by 0.02 passes by default and off by 0.03 fails", "[rules]") {
    auto f = tiny("05A == 05B + 05C + 05D + 05E + 05F");
    auto with_total = [&](const char* total) {
        return run(f, {{"05A", total}, {"05B", "1"}, {"05C", "2"}, {"05D", "3"}, {"05E", "4"}, {"05F", "5"}});
    };
    CHECK(with_total("15") == status::pass);
    CHECK(with_total("15.02") == status::pass);
    CHECK(with_total("14.98") == status::pass);
    CHECK(with_total("15.025") == status::pass);  // exactly 5 × 0.005
    CHECK(with_total("15.03") == status::fail);
    CHECK(with_total("14.97") == status::fail);
}

TEST_CASE("sum() ranges balance like written-out terms", "[rules]") {
    auto f = tiny("05A == sum(05B:05F)");
    CHECK(run(f, {{"05A", "15.02"}, {"05B", "1"}, {"05C", "2"}, {"05D", "3"}, {"05E", "4"}, {"05F", "5"}}) == status::pass);
    CHECK(run(f, {{"05A", "15.03"}, {"05B", "1"}, {"05C", "2"}, {"05D", "3"}, {"05E", "4"}, {"05F", "5"}}) == status::fail);
}

TEST_CASE("an explicit tolerance replaces the default", "[rules]") {
    auto f = std::const_pointer_cast<form_schema>(tiny("05A == 05B + 05C"));
    f->rules[0].tolerance = decimal::parse("0.1");
    f->finalize();
    CHECK(run(f, {{"05A", "3.09"}, {"05B", "1"}, {"05C", "2"}}) == status::pass);
    CHECK(run(f, {{"05A", "3.11"}, {"05B", "1"}, {"05C", "2"}}) == status::fail);
}

TEST_CASE("count equalities are exact", "[rules]") {
    auto f = tiny("01A == 01B + 1");
    CHECK(run(f, {{"01A", "101"}, {"01B", "100"}}) == status::pass);
    CHECK(run(f, {{"01A", "102"}, {"01B", "100"}}) == status::fail);
}

TEST_CASE("a one-to-one money comparison has no tolerance", "[rules]") {
    auto f = tiny("05B <= 05A");
    CHECK(run(f, {{"05A", "1.00"}, {"05B", "1.00"}}) == status::pass);
    CHECK(run(f, {{"05A", "1.00"}, {"05B", "1.000001"}}) == status::fail);
}

TEST_CASE("division by a constant stays exact", "[rules]") {
    auto f = tiny("05A / 3 <= 05B");
    CHECK(run(f, {{"05A", "1"}, {"05B", "0.333334"}}) == status::pass);
    CHECK(run(f, {{"05A", "1"}, {"05B", "0.333333"}}) == status::fail);
}

TEST_CASE("overflow inside a rule is that rule's error result naming it", "[rules]") {
    auto f = tiny("01A * 10000000000 <= 01B");
    report r(f, "u1", "2018");
    r.set("01A", 9000000000LL);
    r.set("01B", 1);
    const auto res = evaluate(f->compiled(), r);
    REQUIRE(res.outcomes.size() == 1);
    CHECK(res.outcomes[0].st == status::error);
    CHECK(res.outcomes[0].why == reason::overflow);
    CHECK(res.outcomes[0].rule_id == "songnuan.under_test");
    CHECK_FALSE(res.ok());
}

TEST_CASE("a product with a constant overflows exactly at the int64 bounds, in both paths", "[rules]") {
    // The batch VM scales by a constant with precomputed bounds: they must be exact,
    // including the one product that reaches INT64_MIN.
    constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
    struct product {
        const char* check;
        std::int64_t value;
        status expect;
    };
    const product cases[] = {
        {"01A * 2 <= 01B", lo / 2, status::pass},                                                  // exactly INT64_MIN
        {"01A * 2 <= 01B", lo / 2 - 1, status::error},  {"01A * 2 <= 01B", hi / 2, status::fail},  // hi - 1 > 0
        {"01A * 2 <= 01B", hi / 2 + 1, status::error},  {"01A * -1 <= 01B", lo, status::error},
        {"01A * -1 <= 01B", lo + 1, status::fail},      // -(lo + 1) = hi > 0
        {"-2 * 01A <= 01B", hi / 2 + 1, status::pass},  // -hi - 1 = INT64_MIN
        {"-2 * 01A <= 01B", hi / 2 + 2, status::error}, {"-2 * 01A <= 01B", lo / 2, status::error},
        {"01A * 0 <= 01B", lo, status::pass},
    };
    for (const auto& c : cases) {
        CAPTURE(c.check, c.value);
        auto f = tiny(c.check);
        report r(f, "u1", "2018");
        r.set_raw(0, c.value);
        r.set_raw(1, 0);
        CHECK(evaluate(f->compiled(), r).outcomes.at(0).st == c.expect);
        report_batch batch(f);
        batch.append(r);
        batch_options opt;
        opt.keep_passes = true;
        const batch_result res = evaluate(f->compiled(), batch, opt);
        REQUIRE(res.size() == 1);
        CHECK(res.st[0] == c.expect);
    }
}

TEST_CASE("each missing-value strategy treats blanks as documented", "[rules][missing]") {
    SECTION("skip_if_any_missing skips when one value is blank") {
        auto f = tiny("01B <= 01A");
        CHECK(run(f, {{"01B", "5"}}) == status::skipped);
        CHECK(run(f, {{"01A", "4"}, {"01B", "5"}}) == status::fail);
    }
    SECTION("skip_if_all_missing evaluates with blanks as 0 unless all are blank") {
        auto f = tiny("01B <= 01A", missing_strategy::skip_if_all_missing);
        CHECK(run(f, {{"01B", "5"}}) == status::fail);  // 5 <= 0
        CHECK(run(f, {{"01A", "5"}}) == status::pass);  // 0 <= 5
        CHECK(run(f, {}) == status::skipped);
    }
    SECTION("never_skip counts blanks as 0") {
        auto f = tiny("if 05A > 0 then 01A > 0", missing_strategy::never_skip);
        CHECK(run(f, {{"05A", "1.5"}}) == status::fail);
        CHECK(run(f, {}) == status::pass);
    }
    SECTION("is_missing sees blanks and does not itself cause a skip") {
        auto f = tiny("is_missing(01B) or 01A > 0");
        CHECK(run(f, {{"01A", "1"}}) == status::pass);
        CHECK(run(f, {{"01A", "0"}}) == status::pass);
        CHECK(run(f, {{"01A", "0"}, {"01B", "3"}}) == status::fail);
    }
}

TEST_CASE("the checker refuses mistakes with the rule id and a caret", "[rules][errors]") {
    auto bad = [](const std::string& check) -> std::vector<diagnostic> {
        try {
            tiny(check);
        } catch (const rule_error& e) {
            return e.diagnostics();
        }
        return {};
    };
    SECTION("a syntax error") {
        auto d = bad("01B <= (01A");
        REQUIRE(d.size() == 1);
        CHECK(d[0].rule == "songnuan.under_test");
        CHECK(d[0].column == 12);
        CHECK_THAT(d[0].to_string(), Catch::Contains("01B <= (01A\n               ^"));
    }
    SECTION("an unknown field") {
        auto d = bad("01Z <= 01A");
        REQUIRE(d.size() == 1);
        CHECK(d[0].column == 1);
        CHECK_THAT(d[0].message, Catch::Contains("unknown field '01Z'"));
    }
    SECTION("a count added to money") {
        auto d = bad("01A + 05A <= 05B");
        REQUIRE_FALSE(d.empty());
        CHECK_THAT(d[0].message, Catch::Contains("money"));
    }
    SECTION("人 added to 人次 without a factor") {
        auto d = bad("01A + 01C <= 100");
        REQUIRE_FALSE(d.empty());
        CHECK_THAT(d[0].message, Catch::Contains("人") && Catch::Contains("人次"));
    }
    SECTION("money compared with a bare count") {
        CHECK_FALSE(bad("05A <= 01A").empty());
        CHECK(bad("05A * 10000 <= 5000 * 01A").empty());  // an explicit factor states the conversion
    }
    SECTION("division by a field") { CHECK_FALSE(bad("05A / 05B <= 1").empty()); }
    SECTION("a number where a condition belongs") { CHECK_FALSE(bad("01A + 01B").empty()); }
    SECTION("a single '='") { CHECK_THAT(bad("01A = 01B").at(0).message, Catch::Contains("'=='")); }
    SECTION("chained comparisons") { CHECK_FALSE(bad("0 <= 01A <= 01B").empty()); }
    SECTION("full-width symbols") { CHECK_FALSE(bad("01A ＜= 01B").empty()); }
}

TEST_CASE("concept keys work as references", "[rules]") {
    auto f = tiny("workers.migrant <= workers.total");
    CHECK(run(f, {{"01A", "4"}, {"01B", "5"}}) == status::fail);
}

TEST_CASE("explain shows the value of every sub-expression", "[rules]") {
    auto f = tiny("05A == 05B + 05C");
    report r(f, "u1", "2018");
    r.set_text("05A", "3.5");
    r.set_text("05B", "1");
    r.set_text("05C", "2");
    const auto steps = explain(f->compiled(), 0, r);
    REQUIRE(steps.size() == 5);
    CHECK(steps[0].value == "false");
    CHECK(steps[1].source == "05A");
    CHECK(steps[1].value == "3.5");
    CHECK(steps[2].source == "05B + 05C");
    CHECK(steps[2].value == "3");
    // The comparison carries the tolerance it applied: two 万元 terms reported to 2
    // decimals, 2 × 0.005 by default; other nodes carry none.
    CHECK(steps[0].tolerance == "0.01");
    CHECK(steps[0].unit == "万元");
    CHECK_FALSE(steps[0].stated_tolerance);
    CHECK(steps[1].tolerance.empty());
}

TEST_CASE("prev() compares with the same unit's previous period", "[rules]") {
    auto f = tiny("01A <= prev(01A) * 2");
    report now(f, "u1", "2019"), before(f, "u1", "2018");
    now.set("01A", 300);
    before.set("01A", 100);
    eval_context ctx;
    ctx.previous = &before;
    CHECK(evaluate(f->compiled(), now, ctx).outcomes[0].st == status::fail);
    CHECK(evaluate(f->compiled(), now).outcomes[0].st == status::skipped);  // no previous report
}

TEST_CASE("level-restricted rules apply only at their levels", "[rules]") {
    auto f = std::const_pointer_cast<form_schema>(tiny("01A == 0"));
    f->rules[0].levels = {unit_level::county};
    f->finalize();
    report r(f, "u1", "2018");
    r.set("01A", 5);
    eval_context ctx;
    ctx.level = unit_level::county;
    CHECK(evaluate(f->compiled(), r, ctx).outcomes[0].st == status::fail);
    ctx.level = unit_level::city;
    CHECK(evaluate(f->compiled(), r, ctx).outcomes[0].st == status::skipped);
}

TEST_CASE("the one-report path and the batch path agree on 10,000 random reports", "[rules][property]") {
    // With huge values now and then every column is 64-bit and overflow paths run; without
    // them the columns are narrow (32-bit), down to the int32 bounds.
    const bool huge = GENERATE(true, false);
    CAPTURE(huge, batch_kernels());
    auto f = songnuan();
    const rule_set& rules = f->compiled();
    std::mt19937_64 rng(huge ? 20181225 : 20190101);
    report_batch batch(f);
    std::vector<report> reports;
    for (int i = 0; i < 10000; ++i) {
        report r(f, "u" + std::to_string(i), "2018");
        for (std::size_t k = 0; k < f->fields.size(); ++k) {
            const auto roll = rng() % 100;
            if (roll < 8) continue;  // blank
            const field_def& fd = f->fields[k];
            std::int64_t v = static_cast<std::int64_t>(rng() % 2000);
            if (roll < 10) v = 0;
            if (fd.type == field_type::money) v *= static_cast<std::int64_t>(rng() % 3 == 0 ? 1 : 10000);
            if (roll == 99)
                v = huge ? std::numeric_limits<std::int64_t>::max() / 3  // drive overflow paths
                         : std::numeric_limits<std::int32_t>::max() - static_cast<std::int64_t>(rng() % 2);
            r.set_raw(k, v);
        }
        batch.append(r);
        reports.push_back(std::move(r));
    }
    std::size_t narrow = 0;
    for (std::size_t k = 0; k < batch.width(); ++k) narrow += batch.column(k).narrow();
    CHECK(narrow == (huge ? 0 : batch.width()));
    std::vector<report_result> singles;
    singles.reserve(reports.size());
    for (const auto& r : reports) singles.push_back(evaluate(rules, r));
    for (auto kind : {testing::storage::as_built, testing::storage::wide}) {
        CAPTURE(testing::to_string(kind));
        const report_batch b = testing::with_storage(batch, kind);
        batch_options opt;
        opt.keep_passes = true;
        opt.keep_skipped = true;
        opt.threads = 2;
        const batch_result res = evaluate(rules, b, opt);
        REQUIRE(res.size() == 10000 * rules.size());
        std::size_t fails = 0, errors = 0, skipped = 0;
        for (std::size_t i = 0; i < res.size(); ++i) {
            const auto& one = singles[res.row[i]].outcomes[res.rule[i]];
            if (one.st != res.st[i]) {
                CAPTURE(res.row[i], rules[res.rule[i]].def().id, to_string(one.st), to_string(res.st[i]));
                FAIL("paths disagree");
            }
            fails += one.st == status::fail;
            errors += one.st == status::error;
            skipped += one.st == status::skipped;
        }
        // The random data must exercise every outcome, or the agreement says little.
        CHECK(fails > 0);
        CHECK(skipped > 0);
        if (huge) CHECK(errors > 0);
    }
}

TEST_CASE("every operator agrees between the one-report path and the batch VM", "[rules][property]") {
    // The batch VM packs conditions into bit words (AVX2 four rows at a time, the rest
    // one by one): an odd row count exercises partial vectors and a partial last word.
    auto f = std::const_pointer_cast<form_schema>(tiny("01B <= 01A"));
    field_def flag;
    flag.code = "06A";
    flag.row = "06";
    flag.letter = "A";
    flag.key = "fund.flag";
    flag.label = flag.label_en = flag.key;
    flag.type = field_type::flag;
    flag.unit = "是/否";
    f->fields.push_back(flag);
    f->rows.push_back({"06", "", ""});
    const check_list checks = {
        {"01B == 01A", {}},
        {"01B != 01A", {}},
        {"01B < 01A", {}},
        {"01B <= 01A", {}},
        {"01B > 01A", {}},
        {"01B >= 01A", {}},
        {"01B > 3", {}},
        {"3 < 01B", {}},
        {"0.01 < 05B", {}},
        {"05B >= 0.005", {}},
        {"01A * 2 >= 01B", {}},
        {"05A == 05B + 05C", {}},
        {"05A != 05B + 05C", {}},
        {"05A < 05B + 05C", {}},
        {"05A <= 05B + 05C", {}},
        {"05A > 05B + 05C", {}},
        {"05A >= 05B + 05C", {}},
        {"01A > 0 and 01B > 0", {}},
        {"01A > 0 or 01B > 0", {}},
        {"not (01A > 5)", {}},
        {"if 01A > 0 then 01B > 0", {}},
        {"if 06A then 01A > 0", {}},
        {"06A or 01B == 0", {}},
        {"is_missing(01A) or 01A >= 3", missing_strategy::never_skip},
        {"if 05A > 0 then 01A > 0", missing_strategy::skip_if_all_missing},
        {"not is_missing(05B)", missing_strategy::never_skip},
        {"abs(01A - 01B) <= 5", {}},
        {"max(01A, 01B) > min(01A, 01B)", {}},
        {"01A + 01B >= 01B", {}},
        {"01A - 01B <= 01A", {}},
        {"01A * 3 >= 01B", {}},  // overflow now and then
        // chains of adds: an inner partial sum may overflow alone
        {"01A + 01A + 01B + 01B >= 01B", {}},
        {"05B + 05C + 05D + 05E + 05F <= 05A + 05A", {}},
        {"05A == 05B + 05C + 05D", {}},
        {"(05B + 05C) * 2 + 05D + 05E >= 05F", {}},
        // numbers and factors beyond 32 bits, against columns of either width
        {"01A < 3000000000 and 01B > 0", {}},
        {"01B >= -3000000000 and 01A > 2", {}},
        {"01A * 5000000000 >= 0", {}},
    };
    // 01A and 01B now and then at the int64 bounds (64-bit columns), at the int32 bounds
    // (narrow columns, where sums and small products cannot overflow), or 01A at the
    // int64 and 01B at the int32 bounds (every kernel on a 64-bit and a 32-bit side).
    const std::string edges = GENERATE(as<std::string>{}, "int64", "int32", "mixed");
    CAPTURE(edges);
    const std::set<std::string> overflowing =
        edges != "int32" ? std::set<std::string>{"01A + 01B >= 01B", "01A - 01B <= 01A", "01A * 3 >= 01B",
                                                 "01A + 01A + 01B + 01B >= 01B", "01A * 5000000000 >= 0",
                                                 // 05D near the int64 top: partial sums and differences overflow
                                                 "05B + 05C + 05D + 05E + 05F <= 05A + 05A", "05A == 05B + 05C + 05D",
                                                 "(05B + 05C) * 2 + 05D + 05E >= 05F"}
                         : std::set<std::string>{"01A * 5000000000 >= 0"};
    const rule_set& rules = with_rules(*f, "songnuan.op", checks);
    std::mt19937_64 rng(7);
    report_batch batch(f);
    std::vector<report> reports;
    for (int i = 0; i < 2 * 1024 + 37; ++i) {
        report r(f, "u" + std::to_string(i), "2018");
        for (std::size_t k = 0; k < f->fields.size(); ++k) {
            if (rng() % 10 == 0) continue;  // blank
            const field_def& fd = f->fields[k];
            std::int64_t v =
                fd.type == field_type::flag ? static_cast<std::int64_t>(rng() % 2) : static_cast<std::int64_t>(rng() % 9) - 1;
            if (fd.type == field_type::money) v = static_cast<std::int64_t>(rng() % 5) * 5000 - 5000;  // ±0.005 steps
            if (v < 0 && fd.type != field_type::money) v = 0;
            const auto near = static_cast<std::int64_t>(rng() % 3);
            const bool wide = edges == "int64" || (edges == "mixed" && fd.code == "01A");
            if (edges != "int32" && fd.code == "05D" && rng() % 16 == 0) v = std::numeric_limits<std::int64_t>::max() - near;
            if (wide) {
                if (fd.code == "01A" && rng() % 16 == 0) v = std::numeric_limits<std::int64_t>::max() - near;
                if (fd.code == "01B" && rng() % 16 == 0) v = std::numeric_limits<std::int64_t>::min() + near;
            } else if ((fd.code == "01A" || fd.code == "01B") && rng() % 16 == 0) {
                v = rng() % 2 ? std::numeric_limits<std::int32_t>::max() - near : std::numeric_limits<std::int32_t>::min() + near;
            }
            r.set_raw(k, v);
        }
        batch.append(r);
        reports.push_back(std::move(r));
    }
    const std::size_t a = f->index("01A"), b = f->index("01B");
    CHECK(batch.column(a).narrow() == (edges == "int32"));
    CHECK(batch.column(b).narrow() == (edges != "int64"));
    std::vector<report_result> singles;
    for (const auto& r : reports) singles.push_back(evaluate(rules, r));
    require_paths_agree(rules, batch, singles, overflowing);
}

TEST_CASE("a comparison shared by several rules keeps each rule's missing-value strategy", "[rules][property]") {
    // `01A > 0` is computed once a chunk for every rule that has it (written either way
    // round); a rule that reads blanks as 0 must not see the bits of one that skips them.
    auto f = std::const_pointer_cast<form_schema>(tiny("01B <= 01A"));
    const check_list checks = {
        {"01A > 0 and 01B >= 0", {}},                                   // skip_if_any: blanks unread
        {"if 01A > 0 then 01B > 0", missing_strategy::never_skip},      // blank 01A is 0
        {"0 < 01A or 01C > 0", missing_strategy::skip_if_all_missing},  // mirrored, blank is 0
        {"if 01B > 0 then 01A > 0", missing_strategy::never_skip},      // converse pair
        {"if 01B > 0 then 0 < 01A", {}},
        {"01A * 2 > 0", missing_strategy::never_skip},  // scaled: not shared
    };
    const rule_set& rules = with_rules(*f, "songnuan.shared", checks);
    std::mt19937_64 rng(11);
    const std::size_t n = 3 * 2048 + 5;  // several chunks, the last one partial
    report_batch batch(f);
    for (std::size_t i = 0; i < n; ++i) batch.add_row("u" + std::to_string(i), "2018");
    for (std::size_t i = 0; i < n; ++i)
        for (const char* code : {"01A", "01B", "01C"}) {
            const std::size_t k = f->index(code);
            batch.set_raw(i, k, static_cast<std::int64_t>(rng() % 3));  // 0, 1 or 2
            if (rng() % 4 == 0) {
                batch.set_raw(i, k, 5);  // a stale value under the blank
                batch.set_missing(i, k);
            }
        }
    std::vector<report_result> singles;
    for (std::size_t i = 0; i < n; ++i) singles.push_back(evaluate(rules, batch.row(i)));
    require_paths_agree(rules, batch, singles);
}

TEST_CASE("a rule nested absurdly deep is a diagnostic, not a stack overflow", "[rules][errors]") {
    for (const std::string& text : {std::string(100000, '(') + "1" + std::string(100000, ')') + " > 0",
                                    std::string(1000000, '-') + "1 > 0", std::string(50000, 'n') + " 01A > 0"}) {
        std::string t = text;
        if (t[0] == 'n') {  // "not not not … 01A > 0"
            t.clear();
            for (int i = 0; i < 50000; ++i) t += "not ";
            t += "01A > 0";
        }
        try {
            tiny(t);
            FAIL("accepted");
        } catch (const rule_error& e) {
            CHECK_THAT(e.diagnostics().at(0).message, Catch::Contains("nested more than"));
        }
    }
    CHECK_NOTHROW(tiny(std::string(50, '(') + "01A" + std::string(50, ')') + " >= 0"));
}

namespace {

// The best instruction set of this CPU as the kernel dispatch should see it, found here
// independently: the flags the kernel lists in /proc/cpuinfo (only the flags the OS
// enables are listed), or the compiler's CPU test where there is no such file.
std::string best_level_here() {
    bool avx2 = false, popcnt = false, f = false, bw = false, dq = false, vl = false;
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    bool seen = false;
    while (!seen && std::getline(cpuinfo, line)) {
        if (line.rfind("flags", 0) != 0) continue;
        seen = true;
        std::istringstream words(line.substr(line.find(':') + 1));
        for (std::string w; words >> w;) {
            avx2 |= w == "avx2";
            popcnt |= w == "popcnt";
            f |= w == "avx512f";
            bw |= w == "avx512bw";
            dq |= w == "avx512dq";
            vl |= w == "avx512vl";
        }
    }
#if defined(__GNUC__) && defined(__x86_64__)
    if (!seen) {
        __builtin_cpu_init();
        avx2 = __builtin_cpu_supports("avx2");
        popcnt = __builtin_cpu_supports("popcnt");
        f = __builtin_cpu_supports("avx512f");
        bw = __builtin_cpu_supports("avx512bw");
        dq = __builtin_cpu_supports("avx512dq");
        vl = __builtin_cpu_supports("avx512vl");
    }
#else
    avx2 = false;  // the vector kernels are x86-64 only
#endif
    if (!(avx2 && popcnt)) return "baseline";
    return f && bw && dq && vl ? "avx512" : "avx2";
}

}  // namespace

TEST_CASE("UNIONSTAT_SIMD lowers the instruction set of the batch kernels, never raises it", "[rules]") {
    const std::string level = batch_kernels();
    const std::string best = best_level_here();
    const char* env = std::getenv("UNIONSTAT_SIMD");
    const std::string want = env ? env : "";
    CAPTURE(level, best, want);
    if (want == "baseline") CHECK(level == "baseline");
    else if (want == "avx2") CHECK(level == (best == "avx512" ? "avx2" : best));
    else CHECK(level == best);  // unset, or a name that is no lower level: the best
    // Which kernels the [rules] tests of this run exercised, in the test output. A lowered
    // run at the best level repeats the default run: ctest lists it as skipped (the
    // rule_kernels_* tests match this text), so a CPU without AVX-512 shows that the
    // avx2 run added nothing rather than passing it off as another variant.
    if (!want.empty() && want == level && level == best)
        WARN("batch kernels: " << level << " requested, and " << level
                               << " is this CPU's best: this run repeats the default run");
    else WARN("batch kernels in this run: " << level << " (this CPU's best: " << best << ")");
}
