// loom/errors.hpp - the exceptions loom throws. Everything derives from loom::Error, so one
// `catch (const loom::Error&)` sees all of them; catch a derived type to act on one kind.
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "detail/config.hpp"

namespace loom {

/// Base of every exception loom throws.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what);
    LOOM_DECL ~Error() override;
};

/// An update or remove of a model with a loom::version column found its row at another
/// version: another writer changed (or removed and re-created) it since the object was read.
/// Nothing was written; read the row again and reapply the change.
class ConflictError : public Error {
public:
    using Error::Error;
    LOOM_DECL ~ConflictError() override;
};

/// A failure reported by the database engine. `code()` is SQLite's extended result code, or on
/// PostgreSQL its SQLSTATE, packed (loom::sqlstate(code()) spells it: "23505").
class DatabaseError : public Error {
public:
    DatabaseError(const std::string& what, int code);
    LOOM_DECL ~DatabaseError() override;
    int code() const noexcept { return code_; }

private:
    int code_;
};

/// A UNIQUE, PRIMARY KEY, FOREIGN KEY, NOT NULL or CHECK constraint was violated.
/// The message names the table, the constraint and the statement that failed.
class ConstraintError : public DatabaseError {
public:
    enum class Kind { unique, primary_key, foreign_key, not_null, check, other };
    ConstraintError(const std::string& what, int code, Kind kind);
    LOOM_DECL ~ConstraintError() override;
    Kind kind() const noexcept { return kind_; }

private:
    Kind kind_;
};

/// The database stayed locked past the busy timeout (SQLITE_BUSY / SQLITE_LOCKED); on
/// PostgreSQL also a serialization failure (40001), a deadlock (40P01), a lock not available
/// (55P03) or a statement timeout (57014): retry the transaction.
class BusyError : public DatabaseError {
    using DatabaseError::DatabaseError;

public:
    LOOM_DECL ~BusyError() override;
};
/// The connection to a database server was lost or refused (PostgreSQL SQLSTATE class 08, a
/// server shut down or restarted). Whatever the open transaction wrote is rolled back by the
/// server; the Database connects again at its next statement outside a transaction: start the
/// work again.
class ConnectionError : public DatabaseError {
    using DatabaseError::DatabaseError;

public:
    LOOM_DECL ~ConnectionError() override;
};
/// A write was attempted on a read-only database file or connection.
class ReadOnlyError : public DatabaseError {
    using DatabaseError::DatabaseError;

public:
    LOOM_DECL ~ReadOnlyError() override;
};
/// The file is not a SQLite database, or it is damaged beyond reading.
class NotADatabaseError : public DatabaseError {
    using DatabaseError::DatabaseError;

public:
    LOOM_DECL ~NotADatabaseError() override;
};
/// The database file could not be opened (missing directory, no permission).
class CantOpenError : public DatabaseError {
    using DatabaseError::DatabaseError;

public:
    LOOM_DECL ~CantOpenError() override;
};
/// An I/O failure underneath SQLite: disk full, read or write error.
class IoError : public DatabaseError {
    using DatabaseError::DatabaseError;

public:
    LOOM_DECL ~IoError() override;
};

/// The database engine ended the open transaction by itself after an error: SQLite rolls the
/// whole transaction back on a full disk (and on some I/O, out-of-memory, interrupt and busy
/// errors), even when that error is caught. Nothing written in the transaction persists. Every
/// later statement through the Database, and every commit(), throws this until the outermost
/// Transaction (or db.transaction) has ended; then start the work again. `code()` is the code of
/// the error that ended the transaction.
class TransactionAborted : public DatabaseError {
    using DatabaseError::DatabaseError;

public:
    LOOM_DECL ~TransactionAborted() override;
};

/// A stored value does not fit the member it is read into (NULL into a non-optional member,
/// TEXT into an integer, an integer out of range). Names model, field and row key.
class DataError : public Error {
    using Error::Error;

public:
    LOOM_DECL ~DataError() override;
};

/// `get()` found no row.
class DoesNotExist : public Error {
    using Error::Error;

public:
    LOOM_DECL ~DoesNotExist() override;
};

/// `get()` found more than one row.
class MultipleObjectsReturned : public Error {
    using Error::Error;

public:
    LOOM_DECL ~MultipleObjectsReturned() override;
};

/// A relation was read that was neither prefetched nor loaded. loom never runs a hidden
/// query: the message names the relation and the call that would load it.
class NotLoaded : public Error {
    using Error::Error;

public:
    LOOM_DECL ~NotLoaded() override;
};

/// A query listener (Database::on_query, set_query_hook) threw after its statement had
/// succeeded. loom does not let an observer undo or misreport work that is done: it finished the
/// call first (keys set, transaction committed or still open as before) and reports the
/// listener's exception afterwards, wrapped in this. `listener_exception()` is the original.
/// (After a read, which changes nothing, the listener's exception propagates unchanged.)
class ListenerError : public Error {
public:
    ListenerError(const std::string& what, std::exception_ptr original);
    LOOM_DECL ~ListenerError() override;
    const std::exception_ptr& listener_exception() const noexcept { return original_; }

private:
    std::exception_ptr original_;
};

/// The API was used in a way that cannot work (a filter after a slice, negative slice bounds,
/// two different querysets for one prefetch path, one Database used by two threads at once...).
class UsageError : public Error {
    using Error::Error;

public:
    LOOM_DECL ~UsageError() override;
};

/// The live database schema differs from the models (db.check_schema<Models...>()). what()
/// lists every difference, one a line; differences() has them one by one.
class SchemaError : public Error {
public:
    SchemaError(const std::string& what, std::vector<std::string> differences);
    LOOM_DECL ~SchemaError() override;
    const std::vector<std::string>& differences() const noexcept { return differences_; }

private:
    std::vector<std::string> differences_;
};

/// A migration failed and was rolled back (the database is as it was before it), or the
/// migration history in the database does not match the program's list of migrations.
/// migration() names the migration concerned (empty when the history as a whole is at fault).
class MigrationError : public Error {
public:
    MigrationError(const std::string& what, std::string migration);
    LOOM_DECL ~MigrationError() override;
    const std::string& migration() const noexcept { return migration_; }

private:
    std::string migration_;
};

/// The five-character SQLSTATE of a PostgreSQL error's code() ("23505"); empty for a code that
/// is not one (a SQLite result code).
///
///     catch (const loom::DatabaseError& e) { if (loom::sqlstate(e.code()) == "40001") retry(); }
LOOM_DECL std::string sqlstate(int code);

}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/errors.hpp"
#endif
