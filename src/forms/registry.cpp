#include "unionstat/forms/registry.hpp"

#include <cstdlib>
#include <algorithm>
#include <filesystem>

namespace unionstat {

namespace fs = std::filesystem;

#ifndef UNIONSTAT_SCHEMA_DIR_INSTALLED
#define UNIONSTAT_SCHEMA_DIR_INSTALLED ""
#endif
#ifndef UNIONSTAT_SCHEMA_DIR_SOURCE
#define UNIONSTAT_SCHEMA_DIR_SOURCE ""
#endif

schema_registry::schema_registry(const std::string& directory) { add_directory(directory); }

std::string schema_registry::default_directory() {
    // The installed copy wins; a build that was never installed uses its source tree.
    std::error_code ec;
    if (fs::is_directory(UNIONSTAT_SCHEMA_DIR_INSTALLED, ec)) return UNIONSTAT_SCHEMA_DIR_INSTALLED;
    return UNIONSTAT_SCHEMA_DIR_SOURCE;
}

const schema_registry& schema_registry::bundled() {
    static const schema_registry reg = [] {
        const char* env = std::getenv("UNIONSTAT_SCHEMA_DIR");
        schema_registry r;
        r.add_directory(env && *env ? std::string(env) : default_directory());
        return r;
    }();
    return reg;
}

void schema_registry::add_directory(const std::string& directory) {
    std::error_code ec;
    if (!fs::is_directory(directory, ec)) {
        location l;
        l.file = directory;
        throw lookup_error("form schema directory not found", l);
    }
    std::lock_guard<std::mutex> lock(*mutex_);
    for (const auto& entry : fs::directory_iterator(directory)) {
        if (entry.path().extension() != ".yaml") continue;
        // Files are named after their form id; load_form checks that they agree.
        paths_[entry.path().stem().string()] = entry.path().string();
    }
}

std::string schema_registry::add_file(const std::string& path) {
    auto form = load_form(path);
    std::lock_guard<std::mutex> lock(*mutex_);
    if (paths_.count(form->id) || loaded_.count(form->id)) {
        location l;
        l.file = path;
        throw schema_error("form id '" + form->id + "' is already registered", l);
    }
    loaded_[form->id] = form;
    return form->id;
}

std::vector<std::string> schema_registry::ids() const {
    std::lock_guard<std::mutex> lock(*mutex_);
    std::vector<std::string> out;
    for (const auto& [id, _] : paths_) out.push_back(id);
    for (const auto& [id, _] : loaded_)
        if (!paths_.count(id)) out.push_back(id);
    std::sort(out.begin(), out.end());
    return out;
}

bool schema_registry::contains(std::string_view id) const {
    std::lock_guard<std::mutex> lock(*mutex_);
    return paths_.find(id) != paths_.end() || loaded_.find(id) != loaded_.end();
}

std::shared_ptr<const form_schema> schema_registry::get(std::string_view id) const {
    std::string path;
    {
        std::lock_guard<std::mutex> lock(*mutex_);
        if (auto it = loaded_.find(id); it != loaded_.end()) return it->second;
        auto p = paths_.find(id);
        if (p != paths_.end()) path = p->second;
    }
    if (path.empty()) {
        std::string known;
        for (const auto& k : ids()) known += (known.empty() ? "" : ", ") + k;
        throw lookup_error("unknown form '" + std::string(id) + "' (known: " + known + ")");
    }
    // Loaded without the lock (other ids stay available meanwhile); when two threads load
    // the same id at once, the first to finish wins and both return that one object.
    auto form = load_form(path);
    if (form->id != id) {
        location l;
        l.file = path;
        throw schema_error("file declares form id '" + form->id + "' but is named " + std::string(id) + ".yaml", l);
    }
    std::lock_guard<std::mutex> lock(*mutex_);
    return loaded_.emplace(std::string(id), std::move(form)).first->second;
}

}  // namespace unionstat
