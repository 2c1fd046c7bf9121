// The definitions of connection.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

#include <charconv>
#include <cstdio>

namespace loom::detail::sqlite {

LOOM_DECL bool text_test(engine::TextTest test, std::string_view lhs, std::string& value,
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

LOOM_DECL void json_extract(std::string_view lhs, const std::vector<std::string>& path,
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

LOOM_DECL void key_array_test(bool, bool negated, std::string& out) {
    out += negated ? " NOT IN (SELECT value FROM json_each(?))"
                   : " IN (SELECT value FROM json_each(?))";
}

LOOM_DECL Statement::Statement(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
    const int rc = sqlite3_prepare_v3(db, sql_.data(), static_cast<int>(sql_.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) throw_error(db, rc, "while preparing: " + sql_excerpt(sql_));
}

LOOM_DECL Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

LOOM_DECL void Statement::throw_not_integer(int c) const {
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

LOOM_DECL Connection::Connection(const std::string& path, const Options& o)
    : path_(path), read_only_(o.read_only) {
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

LOOM_DECL Connection::~Connection() {
    lock_.reset();
    sqlite3_close_v2(db_);
}

LOOM_DECL std::unique_ptr<engine::Statement> Connection::prepare(std::string_view sql) {
    return std::make_unique<Statement>(db_, sql);
}

LOOM_DECL void Connection::exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) throw_error(db_, rc, "while running: " + sql_excerpt(sql));
}

LOOM_DECL void Connection::check_file_in_place(std::string_view context) {
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

LOOM_DECL bool Connection::assigns_keys(std::string_view table, std::string_view key_column) {
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

LOOM_DECL std::vector<std::string> Connection::rows_referring_to(std::string_view table,
                                                                 std::int64_t key) {
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

LOOM_DECL std::unique_ptr<engine::Connection> Connection::open_reader(int busy_timeout_ms) {
    const char* file = sqlite3_db_filename(db_, "main");
    if (!file || !*file) return nullptr;
    Options o;
    o.read_only = true;
    o.create = false;
    o.busy_timeout_ms = busy_timeout_ms;
    return std::make_unique<Connection>(std::string(file), o);
}

LOOM_DECL std::size_t Connection::begin_shared_snapshot(
    std::span<engine::Connection* const> readers, std::string& why) {
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

LOOM_DECL bool Connection::supports_key_arrays() {
    if (!json_each_) {
        // Preparing is enough to know: the function exists or the statement fails.
        sqlite3_stmt* s = nullptr;
        const int rc = sqlite3_prepare_v2(db_, "SELECT value FROM json_each(?)", -1, &s, nullptr);
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

LOOM_DECL std::string Connection::key_array(std::span<const std::int64_t> keys) const {
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

LOOM_DECL std::string Connection::key_array(std::span<const std::string> keys) const {
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

LOOM_DECL std::string Connection::quote_name(std::string_view id) {
    std::string out = "\"";
    for (char c : id) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + '"';
}

LOOM_DECL std::string Connection::wal_beside(const std::string& path, const std::string& why) {
    return "'" + path +
           "' is a WAL-mode database, and SQLite cannot open or create its '-shm' and '-wal' "
           "files beside it: the directory is not writable (a read-only filesystem or mount, "
           "or no write permission). Open it where its directory is writable, or switch a "
           "writable copy to rollback-journal mode once (PRAGMA journal_mode = DELETE) so it "
           "can be read from read-only media (" +
           why + ")";
}

LOOM_DECL bool Connection::in_wal_mode(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    unsigned char h[20] = {};
    const bool read = std::fread(h, 1, sizeof h, f) == sizeof h;
    std::fclose(f);
    return read && h[18] == 2 && h[19] == 2;
}

LOOM_DECL bool Connection::journal_mode_is_wal() {
    Query q(db_, "PRAGMA journal_mode");
    return q.ok() && q.row() && same_word(q.text(0), "wal");
}

LOOM_DECL auto Connection::open_lock() -> std::unique_ptr<sqlite3, Close> {
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

}  // namespace loom::detail::sqlite
