// The definitions of level.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of level.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL KeyChunks plan_key_chunks(Session& s, std::size_t keys, std::size_t own_params,
                                    const std::string& what, bool arrays) {
    const auto limit = static_cast<std::size_t>(s.variable_limit());
    if (own_params >= limit)
        throw UsageError(what + ": the queryset alone binds " + std::to_string(own_params) +
                         " parameters, the connection's limit");
    if (arrays && keys > s.key_array_above())
        return {true, s.options().batch_size ? s.options().batch_size : keys};
    return {false, std::min(s.max_keys_per_query(), limit - own_params)};
}

LOOM_DECL void ParentObjects::add_cache(void* cache) {
    owned_ = false;
    add(0, cache, cache, cache);
}

LOOM_DECL void ParentObjects::unroll() {
    listed_.reserve(expected_);
    for (std::size_t p = 0; p < count_; ++p) listed_.push_back(run_ + p * stride_);
    run_ = nullptr;
}

LOOM_DECL std::string LevelSpec::describe() const {
    return std::string(info->owner) + "::" + std::string(info->member);
}

LOOM_DECL void sort_unique(std::vector<std::pair<const void*, const Anchor*>>& objects) {
    std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) {
        return std::less<const void*>{}(a.first, b.first);
    });
    objects.erase(std::unique(objects.begin(), objects.end(),
                              [](const auto& a, const auto& b) { return a.first == b.first; }),
                  objects.end());
}

}  // namespace loom::detail
