#include <catch2/catch.hpp>

#include "unionstat/decimal.hpp"
#include "unionstat/forms/cell.hpp"
#include "unionstat/text.hpp"

using unionstat::decimal;

TEST_CASE("0.10 + 0.20 equals 0.30 exactly", "[decimal]") {
    CHECK(decimal::parse("0.10") + decimal::parse("0.20") == decimal::parse("0.30"));
    CHECK(decimal::parse("0.1") + decimal::parse("0.2") == decimal::parse("0.3"));
    CHECK((decimal::parse("0.1") + decimal::parse("0.2")).to_string() == "0.3");
}

TEST_CASE("decimals compare exactly across scales", "[decimal]") {
    CHECK(decimal::parse("1.5") == decimal::parse("1.500000"));
    CHECK(decimal::parse("1.000001") > decimal::parse("1"));
    CHECK(decimal::parse("-2") < decimal::parse("0.000001"));
}

TEST_CASE("Chinese spreadsheet number input is read", "[decimal]") {
    CHECK(decimal::parse("１２３") == decimal::from_int(123));
    CHECK(decimal::parse("1,234") == decimal::from_int(1234));
    CHECK(decimal::parse("1,234,567.25") == decimal::parse("1234567.25"));
    CHECK(decimal::parse("  42\u3000") == decimal::from_int(42));
    CHECK(decimal::parse("１，２３４．５") == decimal::parse("1234.5"));
}

TEST_CASE("malformed numbers are rejected, never guessed", "[decimal]") {
    auto text = GENERATE(as<std::string>{}, "12万", "约100", "1.2.3", "1,23", "12,3456", "", "1e5", ".", "1.", "--1", "abc");
    CAPTURE(text);
    CHECK_THROWS_AS(decimal::parse(text), unionstat::value_error);
}

TEST_CASE("a sum past the int64 range is an overflow error, not a wrap", "[decimal]") {
    const decimal big = decimal::from_int(9223372036854775000LL);
    CHECK_THROWS_AS(big + decimal::from_int(1000), unionstat::overflow_error);
    CHECK_THROWS_AS(decimal::parse("99999999999999999999"), unionstat::overflow_error);
    // Rescaling a large value to 分 also overflows instead of wrapping.
    CHECK_THROWS_AS(decimal::from_int(9223372036854LL).rescaled(7), unionstat::overflow_error);
}

TEST_CASE("more decimals than allowed is an error, not rounding", "[decimal]") {
    CHECK_THROWS_AS(decimal::parse("1.2345678", 6), unionstat::value_error);
    CHECK(decimal::parse("1.234567", 6).raw() == 1234567);
    CHECK_THROWS_AS(decimal::parse("1.25").rescaled(1), unionstat::value_error);
}

TEST_CASE("cells of each field type parse to exact stored values", "[decimal][cell]") {
    using namespace unionstat;
    field_def money;
    money.code = "05C";
    money.type = field_type::money;
    money.unit = "万元";
    money.decimals = 2;
    money.scale = 6;
    field_def count;
    count.code = "01A";
    count.unit = "人";
    field_def flag;
    flag.code = "06B";
    flag.type = field_type::flag;
    flag.unit = "是/否";

    CHECK(parse_cell(money, "1.5").raw == 1500000);
    CHECK(parse_cell(money, "").state == cell_state::blank);
    CHECK(parse_cell(money, "—").state == cell_state::not_applicable);
    CHECK_THROWS_WITH(parse_cell(money, "1.2345678"), Catch::Contains("more than 6 decimals"));
    CHECK_THROWS_WITH(parse_cell(count, "-1"), Catch::Contains("negative"));
    CHECK_THROWS_WITH(parse_cell(count, "1.5"), Catch::Contains("whole number"));
    CHECK(parse_cell(count, "12.0").raw == 12);
    CHECK(parse_cell(count, "0").state == cell_state::value);  // 0 is a value, not a blank
    CHECK(parse_cell(flag, "是").raw == 1);
    CHECK(parse_cell(flag, "×").raw == 0);
    CHECK_THROWS_AS(parse_cell(flag, "也许"), value_error);
    CHECK(format_raw(money, 1500000) == "1.50");
    CHECK(format_raw(money, 1234567) == "1.234567");
}

TEST_CASE("money leaves with the reported decimals, more only where the value has them", "[decimal][cell]") {
    CHECK(unionstat::format_money(5000000, 6, 2) == "5.00");
    CHECK(unionstat::format_money(5000, 6, 2) == "0.005");
    CHECK(unionstat::format_money(-1234500, 6, 2) == "-1.2345");
    CHECK(unionstat::format_money(150, 2, 2) == "1.50");
}

TEST_CASE("ids are stripped of the spaces office files put around them, and only at the ends", "[text]") {
    using unionstat::detail::trim;
    CHECK(trim(" \t630100\r\n") == "630100");
    CHECK(trim("\xE3\x80\x80"
               "630100"
               "\xE3\x80\x80") == "630100");  // U+3000
    CHECK(trim("\xC2\xA0"
               "630100"
               "\xC2\xA0") == "630100");  // U+00A0
    CHECK(trim("\xEF\xBB\xBF"
               "630100") == "630100");  // U+FEFF
    CHECK(trim("630100"
               "\xE2\x80\x8B") == "630100");  // U+200B
    CHECK(trim("63 01") == "63 01");
    CHECK(trim("\xC2\xA0 \xE3\x80\x80") == "");
    CHECK(trim("\xE5\x85\xA8") == "\xE5\x85\xA8");  // 全: a character ending in 0x80-0xBF bytes is kept
    CHECK(trim("\xE2\x80\x83"
               "x") ==
          "\xE2\x80\x83"
          "x");  // an em space is not what office files hold
}
