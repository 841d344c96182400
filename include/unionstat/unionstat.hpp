#pragma once
/// \file unionstat.hpp
/// Umbrella header: everything a C++ user of unionstat needs.

#include "unionstat/checked.hpp"
#include "unionstat/decimal.hpp"
#include "unionstat/error.hpp"
#include "unionstat/level.hpp"
#include "unionstat/forms/batch.hpp"
#include "unionstat/forms/cell.hpp"
#include "unionstat/forms/crosswalk.hpp"
#include "unionstat/forms/field.hpp"
#include "unionstat/forms/registry.hpp"
#include "unionstat/forms/report.hpp"
#include "unionstat/forms/rule_def.hpp"
#include "unionstat/forms/schema.hpp"
#include "unionstat/rules/diagnostics.hpp"
#include "unionstat/rules/evaluator.hpp"
#include "unionstat/rules/program.hpp"
#include "unionstat/graph/check.hpp"
#include "unionstat/graph/completeness.hpp"
#include "unionstat/graph/hierarchy.hpp"
#include "unionstat/graph/hierarchy_builder.hpp"
#include "unionstat/graph/org_unit.hpp"
#include "unionstat/graph/rollup.hpp"
#include "unionstat/graph/rule_inputs.hpp"
#include "unionstat/graph/unit_rows.hpp"

/// Version of the library.
#define UNIONSTAT_VERSION "0.1.0"
