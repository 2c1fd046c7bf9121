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

LOOM_DECL void ParentChains::unchain(std::size_t parents, std::size_t keys,
                                     std::vector<std::uint32_t>& last_parent) {
    one_each = false;
    first_parent.resize(keys);
    for (std::size_t k = 0; k < keys; ++k) first_parent[k] = static_cast<std::uint32_t>(k);
    last_parent = first_parent;
    next_parent.assign(parents, KeyIndex::npos);
}

LOOM_DECL void RelNodeBase::count_children(std::vector<std::size_t>& per_depth,
                                           std::size_t depth) const {
    for (auto& c : children) c->count_levels(per_depth, depth);
}

LOOM_DECL void RelNodeBase::merge_children(const RelNodeBase& other) {
    for (auto& c : other.children) merge_prefetch(children, *c);
}

LOOM_DECL void RelNodeBase::throw_two_querysets(const RelNodeBase& other) const {
    throw UsageError("prefetch_related: " + spec->describe() +
                     (into_other ? " (loaded into another member by into(...))" : "") +
                     " was given two different querysets" +
                     (session != other.session ? " (of two databases)" : "") +
                     "; use Prefetch(...).into(...) to load the second one into another member");
}

LOOM_DECL LevelCore::LevelCore(const RelNodeBase& node, bool forward, Session& parents_db)
    : spec_(*node.spec),
      forward_(forward),
      shared_(node.spec->shared_targets),
      db_(&node.database(parents_db)) {
    session = db_;
    // A Prefetch's queryset of another database reads in its own snapshot (kept by this
    // level and the levels below it).
    if (db_ != &parents_db) keep = std::make_shared<Session::ReadSnapshot>(*db_, true);
}

LOOM_DECL void LevelCore::name_origin() {
    origin = (db_->origin() == "load" ? "load " : "prefetch ") + spec_.describe();
}

LOOM_DECL KeyChunks LevelCore::chunk_plan(std::size_t keys, std::size_t own_params,
                                          bool arrays) const {
    return plan_key_chunks(*db_, keys, own_params, "prefetch " + spec_.describe(), arrays);
}

LOOM_DECL const Anchor* LevelCore::adopt(Anchor* anchor) {
    const Anchor* back = nullptr;
    if (spec_.back_info && holder_) {
        anchor->set_parent(holder_);  // before any reference to it is counted
        back = anchor->make_back(spec_.back_info);
    }
    anchor_ = AnchorRef(anchor);
    return back;
}

LOOM_DECL std::vector<std::uint32_t> LevelCore::one_slots(const ParentChains& chains) const {
    std::vector<std::uint32_t> slot(parents.size(), KeyIndex::npos);
    each_link([&](std::uint32_t k, std::uint32_t s) {
        chains.for_parents(k, [&](std::uint32_t p) { slot[p] = s; });
    });
    return slot;
}

LOOM_DECL std::size_t LevelCore::count_items(const ParentChains& chains,
                                             std::vector<std::uint32_t>& at) const {
    at.assign(parents.size() + 1, 0);
    each_link([&](std::uint32_t k, std::uint32_t) {
        chains.for_parents(k, [&](std::uint32_t p) { ++at[p + 1]; });
    });
    for (std::size_t p = 0; p < parents.size(); ++p) at[p + 1] += at[p];
    return at.back();
}

LOOM_DECL void LevelCore::place_items(const ParentChains& chains, std::vector<std::uint32_t>& at,
                                      void* items, BlockView block) const {
    // `items` is an array of const Target*: each address is copied in as the pointer it is
    // (a const void* and a const Target* have one representation; one store each).
    auto* out = static_cast<char*>(items);
    each_link([&](std::uint32_t k, std::uint32_t slot) {
        const void* object = block[slot];
        chains.for_parents(k, [&](std::uint32_t p) {
            std::memcpy(out + std::size_t{at[p]++} * sizeof object, &object, sizeof object);
        });
    });
}

LOOM_DECL std::vector<const Anchor*> LevelCore::child_holders(std::size_t loaded) {
    std::vector<const Anchor*> holders;
    sort_unique(preloaded);
    holders.reserve(loaded + preloaded.size());
    holders.assign(loaded, anchor_.get());
    for (const auto& [t, h] : preloaded) holders.push_back(h);
    return holders;
}

LOOM_DECL void LevelCore::child_objects(void* out, std::size_t loaded, BlockView block) const {
    // Each address is copied in as the Target* it is (see place_items).
    auto* at = static_cast<char*>(out);
    auto put = [&](const void* object) {
        std::memcpy(at, &object, sizeof object);
        at += sizeof object;
    };
    for (std::size_t k = 0, i = 0; i < loaded; ++k) {
        const std::size_t n = std::min(BlockView::first << k, loaded - i);
        const char* object = block.segments[k];
        for (std::size_t j = 0; j < n; ++j, object += block.stride) put(object);
        i += n;
    }
    for (const auto& [t, h] : preloaded) put(t);
}

LOOM_DECL void LevelCore::adopt_child(std::unique_ptr<Level> child,
                                      std::vector<std::unique_ptr<Level>>& next) const {
    // The nested level keeps what this one kept (another database's snapshot), and this
    // level's anchor, which its parents' back references hang on.
    if (!child->keep) child->keep = keep;
    child->parent_anchor = anchor_;
    next.push_back(std::move(child));
}

LOOM_DECL void explain_lines(const RelNodeBase& node, Session& db, const SqlText& q,
                             std::vector<std::string>& out, const std::string& prefix) {
    out.push_back(prefix + node.spec->describe() + ": " + q.sql);
    explain_into(db, q, out, prefix + "  ");
    for (auto& c : node.children) c->explain(db, out, prefix + "  ");
}

}  // namespace loom::detail
