#include "unionstat/forms/schema.hpp"

#include <algorithm>

#include "unionstat/rules/program.hpp"

namespace unionstat {

std::optional<std::size_t> form_schema::find(std::string_view name) const {
    auto it = by_name_.find(std::string(name));
    if (it == by_name_.end()) return std::nullopt;
    return it->second;
}

std::size_t form_schema::index(std::string_view name) const {
    if (auto i = find(name)) return *i;
    location l;
    l.field = std::string(name);
    throw lookup_error("form " + id + " has no field with code or key '" + std::string(name) + "'", l);
}

const rules::rule_set& form_schema::compiled() const {
    if (!compiled_) throw error("form " + id + " was not finalized");
    return *compiled_;
}

namespace {

location at(const form_schema& s, int line, int column, const std::string& field = {}) {
    location l;
    l.file = s.file;
    l.line = line;
    l.column = column;
    l.field = field;
    return l;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
    return out;
}

rule_def part_of_rule(const form_schema& s, const field_def& f, const field_def& total) {
    rule_def r;
    r.id = s.family + ".part_of." + f.code;
    r.check = f.code + " <= " + total.code;
    r.message = f.code + "「" + f.label + "」{" + f.code + "}" + f.unit + "，超过" + total.code + "「" + total.label + "」{" +
                total.code + "}" + total.unit + "（其中项不能大于总数）";
    r.message_en = f.code + " (" + f.label_en + ") = {" + f.code + "} exceeds " + total.code + " (" + total.label_en + ") = {" +
                   total.code + "}; a part cannot exceed its total";
    r.origin = rule_origin::part_of;
    r.file = s.file;
    r.line = f.line;
    r.column = f.column;
    return r;
}

rule_def group_rule(const form_schema& s, const field_group& g, int line) {
    const field_def& total = s.field(g.total);
    rule_def r;
    r.id = s.family + ".group." + g.id;
    const std::string parts = join(g.parts, " + ");
    std::vector<std::string> valued;
    for (const auto& p : g.parts) valued.push_back(p + "={" + p + "}");
    r.check = g.exhaustive ? g.total + " == " + parts : parts + " <= " + g.total;
    r.sev = g.sev;
    r.tolerance = g.tolerance;
    r.note = g.note;  // a group's note says why its parts add up (or may overlap): it explains the rule
    if (g.exhaustive) {
        r.message = total.code + "「" + total.label + "」{" + total.code + "}" + total.unit + "，不等于分项之和（" +
                    join(valued, "，") + "）";
        r.message_en = total.code + " (" + total.label_en + ") = {" + total.code + "} does not equal the sum of its parts (" +
                       join(valued, ", ") + ")";
    } else {
        r.message = "分项之和（" + join(valued, "，") + "）超过" + total.code + "「" + total.label + "」{" + total.code + "}" +
                    total.unit;
        r.message_en = "The parts (" + join(valued, ", ") + ") add up to more than " + total.code + " (" + total.label_en +
                       ") = {" + total.code + "}";
    }
    r.origin = rule_origin::group;
    r.file = s.file;
    r.line = line;
    return r;
}

// Every part_of names another field of the form, in the same unit.
void check_part_of(const form_schema& s) {
    for (const auto& f : s.fields) {
        if (f.part_of.empty()) continue;
        auto t = s.find(f.part_of);
        if (!t)
            throw schema_error("field " + f.code + " is part_of '" + f.part_of + "', which is not a field of " + s.id,
                               at(s, f.line, f.column, f.code));
        const field_def& total = s.fields[*t];
        if (&total == &f) throw schema_error("field " + f.code + " is part_of itself", at(s, f.line, f.column, f.code));
        if (total.unit != f.unit)
            throw schema_error(
                "field " + f.code + " (" + f.unit + ") is part_of " + total.code + " (" + total.unit + "): units differ",
                at(s, f.line, f.column, f.code));
    }
}

// A part_of chain must end at a total: a cycle (03A part_of 03B part_of 03A) would make
// every blank of it a part of itself.
void check_part_of_cycles(const form_schema& s) {
    for (const auto& f : s.fields) {
        std::vector<std::string> chain{f.code};
        for (const field_def* g = &f; !g->part_of.empty();) {
            g = &s.fields[*s.find(g->part_of)];
            if (g->code == f.code) {
                throw schema_error("part_of makes a cycle: " + join(chain, " → ") + " → " + f.code,
                                   at(s, f.line, f.column, f.code));
            }
            if (chain.size() > s.fields.size()) break;  // a cycle not through f: found from its own fields
            chain.push_back(g->code);
        }
    }
}

// A group's parts are distinct and do not include its total.
void check_group_parts(const form_schema& s) {
    for (const auto& g : s.groups) {
        std::vector<std::string> seen;
        for (const auto& p : g.parts) {
            if (p == g.total)
                throw schema_error("group " + g.id + " has its total " + g.total + " among its parts",
                                   at(s, g.line, g.column, p));
            if (std::find(seen.begin(), seen.end(), p) != seen.end())
                throw schema_error("group " + g.id + " names part " + p + " twice", at(s, g.line, g.column, p));
            seen.push_back(p);
        }
    }
}

// A {placeholder} in a message must name a field: anything else would be printed as is.
void check_placeholders(const form_schema& s) {
    for (const auto& r : s.rules) {
        for (const std::string* m : {&r.message, &r.message_en}) {
            for (std::size_t i = m->find('{'); i != std::string::npos; i = m->find('{', i + 1)) {
                const std::size_t close = m->find('}', i);
                if (close == std::string::npos) break;
                const std::string name = m->substr(i + 1, close - i - 1);
                if (!s.find(name)) {
                    location l = at(s, r.line, r.column, name);
                    l.rule = r.id;
                    throw schema_error("rule " + r.id + ": message placeholder {" + name + "} names no field of " + s.id, l);
                }
            }
        }
    }
}

// Generated rules are rebuilt from scratch so finalize() can run again after edits.
void generate_rules(form_schema& s) {
    auto& rules = s.rules;
    rules.erase(
        std::remove_if(rules.begin(), rules.end(), [](const rule_def& r) { return r.origin != rule_origin::explicit_rule; }),
        rules.end());
    for (auto& r : rules)
        if (r.file.empty()) r.file = s.file;
    for (const auto& f : s.fields)
        if (!f.part_of.empty()) rules.push_back(part_of_rule(s, f, s.field(f.part_of)));
    for (const auto& g : s.groups) {
        for (const auto& name : g.parts)
            if (!s.find(name))
                throw schema_error("group " + g.id + " names '" + name + "', which is not a field of " + s.id,
                                   at(s, g.line, g.column, name));
        if (!s.find(g.total))
            throw schema_error("group " + g.id + " has total '" + g.total + "', which is not a field of " + s.id,
                               at(s, g.line, g.column, g.total));
        rules.push_back(group_rule(s, g, g.line));
        rules.back().column = g.column;
    }
}

// Rule ids, explicit and generated, are unique within the form.
void check_rule_ids(const form_schema& s) {
    std::vector<std::string> ids;
    for (const auto& r : s.rules) ids.push_back(r.id);
    std::sort(ids.begin(), ids.end());
    auto dup = std::adjacent_find(ids.begin(), ids.end());
    if (dup != ids.end()) {
        location l = at(s, 0, 0);
        l.rule = *dup;
        throw schema_error("duplicate rule id '" + *dup + "'", l);
    }
}

}  // namespace

void form_schema::finalize() {
    by_name_.clear();
    for (std::size_t i = 0; i < fields.size(); ++i) {
        field_def& f = fields[i];
        f.scale = storage_scale(f.type, f.unit);
        if (!by_name_.emplace(f.code, i).second)
            throw schema_error("duplicate field code '" + f.code + "'", at(*this, f.line, f.column, f.code));
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const field_def& f = fields[i];
        if (f.key.empty()) continue;
        auto [it, fresh] = by_name_.emplace(f.key, i);
        if (!fresh) {
            const field_def& other = fields[it->second];
            throw schema_error("concept key '" + f.key + "' of field " + f.code + " is already used by field " + other.code,
                               at(*this, f.line, f.column, f.code));
        }
    }
    check_part_of(*this);
    check_part_of_cycles(*this);
    check_group_parts(*this);
    check_placeholders(*this);
    generate_rules(*this);
    check_rule_ids(*this);
    compiled_ = std::make_shared<rules::rule_set>(*this);
}

}  // namespace unionstat
