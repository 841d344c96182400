#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "unionstat/io/result_tables.hpp"
#include "unionstat/unionstat.hpp"

using namespace unionstat;

namespace {
std::shared_ptr<const form_schema> songnuan() { return schema_registry::bundled().get("songnuan-2018"); }

// The names of an exported table's columns, read back through the C data interface.
std::vector<std::string> exported_names(const result_table& t, std::int64_t& rows) {
    arrow_schema_owner schema;
    arrow_array_owner array;
    t.export_array(schema.out(), array.out());
    REQUIRE(std::strcmp(schema->format, "+s") == 0);
    rows = array->length;
    std::vector<std::string> names;
    for (std::int64_t i = 0; i < schema->n_children; ++i) names.emplace_back(schema->children[i]->name);
    return names;
}

// The i-th value of an exported utf8 column, or "(null)".
std::string utf8_at(const result_table& t, std::size_t column, std::int64_t i) {
    arrow_schema_owner schema;
    arrow_array_owner array;
    t.export_array(schema.out(), array.out());
    const ArrowArray* c = array->children[column];
    REQUIRE(std::strcmp(schema->children[column]->format, "u") == 0);
    const auto* validity = static_cast<const std::uint8_t*>(c->buffers[0]);
    const std::int64_t j = c->offset + i;
    if (validity && !((validity[j >> 3] >> (j & 7)) & 1u)) return "(null)";
    const auto* offsets = static_cast<const std::int32_t*>(c->buffers[1]);
    const char* data = static_cast<const char*>(c->buffers[2]);
    return std::string(data + offsets[j], static_cast<std::size_t>(offsets[j + 1] - offsets[j]));
}
}  // namespace

TEST_CASE("violations leave as an Arrow table with the user's row numbers and messages for the rows held", "[io][arrow]") {
    auto f = songnuan();
    report_batch b(f);
    for (const char* u : {"a", "b", "c"}) b.add_row(u, "2018");
    b.set_raw(0, f->index("01A"), 10);
    b.set_raw(0, f->index("01B"), 30);  // 其中农民工 exceeds the total
    b.set_raw(2, f->index("01A"), 5);
    b.set_raw(2, f->index("01B"), 9);
    b.set_row_numbers({12, 13, 14});
    const auto result = rules::evaluate(f->compiled(), b);
    REQUIRE(result.size() >= 2);

    const result_table all = violations_table(b, result);
    std::int64_t rows = 0;
    const auto names = exported_names(all, rows);
    CHECK(rows == static_cast<std::int64_t>(result.size()));
    CHECK(names == std::vector<std::string>{"row", "unit", "period", "rule", "severity", "status", "reason", "lhs", "rhs",
                                            "difference", "message", "message_en"});
    {
        arrow_schema_owner schema;
        arrow_array_owner array;
        all.export_array(schema.out(), array.out());
        const auto* row = static_cast<const std::int64_t*>(array->children[0]->buffers[1]);
        CHECK(row[array->children[0]->offset] == 12);  // the row number, not the position
    }
    CHECK(utf8_at(all, 1, 0) == "a");
    CHECK(utf8_at(all, 3, 0) == "songnuan.part_of.01B");
    CHECK(utf8_at(all, 7, 0) == "30");
    CHECK(utf8_at(all, 8, 0) == "10");

    const result_table first = violations_table(b, result, true, 1);
    CHECK(first.num_rows() == 1);
    const result_table bare = violations_table(b, result, false);
    CHECK(bare.num_columns() == 10);

    const result_table summary = summary_table(f->compiled(), result);
    CHECK(summary.num_rows() == f->compiled().size());
    exported_names(summary, rows);
    CHECK(rows == static_cast<std::int64_t>(f->rules.size()));
}
