// loom/options.hpp - how a Database is opened (Options) and what a query listener sees
// (QueryEvent). Included by <loom/database.hpp>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "detail/std_light.hpp"
#include "types.hpp"

namespace loom {

/// How to open a database.
struct Options {
    /// How long a statement waits for a lock held by another connection before BusyError.
    int busy_timeout_ms = 5000;
    /// Switch the file to write-ahead logging (readers no longer block the writer).
    bool wal = false;
    /// Open read-only: every write throws ReadOnlyError.
    bool read_only = false;
    /// Create the file when it does not exist.
    bool create = true;
    /// Most keys in one prefetch IN list (0: the connection's variable limit).
    std::size_t batch_size = 0;
    /// A key list longer than this (a prefetch level's keys, or an in() filter's integers) is
    /// bound as one array parameter, on SQLite a JSON array read with
    /// `IN (SELECT value FROM json_each(?))`: one statement for any number of keys (no
    /// variable limit, no chunks), and a plan SQLite keeps on the key's index. Shorter lists
    /// go in `IN (?, ?, ...)`. SIZE_MAX: always parameter lists. Without SQLite's JSON
    /// functions (a build with SQLITE_OMIT_JSON) loom uses parameter lists whatever this says.
    std::size_t json_keys_above = 512;
    /// PostgreSQL: the longest a statement may run, in milliseconds (the connection's
    /// statement_timeout); a statement cancelled by it is a BusyError (SQLSTATE 57014) and
    /// changes nothing. 0: no limit. SQLite runs in the program's own thread and ignores it.
    int statement_timeout_ms = 0;
    /// Prepared statements kept for reuse.
    std::size_t statement_cache = 256;
    /// Extra read-only connections (each with a thread) on which prefetch levels that depend
    /// only on rows already loaded run at the same time as each other, on the snapshot of the
    /// base query (docs/prefetch.md). Opened when first needed, then reused; SQLite files only
    /// (":memory:" runs every level on the one connection). 0: every level runs on the
    /// Database's connection, one after another. The default, 1, is the calling thread and one
    /// worker: the fastest on a 2-core machine (docs/performance.md); more pay off with more
    /// cores and more sibling levels.
    std::size_t prefetch_workers = 1;
};

/// What a query listener sees for every statement loom runs.
struct QueryEvent {
    std::string_view sql;
    std::span<const Value> params;
    std::chrono::nanoseconds duration{};
    std::int64_t rows = 0;     // rows returned
    std::int64_t changes = 0;  // rows written (INSERT/UPDATE/DELETE)
    /// The engine's word that the statement cannot write (SELECT, EXPLAIN, a PRAGMA query,
    /// and transaction control: BEGIN, COMMIT...).
    bool read_only = false;
    std::string_view origin;  // "Book" (a QuerySet), "prefetch Book::authors", "insert"...
    std::string_view error;   // the error message when the statement failed
    /// Statements sharing a non-zero scope were issued by one evaluation step (the base query
    /// of a QuerySet, or every chunk of one prefetch level); 0 outside any such step.
    std::uint64_t scope = 0;
    /// The server that ran the statement: "primary" (the Database's own connection), or the
    /// name a read replica was given (Database::add_replica).
    std::string_view server = "primary";
    /// When the statement began. A statement run on a worker connection (a prefetch level
    /// run beside others) is reported after its batch of levels ended, on the thread that
    /// evaluated the QuerySet, in the order the levels were planned: its start shows when it
    /// really ran.
    std::chrono::steady_clock::time_point start{};
    /// 0: the Database's own connection; 1, 2...: the worker connection that ran it
    /// (Options::prefetch_workers); prefetch_workers + 1 (and up): the connection a chunk of
    /// chunks(n, loom::ahead) was loaded ahead on (and its own workers).
    int connection = 0;
    /// For a prefetch level that ran one after another with others it could have run beside:
    /// why it did not run at the same time ("inside a transaction"...); for the base query of
    /// a chunk of chunks(n, loom::ahead) loaded on the caller's thread: why it was not loaded
    /// ahead ("chunk not loaded ahead: ..."); empty otherwise.
    std::string_view serial;
};

using QueryListener = std::function<void(const QueryEvent&)>;

}  // namespace loom
