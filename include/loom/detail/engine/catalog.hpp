// The engine seam for schema work. A database's schema (tables, columns, keys, foreign keys,
// UNIQUE constraints, indexes) in structs every engine fills the same way; the CREATE
// statements written from them in the engine's Dialect (the one place loom writes CREATE TABLE
// and CREATE INDEX: detail/schema.hpp builds the structs from descriptors and renders them
// here); and SchemaEditor, what loom needs from an engine to read a live schema and change it
// (engine/sqlite/schema_editor.hpp for SQLite, which rebuilds tables; engine/postgres/
// schema_editor.hpp for PostgreSQL, which reads pg_catalog and ALTERs in place). Engine code runs
// SQL only through a Runner, which the caller backs with its Session, so every statement is counted
// and seen by listeners.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../types.hpp"
#include "../config.hpp"
#include "../quote.hpp"
#include "../std_light.hpp"
#include "engine.hpp"

namespace loom::detail::engine {

/// Identifiers compare without regard to ASCII case, as SQL does.
LOOM_DECL bool same_name(std::string_view a, std::string_view b) noexcept;

LOOM_DECL bool same_names(const std::vector<std::string>& a, const std::vector<std::string>& b);

/// What a column stores: loom's storage classes, and `other` for a declared type that maps to
/// none of them (SQLite's NUMERIC affinity).
enum class TypeClass { integer, real, text, blob, other };

LOOM_DECL std::string_view type_class_name(TypeClass t);

LOOM_DECL std::string_view type_sql(const Dialect& d, TypeClass t);

/// The DDL type of a column of storage `t` holding `k` (a timestamp, date or JSON text column
/// may have its own type in the dialect).
LOOM_DECL std::string_view type_sql(const Dialect& d, TypeClass t, column_kind k);

struct ColumnInfo {
    std::string name;
    TypeClass type = TypeClass::blob;
    /// The type as the database declares it ("VARCHAR(40)"); empty: the Dialect's type.
    std::string declared_type;
    bool not_null = false;
    /// The auto-assigned integer primary key (Dialect::auto_primary_key: never reuses a key).
    bool auto_key = false;
    /// A text column holding a timestamp, a date or JSON: its DDL type is the Dialect's
    /// (timestamp_type...). Not read back from a database (SQLite declares them TEXT).
    column_kind kind = column_kind::plain;
    /// The DEFAULT expression as the database holds it (tables loom did not write; loom writes
    /// none), kept as it is when the table is rebuilt.
    std::string default_sql;
};

struct ForeignKeyInfo {
    std::vector<std::string> columns;
    std::string table;
    std::vector<std::string> to;  // empty: the target's primary key
    std::string on_delete = "NO ACTION";
    std::string on_update = "NO ACTION";
    /// The constraint's name when read from an engine that names constraints (PostgreSQL, to
    /// drop it); empty otherwise.
    std::string name = {};
};

struct IndexInfo {
    std::string name;
    std::vector<std::string> columns;
    bool unique = false;
    /// An index read from a database: its own CREATE INDEX (a partial or expression index is
    /// recreated as it was). Empty: written from the fields above.
    std::string sql;
};

struct TableInfo {
    std::string name;
    std::vector<ColumnInfo> columns;
    std::vector<std::string> primary_key;
    std::vector<ForeignKeyInfo> foreign_keys;
    /// UNIQUE constraints (one column or several).
    std::vector<std::vector<std::string>> uniques;
    /// CREATE INDEX indexes (not those a constraint makes).
    std::vector<IndexInfo> indexes;
    /// Named CHECK constraints loom writes (name, SQL expression) from descriptors. Not read
    /// back from a database: a live CHECK is listed in `unsupported`.
    std::vector<std::pair<std::string, std::string>> checks;
    /// What the database's definition of the table holds that the fields above cannot (a CHECK
    /// constraint, a collation, a generated column...), in words: loom refuses to rebuild such
    /// a table rather than lose it.
    std::vector<std::string> unsupported;
    /// The names of UNIQUE constraints (their columns, their name) when read from an engine
    /// that names them (PostgreSQL, to drop one); looked up by columns, so that operations may
    /// add and remove entries of `uniques` freely.
    std::vector<std::pair<std::vector<std::string>, std::string>> unique_names;

    ColumnInfo* column(std::string_view n);
    const ColumnInfo* column(std::string_view n) const;
    /// The foreign key on exactly this one column.
    const ForeignKeyInfo* foreign_key(std::string_view n) const;
    bool has_unique(const std::vector<std::string>& cols) const;
    /// The name the database gave UNIQUE (cols); empty when unknown.
    std::string unique_name(const std::vector<std::string>& cols) const;
    const IndexInfo* index_on(const std::vector<std::string>& cols) const;
    bool in_primary_key(std::string_view n) const;
};

// ---- writing CREATE statements ---------------------------------------------------------------

LOOM_DECL std::string column_list(const std::vector<std::string>& cols);

LOOM_DECL std::string references_sql(const ForeignKeyInfo& f);

/// One column's definition: `"year" INTEGER NOT NULL`, with UNIQUE and REFERENCES when a
/// one-column constraint is on it.
LOOM_DECL std::string column_sql(const TableInfo& t, const ColumnInfo& c, const Dialect& d);

/// CREATE TABLE for `t` (named `name` when given), without its indexes.
LOOM_DECL std::string create_table_sql(const TableInfo& t, const Dialect& d, bool if_not_exists,
                                       std::string_view name = {});

LOOM_DECL std::string create_index_sql(const IndexInfo& i, std::string_view table,
                                       bool if_not_exists);

/// `book_publisher_id_idx`: the name loom gives an index.
LOOM_DECL std::string index_name(std::string_view table, const std::vector<std::string>& cols);

// ---- changing a schema -----------------------------------------------------------------------

/// Runs SQL for engine code, through the caller's Session.
class Runner {
public:
    virtual ~Runner() = default;
    virtual void query(std::string_view sql, const std::vector<Value>& params,
                       const std::function<void(const Statement&)>& on_row) = 0;
    virtual void execute(std::string_view sql, const std::vector<Value>& params) = 0;
};

/// One statement of a schema change. A check (non-empty `fails_with`) is a query that must
/// return no row; when one comes back, the change fails with that message, its `{}` replaced by
/// the row's cells in order.
struct Step {
    std::string sql;
    std::vector<Value> params = {};
    std::string fails_with = {};
};
using Steps = std::vector<Step>;

/// Where a column of a changed table gets its values from the old table: an old column (its
/// NULLs replaced by `fill` when given), or `fill` alone for every row, or nothing (NULL).
struct ColumnSource {
    std::string column;
    std::optional<Value> fill;
};

/// What loom needs from an engine to read and change a schema.
class SchemaEditor {
public:
    virtual ~SchemaEditor() = default;

    /// The user tables of the database (not the engine's own, not views).
    virtual std::vector<std::string> table_names(Runner& r) = 0;
    /// One table as the database has it; nullopt when there is none.
    virtual std::optional<TableInfo> read_table(Runner& r, std::string_view name) = 0;

    virtual Steps create_table(const TableInfo& t) = 0;
    virtual Steps drop_table(const TableInfo& t) = 0;
    virtual Steps rename_table(const TableInfo& t, std::string_view to) = 0;
    virtual Steps rename_column(const TableInfo& t, std::string_view from, std::string_view to) = 0;
    /// Turns table `before` into `after` (same name): columns, keys, constraints, indexes.
    /// `sources[i]` says where column i of `after` gets its values. The engine picks the
    /// statements (in place where it can, else SQLite's rebuild); the caller runs them in one
    /// transaction. May read the live database (views and triggers to carry over).
    virtual Steps change_table(Runner& r, const TableInfo& before, const TableInfo& after,
                               const std::vector<ColumnSource>& sources) = 0;

    /// The statements that make the migration's transaction the only one applying migrations
    /// (run first in it): none where BEGIN takes the write lock already (SQLite), a LOCK TABLE
    /// on the history table where it does not (PostgreSQL).
    LOOM_DECL virtual Steps lock_history(std::string_view table);

    /// True when a migration that rebuilds or drops tables must run with foreign keys off
    /// (SQLite: dropping the old table would otherwise run its ON DELETE actions), switched by
    /// foreign_keys_sql outside the transaction and checked with foreign_key_violations at its
    /// end.
    virtual bool rebuild_needs_foreign_keys_off() const = 0;
    virtual bool foreign_keys_enabled(Runner& r) = 0;
    virtual std::string foreign_keys_sql(bool on) const = 0;
    /// Rows whose foreign key points at no row, in words (at most `limit`).
    virtual std::vector<std::string> foreign_key_violations(Runner& r, std::size_t limit) = 0;
};

}  // namespace loom::detail::engine

LOOM_EXTERN_TEMPLATE(class std::vector<loom::detail::engine::ColumnInfo>);
LOOM_EXTERN_TEMPLATE(class std::vector<loom::detail::engine::ForeignKeyInfo>);
LOOM_EXTERN_TEMPLATE(class std::vector<loom::detail::engine::IndexInfo>);
LOOM_EXTERN_TEMPLATE(class std::vector<loom::detail::engine::TableInfo>);

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/catalog.hpp"
#endif
