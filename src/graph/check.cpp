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
            throw value_error(
                "money tolerance " + o.money_per_child->to_string() + " does not fit field " + f.code + ": " + e.message(), l);
        }
    }
    const int finer = f.scale - f.decimals;
    return finer > 0 ? detail::pow10(finer) / 2 : 0;
}

// Leaf reports given summed: they must match this tree and form, and none may be in the batch.
void check_leaf_sums(const hierarchy& tree, const report_batch& batch, const leaf_sums& leaves,
                     const std::vector<std::int64_t>& row_at) {
    const std::size_t n = tree.size();
    bool fits = leaves.width == batch.width() && leaves.sum.size() == leaves.width * leaves.units.size() &&
                leaves.count.size() == leaves.sum.size();
    std::size_t inner = 0;
    for (std::size_t u = 0; u < n && fits; ++u)
        if (!tree.is_leaf(u)) fits = inner < leaves.units.size() && leaves.units[inner++] == u;
    if (!fits || inner != leaves.units.size())
        throw value_error("the leaf sums given to check are not of this tree and form (" + std::to_string(leaves.units.size()) +
                          " inner units × " + std::to_string(leaves.width) + " fields)");
    for (std::size_t u = 0; u < n; ++u)
        if (row_at[u] >= 0 && tree.is_leaf(u)) {
            location l;
            l.row = row_at[u];
            l.unit = tree.id(u);
            throw value_error("unit " + tree.id(u) +
                                  " is a leaf: its report is in the leaf sums given to check, not in the batch (row " +
                                  std::to_string(row_at[u] + 1) + ")",
                              l);
        }
}

// One field's forward pass over the topological order. Per unit: `loc` the children's
// figures added up (`loc_has`: some child passed one up), `low` the bottom-up total
// (`low_has`), `tcum` the tolerance accumulated below, `terms` the figures added.
class field_pass {
public:
    field_pass(const hierarchy& tree, const report_batch& batch, const check_options& options,
               const std::vector<std::int64_t>& row_at, check_result& out)
        : tree_(tree),
          batch_(batch),
          options_(options),
          row_at_(row_at),
          out_(out),
          loc_(tree.size()),
          low_(tree.size()),
          tcum_(tree.size()),
          loc_has_(tree.size()),
          low_has_(tree.size()),
          terms_(tree.size()),
          row_of_(tree.size(), -1) {}

    void run(std::size_t f) {
        field_ = &batch_.form().fields[f];
        f_ = f;
        per_child_ = per_child_tolerance(*field_, options_);
        values_ = batch_.column(f);
        missing_ = batch_.missing_bits(f);
        reset();
        const std::size_t first_row = out_.rows.size();
        if (options_.leaves) seed_leaves(*options_.leaves);
        for (const std::uint32_t u : tree_.topological_order()) visit(u);
        link_rows(first_row);
    }

private:
    void reset() {
        for (auto* v : {&loc_, &low_, &tcum_}) std::fill(v->begin(), v->end(), 0);
        std::fill(loc_has_.begin(), loc_has_.end(), 0);
        std::fill(low_has_.begin(), low_has_.end(), 0);
        std::fill(terms_.begin(), terms_.end(), 0);
    }

    // The leaf children's figures, as the pass would have added them.
    void seed_leaves(const leaf_sums& leaves) {
        const std::size_t inner = leaves.units.size();
        const std::int64_t* sum = leaves.sum.data() + f_ * inner;
        const std::uint32_t* count = leaves.count.data() + f_ * inner;
        for (std::size_t k = 0; k < inner; ++k) {
            if (count[k] == 0) continue;
            const std::size_t q = leaves.units[k];
            loc_[q] = low_[q] = sum[k];
            loc_has_[q] = low_has_[q] = 1;
            terms_[q] = count[k];
        }
    }

    // What one unit passes up and compares.
    struct figures {
        bool reported = false;   // its report has the field
        std::int64_t rv = 0;     // the reported value
        bool has_low = false;    // a bottom-up total
        std::int64_t low_p = 0;  // the bottom-up total: its children's, else its own report
        bool has_eff = false;    // a figure to pass up
        std::int64_t eff = 0;    // the figure passed up: its report, else its children's sum
    };

    figures figures_of(std::size_t u) const {
        figures x;
        const std::int64_t r = row_at_[u];
        x.reported = r >= 0 && !(missing_ && ((missing_[static_cast<std::size_t>(r) >> 6] >> (r & 63)) & 1u));
        x.rv = x.reported ? values_[r] : 0;
        x.has_low = low_has_[u] || x.reported;
        x.low_p = low_has_[u] ? low_[u] : x.rv;
        x.has_eff = x.reported || loc_has_[u];
        x.eff = x.reported ? x.rv : loc_has_[u] ? loc_[u] : 0;
        return x;
    }

    void visit(std::size_t u) {
        const figures x = figures_of(u);
        const bool has_loc = loc_has_[u] != 0;
        const bool compared = x.reported && has_loc;
        std::int64_t tol = 0;
        if (compared && __builtin_mul_overflow(per_child_, static_cast<std::int64_t>(terms_[u]), &tol))
            overflow_at(tree_, u, *field_);
        std::int64_t total_tol = 0;
        if (__builtin_add_overflow(tol, tcum_[u], &total_tol)) overflow_at(tree_, u, *field_);
        std::int64_t gap = 0;
        if (x.has_eff && x.has_low && __builtin_sub_overflow(x.eff, x.low_p, &gap)) overflow_at(tree_, u, *field_);
        const bool gap_ok = within(gap, total_tol);
        if (compared || (has_loc && !gap_ok)) add_row(u, x, tol, gap, total_tol, gap_ok);
        pass_up(u, x, total_tol);
    }

    void add_row(std::size_t u, const figures& x, std::int64_t tol, std::int64_t gap, std::int64_t total_tol, bool gap_ok) {
        check_row row;
        row.unit = u;
        row.field = f_;
        row.computed = loc_[u];
        if (x.reported) {
            row.reported = x.rv;
            if (__builtin_sub_overflow(x.rv, loc_[u], &row.difference)) overflow_at(tree_, u, *field_);
        }
        row.tolerance = tol;
        row.within_tolerance = within(row.difference, tol);
        row.bottom_up = x.low_p;
        row.gap = gap;
        row.gap_tolerance = total_tol;
        row.gap_within_tolerance = gap_ok;
        row.children = terms_[u];
        if (options_.keep_balanced || row.imbalanced()) {
            row_of_[u] = static_cast<std::int32_t>(out_.rows.size());
            out_.rows.push_back(std::move(row));
        }
    }

    void pass_up(std::size_t u, const figures& x, std::int64_t total_tol) {
        const std::uint32_t q = tree_.parent_array()[u];
        if (q == hierarchy::root_parent) return;
        if (x.has_eff) {
            if (__builtin_add_overflow(loc_[q], x.eff, &loc_[q])) overflow_at(tree_, q, *field_);
            loc_has_[q] = 1;
            ++terms_[q];
        }
        if (x.has_low) {
            if (__builtin_add_overflow(low_[q], x.low_p, &low_[q])) overflow_at(tree_, q, *field_);
            low_has_[q] = 1;
        }
        if (__builtin_add_overflow(tcum_[q], total_tol, &tcum_[q])) overflow_at(tree_, q, *field_);
    }

    // Drill-down links: a child's row with a gap outside tolerance explains its parent's.
    void link_rows(std::size_t first_row) {
        const auto& parent = tree_.parent_array();
        for (std::size_t k = first_row; k < out_.rows.size(); ++k) {
            const check_row& row = out_.rows[k];
            if (row.gap_within_tolerance) continue;
            const std::uint32_t q = parent[row.unit];
            if (q != hierarchy::root_parent && row_of_[q] >= 0)
                out_.rows[static_cast<std::size_t>(row_of_[q])].explained_by.push_back(k);
        }
        for (std::size_t k = first_row; k < out_.rows.size(); ++k) row_of_[out_.rows[k].unit] = -1;
    }

    const hierarchy& tree_;
    const report_batch& batch_;
    const check_options& options_;
    const std::vector<std::int64_t>& row_at_;  // by unit: its batch row, or -1
    check_result& out_;
    std::vector<std::int64_t> loc_, low_, tcum_;
    std::vector<std::uint8_t> loc_has_, low_has_;
    std::vector<std::uint32_t> terms_;
    std::vector<std::int32_t> row_of_;  // by unit: its row of this field
    const field_def* field_ = nullptr;
    std::size_t f_ = 0;
    std::int64_t per_child_ = 0;
    column_view values_;
    const std::uint64_t* missing_ = nullptr;
};

}  // namespace

check_result check(const hierarchy& tree, const report_batch& batch, const check_options& options) {
    unit_rows m = match_rows(tree, batch, options.period);
    check_result out;
    out.period = m.period;
    out.unknown_rows = std::move(m.unknown_rows);
    out.unknown_units = std::move(m.unknown_units);
    if (options.leaves) check_leaf_sums(tree, batch, *options.leaves, m.row);
    field_pass pass(tree, batch, options, m.row, out);
    for (std::size_t f = 0; f < batch.width(); ++f)
        if (batch.form().fields[f].agg == aggregation::sum) pass.run(f);
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
        throw lookup_error("check row " + std::to_string(row) + " out of range (" + std::to_string(rows.size()) + " rows)");
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
