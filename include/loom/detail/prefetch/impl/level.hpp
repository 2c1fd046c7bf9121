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

LOOM_DECL RelNodeBase::RelNodeBase(const RelNodeBase&) = default;
LOOM_DECL RelNodeBase& RelNodeBase::operator=(const RelNodeBase&) = default;
LOOM_DECL RelNodeBase::~RelNodeBase() = default;

LOOM_DECL const QueryStateData& RelNodeBase::state() const {
    static const QueryStateData all;
    return custom ? *custom : all;
}

LOOM_DECL void RelNodeBase::merge_data(const RelNodeBase& other, const ModelMeta& target) {
    if (other.custom) {
        if (custom && (session != other.session || !same_query(*custom, *other.custom, target)))
            throw_two_querysets(other);
        if (!custom) {
            custom = other.custom;
            session = other.session;
        }
    }
    merge_children(other);
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
                                      const void** items, BlockView block) const {
    each_link([&](std::uint32_t k, std::uint32_t slot) {
        const void* object = block[slot];
        chains.for_parents(k, [&](std::uint32_t p) { items[at[p]++] = object; });
    });
}

LOOM_DECL LevelCore::~LevelCore() = default;

LOOM_DECL bool same_query(const QueryStateData& a, const QueryStateData& b, const ModelMeta& m) {
    if (&a == &b) return true;
    return SelectSql(a, m, nullptr).rows() == SelectSql(b, m, nullptr).rows();
}

LOOM_DECL void LevelCore::collect_cached(const void* cache) {
    if (spec_.kind == LevelKind::reverse_one) {
        const auto& c = *static_cast<const OneCache*>(cache);
        keep_loaded(c.obj, c.word.anchor());
    } else {
        const auto& c = *static_cast<const ListCache*>(cache);
        for (const void* object : relation_access::items(c)) keep_loaded(object, c.word.anchor());
    }
}

LOOM_DECL void LevelCore::fill_caches(const RelationInfo* info, std::shared_ptr<const void> keep,
                                      void* block, BlockView view, const ParentChains& chains) {
    const bool one = spec_.kind == LevelKind::reverse_one;
    ListAnchor* list = nullptr;
    Anchor* anchor;
    if (one)
        anchor = new Anchor(info, std::move(keep));
    else
        anchor = list = new ListAnchor(info, std::move(keep));
    const bool internal = holder_ != nullptr;
    const Anchor* back = adopt(anchor);
    if (!looked_up_) {
        // Nothing to look up: no query, but every cache is loaded (empty, or no object).
        for (std::size_t p = 0; p < parents.size(); ++p) {
            if (one)
                relation_access::set(*static_cast<OneCache*>(parents.cache(p)), nullptr, anchor,
                                     internal);
            else
                relation_access::assign(*static_cast<ListCache*>(parents.cache(p)), nullptr, 0,
                                        anchor, internal);
        }
        return;
    }
    // Stitch: the block no longer grows, so addresses in it are stable.
    if (one) {
        const std::vector<std::uint32_t> slot = one_slots(chains);
        for (std::size_t p = 0; p < parents.size(); ++p)
            relation_access::set(*static_cast<OneCache*>(parents.cache(p)),
                                 slot[p] == KeyIndex::npos ? nullptr : view[slot[p]], anchor,
                                 internal);
        set_backs(block, chains, back);
        return;
    }
    // Count, then fill one array for the whole level; each list is a slice of it.
    std::vector<std::uint32_t> at;
    auto& items = list->items;
    items.resize(count_items(chains, at));
    place_items(chains, at, items.data(), view);
    set_backs(block, chains, back);
    // at[p] is now the end of parent p's slice, at[p - 1] its start.
    for (std::size_t p = 0; p < parents.size(); ++p) {
        const std::uint32_t begin = p == 0 ? 0 : at[p - 1];
        relation_access::assign(*static_cast<ListCache*>(parents.cache(p)), items.data() + begin,
                                at[p] - begin, anchor, internal);
    }
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
    // `out` is an array of Target*: each address is copied in as the pointer it is (a void*
    // and a Target* have one representation; one store each).
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
