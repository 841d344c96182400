#pragma once
/// \file crosswalk.hpp
/// How the concepts of one form family relate across its printed versions (splits,
/// merges, unit changes, judgments of sameness, concepts asked only in some years), and
/// mapping reports of one version onto another version's concepts.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/forms/crosswalk_result.hpp"
#include "unionstat/forms/registry.hpp"
#include "unionstat/forms/report.hpp"
#include "unionstat/forms/schema.hpp"

namespace unionstat {

/// How a value crosses a change of printed unit.
enum class unit_method {
    rescale,  ///< money in another unit (元 ↔ 万元): exact, through the 分
    copy      ///< a count whose measure word changed (人 ↔ 人次): copied unchanged (see the note)
};

/// "rescale" / "copy".
inline const char* to_string(unit_method m) noexcept { return m == unit_method::rescale ? "rescale" : "copy"; }

/// A concept that is the sum of others: a line that later split (2012 政府拨款 =
/// 2018 中央财政 + 地方财政) or earlier ones that merged.
struct concept_sum {
    std::string key;                 ///< the merged concept
    std::string label, label_en;     ///< how to title its column where no form prints it
    std::vector<std::string> parts;  ///< the concepts it is the sum of (at least two)
    std::string note;                ///< which versions print what
    int line = 0, column = 0;        ///< where declared
};

/// A concept whose printed unit differs between versions.
struct unit_change {
    std::string key;
    unit_method method = unit_method::rescale;
    std::string note;
    int line = 0, column = 0;
};

/// A judgment that a concept is the same across versions despite a change of wording,
/// optionally naming other keys (aliases) some versions use for it.
struct concept_same {
    std::string key;
    std::vector<std::string> aliases;
    std::string note;
    int line = 0, column = 0;
};

/// Concepts asked only by some versions of the family.
struct concept_only_in {
    std::vector<std::string> keys;
    std::vector<std::string> forms;  ///< exactly the versions whose forms carry the keys
    std::string note;
    int line = 0, column = 0;
};

/// The crosswalk of one form family, loaded from `schemas/crosswalks/<family>.yaml` and
/// checked against the forms it names. Immutable once loaded.
class crosswalk {
public:
    std::string family;              ///< "songnuan" or "bangfu"
    std::vector<std::string> forms;  ///< form ids it covers
    std::string note;                ///< free text
    std::vector<concept_sum> sums;
    std::vector<unit_change> unit_changes;
    std::vector<concept_same> same;
    std::vector<concept_only_in> only_in;
    std::string file;  ///< file it was loaded from

    /// True when the crosswalk covers this form id.
    bool covers(std::string_view form_id) const;
    /// The key a concept is known by here: an alias becomes its declared key.
    std::string canonical(std::string_view key) const;
    /// The sum concept with this key, or nullptr.
    const concept_sum* sum(std::string_view key) const;
    /// The unit change declared for this key, or nullptr.
    const unit_change* unit_change_of(std::string_view key) const;
    /// The sameness judgment declared for this key (or one of its aliases), or nullptr.
    const concept_same* same_of(std::string_view key) const;
    /// The only_in entry naming this key, or nullptr.
    const concept_only_in* only_in_of(std::string_view key) const;
    /// Index of the field of `form` carrying this concept (its key or an alias), or nullopt.
    std::optional<std::size_t> find(const form_schema& form, std::string_view key) const;

    /// Maps a batch of one covered version onto another covered version's concepts.
    /// Equal concepts are copied (money rescaled exactly between 元 and 万元; counts whose
    /// measure word changed only where a unit change is declared); a target concept the
    /// crosswalk defines as a sum is filled from the source's parts (blank if any part is
    /// blank); sum concepts over the target's fields that the target lacks become extra
    /// columns. Throws lookup_error if either form is not covered, overflow_error (naming
    /// row, unit and field) if a sum leaves int64.
    crosswalk_result map(const report_batch& source, std::shared_ptr<const form_schema> target) const;
    /// The same for a single report (a one-row result).
    crosswalk_result map(const report& source, std::shared_ptr<const form_schema> target) const;

    /// The bundled crosswalk of a family, checked against the bundled forms (loaded once).
    /// Throws lookup_error if there is none.
    static std::shared_ptr<const crosswalk> bundled(std::string_view family);
    /// Directory of the bundled crosswalks: `crosswalks/` beside the bundled forms'
    /// directory ($UNIONSTAT_SCHEMA_DIR or schema_registry::default_directory()).
    static std::string default_directory();
};

/// Loads a crosswalk file and checks it against the forms it names in `forms`: unknown
/// keys anywhere, a form id `forms` does not know, a concept that no form carries, a
/// unit change that is not one, an only_in list that does not match the forms, a concept
/// present in some versions but not declared, a unit differing between versions without
/// a declared unit change. Throws schema_error naming file:line:column.
std::shared_ptr<const crosswalk> load_crosswalk(const std::string& path, const schema_registry& forms);

/// Loads a crosswalk from YAML text; `name` is used as the file name in errors.
std::shared_ptr<const crosswalk> load_crosswalk_text(std::string_view yaml, const schema_registry& forms,
                                                     const std::string& name = "<string>");

}  // namespace unionstat
