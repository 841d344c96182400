#pragma once
/// \file text.hpp
/// Small UTF-8 text helpers shared by the cell parser, the loaders and the renderers.

#include <string>
#include <string_view>

namespace unionstat {
namespace detail {

/// The one rule by which ids, periods, header names and cells are stripped, whichever
/// reader they come through (units files, CSV, Arrow, XLSX, JSON, reports made by hand):
/// removes at both ends ASCII white space, the ideographic space U+3000 (a Chinese IME),
/// the no-break space U+00A0 (Excel, pages pasted from the web), the byte-order mark
/// U+FEFF (files joined or saved by Notepad) and the zero-width space U+200B (web pages).
/// Characters inside are kept: "63 01" stays "63 01".
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
