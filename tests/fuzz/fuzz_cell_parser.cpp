// libFuzzer target for cell parsing: the input is one cell's text, parsed for a count,
// a money field in 万元 (stored to 6 decimals), one in 元 (2 decimals) and a flag.
// parse_cell must return or throw value_error / overflow_error (a number past int64);
// wherever the CSV reader's fast path takes a text, it must give exactly what
// parse_cell gives. A crash, a sanitizer report or another exception is a bug.
//
//   ./run fuzz cell_parser 600
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "unionstat/error.hpp"
#include "unionstat/forms/cell.hpp"
#include "unionstat/io/csv_reader.hpp"

namespace {
std::vector<unionstat::field_def> fields() {
    using namespace unionstat;
    field_def count;
    count.code = "01A";
    count.type = field_type::count;
    count.unit = "人";
    field_def wan = count;
    wan.code = "05A";
    wan.type = field_type::money;
    wan.unit = "万元";
    wan.decimals = 2;
    wan.scale = storage_scale(wan.type, wan.unit);
    field_def yuan = wan;
    yuan.code = "07J";
    yuan.unit = "元";
    yuan.scale = storage_scale(yuan.type, yuan.unit);
    field_def flag = count;
    flag.code = "11B";
    flag.type = field_type::flag;
    flag.unit = "是/否";
    return {count, wan, yuan, flag};
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::vector<unionstat::field_def> all = fields();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const auto& f : all) {
        bool parsed = false;
        unionstat::cell slow;
        try {
            slow = unionstat::parse_cell(f, text);
            parsed = true;
            (void)unionstat::format_raw(f, slow.raw);
        } catch (const unionstat::value_error& e) {
            (void)e.what();
        } catch (const unionstat::overflow_error& e) {
            (void)e.what();
        }
        unionstat::cell fast;
        if (unionstat::detail::parse_cell_fast(f, text, fast)) {
            if (!parsed || fast.state != slow.state || fast.raw != slow.raw) __builtin_trap();
        }
    }
    return 0;
}
