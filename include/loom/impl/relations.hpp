// The definitions of relations.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of relations.hpp only.
#pragma once

#include <unordered_set>

namespace loom::detail {

LOOM_DECL std::string relation_name(const RelationInfo& info) {
    std::string out = std::string(info.owner) + "::" + std::string(info.member);
    if (info.into) out += " (loaded into another member by Prefetch(...).into(...))";
    return out;
}

LOOM_DECL void throw_not_loaded(const RelationInfo* info, std::string_view kind,
                                std::string_view target) {
    if (!info)
        throw NotLoaded("this " + std::string(kind) + "<" + std::string(target) +
                        "> was never loaded, and cannot load itself: either its object was built "
                        "in code (insert it, or read it back from the database, then call "
                        "load(db) on the relation), or the member is not declared in its model's "
                        "descriptor (a Prefetch(...).into(...) target, which only prefetch_related "
                        "fills)");
    std::string owner(info->owner), member(info->member);
    std::string var;
    for (char c : owner) var += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    throw NotLoaded(owner + "::" + member +
                    " was not loaded, and loom never runs a hidden "
                    "query. Load it with db.objects<" +
                    owner + ">().prefetch_related(&" + owner + "::" + member +
                    "), or explicitly with " + var + "." + member + ".load(db)");
}

LOOM_DECL void throw_cannot_load(const RelationInfo* info, std::string_view kind,
                                 std::string_view target) {
    if (info && info->into)
        throw NotLoaded(relation_name(*info) +
                        ": this member is not declared in the descriptor "
                        "of " +
                        std::string(info->owner) +
                        ", so load(db) cannot fill it; run the "
                        "QuerySet with the Prefetch again, or load &" +
                        std::string(info->owner) + "::" + std::string(info->member) + " itself");
    throw_not_loaded(info, kind, target);
}

LOOM_DECL void throw_dangling_key_text(const std::string& relation, std::string_view column,
                                       const std::string& key, std::string_view target) {
    throw DataError(relation + ": " + std::string(column) + " " + key + " matches no " +
                    std::string(target) +
                    " (a dangling key: the row was deleted, or written, while foreign keys were "
                    "not enforced)");
}

LOOM_DECL void throw_no_related(const RelationInfo* info) {
    throw DoesNotExist(info ? std::string(info->owner) + "::" + std::string(info->member) +
                                  " has no related object"
                            : std::string("ReverseOne has no related object"));
}

LOOM_DECL void throw_null_key(const RelationInfo* info, const std::string& key, bool has_key,
                              std::string_view target) {
    if (has_key)
        throw UsageError((info ? relation_name(*info) : std::string("this ForeignKey")) +
                         " is not NULL (its key is " + key + "), but the " + std::string(target) +
                         " it points at was filtered out by the QuerySet of the Prefetch that "
                         "loaded it; get() returns nullptr for it");
    if (info)
        throw UsageError(relation_name(*info) +
                         " is NULL; check is_null() or use get(), which returns nullptr");
    throw UsageError("dereferenced a NULL ForeignKey; check is_null() first");
}

LOOM_DECL void relation_access::replace(ListCache& c, std::vector<const void*> items,
                                        std::vector<std::shared_ptr<const void>> copies) {
    auto* a = new ListAnchor(c.word.info());
    AnchorRef hold(a);
    a->edited = true;
    a->set_storage(nullptr);  // its items live in the level's block and in `copies`
    a->items = std::move(items);
    if (!a->items.empty()) {
        // The anchor of a loaded list is always a ListAnchor (a level's or an edit's).
        if (const auto* cur = static_cast<const ListAnchor*>(c.word.anchor())) {
            if (!cur->edited) {
                a->base = AnchorRef(cur);
            } else {
                a->base = cur->base;
                const std::unordered_set<const void*> listed(a->items.begin(), a->items.end());
                for (const auto& copy : cur->copies)
                    if (listed.count(copy.get())) a->copies.push_back(copy);
            }
        }
        for (auto& copy : copies) a->copies.push_back(std::move(copy));
    }
    assign(c, a->items.data(), a->items.size(), a);
}

}  // namespace loom::detail
