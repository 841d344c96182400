// The hierarchy: validation and build (Boost.Graph for cycles with their path and for
// the orders), the flat arrays queries and roll-ups use, periods and versions.

#include "unionstat/graph/hierarchy.hpp"

#include <algorithm>
#include <functional>
#include <sstream>

#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/filtered_graph.hpp>

#include "../parallel_for.hpp"
#include "unionstat/graph/hierarchy_builder.hpp"
#include "unionstat/text.hpp"

namespace unionstat {

// ---------------------------------------------------------------------------------------
// periods

namespace detail {

int compare_period_prefix(std::string_view a, std::string_view b) noexcept {
    const std::size_t k = std::min(a.size(), b.size());
    const int c = a.substr(0, k).compare(b.substr(0, k));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
}

bool period_overlaps(std::string_view period, std::string_view from, std::string_view to) noexcept {
    if (period.empty()) return true;
    std::string_view lo = period, hi = period;
    if (auto slash = period.find('/'); slash != std::string_view::npos) {
        lo = period.substr(0, slash);
        hi = period.substr(slash + 1);
    }
    if (!from.empty() && compare_period_prefix(hi, from) < 0) return false;
    if (!to.empty() && compare_period_prefix(lo, to) > 0) return false;
    return true;
}

bool is_period_bound(std::string_view t) noexcept {
    if (t.empty()) return true;
    auto digits = [](std::string_view s) { return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }); };
    if (t.size() == 4) return digits(t);
    if (t.size() == 7 && t[4] == '-' && digits(t.substr(0, 4)) && digits(t.substr(5, 2))) {
        const int m = (t[5] - '0') * 10 + (t[6] - '0');
        return m >= 1 && m <= 12;
    }
    return false;
}

}  // namespace detail

namespace {

constexpr std::uint32_t no_unit = 0xFFFFFFFFu;

using detail::id_index;

// Below this many units a second thread costs more than it saves.
constexpr std::size_t parallel_above = 100000;

location at_line(const std::string& file, int line) {
    location l;
    l.file = file;
    l.line = line;
    return l;
}

using detail::unit_listing;

location at_unit(const std::string& file, const unit_listing& u) {
    location l = at_line(file, u.line);
    l.unit = std::string(u.id);
    return l;
}

std::string lines_text(int a, int b) {
    if (a > 0 && b > 0) return " (lines " + std::to_string(a) + " and " + std::to_string(b) + ")";
    return {};
}

std::string bound_text(const unit_listing& u) {
    return "[" + (u.valid_from.empty() ? std::string("…") : std::string(u.valid_from)) + ", " +
           (u.valid_to.empty() ? std::string("…") : std::string(u.valid_to)) + "]";
}

bool validity_overlaps(const unit_listing& a, const unit_listing& b) {
    // [a.from, a.to] and [b.from, b.to] overlap unless one ends before the other starts.
    if (!a.valid_to.empty() && !b.valid_from.empty() && detail::compare_period_prefix(a.valid_to, b.valid_from) < 0) return false;
    if (!b.valid_to.empty() && !a.valid_from.empty() && detail::compare_period_prefix(b.valid_to, a.valid_from) < 0) return false;
    return true;
}

// Later version first: the one that starts later (versions of an id are disjoint).
bool starts_later(const unit_listing& a, const unit_listing& b) {
    if (a.valid_from.empty()) return false;
    if (b.valid_from.empty()) return true;
    return a.valid_from > b.valid_from;
}

// The org_unit of a listing (for the versions a versioned hierarchy keeps).
org_unit to_org_unit(const unit_listing& u, const std::vector<std::string_view>& secondary) {
    org_unit o;
    o.id = std::string(u.id);
    o.name = std::string(u.name);
    o.level = u.level;
    o.kind = u.kind;
    o.parent = std::string(u.parent);
    for (std::uint32_t k = 0; k < u.secondary_count; ++k) o.secondary_parents.emplace_back(secondary[u.secondary_begin + k]);
    o.valid_from = std::string(u.valid_from);
    o.valid_to = std::string(u.valid_to);
    o.line = u.line;
    return o;
}

// Listings viewing org_units (which must outlive them).
void view_org_units(const std::vector<org_unit>& units, std::vector<unit_listing>& out,
                    std::vector<std::string_view>& secondary) {
    out.reserve(out.size() + units.size());
    for (const org_unit& o : units) {
        unit_listing u;
        u.id = o.id;
        u.name = o.name;
        u.parent = o.parent;
        u.valid_from = o.valid_from;
        u.valid_to = o.valid_to;
        u.level = o.level;
        u.kind = o.kind;
        u.line = o.line;
        u.secondary_begin = static_cast<std::uint32_t>(secondary.size());
        u.secondary_count = static_cast<std::uint32_t>(o.secondary_parents.size());
        for (const auto& p : o.secondary_parents) secondary.emplace_back(p);
        out.push_back(u);
    }
}

// Thrown from the DFS visitor when a back edge closes a cycle.
struct found_cycle {
    std::vector<std::uint32_t> path;  // child → parent → … → child
};

}  // namespace

// ---------------------------------------------------------------------------------------
// builder

hierarchy_builder::hierarchy_builder(std::string source) : source_(std::move(source)) {}

std::string_view hierarchy_builder::keep(std::string s) {
    if (s.empty()) return {};
    return arena_.emplace_back(std::move(s));
}

// Ids given by a program are stripped by the rule the readers apply (detail::trim), so a
// unit added as " 630100" is the unit a report of "630100\u3000" belongs to.
namespace {
std::string stripped_id(std::string s) {
    const std::string_view t = detail::trim(s);
    if (t.size() == s.size()) return s;  // moved out, not copied
    return std::string(t);
}
}  // namespace

void hierarchy_builder::add_unit(org_unit unit) {
    unit_listing u;
    u.id = keep(stripped_id(std::move(unit.id)));
    u.name = keep(std::move(unit.name));
    u.parent = keep(stripped_id(std::move(unit.parent)));
    u.valid_from = keep(std::move(unit.valid_from));
    u.valid_to = keep(std::move(unit.valid_to));
    u.level = unit.level;
    u.kind = unit.kind;
    u.line = unit.line;
    u.secondary_begin = static_cast<std::uint32_t>(secondary_.size());
    u.secondary_count = static_cast<std::uint32_t>(unit.secondary_parents.size());
    for (auto& p : unit.secondary_parents) secondary_.push_back(keep(stripped_id(std::move(p))));
    units_.push_back(u);
}

void hierarchy_builder::add_unit(std::string id, std::string name, unit_level level, unit_kind kind, std::string parent,
                                 std::vector<std::string> secondary_parents, std::string valid_from, std::string valid_to) {
    org_unit u;
    u.id = std::move(id);
    u.name = std::move(name);
    u.level = level;
    u.kind = kind;
    u.parent = std::move(parent);
    u.secondary_parents = std::move(secondary_parents);
    u.valid_from = std::move(valid_from);
    u.valid_to = std::move(valid_to);
    add_unit(std::move(u));
}

void hierarchy_builder::add_listings(std::shared_ptr<const void> text, detail::unit_listings&& listings) {
    if (text) texts_.push_back(std::move(text));
    const auto base = static_cast<std::uint32_t>(secondary_.size());
    secondary_.insert(secondary_.end(), listings.secondary.begin(), listings.secondary.end());
    if (units_.empty() && base == 0) {
        units_ = std::move(listings.units);
    } else {
        units_.reserve(units_.size() + listings.units.size());
        for (auto u : listings.units) {
            u.secondary_begin += base;
            units_.push_back(u);
        }
    }
    if (!listings.arena.empty()) arenas_.push_back(std::move(listings.arena));
}

hierarchy hierarchy_builder::build() const { return build_impl(); }

hierarchy hierarchy_builder::build_consuming() {
    hierarchy h = build_impl();
    // The hierarchy holds its own strings now; the listings and their texts can go.
    units_ = {};
    secondary_ = {};
    texts_ = {};
    arena_ = {};
    arenas_ = {};
    return h;
}

namespace {

// Every listing has an id, and validity bounds that are periods and in order. True when
// some listing is bounded.
bool check_listings(const std::vector<unit_listing>& units, const std::string& source) {
    bool bounded = false;
    for (const auto& u : units) {
        if (u.id.empty()) throw hierarchy_error("a unit has an empty id", {}, at_line(source, u.line));
        if (u.valid_from.empty() && u.valid_to.empty()) continue;
        for (const std::string_view* b : {&u.valid_from, &u.valid_to})
            if (!detail::is_period_bound(*b))
                throw hierarchy_error(
                    "unit " + std::string(u.id) + " has validity bound '" + std::string(*b) + "'; expected YYYY or YYYY-MM",
                    {std::string(u.id)}, at_unit(source, u));
        if (!u.valid_from.empty() && !u.valid_to.empty() && detail::compare_period_prefix(u.valid_from, u.valid_to) > 0)
            throw hierarchy_error("unit " + std::string(u.id) + " is valid from " + std::string(u.valid_from) + " to " +
                                      std::string(u.valid_to) + ", which ends before it starts",
                                  {std::string(u.id)}, at_unit(source, u));
        bounded = true;
    }
    return bounded;
}

// Listing i repeats the id of the versions first, next[first], …: it must not overlap
// any of them in validity (and overlapping ones with other parents are two parents).
void check_version(const std::vector<unit_listing>& units, const std::string& source, std::uint32_t i, std::uint32_t first,
                   const std::vector<std::uint32_t>& next) {
    const unit_listing& u = units[i];
    const std::string id(u.id);
    for (std::uint32_t j = first; j != no_unit; j = next[j]) {
        const unit_listing& v = units[j];
        if (!validity_overlaps(u, v)) continue;
        if (u.parent != v.parent)
            throw hierarchy_error(
                "unit " + id +
                    " has two primary parents: " + (v.parent.empty() ? std::string("none (a root)") : std::string(v.parent)) +
                    " and " + (u.parent.empty() ? std::string("none (a root)") : std::string(u.parent)) +
                    lines_text(v.line, u.line) + "; to move a unit, give each listing a disjoint valid_from/valid_to",
                {id, std::string(v.parent), std::string(u.parent)}, at_unit(source, u));
        std::string why = v.valid_from.empty() && v.valid_to.empty() && u.valid_from.empty() && u.valid_to.empty()
                              ? std::string()
                              : " with overlapping validity " + bound_text(v) + " and " + bound_text(u);
        throw hierarchy_error("duplicate unit id " + id + lines_text(v.line, u.line) + why, {id}, at_unit(source, u));
    }
}

// Repeated ids grouped into chains of versions (next[], from each id's first listing).
struct version_chains {
    std::vector<std::uint32_t> next, last;  // made at the first repeat
    std::vector<std::uint8_t> is_repeat;
    bool repeated = false;

    // Listing i repeats an id (the chains are made at the first repeat).
    void mark(std::uint32_t i, std::size_t n) {
        if (!repeated) {
            next.assign(n, no_unit);
            last.resize(n);
            for (std::uint32_t k = 0; k < n; ++k) last[k] = k;
            is_repeat.assign(n, 0);
            repeated = true;
        }
        is_repeat[i] = 1;
    }

    // Listing i joins the chain of the id first listed at `first`.
    void link(std::uint32_t i, std::uint32_t first) {
        next[last[first]] = i;
        last[first] = i;
    }

    // One listing an id: the latest version of each (all of them without repeats).
    std::vector<std::uint32_t> latest(const std::vector<unit_listing>& units) const {
        const auto n = static_cast<std::uint32_t>(units.size());
        std::vector<std::uint32_t> view;
        if (!repeated) {
            view.resize(n);
            for (std::uint32_t k = 0; k < n; ++k) view[k] = k;
            return view;
        }
        for (std::uint32_t f = 0; f < n; ++f) {
            if (is_repeat[f]) continue;
            std::uint32_t best = f;
            for (std::uint32_t j = next[f]; j != no_unit; j = next[j])
                if (starts_later(units[j], units[best])) best = j;
            view.push_back(best);
        }
        return view;
    }
};

}  // namespace

hierarchy hierarchy_builder::build_impl() const {
    const std::size_t n = units_.size();
    if (n >= no_unit) throw hierarchy_error("too many units (" + std::to_string(n) + ")", {});
    const bool bounded = check_listings(units_, source_);
    // Group the listings by id; a repeated id must be a version with disjoint validity.
    id_index slots(n);
    version_chains chains;
    auto key_of = [this](std::uint32_t i) -> std::string_view { return units_[i].id; };
    slots.insert_all(static_cast<std::uint32_t>(n), key_of, [&](std::uint32_t i, std::uint32_t first) {
        chains.mark(i, n);
        check_version(units_, source_, i, first, chains.next);
        chains.link(i, first);
    });
    const std::vector<std::uint32_t> view = chains.latest(units_);
    std::vector<org_unit> versions;
    if (bounded || chains.repeated) {
        versions.reserve(n);
        for (const auto& u : units_) versions.push_back(to_org_unit(u, secondary_));
    }
    // Without repeated ids the view is the listings in order, so the id index made above
    // is the hierarchy's own: handed over rather than hashed again.
    return build_view(units_, secondary_, view, source_, std::move(versions), {}, chains.repeated ? nullptr : &slots);
}

// build_view in stages, each on the hierarchy being built (a friend's member, so they
// reach its fields).
struct hierarchy_builder::stages {
    // What build_view builds from.
    struct input {
        const std::vector<unit_listing>& units;
        const std::vector<std::string_view>& secondary;
        const std::vector<std::uint32_t>& view;
        const std::string& source;
        const std::string& period;
        const unit_listing& at(std::uint32_t i) const { return units[view[i]]; }
    };
    using edge_list = std::vector<std::pair<std::uint32_t, std::uint32_t>>;  // (parent, child)

    // The ids on one core, the names (one text, no string a unit) and the rest on the other.
    static void copy_units(hierarchy& h, const input& in) {
        const std::size_t n = in.view.size();
        detail::parallel_for(2, n >= parallel_above ? 2 : 1, [&](std::size_t task, unsigned) {
            if (task == 0) {
                h.ids_.reserve(n);
                for (const std::uint32_t k : in.view) h.ids_.emplace_back(in.units[k].id);
                return;
            }
            std::size_t bytes = 0;
            for (const std::uint32_t k : in.view) bytes += in.units[k].name.size();
            h.name_text_.reserve(bytes);
            h.name_end_.reserve(n);
            h.levels_.reserve(n);
            h.kinds_.reserve(n);
            h.lines_.reserve(n);
            for (std::uint32_t i = 0; i < n; ++i) {
                const unit_listing& u = in.at(i);
                h.name_text_.append(u.name);
                h.name_end_.push_back(h.name_text_.size());
                h.levels_.push_back(u.level);
                h.kinds_.push_back(u.kind);
                h.lines_.push_back(u.line);
                if (!u.valid_from.empty() || !u.valid_to.empty())
                    h.bounds_.emplace(i, std::make_pair(std::string(u.valid_from), std::string(u.valid_to)));
            }
        });
    }

    // The unit a listing names as (secondary) parent; an error naming both when there is none.
    static std::uint32_t resolve(const hierarchy& h, const input& in, const unit_listing& u, std::string_view pid,
                                 const char* what) {
        const std::uint32_t p = h.slots_.find(pid, [&](std::uint32_t i) -> std::string_view { return h.ids_[i]; });
        if (p != no_unit) return p;
        bool elsewhere = false;
        for (const auto& v : h.versions_) elsewhere |= v.id == pid;
        const std::string id(u.id), parent(pid);
        if (elsewhere && !in.period.empty())
            throw hierarchy_error("unit " + id + " is valid in " + in.period + " but its " + what + " " + parent + " is not",
                                  {id, parent}, at_unit(in.source, u));
        throw hierarchy_error("unit " + id + " names " + what + " " + parent + ", which is not a unit of the tree", {id, parent},
                              at_unit(in.source, u));
    }

    static void check_level(const hierarchy& h, const input& in, const unit_listing& u, std::uint32_t p, const char* what) {
        if (static_cast<int>(u.level) < static_cast<int>(h.levels_[p]))
            throw hierarchy_error("unit " + std::string(u.id) + " (" + to_string(u.level) + ") is above its " + what + " " +
                                      h.ids_[p] + " (" + to_string(h.levels_[p]) + ")",
                                  {std::string(u.id), h.ids_[p]}, at_unit(in.source, u));
    }

    // The primary links, first: a unit's out-edges then list its primary children in
    // listing order before its secondary ones (the CSR build keeps input order).
    static void primary_links(hierarchy& h, const input& in, edge_list& edges, std::vector<parent_edge>& along) {
        const std::size_t n = in.view.size();
        h.parent_.assign(n, no_unit);
        h.child_count_.assign(n, 0);
        std::string_view last_pid;  // units come grouped under their parent: one lookup a group
        std::uint32_t last_p = no_unit;
        for (std::uint32_t i = 0; i < n; ++i) {
            const unit_listing& u = in.at(i);
            if (u.parent.empty()) continue;
            if (u.parent == u.id) {
                const std::string id(u.id);
                throw hierarchy_error("cycle: " + id + " → " + id + " (unit " + id + " is its own parent)", {id, id},
                                      at_unit(in.source, u));
            }
            const std::uint32_t p = last_p != no_unit && u.parent == last_pid ? last_p : resolve(h, in, u, u.parent, "parent");
            last_pid = u.parent;
            last_p = p;
            check_level(h, in, u, p, "parent");
            h.parent_[i] = p;
            ++h.child_count_[p];
            edges.emplace_back(p, i);
            along.push_back(parent_edge{line::primary});
        }
    }

    // The k-th secondary parent of u: not its primary parent, not itself, not listed twice.
    static void check_secondary(const input& in, const unit_listing& u, std::uint32_t k) {
        const std::string_view pid = in.secondary[u.secondary_begin + k];
        const std::string id(u.id), parent(pid);
        if (pid == u.parent)
            throw hierarchy_error("unit " + id + " lists " + parent + " both as primary and as secondary parent", {id, parent},
                                  at_unit(in.source, u));
        if (pid == u.id)
            throw hierarchy_error("cycle: " + id + " → " + id + " (unit " + id + " is its own secondary parent)", {id, id},
                                  at_unit(in.source, u));
        for (std::uint32_t j = 0; j < k; ++j)
            if (in.secondary[u.secondary_begin + j] == pid)
                throw hierarchy_error("unit " + id + " lists secondary parent " + parent + " twice", {id, parent},
                                      at_unit(in.source, u));
    }

    static void secondary_links(hierarchy& h, const input& in, edge_list& edges, std::vector<parent_edge>& along) {
        for (std::uint32_t i = 0; i < in.view.size(); ++i) {
            const unit_listing& u = in.at(i);
            for (std::uint32_t k = 0; k < u.secondary_count; ++k) {
                check_secondary(in, u, k);
                const std::uint32_t p = resolve(h, in, u, in.secondary[u.secondary_begin + k], "secondary parent");
                check_level(h, in, u, p, "secondary parent");
                edges.emplace_back(p, i);
                along.push_back(parent_edge{line::secondary});
                h.secondary_links_.emplace_back(i, p);
            }
        }
    }

    // Cycles over primary and secondary edges together, reported with their path.
    static void check_cycles(const hierarchy& h, const input& in) {
        const std::size_t n = in.view.size();
        std::vector<std::uint32_t> pred(n, no_unit);
        struct cycle_visitor : boost::default_dfs_visitor {
            std::vector<std::uint32_t>* pred;
            void tree_edge(hierarchy::graph_type::edge_descriptor e, const hierarchy::graph_type& g) const {
                (*pred)[boost::target(e, g)] = static_cast<std::uint32_t>(boost::source(e, g));
            }
            void back_edge(hierarchy::graph_type::edge_descriptor e, const hierarchy::graph_type& g) const {
                // e: u is a parent of v, and v is already above u in the search: v → u → … → v.
                const auto u = static_cast<std::uint32_t>(boost::source(e, g));
                const auto v = static_cast<std::uint32_t>(boost::target(e, g));
                found_cycle c;
                c.path.push_back(v);
                for (std::uint32_t w = u; w != v && w != no_unit; w = (*pred)[w]) c.path.push_back(w);
                c.path.push_back(v);
                throw c;
            }
        } vis;
        vis.pred = &pred;
        std::vector<boost::default_color_type> colors(n);
        try {
            boost::depth_first_search(h.graph_, boost::visitor(vis).color_map(boost::make_iterator_property_map(
                                                    colors.begin(), boost::get(boost::vertex_index, h.graph_))));
        } catch (found_cycle& c) {
            throw cycle_error(h, in, c.path);
        }
    }

    // The error for a cycle found as `path` (its first unit again at the end), starting
    // the message at the first-listed unit of the cycle.
    static hierarchy_error cycle_error(const hierarchy& h, const input& in, std::vector<std::uint32_t> path) {
        path.pop_back();
        auto first = std::min_element(path.begin(), path.end());
        std::rotate(path.begin(), first, path.end());
        path.push_back(path.front());
        std::vector<std::string> ids;
        std::string text;
        for (auto w : path) {
            ids.push_back(h.ids_[w]);
            text += (text.empty() ? "" : " → ") + h.ids_[w];
        }
        return hierarchy_error("cycle: " + text + " (each unit followed by its parent)", ids,
                               at_unit(in.source, in.at(path.front())));
    }

    // Pre-order of the primary forest (Boost DFS from each root, primary edges only).
    static void primary_preorder(hierarchy& h) {
        const auto n = static_cast<std::uint32_t>(h.parent_.size());
        h.pre_.reserve(n);
        struct primary_only {
            const hierarchy::graph_type* g = nullptr;
            bool operator()(hierarchy::graph_type::edge_descriptor e) const { return (*g)[e].along == line::primary; }
        };
        using primary_graph = boost::filtered_graph<hierarchy::graph_type, primary_only>;
        primary_graph forest(h.graph_, primary_only{&h.graph_});
        struct order_visitor : boost::default_dfs_visitor {
            std::vector<std::uint32_t>* pre;
            void discover_vertex(primary_graph::vertex_descriptor v, const primary_graph&) const {
                pre->push_back(static_cast<std::uint32_t>(v));
            }
        } vis;
        vis.pre = &h.pre_;
        std::vector<boost::default_color_type> colors(n, boost::white_color);
        auto color = boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, h.graph_));
        for (std::uint32_t i = 0; i < n; ++i) {
            if (h.parent_[i] != no_unit) continue;
            h.roots_.push_back(i);
            boost::depth_first_visit(forest, i, vis, color);
        }
    }

    // Positions in pre-order, depths and subtree sizes; the greatest depth.
    static std::uint32_t depths(hierarchy& h) {
        const auto n = static_cast<std::uint32_t>(h.parent_.size());
        h.pre_pos_.assign(n, 0);
        for (std::uint32_t k = 0; k < n; ++k) h.pre_pos_[h.pre_[k]] = k;
        h.depth_.assign(n, 0);
        std::uint32_t max_depth = 0;
        for (std::uint32_t v : h.pre_)
            if (h.parent_[v] != no_unit) max_depth = std::max(max_depth, h.depth_[v] = h.depth_[h.parent_[v]] + 1);
        h.subtree_size_.assign(n, 1);
        for (std::uint32_t k = n; k-- > 0;) {
            const std::uint32_t v = h.pre_[k];
            if (h.parent_[v] != no_unit) h.subtree_size_[h.parent_[v]] += h.subtree_size_[v];
        }
        return max_depth;
    }

    // Topological order: deepest first, index order within a depth (a counting sort).
    static void topological_order(hierarchy& h, std::uint32_t max_depth) {
        const auto n = static_cast<std::uint32_t>(h.parent_.size());
        std::vector<std::uint32_t> start(max_depth + 2, 0);
        for (std::uint32_t v = 0; v < n; ++v) ++start[max_depth - h.depth_[v] + 1];
        for (std::size_t d = 1; d < start.size(); ++d) start[d] += start[d - 1];
        h.post_.assign(n, 0);
        for (std::uint32_t v = 0; v < n; ++v) h.post_[start[max_depth - h.depth_[v]]++] = v;
        h.post_pos_.assign(n, 0);
        for (std::uint32_t k = 0; k < n; ++k) h.post_pos_[h.post_[k]] = k;
        h.post_parent_.assign(n, -1);
        for (std::uint32_t k = 0; k < n; ++k) {
            const std::uint32_t p = h.parent_[h.post_[k]];
            if (p != no_unit) h.post_parent_[k] = static_cast<std::int32_t>(h.post_pos_[p]);
        }
    }
};

hierarchy hierarchy_builder::build_view(const std::vector<unit_listing>& units, const std::vector<std::string_view>& secondary,
                                        const std::vector<std::uint32_t>& view, const std::string& source,
                                        std::vector<org_unit> versions, const std::string& period, detail::id_index* index) {
    const stages::input in{units, secondary, view, source, period};
    const std::size_t n = view.size();
    hierarchy h;
    h.source_ = source;
    stages::copy_units(h, in);
    if (index && index->slots() == id_index(n).slots()) h.slots_ = std::move(*index);
    else h.build_index();
    h.versions_ = std::move(versions);
    {
        stages::edge_list edges;
        std::vector<parent_edge> along;
        edges.reserve(n);
        along.reserve(n);
        stages::primary_links(h, in, edges, along);
        stages::secondary_links(h, in, edges, along);
        h.graph_ = hierarchy::graph_type(boost::edges_are_unsorted_multi_pass, edges.begin(), edges.end(), along.begin(),
                                         static_cast<std::uint32_t>(n));
    }
    stages::check_cycles(h, in);
    stages::primary_preorder(h);
    stages::topological_order(h, stages::depths(h));
    return h;
}

// ---------------------------------------------------------------------------------------
// hierarchy

hierarchy::hierarchy() = default;

void hierarchy::build_index() {
    slots_ = id_index(ids_.size());
    slots_.insert_all(
        static_cast<std::uint32_t>(ids_.size()), [this](std::uint32_t i) -> std::string_view { return ids_[i]; },
        [](std::uint32_t, std::uint32_t) {});  // ids are distinct here
}

std::optional<std::size_t> hierarchy::find(std::string_view id) const noexcept {
    const std::uint32_t i = slots_.find(id, [this](std::uint32_t k) -> std::string_view { return ids_[k]; });
    if (i == no_unit) return std::nullopt;
    return i;
}

void hierarchy::find_all(const std::vector<std::string>& ids, const std::vector<std::size_t>& which, std::uint32_t* out) const {
    slots_.find_all(
        which.size(), [&](std::size_t k) -> std::string_view { return ids[which.at(k)]; }, out,
        [this](std::uint32_t k) -> std::string_view { return ids_[k]; });
}

std::size_t hierarchy::index(std::string_view id) const {
    if (auto i = find(id)) return *i;
    location l;
    l.file = source_;
    l.unit = std::string(id);
    throw lookup_error("no unit with id '" + std::string(id) + "' in the tree", l);
}

org_unit hierarchy::unit(std::size_t i) const {
    org_unit u;
    u.id = ids_.at(i);
    u.name = std::string(name(i));
    u.level = levels_[i];
    u.kind = kinds_[i];
    if (parent_[i] != no_unit) u.parent = ids_[parent_[i]];
    for (auto p : secondary_parents(i)) u.secondary_parents.push_back(ids_[p]);
    if (auto it = bounds_.find(static_cast<std::uint32_t>(i)); it != bounds_.end()) {
        u.valid_from = it->second.first;
        u.valid_to = it->second.second;
    }
    u.line = lines_[i];
    return u;
}

std::vector<org_unit> hierarchy::units() const {
    std::vector<org_unit> out;
    out.reserve(size());
    for (std::size_t i = 0; i < size(); ++i) out.push_back(unit(i));
    return out;
}

std::vector<std::size_t> hierarchy::children(std::size_t i) const {
    std::vector<std::size_t> out;
    out.reserve(child_count_.at(i));
    for (auto [e, end] = boost::out_edges(static_cast<std::uint32_t>(i), graph_); e != end; ++e)
        if (graph_[*e].along == line::primary) out.push_back(boost::target(*e, graph_));
    return out;
}

std::vector<std::size_t> hierarchy::secondary_parents(std::size_t i) const {
    (void)ids_.at(i);  // range check
    std::vector<std::size_t> out;
    const auto child = static_cast<std::uint32_t>(i);
    auto it = std::lower_bound(secondary_links_.begin(), secondary_links_.end(), std::make_pair(child, std::uint32_t{0}),
                               [](const auto& a, const auto& b) { return a.first < b.first; });
    for (; it != secondary_links_.end() && it->first == child; ++it) out.push_back(it->second);
    return out;
}

std::vector<std::size_t> hierarchy::secondary_children(std::size_t i) const {
    (void)ids_.at(i);  // range check
    std::vector<std::size_t> out;
    for (auto [e, end] = boost::out_edges(static_cast<std::uint32_t>(i), graph_); e != end; ++e)
        if (graph_[*e].along == line::secondary) out.push_back(boost::target(*e, graph_));
    return out;
}

std::vector<std::size_t> hierarchy::ancestors(std::size_t i) const {
    std::vector<std::size_t> out;
    for (std::uint32_t p = parent_.at(i); p != no_unit; p = parent_[p]) out.push_back(p);
    return out;
}

std::vector<std::size_t> hierarchy::path(std::size_t i) const {
    auto out = ancestors(i);
    std::reverse(out.begin(), out.end());
    out.push_back(i);
    return out;
}

std::vector<std::size_t> hierarchy::subtree(std::size_t i) const {
    const std::size_t start = pre_pos_.at(i);
    return std::vector<std::size_t>(pre_.begin() + static_cast<std::ptrdiff_t>(start),
                                    pre_.begin() + static_cast<std::ptrdiff_t>(start + subtree_size_[i]));
}

std::vector<std::size_t> hierarchy::reachable(std::size_t i) const {
    std::vector<char> seen(size(), 0);
    std::vector<std::size_t> out{i};
    seen.at(i) = 1;
    for (std::size_t k = 0; k < out.size(); ++k)
        for (auto [e, end] = boost::out_edges(static_cast<std::uint32_t>(out[k]), graph_); e != end; ++e) {
            const std::size_t t = boost::target(*e, graph_);
            if (!seen[t]) {
                seen[t] = 1;
                out.push_back(t);
            }
        }
    return out;
}

bool hierarchy::in_subtree(std::size_t unit, std::size_t ancestor) const {
    const std::size_t a = pre_pos_.at(ancestor), u = pre_pos_.at(unit);
    return u >= a && u < a + subtree_size_[ancestor];
}

std::pair<std::string, std::string> hierarchy::validity(std::size_t i) const {
    if (i >= size()) throw lookup_error("unit index " + std::to_string(i) + " out of range");
    auto it = bounds_.find(static_cast<std::uint32_t>(i));
    return it == bounds_.end() ? std::pair<std::string, std::string>{} : it->second;
}

bool hierarchy::valid_at(std::size_t i, std::string_view period) const {
    auto [from, to] = validity(i);
    return detail::period_overlaps(period, from, to);
}

hierarchy hierarchy::at(std::string_view period) const {
    if (!versioned() || period.empty()) return *this;
    std::vector<detail::unit_listing> listings;
    std::vector<std::string_view> secondary;
    view_org_units(versions_, listings, secondary);
    // One listing per id valid in the period (the latest if several), in first-listing order.
    const std::size_t n = listings.size();
    id_index slots(n);
    std::vector<std::uint32_t> chosen;  // per view entry: index into the listings
    auto key_of = [&](std::uint32_t k) -> std::string_view { return listings[chosen[k]].id; };
    for (std::uint32_t i = 0; i < n; ++i) {
        const detail::unit_listing& u = listings[i];
        if (!detail::period_overlaps(period, u.valid_from, u.valid_to)) continue;
        const auto k = static_cast<std::uint32_t>(chosen.size());
        chosen.push_back(i);
        const std::uint32_t have = slots.insert(u.id, id_index::hash(u.id), k, key_of);
        if (have == no_unit) continue;
        chosen.pop_back();
        if (starts_later(u, listings[chosen[have]])) chosen[have] = i;
    }
    return hierarchy_builder::build_view(listings, secondary, chosen, source_, versions_, std::string(period));
}

namespace {
std::string csv_quote(const std::string& s) {
    if (s.find_first_of(",\"\n\r;#") == std::string::npos && (s.empty() || (s.front() != ' ' && s.back() != ' '))) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}
}  // namespace

std::string hierarchy::to_csv() const {
    std::ostringstream out;
    out << "id,name,level,kind,parent,secondary_parents,valid_from,valid_to\n";
    auto write = [&](const org_unit& u) {
        std::string secondary;
        for (const auto& p : u.secondary_parents) secondary += (secondary.empty() ? "" : ";") + p;
        out << csv_quote(u.id) << ',' << csv_quote(u.name) << ',' << to_string(u.level) << ',' << to_string(u.kind) << ','
            << csv_quote(u.parent) << ',' << csv_quote(secondary) << ',' << u.valid_from << ',' << u.valid_to << '\n';
    };
    if (versioned())
        for (const auto& u : versions_) write(u);
    else
        for (std::size_t i = 0; i < size(); ++i) write(unit(i));
    return out.str();
}

}  // namespace unionstat
