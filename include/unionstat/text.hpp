#pragma once
/// \file text.hpp
/// Small UTF-8 text helpers shared by the cell parser, the loaders and the renderers.

#include <string>
#include <string_view>

namespace unionstat {
namespace detail {

/// Trims ASCII white space and the ideographic space U+3000 at both ends.
std::string_view trim(std::string_view s) noexcept;

/// Folds a number as people type it in Chinese spreadsheets to ASCII: full-width digits
/// ０-９, full-width ．，－＋ and the ideographic comma 、 are not folded (a 、 is never a
/// thousands separator); surrounding space is trimmed. Anything else is kept as is, so
/// the number parser can reject it.
std::string fold_number_text(std::string_view s);

/// Number of Unicode code points (display columns are approximated by this).
std::size_t utf8_length(std::string_view s) noexcept;

/// Display width: CJK and full-width characters count 2, others 1.
std::size_t display_width(std::string_view s) noexcept;

/// Escapes & < > " for HTML.
std::string html_escape(std::string_view s);

}  // namespace detail
}  // namespace unionstat
