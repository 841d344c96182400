#pragma once
/// \file ast.hpp
/// The syntax tree of one rule, stored as an arena of nodes.

#include <cstdint>
#include <string>
#include <vector>

#include "unionstat/decimal.hpp"

namespace unionstat {
namespace rules {

/// Node kinds.
enum class node_kind {
    number,  ///< constant (value)
    field,   ///< field reference (name; field index after checking)
    neg,     ///< -a
    add,
    sub,
    mul,
    div,
    eq,
    ne,
    lt,
    le,
    gt,
    ge,
    logical_and,
    logical_or,
    logical_not,
    implies,  ///< if a then b
    sum,      ///< sum(args…) — ranges already expanded by the checker
    abs,
    min,
    max,
    is_missing,    ///< is_missing(field)
    prev,          ///< prev(field): the same unit's previous period
    children_sum,  ///< children_sum(field): sum over the unit's children (hierarchy rules)
    range,         ///< a:b inside sum(), expanded by the checker
    boolean        ///< true / false (value 1 / 0)
};

/// One node. Children are indices into the arena.
struct node {
    node_kind kind = node_kind::number;
    std::vector<int> args;
    decimal value;     ///< number: its value
    std::string name;  ///< field: code or key as written
    int column = 1;    ///< 1-based column of the node's first character
    int length = 1;    ///< characters covered
};

/// A parsed rule: its nodes and the root.
struct ast {
    std::vector<node> nodes;
    int root = -1;
    std::string text;  ///< the source text

    /// Adds a node and returns its index.
    int add(node n) {
        nodes.push_back(std::move(n));
        return static_cast<int>(nodes.size()) - 1;
    }
    /// The source text of a node.
    std::string source(int i) const;
};

/// True for == != < <= > >=.
inline bool is_comparison(node_kind k) noexcept {
    return k == node_kind::eq || k == node_kind::ne || k == node_kind::lt || k == node_kind::le || k == node_kind::gt ||
           k == node_kind::ge;
}

}  // namespace rules
}  // namespace unionstat
