#pragma once
/// \file hierarchy.hpp
/// The union hierarchy: org units in a Boost.Graph, with the arrays the roll-up needs.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/graph/compressed_sparse_row_graph.hpp>

#include "unionstat/error.hpp"
#include "unionstat/graph/id_index.hpp"
#include "unionstat/graph/org_unit.hpp"
#include "unionstat/level.hpp"

namespace unionstat {

/// The bundled property of an edge of the hierarchy graph (parent → child).
struct parent_edge {
    unionstat::line along = line::primary;  ///< primary (counted) or secondary (views only)
};

/// An immutable tree of org units (plus secondary parent links) for one period or for
/// all periods.
///
/// Storage: a `boost::compressed_sparse_row_graph` (bidirectional: out- and in-edges)
/// whose vertices are the unit indices 0…size()-1 in the order the units were first
/// listed, with one edge parent → child per primary or secondary link, built in one pass
/// from the edge list (a tree never changes once built, and an adjacency_list would cost
/// two heap vectors a unit: at 2.8 M units, more than the rest of the tree); plus flat
/// arrays computed once at build time (primary parent, pre-order, topological order, subtree sizes, depth) so that
/// queries and the roll-up never walk the graph.
///
/// Built by `hierarchy_builder`, `read_csv` or `read_yaml` (formats documented there).
/// Building rejects, with a `hierarchy_error` naming the units and the
/// file line: duplicate ids (a unit listed twice with overlapping validity, in particular
/// with two different primary parents), unknown parents, cycles (with the path), a unit
/// above its parent's level, a parent listed twice. A unit listed several times with
/// disjoint validity is versioned: the hierarchy then holds each unit at its latest
/// version and `at(period)` gives the tree of one period.
class hierarchy {
public:
    /// The graph type: vertex i is unit i; edges run parent → child. A unit's out-edges
    /// are its primary children in listing order, then its secondary children in listing
    /// order.
    using graph_type = boost::compressed_sparse_row_graph<boost::bidirectionalS, boost::no_property, parent_edge,
                                                          boost::no_property, std::uint32_t, std::uint32_t>;

    /// "No unit" (the parent of a root, a failed lookup).
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    /// An empty hierarchy.
    hierarchy();

    /// Reads a units CSV file (UTF-8, optional BOM; header
    /// `id,name,level,kind,parent,secondary_parents,valid_from,valid_to`, the last three
    /// optional, in any order; `secondary_parents` separated by `;`; RFC 4180 quoting;
    /// lines starting with `#` are comments). Throws hierarchy_error with file and line.
    static hierarchy read_csv(const std::string& path);
    /// Parses units CSV text; `name` is used as the file name in errors.
    static hierarchy parse_csv(std::string_view text, const std::string& name = "<string>");
    /// Reads a units YAML file: a map with `units:` (a list) and optionally `name`,
    /// `description`, `source`. Each unit is a map with keys id, name, level, kind,
    /// parent, secondary_parents (a list or a `;`-separated string), valid_from,
    /// valid_to, or `parents:` — a list of `{id, line: primary|secondary}` — in place of
    /// parent and secondary_parents. Keys are checked strictly (an unknown or repeated
    /// key is an error; `parent` twice, or two primary `parents`, is "two primary
    /// parents"). Throws hierarchy_error with file, line and column.
    static hierarchy read_yaml(const std::string& path);
    /// Parses units YAML text; `name` is used as the file name in errors.
    static hierarchy parse_yaml(std::string_view text, const std::string& name = "<string>");
    /// Reads a `.csv` or `.yaml`/`.yml` file, chosen by extension.
    static hierarchy read(const std::string& path);

    /// Number of units.
    std::size_t size() const noexcept { return ids_.size(); }
    /// True when there are no units.
    bool empty() const noexcept { return ids_.empty(); }
    /// The file the units came from ("" when built in code).
    const std::string& source() const noexcept { return source_; }

    /// Index of a unit by id, or nullopt.
    std::optional<std::size_t> find(std::string_view id) const noexcept;
    /// Index of a unit by id; throws lookup_error naming the id.
    std::size_t index(std::string_view id) const;
    /// out[k] = the index of unit ids[which[k]], or `root_parent` (0xFFFFFFFF) when there
    /// is no such unit, for every k: many lookups at once, their memory accesses overlapped.
    void find_all(const std::vector<std::string>& ids, const std::vector<std::size_t>& which, std::uint32_t* out) const;
    /// True if the id is a unit of this hierarchy.
    bool contains(std::string_view id) const noexcept { return find(id).has_value(); }

    /// Id of unit i.
    const std::string& id(std::size_t i) const { return ids_.at(i); }
    /// Name of unit i (a view into the hierarchy's text of names: valid while it lives).
    std::string_view name(std::size_t i) const {
        const std::size_t end = name_end_.at(i), begin = i == 0 ? 0 : name_end_[i - 1];
        return std::string_view(name_text_).substr(begin, end - begin);
    }
    /// Level of unit i.
    unit_level level(std::size_t i) const { return levels_.at(i); }
    /// Kind of unit i.
    unit_kind kind(std::size_t i) const { return kinds_.at(i); }
    /// Unit i as listed (its version in this hierarchy), with parent ids filled in.
    org_unit unit(std::size_t i) const;
    /// Every unit, in index order (for writing back out or handing to pandas).
    std::vector<org_unit> units() const;
    /// Unit ids, in index order.
    const std::vector<std::string>& ids() const noexcept { return ids_; }

    /// Primary parent of unit i, or npos for a root.
    std::size_t parent(std::size_t i) const {
        const auto p = parent_.at(i);
        return p == none ? npos : p;
    }
    /// Primary children of unit i, in listing order.
    std::vector<std::size_t> children(std::size_t i) const;
    /// Number of primary children of unit i.
    std::size_t child_count(std::size_t i) const { return child_count_.at(i); }
    /// True when unit i has no primary children.
    bool is_leaf(std::size_t i) const { return child_count_.at(i) == 0; }
    /// Secondary parents of unit i, in listing order.
    std::vector<std::size_t> secondary_parents(std::size_t i) const;
    /// Units that list i as a secondary parent.
    std::vector<std::size_t> secondary_children(std::size_t i) const;
    /// Primary parent, grandparent, … up to the root (i itself excluded).
    std::vector<std::size_t> ancestors(std::size_t i) const;
    /// The root, …, the parent, i: the primary path from the root down to i.
    std::vector<std::size_t> path(std::size_t i) const;
    /// Unit i and everything below it along primary parents, in pre-order (i first).
    std::vector<std::size_t> subtree(std::size_t i) const;
    /// Number of units in the primary subtree of i (i included).
    std::size_t subtree_size(std::size_t i) const { return subtree_size_.at(i); }
    /// Every unit reachable downwards from i along primary and secondary edges, each
    /// once, i first, in breadth-first order.
    std::vector<std::size_t> reachable(std::size_t i) const;
    /// Distance from the root along primary parents (a root has depth 0).
    std::size_t depth(std::size_t i) const { return depth_.at(i); }
    /// Units without a primary parent, in listing order.
    const std::vector<std::size_t>& roots() const noexcept { return roots_; }
    /// True if `ancestor` is on the primary path above `unit` (or is `unit`).
    bool in_subtree(std::size_t unit, std::size_t ancestor) const;

    /// Units in topological order, children before parents: deepest first (by primary
    /// depth), in index order within one depth, so the roots come last. A roll-up is one
    /// forward pass over it that reads the units of a depth in ascending index order.
    const std::vector<std::uint32_t>& topological_order() const noexcept { return post_; }
    /// For each position p of `topological_order()`, the position of the primary parent
    /// of that unit, or -1 for a root. Always greater than p.
    const std::vector<std::int32_t>& topological_parent() const noexcept { return post_parent_; }
    /// Position of each unit in `topological_order()`.
    const std::vector<std::uint32_t>& topological_position() const noexcept { return post_pos_; }
    /// The primary parent of every unit by index, `root_parent` for a root (the flat array
    /// behind `parent()`, for hot loops).
    const std::vector<std::uint32_t>& parent_array() const noexcept { return parent_; }
    /// The value of `parent_array()` for a root.
    static constexpr std::uint32_t root_parent = 0xFFFFFFFFu;
    /// Units in pre-order of the primary forest (every subtree a contiguous run
    /// starting with its root).
    const std::vector<std::uint32_t>& preorder() const noexcept { return pre_; }
    /// Position of each unit in `preorder()`.
    const std::vector<std::uint32_t>& preorder_position() const noexcept { return pre_pos_; }

    /// The Boost graph: vertex i is unit i, edges parent → child with `parent_edge`.
    const graph_type& graph() const noexcept { return graph_; }

    /// True when some unit has a validity bound or several versions.
    bool versioned() const noexcept { return !versions_.empty(); }
    /// Validity of unit i in this hierarchy: (valid_from, valid_to), "" = open.
    std::pair<std::string, std::string> validity(std::size_t i) const;
    /// True when unit i exists in the period ("YYYY", "YYYY-MM" or "A/B"; empty → true).
    bool valid_at(std::size_t i, std::string_view period) const;
    /// The tree of one period: the units (in the version) valid in it. Throws
    /// hierarchy_error when a unit valid in the period has a parent that is not.
    /// Returns a copy of this hierarchy when it is not versioned.
    hierarchy at(std::string_view period) const;

    /// The hierarchy as units CSV text (the format `parse_csv` reads; every version of a
    /// versioned hierarchy).
    std::string to_csv() const;

private:
    friend class hierarchy_builder;
    static constexpr std::uint32_t none = 0xFFFFFFFFu;

    void build_index();

    std::string source_;
    std::vector<std::string> ids_;
    std::string name_text_;              // every name, one after the other
    std::vector<std::size_t> name_end_;  // where unit i's name ends in name_text_
    std::vector<unit_level> levels_;
    std::vector<unit_kind> kinds_;
    std::vector<int> lines_;
    std::vector<std::uint32_t> parent_, child_count_, depth_, subtree_size_;
    std::vector<std::uint32_t> pre_, pre_pos_, post_, post_pos_;
    std::vector<std::int32_t> post_parent_;
    std::vector<std::size_t> roots_;
    // (child, secondary parent) in listing order: in-edges come sorted by parent, while
    // secondary_parents() promises the order of the listing.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> secondary_links_;
    detail::id_index slots_;  // unit ids → indices
    graph_type graph_;
    std::map<std::uint32_t, std::pair<std::string, std::string>> bounds_;  // units with a validity bound
    std::vector<org_unit> versions_;                                       // every listing, when versioned (else empty)
};

}  // namespace unionstat
