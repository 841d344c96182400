// check(): per field, one forward pass over the topological order computing, for every
// unit, the figure it passes up, its children's sum and the bottom-up total; rows only
// for inner units (plus non-reporting units that carry a gap), linked for drill-down.

#include "unionstat/graph/check.hpp"

#include <algorithm>

#include "unionstat/forms/cell.hpp"
#include "unionstat/graph/unit_rows.hpp"

namespace unionstat {

namespace {

[[noreturn]] void overflow_at(const hierarchy& tree, std::size_t unit, const field_def& f) {
    location l;
    l.unit = tree.id(unit);
    l.field = f.code;
    throw overflow_error("the children's total of field " + f.code + " overflows at unit " + tree.id(unit), l);
}

bool within(std::int64_t v, std::int64_t tolerance) noexcept { return v >= -tolerance && v <= tolerance; }

std::int64_t per_child_tolerance(const field_def& f, const check_options& o) {
    if (f.type != field_type::money) return o.count_per_child;
    if (o.money_per_child) {
        try {
            return o.money_per_child->rescaled(f.scale).raw();
        } catch (const error& e) {
            location l;
            l.field = f.code;
            throw value_error("money tolerance " + o.money_per_child->to_string() + " does not fit field " + f.code +
                                  ": " + e.message(),
                              l);
        }
    }
    const int finer = f.scale - f.decimals;
    return finer > 0 ? detail::pow10(finer) / 2 : 0;
}

}  // namespace

check_result check(const hierarchy& tree, const report_batch& batch, const check_options& options) {
    unit_rows m = match_rows(tree, batch, options.period);
    check_result out;
    out.period = m.period;
    out.unknown_rows = std::move(m.unknown_rows);
    out.unknown_units = std::move(m.unknown_units);

    const std::size_t n = tree.size();
    const auto& order = tree.topological_order();
    const auto& parent = tree.parent_array();
    const std::vector<std::int64_t>& row_at = m.row;  // by unit

    std::vector<std::int64_t> loc(n), low(n), tcum(n);
    std::vector<std::uint8_t> loc_has(n), low_has(n);
    std::vector<std::uint32_t> terms(n);
    std::vector<std::int32_t> row_of(n, -1);  // by unit: its row of this field
    const form_schema& form = batch.form();

    // Leaf reports given summed: they must match this tree and form, and none may be in the batch.
    const leaf_sums* leaves = options.leaves;
    if (leaves) {
        bool fits = leaves->width == batch.width() && leaves->sum.size() == leaves->width * leaves->units.size() &&
                    leaves->count.size() == leaves->sum.size();
        std::size_t inner = 0;
        for (std::size_t u = 0; u < n && fits; ++u)
            if (!tree.is_leaf(u)) fits = inner < leaves->units.size() && leaves->units[inner++] == u;
        if (!fits || inner != leaves->units.size())
            throw value_error("the leaf sums given to check are not of this tree and form (" +
                              std::to_string(leaves->units.size()) + " inner units × " + std::to_string(leaves->width) +
                              " fields)");
        for (std::size_t u = 0; u < n; ++u)
            if (row_at[u] >= 0 && tree.is_leaf(u)) {
                location l;
                l.row = row_at[u];
                l.unit = tree.id(u);
                throw value_error("unit " + tree.id(u) + " is a leaf: its report is in the leaf sums given to check, not in the batch (row " +
                                      std::to_string(row_at[u] + 1) + ")",
                                  l);
            }
    }

    for (std::size_t f = 0; f < batch.width(); ++f) {
        const field_def& field = form.fields[f];
        if (field.agg != aggregation::sum) continue;
        const std::int64_t per_child = per_child_tolerance(field, options);
        const column_view values = batch.column(f);
        const std::uint64_t* missing = batch.missing_bits(f);
        std::fill(loc.begin(), loc.end(), 0);
        std::fill(low.begin(), low.end(), 0);
        std::fill(tcum.begin(), tcum.end(), 0);
        std::fill(loc_has.begin(), loc_has.end(), 0);
        std::fill(low_has.begin(), low_has.end(), 0);
        std::fill(terms.begin(), terms.end(), 0);
        const std::size_t first_row = out.rows.size();
        if (leaves) {  // the leaf children's figures, as the pass below would have added them
            const std::size_t inner = leaves->units.size();
            const std::int64_t* sum = leaves->sum.data() + f * inner;
            const std::uint32_t* count = leaves->count.data() + f * inner;
            for (std::size_t k = 0; k < inner; ++k) {
                if (count[k] == 0) continue;
                const std::size_t q = leaves->units[k];
                loc[q] = low[q] = sum[k];
                loc_has[q] = low_has[q] = 1;
                terms[q] = count[k];
            }
        }

        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t u = order[k];
            const std::int64_t r = row_at[u];
            const bool reported =
                r >= 0 && !(missing && ((missing[static_cast<std::size_t>(r) >> 6] >> (r & 63)) & 1u));
            const std::int64_t rv = reported ? values[r] : 0;
            const bool has_loc = loc_has[u] != 0;

            bool has_low = true;
            std::int64_t low_p = 0;
            if (low_has[u]) low_p = low[u];
            else if (reported) low_p = rv;
            else has_low = false;

            bool has_eff = true;
            std::int64_t eff = 0;
            if (reported) eff = rv;
            else if (has_loc) eff = loc[u];
            else has_eff = false;

            const bool compared = reported && has_loc;
            std::int64_t tol = 0;
            if (compared && __builtin_mul_overflow(per_child, static_cast<std::int64_t>(terms[u]), &tol))
                overflow_at(tree, u, field);
            std::int64_t total_tol = 0;
            if (__builtin_add_overflow(tol, tcum[u], &total_tol)) overflow_at(tree, u, field);
            std::int64_t gap = 0;
            if (has_eff && has_low && __builtin_sub_overflow(eff, low_p, &gap)) overflow_at(tree, u, field);
            const bool gap_ok = within(gap, total_tol);

            if (compared || (has_loc && !gap_ok)) {
                check_row row;
                row.unit = u;
                row.field = f;
                row.computed = loc[u];
                if (reported) {
                    row.reported = rv;
                    if (__builtin_sub_overflow(rv, loc[u], &row.difference)) overflow_at(tree, u, field);
                }
                row.tolerance = tol;
                row.within_tolerance = within(row.difference, tol);
                row.bottom_up = low_p;
                row.gap = gap;
                row.gap_tolerance = total_tol;
                row.gap_within_tolerance = gap_ok;
                row.children = terms[u];
                if (options.keep_balanced || row.imbalanced()) {
                    row_of[u] = static_cast<std::int32_t>(out.rows.size());
                    out.rows.push_back(std::move(row));
                }
            }

            const std::uint32_t q = parent[u];
            if (q == hierarchy::root_parent) continue;
            if (has_eff) {
                if (__builtin_add_overflow(loc[q], eff, &loc[q])) overflow_at(tree, q, field);
                loc_has[q] = 1;
                ++terms[q];
            }
            if (has_low) {
                if (__builtin_add_overflow(low[q], low_p, &low[q])) overflow_at(tree, q, field);
                low_has[q] = 1;
            }
            if (__builtin_add_overflow(tcum[q], total_tol, &tcum[q])) overflow_at(tree, q, field);
        }

        // Drill-down links: a child's row with a gap outside tolerance explains its parent's.
        for (std::size_t k = first_row; k < out.rows.size(); ++k) {
            const check_row& row = out.rows[k];
            if (row.gap_within_tolerance) continue;
            const std::uint32_t q = parent[row.unit];
            if (q != hierarchy::root_parent && row_of[q] >= 0)
                out.rows[static_cast<std::size_t>(row_of[q])].explained_by.push_back(k);
        }
        for (std::size_t k = first_row; k < out.rows.size(); ++k) row_of[out.rows[k].unit] = -1;
    }
    return out;
}

std::vector<std::size_t> check_result::imbalances() const {
    std::vector<std::size_t> out;
    for (std::size_t k = 0; k < rows.size(); ++k)
        if (rows[k].imbalanced()) out.push_back(k);
    return out;
}

std::optional<std::size_t> check_result::find(std::size_t unit, std::size_t field) const {
    for (std::size_t k = 0; k < rows.size(); ++k)
        if (rows[k].unit == unit && rows[k].field == field) return k;
    return std::nullopt;
}

std::vector<check_step> check_result::trace(std::size_t row) const {
    if (row >= rows.size())
        throw lookup_error("check row " + std::to_string(row) + " out of range (" + std::to_string(rows.size()) +
                           " rows)");
    std::vector<check_step> out;
    std::vector<check_step> stack{{row, 0}};
    while (!stack.empty()) {
        const check_step s = stack.back();
        stack.pop_back();
        out.push_back(s);
        const auto& next = rows[s.row].explained_by;
        for (auto it = next.rbegin(); it != next.rend(); ++it) stack.push_back({*it, s.depth + 1});
    }
    return out;
}

}  // namespace unionstat
