// Arrow C data interface: import of hand-built arrays of every supported type, the
// structural checks on malformed arrays, the owners, and the export of result tables.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "unionstat/io/arrow_abi.hpp"
#include "unionstat/io/arrow_import.hpp"
#include "unionstat/io/arrow_table.hpp"
#include "unionstat/unionstat.hpp"

using namespace unionstat;

namespace {

__extension__ typedef __int128 i128;

// --- a small form -----------------------------------------------------------------------

std::shared_ptr<const form_schema> test_form() {
    static const std::shared_ptr<const form_schema> form = [] {
        auto f = std::make_shared<form_schema>();
        f->id = "arrow-test";
        f->family = "songnuan";
        auto add = [&](const char* code, field_type t, const char* unit, const char* key) {
            field_def d;
            d.code = code;
            d.row = std::string(code).substr(0, 2);
            d.letter = std::string(code).substr(2);
            d.key = key;
            d.label = key;
            d.label_en = key;
            d.type = t;
            d.unit = unit;
            d.decimals = t == field_type::money ? 2 : 0;
            d.scale = storage_scale(t, unit);
            if (t == field_type::flag) d.agg = aggregation::none;
            f->fields.push_back(d);
        };
        add("01A", field_type::count, "人", "workers.total");
        add("01B", field_type::count, "人", "workers.migrant");
        add("05A", field_type::money, "万元", "funds.total");
        add("05B", field_type::money, "元", "funds.yuan");
        add("06A", field_type::flag, "是/否", "fund.in_budget");
        f->finalize();
        return f;
    }();
    return form;
}

std::size_t idx(const std::string& code) { return test_form()->index(code); }

// --- hand-built Arrow arrays -------------------------------------------------------------

int schemas_released = 0, arrays_released = 0;

// One column as buffers of bytes (nullopt: a null buffer pointer).
struct col {
    std::string name, format;
    std::int64_t length = 0, offset = 0, null_count = 0;
    std::vector<std::optional<std::vector<std::uint8_t>>> buffers;
    std::shared_ptr<col> dictionary;
};

template <class T>
std::vector<std::uint8_t> bytes_of(const std::vector<T>& v) {
    std::vector<std::uint8_t> b(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
    return b;
}

std::vector<std::uint8_t> bitmap(const std::vector<bool>& bits) {
    std::vector<std::uint8_t> b((bits.size() + 7) / 8 + 1, 0);
    for (std::size_t i = 0; i < bits.size(); ++i)
        if (bits[i]) b[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
    return b;
}

template <class T>
std::optional<std::vector<std::uint8_t>> validity_of(const std::vector<std::optional<T>>& v, std::int64_t& nulls) {
    std::vector<bool> bits;
    nulls = 0;
    for (const auto& x : v) {
        bits.push_back(x.has_value());
        nulls += !x;
    }
    if (!nulls) return std::nullopt;
    return bitmap(bits);
}

template <class T>
col prim(std::string name, std::string format, const std::vector<std::optional<T>>& v) {
    col c{std::move(name), std::move(format)};
    c.length = static_cast<std::int64_t>(v.size());
    std::vector<T> data;
    for (const auto& x : v) data.push_back(x ? *x : T{});
    c.buffers.push_back(validity_of(v, c.null_count));
    c.buffers.push_back(bytes_of(data));
    return c;
}

col int64_col(std::string name, const std::vector<std::optional<std::int64_t>>& v) { return prim(std::move(name), "l", v); }

col utf8_col(std::string name, const std::vector<std::optional<std::string>>& v, bool large = false) {
    col c{std::move(name), large ? "U" : "u"};
    c.length = static_cast<std::int64_t>(v.size());
    std::string chars;
    std::vector<std::int64_t> offsets{0};
    for (const auto& x : v) {
        if (x) chars += *x;
        offsets.push_back(static_cast<std::int64_t>(chars.size()));
    }
    c.buffers.push_back(validity_of(v, c.null_count));
    if (large) {
        c.buffers.push_back(bytes_of(offsets));
    } else {
        std::vector<std::int32_t> o(offsets.begin(), offsets.end());
        c.buffers.push_back(bytes_of(o));
    }
    c.buffers.push_back(std::vector<std::uint8_t>(chars.begin(), chars.end()));
    return c;
}

// string_view: inline up to 12 bytes, longer ones spread over two data buffers.
col view_col(std::string name, const std::vector<std::optional<std::string>>& v) {
    col c{std::move(name), "vu"};
    c.length = static_cast<std::int64_t>(v.size());
    std::vector<std::uint8_t> views(16 * v.size(), 0);
    std::string data[2];
    int turn = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string s = v[i] ? *v[i] : "";
        std::uint8_t* p = views.data() + 16 * i;
        const auto len = static_cast<std::int32_t>(s.size());
        std::memcpy(p, &len, 4);
        if (s.size() <= 12) {
            std::memcpy(p + 4, s.data(), s.size());
        } else {
            const std::int32_t buf = turn, off = static_cast<std::int32_t>(data[turn].size());
            std::memcpy(p + 4, s.data(), 4);
            std::memcpy(p + 8, &buf, 4);
            std::memcpy(p + 12, &off, 4);
            data[turn] += s;
            turn = 1 - turn;
        }
    }
    c.buffers.push_back(validity_of(v, c.null_count));
    c.buffers.push_back(views);
    for (auto& d : data) c.buffers.push_back(std::vector<std::uint8_t>(d.begin(), d.end()));
    c.buffers.push_back(bytes_of(
        std::vector<std::int64_t>{static_cast<std::int64_t>(data[0].size()), static_cast<std::int64_t>(data[1].size())}));
    return c;
}

col bool_col(std::string name, const std::vector<std::optional<bool>>& v) {
    col c{std::move(name), "b"};
    c.length = static_cast<std::int64_t>(v.size());
    std::vector<bool> bits;
    for (const auto& x : v) bits.push_back(x && *x);
    c.buffers.push_back(validity_of(v, c.null_count));
    c.buffers.push_back(bitmap(bits));
    return c;
}

col decimal_col(std::string name, std::string format, const std::vector<std::optional<i128>>& v) {
    col c{std::move(name), std::move(format)};
    c.length = static_cast<std::int64_t>(v.size());
    std::vector<std::uint8_t> data(16 * v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        const i128 x = v[i] ? *v[i] : 0;
        std::memcpy(data.data() + 16 * i, &x, 16);  // little-endian two's complement, as the spec says
    }
    c.buffers.push_back(validity_of(v, c.null_count));
    c.buffers.push_back(data);
    return c;
}

template <class T>
col index_col(std::string name, std::string format, const std::vector<std::optional<std::int32_t>>& indices) {
    std::vector<std::optional<T>> v;
    for (auto i : indices) v.push_back(i ? std::optional<T>(static_cast<T>(*i)) : std::nullopt);
    return prim(std::move(name), std::move(format), v);
}

col dict_col(std::string name, std::string index_format, const std::vector<std::optional<std::int32_t>>& indices, col values) {
    col c = index_format == "c"   ? index_col<std::int8_t>(std::move(name), index_format, indices)
            : index_format == "s" ? index_col<std::int16_t>(std::move(name), index_format, indices)
            : index_format == "I" ? index_col<std::uint32_t>(std::move(name), index_format, indices)
            : index_format == "L" ? index_col<std::uint64_t>(std::move(name), index_format, indices)
                                  : index_col<std::int32_t>(std::move(name), index_format, indices);
    c.dictionary = std::make_shared<col>(std::move(values));
    return c;
}

col null_col(std::string name, std::int64_t length) {
    col c{std::move(name), "n"};
    c.length = length;
    c.null_count = length;
    return c;
}

// Slices a column: drops `k` values in front by the offset (the buffers stay whole).
col sliced(col c, std::int64_t k) {
    c.offset += k;
    c.length -= k;
    c.null_count = -1;  // unknown, as a slice often says
    return c;
}

// Prepends `k` junk values to a primitive column, then slices them off again.
template <class T>
col padded(std::string name, std::string format, std::vector<std::optional<T>> v, std::size_t k, T junk) {
    std::vector<std::optional<T>> all(k, junk);
    all.insert(all.end(), v.begin(), v.end());
    return sliced(prim(std::move(name), std::move(format), all), static_cast<std::int64_t>(k));
}

struct schema_holder {
    std::string format, name;
    std::vector<ArrowSchema> kids;
    std::vector<ArrowSchema*> ptrs;
    ArrowSchema dict{};
};

void release_test_schema(ArrowSchema* s) {
    auto* h = static_cast<schema_holder*>(s->private_data);
    for (auto* k : h->ptrs)
        if (k->release) k->release(k);
    if (s->dictionary && s->dictionary->release) s->dictionary->release(s->dictionary);
    delete h;
    s->release = nullptr;
    ++schemas_released;
}

void make_schema(ArrowSchema* out, const std::string& format, const std::string& name) {
    auto* h = new schema_holder{format, name, {}, {}, {}};
    *out = ArrowSchema{};
    out->format = h->format.c_str();
    out->name = h->name.c_str();
    out->flags = ARROW_FLAG_NULLABLE;
    out->release = release_test_schema;
    out->private_data = h;
}

void col_schema(ArrowSchema* out, const col& c) {
    make_schema(out, c.format, c.name);
    if (c.dictionary) {
        auto* h = static_cast<schema_holder*>(out->private_data);
        make_schema(&h->dict, c.dictionary->format, "");
        out->dictionary = &h->dict;
    }
}

struct array_holder {
    std::vector<std::vector<std::uint8_t>> bytes;
    std::vector<const void*> ptrs;
    std::vector<ArrowArray> kids;
    std::vector<ArrowArray*> kid_ptrs;
    ArrowArray dict{};
};

void release_test_array(ArrowArray* a) {
    auto* h = static_cast<array_holder*>(a->private_data);
    for (auto* k : h->kid_ptrs)
        if (k->release) k->release(k);
    if (a->dictionary && a->dictionary->release) a->dictionary->release(a->dictionary);
    delete h;
    a->release = nullptr;
    ++arrays_released;
}

void col_array(ArrowArray* out, const col& c) {
    auto* h = new array_holder;
    h->bytes.reserve(c.buffers.size());
    for (const auto& b : c.buffers) {
        if (b) {
            h->bytes.push_back(*b);
            // A buffer of its claimed size exactly (no slack), at a fresh address.
            h->ptrs.push_back(h->bytes.back().empty() ? static_cast<const void*>(&h->bytes) : h->bytes.back().data());
        } else {
            h->ptrs.push_back(nullptr);
        }
    }
    *out = ArrowArray{};
    out->length = c.length;
    out->offset = c.offset;
    out->null_count = c.null_count;
    out->n_buffers = static_cast<std::int64_t>(c.buffers.size());
    out->buffers = h->ptrs.data();
    out->release = release_test_array;
    out->private_data = h;
    if (c.dictionary) {
        col_array(&h->dict, *c.dictionary);
        out->dictionary = &h->dict;
    }
}

// A record batch (struct array) of the columns, `offset` rows sliced off its front.
void make_batch(const std::vector<col>& cols, ArrowSchema* schema, ArrowArray* array, std::int64_t offset = 0) {
    make_schema(schema, "+s", "");
    auto* sh = static_cast<schema_holder*>(schema->private_data);
    sh->kids.resize(cols.size());
    for (std::size_t i = 0; i < cols.size(); ++i) {
        col_schema(&sh->kids[i], cols[i]);
        sh->ptrs.push_back(&sh->kids[i]);
    }
    schema->n_children = static_cast<std::int64_t>(cols.size());
    schema->children = sh->ptrs.data();

    auto* ah = new array_holder;
    ah->ptrs.push_back(nullptr);
    ah->kids.resize(cols.size());
    for (std::size_t i = 0; i < cols.size(); ++i) {
        col_array(&ah->kids[i], cols[i]);
        ah->kid_ptrs.push_back(&ah->kids[i]);
    }
    *array = ArrowArray{};
    array->length = (cols.empty() ? 0 : cols[0].length) - offset;
    array->offset = offset;
    array->n_buffers = 1;
    array->buffers = ah->ptrs.data();
    array->n_children = static_cast<std::int64_t>(cols.size());
    array->children = ah->kid_ptrs.data();
    array->release = release_test_array;
    array->private_data = ah;
}

read_result read(const std::vector<col>& cols, const arrow_import_options& o = {}, std::int64_t offset = 0) {
    ArrowSchema s;
    ArrowArray a;
    make_batch(cols, &s, &a, offset);
    return import_arrow(test_form(), &s, &a, o);
}

std::optional<std::int64_t> raw(const read_result& r, std::size_t row, const std::string& code) {
    return r.batch.raw(row, idx(code));
}

// A problem's place and message, as one line (for CHECK messages).
std::string show(const read_result& r) {
    std::string s;
    for (const auto& p : r.problems) s += p.to_string() + " [" + p.text + "]\n";
    return s;
}

const read_problem* problem_at(const read_result& r, std::int64_t row, const std::string& field) {
    for (const auto& p : r.problems)
        if (p.row == row && p.field == field) return &p;
    return nullptr;
}

std::vector<std::optional<std::string>> units(std::size_t n) {
    std::vector<std::optional<std::string>> u;
    for (std::size_t i = 0; i < n; ++i) u.push_back("u" + std::to_string(i + 1));
    return u;
}

// Expects a value_error from the import whose text names `column`.
void expect_malformed(const std::vector<col>& cols, const std::string& column, const std::string& words) {
    try {
        (void)read(cols);
        FAIL("no value_error for a malformed array (" << words << ")");
    } catch (const value_error& e) {
        const std::string what = e.what();
        CAPTURE(what);
        CHECK(what.find(column) != std::string::npos);
        CHECK(what.find(words) != std::string::npos);
        CHECK(e.where().column > 0);
    }
}

}  // namespace

// --- import ---------------------------------------------------------------------------------

TEST_CASE("int64 columns give counts, money in its unit and flags; nulls are blanks", "[arrow]") {
    const auto r =
        read({utf8_col("unit", units(3)), utf8_col("period", {"2018", "2018", "2018"}), int64_col("01A", {100, std::nullopt, 0}),
              int64_col("05A", {12, 0, std::nullopt}), int64_col("06A", {1, 0, std::nullopt})});
    INFO(show(r));
    REQUIRE(r.problems.empty());
    REQUIRE(r.batch.size() == 3);
    CHECK(r.batch.units() == std::vector<std::string>{"u1", "u2", "u3"});
    CHECK(r.batch.periods()[2] == "2018");
    CHECK(raw(r, 0, "01A") == 100);
    CHECK_FALSE(raw(r, 1, "01A"));  // null → blank, never 0
    CHECK(raw(r, 2, "01A") == 0);
    CHECK(raw(r, 0, "05A") == 12000000);  // 12 万元 stored to the 分
    CHECK(raw(r, 0, "06A") == 1);
    CHECK_FALSE(raw(r, 0, "05B"));  // a field the table does not carry is blank
    CHECK(r.batch.row_number(2) == 3);
}

TEST_CASE("a negative count is a problem naming row, column, unit and field", "[arrow]") {
    const auto r = read({utf8_col("unit", units(2)), int64_col("01B", {3, -5}), int64_col("06A", {2, 1})});
    REQUIRE(r.problems.size() == 2);
    CHECK(r.problems[0].row == 1);  // problems come in row order
    CHECK(r.problems[0].field == "06A");
    CHECK(r.problems[0].message.find("是/否") != std::string::npos);
    const read_problem& p = r.problems[1];
    CHECK(p.row == 2);
    CHECK(p.column == 2);
    CHECK(p.unit == "u2");
    CHECK(p.field == "01B");
    CHECK(p.text == "-5");
    CHECK(p.message.find("negative") != std::string::npos);
    CHECK_FALSE(raw(r, 1, "01B"));  // the bad cell is blank, the row kept
    CHECK(raw(r, 1, "06A") == 1);
}

TEST_CASE("every integer width is read, and a uint64 past 2^63 is too large, not negative", "[arrow]") {
    const std::uint64_t big = (std::uint64_t(1) << 63) + 7;
    const auto r = read({utf8_col("unit", units(2)), prim<std::int8_t>("01A", "c", {std::int8_t(-1), std::int8_t(127)}),
                         prim<std::int16_t>("01B", "s", {std::int16_t(300), std::nullopt}),
                         prim<std::uint8_t>("05A", "C", {std::uint8_t(255), std::uint8_t(1)}),
                         prim<std::uint16_t>("05B", "S", {std::uint16_t(65535), std::uint16_t(2)}),
                         prim<std::uint64_t>("workers.total", "L", {big, std::uint64_t(9)})});
    // 01A is named twice (code and key): a header problem; the second column is not read.
    INFO(show(r));
    CHECK(raw(r, 1, "01A") == 127);
    CHECK(raw(r, 0, "01B") == 300);
    CHECK(raw(r, 0, "05A") == 255000000);
    CHECK(raw(r, 0, "05B") == 6553500);
    const read_problem* neg = problem_at(r, 1, "01A");
    REQUIRE(neg);
    CHECK(neg->message.find("negative") != std::string::npos);
    bool duplicate = false;
    for (const auto& p : r.problems) duplicate |= p.row == 0 && p.column == 6;
    CHECK(duplicate);

    const auto u = read({utf8_col("unit", units(3)), prim<std::uint64_t>("01A", "L", {big, std::uint64_t(9), std::nullopt}),
                         prim<std::uint32_t>("01B", "I", {std::uint32_t(4000000000u), std::nullopt, std::uint32_t(1)}),
                         prim<std::int32_t>("05A", "i", {std::int32_t(-2), std::nullopt, std::int32_t(7)})});
    const read_problem* p = problem_at(u, 1, "01A");
    REQUIRE(p);
    CHECK(p->text == "9223372036854775815");
    CHECK(p->message.find("too large") != std::string::npos);
    CHECK(p->message.find("negative") == std::string::npos);
    CHECK(raw(u, 1, "01A") == 9);
    CHECK(raw(u, 0, "01B") == 4000000000);
    CHECK(problem_at(u, 1, "05A")->message.find("negative") != std::string::npos);
    CHECK(raw(u, 2, "05A") == 7000000);
}

TEST_CASE("decimal128 is exact: extra decimals only when zeros, negatives refused", "[arrow]") {
    const auto r =
        read({utf8_col("unit", units(5)),
              // 05A (万元, stored to 6 decimals) from decimal(38, 8)
              decimal_col("05A", "d:38,8", {i128(123456700), i128(123456789), i128(-100000000), std::nullopt, i128(1)}),
              // 01A (count) from decimal(10, 2)
              decimal_col("01A", "d:10,2", {i128(500), i128(550), i128(0), i128(12300), std::nullopt}),
              // 05B (元, 2 decimals) from decimal(38, 0, 128)
              decimal_col("05B", "d:38,0,128", {i128(7), std::nullopt, std::nullopt, std::nullopt, i128(1)})});
    INFO(show(r));
    CHECK(raw(r, 0, "05A") == 1234567);  // 1.23456700 → 1.234567
    const read_problem* extra = problem_at(r, 2, "05A");
    REQUIRE(extra);
    CHECK(extra->text == "1.23456789");
    CHECK(extra->message.find("decimals") != std::string::npos);
    const read_problem* negative = problem_at(r, 3, "05A");
    REQUIRE(negative);
    CHECK(negative->text == "-1.00000000");
    CHECK(negative->message.find("amount cannot be negative") != std::string::npos);
    CHECK_FALSE(raw(r, 3, "05A"));
    CHECK(problem_at(r, 5, "05A"));  // 0.00000001 万元 is below the 分
    CHECK(raw(r, 0, "01A") == 5);
    CHECK(problem_at(r, 2, "01A")->message.find("whole number") != std::string::npos);
    CHECK(raw(r, 2, "01A") == 0);  // 0.00 is 0, not blank
    CHECK(raw(r, 3, "01A") == 123);
    CHECK(raw(r, 4, "05B") == 100);
    CHECK(raw(r, 0, "05B") == 700);
    CHECK(r.problems.size() == 4);
}

TEST_CASE("a float is read as its shortest text in its own precision", "[arrow]") {
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    const auto r = read({utf8_col("unit", units(5)),
                         prim<float>("05A", "f", {0.1f, 1234.5f, std::nullopt, std::numeric_limits<float>::quiet_NaN(), 3.3f}),
                         prim<double>("01A", "g", {1e16, 12.0, nan, 2.5, inf}),
                         prim<double>("05B", "g", {12.34, 0.1 + 0.2, -inf, 1e-3, 0.0})});
    INFO(show(r));
    CHECK(raw(r, 0, "05A") == 100000);  // float32 0.1 is 0.1 万元, not 0.10000000149011612
    CHECK(raw(r, 1, "05A") == 1234500000);
    CHECK_FALSE(raw(r, 2, "05A"));
    CHECK_FALSE(raw(r, 3, "05A"));  // NaN is pandas' missing value: blank
    CHECK(raw(r, 4, "05A") == 3300000);
    CHECK(raw(r, 0, "01A") == 10000000000000000);  // 1e16, not "1e+16 is not a number"
    CHECK(raw(r, 1, "01A") == 12);
    const read_problem* half = problem_at(r, 4, "01A");
    REQUIRE(half);
    CHECK(half->text == "2.5");
    const read_problem* infinite = problem_at(r, 5, "01A");
    REQUIRE(infinite);
    CHECK(infinite->text == "inf");
    CHECK(raw(r, 0, "05B") == 1234);
    const read_problem* sum = problem_at(r, 2, "05B");  // 0.1 + 0.2 came from arithmetic: refused, not rounded
    REQUIRE(sum);
    CHECK(sum->text == "0.30000000000000004");
    CHECK(problem_at(r, 3, "05B"));                                                 // -inf
    CHECK(problem_at(r, 4, "05B")->message.find("decimals") != std::string::npos);  // 0.001 元 is below the 分
    CHECK_FALSE(raw(r, 3, "05B"));
    CHECK(raw(r, 4, "05B") == 0);
    CHECK(r.problems.size() == 5);
}

TEST_CASE("booleans fill flags; a boolean column for a count is refused as a column", "[arrow]") {
    const auto r =
        read({utf8_col("unit", units(3)), bool_col("06A", {true, false, std::nullopt}), bool_col("01A", {true, true, false})});
    CHECK(raw(r, 0, "06A") == 1);
    CHECK(raw(r, 1, "06A") == 0);
    CHECK_FALSE(raw(r, 2, "06A"));
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].row == 0);
    CHECK(r.problems[0].column == 3);
    CHECK(r.problems[0].field == "01A");
    CHECK_FALSE(raw(r, 0, "01A"));
}

TEST_CASE("text cells follow the CSV rules in utf8, large_utf8 and string_view", "[arrow]") {
    const std::vector<std::optional<std::string>> counts{"1,234", "１２３", " 7 ", std::nullopt, "12万", "—", ""};
    const std::vector<std::optional<std::string>> flags{"是", "否", "Y", "0", "maybe", std::nullopt, "1"};
    const std::vector<std::optional<std::string>> money{"12.34", "0.000001", "1.2345678", "1,000.5", "-1", "约100", "3"};
    for (int variant = 0; variant < 3; ++variant) {
        CAPTURE(variant);
        auto make = [&](const std::string& name, const std::vector<std::optional<std::string>>& v) {
            return variant == 0 ? utf8_col(name, v) : variant == 1 ? utf8_col(name, v, true) : view_col(name, v);
        };
        const auto r = read({make("unit", units(7)), make("01A", counts), make("06A", flags), make("05A", money)});
        INFO(show(r));
        CHECK(raw(r, 0, "01A") == 1234);
        CHECK(raw(r, 1, "01A") == 123);
        CHECK(raw(r, 2, "01A") == 7);
        CHECK_FALSE(raw(r, 3, "01A"));
        const read_problem* wan = problem_at(r, 5, "01A");
        REQUIRE(wan);
        CHECK(wan->text == "12万");
        CHECK(wan->unit == "u5");
        CHECK(wan->column == 2);
        CHECK_FALSE(raw(r, 5, "01A"));  // "—": not applicable, blank
        CHECK_FALSE(raw(r, 6, "01A"));
        CHECK(raw(r, 0, "06A") == 1);
        CHECK(raw(r, 1, "06A") == 0);
        CHECK(raw(r, 2, "06A") == 1);
        CHECK(raw(r, 3, "06A") == 0);
        CHECK(problem_at(r, 5, "06A"));
        CHECK(raw(r, 6, "06A") == 1);
        CHECK(raw(r, 0, "05A") == 12340000);
        CHECK(raw(r, 1, "05A") == 1);
        CHECK(problem_at(r, 3, "05A"));  // 7 decimals of 万元: below the 分
        CHECK(raw(r, 3, "05A") == 1000500000);
        CHECK(problem_at(r, 5, "05A")->message.find("negative") != std::string::npos);
        CHECK(problem_at(r, 6, "05A"));
        CHECK(raw(r, 6, "05A") == 3000000);
        CHECK(r.problems.size() == 5);
    }
}

TEST_CASE("string_view values inline and in several data buffers", "[arrow]") {
    const std::vector<std::optional<std::string>> ids{"630100",       "630100000000000001", std::nullopt,
                                                      "123456789012", "1234567890123",      "630100000000000002"};
    const auto r = read({view_col("unit", ids), view_col("01A", {"1", "22", "333", "000000000000000444", "5", "6"})});
    INFO(show(r));
    CHECK(r.batch.units()[0] == "630100");
    CHECK(r.batch.units()[1] == "630100000000000001");
    CHECK(r.batch.units()[3] == "123456789012");
    CHECK(r.batch.units()[4] == "1234567890123");
    CHECK(r.batch.units()[5] == "630100000000000002");
    CHECK(raw(r, 3, "01A") == 444);
    REQUIRE(r.problems.size() == 1);  // the null unit
    CHECK(r.problems[0].row == 3);
    CHECK(r.problems[0].field == "unit");
    CHECK(r.problems[0].message.find("unit id is missing") != std::string::npos);
}

TEST_CASE("dictionary-encoded columns of text, with any integer index type", "[arrow]") {
    const auto r = read({dict_col("unit", "c", {0, 1, 0, 2}, utf8_col("", {"630100", "630200", "630300"})),
                         dict_col("period", "I", {0, 0, 0, std::nullopt}, utf8_col("", {"2018"})),
                         dict_col("01A", "i", {1, 0, std::nullopt, 2}, utf8_col("", {"12", "1,000", std::nullopt})),
                         dict_col("05A", "s", {0, 1, 1, 0}, view_col("", {"3.5", "bad value that is long"}))});
    INFO(show(r));
    CHECK(r.batch.units() == std::vector<std::string>{"630100", "630200", "630100", "630300"});
    CHECK(r.batch.periods()[0] == "2018");
    CHECK(raw(r, 0, "01A") == 1000);
    CHECK(raw(r, 1, "01A") == 12);
    CHECK_FALSE(raw(r, 2, "01A"));
    CHECK_FALSE(raw(r, 3, "01A"));  // a null dictionary value
    CHECK(raw(r, 0, "05A") == 3500000);
    // the bad dictionary value is a problem on every row that uses it
    CHECK(problem_at(r, 2, "05A"));
    CHECK(problem_at(r, 3, "05A"));
    CHECK(problem_at(r, 3, "05A")->unit == "630100");
    const read_problem* period = problem_at(r, 4, "period");
    REQUIRE(period);
    CHECK(r.problems.size() == 3);

    const auto ints = read({utf8_col("unit", units(3)), dict_col("01A", "L", {2, 1, 0}, int64_col("", {5, -1, 9}))});
    CHECK(raw(ints, 0, "01A") == 9);
    CHECK(problem_at(ints, 2, "01A"));
    CHECK(raw(ints, 2, "01A") == 5);
}

TEST_CASE("a null-typed column is blank in every row", "[arrow]") {
    const auto r = read({utf8_col("unit", units(2)), null_col("01A", 2), int64_col("01B", {1, 2})});
    REQUIRE(r.problems.empty());
    CHECK_FALSE(raw(r, 0, "01A"));
    CHECK_FALSE(raw(r, 1, "01A"));
    CHECK(raw(r, 1, "01B") == 2);
}

TEST_CASE("sliced arrays: each column's offset and the record batch's offset count", "[arrow]") {
    // Three junk rows in front of every column (offset 3), bit-packed ones included.
    auto bools = bool_col("06A", {true, true, true, std::nullopt, false, true, std::nullopt, true});
    auto texts = utf8_col("01B", {"9", "9", "9", "1", std::nullopt, "3", "4", "5"});
    auto views = view_col("unit", {"x", "x", "x", "a", "bbbbbbbbbbbbbbbb", "c", "d", "eeeeeeeeeeeeeeee"});
    std::vector<col> cols{sliced(views, 3), padded<std::int64_t>("01A", "l", {10, std::nullopt, 30, 40, 50}, 3, -1),
                          sliced(texts, 3), sliced(bools, 3)};
    const auto r = read(cols);
    INFO(show(r));
    REQUIRE(r.problems.empty());
    REQUIRE(r.batch.size() == 5);
    CHECK(r.batch.units() == std::vector<std::string>{"a", "bbbbbbbbbbbbbbbb", "c", "d", "eeeeeeeeeeeeeeee"});
    CHECK(raw(r, 0, "01A") == 10);
    CHECK_FALSE(raw(r, 1, "01A"));
    CHECK(raw(r, 4, "01A") == 50);
    CHECK(raw(r, 0, "01B") == 1);
    CHECK_FALSE(raw(r, 1, "01B"));
    CHECK(raw(r, 2, "01B") == 3);
    CHECK_FALSE(raw(r, 0, "06A"));
    CHECK(raw(r, 1, "06A") == 0);
    CHECK(raw(r, 2, "06A") == 1);
    CHECK_FALSE(raw(r, 3, "06A"));

    // The struct itself sliced by 2 on top: rows c, d, e.
    const auto s = read(cols, {}, 2);
    REQUIRE(s.batch.size() == 3);
    CHECK(s.batch.units()[0] == "c");
    CHECK(raw(s, 0, "01A") == 30);
    CHECK(raw(s, 2, "01B") == 5);
    CHECK(s.batch.row_number(0) == 1);  // rows are numbered as the table the user passed
}

TEST_CASE("unit ids and periods from integer columns; null or blank keys name the row", "[arrow]") {
    const auto r = read({int64_col("unit", {630100, std::nullopt, 630300}),
                         prim<std::int32_t>("period", "i", {2018, 2018, std::nullopt}), int64_col("01A", {1, 2, 3})});
    CHECK(r.batch.units()[0] == "630100");
    CHECK(r.batch.periods()[0] == "2018");
    REQUIRE(r.problems.size() == 2);
    CHECK(r.problems[0].row == 2);
    CHECK(r.problems[0].message.find("unit") != std::string::npos);
    CHECK(r.problems[1].row == 3);
    CHECK(r.problems[1].message.find("period") != std::string::npos);
    CHECK(raw(r, 1, "01A") == 2);  // the row is kept (its bad key listed)

    const auto blank = read({utf8_col("单位代码", {"  ", "630100 "}), int64_col("01A", {1, 2})});
    REQUIRE(blank.problems.size() == 1);
    CHECK(blank.problems[0].row == 1);
    CHECK(blank.batch.units()[1] == "630100");
}

TEST_CASE("a row-number column names the user's rows and is not read as a field", "[arrow]") {
    arrow_import_options o;
    o.row_column = "sheet_row";
    const auto r = read({int64_col("sheet_row", {5, 6, 9}), utf8_col("unit", units(3)), int64_col("01A", {1, -1, 2})}, o);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].row == 6);
    CHECK(r.problems[0].column == 3);  // input columns are counted with the row column
    CHECK(r.batch.row_number(2) == 9);
    CHECK(r.notices.empty());
    CHECK(r.ignored_columns.empty());

    o.row_column = "no_such_column";
    CHECK_THROWS_AS(read({utf8_col("unit", units(1)), int64_col("01A", {1})}, o), value_error);
}

TEST_CASE("other columns are listed as not read, or refused when strict", "[arrow]") {
    const std::vector<col> cols{utf8_col("unit", units(1)), int64_col("01A", {1}), utf8_col("备注", {"note"}),
                                int64_col("99Z", {1})};
    const auto r = read(cols);
    CHECK(r.ignored_columns == std::vector<std::string>{"备注"});
    REQUIRE(r.notices.size() == 1);
    CHECK(r.notices[0].find("备注") != std::string::npos);
    REQUIRE(r.problems.size() == 1);  // 99Z looks like a field code of another form
    CHECK(r.problems[0].column == 4);
    arrow_import_options strict;
    strict.strict = true;
    CHECK(read(cols, strict).problems.size() == 2);
}

TEST_CASE("a table without a unit column or without fields is refused, its columns listed", "[arrow]") {
    try {
        (void)read({utf8_col("name", {"a"}), int64_col("01A", {1})});
        FAIL("no error");
    } catch (const value_error& e) {
        const std::string what = e.what();
        CHECK(what.find("unit column") != std::string::npos);
        CHECK(what.find("name, 01A") != std::string::npos);
    }
    CHECK_THROWS_AS(read({utf8_col("unit", {"a"}), int64_col("x", {1})}), value_error);
}

TEST_CASE("malformed arrays are a value_error naming the column, never a crash", "[arrow]") {
    const col unit = utf8_col("unit", units(2));
    SECTION("unsupported format") {
        col c = int64_col("01A", {1, 2});
        c.format = "tsu:";
        expect_malformed({unit, c}, "01A", "tsu:");
    }
    SECTION("malformed decimal format") {
        col c = decimal_col("05A", "d:38,x", {i128(1), i128(2)});
        expect_malformed({unit, c}, "05A", "d:38,x");
    }
    SECTION("wrong number of buffers") {
        col c = int64_col("01A", {1, 2});
        c.buffers.push_back(c.buffers[1]);
        expect_malformed({unit, c}, "01A", "3 buffers");
    }
    SECTION("a string_view column without its sizes buffer") {
        col c = view_col("01A", {"1", "2"});
        c.buffers.resize(2);
        expect_malformed({unit, c}, "01A", "at least 3");
    }
    SECTION("decreasing offsets") {
        col c = utf8_col("01A", {"12", "3"});
        std::vector<std::int32_t> o{0, 2, 1};
        c.buffers[1] = bytes_of(o);
        expect_malformed({unit, c}, "01A", "offsets decrease");
    }
    SECTION("negative first offset") {
        col c = utf8_col("01A", {"12", "3"});
        c.buffers[1] = bytes_of(std::vector<std::int32_t>{-1, 2, 3});
        expect_malformed({unit, c}, "01A", "negative string offset");
    }
    SECTION("null data buffer") {
        col c = int64_col("01A", {1, 2});
        c.buffers[1] = std::nullopt;
        expect_malformed({unit, c}, "01A", "no data buffer");
    }
    SECTION("nulls without a validity buffer") {
        col c = int64_col("01A", {1, 2});
        c.null_count = 1;
        expect_malformed({unit, c}, "01A", "no validity buffer");
    }
    SECTION("a column shorter than the record batch") {
        col c = int64_col("01A", {1});
        expect_malformed({unit, c}, "01A", "values");
    }
    SECTION("a string view outside its data buffers") {
        col c = view_col("01A", {"1", "12345678901234567"});
        c.buffers[c.buffers.size() - 1] = bytes_of(std::vector<std::int64_t>{10, 0});
        expect_malformed({unit, c}, "01A", "outside its data buffers");
    }
    SECTION("a dictionary index out of range") {
        col c = dict_col("01A", "i", {0, 5}, utf8_col("", {"1"}));
        expect_malformed({unit, c}, "01A", "out of range");
    }
    SECTION("a float unit column") {
        col u = prim<double>("unit", "g", {1.0, 2.0});
        expect_malformed({u, int64_col("01A", {1, 2})}, "unit", "text or integers");
    }
    SECTION("a dictionary with a non-integer index") {
        col c = dict_col("01A", "i", {0, 0}, utf8_col("", {"1"}));
        c.format = "u";
        expect_malformed({unit, c}, "01A", "integer index");
    }
    SECTION("the top level is no struct") {
        ArrowSchema s;
        ArrowArray a;
        make_batch({unit, int64_col("01A", {1, 2})}, &s, &a);
        static_cast<schema_holder*>(s.private_data)->format = "l";
        s.format = static_cast<schema_holder*>(s.private_data)->format.c_str();
        const int before = arrays_released;
        CHECK_THROWS_WITH(import_arrow(test_form(), &s, &a), Catch::Contains("struct"));
        CHECK(arrays_released == before + 3);  // the inputs are released even when refused
        CHECK(s.release == nullptr);
    }
}

// --- owners and streams ----------------------------------------------------------------------

namespace {
int owned_releases = 0;
void count_release(ArrowSchema* s) {
    ++owned_releases;
    s->release = nullptr;
}

// A stream over prepared record batches. get_next checks that the consumer released the
// previous batch before asking for the next: the import must not hold more than one.
struct test_stream {
    std::vector<std::vector<col>> batches;
    std::size_t next = 0;
    int schema_calls = 0;
    std::size_t batches_released = 0;
    bool held_two = false;
    int fail_at = -1;
    std::string error;
    static inline int released = 0;
    static inline test_stream* current = nullptr;

    static int get_schema(ArrowArrayStream* s, ArrowSchema* out) {
        auto* t = static_cast<test_stream*>(s->private_data);
        ++t->schema_calls;
        ArrowArray a;
        make_batch(t->batches[0], out, &a);
        a.release(&a);
        return 0;
    }
    static int get_next(ArrowArrayStream* s, ArrowArray* out) {
        auto* t = static_cast<test_stream*>(s->private_data);
        if (t->batches_released != t->next) t->held_two = true;  // a batch handed out earlier is still held
        if (static_cast<int>(t->next) == t->fail_at) {
            t->error = "the producer failed";
            return 5;
        }
        if (t->next == t->batches.size()) {
            out->release = nullptr;
            return 0;
        }
        ArrowSchema sc;
        make_batch(t->batches[t->next++], &sc, out);
        sc.release(&sc);
        current = t;
        out->release = release_batch;
        return 0;
    }
    static void release_batch(ArrowArray* a) {
        ++current->batches_released;
        release_test_array(a);
    }
    static const char* last_error(ArrowArrayStream* s) { return static_cast<test_stream*>(s->private_data)->error.c_str(); }
    static void release(ArrowArrayStream* s) {
        ++released;
        s->release = nullptr;
    }
    void start(ArrowArrayStream* s) {
        s->get_schema = get_schema;
        s->get_next = get_next;
        s->get_last_error = last_error;
        s->release = release;
        s->private_data = this;
    }
};
}  // namespace

TEST_CASE("owners release exactly once, through moves and resets", "[arrow]") {
    owned_releases = 0;
    {
        ArrowSchema raw_schema{};
        raw_schema.release = count_release;
        arrow_schema_owner a(&raw_schema);
        CHECK(raw_schema.release == nullptr);  // taken over: the source is marked released
        CHECK(a.valid());
        arrow_schema_owner b(std::move(a));
        CHECK_FALSE(a.valid());
        arrow_schema_owner c;
        c = std::move(b);
        CHECK(owned_releases == 0);
        ArrowSchema other{};
        other.release = count_release;
        arrow_schema_owner d(&other);
        c = std::move(d);  // releases what c held
        CHECK(owned_releases == 1);
        c.reset();
        c.reset();
        CHECK(owned_releases == 2);
        ArrowSchema third{};
        third.release = count_release;
        arrow_schema_owner e(&third);
        ArrowSchema handed{};
        e.move_to(&handed);
        CHECK_FALSE(e.valid());
        CHECK(handed.release == count_release);
        handed.release(&handed);
    }
    CHECK(owned_releases == 3);

    const int before_s = schemas_released, before_a = arrays_released;
    (void)read({utf8_col("unit", units(1)), int64_col("01A", {1})});
    CHECK(schemas_released - before_s == 3);  // the struct and its two children, once each
    CHECK(arrays_released - before_a == 3);
}

TEST_CASE("a stream of record batches: rows numbered across batches, each batch released before the next", "[arrow]") {
    test_stream t;
    t.batches.push_back({utf8_col("unit", units(2)), int64_col("01A", {1, 2})});
    t.batches.push_back({utf8_col("unit", {"u3"}), int64_col("01A", {-3})});
    t.batches.push_back({utf8_col("unit", {}), int64_col("01A", {})});
    t.batches.push_back({utf8_col("unit", {"u4", "u5"}), int64_col("01A", {4, std::nullopt})});
    ArrowArrayStream s;
    t.start(&s);
    const int before = test_stream::released;
    const auto r = import_arrow(test_form(), &s);
    CHECK(test_stream::released == before + 1);
    CHECK(s.release == nullptr);
    CHECK_FALSE(t.held_two);
    CHECK(t.batches_released == 4);
    CHECK(t.schema_calls == 1);
    REQUIRE(r.batch.size() == 5);
    CHECK(r.batch.units()[4] == "u5");
    CHECK(raw(r, 3, "01A") == 4);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].row == 3);
    CHECK(r.problems[0].unit == "u3");

    test_stream bad;
    bad.batches = t.batches;
    bad.fail_at = 1;
    ArrowArrayStream s2;
    bad.start(&s2);
    CHECK_THROWS_WITH(import_arrow(test_form(), &s2), Catch::Contains("the producer failed"));
    CHECK(test_stream::released == before + 2);  // released on the error path too
}

TEST_CASE("a stream's expected rows only make room: any hint gives the same batch", "[arrow]") {
    // Exact, too few, too many, and one no table has (a damaged Parquet footer): the rows
    // and values are the stream's whatever the hint.
    auto stream_of = [](test_stream& t) {
        for (int b = 0; b < 5; ++b) {
            std::vector<std::optional<std::string>> u;
            std::vector<std::optional<std::int64_t>> v;
            for (int i = 0; i < 1000; ++i) {
                u.push_back("u" + std::to_string(b * 1000 + i));
                v.push_back(b * 1000 + i);
            }
            t.batches.push_back({utf8_col("unit", u), int64_col("01A", v)});
        }
    };
    for (std::size_t hint : {std::size_t(0), std::size_t(5000), std::size_t(10), std::size_t(1) << 20, std::size_t(1) << 40}) {
        test_stream t;
        stream_of(t);
        ArrowArrayStream s;
        t.start(&s);
        arrow_import_options o;
        o.expected_rows = hint;
        const auto r = import_arrow(test_form(), &s, o);
        INFO("hint " << hint);
        REQUIRE(r.batch.size() == 5000);
        CHECK(r.batch.units()[4999] == "u4999");
        CHECK(raw(r, 2500, "01A") == 2500);
        CHECK(r.batch.row_number(4999) == 5000);
        CHECK(r.problems.empty());
    }
}

TEST_CASE("record batches larger than one chunk keep their order and row numbers", "[arrow]") {
    const std::size_t n = 150000;  // many chunks of 8,192 rows, the last one short
    std::vector<std::optional<std::int64_t>> v(n);
    std::vector<std::optional<std::string>> u(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = i % 1000 == 999 ? std::optional<std::int64_t>(-1) : std::optional<std::int64_t>(static_cast<std::int64_t>(i));
        u[i] = std::to_string(i);
    }
    const auto r = read({utf8_col("unit", u), int64_col("01A", v)});
    REQUIRE(r.batch.size() == n);
    CHECK(raw(r, 70000, "01A") == 70000);
    CHECK(r.batch.units()[149999] == "149999");
    REQUIRE(r.problems.size() == n / 1000);
    for (std::size_t i = 0; i < r.problems.size(); ++i) CHECK(r.problems[i].row == static_cast<std::int64_t>(i * 1000 + 1000));
}

// --- export ----------------------------------------------------------------------------------

TEST_CASE("a batch exported as Arrow and imported again is the same batch", "[arrow]") {
    const auto r = read({utf8_col("unit", {"630100", "630200", "630300"}), utf8_col("period", {"2018", "2018", "2019"}),
                         int64_col("01A", {100, std::nullopt, 0}), utf8_col("05A", {"12.345678", "0", std::nullopt}),
                         utf8_col("05B", {"99999999999.99", std::nullopt, "0.01"}), utf8_col("06A", {"是", "否", std::nullopt})});
    INFO(show(r));
    REQUIRE(r.problems.empty());
    const result_table table = batch_to_table(r.batch);
    CHECK(table.column_names() == std::vector<std::string>{"row", "unit", "period", "01A", "01B", "05A", "05B", "06A"});
    CHECK(table.type(5) == result_table::column_type::decimal128);
    CHECK(table.type(7) == result_table::column_type::boolean);

    for (std::size_t batch_rows : {std::size_t(0), std::size_t(1), std::size_t(2)}) {
        CAPTURE(batch_rows);
        ArrowArrayStream s;
        table.export_stream(&s, batch_rows);
        arrow_import_options o;
        o.row_column = "row";
        const auto back = import_arrow(test_form(), &s, o);
        INFO(show(back));
        REQUIRE(back.problems.empty());
        REQUIRE(back.batch.size() == r.batch.size());
        CHECK(back.batch.units() == r.batch.units());
        CHECK(back.batch.periods() == r.batch.periods());
        for (std::size_t i = 0; i < r.batch.size(); ++i) {
            CHECK(back.batch.row_number(i) == r.batch.row_number(i));
            for (std::size_t k = 0; k < test_form()->size(); ++k) CHECK(back.batch.raw(i, k) == r.batch.raw(i, k));
        }
    }
}

TEST_CASE("exported arrays own their memory: the table may die first", "[arrow]") {
    ArrowSchema schema;
    ArrowArray array;
    {
        result_table t;
        t.add_int64("n", {1, 2, 3}, {0b010});
        t.add_utf8("s", std::vector<std::string>{"a", "bc", ""});
        t.add_decimal("m", {-1234567, 5, 0}, 6, {0b100});
        t.add_float64("f", {0.5, 1.5, 2.5});
        t.add_int32("i", {-1, 0, 1});
        t.add_uint32("u", {1, 2, 3});
        t.add_bool("b", {1, 0, 1}, {0b001});
        CHECK_THROWS_AS(t.add_int64("short", {1}), value_error);
        CHECK_THROWS_AS(t.add_int64("n", {1, 2, 3}), value_error);
        t.export_array(&schema, &array);
    }
    REQUIRE(schema.release);
    REQUIRE(array.release);
    CHECK(std::string(schema.format) == "+s");
    REQUIRE(schema.n_children == 7);
    CHECK(std::string(schema.children[0]->format) == "l");
    CHECK(std::string(schema.children[1]->format) == "u");
    CHECK(std::string(schema.children[2]->format) == "d:38,6");
    CHECK(std::string(schema.children[6]->format) == "b");
    CHECK(std::string(schema.children[2]->name) == "m");
    CHECK(array.length == 3);
    REQUIRE(array.n_children == 7);
    const ArrowArray* n = array.children[0];
    CHECK(n->null_count == 1);
    CHECK(static_cast<const std::int64_t*>(n->buffers[1])[2] == 3);
    CHECK_FALSE((static_cast<const std::uint8_t*>(n->buffers[0])[0] >> 1) & 1);
    const ArrowArray* s = array.children[1];
    CHECK(s->n_buffers == 3);
    CHECK(std::string(static_cast<const char*>(s->buffers[2]), 3) == "abc");
    CHECK(s->null_count == 0);
    const ArrowArray* m = array.children[2];
    i128 v;
    std::memcpy(&v, m->buffers[1], 16);
    CHECK(v == -1234567);
    CHECK(m->null_count == 1);
    const ArrowArray* b = array.children[6];
    CHECK(static_cast<const std::uint8_t*>(b->buffers[1])[0] == 0b101);
    // A consumer may move a child out and release the parent first.
    ArrowArray moved = *array.children[1];
    array.children[1]->release = nullptr;
    array.release(&array);
    CHECK(array.release == nullptr);
    CHECK(std::string(static_cast<const char*>(moved.buffers[2]), 3) == "abc");
    moved.release(&moved);
    schema.release(&schema);
    CHECK(schema.release == nullptr);
}

TEST_CASE("a stream of slices: offsets and exact null counts per batch; an empty table gives no batch", "[arrow]") {
    result_table t;
    t.add_int64("n", {1, 2, 3, 4, 5}, {0b10010});
    ArrowArrayStream s;
    t.export_stream(&s, 2);
    arrow_stream_owner owner(&s);
    arrow_schema_owner schema;
    REQUIRE(owner->get_schema(owner.get(), schema.out()) == 0);
    CHECK(schema->n_children == 1);
    std::vector<std::int64_t> lengths, offsets, nulls;
    for (;;) {
        arrow_array_owner a;
        REQUIRE(owner->get_next(owner.get(), a.out()) == 0);
        if (!a.valid()) break;
        lengths.push_back(a->length);
        offsets.push_back(a->children[0]->offset);
        nulls.push_back(a->children[0]->null_count);
    }
    CHECK(lengths == std::vector<std::int64_t>{2, 2, 1});
    CHECK(offsets == std::vector<std::int64_t>{0, 2, 4});
    CHECK(nulls == std::vector<std::int64_t>{1, 0, 1});

    result_table empty;
    empty.add_int64("n", {});
    ArrowArrayStream e;
    empty.export_stream(&e);
    arrow_stream_owner eo(&e);
    arrow_array_owner a;
    REQUIRE(eo->get_next(eo.get(), a.out()) == 0);
    CHECK_FALSE(a.valid());
}
