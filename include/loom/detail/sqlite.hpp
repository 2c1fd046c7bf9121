// The narrow backend interface: a connection, prepared statements, a statement cache, and the
// translation of SQLite result codes into loom's typed errors. Nothing above this file calls
// the sqlite3 C API directly, so a second engine only has to provide these few types.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "../errors.hpp"

namespace loom::detail {

[[noreturn]] inline void throw_sqlite(sqlite3* db, int rc, std::string_view context) {
    const int ext = db ? sqlite3_extended_errcode(db) : rc;
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (!context.empty()) {
        msg += " (";
        msg += context;
        msg += ")";
    }
    switch (ext & 0xff) {
        case SQLITE_CONSTRAINT: {
            using K = ConstraintError::Kind;
            K kind = K::other;
            switch (ext) {
                case SQLITE_CONSTRAINT_UNIQUE: kind = K::unique; break;
                case SQLITE_CONSTRAINT_PRIMARYKEY: kind = K::primary_key; break;
                case SQLITE_CONSTRAINT_FOREIGNKEY: kind = K::foreign_key; break;
                case SQLITE_CONSTRAINT_TRIGGER:
                    // ON DELETE/UPDATE RESTRICT is enforced by an internal trigger.
                    if (msg.starts_with("FOREIGN KEY constraint failed")) kind = K::foreign_key;
                    break;
                case SQLITE_CONSTRAINT_NOTNULL: kind = K::not_null; break;
                case SQLITE_CONSTRAINT_CHECK: kind = K::check; break;
                default: break;
            }
            throw ConstraintError(msg, ext, kind);
        }
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            throw BusyError(msg + ": another connection holds the lock; retry later, raise "
                                  "Options::busy_timeout_ms, or use WAL mode",
                            ext);
        case SQLITE_READONLY:
            if (ext == SQLITE_READONLY_DBMOVED)
                throw ReadOnlyError(msg + ": the database file was deleted, moved or replaced "
                                          "while open; open a new Database on the file",
                                    ext);
            throw ReadOnlyError(msg + ": the database file or its directory is not writable by "
                                      "this process, or it was opened read-only",
                                ext);
        case SQLITE_NOTADB: throw NotADatabaseError(msg, ext);
        case SQLITE_CORRUPT:
            throw NotADatabaseError(msg + ": the file is damaged (truncated or overwritten); "
                                          "restore it from a backup (PRAGMA integrity_check lists "
                                          "the damage)",
                                    ext);
        case SQLITE_CANTOPEN: throw CantOpenError(msg, ext);
        case SQLITE_FULL:
            throw IoError(msg + ": free disk space, or raise PRAGMA max_page_count if it was set",
                          ext);
        case SQLITE_IOERR: throw IoError(msg, ext);
        default: throw DatabaseError(msg, ext);
    }
}

/// One prepared statement. Binding indexes are 1-based, column indexes 0-based (as in SQLite).
class Statement {
public:
    Statement(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
        const int rc = sqlite3_prepare_v3(db, sql_.data(), static_cast<int>(sql_.size()),
                                          SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
        if (rc != SQLITE_OK) throw_sqlite(db, rc, "while preparing: " + sql_);
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement() { sqlite3_finalize(stmt_); }

    const std::string& sql() const noexcept { return sql_; }
    int parameter_count() const noexcept { return sqlite3_bind_parameter_count(stmt_); }

    void bind_null(int i) { check(sqlite3_bind_null(stmt_, i)); }
    void bind_int(int i, std::int64_t v) { check(sqlite3_bind_int64(stmt_, i, v)); }
    void bind_double(int i, double v) { check(sqlite3_bind_double(stmt_, i, v)); }
    void bind_text(int i, std::string_view v) {
        // A null data pointer would bind NULL; an empty string must stay an empty string.
        check(sqlite3_bind_text64(stmt_, i, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT,
                                  SQLITE_UTF8));
    }
    void bind_blob(int i, std::span<const std::byte> v) {
        static const char empty = 0;
        const void* p = v.data() ? static_cast<const void*>(v.data()) : &empty;
        check(sqlite3_bind_blob64(stmt_, i, p, v.size(), SQLITE_TRANSIENT));
    }

    /// Steps once; true when a row is available, false when done.
    bool step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw_sqlite(db_, rc, "while running: " + sql_);
    }
    void reset() noexcept {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

    int column_count() const noexcept { return sqlite3_column_count(stmt_); }
    int column_type(int c) const noexcept { return sqlite3_column_type(stmt_, c); }
    bool is_null(int c) const noexcept { return column_type(c) == SQLITE_NULL; }
    std::int64_t column_int(int c) const noexcept { return sqlite3_column_int64(stmt_, c); }
    double column_double(int c) const noexcept { return sqlite3_column_double(stmt_, c); }
    std::string_view column_text(int c) const noexcept {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
        return {p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c))};
    }
    std::span<const std::byte> column_blob(int c) const noexcept {
        auto p = static_cast<const std::byte*>(sqlite3_column_blob(stmt_, c));
        return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c))};
    }
    const char* column_name(int c) const noexcept { return sqlite3_column_name(stmt_, c); }

    sqlite3_stmt* native() const noexcept { return stmt_; }

private:
    void check(int rc) {
        if (rc != SQLITE_OK) throw_sqlite(db_, rc, "while binding: " + sql_);
    }
    sqlite3* db_;
    std::string sql_;
    sqlite3_stmt* stmt_ = nullptr;
};

/// A connection plus a cache of prepared statements keyed by SQL text. A statement handed out
/// is marked busy until its handle is released, so re-entrant use of the same SQL (a query
/// issued while another with the same text is still stepping) gets a fresh statement.
class Connection {
    struct Entry {
        std::unique_ptr<Statement> stmt;
        bool busy = false;
    };

public:
    class Handle {
    public:
        Handle(Statement* s, Entry* e) : stmt_(s), entry_(e) {}
        Handle(std::unique_ptr<Statement> owned) : stmt_(owned.get()), owned_(std::move(owned)) {}
        Handle(Handle&& o) noexcept
            : stmt_(std::exchange(o.stmt_, nullptr)),
              entry_(std::exchange(o.entry_, nullptr)),
              owned_(std::move(o.owned_)) {}
        Handle& operator=(Handle&&) = delete;
        ~Handle() {
            if (stmt_) stmt_->reset();
            if (entry_) entry_->busy = false;
        }
        Statement& operator*() const noexcept { return *stmt_; }
        Statement* operator->() const noexcept { return stmt_; }

    private:
        Statement* stmt_;
        Entry* entry_ = nullptr;
        std::unique_ptr<Statement> owned_;
    };

    Connection(const std::string& path, int flags) {
        const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
        if (rc != SQLITE_OK) {
            std::string ctx = "opening '" + path + "'";
            if (!db_) throw_sqlite(nullptr, rc, ctx);
            try {
                throw_sqlite(db_, rc, ctx);
            } catch (...) {
                sqlite3_close_v2(db_);
                db_ = nullptr;
                throw;
            }
        }
        sqlite3_extended_result_codes(db_, 1);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() {
        cache_.clear();
        if (db_) sqlite3_close_v2(db_);
    }

    sqlite3* native() const noexcept { return db_; }

    Handle prepare(std::string_view sql) {
        auto it = cache_.find(sql);
        if (it == cache_.end()) {
            if (cache_.size() >= max_cached_) evict_idle();
            auto stmt = std::make_unique<Statement>(db_, sql);
            it = cache_.emplace(std::string(sql), Entry{std::move(stmt), false}).first;
        }
        Entry& e = it->second;
        if (e.busy) return Handle(std::make_unique<Statement>(db_, sql));
        e.busy = true;
        return Handle(e.stmt.get(), &e);
    }

    /// Runs SQL that takes no parameters and returns no rows (pragmas, DDL, transactions).
    void exec(const std::string& sql) {
        char* err = nullptr;
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
        sqlite3_free(err);
        if (rc != SQLITE_OK) throw_sqlite(db_, rc, "while running: " + sql);
    }

    std::size_t cached_statements() const noexcept { return cache_.size(); }
    void set_cache_capacity(std::size_t n) noexcept { max_cached_ = n; }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    void evict_idle() {
        for (auto it = cache_.begin(); it != cache_.end();) {
            if (!it->second.busy)
                it = cache_.erase(it);
            else
                ++it;
        }
    }

    sqlite3* db_ = nullptr;
    std::size_t max_cached_ = 256;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> cache_;
};

}  // namespace loom::detail
