#pragma once
/// \file crosswalk_result.hpp
/// What mapping reports of one form version onto another version's concepts gives back:
/// the target batch, extra concept columns, and an account of every field.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/forms/field.hpp"

namespace unionstat {

/// How a target concept got its values.
enum class mapping_method {
    copy,         ///< the same concept in the same unit: raw values copied
    rescale,      ///< money in another unit (元 ↔ 万元): converted exactly through the 分
    unit_change,  ///< a count whose measure word changed (人 ↔ 人次): copied, as the crosswalk allows
    sum           ///< the sum of source concepts the crosswalk names as its parts
};

/// "copy", "rescale", "unit_change", "sum".
inline const char* to_string(mapping_method m) noexcept {
    switch (m) {
        case mapping_method::copy: return "copy";
        case mapping_method::rescale: return "rescale";
        case mapping_method::unit_change: return "unit_change";
        case mapping_method::sum: return "sum";
    }
    return "?";
}

/// A concept column the target form has no field for but the crosswalk defines as a sum
/// of target concepts (mapping 2012 onto 2018 carries `funds_raised.government`, which
/// 2018 splits into central and local fiscal funds). Values are raw, stored at `scale`.
struct concept_column {
    std::string key;    ///< concept key, e.g. "funds_raised.government"
    std::string label;  ///< label from the crosswalk
    std::string label_en;
    field_type type = field_type::money;
    std::string unit;                    ///< unit of the target's part fields (万元 …)
    int scale = 0;                       ///< storage scale of `values`, as a field in `unit` would have
    std::vector<std::int64_t> values;    ///< one per row; unspecified where missing
    std::vector<std::uint64_t> missing;  ///< bitmap, ceil(rows/64) words, bit set = blank
    bool derived = false;                ///< false when the source offers no way to fill it (all blank)

    /// True when the cell is blank.
    bool is_missing(std::size_t row) const noexcept { return (missing[row >> 6] >> (row & 63)) & 1u; }
    /// The raw value, nullopt when blank.
    std::optional<std::int64_t> raw(std::size_t row) const noexcept {
        if (is_missing(row)) return std::nullopt;
        return values[row];
    }
    /// A field definition describing this column (code empty), for formatting and conversion.
    field_def as_field() const;
};

/// How one target concept (a field of the target form, or an extra concept column) was filled.
struct concept_mapping {
    std::string key;          ///< target concept key
    std::string target_code;  ///< target field code; "" for an extra concept column
    mapping_method method = mapping_method::copy;
    std::vector<std::string> source_codes;  ///< source fields read
    std::string note;                       ///< the crosswalk's note on this concept, if any
};

/// A field the mapping could not carry across, and why.
struct unmapped_field {
    std::string code;        ///< field code on its form ("" for an extra concept column)
    std::string key;         ///< concept key
    std::string label;       ///< label on its form (or the crosswalk's label)
    std::string reason;      ///< why, in one sentence naming the forms and concepts involved
    std::string note;        ///< the crosswalk's note on the concept, if any
    std::size_t values = 0;  ///< source rows with a value here that was not carried (0 for target fields)
};

/// The result of mapping a batch of one form version onto another version's concepts.
/// Nothing is dropped silently: every source field is either read by some entry of
/// `mapped` or listed in `unmapped`; every target field and extra column is either in
/// `mapped` or listed in `unfilled`.
struct crosswalk_result {
    /// An empty result for a target form.
    explicit crosswalk_result(std::shared_ptr<const form_schema> target) : batch(std::move(target)) {}

    std::string source_form;               ///< id of the source form
    report_batch batch;                    ///< the target form's fields, same rows as the source
    std::vector<concept_column> extra;     ///< derived sum concepts the target form lacks
    std::vector<concept_mapping> mapped;   ///< how each filled target concept was obtained
    std::vector<unmapped_field> unmapped;  ///< source fields whose values reach no target concept
    std::vector<unmapped_field> unfilled;  ///< target fields and extra columns left blank throughout
};

}  // namespace unionstat
