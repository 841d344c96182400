#pragma once
/// \file level.hpp
/// Levels and kinds of org units in the union hierarchy.

#include <optional>
#include <string>
#include <string_view>

namespace unionstat {

/// Administrative level of a union, top to bottom. Trees are ragged: a grassroots
/// union may hang directly under a city or a province.
enum class unit_level { national = 0, province = 1, city = 2, county = 3, grassroots = 4 };

/// Which line a unit belongs to.
enum class unit_kind { regional, industry, direct, enterprise };

/// "national", "province", …; also accepts the Chinese 全总 省级 地市级 县级 基层.
std::optional<unit_level> parse_level(std::string_view text) noexcept;
/// "regional", "industry", "direct", "enterprise"; also 地方 产业 直属 企业.
std::optional<unit_kind> parse_kind(std::string_view text) noexcept;
/// English name of a level ("province").
std::string to_string(unit_level level);
/// English name of a kind ("industry").
std::string to_string(unit_kind kind);

}  // namespace unionstat
