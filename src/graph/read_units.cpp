// Units files: CSV (RFC 4180, UTF-8) and YAML (yaml-cpp, keys checked strictly), both
// read into org_unit listings and validated by hierarchy_builder.

#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "unionstat/graph/hierarchy.hpp"
#include "unionstat/graph/hierarchy_builder.hpp"
#include "unionstat/text.hpp"

namespace unionstat {

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        location l;
        l.file = path;
        throw hierarchy_error("cannot open units file " + path, {}, l);
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

location place(const std::string& file, int line, int column = 0, const std::string& unit = {}) {
    location l;
    l.file = file;
    l.line = line;
    l.column = column;
    l.unit = unit;
    return l;
}

const char* level_choices = "national, province, city, county, grassroots (or 全总, 省级, 地市级, 县级, 基层)";
const char* kind_choices = "regional, industry, direct, enterprise (or 地方, 产业, 直属, 企业)";

std::vector<std::string> split_parents(std::string_view text) {
    // ';' or the full-width '；' (EF BC 9B) separate ids.
    std::vector<std::string> out;
    std::string cur;
    auto flush = [&] {
        auto t = detail::trim(cur);
        if (!t.empty()) out.emplace_back(t);
        cur.clear();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == ';') {
            flush();
        } else if (i + 2 < text.size() && static_cast<unsigned char>(text[i]) == 0xEF &&
                   static_cast<unsigned char>(text[i + 1]) == 0xBC && static_cast<unsigned char>(text[i + 2]) == 0x9B) {
            flush();
            i += 2;
        } else {
            cur += text[i];
        }
    }
    flush();
    return out;
}

// ---------------------------------------------------------------------------------------
// CSV

struct csv_cell {
    std::string text;
    int line = 0;
    int column = 0;  // 1-based, in characters
};

class csv_reader {
public:
    csv_reader(std::string_view text, const std::string& name) : s_(text), name_(name) {
        if (s_.size() >= 3 && s_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = line_start_ = 3;
    }

    // Next record; false at the end. Blank lines and lines starting with '#' are skipped.
    bool next(std::vector<csv_cell>& cells, int& record_line) {
        for (;;) {
            if (pos_ >= s_.size()) return false;
            if (s_[pos_] == '#' || s_[pos_] == '\n' || s_[pos_] == '\r') {
                skip_line();
                continue;
            }
            break;
        }
        cells.clear();
        record_line = line_;
        for (;;) {
            csv_cell c;
            c.line = line_;
            c.column = column_of(pos_);
            if (pos_ < s_.size() && s_[pos_] == '"') {
                const int open_line = line_, open_column = c.column;
                ++pos_;
                for (;;) {
                    if (pos_ >= s_.size())
                        throw hierarchy_error("unterminated quoted field", {}, place(name_, open_line, open_column));
                    const char ch = s_[pos_++];
                    if (ch == '"') {
                        if (pos_ < s_.size() && s_[pos_] == '"') {
                            c.text += '"';
                            ++pos_;
                            continue;
                        }
                        break;
                    }
                    if (ch == '\n') {
                        ++line_;
                        line_start_ = pos_;
                    }
                    c.text += ch;
                }
                while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
                if (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '\n' && s_[pos_] != '\r')
                    throw hierarchy_error("unexpected text after a closing quote", {},
                                          place(name_, line_, column_of(pos_)));
            } else {
                const std::size_t start = pos_;
                while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '\n' && s_[pos_] != '\r') {
                    if (s_[pos_] == '"')
                        throw hierarchy_error("a quote inside an unquoted field (quote the whole field)", {},
                                              place(name_, line_, column_of(pos_)));
                    ++pos_;
                }
                c.text.assign(s_.substr(start, pos_ - start));
            }
            cells.push_back(std::move(c));
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            skip_line();
            return true;
        }
    }

private:
    void skip_line() {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
        if (pos_ < s_.size()) ++pos_;
        ++line_;
        line_start_ = pos_;
    }
    int column_of(std::size_t p) const {
        return 1 + static_cast<int>(detail::utf8_length(s_.substr(line_start_, p - line_start_)));
    }

    std::string_view s_;
    const std::string& name_;
    std::size_t pos_ = 0, line_start_ = 0;
    int line_ = 1;
};

enum csv_col { c_id, c_name, c_level, c_kind, c_parent, c_secondary, c_from, c_to, c_count };
const char* const csv_names[c_count] = {"id", "name", "level", "kind", "parent", "secondary_parents", "valid_from",
                                        "valid_to"};

hierarchy read_csv_text(std::string_view text, const std::string& name) {
    csv_reader reader(text, name);
    std::vector<csv_cell> cells;
    int line = 0;
    if (!reader.next(cells, line)) throw hierarchy_error("units file is empty (no header line)", {}, place(name, 1));
    int where[c_count];
    std::fill(std::begin(where), std::end(where), -1);
    for (std::size_t k = 0; k < cells.size(); ++k) {
        const std::string h(detail::trim(cells[k].text));
        int col = -1;
        for (int c = 0; c < c_count; ++c)
            if (h == csv_names[c]) col = c;
        if (col < 0)
            throw hierarchy_error("unknown column '" + h +
                                      "' in the header (expected id, name, level, kind, parent, secondary_parents, "
                                      "valid_from, valid_to)",
                                  {}, place(name, cells[k].line, cells[k].column));
        if (where[col] >= 0)
            throw hierarchy_error("column '" + h + "' appears twice in the header", {},
                                  place(name, cells[k].line, cells[k].column));
        where[col] = static_cast<int>(k);
    }
    for (int c : {c_id, c_name, c_level, c_kind, c_parent})
        if (where[c] < 0)
            throw hierarchy_error(std::string("the header has no '") + csv_names[c] + "' column", {}, place(name, line));
    const std::size_t width = cells.size();

    hierarchy_builder builder(name);
    builder.reserve(text.size() / 48);
    while (reader.next(cells, line)) {
        if (cells.size() != width)
            throw hierarchy_error("line has " + std::to_string(cells.size()) + " fields; the header has " +
                                      std::to_string(width),
                                  {}, place(name, line));
        auto cell = [&](int c) -> std::string_view { return where[c] < 0 ? std::string_view() : detail::trim(cells[where[c]].text); };
        org_unit u;
        u.line = line;
        u.id = std::string(cell(c_id));
        if (u.id.empty())
            throw hierarchy_error("a unit has an empty id", {}, place(name, line, cells[where[c_id]].column));
        u.name = std::string(cell(c_name));
        const auto level = parse_level(cell(c_level));
        if (!level)
            throw hierarchy_error("unit " + u.id + " has level '" + std::string(cell(c_level)) + "'; expected " +
                                      level_choices,
                                  {u.id}, place(name, cells[where[c_level]].line, cells[where[c_level]].column, u.id));
        u.level = *level;
        const auto kind = parse_kind(cell(c_kind));
        if (!kind)
            throw hierarchy_error("unit " + u.id + " has kind '" + std::string(cell(c_kind)) + "'; expected " +
                                      kind_choices,
                                  {u.id}, place(name, cells[where[c_kind]].line, cells[where[c_kind]].column, u.id));
        u.kind = *kind;
        u.parent = std::string(cell(c_parent));
        u.secondary_parents = split_parents(cell(c_secondary));
        for (int c : {c_from, c_to}) {
            const std::string_view b = cell(c);
            if (!detail::is_period_bound(b))
                throw hierarchy_error("unit " + u.id + " has " + csv_names[c] + " '" + std::string(b) +
                                          "'; expected YYYY or YYYY-MM",
                                      {u.id}, place(name, cells[where[c]].line, cells[where[c]].column, u.id));
        }
        u.valid_from = std::string(cell(c_from));
        u.valid_to = std::string(cell(c_to));
        builder.add_unit(std::move(u));
    }
    return builder.build();
}

// ---------------------------------------------------------------------------------------
// YAML

location mark_of(const std::string& file, const YAML::Node& node, const std::string& unit = {}) {
    const YAML::Mark m = node.Mark();
    return place(file, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0, unit);
}

std::string scalar(const std::string& file, const YAML::Node& node, const std::string& what,
                   const std::string& unit = {}) {
    if (!node.IsScalar())
        throw hierarchy_error(what + " must be a single value", unit.empty() ? std::vector<std::string>{}
                                                                             : std::vector<std::string>{unit},
                              mark_of(file, node, unit));
    return std::string(detail::trim(node.Scalar()));
}

org_unit yaml_unit(const std::string& file, const YAML::Node& node) {
    if (!node.IsMap()) throw hierarchy_error("each entry of units must be a map", {}, mark_of(file, node));
    org_unit u;
    u.line = node.Mark().line + 1;
    // The id first, so that every later error can name the unit.
    for (auto kv : node)
        if (kv.first.Scalar() == "id") u.id = scalar(file, kv.second, "id");
    if (u.id.empty()) throw hierarchy_error("a unit has no id", {}, mark_of(file, node));
    std::set<std::string> seen;
    std::vector<std::pair<std::string, YAML::Node>> primaries;  // (parent id, where given)
    bool has_level = false, has_kind = false;
    for (auto kv : node) {
        const std::string key = kv.first.Scalar();
        const YAML::Node& value = kv.second;
        if (!seen.insert(key).second && key != "parent")
            throw hierarchy_error("unit " + u.id + " gives '" + key + "' twice", {u.id}, mark_of(file, kv.first, u.id));
        if (key == "id") {
        } else if (key == "name") {
            u.name = scalar(file, value, "name", u.id);
        } else if (key == "level") {
            const auto t = scalar(file, value, "level", u.id);
            const auto l = parse_level(t);
            if (!l)
                throw hierarchy_error("unit " + u.id + " has level '" + t + "'; expected " + level_choices, {u.id},
                                      mark_of(file, value, u.id));
            u.level = *l;
            has_level = true;
        } else if (key == "kind") {
            const auto t = scalar(file, value, "kind", u.id);
            const auto k = parse_kind(t);
            if (!k)
                throw hierarchy_error("unit " + u.id + " has kind '" + t + "'; expected " + kind_choices, {u.id},
                                      mark_of(file, value, u.id));
            u.kind = *k;
            has_kind = true;
        } else if (key == "parent") {
            if (!value.IsNull()) primaries.emplace_back(scalar(file, value, "parent", u.id), kv.first);
        } else if (key == "secondary_parents") {
            if (value.IsScalar()) {
                for (auto& p : split_parents(value.Scalar())) u.secondary_parents.push_back(p);
            } else if (value.IsSequence()) {
                for (const auto& p : value) u.secondary_parents.push_back(scalar(file, p, "a secondary parent", u.id));
            } else if (!value.IsNull()) {
                throw hierarchy_error("secondary_parents of unit " + u.id + " must be a list of ids", {u.id},
                                      mark_of(file, value, u.id));
            }
        } else if (key == "parents") {
            if (!value.IsSequence())
                throw hierarchy_error("parents of unit " + u.id + " must be a list of {id, line}", {u.id},
                                      mark_of(file, value, u.id));
            for (const auto& p : value) {
                if (!p.IsMap())
                    throw hierarchy_error("each parent of unit " + u.id + " must be {id: …, line: primary|secondary}",
                                          {u.id}, mark_of(file, p, u.id));
                std::string pid, along = "primary";
                for (auto pk : p) {
                    const std::string k = pk.first.Scalar();
                    if (k == "id") pid = scalar(file, pk.second, "id", u.id);
                    else if (k == "line") along = scalar(file, pk.second, "line", u.id);
                    else
                        throw hierarchy_error("unknown key '" + k + "' in a parent of unit " + u.id +
                                                  " (expected id, line)",
                                              {u.id}, mark_of(file, pk.first, u.id));
                }
                if (pid.empty())
                    throw hierarchy_error("a parent of unit " + u.id + " has no id", {u.id}, mark_of(file, p, u.id));
                if (along == "primary") primaries.emplace_back(pid, p);
                else if (along == "secondary") u.secondary_parents.push_back(pid);
                else
                    throw hierarchy_error("parent " + pid + " of unit " + u.id + " has line '" + along +
                                              "'; expected primary or secondary",
                                          {u.id}, mark_of(file, p, u.id));
            }
        } else if (key == "valid_from" || key == "valid_to") {
            const auto t = scalar(file, value, key, u.id);
            if (!detail::is_period_bound(t))
                throw hierarchy_error("unit " + u.id + " has " + key + " '" + t + "'; expected YYYY or YYYY-MM",
                                      {u.id}, mark_of(file, value, u.id));
            (key == "valid_from" ? u.valid_from : u.valid_to) = t;
        } else {
            throw hierarchy_error("unknown key '" + key + "' in unit " + u.id +
                                      " (expected id, name, level, kind, parent, secondary_parents, parents, "
                                      "valid_from, valid_to)",
                                  {u.id}, mark_of(file, kv.first, u.id));
        }
    }
    if (!has_level)
        throw hierarchy_error("unit " + u.id + " has no level", {u.id}, mark_of(file, node, u.id));
    if (!has_kind) throw hierarchy_error("unit " + u.id + " has no kind", {u.id}, mark_of(file, node, u.id));
    if (primaries.size() > 1)
        throw hierarchy_error("unit " + u.id + " has two primary parents: " + primaries[0].first + " and " +
                                  primaries[1].first,
                              {u.id, primaries[0].first, primaries[1].first}, mark_of(file, primaries[1].second, u.id));
    if (!primaries.empty()) u.parent = primaries[0].first;
    return u;
}

hierarchy read_yaml_text(std::string_view text, const std::string& name) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        throw hierarchy_error(e.msg, {}, place(name, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                                               e.mark.column >= 0 ? e.mark.column + 1 : 0));
    }
    if (!root.IsMap()) throw hierarchy_error("a units YAML file must be a map with a 'units' list", {}, place(name, 1));
    YAML::Node units;
    for (auto kv : root) {
        const std::string key = kv.first.Scalar();
        if (key == "units") units = kv.second;
        else if (key != "name" && key != "description" && key != "source")
            throw hierarchy_error("unknown top-level key '" + key + "' (expected units, name, description, source)", {},
                                  mark_of(name, kv.first));
    }
    if (!units || !units.IsSequence())
        throw hierarchy_error("'units' must be a list of units", {}, units ? mark_of(name, units) : place(name, 1));
    hierarchy_builder builder(name);
    builder.reserve(units.size());
    try {
        for (const auto& u : units) builder.add_unit(yaml_unit(name, u));
    } catch (const YAML::Exception& e) {
        throw hierarchy_error(e.msg, {}, place(name, e.mark.line + 1, e.mark.column + 1));
    }
    return builder.build();
}

bool ends_with(const std::string& s, const char* suffix) {
    const std::string t(suffix);
    return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

}  // namespace

hierarchy hierarchy::read_csv(const std::string& path) { return read_csv_text(read_file(path), path); }

hierarchy hierarchy::parse_csv(std::string_view text, const std::string& name) { return read_csv_text(text, name); }

hierarchy hierarchy::read_yaml(const std::string& path) { return read_yaml_text(read_file(path), path); }

hierarchy hierarchy::parse_yaml(std::string_view text, const std::string& name) { return read_yaml_text(text, name); }

hierarchy hierarchy::read(const std::string& path) {
    if (ends_with(path, ".csv") || ends_with(path, ".CSV")) return read_csv(path);
    if (ends_with(path, ".yaml") || ends_with(path, ".yml")) return read_yaml(path);
    location l;
    l.file = path;
    throw hierarchy_error("units file " + path + " is neither .csv nor .yaml", {}, l);
}

}  // namespace unionstat
