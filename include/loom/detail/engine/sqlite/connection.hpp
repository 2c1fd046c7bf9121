// The SQLite engine: statements and a connection over SQLite's C API. Nothing outside this
// folder includes <sqlite3.h>.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../../options.hpp"
#include "../../config.hpp"
#include "../../excerpt.hpp"
#include "../engine.hpp"
#include "errors.hpp"

namespace loom::detail::sqlite {

/// SQLite's text tests. Byte-exact ones compare BLOBs (no collation, no wildcards, NUL bytes
/// are data); the case-insensitive ones use LOWER(), which folds ASCII letters only (as in
/// Django on SQLite), and LIKE with `\` escaping the value's own `%`, `_` and `\`.
LOOM_DECL bool text_test(engine::TextTest test, std::string_view lhs, std::string& value,
                         std::string& out);

/// json_extract with the path bound: `$."theme"."colors"[2]`. Each path step is 'k' + key or
/// 'i' + array index (engine.hpp). A key may hold any character but `"`, which SQLite's path
/// syntax cannot escape (loom refuses such keys when the filter is made).
LOOM_DECL void json_extract(std::string_view lhs, const std::vector<std::string>& path,
                            engine::JsonUse, std::string& param, std::string& out);

/// One JSON array parameter: any number of keys in one statement shape, and a plan that stays
/// on the key's index (a 100,000-key IN list made SQLite 3.40 scan instead).
LOOM_DECL void key_array_test(bool, bool negated, std::string& out);

inline constexpr engine::Dialect dialect{
    .name = "sqlite",
    .integer_type = "INTEGER",
    .real_type = "REAL",
    .text_type = "TEXT",
    .blob_type = "BLOB",
    .auto_primary_key = "INTEGER PRIMARY KEY AUTOINCREMENT",
    .timestamp_type = "TEXT",
    .date_type = "TEXT",
    .json_type = "TEXT",
    .key_array_test = &key_array_test,
    .explain_prefix = "EXPLAIN QUERY PLAN ",
    .explain_column = 3,
    .text_test = &text_test,
    .json_extract = &json_extract,
};

class Statement final : public engine::Statement {
public:
    Statement(sqlite3* db, std::string_view sql);
    LOOM_DECL ~Statement() override;

    const std::string& sql() const noexcept override { return sql_; }
    bool read_only() const noexcept override { return sqlite3_stmt_readonly(stmt_) != 0; }

    void bind_null(int i) override { check(sqlite3_bind_null(stmt_, i)); }
    void bind_int(int i, std::int64_t v) override { check(sqlite3_bind_int64(stmt_, i, v)); }
    void bind_double(int i, double v) override { check(sqlite3_bind_double(stmt_, i, v)); }
    void bind_text(int i, std::string_view v) override {
        // A null data pointer would bind NULL; an empty string must stay an empty string.
        check(sqlite3_bind_text64(stmt_, i, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT,
                                  SQLITE_UTF8));
    }
    void bind_blob(int i, std::span<const std::byte> v) override {
        static const char empty = 0;
        const void* p = v.data() ? static_cast<const void*>(v.data()) : &empty;
        check(sqlite3_bind_blob64(stmt_, i, p, v.size(), SQLITE_TRANSIENT));
    }

    bool step() override {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw_error(db_, rc, "while running: " + sql_excerpt(sql_));
    }
    void reset() noexcept override {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

    int column_count() const noexcept override { return sqlite3_column_count(stmt_); }
    engine::Cell column_type(int c) const noexcept override {
        return cell_type(sqlite3_value_type(value(c)));
    }
    std::int64_t column_int(int c) const override {
        sqlite3_value* v = value(c);
        if (sqlite3_value_type(v) != SQLITE_INTEGER) throw_not_integer(c);
        return sqlite3_value_int64(v);
    }
    double column_double(int c) const noexcept override { return sqlite3_value_double(value(c)); }
    std::string_view column_text(int c) const noexcept override {
        sqlite3_value* v = value(c);
        auto p = reinterpret_cast<const char*>(sqlite3_value_text(v));
        return {p ? p : "", static_cast<std::size_t>(sqlite3_value_bytes(v))};
    }
    std::span<const std::byte> column_blob(int c) const noexcept override {
        sqlite3_value* v = value(c);
        auto p = static_cast<const std::byte*>(sqlite3_value_blob(v));
        return {p, static_cast<std::size_t>(sqlite3_value_bytes(v))};
    }
    std::string_view column_name(int c) const noexcept override {
        const char* n = sqlite3_column_name(stmt_, c);
        return n ? n : "";
    }
    engine::CellValue cell(int c) const noexcept override {
        sqlite3_value* v = value(c);
        engine::CellValue out;
        switch (sqlite3_value_type(v)) {
        case SQLITE_INTEGER:
            out.type = engine::Cell::integer;
            out.integer = sqlite3_value_int64(v);
            out.real = static_cast<double>(out.integer);
            break;
        case SQLITE_FLOAT:
            out.type = engine::Cell::real;
            out.real = sqlite3_value_double(v);
            break;
        case SQLITE_TEXT: {
            out.type = engine::Cell::text;
            auto p = reinterpret_cast<const char*>(sqlite3_value_text(v));
            out.bytes = {p ? p : "", static_cast<std::size_t>(sqlite3_value_bytes(v))};
            break;
        }
        case SQLITE_BLOB: {
            out.type = engine::Cell::blob;
            auto p = static_cast<const char*>(sqlite3_value_blob(v));
            out.bytes = {p ? p : "", static_cast<std::size_t>(sqlite3_value_bytes(v))};
            break;
        }
        default:
            break;
        }
        return out;
    }

private:
    /// The current row's value in column c: one call into SQLite per cell, after which its
    /// type and contents are plain reads (sqlite3_column_type + sqlite3_column_int64 made two
    /// calls, each locking and checking the connection). The value is "unprotected" in
    /// SQLite's terms; the connection is opened SQLITE_OPEN_NOMUTEX (multi-thread mode), where
    /// protected and unprotected values are the same, and loom never uses one connection from
    /// two threads at once (the Database refuses concurrent use).
    sqlite3_value* value(int c) const noexcept { return sqlite3_column_value(stmt_, c); }
    static engine::Cell cell_type(int t) noexcept {
        switch (t) {
        case SQLITE_INTEGER:
            return engine::Cell::integer;
        case SQLITE_FLOAT:
            return engine::Cell::real;
        case SQLITE_TEXT:
            return engine::Cell::text;
        case SQLITE_BLOB:
            return engine::Cell::blob;
        default:
            return engine::Cell::null;
        }
    }
    void check(int rc) {
        if (rc != SQLITE_OK) throw_error(db_, rc, "while binding: " + sql_excerpt(sql_));
    }
    [[noreturn]] void throw_not_integer(int c) const;
    sqlite3* db_;
    std::string sql_;
    sqlite3_stmt* stmt_ = nullptr;
};

/// A connection to a SQLite file (or ":memory:"), set up as loom promises: foreign keys
/// enforced, the busy timeout set, WAL mode on request, and a file that is not a database
/// refused at open rather than at the first query.
class Connection final : public engine::Connection {
public:
    Connection(const std::string& path, const Options& o);
    LOOM_DECL ~Connection() override;

    const engine::Dialect& dialect() const noexcept override { return sqlite::dialect; }

    LOOM_DECL std::unique_ptr<engine::Statement> prepare(std::string_view sql) override;
    LOOM_DECL void exec(const std::string& sql) override;
    bool exec_noexcept(const char* sql) noexcept override {
        return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
    }

    LOOM_DECL void check_file_in_place(std::string_view context) override;

    LOOM_DECL bool assigns_keys(std::string_view table, std::string_view key_column) override;

    LOOM_DECL std::vector<std::string> rows_referring_to(std::string_view table,
                                                         std::int64_t key) override;

    std::int64_t changes() const noexcept override { return sqlite3_changes64(db_); }
    std::int64_t last_insert_id() const noexcept override { return sqlite3_last_insert_rowid(db_); }
    bool in_transaction() const noexcept override { return !sqlite3_get_autocommit(db_); }

    // A transaction on a file takes the write lock at BEGIN (IMMEDIATE), so one that reads and
    // then writes waits for other writers through the busy timeout instead of failing with
    // SQLITE_BUSY at the lock upgrade (a deadlock SQLite cannot wait out, or in WAL mode a
    // stale snapshot). :memory: (no other connection) and read-only connections: plain BEGIN.
    std::string_view begin_sql() const noexcept override {
        return read_only_ || path_.empty() || path_ == ":memory:" ? "BEGIN" : "BEGIN IMMEDIATE";
    }
    std::string_view begin_snapshot_sql() const noexcept override { return "BEGIN DEFERRED"; }

    /// A read-only connection to the same file (none for ":memory:" or a temporary database,
    /// whose data only this connection sees). Sibling levels' readers have a busy timeout of
    /// 0: one that cannot begin at once is not used (begin_shared_snapshot), rather than
    /// waited for.
    LOOM_DECL std::unique_ptr<engine::Connection> open_reader(int busy_timeout_ms) override;

    /// One snapshot for this connection and the readers, without SQLite's snapshot API (not
    /// in Debian's build):
    /// - WAL mode: a third connection takes the write lock (BEGIN IMMEDIATE, not waiting)
    ///   before this connection's read transaction begins and releases it once every reader's
    ///   has begun: no commit can fall between them. A writer waits for at most that window
    ///   (a few statements, not the queries); when the write lock is held already, the readers
    ///   are not used.
    /// - rollback-journal mode: this connection's read transaction holds a SHARED lock, so no
    ///   writer can commit until it ends; the readers begin while it holds it. A reader that
    ///   cannot get its SHARED lock at once (a writer waits to commit) is not used.
    LOOM_DECL std::size_t begin_shared_snapshot(std::span<engine::Connection* const> readers,
                                                std::string& why) override;

    int variable_limit() const noexcept override {
        return sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    }
    void set_variable_limit(int n) override { sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, n); }

    LOOM_DECL bool supports_key_arrays() override;
    /// `[1,2,3]`: the keys as a JSON array, read back by json_each.
    LOOM_DECL std::string key_array(std::span<const std::int64_t> keys) const override;
    /// `["a","b"]`: a JSON array of strings (`"`, `\` and control characters escaped).
    LOOM_DECL std::string key_array(std::span<const std::string> keys) const override;

private:
    /// A statement for loom's own look-ups (not cached, not counted, not shown to listeners).
    struct Query {
        sqlite3_stmt* s = nullptr;
        Query(sqlite3* db, const std::string& sql) {
            if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) s = nullptr;
        }
        ~Query() { sqlite3_finalize(s); }
        Query(const Query&) = delete;
        Query& operator=(const Query&) = delete;
        bool ok() const noexcept { return s != nullptr; }
        void bind(int i, std::string_view v) {
            sqlite3_bind_text64(s, i, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT,
                                SQLITE_UTF8);
        }
        bool row() { return sqlite3_step(s) == SQLITE_ROW; }
        std::string_view text(int c) const {
            auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
            return {p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s, c))};
        }
    };
    static bool same_word(std::string_view a, std::string_view b) noexcept {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
        return true;
    }
    static std::string quote_name(std::string_view id);
    static std::string wal_beside(const std::string& path, const std::string& why);
    /// Bytes 18 and 19 of a SQLite header are 2 in WAL mode.
    static bool in_wal_mode(const std::string& path);

    bool journal_mode_is_wal();
    /// The connection that holds the write lock while readers begin (WAL mode).
    struct Close {
        void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
    };
    std::unique_ptr<sqlite3, Close> open_lock();

    std::string path_;
    bool read_only_;
    sqlite3* db_ = nullptr;
    std::optional<bool> json_each_;
    std::unique_ptr<sqlite3, Close> lock_;
};

}  // namespace loom::detail::sqlite

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/connection.hpp"
#endif
