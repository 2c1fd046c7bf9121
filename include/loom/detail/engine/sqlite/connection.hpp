// The SQLite engine: statements and a connection over SQLite's C API. Nothing outside this
// folder includes <sqlite3.h>.
#pragma once

#include <sqlite3.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../../options.hpp"
#include "../../excerpt.hpp"
#include "../engine.hpp"
#include "errors.hpp"

namespace loom::detail::sqlite {

/// SQLite's text tests. Byte-exact ones compare BLOBs (no collation, no wildcards, NUL bytes
/// are data); the case-insensitive ones use LOWER(), which folds ASCII letters only (as in
/// Django on SQLite), and LIKE with `\` escaping the value's own `%`, `_` and `\`.
inline bool text_test(engine::TextTest test, std::string_view lhs, std::string& value,
                      std::string& out) {
    using engine::TextTest;
    const std::string col(lhs);
    const std::string n = std::to_string(value.size());
    auto like = [&](bool lead, bool trail) {
        engine::like_test(col, value, lead, trail, out);
        return true;
    };
    switch (test) {
    case TextTest::contains:
        out += "instr(CAST(" + col + " AS BLOB), CAST(? AS BLOB)) > 0";
        return true;
    case TextTest::starts_with:
    case TextTest::ends_with:
        if (value.empty()) {
            out += col + " IS NOT NULL";
            return false;
        }
        out += "substr(CAST(" + col + " AS BLOB), " +
               (test == TextTest::starts_with ? std::string("1") : "-" + n) + ", " + n +
               ") = CAST(? AS BLOB)";
        return true;
    case TextTest::iexact:
        out += "LOWER(" + col + ") = LOWER(?)";
        return true;
    case TextTest::icontains:
        return like(true, true);
    case TextTest::istarts_with:
        return like(false, true);
    case TextTest::iends_with:
        return like(true, false);
    }
    return false;
}

/// json_extract with the path bound: `$."theme"."colors"[2]`. Each path step is 'k' + key or
/// 'i' + array index (engine.hpp). A key may hold any character but `"`, which SQLite's path
/// syntax cannot escape (loom refuses such keys when the filter is made).
inline void json_extract(std::string_view lhs, const std::vector<std::string>& path,
                         engine::JsonUse, std::string& param, std::string& out) {
    param = "$";
    for (const auto& step : path) {
        if (step.empty()) continue;
        if (step[0] == 'i')
            param.append("[").append(step, 1).append("]");
        else
            param.append(".\"").append(step, 1).append("\"");
    }
    out += "json_extract(";
    out += lhs;
    out += ", ?)";
}

/// One JSON array parameter: any number of keys in one statement shape, and a plan that stays
/// on the key's index (a 100,000-key IN list made SQLite 3.40 scan instead).
inline void key_array_test(bool, bool negated, std::string& out) {
    out += negated ? " NOT IN (SELECT value FROM json_each(?))"
                   : " IN (SELECT value FROM json_each(?))";
}

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
    Statement(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
        const int rc = sqlite3_prepare_v3(db, sql_.data(), static_cast<int>(sql_.size()),
                                          SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
        if (rc != SQLITE_OK) throw_error(db, rc, "while preparing: " + sql_excerpt(sql_));
    }
    ~Statement() override { sqlite3_finalize(stmt_); }

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
    [[noreturn]] void throw_not_integer(int c) const {
        std::string found;
        switch (sqlite3_column_type(stmt_, c)) {
        case SQLITE_NULL:
            found = "NULL";
            break;
        case SQLITE_FLOAT: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(stmt_, c));
            found = std::string("REAL ") + buf;
            break;
        }
        case SQLITE_TEXT: {
            std::string_view t = column_text(c);
            found = "TEXT '" + std::string(t.substr(0, 40)) + (t.size() > 40 ? "...'" : "'");
            break;
        }
        default:
            found = "BLOB of " + std::to_string(sqlite3_column_bytes(stmt_, c)) + " bytes";
        }
        throw DataError("result column " + std::to_string(c) + " (" + std::string(column_name(c)) +
                        "): expected an INTEGER key, found " + found +
                        " (a key that is not an integer is never rounded into another row's key; "
                        "while running: " +
                        sql_excerpt(sql_) + ")");
    }
    sqlite3* db_;
    std::string sql_;
    sqlite3_stmt* stmt_ = nullptr;
};

/// A connection to a SQLite file (or ":memory:"), set up as loom promises: foreign keys
/// enforced, the busy timeout set, WAL mode on request, and a file that is not a database
/// refused at open rather than at the first query.
class Connection final : public engine::Connection {
public:
    Connection(const std::string& path, const Options& o) : path_(path), read_only_(o.read_only) {
        int flags = o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
        if (o.create && !o.read_only) flags |= SQLITE_OPEN_CREATE;
        flags |= SQLITE_OPEN_NOMUTEX;
        const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
        try {
            if (rc != SQLITE_OK) throw_error(db_, rc, "opening '" + path + "'");
            sqlite3_extended_result_codes(db_, 1);
            sqlite3_busy_timeout(db_, o.busy_timeout_ms);
            try {
                exec("PRAGMA foreign_keys = ON");
                // Reading the schema fails now, not at the first query, if this is no database.
                exec("SELECT count(*) FROM sqlite_master");
                if (o.wal) exec("PRAGMA journal_mode = WAL");
            } catch (const CantOpenError& e) {
                // The file opened, but reading it failed: a WAL database whose -shm and -wal
                // files cannot be opened or created beside it (a read-only mount says
                // CANTOPEN, a directory without write permission READONLY).
                if (!in_wal_mode(path) && !o.wal) throw;
                throw CantOpenError(wal_beside(path, e.what()), e.code());
            } catch (const ReadOnlyError& e) {
                if (!in_wal_mode(path) && !o.wal) throw;
                throw ReadOnlyError(wal_beside(path, e.what()), e.code());
            } catch (const NotADatabaseError& e) {
                if ((e.code() & 0xff) == SQLITE_CORRUPT)  // a database, damaged: it says so
                    throw NotADatabaseError("'" + path + "': " + e.what(), e.code());
                throw NotADatabaseError("'" + path + "' is not a SQLite database (" + e.what() +
                                            "): check the path, or restore the file from a backup",
                                        e.code());
            }
        } catch (...) {
            if (db_) sqlite3_close_v2(db_);
            throw;
        }
    }
    ~Connection() override {
        lock_.reset();
        sqlite3_close_v2(db_);
    }

    const engine::Dialect& dialect() const noexcept override { return sqlite::dialect; }

    std::unique_ptr<engine::Statement> prepare(std::string_view sql) override {
        return std::make_unique<Statement>(db_, sql);
    }
    void exec(const std::string& sql) override {
        char* err = nullptr;
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
        sqlite3_free(err);
        if (rc != SQLITE_OK) throw_error(db_, rc, "while running: " + sql_excerpt(sql));
    }
    bool exec_noexcept(const char* sql) noexcept override {
        return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
    }

    void check_file_in_place(std::string_view context) override {
        // In rollback-journal mode SQLite refuses such a write itself; in WAL mode it would
        // write to the WAL of a file nobody will open again, so ask before.
        int moved = 0;
        if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved)
            throw ReadOnlyError(
                "attempt to write a readonly database (while running: " + sql_excerpt(context) +
                    "): the database file was deleted, moved or replaced while open; open a new "
                    "Database on the file",
                SQLITE_READONLY_DBMOVED);
    }

    bool assigns_keys(std::string_view table, std::string_view key_column) override {
        Query q(db_, "SELECT name, type, pk FROM pragma_table_info(?)");
        if (!q.ok()) return true;  // no table-valued pragmas: nothing to say
        q.bind(1, table);
        int keys = 0;
        bool integer_key = false;
        while (q.row()) {
            if (sqlite3_column_int(q.s, 2) == 0) continue;
            ++keys;
            integer_key = same_word(q.text(0), key_column) && same_word(q.text(1), "INTEGER");
        }
        // No such table: the INSERT will say so.
        if (keys == 0) return true;
        if (keys != 1 || !integer_key) return false;
        // An INTEGER PRIMARY KEY is the rowid (filled in) unless it is declared DESC or the
        // table is WITHOUT ROWID; then SQLite keeps the key in an index of its own, which
        // pragma_index_list reports with origin 'pk'. The rowid alias has no such index.
        Query pk_index(db_, "SELECT 1 FROM pragma_index_list(?) WHERE origin = 'pk'");
        if (!pk_index.ok()) return true;
        pk_index.bind(1, table);
        return !pk_index.row();
    }

    std::vector<std::string> rows_referring_to(std::string_view table, std::int64_t key) override {
        std::vector<std::string> out;
        Query fks(db_,
                  "SELECT m.name, p.\"from\" FROM sqlite_master AS m, "
                  "pragma_foreign_key_list(m.name) AS p WHERE m.type = 'table' AND "
                  "p.\"table\" = ? COLLATE NOCASE AND p.on_delete IN ('RESTRICT', 'NO ACTION') "
                  "ORDER BY m.name, p.\"from\"");
        if (!fks.ok()) return out;
        fks.bind(1, table);
        while (fks.row()) {
            const std::string child = quote_name(fks.text(0)), column = quote_name(fks.text(1));
            Query any(db_, "SELECT 1 FROM " + child + " WHERE " + column + " = ? LIMIT 1");
            if (!any.ok()) continue;
            sqlite3_bind_int64(any.s, 1, key);
            if (any.row()) out.push_back(child + "." + column);
        }
        return out;
    }

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
    std::unique_ptr<engine::Connection> open_reader(int busy_timeout_ms) override {
        const char* file = sqlite3_db_filename(db_, "main");
        if (!file || !*file) return nullptr;
        Options o;
        o.read_only = true;
        o.create = false;
        o.busy_timeout_ms = busy_timeout_ms;
        return std::make_unique<Connection>(std::string(file), o);
    }

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
    std::size_t begin_shared_snapshot(std::span<engine::Connection* const> readers,
                                      std::string& why) override {
        static constexpr const char* touch = "SELECT count(*) FROM sqlite_master";
        if (readers.empty()) {
            exec("BEGIN DEFERRED");
            return 0;
        }
        const bool wal_before = journal_mode_is_wal();
        bool locked = false;
        if (wal_before) {
            if (!lock_) lock_ = open_lock();
            if (!lock_) {
                why = "WAL mode, and no connection could take the write lock";
            } else if (sqlite3_exec(lock_.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) !=
                       SQLITE_OK) {
                why = "WAL mode, and another connection held the write lock";
            } else {
                locked = true;
            }
        }
        struct Unlock {
            sqlite3* db;
            ~Unlock() {
                if (db) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            }
        } unlock{locked ? lock_.get() : nullptr};
        exec("BEGIN DEFERRED");
        try {
            exec(touch);
        } catch (...) {
            exec_noexcept("ROLLBACK");
            throw;
        }
        if (wal_before && !locked) return 0;
        // The journal mode cannot change while this read transaction lasts; it could have
        // changed before it began.
        if (!wal_before && journal_mode_is_wal()) {
            why = "the journal mode changed to WAL";
            return 0;
        }
        std::size_t ready = 0;
        for (engine::Connection* r : readers) {
            if (!r->exec_noexcept("BEGIN DEFERRED")) break;
            if (!r->exec_noexcept(touch)) {
                r->exec_noexcept("ROLLBACK");
                why = wal_before ? "a reader could not begin"
                                 : "a writer was waiting to commit (rollback-journal mode)";
                break;
            }
            ++ready;
        }
        return ready;
    }

    int variable_limit() const noexcept override {
        return sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    }
    void set_variable_limit(int n) override { sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, n); }

    bool supports_key_arrays() override {
        if (!json_each_) {
            // Preparing is enough to know: the function exists or the statement fails.
            sqlite3_stmt* s = nullptr;
            const int rc =
                sqlite3_prepare_v2(db_, "SELECT value FROM json_each(?)", -1, &s, nullptr);
            const bool missing =
                rc != SQLITE_OK &&
                std::string_view(sqlite3_errmsg(db_)).find("json_each") != std::string_view::npos;
            sqlite3_finalize(s);
            // Remember only a definite answer (a busy or out-of-memory failure asks again).
            if (rc != SQLITE_OK && !missing) return false;
            json_each_ = rc == SQLITE_OK;
        }
        return *json_each_;
    }
    /// `[1,2,3]`: the keys as a JSON array, read back by json_each.
    std::string key_array(std::span<const std::int64_t> keys) const override {
        std::string out;
        out.reserve(keys.size() * 8 + 2);
        out += '[';
        char buf[24];
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (i) out += ',';
            const auto r = std::to_chars(buf, buf + sizeof buf, keys[i]);
            out.append(buf, r.ptr);
        }
        out += ']';
        return out;
    }
    /// `["a","b"]`: a JSON array of strings (`"`, `\` and control characters escaped).
    std::string key_array(std::span<const std::string> keys) const override {
        std::string out;
        out += '[';
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (i) out += ',';
            out += '"';
            for (const char c : keys[i]) {
                if (c == '"' || c == '\\') {
                    out += '\\';
                    out += c;
                } else if (static_cast<unsigned char>(c) < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[(c >> 4) & 0xf];
                    out += hex[c & 0xf];
                } else {
                    out += c;
                }
            }
            out += '"';
        }
        out += ']';
        return out;
    }

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
    static std::string quote_name(std::string_view id) {
        std::string out = "\"";
        for (char c : id) {
            if (c == '"') out += '"';
            out += c;
        }
        return out + '"';
    }
    static std::string wal_beside(const std::string& path, const std::string& why) {
        return "'" + path +
               "' is a WAL-mode database, and SQLite cannot open or create its '-shm' and '-wal' "
               "files beside it: the directory is not writable (a read-only filesystem or mount, "
               "or no write permission). Open it where its directory is writable, or switch a "
               "writable copy to rollback-journal mode once (PRAGMA journal_mode = DELETE) so it "
               "can be read from read-only media (" +
               why + ")";
    }
    /// Bytes 18 and 19 of a SQLite header are 2 in WAL mode.
    static bool in_wal_mode(const std::string& path) {
        std::FILE* f = std::fopen(path.c_str(), "rb");
        if (!f) return false;
        unsigned char h[20] = {};
        const bool read = std::fread(h, 1, sizeof h, f) == sizeof h;
        std::fclose(f);
        return read && h[18] == 2 && h[19] == 2;
    }

    bool journal_mode_is_wal() {
        Query q(db_, "PRAGMA journal_mode");
        return q.ok() && q.row() && same_word(q.text(0), "wal");
    }
    /// The connection that holds the write lock while readers begin (WAL mode).
    struct Close {
        void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
    };
    std::unique_ptr<sqlite3, Close> open_lock() {
        const char* file = sqlite3_db_filename(db_, "main");
        sqlite3* db = nullptr;
        if (!file || !*file ||
            sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
                SQLITE_OK) {
            if (db) sqlite3_close_v2(db);
            return nullptr;
        }
        sqlite3_busy_timeout(db, 0);
        return std::unique_ptr<sqlite3, Close>(db);
    }

    std::string path_;
    bool read_only_;
    sqlite3* db_ = nullptr;
    std::optional<bool> json_each_;
    std::unique_ptr<sqlite3, Close> lock_;
};

}  // namespace loom::detail::sqlite
