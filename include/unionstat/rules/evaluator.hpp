#pragma once
/// \file evaluator.hpp
/// Last stage: running compiled rules on one report or on a whole batch. A failing or
/// non-evaluable rule is a result row (fail / error / skipped), never an exception.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "unionstat/forms/batch.hpp"
#include "unionstat/forms/report.hpp"
#include "unionstat/level.hpp"
#include "unionstat/rules/program.hpp"

namespace unionstat {
namespace rules {

/// Outcome of one rule on one report.
enum class status : std::uint8_t {
    pass,     ///< the condition holds
    fail,     ///< the condition does not hold
    skipped,  ///< not evaluated: blanks (per the missing strategy) or a level the rule excludes
    error     ///< could not be evaluated: arithmetic overflow
};

/// "pass", "fail", "skipped", "error".
const char* to_string(status s) noexcept;

/// Why a rule was skipped or errored.
enum class reason : std::uint8_t { none, missing, level, no_previous, overflow };

/// "", "missing", "level", "no_previous", "overflow".
const char* to_string(reason r) noexcept;

/// One rule's outcome on one report, with everything a clerk needs to fix it.
struct rule_outcome {
    std::size_t rule = 0;  ///< index in the rule set
    std::string rule_id;
    severity sev = severity::error;
    rules::status st = status::pass;
    rules::reason why = reason::none;
    std::optional<std::string> lhs;         ///< left side of the reported comparison, exact text
    std::optional<std::string> rhs;         ///< right side
    std::optional<std::string> difference;  ///< lhs - rhs
    std::string message;                    ///< Chinese, values filled in
    std::string message_en;                 ///< English, values filled in
    std::vector<std::string> fields;        ///< codes of the fields involved
};

/// Result of validating one report.
struct report_result {
    std::vector<rule_outcome> outcomes;  ///< one per rule, in rule order

    /// No failed or errored rule of severity error.
    bool ok() const noexcept;
    /// Outcomes that failed or errored.
    std::vector<const rule_outcome*> violations() const;
    /// Number of outcomes with a status.
    std::size_t count(status s) const noexcept;
};

/// Extra inputs for evaluation.
struct eval_context {
    const report* previous = nullptr;  ///< same unit, previous period (for prev())
    const report* children = nullptr;  ///< children's summed report (for children_sum())
    std::optional<unit_level> level;   ///< the unit's level (rules restricted by level)
};

/// Validates one report against every rule.
report_result evaluate(const rule_set& rules, const report& r, const eval_context& ctx = {});

/// One node of a rule's expression and its value on a report ("why did it fail").
struct trace_step {
    int node = 0;        ///< node index
    int depth = 0;       ///< nesting depth (0 = the whole rule)
    std::string source;  ///< the sub-expression's text
    std::string value;   ///< exact value, "true"/"false", "blank" or "overflow"
    std::string unit;    ///< printed unit of a number (of the sides, for a comparison); "" if none
    /// Comparisons: the tolerance the sides may differ by, exact in `unit` ("0" for an
    /// exact comparison) — the rule's own, or the default rounding of its money terms.
    std::string tolerance;
    bool stated_tolerance = false;  ///< the tolerance is the rule's own, not the default
};

/// The value of every sub-expression of one rule on one report, outermost first.
std::vector<trace_step> explain(const rule_set& rules, std::size_t rule, const report& r, const eval_context& ctx = {});

/// Options for batch evaluation.
struct batch_options {
    /// Previous-period batch and, per row of the batch, the matching row in it (-1: none).
    const report_batch* previous = nullptr;
    std::vector<std::int64_t> previous_rows;
    /// Children-sum batch, row-aligned with the batch (for children_sum()).
    const report_batch* children = nullptr;
    /// Level of each row's unit; empty → unknown (level-restricted rules are skipped).
    std::vector<unit_level> levels;
    bool keep_passes = false;       ///< also list passing (row, rule) pairs
    bool keep_skipped = false;      ///< also list skipped pairs
    int threads = 0;                ///< 0 → hardware concurrency (at most 2 here)
    std::vector<std::size_t> only;  ///< evaluate only these rules (empty: all)
};

/// Per-rule tallies over a batch.
struct rule_counts {
    std::size_t items = 0, passes = 0, fails = 0, skipped = 0, errors = 0;
};

/// Columnar result of validating a batch: tallies per rule and one entry per listed
/// (row, rule) pair — by default the fails and errors.
class batch_result {
public:
    std::size_t rows = 0;             ///< reports evaluated
    std::vector<rule_counts> counts;  ///< one per rule of the set
    std::vector<std::uint32_t> row;   ///< listed pairs: report row
    std::vector<std::uint32_t> rule;  ///< rule index
    std::vector<status> st;           ///< status
    std::vector<reason> why;          ///< reason for skipped/error
    std::vector<std::int64_t> lhs;    ///< lhs numerator (over the rule's lhs_den)
    std::vector<std::int64_t> rhs;    ///< rhs numerator (over the rule's rhs_den)

    /// Number of listed pairs.
    std::size_t size() const noexcept { return row.size(); }
    /// No fail or error of severity error anywhere.
    bool ok(const rule_set& rules) const noexcept;
};

/// Rows the batch evaluation takes at a time (a multiple of 64: chunks start on bitmap
/// words). 4,096 rows: the narrow columns of a songnuan chunk (16 KB each, 43 of them)
/// still sit in L2 while every rule runs over them, and each column is read from memory
/// in runs long enough for the hardware prefetcher (1M songnuan-2018 reports on a
/// 2-core Zen 4: 2,048 is 20% slower, 8,192 and 16,384 no faster). Public so that
/// tests can cross chunk boundaries.
inline constexpr std::size_t batch_chunk_rows = 4096;

/// The instruction set the batch kernels run on here: "avx512", "avx2" or "baseline"
/// (the best the CPU has; the environment variable UNIONSTAT_SIMD=avx2 or =baseline
/// lowers it, to compare or test the others). Results never depend on it.
const char* batch_kernels() noexcept;

/// Validates every row of a batch against every rule: column-wise, in chunks that
/// stay in cache, all rules fused per chunk, rows split across threads.
batch_result evaluate(const rule_set& rules, const report_batch& batch, const batch_options& options = {});

/// Exact text of numerator/den (a decimal when den is a power of ten, else rounded to
/// 6 decimals and prefixed with "≈").
std::string format_ratio(std::int64_t num, std::int64_t den);

/// Fills a message template's {code} / {key} placeholders with a batch row's values.
std::string fill_message(const std::string& templ, const report_batch& batch, std::size_t row);
/// Fills a message template from a report.
std::string fill_message(const std::string& templ, const report& r);

}  // namespace rules
}  // namespace unionstat
