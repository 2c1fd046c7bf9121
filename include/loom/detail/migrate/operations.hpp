// Migration operations: each one turns the schema it finds (a TableInfo read from the
// database, or, when planning, the one the plan so far leaves) into the next, and asks the
// engine's SchemaEditor for the statements. The same code plans (statements recorded, nothing
// run) and applies (statements run through the Session, the schema read again before each
// operation). Each operation also writes its canonical text (for the migration's checksum,
// engine-neutral) and the C++ that makes it (what loom::diff prints for a migration file).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../errors.hpp"
#include "../../fwd.hpp"
#include "../../types.hpp"
#include "../column.hpp"
#include "../config.hpp"
#include "../engine/catalog.hpp"
#include "../meta/entries.hpp"

namespace loom::detail::migrate {

using engine::ColumnInfo;
using engine::ForeignKeyInfo;
using engine::IndexInfo;
using engine::TableInfo;

/// A column as a migration writes it (loom::ColumnDef holds one).
struct ColumnSpec {
    ColumnInfo info;
    bool unique = false;
    std::optional<ForeignKeyInfo> references;
    /// The value rows that exist get (a column added), or that replaces NULL (a column made NOT
    /// NULL). Never a DEFAULT in the schema.
    std::optional<Value> fill;
};

/// An argument of raw_sql or fill as a Value: a loom::Value, NULL (std::nullopt, nullptr),
/// text (string literals, std::string_view) or any member type loom maps.
template <class A> Value value_of(const A& a) {
    using U = std::remove_cvref_t<A>;
    if constexpr (std::is_same_v<U, Value>)
        return a;
    else if constexpr (std::is_same_v<U, std::nullopt_t> || std::is_same_v<U, std::nullptr_t>)
        return Value{nullptr};
    else if constexpr (std::is_convertible_v<const U&, std::string_view> &&
                       !std::is_same_v<U, std::string>)
        return std::string(std::string_view(a));
    else if constexpr (column_type<U>)
        return column_traits<U>::value(a);
    else
        static_assert(column_type<U>,
                      "loom::raw_sql / ColumnDef::fill: a value's type is not one loom binds "
                      "(bool, integers, enums, float/double, strings, loom::Blob, std::optional "
                      "of those, std::nullopt, loom::Value)");
}

// ---- text: canonical (checksums), words (messages), C++ (migration files) ---------------------

LOOM_DECL std::string join(const std::vector<std::string>& v, std::string_view sep = ", ");

LOOM_DECL std::string lower(std::string_view s);

/// The shortest text that reads back as `v`, whatever the C locale says (checksums must not
/// depend on it).
LOOM_DECL std::string real_text(double v);

LOOM_DECL std::string canonical(const Value& v);

LOOM_DECL std::string canonical(const ColumnInfo& c);

LOOM_DECL std::string canonical(const ForeignKeyInfo& f);

LOOM_DECL std::string canonical(const TableInfo& t);

LOOM_DECL std::string canonical(const ColumnSpec& c);

LOOM_DECL std::string cpp_string(std::string_view s);

LOOM_DECL std::string cpp_strings(const std::vector<std::string>& v);

LOOM_DECL std::string cpp_value(const Value& v);

LOOM_DECL std::string cpp_on_delete(std::string_view rule);

LOOM_DECL std::string cpp(const ColumnSpec& c);

/// The spec of column `name` of `t` (its one-column UNIQUE and foreign key included).
LOOM_DECL ColumnSpec spec_of(const TableInfo& t, const ColumnInfo& c);

// ---- running operations ----------------------------------------------------------------------

/// Where an operation runs: the engine, the schema it changes, and whether it plans or applies.
class Context {
public:
    Context(engine::SchemaEditor& editor, engine::Runner& runner, Database* db);

    engine::SchemaEditor& editor;
    engine::Runner& runner;

    bool planning() const noexcept;
    Database& database() const;

    /// Table `name` as it is now (when planning: as the plan so far leaves it); null if none.
    const TableInfo* find(const std::string& name);
    const TableInfo& table(const std::string& name);
    void set(TableInfo t);
    void erase(const std::string& name);
    /// Every table known so far (when planning, the foreign keys that point at a renamed table
    /// or column follow it).
    template <class F> void each_known(F&& f) {
        for (auto& [k, t] : tables_)
            if (t) f(*t);
    }
    /// Applying: the next operation reads the schema again.
    void forget();

    /// Runs the statements (applying) or records them (planning).
    void run(const engine::Steps& steps);
    /// A line of the plan that runs nothing (a data step).
    void note(std::string comment);

    std::vector<SqlText> planned;

private:
    static std::string fill_in(const std::string& text, const Statement& row);
    static std::string cell_text(const Statement& s, int c);

    Database* db_;
    std::map<std::string, std::optional<TableInfo>> tables_;
};

class Op {
public:
    virtual ~Op() = default;
    /// In words: "add column book.pages".
    virtual std::string describe() const = 0;
    /// Canonical text, the same on every engine: what the checksum covers.
    virtual std::string signature() const = 0;
    /// The C++ that makes this operation.
    virtual std::string cpp() const = 0;
    /// True when it may rebuild or drop a table (SQLite: the migration runs with foreign keys
    /// off, checked at its end).
    LOOM_DECL virtual bool rebuilds() const;
    virtual void run(Context& c) const = 0;
};

LOOM_DECL std::vector<engine::ColumnSource> same_columns(const TableInfo& t);

LOOM_DECL bool contains(const std::vector<std::string>& cols, std::string_view name);

/// Applies one column spec (type, NULL-ness, one-column UNIQUE and foreign key) to table t.
LOOM_DECL void put_column(TableInfo& t, const ColumnSpec& s);

class CreateTables final : public Op {
public:
    explicit CreateTables(std::vector<TableInfo> tables);
    LOOM_DECL std::string describe() const override;
    LOOM_DECL std::string signature() const override;
    LOOM_DECL std::string cpp() const override;
    LOOM_DECL void run(Context& c) const override;

private:
    std::vector<TableInfo> tables_;
};

class DropTable final : public Op {
public:
    explicit DropTable(std::string table);
    LOOM_DECL std::string describe() const override;
    LOOM_DECL std::string signature() const override;
    LOOM_DECL std::string cpp() const override;
    LOOM_DECL bool rebuilds() const override;
    LOOM_DECL void run(Context& c) const override;

private:
    std::string table_;
};

class RenameTable final : public Op {
public:
    RenameTable(std::string from, std::string to);
    LOOM_DECL std::string describe() const override;
    LOOM_DECL std::string signature() const override;
    LOOM_DECL std::string cpp() const override;
    LOOM_DECL void run(Context& c) const override;

private:
    std::string from_, to_;
};

class AddColumn final : public Op {
public:
    AddColumn(std::string table, ColumnSpec column);
    LOOM_DECL std::string describe() const override;
    LOOM_DECL std::string signature() const override;
    LOOM_DECL std::string cpp() const override;
    LOOM_DECL bool rebuilds() const override;
    LOOM_DECL void run(Context& c) const override;

private:
    std::string table_;
    ColumnSpec col_;
};

class DropColumn final : public Op {
public:
    DropColumn(std::string table, std::string column);
    LOOM_DECL std::string describe() const override;
    LOOM_DECL std::string signature() const override;
    LOOM_DECL std::string cpp() const override;
    LOOM_DECL bool rebuilds() const override;
    LOOM_DECL void run(Context& c) const override;

private:
    std::string table_, column_;
};

class RenameColumn final : public Op {
public:
    RenameColumn(std::string table, std::string from, std::string to);
    LOOM_DECL std::string describe() const override;
    LOOM_DECL std::string signature() const override;
    LOOM_DECL std::string cpp() const override;
    LOOM_DECL void run(Context& c) const override;

private:
    std::string table_, from_, to_;
};

class AlterColumn final : public Op {
public:
    AlterColumn(std::string table, ColumnSpec column);
    LOOM_DECL std::string describe() const override;
    LOOM_DECL std::string signature() const override;
    LOOM_DECL std::string cpp() const override;
    LOOM_DECL bool rebuilds() const override;
    LOOM_DECL void run(Context& c) const override;

private:
    std::string table_;
    ColumnSpec col_;
};

/// Index and UNIQUE constraint operations: add or drop, over the given columns.
class Constraint final : public Op {
public:
    enum class Kind { add_index, drop_index, add_unique, drop_unique };
    Constraint(Kind kind, std::string table, std::vector<std::string> columns, std::string name);
    LOOM_DECL std::string describe() const override;
    LOOM_DECL std::string signature() const override;
    LOOM_DECL std::string cpp() const override;
    LOOM_DECL bool rebuilds() const override;
    LOOM_DECL void run(Context& c) const override;

private:
    Kind kind_;
    std::string table_;
    std::vector<std::string> cols_;
    std::string name_;
};

class RawSql final : public Op {
public:
    RawSql(std::string sql, std::vector<Value> params);
    LOOM_DECL std::string describe() const override;
    LOOM_DECL std::string signature() const override;
    LOOM_DECL std::string cpp() const override;
    LOOM_DECL void run(Context& c) const override;

private:
    std::string sql_;
    std::vector<Value> params_;
};

class DataStep final : public Op {
public:
    DataStep(std::string name, std::function<void(Database&)> fn);
    LOOM_DECL std::string describe() const override;
    LOOM_DECL std::string signature() const override;
    LOOM_DECL std::string cpp() const override;
    LOOM_DECL void run(Context& c) const override;

private:
    std::string name_;
    std::function<void(Database&)> fn_;
};

}  // namespace loom::detail::migrate

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/operations.hpp"
#endif
