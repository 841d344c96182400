#pragma once
/// \file error.hpp
/// The exception hierarchy. Every error carries its place as members (file, line,
/// column; or row, unit, field code), not only inside the message, so that callers
/// and the Python layer can point at the offending input.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace unionstat {

/// Where an error happened. Members that do not apply are empty / zero.
struct location {
    std::string file;       ///< source file (schema, CSV, tree), if any
    int line = 0;           ///< 1-based line in `file`, 0 when unknown
    int column = 0;         ///< 1-based column in `file` or in a rule text, 0 when unknown
    std::int64_t row = -1;  ///< 0-based data row (report index in a batch), -1 when not a data error
    std::string unit;       ///< org-unit id of the report, if known
    std::string field;      ///< field code (as printed, e.g. `05C`), if any
    std::string rule;       ///< rule id, if any

    /// "file:line:column" / "row 3, unit 630100, field 05C" — whatever applies.
    std::string to_string() const {
        std::string out;
        auto add = [&out](const std::string& part) {
            if (part.empty()) return;
            if (!out.empty()) out += ", ";
            out += part;
        };
        if (!file.empty()) {
            std::string f = file;
            if (line > 0) f += ":" + std::to_string(line);
            if (line > 0 && column > 0) f += ":" + std::to_string(column);
            add(f);
        } else if (line > 0) {
            add("line " + std::to_string(line) + (column > 0 ? ", column " + std::to_string(column) : ""));
        } else if (column > 0) {
            add("column " + std::to_string(column));
        }
        if (row >= 0) add("row " + std::to_string(row + 1));
        if (!unit.empty()) add("unit " + unit);
        if (!field.empty()) add("field " + field);
        if (!rule.empty()) add("rule " + rule);
        return out;
    }
};

/// Root of every exception thrown by unionstat.
class error : public std::runtime_error {
public:
    /// `what()` is "<place>: <message>" so a bare catch still prints the place.
    error(std::string message, location where = {})
        : std::runtime_error(compose(message, where)), message_(std::move(message)), where_(std::move(where)) {}

    /// The message without the place.
    const std::string& message() const noexcept { return message_; }
    /// Where it happened.
    const location& where() const noexcept { return where_; }

private:
    static std::string compose(const std::string& message, const location& where) {
        auto place = where.to_string();
        return place.empty() ? message : place + ": " + message;
    }
    std::string message_;
    location where_;
};

/// A schema file (form YAML, crosswalk, JSON Schema) is malformed: unknown key, wrong
/// type, duplicate code, dangling reference. Carries file, line and column.
class schema_error : public error {
public:
    using error::error;
};

/// A value does not fit its field: bad cell text, too many decimals, negative count.
/// Carries row, unit and field when known.
class value_error : public error {
public:
    using error::error;
};

/// Exact arithmetic left the int64 range. Never a silent wrap.
class overflow_error : public error {
public:
    using error::error;
};

/// A lookup by name failed: unknown form id, field code or concept key, unit id.
class lookup_error : public error {
public:
    using error::error;
};

/// A unit tree is inconsistent: duplicate id, unknown parent, cycle, two primary
/// parents, a child above its parent. `units()` names the units involved.
class hierarchy_error : public error {
public:
    hierarchy_error(std::string message, std::vector<std::string> units, location where = {})
        : error(std::move(message), std::move(where)), units_(std::move(units)) {}
    /// The units involved (for a cycle: the path, first unit repeated at the end).
    const std::vector<std::string>& units() const noexcept { return units_; }

private:
    std::vector<std::string> units_;
};

}  // namespace unionstat
