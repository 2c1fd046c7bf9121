// Reading a live PostgreSQL schema into the engine-neutral structs of engine/catalog.hpp, from
// pg_catalog, in the current schema (the first of search_path): the table from pg_class, its
// columns from pg_attribute (types from pg_type, defaults from pg_attrdef, identity keys), its
// constraints from pg_constraint (primary key, UNIQUE, foreign keys with their ON DELETE / ON
// UPDATE actions and names, CHECK), and the indexes no constraint made from pg_index. Four
// queries a table, as on SQLite. The table's name is a bound parameter, its oid too.
//
// No libpq here: the statements run through an engine::Runner.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../catalog.hpp"

namespace loom::detail::postgres {

/// The storage class and kind of a PostgreSQL type (pg_type.typname): `other` for a type loom
/// does not map (numeric, interval...).
struct PgType {
    engine::TypeClass type = engine::TypeClass::other;
    column_kind kind = column_kind::plain;
};

inline PgType pg_type_of(std::string_view typname) {
    using engine::TypeClass;
    if (typname == "int8" || typname == "int4" || typname == "int2" || typname == "bool")
        return {TypeClass::integer};
    if (typname == "float8" || typname == "float4") return {TypeClass::real};
    if (typname == "text" || typname == "varchar" || typname == "bpchar" || typname == "name" ||
        typname == "uuid" || typname == "citext")
        return {TypeClass::text};
    if (typname == "timestamptz" || typname == "timestamp")
        return {TypeClass::text, column_kind::timestamp};
    if (typname == "date") return {TypeClass::text, column_kind::date};
    if (typname == "jsonb" || typname == "json") return {TypeClass::text, column_kind::json};
    if (typname == "bytea") return {TypeClass::blob};
    return {};
}

/// The SQL word of a foreign key action (pg_constraint.confdeltype / confupdtype).
inline std::string action_word(std::string_view code) {
    if (code == "c") return "CASCADE";
    if (code == "n") return "SET NULL";
    if (code == "r") return "RESTRICT";
    if (code == "d") return "SET DEFAULT";
    return "NO ACTION";
}

/// The user tables of the current schema, in the order they were created.
inline std::vector<std::string> table_names(engine::Runner& r) {
    std::vector<std::string> out;
    r.query(
        "SELECT c.relname FROM pg_catalog.pg_class AS c WHERE c.relnamespace = "
        "(SELECT n.oid FROM pg_catalog.pg_namespace AS n WHERE n.nspname = current_schema()) AND "
        "c.relkind IN ('r', 'p') ORDER BY c.oid",
        {}, [&](const engine::Statement& s) { out.emplace_back(s.column_text(0)); });
    return out;
}

/// Table `name` of the current schema as the database has it (nullopt when it has none): the
/// exact name, else one that differs only in case (identifiers compare so in loom).
inline std::optional<engine::TableInfo> read_table(engine::Runner& r, const engine::Dialect& d,
                                                   std::string_view name) {
    engine::TableInfo t;
    std::int64_t oid = 0;
    r.query(
        "SELECT c.oid::bigint, c.relname FROM pg_catalog.pg_class AS c WHERE c.relnamespace = "
        "(SELECT n.oid FROM pg_catalog.pg_namespace AS n WHERE n.nspname = current_schema()) AND "
        "c.relkind IN ('r', 'p') AND lower(c.relname) = "
        "lower(?) ORDER BY c.relname = ? DESC LIMIT 1",
        {std::string(name), std::string(name)}, [&](const engine::Statement& s) {
            oid = s.column_int(0);
            t.name = std::string(s.column_text(1));
        });
    if (oid == 0) return std::nullopt;
    const std::vector<Value> param{oid};

    // Columns: type, NOT NULL, default, identity (d: BY DEFAULT, a: ALWAYS), generated.
    r.query(
        "SELECT a.attname, t.typname, format_type(a.atttypid, a.atttypmod), a.attnotnull::int, "
        "pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, "
        "(a.attcollation <> "
        "t.typcollation)::int FROM pg_catalog.pg_attribute AS a JOIN pg_catalog.pg_type AS t ON "
        "t.oid "
        "= a.atttypid LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum "
        "= a.attnum WHERE a.attrelid = ?::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY "
        "a.attnum",
        param, [&](const engine::Statement& s) {
            engine::ColumnInfo c;
            c.name = std::string(s.column_text(0));
            const PgType pt = pg_type_of(s.column_text(1));
            c.type = pt.type;
            c.kind = pt.kind;
            const std::string declared(s.column_text(2));
            // The dialect's name for the type (bigint, text, timestamptz...) reads as loom's;
            // any other (integer, varchar(40), numeric) is kept.
            const std::string_view ours = pt.type == engine::TypeClass::other
                                              ? std::string_view()
                                              : engine::type_sql(d, pt.type, pt.kind);
            if (declared != ours &&
                !(pt.kind == column_kind::timestamp && declared == "timestamp with time zone"))
                c.declared_type = declared;
            c.not_null = s.column_int(3) != 0;
            if (!s.is_null(4)) c.default_sql = std::string(s.column_text(4));
            const std::string_view identity = s.column_text(5);
            if (identity == "d" || identity == "a") c.auto_key = true;
            if (!s.column_text(6).empty())
                t.unsupported.push_back("a generated column (" + c.name + ")");
            if (s.column_int(7) != 0) t.unsupported.push_back("a COLLATE clause");
            t.columns.push_back(std::move(c));
        });

    // Constraints, one row per column (in the key's order), with the referenced column.
    struct Con {
        std::string name;
        char type = 0;
        engine::ForeignKeyInfo fk;
        std::vector<std::string> columns;
    };
    std::vector<Con> cons;
    std::int64_t current = 0;
    r.query(
        "SELECT c.oid::bigint, c.conname, c.contype::text, c.confdeltype::text, "
        "c.confupdtype::text, "
        "f.relname, a.attname, fa.attname, c.condeferrable::int FROM pg_catalog.pg_constraint AS c "
        "LEFT JOIN "
        "LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, pos) ON true LEFT JOIN "
        "pg_catalog.pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum LEFT "
        "JOIN pg_catalog.pg_class AS f ON f.oid = c.confrelid LEFT JOIN pg_catalog.pg_attribute "
        "AS fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[k.pos::int] WHERE c.conrelid "
        "= "
        "?::oid ORDER BY c.contype, c.conname, c.oid, k.pos",
        param, [&](const engine::Statement& s) {
            if (s.column_int(0) != current) {
                current = s.column_int(0);
                Con c;
                c.name = std::string(s.column_text(1));
                c.type = s.column_text(2).empty() ? '?' : s.column_text(2)[0];
                if (c.type == 'f') {
                    c.fk.name = c.name;
                    c.fk.table = std::string(s.column_text(5));
                    c.fk.on_delete = action_word(s.column_text(3));
                    c.fk.on_update = action_word(s.column_text(4));
                }
                if (s.column_int(8) != 0)
                    t.unsupported.push_back("a DEFERRABLE constraint (" + c.name + ")");
                cons.push_back(std::move(c));
            }
            auto& c = cons.back();
            if (!s.is_null(6)) c.columns.emplace_back(s.column_text(6));
            if (c.type == 'f' && !s.is_null(7)) c.fk.to.emplace_back(s.column_text(7));
        });
    for (auto& c : cons) {
        switch (c.type) {
        case 'p':
            t.primary_key = c.columns;
            break;
        case 'u':
            t.uniques.push_back(c.columns);
            t.unique_names.emplace_back(c.columns, c.name);
            break;
        case 'f':
            c.fk.columns = c.columns;
            t.foreign_keys.push_back(std::move(c.fk));
            break;
        case 'c':
            t.unsupported.push_back("a CHECK constraint (" + c.name + ")");
            break;
        default:
            t.unsupported.push_back("an exclusion constraint (" + c.name + ")");
            break;
        }
    }
    // The auto-assigned key: an identity column, or a serial one (its default a sequence's),
    // alone in the primary key. Its NOT NULL is the key type's, as loom's models say.
    if (t.primary_key.size() == 1)
        if (auto* c = t.column(t.primary_key[0])) {
            if (c->type == engine::TypeClass::integer && c->default_sql.rfind("nextval(", 0) == 0) {
                c->auto_key = true;
                c->default_sql.clear();
            }
            if (c->auto_key) c->not_null = false;
        }
    for (auto& c : t.columns)
        if (c.auto_key && !t.in_primary_key(c.name)) {
            t.unsupported.push_back("an identity column that is not the key (" + c.name + ")");
            c.auto_key = false;
        }

    // Indexes no constraint made, with their columns (empty for an expression), in key order.
    std::string last;
    r.query(
        "SELECT i.relname, x.indisunique::int, a.attname, pg_get_indexdef(x.indexrelid) FROM "
        "pg_catalog.pg_index AS x JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid "
        "CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos) LEFT "
        "JOIN pg_catalog.pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = k.attnum "
        "WHERE x.indrelid = ?::oid AND k.pos <= x.indnkeyatts AND NOT EXISTS (SELECT 1 FROM "
        "pg_catalog.pg_constraint AS c WHERE c.conindid = x.indexrelid AND c.conrelid = "
        "x.indrelid AND c.contype IN ('p', 'u', 'x')) ORDER BY i.oid, k.pos",
        param, [&](const engine::Statement& s) {
            const std::string iname(s.column_text(0));
            if (iname != last) {
                last = iname;
                engine::IndexInfo i;
                i.name = iname;
                i.unique = s.column_int(1) != 0;
                i.sql = std::string(s.column_text(3));
                t.indexes.push_back(std::move(i));
            }
            t.indexes.back().columns.push_back(s.is_null(2) ? std::string()
                                                            : std::string(s.column_text(2)));
        });
    return t;
}

}  // namespace loom::detail::postgres
