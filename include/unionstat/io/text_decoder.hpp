#pragma once
/// \file text_decoder.hpp
/// Bytes of a file in some encoding → UTF-8, block by block, for the readers: UTF-8
/// (with or without a byte order mark) passes through; GB18030/GBK/GB2312 (what Chinese
/// Excel saves CSV in) and UTF-16 (Excel's "Unicode text") go through iconv.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace unionstat {

/// What a reader found (or was told) a file's encoding to be.
struct detected_encoding {
    std::string name;      ///< normalized: "utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "utf-16le", "utf-16be"
    std::size_t bom = 0;   ///< bytes of byte order mark at the start, to skip
    bool guessed = false;  ///< true when no BOM said so and the bytes were judged (not UTF-8 → gb18030)
    std::string reason;    ///< why this encoding, as a phrase for a notice ("its first bytes are not valid UTF-8")
};

/// Length of the longest prefix of `s` that is well-formed UTF-8 (no overlong forms,
/// surrogates or code points past U+10FFFF). With `allow_cut`, a sequence cut short by
/// the end of `s` counts as valid (the next block completes it); `complete`, when given,
/// receives the end of the last whole character (where checking the next block resumes).
/// Pure ASCII runs are checked eight bytes at a time, since data files are mostly ASCII.
std::size_t utf8_valid_prefix(std::string_view s, bool allow_cut = false, std::size_t* complete = nullptr) noexcept;

/// The encoding of a file from its first bytes (`head`, up to 1 MiB; `whole` when that
/// is the entire file) or from the user's `forced` name ("" = detect). A BOM decides
/// (UTF-8, UTF-16LE/BE); without one, bytes that are valid UTF-8 are UTF-8, others are
/// taken for GB18030 (a superset of GBK and GB2312). Throws value_error for a forced
/// name that is not one of those listed in detected_encoding::name (case-insensitive,
/// plus "utf-16", whose byte order the BOM gives, little-endian without one).
detected_encoding detect_encoding(std::string_view head, bool whole, const std::string& forced);

/// Converts the bytes of one non-UTF-8 encoding to UTF-8 through iconv, block by block:
/// a multi-byte sequence cut by the end of a block is kept and completed by the next.
/// Not copyable (owns an iconv descriptor).
class text_decoder {
public:
    /// A decoder from `encoding` (a name from detect_encoding; UTF-8 names pass through).
    /// `file` names the input in errors. Throws value_error if iconv lacks the encoding.
    text_decoder(const std::string& encoding, std::string file);
    ~text_decoder();
    text_decoder(const text_decoder&) = delete;
    text_decoder& operator=(const text_decoder&) = delete;

    /// True for UTF-8: bytes are passed on unchanged (the caller validates them).
    bool passthrough() const noexcept { return cd_ == nullptr; }

    /// Appends the UTF-8 text of `in` (the next bytes of the file) to `out`; `last` when
    /// no bytes follow. Throws value_error naming the file, the line (counted in the text
    /// decoded so far) and the byte offset in the file when bytes are not valid in the
    /// encoding, or when the file ends inside a character.
    void decode(std::string_view in, bool last, std::string& out);

    /// Sets the file offset of the next byte given to decode() (after a skipped BOM).
    void set_offset(std::uint64_t offset) noexcept { offset_ = offset; }

private:
    void* cd_ = nullptr;  // iconv_t, null for UTF-8
    std::string encoding_, file_;
    std::string pending_;       // the start of a character cut by the previous block
    std::uint64_t offset_ = 0;  // file offset of pending_[0] (or of the next input)
    std::uint64_t lines_ = 0;   // '\n' in the text produced so far
};

}  // namespace unionstat
