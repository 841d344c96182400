#pragma once
/// \file registry.hpp
/// Finding forms by id: the bundled ones and the user's own files.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/forms/schema.hpp"

namespace unionstat {

/// Loads a form schema from a YAML file. Throws schema_error naming file:line:column
/// (unknown key, wrong type, duplicate code or key, a part_of/group/rule naming no
/// field) or rules::rule_error carrying every rule diagnostic.
std::shared_ptr<const form_schema> load_form(const std::string& path);

/// Loads a form schema from YAML text; `name` is used as the file name in errors.
std::shared_ptr<const form_schema> load_form_text(std::string_view yaml, const std::string& name = "<string>");

/// Forms by id. `bundled()` knows the forms shipped in `schemas/forms/`; users add
/// their own files or directories.
class schema_registry {
public:
    /// An empty registry.
    schema_registry() = default;

    /// A registry of every `*.yaml` in `directory` (loaded on first use of each id).
    explicit schema_registry(const std::string& directory);

    /// The bundled forms: from $UNIONSTAT_SCHEMA_DIR if set, else the directory the
    /// library was installed or built with.
    static const schema_registry& bundled();

    /// Directory of the bundled forms as compiled in (may not exist after a move).
    static std::string default_directory();

    /// Adds one schema file (loaded now); returns its id. Throws on a bad file or an id
    /// that is already present.
    std::string add_file(const std::string& path);
    /// Adds every `*.yaml` in a directory (loaded lazily).
    void add_directory(const std::string& directory);

    /// Form ids, sorted.
    std::vector<std::string> ids() const;
    /// True if the id is known.
    bool contains(std::string_view id) const;
    /// The form; throws lookup_error listing the known ids.
    std::shared_ptr<const form_schema> get(std::string_view id) const;

private:
    // get() is const but loads lazily: the lock makes that safe from many threads (the
    // bundled registry is one process-wide object). Shared so the registry stays copyable.
    std::shared_ptr<std::mutex> mutex_ = std::make_shared<std::mutex>();
    mutable std::map<std::string, std::shared_ptr<const form_schema>, std::less<>> loaded_;
    std::map<std::string, std::string, std::less<>> paths_;  // id → file, not yet loaded
};

}  // namespace unionstat
