// Loading and checking crosswalk files. Like load_yaml.cpp, the only place (with it)
// that sees yaml-cpp: the file is read into plain structs and checked against the forms
// it names while the YAML nodes, and so their line and column, are still at hand.
#include "unionstat/forms/crosswalk.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "yaml_reader.hpp"

namespace unionstat {

namespace {

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
    return out;
}

std::string join(const std::set<std::string>& items, const char* sep = ", ") {
    return join(std::vector<std::string>(items.begin(), items.end()), sep);
}

/// Where one concept key occurs on the covered forms.
struct occurrence {
    std::string form;
    const field_def* field;
};

class crosswalk_reader : public detail::yaml_reader {
public:
    crosswalk_reader(std::string file, const schema_registry& forms) : yaml_reader(std::move(file)), registry_(forms) {}

    std::shared_ptr<crosswalk> read(const YAML::Node& root) {
        keys(root, "crosswalk", {"family", "forms", "note", "sums", "unit_changes", "same", "only_in"}, {"family", "forms"});
        auto cw = std::make_shared<crosswalk>();
        cw->file = file_;
        cw->family = str(root, "family");
        cw->note = str(root, "note");
        if (cw->family.empty()) fail(root["family"].Mark(), "family must not be empty");
        read_forms(root, *cw);
        read_entries(root, *cw);
        check(root, *cw);
        return cw;
    }

private:
    void read_forms(const YAML::Node& root, crosswalk& cw) {
        const YAML::Node list = seq(root, "forms");
        if (!list || list.size() < 2) fail(root["forms"].Mark(), "'forms' must list at least two form ids");
        for (const auto& item : list) {
            if (!item.IsScalar()) fail(item.Mark(), "items of 'forms' must be form ids");
            const std::string id = item.Scalar();
            if (std::find(cw.forms.begin(), cw.forms.end(), id) != cw.forms.end())
                fail(item.Mark(), "form '" + id + "' listed twice");
            if (!registry_.contains(id)) {
                fail(item.Mark(), "unknown form '" + id + "' (known: " + join(registry_.ids()) + ")");
            }
            auto form = registry_.get(id);
            if (form->family != cw.family)
                fail(item.Mark(), "form '" + id + "' is of family " + form->family + ", not " + cw.family);
            cw.forms.push_back(id);
            forms_.push_back(form);
        }
    }

    void read_entries(const YAML::Node& root, crosswalk& cw) {
        for (const auto& n : seq(root, "sums")) {
            keys(n, "sum", {"key", "label", "label_en", "parts", "note"}, {"key", "label", "label_en", "parts", "note"});
            concept_sum s;
            s.key = str(n, "key");
            s.label = str(n, "label");
            s.label_en = str(n, "label_en");
            s.parts = strings(n, "parts");
            s.note = str(n, "note");
            s.line = n.Mark().line + 1;
            s.column = n.Mark().column + 1;
            if (s.parts.size() < 2) fail(n["parts"].Mark(), "sum '" + s.key + "' needs at least two parts");
            cw.sums.push_back(std::move(s));
            sum_nodes_.push_back(n);
        }
        for (const auto& n : seq(root, "unit_changes")) {
            keys(n, "unit change", {"key", "method", "note"}, {"key", "method", "note"});
            unit_change u;
            u.key = str(n, "key");
            const std::string m = str(n, "method");
            if (m == "rescale") u.method = unit_method::rescale;
            else if (m == "copy") u.method = unit_method::copy;
            else fail(n["method"].Mark(), "method must be rescale (money) or copy (counts), got '" + m + "'");
            u.note = str(n, "note");
            u.line = n.Mark().line + 1;
            u.column = n.Mark().column + 1;
            cw.unit_changes.push_back(std::move(u));
            unit_nodes_.push_back(n);
        }
        for (const auto& n : seq(root, "same")) {
            keys(n, "same", {"key", "aliases", "note"}, {"key", "note"});
            concept_same s;
            s.key = str(n, "key");
            s.aliases = strings(n, "aliases");
            s.note = str(n, "note");
            s.line = n.Mark().line + 1;
            s.column = n.Mark().column + 1;
            cw.same.push_back(std::move(s));
            same_nodes_.push_back(n);
        }
        for (const auto& n : seq(root, "only_in")) {
            keys(n, "only_in", {"keys", "forms", "note"}, {"keys", "forms", "note"});
            concept_only_in o;
            o.keys = strings(n, "keys");
            o.forms = strings(n, "forms");
            o.note = str(n, "note");
            o.line = n.Mark().line + 1;
            o.column = n.Mark().column + 1;
            if (o.keys.empty()) fail(n["keys"].Mark(), "'keys' must name at least one concept");
            if (o.forms.empty()) fail(n["forms"].Mark(), "'forms' must name at least one form");
            cw.only_in.push_back(std::move(o));
            only_nodes_.push_back(n);
        }
    }

    // Occurrences of a canonical key on the covered forms.
    std::vector<occurrence> where(const crosswalk& cw, const std::string& key) const {
        std::vector<occurrence> out;
        for (const auto& f : forms_)
            if (auto i = cw.find(*f, key)) out.push_back({f->id, &f->fields[*i]});
        return out;
    }

    static std::vector<std::string> form_ids(const std::vector<occurrence>& occ) {
        std::vector<std::string> out;
        out.reserve(occ.size());
        for (const auto& o : occ) out.push_back(o.form);
        return out;
    }

    void check(const YAML::Node& root, const crosswalk& cw) {
        check_same(cw);
        const std::set<std::string> sum_keys = check_sums(cw);
        const std::set<std::string> unit_keys = check_unit_changes(cw);
        const std::set<std::string> only_keys = check_only_in(cw);
        check_coverage(root, cw, sum_keys, unit_keys, only_keys);
    }

    void check_same(const crosswalk& cw) {
        // Aliases: each names a key some form uses, never beside its own concept on one form.
        std::set<std::string> declared;
        for (std::size_t i = 0; i < cw.same.size(); ++i) {
            const auto& s = cw.same[i];
            const YAML::Node& n = same_nodes_[i];
            if (!declared.insert(s.key).second) fail(n["key"].Mark(), "concept '" + s.key + "' has two 'same' entries");
            for (std::size_t a = 0; a < s.aliases.size(); ++a) {
                const YAML::Mark m = n["aliases"][a].Mark();
                const auto& alias = s.aliases[a];
                if (alias == s.key || !declared.insert(alias).second) fail(m, "alias '" + alias + "' is declared more than once");
                bool used = false;
                for (const auto& f : forms_) {
                    const bool has_alias = f->find(alias).has_value() && f->field(alias).key == alias;
                    const bool has_key = f->find(s.key).has_value() && f->field(s.key).key == s.key;
                    if (has_alias && has_key)
                        fail(m, "form " + f->id + " carries both '" + s.key + "' and its alias '" + alias + "'");
                    used |= has_alias;
                }
                if (!used) fail(m, "alias '" + alias + "' is the key of no field on " + join(cw.forms));
            }
            if (where(cw, s.key).empty())
                fail(n["key"].Mark(), "concept '" + s.key + "' is the key of no field on " + join(cw.forms));
        }
    }

    // Sums: parts exist, agree in type (and unit, for counts), no cycles. Returns their keys.
    std::set<std::string> check_sums(const crosswalk& cw) {
        std::set<std::string> sum_keys;
        for (std::size_t i = 0; i < cw.sums.size(); ++i) check_sum(cw, i, sum_keys);
        for (std::size_t i = 0; i < cw.sums.size(); ++i) {
            std::vector<std::string> path;
            if (cyclic(cw, cw.sums[i].key, path))
                fail(sum_nodes_[i]["key"].Mark(), "sums refer to each other in a cycle: " + join(path, " → "));
        }
        return sum_keys;
    }

    void check_sum(const crosswalk& cw, std::size_t i, std::set<std::string>& sum_keys) {
        const auto& s = cw.sums[i];
        const YAML::Node& n = sum_nodes_[i];
        if (!sum_keys.insert(cw.canonical(s.key)).second) fail(n["key"].Mark(), "sum '" + s.key + "' is declared twice");
        std::optional<field_type> type;
        std::string count_unit;
        auto agree = [&](const field_def& f, const YAML::Mark& m, const std::string& what) {
            if (type && *type != f.type)
                fail(m, "sum '" + s.key + "': " + what + " is a " + to_string(f.type) + " field, the other terms are " +
                            to_string(*type));
            type = f.type;
            if (f.type == field_type::flag) fail(m, "sum '" + s.key + "': " + what + " is a 是/否 flag, which does not add");
            if (f.type == field_type::count) {
                if (!count_unit.empty() && count_unit != f.unit)
                    fail(m, "sum '" + s.key + "': " + what + " is counted in " + f.unit + ", the other terms in " + count_unit);
                count_unit = f.unit;
            }
        };
        std::set<std::string> seen_parts;
        for (std::size_t p = 0; p < s.parts.size(); ++p) {
            const YAML::Mark m = n["parts"][p].Mark();
            const std::string part = cw.canonical(s.parts[p]);
            if (part == cw.canonical(s.key)) fail(m, "sum '" + s.key + "' lists itself as a part");
            if (!seen_parts.insert(part).second) fail(m, "sum '" + s.key + "' lists part '" + s.parts[p] + "' twice");
            const auto occ = where(cw, part);
            if (occ.empty() && !cw.sum(part))
                fail(m, "part '" + s.parts[p] + "' of sum '" + s.key + "' is the key of no field on " + join(cw.forms));
            for (const auto& o : occ) agree(*o.field, m, "part '" + s.parts[p] + "' on " + o.form);
        }
        for (const auto& o : where(cw, s.key)) agree(*o.field, n["key"].Mark(), "'" + s.key + "' on " + o.form);
    }

    // Unit changes: the key's unit really differs between versions, and the method fits
    // its type. Returns their keys.
    std::set<std::string> check_unit_changes(const crosswalk& cw) {
        std::set<std::string> unit_keys;
        for (std::size_t i = 0; i < cw.unit_changes.size(); ++i) {
            const auto& u = cw.unit_changes[i];
            const YAML::Node& n = unit_nodes_[i];
            if (!unit_keys.insert(cw.canonical(u.key)).second)
                fail(n["key"].Mark(), "unit change for '" + u.key + "' is declared twice");
            const auto occ = where(cw, u.key);
            if (occ.empty()) fail(n["key"].Mark(), "concept '" + u.key + "' is the key of no field on " + join(cw.forms));
            std::set<std::string> units;
            for (const auto& o : occ) units.insert(o.field->unit);
            if (units.size() < 2)
                fail(n["key"].Mark(), "'" + u.key + "' is printed in " + *units.begin() +
                                          " on every form that carries it; "
                                          "there is no unit change to declare");
            const field_type t = occ.front().field->type;
            if (u.method == unit_method::rescale && t != field_type::money)
                fail(n["method"].Mark(), "method rescale is for money; '" + u.key + "' is a " + to_string(t) + " field");
            if (u.method == unit_method::copy && t != field_type::count)
                fail(n["method"].Mark(),
                     "method copy is for counts whose measure word changed; '" + u.key + "' is a " + to_string(t) + " field");
        }
        return unit_keys;
    }

    // only_in: the forms listed are exactly those that carry each key. Returns the keys.
    std::set<std::string> check_only_in(const crosswalk& cw) {
        std::set<std::string> only_keys;
        for (std::size_t i = 0; i < cw.only_in.size(); ++i) {
            const auto& o = cw.only_in[i];
            const YAML::Node& n = only_nodes_[i];
            std::set<std::string> listed;
            for (std::size_t f = 0; f < o.forms.size(); ++f) {
                if (!cw.covers(o.forms[f]))
                    fail(n["forms"][f].Mark(),
                         "form '" + o.forms[f] + "' is not among this crosswalk's forms (" + join(cw.forms) + ")");
                listed.insert(o.forms[f]);
            }
            for (std::size_t k = 0; k < o.keys.size(); ++k) {
                const YAML::Mark m = n["keys"][k].Mark();
                if (!only_keys.insert(cw.canonical(o.keys[k])).second)
                    fail(m, "concept '" + o.keys[k] + "' is listed twice under only_in");
                const auto ids = form_ids(where(cw, o.keys[k]));
                const std::set<std::string> actual(ids.begin(), ids.end());
                if (actual.empty()) fail(m, "concept '" + o.keys[k] + "' is the key of no field on " + join(cw.forms));
                if (actual != listed)
                    fail(m, "concept '" + o.keys[k] + "' is on " + join(actual) + ", but this entry says " + join(listed));
                if (actual.size() == cw.forms.size())
                    fail(m, "concept '" + o.keys[k] + "' is on every form; it does not belong under only_in");
            }
        }
        return only_keys;
    }

    void check_coverage(const YAML::Node& root, const crosswalk& cw, const std::set<std::string>& sum_keys,
                        const std::set<std::string>& unit_keys, const std::set<std::string>& only_keys) {
        // Coverage: every concept on some but not all forms, or whose unit or type changes,
        // is declared. The error points at the crosswalk's form list.
        std::set<std::string> sum_parts;
        for (const auto& s : cw.sums)
            for (const auto& p : s.parts) sum_parts.insert(cw.canonical(p));
        std::set<std::string> all;
        for (const auto& f : forms_)
            for (const auto& fd : f->fields) all.insert(cw.canonical(fd.key));
        for (const auto& key : all) {
            const auto occ = where(cw, key);
            const bool partial = occ.size() != forms_.size();
            if (partial && !sum_keys.count(key) && !sum_parts.count(key) && !only_keys.count(key)) {
                std::vector<std::string> missing;
                for (const auto& f : forms_)
                    if (!cw.find(*f, key)) missing.push_back(f->id);
                fail(root["forms"].Mark(), "concept '" + key + "' is on " + join(form_ids(occ)) + " but not on " + join(missing) +
                                               "; declare it under sums (as a sum or a part) or only_in, or give the "
                                               "same concept the same key in every form");
            }
            std::set<std::string> units;
            std::set<std::string> types;
            for (const auto& o : occ) {
                units.insert(o.field->unit);
                types.insert(to_string(o.field->type));
            }
            if (types.size() > 1)
                fail(root["forms"].Mark(), "concept '" + key + "' changes type between forms (" + join(types) +
                                               "); a count and an amount are different concepts: give them different keys");
            if (units.size() > 1 && !unit_keys.count(key))
                fail(root["forms"].Mark(),
                     "concept '" + key + "' is printed in " + join(units) + " on different forms; declare it under unit_changes");
        }
    }

    bool cyclic(const crosswalk& cw, const std::string& key, std::vector<std::string>& path) const {
        if (std::find(path.begin(), path.end(), key) != path.end()) {
            path.push_back(key);
            return true;
        }
        const concept_sum* s = cw.sum(key);
        if (!s) return false;
        path.push_back(key);
        for (const auto& p : s->parts)
            if (cyclic(cw, cw.canonical(p), path)) return true;
        path.pop_back();
        return false;
    }

    const schema_registry& registry_;
    std::vector<std::shared_ptr<const form_schema>> forms_;
    std::vector<YAML::Node> sum_nodes_, unit_nodes_, same_nodes_, only_nodes_;
};

}  // namespace

bool crosswalk::covers(std::string_view form_id) const { return std::find(forms.begin(), forms.end(), form_id) != forms.end(); }

std::string crosswalk::canonical(std::string_view key) const {
    for (const auto& s : same)
        for (const auto& a : s.aliases)
            if (a == key) return s.key;
    return std::string(key);
}

const concept_sum* crosswalk::sum(std::string_view key) const {
    const std::string k = canonical(key);
    for (const auto& s : sums)
        if (canonical(s.key) == k) return &s;
    return nullptr;
}

const unit_change* crosswalk::unit_change_of(std::string_view key) const {
    const std::string k = canonical(key);
    for (const auto& u : unit_changes)
        if (canonical(u.key) == k) return &u;
    return nullptr;
}

const concept_same* crosswalk::same_of(std::string_view key) const {
    const std::string k = canonical(key);
    for (const auto& s : same)
        if (s.key == k) return &s;
    return nullptr;
}

const concept_only_in* crosswalk::only_in_of(std::string_view key) const {
    const std::string k = canonical(key);
    for (const auto& o : only_in)
        for (const auto& ok : o.keys)
            if (canonical(ok) == k) return &o;
    return nullptr;
}

std::optional<std::size_t> crosswalk::find(const form_schema& form, std::string_view key) const {
    const std::string k = canonical(key);
    for (std::size_t i = 0; i < form.fields.size(); ++i)
        if (canonical(form.fields[i].key) == k) return i;
    return std::nullopt;
}

std::shared_ptr<const crosswalk> load_crosswalk_text(std::string_view yaml, const schema_registry& forms,
                                                     const std::string& name) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        detail::rethrow_yaml(e, name);
    }
    try {
        crosswalk_reader rd(name, forms);
        return rd.read(root);
    } catch (const YAML::Exception& e) {
        detail::rethrow_yaml(e, name);
    }
}

std::shared_ptr<const crosswalk> load_crosswalk(const std::string& path, const schema_registry& forms) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        location l;
        l.file = path;
        throw schema_error("cannot open crosswalk file", l);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_crosswalk_text(text.str(), forms, path);
}

std::string crosswalk::default_directory() {
    namespace fs = std::filesystem;
    const char* env = std::getenv("UNIONSTAT_SCHEMA_DIR");
    fs::path forms_dir = env && *env ? fs::path(env) : fs::path(schema_registry::default_directory());
    if (!forms_dir.has_filename()) forms_dir = forms_dir.parent_path();  // trailing slash
    return (forms_dir.parent_path() / "crosswalks").string();
}

std::shared_ptr<const crosswalk> crosswalk::bundled(std::string_view family) {
    static std::mutex mu;
    static std::map<std::string, std::shared_ptr<const crosswalk>, std::less<>> cache;
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(family); it != cache.end()) return it->second;
    const std::string path = default_directory() + "/" + std::string(family) + ".yaml";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        location l;
        l.file = path;
        throw lookup_error("no bundled crosswalk for family '" + std::string(family) + "'", l);
    }
    auto cw = load_crosswalk(path, schema_registry::bundled());
    cache.emplace(std::string(family), cw);
    return cw;
}

}  // namespace unionstat
