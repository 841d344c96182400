#include "unionstat/forms/report.hpp"

#include "unionstat/forms/cell.hpp"
#include "unionstat/text.hpp"

namespace unionstat {

namespace {
// `s` by the readers' rule (detail::trim), moved when there is nothing to strip.
std::string stripped(std::string s) {
    const std::string_view t = detail::trim(s);
    if (t.size() == s.size()) return s;
    return std::string(t);
}
}  // namespace

// The unit id and period are stripped by the readers' rule (detail::trim): a report made
// by hand for " 630100" belongs to the unit a units file lists as "630100".
report::report(std::shared_ptr<const form_schema> form, std::string unit, std::string period)
    : form_(std::move(form)), unit_(stripped(std::move(unit))), period_(stripped(std::move(period))), values_(form_->size()) {}

namespace {
location where(const report& r, const field_def& f) {
    location l;
    l.unit = r.unit();
    l.field = f.code;
    return l;
}
}  // namespace

void report::set_text(std::string_view name, std::string_view text) {
    const std::size_t i = form_->index(name);
    const field_def& f = form_->fields[i];
    try {
        const cell c = parse_cell(f, text);
        values_[i] = c.state == cell_state::value ? std::optional<std::int64_t>(c.raw) : std::nullopt;
    } catch (const value_error& e) {
        throw value_error(e.message(), where(*this, f));
    } catch (const overflow_error& e) {
        throw overflow_error(e.message(), where(*this, f));
    }
}

void report::set(std::string_view name, const decimal& value) {
    const std::size_t i = form_->index(name);
    const field_def& f = form_->fields[i];
    try {
        values_[i] = to_raw(f, value);
    } catch (const value_error& e) {
        throw value_error(e.message(), where(*this, f));
    } catch (const overflow_error& e) {
        throw overflow_error(e.message(), where(*this, f));
    }
}

void report::clear(std::string_view name) { values_[form_->index(name)].reset(); }

std::optional<decimal> report::get(std::string_view name) const {
    const std::size_t i = form_->index(name);
    if (!values_[i]) return std::nullopt;
    return from_raw(form_->fields[i], *values_[i]);
}

void report::set_raw(std::size_t field, std::optional<std::int64_t> raw) { values_.at(field) = raw; }

}  // namespace unionstat
