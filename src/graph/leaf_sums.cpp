// sum_leaves(): one pass per `sum` field over the batch rows in order, each leaf row
// added to its parent's slot (the slots of one field stay in cache).

#include "unionstat/graph/leaf_sums.hpp"

#include <algorithm>

#include "unionstat/graph/unit_rows.hpp"

namespace unionstat {

leaf_sums sum_leaves(const hierarchy& tree, const report_batch& batch, std::string_view period) {
    unit_rows m = match_rows(tree, batch, period);
    leaf_sums out;
    out.period = m.period;
    out.unknown_rows = std::move(m.unknown_rows);
    out.unknown_units = std::move(m.unknown_units);
    out.width = batch.width();

    constexpr std::uint32_t none = 0xFFFFFFFFu;
    const std::size_t n = tree.size();
    std::vector<std::uint32_t> slot(n, none);
    for (std::size_t u = 0; u < n; ++u)
        if (!tree.is_leaf(u)) {
            slot[u] = static_cast<std::uint32_t>(out.units.size());
            out.units.push_back(u);
        }
    const std::size_t inner = out.units.size();

    // Per batch row: the slot its leaf report is added to (none: not a leaf of the period,
    // or a leaf root, which adds to no one).
    std::vector<std::uint32_t> dst(batch.size(), none);
    const auto& parent = tree.parent_array();
    for (std::size_t u = 0; u < n; ++u) {
        const std::int64_t r = m.row[u];
        if (r < 0) continue;
        if (slot[u] != none) out.inner_rows.push_back(static_cast<std::size_t>(r));
        else if (parent[u] != hierarchy::root_parent) dst[static_cast<std::size_t>(r)] = slot[parent[u]];
    }
    std::sort(out.inner_rows.begin(), out.inner_rows.end());

    out.sum.assign(out.width * inner, 0);
    out.count.assign(out.width * inner, 0);
    const form_schema& form = batch.form();
    for (std::size_t f = 0; f < out.width; ++f) {
        const field_def& field = form.fields[f];
        if (field.agg != aggregation::sum) continue;
        const column_view values = batch.column(f);
        const std::uint64_t* missing = batch.missing_bits(f);
        std::int64_t* sum = out.sum.data() + f * inner;
        std::uint32_t* count = out.count.data() + f * inner;
        for (std::size_t r = 0; r < dst.size(); ++r) {
            const std::uint32_t d = dst[r];
            if (d == none || (missing && ((missing[r >> 6] >> (r & 63)) & 1u))) continue;
            if (__builtin_add_overflow(sum[d], values[r], &sum[d])) {
                location l;
                l.unit = tree.id(out.units[d]);
                l.field = field.code;
                throw overflow_error("the children's total of field " + field.code + " overflows at unit " + l.unit, l);
            }
            ++count[d];
        }
    }
    return out;
}

}  // namespace unionstat
