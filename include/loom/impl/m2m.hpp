// The definitions of m2m.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of m2m.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL M2MStatements m2m_statements(const RelationJoin* rj, const ModelMeta& owner,
                                       std::string_view member) {
    if (!rj || !rj->through)
        throw UsageError(
            "db.m2m: the member is not a many-to-many relation declared in the descriptor of " +
            owner.name);
    M2MStatements st;
    st.relation = owner.name + "::" + std::string(member);
    const JoinInfo& j = *rj->through;
    if (j.explicit_through)
        throw UsageError(st.relation + " goes through the model stored in " + j.table +
                         "; insert or remove rows of that model instead");
    const std::string& owner_col = j.from_column(rj->reversed);
    const std::string& target_col = j.to_column(rj->reversed);
    // Engine-neutral: SQLite and PostgreSQL both skip a link that is there already.
    st.add = "INSERT INTO " + j.table + " (" + owner_col + ", " + target_col +
             ") VALUES (?, ?) ON CONFLICT DO NOTHING";
    st.remove =
        "DELETE FROM " + j.table + " WHERE " + owner_col + " = ? AND " + target_col + " = ?";
    st.clear = "DELETE FROM " + j.table + " WHERE " + owner_col + " = ?";
    return st;
}

LOOM_DECL void m2m_cache_add(ListCache& list, std::span<const void* const> added,
                             bool (*same)(const void*, const void*),
                             std::shared_ptr<const void> (*copy)(const void*)) {
    const auto loaded = relation_access::items(list);
    std::vector<const void*> items(loaded.begin(), loaded.end());
    std::vector<std::shared_ptr<const void>> copies;
    for (const void* t : added) {
        bool present = false;
        for (const void* x : items)
            if (same(x, t)) {
                present = true;
                break;
            }
        if (present) continue;
        copies.push_back(copy(t));
        items.push_back(copies.back().get());
    }
    relation_access::replace(list, std::move(items), std::move(copies));
}

}  // namespace loom::detail
