// libFuzzer target for the CSV reader: the input's first byte picks the options, the rest
// is the file. The bytes are read twice, with the default block sizes and with tiny ones
// (every record, quote and character then straddles a block or piece boundary): both
// reads must agree exactly, or both refuse the input. Bad input must come back as
// problems or as the documented value_error; a crash, a sanitizer report, a hang or any
// other exception is a bug.
//
//   ./run fuzz csv_reader 600
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "unionstat/error.hpp"
#include "unionstat/forms/registry.hpp"
#include "unionstat/io/csv_reader.hpp"

namespace {
std::shared_ptr<const unionstat::form_schema> form() {
    static const std::shared_ptr<const unionstat::form_schema> f =
        unionstat::schema_registry::bundled().get("songnuan-2018");
    return f;
}

std::optional<unionstat::read_result> read(std::string_view bytes, const unionstat::csv_options& o, std::string& error) {
    try {
        return unionstat::read_csv_text(bytes, "fuzz.csv", form(), o);
    } catch (const unionstat::value_error& e) {
        error = e.what();
        return std::nullopt;
    }
}

[[noreturn]] void differ(const char* what) {
    __builtin_trap();
    (void)what;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t pick = data[0];
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    unionstat::csv_options o;
    o.strict = pick & 1;
    static const char* const encodings[] = {"", "", "utf-8", "gb18030", "utf-16le", "utf-16", "gbk", ""};
    o.encoding = encodings[(pick >> 1) & 7];
    o.threads = (pick & 16) ? 2 : 1;

    unionstat::detail::set_csv_block_sizes(0, 0);
    std::string error_a, error_b;
    const auto a = read(bytes, o, error_a);
    unionstat::detail::set_csv_block_sizes(1 + (pick >> 5), 1 + (pick >> 6));
    const auto b = read(bytes, o, error_b);
    unionstat::detail::set_csv_block_sizes(0, 0);

    if (a.has_value() != b.has_value()) differ("one read refused the input, the other did not");
    if (!a) return 0;
    const auto& x = a->batch;
    const auto& y = b->batch;
    if (x.size() != y.size() || x.units() != y.units() || x.periods() != y.periods() || x.row_numbers() != y.row_numbers())
        differ("rows");
    if (x.row_numbers().size() != x.size()) differ("row numbers");
    for (std::size_t i = 1; i < x.size(); ++i)
        if (x.row_number(i) <= x.row_number(i - 1)) differ("row numbers not increasing");
    for (std::size_t k = 0; k < x.width(); ++k)
        for (std::size_t i = 0; i < x.size(); ++i)
            if (x.raw(i, k) != y.raw(i, k)) differ("values");
    if (a->problems.size() != b->problems.size()) differ("problem count");
    for (std::size_t i = 0; i < a->problems.size(); ++i)
        if (a->problems[i].to_string() != b->problems[i].to_string() || a->problems[i].text != b->problems[i].text)
            differ("problems");
    if (a->notices != b->notices || a->encoding != b->encoding || a->ignored_columns != b->ignored_columns) differ("notices");
    return 0;
}
