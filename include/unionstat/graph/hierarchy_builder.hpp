#pragma once
/// \file hierarchy_builder.hpp
/// Building a hierarchy unit by unit (from code, from pandas columns, from the file readers).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "unionstat/graph/hierarchy.hpp"
#include "unionstat/graph/org_unit.hpp"

namespace unionstat {

/// Collects units in any order (a child may come before its parent) and validates the
/// whole set once, in `build()`. The file readers use it too, so errors are the same
/// whichever way the units arrive.
class hierarchy_builder {
public:
    /// A builder; `source` is the file name used in error locations ("" when none).
    explicit hierarchy_builder(std::string source = {});

    /// Reserves space for n units.
    void reserve(std::size_t n) { units_.reserve(n); }

    /// Adds one listing of a unit. Nothing is checked until `build()`.
    void add_unit(org_unit unit);

    /// Adds one listing of a unit from its parts (see org_unit for their meaning).
    void add_unit(std::string id, std::string name, unit_level level, unit_kind kind, std::string parent = {},
                  std::vector<std::string> secondary_parents = {}, std::string valid_from = {},
                  std::string valid_to = {});

    /// Number of listings added so far.
    std::size_t size() const noexcept { return units_.size(); }

    /// Validates the listings and builds the hierarchy. Throws hierarchy_error naming
    /// the units (and, when they came from a file, the file and line): empty or
    /// duplicate id, overlapping versions (two primary parents at once), unknown
    /// primary or secondary parent, a parent listed twice, a unit above its parent's
    /// level, a cycle (path a → b → … → a, each unit followed by its parent), a
    /// malformed or inverted validity bound.
    hierarchy build() const;

    /// As `build()`, but moves the listings' names into the hierarchy instead of copying
    /// them (the builder is left with the listings but without their names): for readers
    /// that build once from a large file.
    hierarchy build_consuming();

private:
    friend class hierarchy;
    /// Builds from listings already reduced to one version per id (used by `at`).
    /// With `take_names`, the names are moved out of the listings viewed (which must be
    /// the builder's own and not needed afterwards); `index`, when given, is the id index
    /// of exactly the view's ids in view order (taken instead of hashing them again).
    static hierarchy build_view(const std::vector<const org_unit*>& view, const std::string& source,
                                std::vector<org_unit> versions, const std::string& period,
                                bool take_names = false, std::vector<std::uint32_t>* index = nullptr);
    hierarchy build_impl(bool take_names);

    std::string source_;
    std::vector<org_unit> units_;
};

}  // namespace unionstat
