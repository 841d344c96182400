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
            throw value_error("the batch holds reports of several periods (" + list +
                              (seen.size() > 8 ? ", …" : "") + "); choose one");
        }
        if (!seen.empty()) m.period = seen.front();
    } else {
        m.period = std::string(period);
    }
    m.row.assign(tree.size(), -1);
    std::unordered_set<std::string_view> unknown;
    std::size_t guess = 0;
    for (std::size_t r = 0; r < batch.size(); ++r) {
        // A row without a period belongs to whichever period is asked for.
        if (!periods[r].empty() && periods[r] != m.period) continue;
        // Batches often list units in the tree's order: try the unit after the last match
        // before hashing.
        std::optional<std::size_t> u;
        if (guess < tree.size() && tree.ids()[guess] == units[r]) u = guess;
        else u = tree.find(units[r]);
        if (!u) {
            m.unknown_rows.push_back(r);
            if (unknown.insert(units[r]).second) m.unknown_units.push_back(units[r]);
            continue;
        }
        if (m.row[*u] >= 0) {
            location l;
            l.row = static_cast<std::int64_t>(r);
            l.unit = units[r];
            throw value_error("unit " + units[r] + " reports twice" +
                                  (m.period.empty() ? std::string() : " in period " + m.period) + " (rows " +
                                  std::to_string(m.row[*u] + 1) + " and " + std::to_string(r + 1) + ")",
                              l);
        }
        m.row[*u] = static_cast<std::int64_t>(r);
        ++m.matched;
        guess = *u + 1;
    }
    return m;
}

}  // namespace unionstat
