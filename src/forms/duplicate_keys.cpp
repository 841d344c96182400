#include "unionstat/forms/duplicate_keys.hpp"

#include <functional>
#include <string_view>
#include <unordered_map>

namespace unionstat {

namespace {
struct key_hash {
    std::size_t operator()(const std::pair<std::string_view, std::string_view>& k) const noexcept {
        const std::size_t a = std::hash<std::string_view>{}(k.first), b = std::hash<std::string_view>{}(k.second);
        return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    }
};
}  // namespace

std::vector<duplicate_key> find_duplicate_keys(const report_batch& batch) {
    std::unordered_map<std::pair<std::string_view, std::string_view>, std::size_t, key_hash> seen;
    seen.reserve(batch.size());
    std::vector<duplicate_key> out;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        auto [it, fresh] = seen.emplace(std::make_pair(std::string_view(batch.units()[i]), std::string_view(batch.periods()[i])), i);
        if (!fresh) out.push_back({it->second, i});
    }
    return out;
}

}  // namespace unionstat
