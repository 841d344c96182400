// match_rows(): reports to units, once per call, in row order.

#include "unionstat/graph/unit_rows.hpp"

#include <algorithm>
#include <optional>
#include <unordered_set>

namespace unionstat {

unit_rows match_rows(const hierarchy& tree, const report_batch& batch, std::string_view period) {
    unit_rows m;
    const auto& periods = batch.periods();
    const auto& units = batch.units();
    if (period.empty()) {
        std::vector<std::string> seen;
        for (const auto& p : periods)
            if (!p.empty() && std::find(seen.begin(), seen.end(), p) == seen.end()) {
                seen.push_back(p);
                if (seen.size() > 8) break;
            }
        if (seen.size() > 1) {
            std::string list;
            for (const auto& p : seen) list += (list.empty() ? "" : ", ") + p;
            throw value_error("the batch holds reports of several periods (" + list + (seen.size() > 8 ? ", …" : "") +
                              "); choose one");
        }
        if (!seen.empty()) m.period = seen.front();
    } else {
        m.period = std::string(period);
    }
    m.row.assign(tree.size(), -1);
    // Each row's unit: batches often list units in the tree's order, so the unit after the
    // last match is tried first; the rest are looked up together (their cache misses
    // overlap: a national roll-up's leaves matched in a tenth of the time of one lookup
    // after another).
    const std::size_t rows = batch.size();
    constexpr std::uint32_t none = hierarchy::root_parent, skip = none - 1;
    std::vector<std::uint32_t> unit_of(rows, skip);
    std::vector<std::string> pending_ids;
    std::vector<std::size_t> pending_rows;
    std::size_t guess = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        // A row without a period belongs to whichever period is asked for.
        if (!periods[r].empty() && periods[r] != m.period) continue;
        if (guess < tree.size() && tree.ids()[guess] == units[r]) {
            unit_of[r] = static_cast<std::uint32_t>(guess);
            ++guess;
        } else {
            pending_rows.push_back(r);
        }
    }
    if (!pending_rows.empty()) {
        std::vector<std::uint32_t> found(pending_rows.size());
        tree.find_all(units, pending_rows, found.data());
        for (std::size_t k = 0; k < pending_rows.size(); ++k) unit_of[pending_rows[k]] = found[k];
    }
    std::unordered_set<std::string_view> unknown;
    for (std::size_t r = 0; r < rows; ++r) {
        const std::uint32_t u = unit_of[r];
        if (u == skip) continue;
        if (u == none) {
            m.unknown_rows.push_back(r);
            if (unknown.insert(units[r]).second) m.unknown_units.push_back(units[r]);
            continue;
        }
        if (m.row[u] >= 0) {
            location l;
            l.row = static_cast<std::int64_t>(r);
            l.unit = units[r];
            throw value_error("unit " + units[r] + " reports twice" +
                                  (m.period.empty() ? std::string() : " in period " + m.period) + " (rows " +
                                  std::to_string(m.row[u] + 1) + " and " + std::to_string(r + 1) + ")",
                              l);
        }
        m.row[u] = static_cast<std::int64_t>(r);
        ++m.matched;
    }
    return m;
}

}  // namespace unionstat
