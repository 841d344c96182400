#pragma once
/// \file hierarchy_builder.hpp
/// Building a hierarchy unit by unit (from code, from pandas columns, from the file readers).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "unionstat/graph/hierarchy.hpp"
#include "unionstat/graph/org_unit.hpp"

namespace unionstat {

namespace detail {

/// One listing of a unit seen through views into text that the builder keeps alive (a
/// units file's text, or the builder's own copies of strings handed to `add_unit`): a
/// reader parses 2.8 M listings without allocating a string per cell.
struct unit_listing {
    std::string_view id, name, parent, valid_from, valid_to;  ///< as in org_unit, trimmed
    std::uint32_t secondary_begin = 0;                        ///< first secondary parent in unit_listings::secondary
    std::uint32_t secondary_count = 0;                        ///< number of secondary parents
    unit_level level = unit_level::grassroots;
    unit_kind kind = unit_kind::regional;
    int line = 0;  ///< line in the units file (1-based), 0 if built in code
};

/// Listings parsed by one reader (or one reader thread), with the strings they view that
/// are not in the file's text (unescaped quoted cells).
struct unit_listings {
    std::vector<unit_listing> units;          ///< in listing order
    std::vector<std::string_view> secondary;  ///< secondary parent ids of every listing, in order
    std::deque<std::string> arena;            ///< owned strings (stable addresses)
};

}  // namespace detail

/// Collects units in any order (a child may come before its parent) and validates the
/// whole set once, in `build()`. The file readers use it too, so errors are the same
/// whichever way the units arrive.
class hierarchy_builder {
public:
    /// A builder; `source` is the file name used in error locations ("" when none).
    explicit hierarchy_builder(std::string source = {});

    /// Reserves space for n units.
    void reserve(std::size_t n) { units_.reserve(n); }

    /// Appends listings a reader parsed, in order; `text` owns what their views point
    /// into (kept alive as long as the builder), besides their own arena.
    void add_listings(std::shared_ptr<const void> text, detail::unit_listings&& listings);

    /// Adds one listing of a unit. Nothing is checked until `build()`.
    void add_unit(org_unit unit);

    /// Adds one listing of a unit from its parts (see org_unit for their meaning).
    void add_unit(std::string id, std::string name, unit_level level, unit_kind kind, std::string parent = {},
                  std::vector<std::string> secondary_parents = {}, std::string valid_from = {}, std::string valid_to = {});

    /// Number of listings added so far.
    std::size_t size() const noexcept { return units_.size(); }

    /// Validates the listings and builds the hierarchy. Throws hierarchy_error naming
    /// the units (and, when they came from a file, the file and line): empty or
    /// duplicate id, overlapping versions (two primary parents at once), unknown
    /// primary or secondary parent, a parent listed twice, a unit above its parent's
    /// level, a cycle (path a → b → … → a, each unit followed by its parent), a
    /// malformed or inverted validity bound.
    hierarchy build() const;

    /// As `build()`, and releases the listings and the text they view as soon as the
    /// hierarchy holds its own copies: for readers that build once from a large file.
    hierarchy build_consuming();

private:
    friend class hierarchy;
    /// Builds from listings already reduced to one version per id (`view`: indices into
    /// `units`, used by `at` too). `index`, when given, is the id index of exactly the
    /// view's ids in view order (taken instead of hashing them again).
    static hierarchy build_view(const std::vector<detail::unit_listing>& units, const std::vector<std::string_view>& secondary,
                                const std::vector<std::uint32_t>& view, const std::string& source, std::vector<org_unit> versions,
                                const std::string& period, detail::id_index* index = nullptr);
    hierarchy build_impl() const;
    struct stages;  // build_view's stages (in hierarchy.cpp)
    std::string_view keep(std::string s);

    std::string source_;
    std::vector<detail::unit_listing> units_;
    std::vector<std::string_view> secondary_;
    std::vector<std::shared_ptr<const void>> texts_;  // owners of what the views point into
    std::deque<std::string> arena_;                   // copies of strings given to add_unit
    std::vector<std::deque<std::string>> arenas_;     // readers' arenas
};

}  // namespace unionstat
