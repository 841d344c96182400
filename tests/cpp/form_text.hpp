#pragma once
// Helpers of the loader and form tests: a bundled form's YAML text, edited in place, so a
// test can plant one mistake in a real form and check where the loader says it is.

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

namespace unionstat_test {

/// The text of schemas/forms/songnuan-2018.yaml in the source tree.
inline std::string songnuan_2018_text() {
    std::ifstream in(std::string(UNIONSTAT_SOURCE_DIR) + "/schemas/forms/songnuan-2018.yaml");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

/// `text` with the first occurrence of `from` replaced by `to` (which must occur).
inline std::string with(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

}  // namespace unionstat_test
