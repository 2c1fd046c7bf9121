// Reading a live SQLite schema into the engine-neutral structs of engine/catalog.hpp: tables
// from sqlite_schema, columns from pragma_table_xinfo, foreign keys from
// pragma_foreign_key_list, UNIQUE constraints and indexes from pragma_index_list/index_info.
// Table names are bound as parameters of the pragma table functions, never written into SQL.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../../config.hpp"
#include "../catalog.hpp"

namespace loom::detail::sqlite {

/// A declared type's storage class by SQLite's affinity rules (datatype3.html, 3.1).
LOOM_DECL engine::TypeClass type_class_of(std::string_view declared);

/// The upper-cased words of a CREATE TABLE statement outside quotes and comments, with
/// whether each came after the column list's closing parenthesis.
struct SqlWord {
    std::string word;
    bool after_body;
};

LOOM_DECL std::vector<SqlWord> sql_words(std::string_view sql);

/// The user tables, in the order they were created.
LOOM_DECL std::vector<std::string> table_names(engine::Runner& r);

/// Table `name` as the database has it (nullopt when it has none): 4 queries.
LOOM_DECL std::optional<engine::TableInfo> read_table(engine::Runner& r, std::string_view name);

}  // namespace loom::detail::sqlite

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/introspect.hpp"
#endif
