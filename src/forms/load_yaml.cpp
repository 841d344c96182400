// The only translation unit that sees yaml-cpp: schemas are read here into plain
// structs, so yaml-cpp stays a private dependency of the core library.
#include <algorithm>
#include <cmath>
#include <locale>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "unionstat/forms/registry.hpp"
#include "yaml_reader.hpp"
#include "../utf8_check.hpp"
#include "unionstat/text.hpp"
#include "unionstat/rules/diagnostics.hpp"

namespace unionstat {

namespace {

/// The text patterns of form-schema.json, matched by hand: std::regex recurses once per
/// character in libstdc++, and a 100 KB key would overflow the stack.
namespace shape {
bool lower(char c) { return c >= 'a' && c <= 'z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool word(char c) { return lower(c) || digit(c) || c == '_'; }
/// ^[0-9]{2}$
bool row(const std::string& s) { return s.size() == 2 && digit(s[0]) && digit(s[1]); }
/// ^[A-Z]$
bool letter(const std::string& s) { return s.size() == 1 && s[0] >= 'A' && s[0] <= 'Z'; }
/// ^[a-z]+-[0-9]{4}$
bool form_id(const std::string& s) {
    const auto dash = s.find('-');
    if (dash == 0 || dash == std::string::npos || s.size() != dash + 5) return false;
    for (std::size_t i = 0; i < dash; ++i)
        if (!lower(s[i])) return false;
    for (std::size_t i = dash + 1; i < s.size(); ++i)
        if (!digit(s[i])) return false;
    return true;
}
/// ^[a-z][a-z0-9_]*$
bool snake(const std::string& s, std::size_t from = 0, std::size_t to = std::string::npos) {
    to = std::min(to, s.size());
    if (from >= to || !lower(s[from])) return false;
    for (std::size_t i = from + 1; i < to; ++i)
        if (!word(s[i])) return false;
    return true;
}
bool group_id(const std::string& s) { return snake(s); }
/// ^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$ (keys) or ^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$ (rule ids)
bool dotted(const std::string& s, bool later_parts_start_lower) {
    std::size_t start = 0;
    int parts = 0;
    for (;;) {
        const std::size_t dot = s.find('.', start);
        const std::size_t end = dot == std::string::npos ? s.size() : dot;
        if (parts == 0 || later_parts_start_lower) {
            if (!snake(s, start, end)) return false;
        } else {
            if (start >= end) return false;
            for (std::size_t i = start; i < end; ++i)
                if (!word(s[i])) return false;
        }
        ++parts;
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return parts >= 2;
}
bool key(const std::string& s) { return dotted(s, true); }
bool rule_id(const std::string& s) { return dotted(s, false); }
/// ^[0-9]+(\.[0-9]+)?$
bool plain_decimal(const std::string& s) {
    const auto dot = s.find('.');
    const std::size_t int_end = dot == std::string::npos ? s.size() : dot;
    if (int_end == 0) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (i != dot && !digit(s[i])) return false;
    return dot == std::string::npos || dot + 1 < s.size();
}
}  // namespace shape

/// Reads YAML nodes into schema structs, naming file:line:column for every mistake.
class reader : public detail::yaml_reader {
public:
    reader(std::string file, std::string_view source) : yaml_reader(std::move(file)), source_(source) {}

    /// Where each character of a rule's check text is in the file: one piece per source
    /// line the text spans (line, column of its first character, its length in characters).
    struct piece {
        int line, column, length;
    };
    mutable std::map<std::string, std::vector<piece>> check_places;

    /// Fails unless `n` is text matching `pattern` (what form-schema.json requires).
    void match(const YAML::Node& map, const char* key, bool (*fits)(const std::string&), const char* what,
               const std::string& field = {}) const {
        const YAML::Node n = map[key];
        if (!n || n.IsNull()) return;
        const std::string v = str(map, key);
        if (!fits(v)) fail(n.Mark(), std::string("'") + key + "' is '" + v + "', which is not " + what, field);
    }
    /// Fails when a required text is empty.
    void nonempty(const YAML::Node& map, const char* key, const char* what, const std::string& field = {}) const {
        if (str(map, key).empty())
            fail(map[key] ? map[key].Mark() : map.Mark(), std::string(what) + " '" + key + "' is empty", field);
    }

    std::optional<decimal> tolerance(const YAML::Node& map) const {
        const YAML::Node n = map["tolerance"];
        if (!n || n.IsNull()) return std::nullopt;
        // A plain YAML 0.01 is a float to every other YAML reader (and to form-schema.json):
        // tolerances are quoted text, exact by construction.
        if (!n.IsScalar() || n.Tag() != "!")
            fail(n.Mark(), "'tolerance' must be quoted text such as \"0.01\" (a YAML number is binary floating point)");
        if (!shape::plain_decimal(n.Scalar()))
            fail(n.Mark(), "'tolerance' must be a non-negative decimal such as \"0.01\", got '" + n.Scalar() + "'");
        try {
            const decimal d = decimal::parse(n.Scalar(), 18);
            if (d < decimal()) throw value_error("negative");
            return d;
        } catch (const error&) {
            fail(n.Mark(), "'tolerance' must be a non-negative decimal such as \"0.01\"");
        }
    }

    severity sev(const YAML::Node& map) const {
        const std::string s = str(map, "severity", "error");
        if (s == "error") return severity::error;
        if (s == "warning") return severity::warning;
        fail(map["severity"].Mark(), "severity must be 'error' or 'warning', got '" + s + "'");
    }

    std::optional<missing_strategy> missing(const YAML::Node& map) const {
        const std::string s = str(map, "missing");
        if (s.empty()) return std::nullopt;
        if (s == "skip_if_any_missing") return missing_strategy::skip_if_any_missing;
        if (s == "skip_if_all_missing") return missing_strategy::skip_if_all_missing;
        if (s == "never_skip") return missing_strategy::never_skip;
        fail(map["missing"].Mark(), "missing must be skip_if_any_missing, skip_if_all_missing or never_skip, got '" + s + "'");
    }

    field_def field(const YAML::Node& n) const {
        keys(n, "field",
             {"code", "row", "letter", "key", "label", "label_en", "type", "unit", "decimals", "part_of", "aggregation",
              "printed", "note", "weight"},
             {"code", "row", "key", "label", "label_en", "type", "unit"});
        field_def f;
        f.line = n.Mark().line + 1;
        f.column = n.Mark().column + 1;
        f.code = str(n, "code");
        f.row = str(n, "row");
        f.letter = str(n, "letter");
        f.key = str(n, "key");
        f.label = str(n, "label");
        f.label_en = str(n, "label_en");
        f.unit = str(n, "unit");
        f.part_of = str(n, "part_of");
        f.printed = str(n, "printed");
        f.note = str(n, "note");
        if (!valid_code(f.code))
            fail(n["code"].Mark(), "field code '" + f.code + "' is not of the form 01A, 04A_2 or 05_total", f.code);
        match(n, "row", shape::row, "a two-digit row number such as \"03\"", f.code);
        match(n, "letter", shape::letter, "one capital letter", f.code);
        match(n, "key", shape::key, "a dotted concept key such as workers.total", f.code);
        nonempty(n, "label", "field", f.code);
        nonempty(n, "label_en", "field", f.code);
        if (f.code.compare(0, 2, f.row) != 0)
            fail(n["row"].Mark(),
                 "field " + f.code + " is given row " + f.row + ", but its code starts with row " + f.code.substr(0, 2), f.code);
        if (!f.letter.empty() && (f.code.size() < 3 || f.code.substr(2, 1) != f.letter))
            fail(n["letter"].Mark(), "field " + f.code + " is given letter " + f.letter + ", which its code does not carry",
                 f.code);
        if (n["part_of"] && !valid_code(f.part_of))
            fail(n["part_of"].Mark(), "part_of '" + f.part_of + "' is not a field code such as 01A", f.code);
        const std::string type = str(n, "type");
        if (type == "count") f.type = field_type::count;
        else if (type == "money") f.type = field_type::money;
        else if (type == "flag") f.type = field_type::flag;
        else fail(n["type"].Mark(), "type must be count, money or flag, got '" + type + "'", f.code);
        static const std::set<std::string> units = {"人", "户", "人次", "家", "个", "列", "节", "辆",   "艘", "架",   "张",
                                                    "对", "场", "场次", "幅", "件", "支", "次", "万元", "元", "是/否"};
        if (!units.count(f.unit)) fail(n["unit"].Mark(), "unknown unit '" + f.unit + "'", f.code);
        const bool money_unit = f.unit == "万元" || f.unit == "元";
        if ((f.type == field_type::money) != money_unit)
            fail(n["unit"].Mark(), "unit " + f.unit + " does not fit a " + type + " field", f.code);
        if ((f.type == field_type::flag) != (f.unit == "是/否"))
            fail(n["unit"].Mark(), "unit " + f.unit + " does not fit a " + type + " field", f.code);
        f.decimals = integer(n, "decimals", f.type == field_type::money ? 2 : 0);
        f.scale = storage_scale(f.type, f.unit);
        if (f.decimals < 0 || f.decimals > f.scale)
            fail(n["decimals"] ? n["decimals"].Mark() : n.Mark(),
                 "decimals must be between 0 and " + std::to_string(f.scale) + " for a " + type + " field in " + f.unit, f.code);
        const std::string agg = str(n, "aggregation", f.type == field_type::flag ? "count_true" : "sum");
        if (agg == "sum") f.agg = aggregation::sum;
        else if (agg == "count_true") f.agg = aggregation::count_true;
        else if (agg == "none") f.agg = aggregation::none;
        else fail(n["aggregation"].Mark(), "aggregation must be sum, count_true or none, got '" + agg + "'", f.code);
        if (n["weight"]) f.weight = weight(n["weight"], "weight of field " + f.code, f.code);
        return f;
    }

    /// A localisation weight or factor: a plain YAML number, finite and above 0 (quoted
    /// text is refused, as form-schema.json's "type": "number" refuses it).
    double weight(const YAML::Node& n, const std::string& what, const std::string& field = {}) const {
        const std::string text = n.IsScalar() ? n.Scalar() : std::string();
        double v = 0;
        bool ok = n.IsScalar() && n.Tag() != "!" && !text.empty();
        if (ok) {
            std::istringstream in(text);
            in.imbue(std::locale::classic());
            in >> v;
            ok = in && in.peek() == std::char_traits<char>::eof();
        }
        if (n.IsScalar() && n.Tag() == "!")
            fail(n.Mark(), what + " must be a number such as 2 or 1.5, not quoted text \"" + text + "\"", field);
        if (!ok) fail(n.Mark(), what + " must be a number such as 2 or 1.5, got '" + text + "'", field);
        if (!(v > 0) || !std::isfinite(v)) fail(n.Mark(), what + " must be a positive number, got '" + text + "'", field);
        return v;
    }

    /// `localisation: {level_scale: {city: 2, …}}`: factors on the weights of reports by level.
    void localisation(const YAML::Node& root, form_schema& s) const {
        const YAML::Node n = root["localisation"];
        if (!n || n.IsNull()) return;
        keys(n, "localisation", {"level_scale"}, {});
        const YAML::Node ls = n["level_scale"];
        if (!ls || ls.IsNull()) return;
        if (!ls.IsMap()) fail(ls.Mark(), "'level_scale' must be a mapping of levels to factors, such as {city: 2}");
        for (auto it = ls.begin(); it != ls.end(); ++it) {
            const std::string name = it->first.Scalar();
            const auto l = parse_level(name);
            if (!l) fail(it->first.Mark(), "unknown level '" + name + "' (national, province, city, county, grassroots)");
            if (s.level_scale.count(*l)) fail(it->first.Mark(), "level '" + name + "' given twice in level_scale");
            s.level_scale[*l] = weight(it->second, "the level_scale factor of " + name);
        }
    }

    static bool valid_code(const std::string& c) {
        // ^[0-9]{2}[A-Z]?(_[0-9a-z]+)?$
        if (c.size() < 2 || !isdigit(static_cast<unsigned char>(c[0])) || !isdigit(static_cast<unsigned char>(c[1])))
            return false;
        std::size_t i = 2;
        if (i < c.size() && c[i] >= 'A' && c[i] <= 'Z') ++i;
        if (i == c.size()) return true;
        if (c[i] != '_' || i + 1 == c.size()) return false;
        for (++i; i < c.size(); ++i)
            if (!(isdigit(static_cast<unsigned char>(c[i])) || (c[i] >= 'a' && c[i] <= 'z'))) return false;
        return true;
    }

    std::shared_ptr<form_schema> form(const YAML::Node& root) const {
        keys(root, "form",
             {"id", "family", "year", "title", "title_en", "script", "source", "period", "deadline", "signature", "notes",
              "quirks", "review", "missing", "rows", "fields", "groups", "rules", "localisation"},
             {"id", "family", "year", "title", "title_en", "script", "source", "period", "rows", "fields"});
        auto s = std::make_shared<form_schema>();
        s->file = file_;
        header(root, s.get());
        for (const auto& n : seq(root, "rows")) {
            keys(n, "row", {"row", "heading", "heading_en"}, {"row", "heading", "heading_en"});
            match(n, "row", shape::row, "a two-digit row number such as \"03\"");
            s->rows.push_back({str(n, "row"), str(n, "heading"), str(n, "heading_en")});
        }
        fields(root, s.get());
        for (const auto& n : seq(root, "groups")) s->groups.push_back(group(s.get(), n));
        for (const auto& n : seq(root, "rules")) s->rules.push_back(rule(s.get(), n));
        // part_of references are checked here too, so the error points at the reference.
        for (const auto& n : seq(root, "fields"))
            if (n["part_of"]) check_ref(*s, n["part_of"], n["part_of"].Scalar());
        return s;
    }

    /// The form's own entries: everything but its rows, fields, groups and rules.
    void header(const YAML::Node& root, form_schema* s) const {
        s->id = str(root, "id");
        match(root, "id", shape::form_id, "a form id such as songnuan-2018 (lower-case letters, '-', four digits)");
        s->family = str(root, "family");
        if (s->family != "songnuan" && s->family != "bangfu")
            fail(root["family"].Mark(), "family must be songnuan or bangfu, got '" + s->family + "'");
        s->year = integer(root, "year", 0);
        if (s->year < 1990 || s->year > 2100)
            fail(root["year"].Mark(), "year " + std::to_string(s->year) + " is not between 1990 and 2100");
        nonempty(root, "title", "form");
        nonempty(root, "title_en", "form");
        s->title = str(root, "title");
        s->title_en = str(root, "title_en");
        s->script = str(root, "script");
        if (s->script != "simplified" && s->script != "traditional")
            fail(root["script"].Mark(), "script must be simplified or traditional");
        const YAML::Node src = root["source"];
        keys(src, "source", {"issuer", "issuer_en", "notice", "seed", "attachment"},
             {"issuer", "issuer_en", "notice", "seed", "attachment"});
        s->source = {str(src, "issuer"), str(src, "issuer_en"), str(src, "notice"), str(src, "seed"), str(src, "attachment")};
        s->period = str(root, "period");
        for (const auto& n : seq(root, "notes")) {
            keys(n, "note", {"text", "text_en"}, {"text", "text_en"});
            s->notes.push_back({str(n, "text"), str(n, "text_en")});
        }
        s->quirks = strings(root, "quirks");
        s->deadline = str(root, "deadline");
        if (const YAML::Node sig = root["signature"]) {
            keys(sig, "signature", {"unit", "reporter", "phone", "date"}, {"unit", "reporter", "phone", "date"});
            s->signature = {str(sig, "unit"), str(sig, "reporter"), str(sig, "phone"), str(sig, "date")};
        }
        s->review = strings(root, "review");
        if (auto m = missing(root)) s->default_missing = *m;
        localisation(root, *s);
    }

    /// The fields, each in a listed row; a duplicate code is refused at its second line.
    void fields(const YAML::Node& root, form_schema* s) const {
        std::set<std::string> rows;
        for (const auto& r : s->rows) rows.insert(r.row);
        std::set<std::string> codes;
        for (const auto& n : seq(root, "fields")) {
            s->fields.push_back(field(n));
            // Found here, at the second one's line, before anything that names a field.
            if (!codes.insert(s->fields.back().code).second)
                fail(n["code"].Mark(), "duplicate field code '" + s->fields.back().code + "'", s->fields.back().code);
            if (!rows.count(s->fields.back().row))
                fail(n["row"].Mark(),
                     "field " + s->fields.back().code + " is in row " + s->fields.back().row + ", which is not listed under rows",
                     s->fields.back().code);
        }
        if (s->fields.empty()) fail(root.Mark(), "a form needs at least one field");
    }

    /// One entry of `groups`, its total and parts checked against the fields read.
    field_group group(const form_schema* s, const YAML::Node& n) const {
        keys(n, "group", {"id", "total", "parts", "exhaustive", "severity", "tolerance", "note"},
             {"id", "total", "parts", "exhaustive"});
        field_group g;
        g.line = n.Mark().line + 1;
        g.column = n.Mark().column + 1;
        match(n, "id", shape::group_id, "a group id such as funds_by_kind (lower case, digits, '_')");
        g.id = str(n, "id");
        g.total = str(n, "total");
        g.parts = strings(n, "parts");
        if (g.parts.size() < 2) fail(n["parts"].Mark(), "group " + g.id + " needs at least two parts");
        std::set<std::string> seen_parts;
        const YAML::Node part_nodes = n["parts"];
        for (std::size_t k = 0; k < g.parts.size(); ++k) {
            if (g.parts[k] == g.total)
                fail(part_nodes[k].Mark(), "group " + g.id + " has its total " + g.total + " among its parts", g.total);
            if (!seen_parts.insert(g.parts[k]).second)
                fail(part_nodes[k].Mark(), "group " + g.id + " names part " + g.parts[k] + " twice", g.parts[k]);
        }
        g.exhaustive = boolean(n, "exhaustive", false);
        g.sev = sev(n);
        g.tolerance = tolerance(n);
        g.note = str(n, "note");
        check_ref(*s, n["total"], g.total);
        for (const auto& p : n["parts"]) check_ref(*s, p, p.Scalar());
        return g;
    }

    /// One entry of `rules`, placed at its check text (recorded in check_places).
    rule_def rule(const form_schema* s, const YAML::Node& n) const {
        keys(n, "rule", {"id", "check", "severity", "message", "message_en", "missing", "tolerance", "levels", "note"},
             {"id", "check", "message", "message_en"});
        rule_def r;
        match(n, "id", shape::rule_id, "a dotted rule id such as songnuan.heating_per_household");
        r.id = str(n, "id");
        r.check = str(n, "check");
        if (detail::trim(r.check).empty()) fail(n["check"].Mark(), "rule " + r.id + " has an empty check");
        if (n["levels"] && n["levels"].IsSequence() && n["levels"].size() == 0)
            fail(n["levels"].Mark(), "rule " + r.id + " has an empty list of levels (leave it out for every level)");
        r.sev = sev(n);
        r.message = str(n, "message");
        r.message_en = str(n, "message_en");
        placeholders(*s, n, "message");
        placeholders(*s, n, "message_en");
        r.missing = missing(n);
        r.tolerance = tolerance(n);
        r.note = str(n, "note");
        for (const auto& lv : seq(n, "levels")) {
            auto l = parse_level(lv.Scalar());
            if (!l) fail(lv.Mark(), "unknown level '" + lv.Scalar() + "' (national, province, city, county, grassroots)");
            r.levels.push_back(*l);
        }
        r.file = file_;
        const YAML::Mark m = n["check"].Mark();
        r.line = m.line + 1;
        r.column = m.column + 1;
        auto pieces = place_text(n["check"], r.check);
        if (!pieces.empty()) {
            r.line = pieces.front().line;
            r.column = pieces.front().column;
            check_places[r.id] = std::move(pieces);
        }
        return r;
    }

    /// Where the characters of a scalar's text are in the file: a plain or quoted text on
    /// one line, or a block (`|`, `>`) or plain text folded over several lines. Empty when
    /// the text cannot be matched to the source character by character (escapes).
    std::vector<piece> place_text(const YAML::Node& n, const std::string& text) const {
        std::vector<piece> out;
        std::size_t p = 0;
        int line = 0;
        bool block = false;
        if (!text_start(n.Mark(), p, line, block)) return out;
        std::size_t t = 0;  // bytes of `text` placed
        bool first = true;
        while (t < text.size() && p < source_.size() && out.size() < 10000) {
            if (!first || block) p = skip_blanks(p);
            const std::size_t len = common_run(p, text, t);
            if (len == 0) return {};
            out.push_back({line, column_of(p), static_cast<int>(detail::utf8_length(text.substr(t, len)))});
            t += len;
            p += len;
            if (t == text.size()) break;
            // The next character of the text joins two source lines (a space or a newline).
            if (!joins_lines(p, text[t])) return {};
            ++t;
            ++p;
            ++line;
            first = false;
            out.back().length += 1;  // the joining character counts to the line it ends
        }
        if (t != text.size()) return {};
        return out;
    }

    /// A {placeholder} naming no field code or key would be printed as is: refused at the
    /// message's line (fields are all read before the rules).
    void placeholders(const form_schema& s, const YAML::Node& rule, const char* key) const {
        const std::string m = str(rule, key);
        for (std::size_t i = m.find('{'); i != std::string::npos; i = m.find('{', i + 1)) {
            const std::size_t close = m.find('}', i);
            if (close == std::string::npos) break;
            const std::string name = m.substr(i + 1, close - i - 1);
            bool known = false;
            for (const auto& f : s.fields) known |= f.code == name || (!f.key.empty() && f.key == name);
            if (!known)
                fail(rule[key].Mark(),
                     "rule " + str(rule, "id") + ": message placeholder {" + name + "} names no field of " + s.id, name);
        }
    }

    void check_ref(const form_schema& s, const YAML::Node& n, const std::string& code) const {
        for (const auto& f : s.fields)
            if (f.code == code) return;
        fail(n.Mark(), "'" + code + "' is not a field code of this form", code);
    }

private:
    /// Where the text of the scalar at `m` begins: byte `p` and its `line`, past an opening
    /// quote, or on the line after a block indicator (`block`). False when not in the source.
    bool text_start(const YAML::Mark& m, std::size_t& p, int& line, bool& block) const {
        if (m.pos < 0 || static_cast<std::size_t>(m.pos) >= source_.size()) return false;
        p = static_cast<std::size_t>(m.pos);
        line = m.line + 1;
        const char c = source_[p];
        if (c == '"' || c == '\'') {
            ++p;
        } else if (c == '|' || c == '>') {
            block = true;
            p = source_.find('\n', p);
            if (p == std::string_view::npos) return false;
            ++p;
            ++line;
        }
        return true;
    }

    /// Column (in characters) of byte `at` on its line.
    int column_of(std::size_t at) const {
        const std::size_t start = source_.rfind('\n', at == 0 ? 0 : at - 1);
        const std::size_t from = start == std::string_view::npos || at == 0 ? 0 : start + 1;
        return 1 + static_cast<int>(detail::utf8_length(source_.substr(from, at - from)));
    }

    /// The first byte at or after `p` that is not a space or tab.
    std::size_t skip_blanks(std::size_t p) const {
        while (p < source_.size() && (source_[p] == ' ' || source_[p] == '\t')) ++p;
        return p;
    }

    /// How many bytes of the source from `p`, on one line, equal `text` from `t`.
    std::size_t common_run(std::size_t p, const std::string& text, std::size_t t) const {
        std::size_t len = 0;
        while (t + len < text.size() && p + len < source_.size() && source_[p + len] != '\n' && source_[p + len] == text[t + len])
            ++len;
        return len;
    }

    /// Whether the text's character `next` is the one that joins source lines at byte `p`.
    bool joins_lines(std::size_t p, char next) const {
        return p < source_.size() && source_[p] == '\n' && (next == ' ' || next == '\n');
    }

    std::string_view source_;
};

/// Largest schema file read, and the most text its aliases may expand to. The largest
/// bundled form is 53 KB; a 0.5 MB file aliasing a 100 KB text 100,000 times would
/// otherwise become gigabytes of copied strings.
constexpr std::uintmax_t max_form_bytes = 4u << 20;
constexpr std::size_t max_expanded_bytes = 32u << 20;
constexpr std::size_t max_expanded_nodes = 2000000;

/// Walks the document as its readers will (aliases followed), counting text and nodes,
/// and refuses it before any copy once they pass the caps.
class expansion_budget {
public:
    explicit expansion_budget(const std::string& file) : file_(file) {}
    void walk(const YAML::Node& n, int depth = 0) {
        if (++nodes_ > max_expanded_nodes || depth > 64) refuse(n, depth > 64);
        if (n.IsScalar()) {
            bytes_ += n.Scalar().size();
            if (bytes_ > max_expanded_bytes) refuse(n, false);
        } else if (n.IsSequence()) {
            for (const auto& item : n) walk(item, depth + 1);
        } else if (n.IsMap()) {
            for (const auto& kv : n) {
                walk(kv.first, depth + 1);
                walk(kv.second, depth + 1);
            }
        }
    }

private:
    [[noreturn]] void refuse(const YAML::Node& n, bool deep) const {
        location l;
        l.file = file_;
        l.line = n.Mark().line + 1;
        l.column = n.Mark().column + 1;
        throw schema_error(deep ? std::string("the document nests more than 64 levels deep")
                                : "aliases expand the document to more than " + std::to_string(max_expanded_bytes >> 20) +
                                      " MiB of text or " + std::to_string(max_expanded_nodes) +
                                      " nodes (an alias bomb?); write the values out or use fewer aliases",
                           l);
    }
    const std::string& file_;
    std::size_t bytes_ = 0, nodes_ = 0;
};

/// Re-places rule diagnostics at the file's line and column (the checker counts columns
/// inside the rule text).
rules::rule_error placed(const rules::rule_error& e, const std::map<std::string, std::vector<reader::piece>>& places) {
    std::vector<rules::diagnostic> diags = e.diagnostics();
    for (auto& d : diags) {
        auto it = places.find(d.rule);
        if (it == places.end() || d.column <= 0) continue;
        int left = d.column;
        for (const auto& pc : it->second) {
            if (left <= pc.length) {
                d.line = pc.line;
                d.file_column = pc.column + left - 1;
                break;
            }
            left -= pc.length;
        }
    }
    return rules::rule_error(std::move(diags));
}

std::shared_ptr<const form_schema> load(const YAML::Node& root, const std::string& name, std::string_view source) {
    expansion_budget(name).walk(root);
    reader rd(name, source);
    auto s = rd.form(root);
    try {
        s->finalize();
    } catch (const rules::rule_error& e) {
        throw placed(e, rd.check_places);
    }
    return s;
}

using detail::rethrow_yaml;

}  // namespace

std::shared_ptr<const form_schema> load_form_text(std::string_view yaml, const std::string& name) {
    location at_file;
    at_file.file = name;
    if (yaml.size() > max_form_bytes)
        throw schema_error("form schema is " + std::to_string(yaml.size()) + " bytes; the limit is " +
                               std::to_string(max_form_bytes >> 20) + " MiB",
                           at_file);
    if (detail::trim(yaml).empty()) throw schema_error("form schema file is empty", at_file);
    if (const auto bad = detail::utf8_invalid_offset(yaml); bad != std::string_view::npos) {
        const auto [line, column] = detail::line_column_at(yaml, bad);
        location l = at_file;
        l.line = line;
        l.column = column;
        throw schema_error(detail::not_utf8_message(yaml, bad, "the form schema"), l);
    }
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        rethrow_yaml(e, name);
    }
    if (root.IsNull()) throw schema_error("form schema file holds no YAML document (only comments?)", at_file);
    try {
        return load(root, name, yaml);
    } catch (const YAML::Exception& e) {
        rethrow_yaml(e, name);
    }
}

std::shared_ptr<const form_schema> load_form(const std::string& path) {
    namespace fs = std::filesystem;
    location l;
    l.file = path;
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) throw schema_error("cannot open form schema file: no such file", l);
    if (fs::is_directory(st)) throw schema_error("is a directory, not a form schema file", l);
    // A device (/dev/zero), pipe or socket would be read forever or block.
    if (!fs::is_regular_file(st)) throw schema_error("is not a regular file (a device, pipe or socket?)", l);
    const std::uintmax_t size = fs::file_size(path, ec);
    if (!ec && size > max_form_bytes)
        throw schema_error("form schema file is " + std::to_string(size) + " bytes; the limit is " +
                               std::to_string(max_form_bytes >> 20) + " MiB",
                           l);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw schema_error("cannot open form schema file", l);
    // Read at most one byte past the limit, so a file that grew meanwhile is still refused.
    std::string text(static_cast<std::size_t>(ec ? max_form_bytes : std::min(size, max_form_bytes)) + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return load_form_text(text, path);
}

}  // namespace unionstat
