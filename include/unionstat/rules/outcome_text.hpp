#pragma once
/// \file outcome_text.hpp
/// The texts a person reads for one listed outcome of a batch validation: both sides,
/// their difference and the rule's message. Made on demand, for the outcomes asked
/// for, so that a million listed outcomes cost nothing until someone reads them.

#include <cstddef>
#include <string>

#include "unionstat/forms/batch.hpp"
#include "unionstat/rules/evaluator.hpp"
#include "unionstat/rules/program.hpp"

namespace unionstat {
namespace rules {

/// Exact value of the left side of listed pair `i` ("" when it was skipped or could not
/// be evaluated, or the rule is not a comparison).
std::string lhs_text(const rule_set& rules, const batch_result& result, std::size_t i);
/// Exact value of the right side of listed pair `i` (as lhs_text).
std::string rhs_text(const rule_set& rules, const batch_result& result, std::size_t i);
/// Exact left minus right of listed pair `i` in the comparison's common unit ("" as
/// lhs_text, or when the difference leaves the int64 range).
std::string difference_text(const rule_set& rules, const batch_result& result, std::size_t i);
/// The rule's message (Chinese, or English with `english`) filled with the values of
/// the pair's row; the rule's check text when it declares no message.
std::string message_text(const rule_set& rules, const batch_result& result, const report_batch& batch, std::size_t i,
                         bool english);

}  // namespace rules
}  // namespace unionstat
