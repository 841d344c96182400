#pragma once
// Private to src/: the strict YAML reading shared by the form loader (load_yaml.cpp) and
// the crosswalk loader (crosswalk.cpp). Every mistake names file:line:column.

#include <initializer_list>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "unionstat/error.hpp"

namespace unionstat::detail {

/// Reads YAML nodes with strict keys, naming file:line:column for every mistake.
class yaml_reader {
public:
    explicit yaml_reader(std::string file) : file_(std::move(file)) {}

    /// The file name used in errors.
    const std::string& file() const noexcept { return file_; }

    [[noreturn]] void fail(const YAML::Mark& m, const std::string& message, const std::string& field = {}) const {
        location l;
        l.file = file_;
        l.line = m.line + 1;
        l.column = m.column + 1;
        l.field = field;
        throw schema_error(message, l);
    }

    /// Rejects keys outside `allowed` and checks that `required` are present.
    void keys(const YAML::Node& map, const char* what, std::initializer_list<const char*> allowed,
              std::initializer_list<const char*> required) const {
        if (!map.IsMap()) fail(map.Mark(), std::string(what) + " must be a mapping");
        std::set<std::string> seen;
        for (auto it = map.begin(); it != map.end(); ++it) {
            const std::string k = it->first.as<std::string>();
            bool ok = false;
            for (const char* a : allowed) ok |= k == a;
            if (!ok) {
                std::string list;
                for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
                fail(it->first.Mark(), "unknown key '" + k + "' in " + what + " (expected one of: " + list + ")");
            }
            if (!seen.insert(k).second) fail(it->first.Mark(), "key '" + k + "' given twice in " + what);
        }
        for (const char* r : required)
            if (!seen.count(r)) fail(map.Mark(), std::string(what) + " lacks required key '" + r + "'");
    }

    std::string str(const YAML::Node& map, const char* key, const std::string& def = {}) const {
        const YAML::Node n = map[key];
        if (!n || n.IsNull()) return def;
        if (!n.IsScalar()) fail(n.Mark(), std::string("'") + key + "' must be a text value");
        return n.Scalar();
    }

    int integer(const YAML::Node& map, const char* key, int def) const {
        const YAML::Node n = map[key];
        if (!n || n.IsNull()) return def;
        try {
            if (!n.IsScalar()) throw YAML::Exception(n.Mark(), "");
            std::size_t pos = 0;
            const int v = std::stoi(n.Scalar(), &pos);
            if (pos != n.Scalar().size()) throw std::invalid_argument("");
            return v;
        } catch (const std::exception&) {
            fail(n.Mark(), std::string("'") + key + "' must be a whole number");
        }
    }

    bool boolean(const YAML::Node& map, const char* key, bool def) const {
        const YAML::Node n = map[key];
        if (!n || n.IsNull()) return def;
        const std::string s = n.IsScalar() ? n.Scalar() : std::string();
        if (s == "true") return true;
        if (s == "false") return false;
        fail(n.Mark(), std::string("'") + key + "' must be true or false");
    }

    const YAML::Node seq(const YAML::Node& map, const char* key) const {
        const YAML::Node n = map[key];
        if (n && !n.IsNull() && !n.IsSequence()) fail(n.Mark(), std::string("'") + key + "' must be a list");
        return n;
    }

    std::vector<std::string> strings(const YAML::Node& map, const char* key) const {
        std::vector<std::string> out;
        for (const auto& item : seq(map, key)) {
            if (!item.IsScalar()) fail(item.Mark(), std::string("items of '") + key + "' must be text");
            out.push_back(item.Scalar());
        }
        return out;
    }

protected:
    std::string file_;
};

/// Rethrows a yaml-cpp exception as a schema_error at its file:line:column.
[[noreturn]] inline void rethrow_yaml(const YAML::Exception& e, const std::string& name) {
    location l;
    l.file = name;
    l.line = e.mark.line + 1;
    l.column = e.mark.column + 1;
    throw schema_error("YAML syntax: " + e.msg, l);
}

}  // namespace unionstat::detail
