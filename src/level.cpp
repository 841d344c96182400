#include "unionstat/level.hpp"

namespace unionstat {

std::optional<unit_level> parse_level(std::string_view t) noexcept {
    if (t == "national" || t == "全总" || t == "全国") return unit_level::national;
    if (t == "province" || t == "省级" || t == "省") return unit_level::province;
    if (t == "city" || t == "地市级" || t == "市级" || t == "市") return unit_level::city;
    if (t == "county" || t == "县级" || t == "县") return unit_level::county;
    if (t == "grassroots" || t == "基层") return unit_level::grassroots;
    return std::nullopt;
}

std::optional<unit_kind> parse_kind(std::string_view t) noexcept {
    if (t == "regional" || t == "地方") return unit_kind::regional;
    if (t == "industry" || t == "产业") return unit_kind::industry;
    if (t == "direct" || t == "直属") return unit_kind::direct;
    if (t == "enterprise" || t == "企业") return unit_kind::enterprise;
    return std::nullopt;
}

std::string to_string(unit_level l) {
    switch (l) {
        case unit_level::national: return "national";
        case unit_level::province: return "province";
        case unit_level::city: return "city";
        case unit_level::county: return "county";
        case unit_level::grassroots: return "grassroots";
    }
    return "?";
}

std::string to_string(unit_kind k) {
    switch (k) {
        case unit_kind::regional: return "regional";
        case unit_kind::industry: return "industry";
        case unit_kind::direct: return "direct";
        case unit_kind::enterprise: return "enterprise";
    }
    return "?";
}

}  // namespace unionstat
