// The definitions of descriptor.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of descriptor.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL std::string ModelMeta::select_list(std::string_view alias) const {
    std::string out;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (i) out += ", ";
        out += alias;
        out += '.';
        out += columns[i];
    }
    return out;
}

LOOM_DECL ModelMeta make_model_meta(std::string_view name, std::string_view table,
                                    std::span<const std::string_view> columns) {
    ModelMeta r;
    r.name = std::string(name);
    r.raw_table = std::string(table);
    r.table = quote(table);
    for (std::string_view c : columns) r.columns.push_back(quote(c));
    r.pk = r.columns.front();
    std::string cols, qs, sets;
    for (std::size_t c = 1; c < r.columns.size(); ++c) {
        if (c > 1) {
            cols += ", ";
            qs += ", ";
            sets += ", ";
        }
        cols += r.columns[c];
        qs += "?";
        sets += r.columns[c] + " = ?";
    }
    if (r.columns.size() == 1) {
        r.insert_sql = "INSERT INTO " + r.table + " DEFAULT VALUES";
        r.update_sql =
            "UPDATE " + r.table + " SET " + r.pk + " = " + r.pk + " WHERE " + r.pk + " = ?";
    } else {
        r.insert_sql = "INSERT INTO " + r.table + " (" + cols + ") VALUES (" + qs + ")";
        r.update_sql = "UPDATE " + r.table + " SET " + sets + " WHERE " + r.pk + " = ?";
    }
    r.insert_with_pk_sql = "INSERT INTO " + r.table + " (" + r.pk +
                           (r.columns.size() > 1 ? ", " + cols : std::string()) + ") VALUES (?" +
                           (r.columns.size() > 1 ? ", " + qs : "") + ")";
    r.delete_sql = "DELETE FROM " + r.table + " WHERE " + r.pk + " = ?";
    r.insert_returning_sql = r.insert_sql + " RETURNING " + r.pk;
    return r;
}

}  // namespace loom::detail
