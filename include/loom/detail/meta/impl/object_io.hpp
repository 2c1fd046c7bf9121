// The definitions of object_io.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of object_io.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL std::string missing_key_hint(const std::vector<KeySet>& set) {
    std::string keys;
    for (const auto& k : set) {
        if (k.unset)
            return k.column + " is " + k.key + ": the " + k.target +
                   " it was given was never inserted (insert it first, then assign it)";
        keys += (keys.empty() ? "" : ", ") + k.column + " = " + k.key;
    }
    if (set.size() == 1) return keys + " matches no " + set.front().target;
    if (set.size() > 1) return "one of " + keys + " matches no row";
    return {};
}

LOOM_DECL std::string still_referred_to(std::string_view what, const std::vector<std::string>& refs,
                                        bool found) {
    std::string list;
    for (const auto& r : refs) list += (list.empty() ? "" : ", ") + r;
    std::string by;
    if (refs.empty())
        by = "a row of another table";
    else if (refs.size() == 1)
        by = "a row of " + list;
    else
        by = (found ? "rows of " : "a row of one of ") + list;
    return std::string(what) + " is still referred to by " + by +
           " (a restrict foreign key); delete or reassign those rows first, or declare the "
           "foreign key on_delete::cascade or set_null";
}

LOOM_DECL void throw_read_error(std::string_view model, std::string_view column,
                                std::string_view pk_column, const std::string* key,
                                std::string_view lead, std::string_view why, const Statement& s,
                                int c) {
    std::string msg = std::string(model) + "." + std::string(column);
    if (key) msg += " (row " + std::string(pk_column) + "=" + *key + ")";
    throw DataError(msg + ": " + std::string(lead) + std::string(why) + ", found " +
                    describe_stored(s, c));
}

LOOM_DECL void add_key_set(std::vector<KeySet>& set, const ModelMeta& owner,
                           std::string_view column, std::string key, const ModelMeta& target,
                           bool unset) {
    set.push_back({owner.name + "." + std::string(column), std::move(key), target.name, unset});
}

}  // namespace loom::detail
