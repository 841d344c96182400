// completeness(): a pass over the pre-order run of a subtree.

#include "unionstat/graph/completeness.hpp"

#include "unionstat/graph/unit_rows.hpp"

namespace unionstat {

completeness_result completeness(const hierarchy& tree, const report_batch& batch, std::string_view period,
                                 std::string_view root) {
    unit_rows m = match_rows(tree, batch, period);
    completeness_result out;
    out.period = m.period;
    out.unknown_rows = std::move(m.unknown_rows);
    out.unknown_units = std::move(m.unknown_units);

    const auto& pre = tree.preorder();
    std::size_t begin = 0, end = tree.size();
    if (!root.empty()) {
        const std::size_t r = tree.index(root);
        begin = tree.preorder_position()[r];
        end = begin + tree.subtree_size(r);
    }
    const bool versioned = tree.versioned();
    for (std::size_t k = begin; k < end; ++k) {
        const std::size_t u = pre[k];
        if (versioned && !tree.valid_at(u, out.period)) continue;
        const bool reported = m.row[u] >= 0;
        for (reporting_rate* rate : {&out.total, &out.by_level[static_cast<std::size_t>(tree.level(u))],
                                     &out.by_kind[static_cast<std::size_t>(tree.kind(u))]}) {
            ++rate->expected;
            rate->reported += reported;
        }
        if (!reported) out.missing.push_back(u);
    }
    return out;
}

}  // namespace unionstat
