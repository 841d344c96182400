#pragma once
/// \file schema.hpp
/// A form version: its fields in printed order, paper layout and rules.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "unionstat/error.hpp"
#include "unionstat/forms/field.hpp"
#include "unionstat/forms/rule_def.hpp"
#include "unionstat/level.hpp"

namespace unionstat {

namespace rules {
class rule_set;
}

/// Who published a form and where.
struct form_source {
    std::string issuer, issuer_en, notice, seed, attachment;
};

/// A printed row: its number and the text printed before its first blank.
struct form_row {
    std::string row, heading, heading_en;
};

/// The lines the paper prints above the table for who reports: the labels as printed
/// (填报单位 or 填表单位, 填报人, 联系电话) and the date ("年月日"; "" when none is printed).
/// Empty when the schema does not say (the Python templates then print 填报单位 …).
struct form_signature {
    std::string unit, reporter, phone, date;
};

/// A 说明/注 line.
struct form_note {
    std::string text, text_en;
};

/// A breakdown of a total into parts (expanded into a balance rule).
struct field_group {
    std::string id;
    std::string total;
    std::vector<std::string> parts;
    bool exhaustive = false;  ///< true → total == sum(parts); false → sum(parts) <= total
    unionstat::severity sev = severity::error;
    std::optional<decimal> tolerance;
    std::string note;
    int line = 0;    ///< line of the group in its schema file (0 if built in code)
    int column = 0;  ///< column of the group in its schema file
};

/// One printed version of one form (e.g. `songnuan-2018`). Immutable once loaded;
/// shared between reports and batches through `std::shared_ptr<const form_schema>`.
class form_schema {
public:
    std::string id;      ///< "songnuan-2018"
    std::string family;  ///< "songnuan" or "bangfu"
    int year = 0;        ///< year in the printed title
    std::string title, title_en;
    std::string script;  ///< "simplified" or "traditional"
    form_source source;
    std::string period;
    std::vector<form_note> notes;
    std::vector<std::string> quirks;
    std::string deadline;             ///< reporting deadline as the notice prints it ("" when none)
    form_signature signature;         ///< 填报单位/填报人/联系电话/日期 labels as printed
    std::vector<std::string> review;  ///< places a drafted schema still needs a human look at
    missing_strategy default_missing = missing_strategy::skip_if_any_missing;
    std::vector<form_row> rows;
    std::vector<field_def> fields;  ///< in printed order
    std::vector<field_group> groups;
    std::vector<rule_def> rules;  ///< explicit rules, then those generated from part_of and groups
    std::string file;             ///< file it was loaded from, "" if built in code
    /// Error localisation's factor on every weight of a report at a level (`localisation:
    /// level_scale:` in the YAML): consolidated (汇总) reports are more reliable than
    /// grassroots ones. Levels not listed: 1.
    std::map<unit_level, double> level_scale;

    /// Number of fields.
    std::size_t size() const noexcept { return fields.size(); }

    /// Index of a field by printed code or concept key; nullopt if neither.
    std::optional<std::size_t> find(std::string_view code_or_key) const;

    /// Index of a field by code or key; throws lookup_error naming the form.
    std::size_t index(std::string_view code_or_key) const;

    /// The field with this code or key; throws lookup_error.
    const field_def& field(std::string_view code_or_key) const { return fields[index(code_or_key)]; }

    /// The compiled rules (parsed, checked and planned at load time).
    const rules::rule_set& compiled() const;

    /// (Re)builds the code/key index and the generated rules, checks references and
    /// compiles every rule. Called by the loaders; call it after building a schema in
    /// code. Throws schema_error (or rules::rule_error with all diagnostics).
    void finalize();

private:
    std::unordered_map<std::string, std::size_t> by_name_;
    std::shared_ptr<const rules::rule_set> compiled_;
};

}  // namespace unionstat
