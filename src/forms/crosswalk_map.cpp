// Mapping a batch of one form version onto another version's concepts, column by column.
#include <algorithm>

#include "unionstat/checked.hpp"
#include "unionstat/forms/crosswalk.hpp"

namespace unionstat {

field_def concept_column::as_field() const {
    field_def f;
    f.key = key;
    f.label = label;
    f.label_en = label_en;
    f.type = type;
    f.unit = unit;
    f.scale = scale;
    f.decimals = type == field_type::money ? std::min(2, scale) : 0;
    return f;
}

namespace {

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
    return out;
}

/// Power of ten of one stored raw unit, in yuan for money: 万元 at scale 6 and 元 at
/// scale 2 are both -2 (the 分), so their raw values are the same number.
int raw_exponent(const field_def& f) {
    if (f.type != field_type::money) return 0;
    return (f.unit == "万元" ? 4 : 0) - f.scale;
}

/// One derived column: values, blanks, and where they came from.
struct column_values {
    std::vector<std::int64_t> values;
    std::vector<std::uint64_t> missing;  // bit set = blank
    mapping_method method = mapping_method::copy;
    std::vector<std::size_t> sources;  // source field indices read
    std::string note;
};

class mapper {
public:
    mapper(const crosswalk& cw, const report_batch& src) : cw_(cw), src_(src), s_(src.form()) {}

    /// Derives a concept for a target-shaped field `like`; on failure returns nullopt and
    /// sets `why` (and `note`).
    std::optional<column_values> derive(const std::string& key, const field_def& like, std::string& why, std::string& note,
                                        int depth = 0) const {
        if (depth > 16) {
            why = "sum concepts nest too deeply";
            return std::nullopt;
        }
        if (auto i = cw_.find(s_, key)) return direct(*i, like, why);
        if (const concept_sum* s = cw_.sum(key)) {
            column_values out;
            out.method = mapping_method::sum;
            out.note = s->note;
            out.values.assign(n(), 0);
            out.missing.assign(words(), 0);
            std::vector<std::string> absent;
            for (const auto& part : s->parts) {
                std::string part_why, part_note;
                auto col = derive(cw_.canonical(part), like, part_why, part_note, depth + 1);
                if (!col) {
                    absent.push_back(part);
                    continue;
                }
                for (std::size_t r = 0; r < n(); ++r) {
                    if (bit(col->missing, r)) {
                        out.missing[r >> 6] |= std::uint64_t(1) << (r & 63);
                    } else if (!bit(out.missing, r) && !detail::add_ok(out.values[r], col->values[r], out.values[r])) {
                        location l;
                        l.row = static_cast<std::int64_t>(r);
                        l.unit = src_.units()[r];
                        l.field = like.code.empty() ? key : like.code;
                        throw overflow_error("sum " + key + " = " + join(s->parts, " + ") + " leaves the int64 range", l);
                    }
                }
                out.sources.insert(out.sources.end(), col->sources.begin(), col->sources.end());
            }
            if (absent.empty()) return out;
            why = key + " is the sum " + join(s->parts, " + ") + ", but " + s_.id + " has no " + join(absent, " or ");
            note = s->note;
            return std::nullopt;
        }
        why = "concept " + key + " is not on " + s_.id;
        if (const concept_only_in* o = cw_.only_in_of(key)) note = o->note;
        else if (const concept_sum* whole = sum_containing(key)) {
            // The source may carry the merged concept whose split is unknown.
            if (auto w = cw_.find(s_, whole->key)) {
                why = s_.id + " reports only " + whole->key + " (" + s_.fields[*w].code + ") = " + join(whole->parts, " + ") +
                      "; its split is not known";
                note = whole->note;
            }
        }
        return std::nullopt;
    }

    /// The sum concept that lists `key` as a part, or nullptr.
    const concept_sum* sum_containing(const std::string& key) const {
        for (const auto& s : cw_.sums)
            for (const auto& p : s.parts)
                if (cw_.canonical(p) == cw_.canonical(key)) return &s;
        return nullptr;
    }

    std::size_t n() const noexcept { return src_.size(); }
    std::size_t words() const noexcept { return (n() + 63) / 64; }
    static bool bit(const std::vector<std::uint64_t>& m, std::size_t r) noexcept { return (m[r >> 6] >> (r & 63)) & 1u; }

private:
    /// The source field i carried into a target-shaped field, if type and unit allow.
    std::optional<column_values> direct(std::size_t i, const field_def& like, std::string& why) const {
        const field_def& from = s_.fields[i];
        const std::string key = cw_.canonical(like.key.empty() ? from.key : like.key);
        const unit_change* uc = cw_.unit_change_of(from.key);
        if (from.type != like.type) {
            why = s_.id + " " + from.code + " is a " + to_string(from.type) + " field, the target a " + to_string(like.type) +
                  " field";
            return std::nullopt;
        }
        column_values out;
        out.sources = {i};
        if (const concept_same* same = cw_.same_of(from.key)) out.note = same->note;
        std::int64_t factor = 1, divisor = 1;
        if (from.unit != like.unit) {
            if (from.type == field_type::money) {
                out.method = mapping_method::rescale;
                const int d = raw_exponent(from) - raw_exponent(like);
                if (d > 18 || d < -18) {
                    why = "no exact conversion from " + from.unit + " to " + like.unit;
                    return std::nullopt;
                }
                (d >= 0 ? factor : divisor) = detail::pow10(d >= 0 ? d : -d);
            } else if (uc && uc->method == unit_method::copy) {
                out.method = mapping_method::unit_change;
            } else {
                why = s_.id + " " + from.code + " counts " + from.unit + ", the target " + like.unit +
                      ", and the crosswalk declares no unit change for " + key;
                return std::nullopt;
            }
            if (uc) out.note = uc->note;
        }
        out.values.assign(n(), 0);
        out.missing.assign(words(), 0);
        const column_view v = src_.column(i);
        const std::uint64_t* m = src_.missing_bits(i);
        if (m) std::copy(m, m + words(), out.missing.begin());
        for (std::size_t r = 0; r < n(); ++r) {
            if (bit(out.missing, r)) continue;
            std::int64_t x = v[r];
            if (divisor != 1) {
                if (x % divisor != 0) {
                    location l;
                    l.row = static_cast<std::int64_t>(r);
                    l.unit = src_.units()[r];
                    l.field = from.code;
                    throw value_error("value of " + from.code + " cannot be written exactly in " + like.unit, l);
                }
                x /= divisor;
            } else if (factor != 1 && !detail::mul_ok(x, factor, x)) {
                location l;
                l.row = static_cast<std::int64_t>(r);
                l.unit = src_.units()[r];
                l.field = from.code;
                throw overflow_error("value of " + from.code + " in " + like.unit + " leaves the int64 range", l);
            }
            out.values[r] = x;
        }
        return out;
    }

    const crosswalk& cw_;
    const report_batch& src_;
    const form_schema& s_;
};

std::vector<std::string> codes(const form_schema& f, const std::vector<std::size_t>& idx) {
    std::vector<std::string> out;
    out.reserve(idx.size());
    for (auto i : idx) out.push_back(f.fields[i].code);
    return out;
}

// A mapped column in the result; its source fields marked as read.
template <class Column>
void record(crosswalk_result& res, std::vector<bool>& used, const form_schema& s, const std::string& key, const std::string& code,
            const Column& col) {
    for (auto i : col.sources) used[i] = true;
    res.mapped.push_back({key, code, col.method, codes(s, col.sources), col.note});
}

// A sum concept over the target's own concepts that the target does not print: derived
// when it can be, else an extra column of blanks with the reason. Nothing when the
// target lacks a part.
void add_sum_concept(const crosswalk& cw, mapper& mp, const concept_sum& sum, const report_batch& source, const form_schema& t,
                     crosswalk_result& res, std::vector<bool>& used) {
    std::vector<const field_def*> parts;
    for (const auto& p : sum.parts)
        if (auto i = cw.find(t, p)) parts.push_back(&t.fields[*i]);
    if (parts.size() != sum.parts.size()) return;
    concept_column c;
    c.key = sum.key;
    c.label = sum.label;
    c.label_en = sum.label_en;
    c.type = parts.front()->type;
    c.unit = parts.front()->unit;
    c.scale = parts.front()->scale;
    const field_def like = c.as_field();
    std::string why, note;
    auto col = mp.derive(cw.canonical(sum.key), like, why, note);
    if (col) {
        c.values = std::move(col->values);
        c.missing = std::move(col->missing);
        c.derived = true;
        record(res, used, source.form(), sum.key, "", *col);
    } else {
        c.values.assign(source.size(), 0);
        c.missing.assign((source.size() + 63) / 64, ~std::uint64_t(0));
        res.unfilled.push_back({"", sum.key, sum.label, why, note.empty() ? sum.note : note, 0});
    }
    res.extra.push_back(std::move(c));
}

// A source field not read: why (and how many values it held).
void add_unmapped(const crosswalk& cw, mapper& mp, const report_batch& source, std::size_t f, const form_schema& t,
                  crosswalk_result& res) {
    const field_def& fd = source.form().fields[f];
    std::string why = "concept " + fd.key + " is not on " + t.id, note;
    if (auto i = cw.find(t, fd.key)) {
        // On the target but not carried: say why (type or unit).
        std::string w, n2;
        mp.derive(cw.canonical(fd.key), t.fields[*i], w, n2);
        why = w;
        note = n2;
    } else if (const concept_only_in* o = cw.only_in_of(fd.key)) {
        note = o->note;
    } else if (const concept_sum* whole = mp.sum_containing(fd.key)) {
        why = fd.key + " is a part of " + whole->key + " = " + join(whole->parts, " + ") + ", which " + t.id +
              " neither prints nor can be derived here";
        note = whole->note;
    }
    std::size_t values = 0;
    for (std::size_t r = 0; r < source.size(); ++r) values += !source.is_missing(r, f);
    res.unmapped.push_back({fd.code, fd.key, fd.label, why, note, values});
}

}  // namespace

crosswalk_result crosswalk::map(const report_batch& source, std::shared_ptr<const form_schema> target) const {
    const form_schema& s = source.form();
    if (!target) throw value_error("crosswalk target form is null");
    for (const std::string* id : {&s.id, &target->id})
        if (!covers(*id)) {
            location l;
            l.file = file;
            throw lookup_error("crosswalk " + family + " covers " + join(forms) + ", not " + *id, l);
        }
    const form_schema& t = *target;
    crosswalk_result res(std::move(target));  // t stays valid: res.batch now holds the form
    res.source_form = s.id;
    res.batch.set_keys(source.units(), source.periods());
    mapper mp(*this, source);
    std::vector<bool> used(s.size(), false);
    for (std::size_t f = 0; f < t.size(); ++f) {
        const field_def& fd = t.fields[f];
        std::string why, note;
        auto col = mp.derive(canonical(fd.key), fd, why, note);
        if (!col) {
            res.unfilled.push_back({fd.code, fd.key, fd.label, why, note, 0});
            continue;
        }
        res.batch.set_column(f, std::move(col->values), std::move(col->missing));
        record(res, used, s, fd.key, fd.code, *col);
    }
    for (const auto& sum : sums)
        if (!find(t, sum.key)) add_sum_concept(*this, mp, sum, source, t, res, used);
    for (std::size_t f = 0; f < s.size(); ++f)
        if (!used[f]) add_unmapped(*this, mp, source, f, t, res);
    return res;
}

crosswalk_result crosswalk::map(const report& source, std::shared_ptr<const form_schema> target) const {
    report_batch b(source.form_ptr());
    b.append(source);
    return map(b, std::move(target));
}

}  // namespace unionstat
