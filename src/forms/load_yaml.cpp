// The only translation unit that sees yaml-cpp: schemas are read here into plain
// structs, so yaml-cpp stays a private dependency of the core library.
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "unionstat/forms/registry.hpp"
#include "yaml_reader.hpp"
#include "unionstat/rules/diagnostics.hpp"

namespace unionstat {

namespace {

/// Reads YAML nodes into schema structs, naming file:line:column for every mistake.
class reader : public detail::yaml_reader {
public:
    using yaml_reader::yaml_reader;

    std::optional<decimal> tolerance(const YAML::Node& map) const {
        const YAML::Node n = map["tolerance"];
        if (!n || n.IsNull()) return std::nullopt;
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
        fail(map["missing"].Mark(),
             "missing must be skip_if_any_missing, skip_if_all_missing or never_skip, got '" + s + "'");
    }

    field_def field(const YAML::Node& n) const {
        keys(n, "field",
             {"code", "row", "letter", "key", "label", "label_en", "type", "unit", "decimals", "part_of",
              "aggregation", "printed", "note"},
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
        if (!valid_code(f.code)) fail(n["code"].Mark(), "field code '" + f.code + "' is not of the form 01A, 04A_2 or 05_total", f.code);
        const std::string type = str(n, "type");
        if (type == "count") f.type = field_type::count;
        else if (type == "money") f.type = field_type::money;
        else if (type == "flag") f.type = field_type::flag;
        else fail(n["type"].Mark(), "type must be count, money or flag, got '" + type + "'", f.code);
        static const std::set<std::string> units = {"人", "户", "人次", "家", "个", "列", "节", "辆", "艘", "架", "张",
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
        return f;
    }

    static bool valid_code(const std::string& c) {
        // ^[0-9]{2}[A-Z]?(_[0-9a-z]+)?$
        if (c.size() < 2 || !isdigit(static_cast<unsigned char>(c[0])) || !isdigit(static_cast<unsigned char>(c[1]))) return false;
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
             {"id", "family", "year", "title", "title_en", "script", "source", "period", "deadline", "signature", "notes", "quirks",
              "review", "missing", "rows", "fields", "groups", "rules"},
             {"id", "family", "year", "title", "title_en", "script", "source", "period", "rows", "fields"});
        auto s = std::make_shared<form_schema>();
        s->file = file_;
        s->id = str(root, "id");
        s->family = str(root, "family");
        if (s->family != "songnuan" && s->family != "bangfu")
            fail(root["family"].Mark(), "family must be songnuan or bangfu, got '" + s->family + "'");
        s->year = integer(root, "year", 0);
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
        for (const auto& n : seq(root, "rows")) {
            keys(n, "row", {"row", "heading", "heading_en"}, {"row", "heading", "heading_en"});
            s->rows.push_back({str(n, "row"), str(n, "heading"), str(n, "heading_en")});
        }
        std::set<std::string> rows;
        for (const auto& r : s->rows) rows.insert(r.row);
        for (const auto& n : seq(root, "fields")) {
            s->fields.push_back(field(n));
            if (!rows.count(s->fields.back().row))
                fail(n["row"].Mark(), "field " + s->fields.back().code + " is in row " + s->fields.back().row + ", which is not listed under rows", s->fields.back().code);
        }
        if (s->fields.empty()) fail(root.Mark(), "a form needs at least one field");
        for (const auto& n : seq(root, "groups")) {
            keys(n, "group", {"id", "total", "parts", "exhaustive", "severity", "tolerance", "note"},
                 {"id", "total", "parts", "exhaustive"});
            field_group g;
            g.id = str(n, "id");
            g.total = str(n, "total");
            g.parts = strings(n, "parts");
            g.exhaustive = boolean(n, "exhaustive", false);
            g.sev = sev(n);
            g.tolerance = tolerance(n);
            g.note = str(n, "note");
            check_ref(*s, n["total"], g.total);
            for (const auto& p : n["parts"]) check_ref(*s, p, p.Scalar());
            s->groups.push_back(std::move(g));
        }
        for (const auto& n : seq(root, "rules")) {
            keys(n, "rule", {"id", "check", "severity", "message", "message_en", "missing", "tolerance", "levels", "note"},
                 {"id", "check", "message", "message_en"});
            rule_def r;
            r.id = str(n, "id");
            r.check = str(n, "check");
            r.sev = sev(n);
            r.message = str(n, "message");
            r.message_en = str(n, "message_en");
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
            s->rules.push_back(std::move(r));
        }
        // part_of references are checked here too, so the error points at the reference.
        for (const auto& n : seq(root, "fields"))
            if (n["part_of"]) check_ref(*s, n["part_of"], n["part_of"].Scalar());
        return s;
    }

    void check_ref(const form_schema& s, const YAML::Node& n, const std::string& code) const {
        for (const auto& f : s.fields)
            if (f.code == code) return;
        fail(n.Mark(), "'" + code + "' is not a field code of this form", code);
    }
};

std::shared_ptr<const form_schema> load(const YAML::Node& root, const std::string& name) {
    reader rd(name);
    auto s = rd.form(root);
    try {
        s->finalize();
    } catch (const rules::rule_error&) {
        throw;
    }
    return s;
}

using detail::rethrow_yaml;

}  // namespace

std::shared_ptr<const form_schema> load_form_text(std::string_view yaml, const std::string& name) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        rethrow_yaml(e, name);
    }
    try {
        return load(root, name);
    } catch (const YAML::Exception& e) {
        rethrow_yaml(e, name);
    }
}

std::shared_ptr<const form_schema> load_form(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        location l;
        l.file = path;
        throw schema_error("cannot open form schema file", l);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_form_text(text.str(), path);
}

}  // namespace unionstat
