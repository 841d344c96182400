#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>

#include <iconv.h>
#include <unistd.h>

#include "unionstat/forms/cell.hpp"
#include "unionstat/forms/registry.hpp"
#include "unionstat/io/csv_reader.hpp"
#include "unionstat/io/text_decoder.hpp"

using namespace unionstat;

namespace {

std::shared_ptr<const form_schema> songnuan() { return schema_registry::bundled().get("songnuan-2018"); }

// Text re-encoded from UTF-8 with the system's iconv (independent of the reader's own use).
std::string encode(const std::string& utf8, const char* to) {
    iconv_t cd = iconv_open(to, "UTF-8");
    REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
    std::string out(utf8.size() * 4 + 16, '\0');
    char* in = const_cast<char*>(utf8.data());
    std::size_t inleft = utf8.size(), outleft = out.size();
    char* o = &out[0];
    REQUIRE(iconv(cd, &in, &inleft, &o, &outleft) != static_cast<std::size_t>(-1));
    iconv_close(cd);
    out.resize(out.size() - outleft);
    return out;
}

// The raw value of (row, field code), nullopt when blank.
std::optional<std::int64_t> at(const read_result& r, std::size_t row, const std::string& code) {
    return r.batch.raw(row, r.batch.form().index(code));
}

// A problem whose message contains `needle`; fails the test when there is none.
const read_problem& problem_with(const read_result& r, const std::string& needle) {
    for (const auto& p : r.problems)
        if (p.message.find(needle) != std::string::npos) return p;
    std::string all;
    for (const auto& p : r.problems) all += "\n  " + p.to_string();
    FAIL("no problem mentions '" << needle << "'; problems:" << all);
    static read_problem none;
    return none;
}

bool has_notice(const read_result& r, const std::string& needle) {
    for (const auto& n : r.notices)
        if (n.find(needle) != std::string::npos) return true;
    return false;
}

// Header naming every field of songnuan-2018 after unit and period.
std::string full_header() {
    std::string h = "unit,period";
    for (const auto& f : songnuan()->fields) h += "," + f.code;
    return h;
}

// One full row: counts are small integers, money has two decimals; deterministic in `i`.
std::string full_row(std::size_t i) {
    std::string r = std::to_string(630102000000ull + i) + ",2018";
    std::size_t k = 0;
    for (const auto& f : songnuan()->fields) {
        const std::size_t v = (i * 31 + k * 7) % 1000;
        r += ',';
        if (f.type == field_type::money) r += std::to_string(v / 100) + "." + std::to_string(10 + v % 90);
        else r += std::to_string(v);
        ++k;
    }
    return r;
}

}  // namespace

TEST_CASE("CSV: quotes, escaped quotes, delimiters and newlines inside quotes, LF and CRLF", "[csv]") {
    const std::string text =
        "unit,01A,备注,05A\r\n"
        "\"630100\",\"1,234\",\"said \"\"hi\"\", then left\",\"12.50\"\r\n"
        "630200,7,\"two\r\nlines, with a comma\",3\n"
        "630300,\"8\",,\"0.01\"";  // no newline at the end
    const auto r = read_csv_text(text, "q.csv", songnuan());
    CHECK(r.problems.empty());
    REQUIRE(r.batch.size() == 3);
    CHECK(r.batch.units() == std::vector<std::string>{"630100", "630200", "630300"});
    CHECK(at(r, 0, "01A") == 1234);
    CHECK(at(r, 0, "05A") == 12500000);  // 万元 stored to the 分
    CHECK(at(r, 1, "01A") == 7);
    CHECK(at(r, 1, "05A") == 3000000);
    CHECK(at(r, 2, "01A") == 8);
    CHECK(at(r, 2, "05A") == 10000);
    CHECK_FALSE(at(r, 0, "01B"));  // not in the file: blank, never 0
    CHECK(r.batch.row_numbers() == std::vector<std::int64_t>{2, 3, 5});
    CHECK(r.ignored_columns == std::vector<std::string>{"备注"});
}

TEST_CASE("CSV: row numbers are the file's physical lines, also after a quoted newline", "[csv]") {
    const std::string text =
        "2018年工会送温暖活动统计表,,,\n"
        "\n"
        "unit,01A,备注,01B\n"
        "A1,1,\"line one\nline two\nline three\",1\n"
        "A2,2,,x\n"
        "\n"
        "A3,3,,3\n";
    const auto r = read_csv_text(text, "lines.csv", songnuan());
    REQUIRE(r.batch.size() == 3);
    CHECK(r.batch.row_numbers() == std::vector<std::int64_t>{4, 7, 9});
    CHECK(r.batch.row_number(1) == 7);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].row == 7);
    CHECK(r.problems[0].column == 4);
    CHECK(r.problems[0].unit == "A2");
    CHECK(r.problems[0].field == "01B");
}

TEST_CASE("CSV: an unterminated quote is a problem naming the line where it opened", "[csv]") {
    const std::string text =
        "unit,01A,备注\n"
        "A1,1,ok\n"
        "A2,2,ok\n"
        "A3,3,\"never closed\n"
        "A4,4,more\n";
    const auto r = read_csv_text(text, "open.csv", songnuan());
    REQUIRE(r.batch.size() == 2);
    const auto& p = problem_with(r, "never closed");
    CHECK(p.row == 4);
    CHECK(p.column == 3);
    CHECK_THAT(p.message, Catch::Contains("opened on line 4"));
}

TEST_CASE("CSV: UTF-8 with and without BOM, UTF-16LE/BE with BOM, GB18030 detected, forced", "[csv]") {
    const std::string utf8 = "填报单位,01A,备注\n青海,5,备注文字\n";
    auto check = [&](const read_result& r, const std::string& enc) {
        CAPTURE(enc);
        CHECK(r.encoding == enc);
        CHECK(r.problems.empty());
        REQUIRE(r.batch.size() == 1);
        CHECK(r.batch.units()[0] == "青海");
        CHECK(at(r, 0, "01A") == 5);
    };
    SECTION("UTF-8") {
        const auto r = read_csv_text(utf8, "u.csv", songnuan());
        check(r, "utf-8");
        CHECK_FALSE(has_notice(r, "read as"));
    }
    SECTION("UTF-8 with BOM") { check(read_csv_text("\xEF\xBB\xBF" + utf8, "u.csv", songnuan()), "utf-8-sig"); }
    SECTION("UTF-16LE with BOM") {
        const auto r = read_csv_text("\xFF\xFE" + encode(utf8, "UTF-16LE"), "u16.csv", songnuan());
        check(r, "utf-16le");
        CHECK(has_notice(r, "read as utf-16le"));
    }
    SECTION("UTF-16BE with BOM") {
        check(read_csv_text("\xFE\xFF" + encode(utf8, "UTF-16BE"), "u16.csv", songnuan()), "utf-16be");
    }
    SECTION("GBK bytes are detected as GB18030, with a notice") {
        const auto r = read_csv_text(encode(utf8, "GBK"), "gbk.csv", songnuan());
        check(r, "gb18030");
        CHECK(has_notice(r, "read as gb18030"));
        CHECK(has_notice(r, "not valid UTF-8"));
    }
    SECTION("a forced encoding is used, without a notice") {
        csv_options o;
        o.encoding = "GBK";
        const auto r = read_csv_text(encode(utf8, "GBK"), "gbk.csv", songnuan(), o);
        check(r, "gbk");
        CHECK(r.notices.size() == 1);  // only the ignored column
        o.encoding = "utf-16";
        check(read_csv_text("\xFF\xFE" + encode(utf8, "UTF-16LE"), "u16.csv", songnuan(), o), "utf-16le");
    }
    SECTION("an unknown encoding name is a value_error") {
        csv_options o;
        o.encoding = "latin-9";
        CHECK_THROWS_AS(read_csv_text(utf8, "u.csv", songnuan(), o), value_error);
        CHECK_THROWS_WITH(read_csv_text(utf8, "u.csv", songnuan(), o), Catch::Contains("unknown encoding 'latin-9'"));
    }
    SECTION("bytes not valid in the forced encoding: the line and byte offset are named") {
        csv_options o;
        o.encoding = "utf-8";
        const std::string bad = "unit,01A\nA1,1\nA2,\xB9\xA4\n";
        try {
            read_csv_text(bad, "bad.csv", songnuan(), o);
            FAIL("no error");
        } catch (const value_error& e) {
            CHECK(e.where().file == "bad.csv");
            CHECK(e.where().line == 3);
            CHECK_THAT(e.message(), Catch::Contains("byte offset 17") && Catch::Contains("line 3"));
        }
        o.encoding = "utf-16le";  // an odd number of bytes ends inside a character
        CHECK_THROWS_WITH(read_csv_text("\xFF\xFE" + encode("unit,01A\nA1,1\n", "UTF-16LE") + "x", "odd.csv", songnuan(), o),
                          Catch::Contains("ends inside a character"));
    }
}

TEST_CASE("CSV: GB18030 and UTF-16 files larger than a block decode across block boundaries", "[csv]") {
    // ~10 MiB, Chinese text in an ignored column on every line, so that characters and
    // records straddle the 1 MiB detection block and the 8 MiB read blocks.
    std::string utf8 = "单位代码,01A,备注\n";
    const std::size_t n = 250000;
    for (std::size_t i = 0; i < n; ++i)
        utf8 += "单位" + std::to_string(i) + "," + std::to_string(i % 1000) + ",送温暖活动中筹集款物总额说明" +
                std::string(i % 3, 'x') + "\n";
    for (const char* enc : {"GB18030", "UTF-16LE"}) {
        CAPTURE(enc);
        const std::string bytes = (std::string(enc) == "UTF-16LE" ? "\xFF\xFE" : "") + encode(utf8, enc);
        REQUIRE(bytes.size() > (std::size_t(9) << 20));
        const auto r = read_csv_text(bytes, "big.csv", songnuan());
        CHECK(r.problems.empty());
        REQUIRE(r.batch.size() == n);
        CHECK(r.batch.units()[n - 1] == "单位" + std::to_string(n - 1));
        CHECK(at(r, 77777, "01A") == 777);
        CHECK(r.batch.row_number(n - 1) == static_cast<std::int64_t>(n) + 1);
    }
}

TEST_CASE("CSV: bytes that are not UTF-8 after the first MiB stop the read with line and offset", "[csv]") {
    std::string text = "unit,01A\n";
    for (int i = 0; i < 150000; ++i) text += "A" + std::to_string(i) + ",1\n";
    const std::size_t bad_at = text.size() + 3;
    text += "ZZ,\xFF\n";
    try {
        read_csv_text(text, "late.csv", songnuan());
        FAIL("no error");
    } catch (const value_error& e) {
        CHECK(e.where().line == 150002);
        CHECK_THAT(e.message(), Catch::Contains("byte offset " + std::to_string(bad_at)));
    }
}

TEST_CASE("CSV: title and notes lines above the header are skipped with a notice", "[csv]") {
    const std::string text =
        "2018年工会送温暖活动统计表,,,\n"
        "填报单位：青海省总工会,,,\n"
        "单位代码,01A,01B\n"
        "630100,10,2\n";
    const auto r = read_csv_text(text, "title.csv", songnuan());
    REQUIRE(r.batch.size() == 1);
    CHECK(r.batch.row_number(0) == 4);
    REQUIRE(r.notices.size() == 1);
    CHECK(r.notices[0] ==
          "skipped 2 line(s) above the header: line 1 '2018年工会送温暖活动统计表', line 2 '填报单位：青海省总工会'");
}

TEST_CASE("CSV: no header is an error saying what a header must name", "[csv]") {
    try {
        read_csv_text("a,b,c\n1,2,3\n", "nohead.csv", songnuan());
        FAIL("no error");
    } catch (const value_error& e) {
        CHECK(e.where().file == "nohead.csv");
        CHECK_THAT(e.message(), Catch::Contains("no header row") && Catch::Contains("单位代码") && Catch::Contains("01A"));
    }
    CHECK_THROWS_AS(read_csv_text("", "empty.csv", songnuan()), value_error);
    CHECK_THROWS_AS(read_csv("/nonexistent/dir/x.csv", songnuan()), value_error);
    try {
        read_csv("/nonexistent/dir/x.csv", songnuan());
    } catch (const value_error& e) {
        CHECK(e.where().file == "/nonexistent/dir/x.csv");
        CHECK_THAT(e.message(), Catch::Contains("cannot open"));
    }
}

TEST_CASE("CSV: header problems, ignored text columns and strict", "[csv]") {
    const std::string text = "unit,01A,01Z,01A,备注,填报人,workers.total,联系电话,备注\nA1,1,2,3,x,y,4,z,w\n";
    const auto r = read_csv_text(text, "head.csv", songnuan());
    const auto& unknown = problem_with(r, "'01Z' is not a field");
    CHECK(unknown.row == 1);
    CHECK(unknown.column == 3);
    CHECK(problem_with(r, "'01A' is given twice").column == 4);
    CHECK(problem_with(r, "same field 01A").column == 7);
    CHECK(problem_with(r, "'备注' is given twice").column == 9);
    CHECK(r.ignored_columns == std::vector<std::string>{"备注", "填报人", "联系电话"});
    CHECK(has_notice(
        r, "ignored 3 column(s) that are no field of songnuan-2018: column 5 '备注', column 6 '填报人', column 8 '联系电话'"));
    REQUIRE(r.batch.size() == 1);
    CHECK(at(r, 0, "01A") == 1);

    csv_options strict;
    strict.strict = true;
    const auto s = read_csv_text(text, "head.csv", songnuan(), strict);
    CHECK(s.ignored_columns.empty());
    CHECK(problem_with(s, "'填报人' is not a field").column == 6);
}

TEST_CASE("CSV: a submission-time column is left out, not refused, even under strict", "[csv]") {
    const std::string text = "unit,period,01A,submitted,报送时间\nA1,2018,10,2018-02-27,2018-02-27\n";
    csv_options strict;
    strict.strict = true;
    const auto s = read_csv_text(text, "times.csv", songnuan(), strict);
    CHECK(s.problems.empty());
    CHECK(s.ignored_columns == std::vector<std::string>{"submitted", "报送时间"});
    REQUIRE(s.batch.size() == 1);
    CHECK(at(s, 0, "01A") == 10);
    const auto t = read_csv_text("unit,01A,备注\nA1,1,x\n", "t.csv", songnuan(), strict);
    CHECK(problem_with(t, "'备注' is not a field").column == 3);  // other text columns still are
}

TEST_CASE("CSV: trailing empty fields are ignored and values stay in their columns; wrong widths are problems", "[csv]") {
    const std::string text =
        "unit,period,01A,01B,05A\n"
        "A1,2018,10,2,1.5,\n"  // Excel's trailing comma
        "A2,2018,11,3,2.5,,,\n"
        "A3,2018,12,4,3.5,9\n"  // a value beyond the header
        "A4,2018,13,5\n"        // too few
        ",,,,\n"
        "   \n"
        "\n"
        "A5,2018,14,6,4.5\n"
        ",,,,,,\n"
        ",,,,\n";
    const auto r = read_csv_text(text, "trail.csv", songnuan());
    REQUIRE(r.batch.size() == 3);
    CHECK(r.batch.units() == std::vector<std::string>{"A1", "A2", "A5"});
    CHECK(at(r, 0, "01A") == 10);
    CHECK(at(r, 0, "01B") == 2);
    CHECK(at(r, 0, "05A") == 1500000);
    CHECK(at(r, 1, "05A") == 2500000);
    CHECK(r.batch.periods()[0] == "2018");
    REQUIRE(r.problems.size() == 2);
    CHECK(r.problems[0].row == 4);
    CHECK_THAT(r.problems[0].message, Catch::StartsWith("line 4 has 6 fields, the header has 5"));
    CHECK(r.problems[1].row == 5);
    CHECK_THAT(r.problems[1].message, Catch::StartsWith("line 5 has 4 fields, the header has 5"));
}

TEST_CASE("CSV: cells under an unnamed header column must be empty", "[csv]") {
    const std::string text = "unit,01A,,01B,\nA1,1,,2,\nA2,3,oops,4,\nA3,5,,6,late\nA4,7,,8\n";
    const auto r = read_csv_text(text, "unnamed.csv", songnuan());
    REQUIRE(r.batch.size() == 4);  // a row may stop before trailing unnamed columns
    REQUIRE(r.problems.size() == 2);
    CHECK(r.problems[0].row == 3);
    CHECK(r.problems[0].column == 3);
    CHECK_THAT(r.problems[0].message, Catch::Contains("line 3, column 3") && Catch::Contains("'oops'"));
    CHECK(r.problems[1].row == 4);
    CHECK(r.problems[1].column == 5);
    CHECK(at(r, 3, "01B") == 8);
}

TEST_CASE("CSV: a blank unit or period is a problem; rows without a unit are left out", "[csv]") {
    const std::string text = "单位代码,年度,01A\nA1,2018,1\n  ,2018,2\nA3,,3\n";
    const auto r = read_csv_text(text, "keys.csv", songnuan());
    REQUIRE(r.batch.size() == 2);
    CHECK(r.batch.units() == std::vector<std::string>{"A1", "A3"});
    CHECK(r.batch.periods() == std::vector<std::string>{"2018", ""});
    const auto& unit = problem_with(r, "the unit");
    CHECK(unit.row == 3);
    CHECK(unit.column == 1);
    CHECK_THAT(unit.message, Catch::Contains("line 3") && Catch::Contains("not read"));
    const auto& period = problem_with(r, "the period");
    CHECK(period.row == 4);
    CHECK(period.unit == "A3");
    CHECK(period.column == 2);

    const auto np = read_csv_text("unit,01A\nA1,1\n", "np.csv", songnuan());
    CHECK(np.batch.periods() == std::vector<std::string>{""});
}

TEST_CASE("CSV: cells are parsed as parse_cell does, every bad one a problem with its place", "[csv]") {
    const std::string text =
        "unit,01A,01B,05A,05B\n"
        "A1,１２３,\"1,234\",—,/\n"
        "A2,12万,-5,1.1234567,约100\n"
        "A3,9223372036854775808,9223372036854775807,9223372036855,1.5\n"
        "A4,12.0,12.5,,－\n";
    const auto r = read_csv_text(text, "cells.csv", songnuan());
    REQUIRE(r.batch.size() == 4);
    CHECK(at(r, 0, "01A") == 123);
    CHECK(at(r, 0, "01B") == 1234);
    CHECK_FALSE(at(r, 0, "05A"));
    CHECK_FALSE(at(r, 0, "05B"));
    CHECK(at(r, 2, "01B") == std::numeric_limits<std::int64_t>::max());
    CHECK(at(r, 2, "05B") == 1500000);
    CHECK(at(r, 3, "01A") == 12);
    REQUIRE(r.problems.size() == 7);
    const auto& wan = r.problems[0];
    CHECK(wan.row == 3);
    CHECK(wan.column == 2);
    CHECK(wan.unit == "A2");
    CHECK(wan.field == "01A");
    CHECK(wan.text == "12万");
    CHECK_THAT(wan.message, Catch::Contains("not a number"));
    CHECK(r.problems[1].field == "01B");
    CHECK_THAT(r.problems[1].message, Catch::Contains("negative"));
    CHECK(r.problems[2].field == "05A");
    CHECK_THAT(r.problems[2].message, Catch::Contains("more than 6 decimals"));
    CHECK(r.problems[3].text == "约100");
    CHECK(r.problems[4].field == "01A");
    CHECK(r.problems[4].message == "'9223372036854775808' is too large (at most 9223372036854775807 人)");
    CHECK(r.problems[5].field == "05A");
    CHECK(r.problems[5].message == "'9223372036855' is too large (at most 9223372036854.775807 万元)");
    CHECK(r.problems[6].row == 5);
    CHECK(r.problems[6].field == "01B");
    CHECK_THAT(r.problems[6].message, Catch::Contains("whole number"));
    // Each bad cell is blank in the batch, its row kept.
    CHECK_FALSE(at(r, 1, "01A"));
    CHECK_FALSE(at(r, 2, "01A"));
}

TEST_CASE("CSV: the fast cell path gives exactly what parse_cell gives", "[csv]") {
    const auto form = songnuan();
    std::vector<field_def> fields = {form->field("01A"), form->field("05A")};
    field_def yuan = form->field("05A");
    yuan.unit = "元";
    yuan.scale = 2;
    fields.push_back(yuan);
    field_def flag = form->field("01A");
    flag.type = field_type::flag;
    fields.push_back(flag);
    auto same = [](const field_def& f, const std::string& t) {
        CAPTURE(f.code, f.scale, t);
        cell fast;
        if (!detail::parse_cell_fast(f, t, fast)) return false;
        cell slow;
        REQUIRE_NOTHROW(slow = parse_cell(f, t));
        CHECK(fast.state == slow.state);
        CHECK(fast.raw == slow.raw);
        return true;
    };
    const std::vector<std::string> tricky = {"",
                                             "0",
                                             "00",
                                             "007",
                                             "1",
                                             "12",
                                             "12.",
                                             ".5",
                                             "0.5",
                                             "1.5",
                                             "12.34",
                                             "12.345678",
                                             "12.3456789",
                                             "1.000000000",
                                             "999999999999999999",
                                             "9999999999999999999",
                                             "9223372036854775807",
                                             "9223372036854775808",
                                             "9223372036854",
                                             "9223372036853",
                                             "92233720368547.75807",
                                             "92233720368.54",
                                             "000000000000000000000001",
                                             "1,234",
                                             "1.2.3",
                                             "-1",
                                             "+1",
                                             " 1",
                                             "1 ",
                                             "１２",
                                             "12万",
                                             "0.0",
                                             "12.0",
                                             "12.50",
                                             "0.000001",
                                             "0.0000001",
                                             "1e5",
                                             "0x10",
                                             "١",
                                             "\t",
                                             "\r",
                                             "12\r",
                                             "-",
                                             "—",
                                             "1..2",
                                             "..",
                                             "."};
    int fast_taken = 0;
    for (const auto& f : fields)
        for (const auto& t : tricky) fast_taken += same(f, t);
    CHECK(fast_taken > 20);  // the fast path does take the common cells
    std::mt19937_64 rng(12345);
    const std::string alphabet = "0123456789.,- ";
    int sweep_fast = 0;
    for (int i = 0; i < 200000; ++i) {
        std::string t;
        const int len = static_cast<int>(rng() % 22);
        for (int k = 0; k < len; ++k) t += alphabet[rng() % (k % 3 == 0 ? alphabet.size() : 11)];
        for (const auto& f : fields) sweep_fast += same(f, t);
    }
    CHECK(sweep_fast > 20000);
}

TEST_CASE("CSV: one thread and two threads give the same result, problems in the same order", "[csv]") {
    std::string text = "title line,,\n" + full_header() + ",备注\n";
    std::mt19937 rng(7);
    const std::size_t n = 60000;  // ~17 MiB: several blocks and many pieces
    for (std::size_t i = 0; i < n; ++i) {
        std::string row = full_row(i);
        const unsigned r = rng() % 1000;
        if (r == 0) row += ",\"a note\nover two lines\"";
        else if (r == 1) row = row.substr(0, row.rfind(','));          // too few fields
        else if (r == 2) row.replace(row.find(",2018,") + 6, 1, "x");  // a bad cell
        else if (r == 3) row += ",,x";
        else row += ",";
        text += row + (i % 2 ? "\r\n" : "\n");
    }
    csv_options one, two;
    one.threads = 1;
    two.threads = 2;
    std::size_t calls = 0, last = 0;
    two.progress = [&](std::size_t rows) {
        ++calls;
        CHECK(rows >= last);
        last = rows;
    };
    const auto a = read_csv_text(text, "same.csv", songnuan(), one);
    const auto b = read_csv_text(text, "same.csv", songnuan(), two);
    CHECK(calls > 3);
    CHECK(last == b.batch.size());
    REQUIRE(a.batch.size() == b.batch.size());
    CHECK(a.batch.size() > n - 200);
    CHECK(a.batch.units() == b.batch.units());
    CHECK(a.batch.periods() == b.batch.periods());
    CHECK(a.batch.row_numbers() == b.batch.row_numbers());
    for (std::size_t k = 0; k < a.batch.width(); ++k)
        for (std::size_t i = 0; i < a.batch.size(); i += 1) {
            if (a.batch.raw(i, k) != b.batch.raw(i, k)) FAIL("row " << i << " field " << k);
        }
    REQUIRE(a.problems.size() == b.problems.size());
    CHECK(a.problems.size() > 60);
    for (std::size_t i = 0; i < a.problems.size(); ++i) CHECK(a.problems[i].to_string() == b.problems[i].to_string());
    // The file's lines: a quoted newline pushes every later record one line down.
    std::int64_t expect = 3;
    CHECK(a.batch.row_number(0) == expect);
    for (std::size_t i = 1; i < a.batch.size(); ++i) REQUIRE(a.batch.row_number(i) > a.batch.row_number(i - 1));
    CHECK(a.batch.row_number(a.batch.size() - 1) > static_cast<std::int64_t>(n));
}

TEST_CASE("CSV: tab-separated UTF-16 text (Excel's Unicode text)", "[csv]") {
    const std::string utf8 = "工会送温暖统计表\t\t\r\n单位代码\t01A\t05A\r\nA1\t3\t\"1,234.5\"\r\n";
    const auto r = read_csv_text("\xFF\xFE" + encode(utf8, "UTF-16LE"), "unicode.txt", songnuan());
    CHECK(r.problems.empty());
    REQUIRE(r.batch.size() == 1);
    CHECK(at(r, 0, "01A") == 3);
    CHECK(at(r, 0, "05A") == 1234500000);
    CHECK(r.batch.row_number(0) == 3);
    CHECK(has_notice(r, "tabs"));
}

TEST_CASE("CSV: read_csv reads a file as read_csv_text reads its bytes", "[csv]") {
    std::string text = full_header() + "\n";
    for (std::size_t i = 0; i < 500; ++i) text += full_row(i) + "\n";
    const std::string path = "/tmp/unionstat_test_csv_reader_" + std::to_string(::getpid()) + ".csv";
    {
        std::ofstream out(path, std::ios::binary);
        out << text;
    }
    const auto f = read_csv(path, songnuan());
    const auto t = read_csv_text(text, path, songnuan());
    std::remove(path.c_str());
    REQUIRE(f.batch.size() == 500);
    CHECK(f.problems.empty());
    CHECK(f.batch.units() == t.batch.units());
    for (std::size_t k = 0; k < f.batch.width(); ++k) CHECK(f.batch.raw(499, k) == t.batch.raw(499, k));
    CHECK(f.batch.raw(499, f.batch.form().index("05A")));
}

// A timing, hidden by default: ./unionstat_tests "[.bench]" (1M songnuan rows, ~195 MB).
TEST_CASE("CSV: 1M rows bench", "[.bench]") {
    const std::string path = "/tmp/unionstat_bench_1m.csv";
    std::ifstream probe(path);
    if (!probe) {
        std::ofstream out(path, std::ios::binary);
        out << full_header() << "\n";
        for (std::size_t i = 0; i < 1000000; ++i) out << full_row(i) << "\n";
    }
    for (unsigned threads : {1u, 2u}) {
        csv_options o;
        o.threads = threads;
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = read_csv(path, songnuan(), o);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        WARN(threads << " thread(s): " << r.batch.size() << " rows in " << s << " s");
        CHECK(r.problems.empty());
    }
}

TEST_CASE("CSV: tiny blocks and pieces give the same result (records, quotes, characters cut anywhere)", "[csv]") {
    std::string utf8 = "填报单位：青海,,\n" + full_header() + ",备注\n";
    for (std::size_t i = 0; i < 300; ++i) {
        std::string row = full_row(i);
        if (i % 7 == 0) row += ",\"引号\"\"里, 有逗号\n和换行\"";
        else if (i % 11 == 0) row.replace(row.find(",2018,") + 6, 1, "\"5\"x") += ",";
        else if (i % 13 == 0) row.replace(row.find(",2018,") + 6, 1, "１") += ",";
        else row += ",备注";
        utf8 += row + (i % 3 ? "\r\n" : "\n");
    }
    utf8 += "630999,2018,\"unterminated";
    for (const char* enc : {"UTF-8", "GB18030", "UTF-16LE"}) {
        CAPTURE(enc);
        const std::string bytes = (std::string(enc) == "UTF-16LE" ? "\xFF\xFE" : "") + encode(utf8, enc);
        detail::set_csv_block_sizes(0, 0);
        const auto a = read_csv_text(bytes, "tiny.csv", songnuan());
        for (std::size_t block : {1, 2, 3, 5, 64, 1000}) {
            CAPTURE(block);
            detail::set_csv_block_sizes(block, block / 2 + 1);
            csv_options two;
            two.threads = 2;
            const auto b = read_csv_text(bytes, "tiny.csv", songnuan(), two);
            CHECK(a.batch.units() == b.batch.units());
            CHECK(a.batch.row_numbers() == b.batch.row_numbers());
            for (std::size_t k = 0; k < a.batch.width(); ++k)
                for (std::size_t i = 0; i < a.batch.size(); ++i) REQUIRE(a.batch.raw(i, k) == b.batch.raw(i, k));
            REQUIRE(a.problems.size() == b.problems.size());
            for (std::size_t i = 0; i < a.problems.size(); ++i) CHECK(a.problems[i].to_string() == b.problems[i].to_string());
            CHECK(a.notices == b.notices);
        }
        detail::set_csv_block_sizes(0, 0);
        CHECK(a.batch.size() == 300);
        CHECK(problem_with(a, "never closed").row == 346);  // 300 rows from line 3, 43 of them two lines long
        CHECK(problem_with(a, "after the closing quote").row == 16);
    }
}
