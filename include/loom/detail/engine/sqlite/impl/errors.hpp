// The definitions of errors.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail::sqlite {

LOOM_DECL void throw_error(sqlite3* db, int rc, std::string_view context) {
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
        case SQLITE_CONSTRAINT_UNIQUE:
            kind = K::unique;
            break;
        case SQLITE_CONSTRAINT_PRIMARYKEY:
            kind = K::primary_key;
            break;
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            kind = K::foreign_key;
            break;
        case SQLITE_CONSTRAINT_TRIGGER:
            // ON DELETE/UPDATE RESTRICT is enforced by an internal trigger.
            if (msg.starts_with("FOREIGN KEY constraint failed")) kind = K::foreign_key;
            break;
        case SQLITE_CONSTRAINT_NOTNULL:
            kind = K::not_null;
            break;
        case SQLITE_CONSTRAINT_CHECK:
            kind = K::check;
            break;
        default:
            break;
        }
        throw ConstraintError(msg, ext, kind);
    }
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        throw BusyError(msg +
                            ": another connection holds the lock; retry later, raise "
                            "Options::busy_timeout_ms, or use WAL mode",
                        ext);
    case SQLITE_READONLY:
        if (ext == SQLITE_READONLY_DBMOVED)
            throw ReadOnlyError(msg +
                                    ": the database file was deleted, moved or replaced "
                                    "while open; open a new Database on the file",
                                ext);
        throw ReadOnlyError(msg +
                                ": the database file or its directory is not writable by "
                                "this process, or it was opened read-only",
                            ext);
    case SQLITE_NOTADB:
        throw NotADatabaseError(msg, ext);
    case SQLITE_CORRUPT:
        throw NotADatabaseError(msg +
                                    ": the file is damaged (truncated or overwritten); "
                                    "restore it from a backup (PRAGMA integrity_check lists "
                                    "the damage)",
                                ext);
    case SQLITE_CANTOPEN:
        throw CantOpenError(msg, ext);
    case SQLITE_FULL:
        throw IoError(msg + ": free disk space, or raise PRAGMA max_page_count if it was set", ext);
    case SQLITE_IOERR:
        throw IoError(msg, ext);
    default:
        throw DatabaseError(msg, ext);
    }
}

}  // namespace loom::detail::sqlite
