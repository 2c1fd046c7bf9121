// The engine seam: what loom needs from a database engine, and nothing more. The session,
// the SQL builder and the prefetch engine talk only to these types; everything specific to one
// engine (its C API, error codes, DDL types, pragmas, how it binds a list of keys) lives in
// its own folder beside this file (engine/sqlite/).
//
// SQL reaches an engine with `?` placeholders, in order; an engine whose native placeholders
// differ rewrites them when it prepares the statement (loom never puts a value in SQL text,
// so every `?` outside a quoted identifier is a placeholder).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../config.hpp"
#include "../std_light.hpp"  // std::chrono clocks, not <chrono>'s calendars and iostreams

namespace loom::detail::engine {

/// The storage class of one result cell.
enum class Cell { null, integer, real, text, blob };

/// One result cell read with one call: its storage class and its value. `integer` is set for
/// Cell::integer, `real` for Cell::real and Cell::integer (converted as the engine converts),
/// `bytes` for Cell::text and Cell::blob (valid until the statement steps or resets).
struct CellValue {
    Cell type = Cell::null;
    std::int64_t integer = 0;
    double real = 0;
    std::string_view bytes;
};

/// One prepared statement. Binding indexes are 1-based, column indexes 0-based.
class Statement {
public:
    Statement() = default;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    virtual ~Statement() = default;

    virtual const std::string& sql() const noexcept = 0;
    /// True when the statement cannot write (its changes() mean nothing).
    virtual bool read_only() const noexcept = 0;

    virtual void bind_null(int i) = 0;
    virtual void bind_int(int i, std::int64_t v) = 0;
    virtual void bind_double(int i, double v) = 0;
    virtual void bind_text(int i, std::string_view v) = 0;
    virtual void bind_blob(int i, std::span<const std::byte> v) = 0;

    /// Steps once; true when a row is available, false when done. Throws loom's typed errors.
    virtual bool step() = 0;
    /// Back to the start with no bindings, ready for reuse.
    virtual void reset() noexcept = 0;

    virtual int column_count() const noexcept = 0;
    virtual Cell column_type(int c) const noexcept = 0;
    /// The cell as an integer. A cell not stored as an INTEGER is a DataError, never
    /// converted: keys are read with it, and a REAL 1.5 key truncated to 1 would be another row's.
    virtual std::int64_t column_int(int c) const = 0;
    virtual double column_double(int c) const noexcept = 0;
    virtual std::string_view column_text(int c) const noexcept = 0;
    virtual std::span<const std::byte> column_blob(int c) const noexcept = 0;
    virtual std::string_view column_name(int c) const noexcept = 0;
    /// The cell's storage class and value in one call: what loom reads objects with (one
    /// virtual call and one type lookup per cell, where column_type + column_int made two
    /// of each, and column_int's own check a third lookup).
    virtual CellValue cell(int c) const noexcept = 0;

    bool is_null(int c) const noexcept { return column_type(c) == Cell::null; }
};

/// The text tests whose SQL differs between engines (Dialect::text_test writes them).
enum class TextTest {
    contains,
    starts_with,
    ends_with,
    iexact,
    icontains,
    istarts_with,
    iends_with
};

/// The case-insensitive LIKE test both engines write for icontains / istarts_with /
/// iends_with: `value` becomes its LIKE pattern (its own `%`, `_` and `\` escaped with `\`,
/// `%` added where the test is open) and `out` gets `LOWER(lhs) LIKE LOWER(?) ESCAPE '\'`.
LOOM_DECL void like_test(std::string_view lhs, std::string& value, bool lead, bool trail,
                         std::string& out);

/// What the value at a JSON path is compared with (Dialect::json_extract): bound text, a bound
/// number (integer, real or bool), or nothing known (IS NULL, a column, a result column).
enum class JsonUse { any, text, number };

/// The SQL an engine speaks where engines differ.
struct Dialect {
    std::string_view name;          // "sqlite"
    std::string_view integer_type;  // DDL type of each storage class
    std::string_view real_type;
    std::string_view text_type;
    std::string_view blob_type;
    std::string_view auto_primary_key;  // the whole column type of an auto-assigned int key
    /// DDL types of text columns that hold a UTC instant, a date, a JSON document (storage
    /// stays text: loom binds and reads ISO-8601 / JSON text on every engine). Empty: text_type.
    /// SQLite: TEXT for all three (a DATETIME declaration would give NUMERIC affinity).
    std::string_view timestamp_type = {};
    std::string_view date_type = {};
    std::string_view json_type = {};
    /// Appends to `out`, after a column, its test against every key of one parameter bound
    /// with Connection::key_array(): integer keys, or text keys when `text` (a key type whose
    /// storage is text: strings, UUIDs...). `negated`: the NOT IN test. SQLite:
    /// ` IN (SELECT value FROM json_each(?))`; PostgreSQL: ` = ANY(?::bigint[])`.
    void (*key_array_test)(bool text, bool negated, std::string& out) = nullptr;
    /// Prefix that makes a statement return its query plan, and the result column with the
    /// plan's text.
    std::string_view explain_prefix;
    int explain_column = 0;
    /// Appends to `out` the SQL testing the expression `lhs` (SQL) against `value`: contains,
    /// starts_with and ends_with match bytes exactly and case-sensitively (no wildcards); the
    /// i-tests fold case as the engine's LOWER() does. Returns true when the SQL has one `?`
    /// for `value`, which it may have rewritten (LIKE wildcards escaped, `%` added); false
    /// when the test needs no parameter.
    bool (*text_test)(TextTest test, std::string_view lhs, std::string& value,
                      std::string& out) = nullptr;
    /// True when the engine sorts NULL before every value (first ascending, last descending),
    /// as loom documents and chunks(n) assumes (SQLite); an engine that sorts NULL high
    /// (PostgreSQL) gets every order term's NULL placement spelled out.
    bool nulls_sort_low = true;
    /// True when an INSERT reads the key the database assigned with `RETURNING <key>`
    /// (PostgreSQL, which has no "last insert id"); false to ask Connection::last_insert_id()
    /// instead (SQLite: its rowid is the key of every table loom can insert into without a
    /// key, and RETURNING would add a result row to every insert for the same number).
    bool insert_returning = false;
    /// Appends to `out` the SQL reading the JSON value at `path` (from the root; each step is
    /// 'k' + an object key or 'i' + an array index in decimal) of the JSON document in `lhs`,
    /// as a scalar SQL value comparable with bound values of kind `with` (NULL when absent or
    /// JSON null; true and false are 1 and 0 when compared with numbers). Sets `param` to the
    /// value of its one `?` (the path, in the engine's form). SQLite: json_extract(lhs, ?) with
    /// a '$."key"[0]' path, whatever `with` is (its values are dynamically typed); PostgreSQL:
    /// the text at the path, or its number for JsonUse::number (one SQL type per expression).
    void (*json_extract)(std::string_view lhs, const std::vector<std::string>& path, JsonUse with,
                         std::string& param, std::string& out) = nullptr;
    /// True when every key list is one array parameter, however short (one statement shape;
    /// Options::json_keys_above is then ignored).
    bool key_arrays_always = false;
    /// The statement adding foreign key `definition` (`FOREIGN KEY (...) REFERENCES ...`) named
    /// `name` to `table` unless it has it, for a key that closes a cycle of tables; null when
    /// CREATE TABLE may name a table that does not exist yet (SQLite).
    std::string (*add_foreign_key)(std::string_view table, std::string_view name,
                                   std::string_view definition) = nullptr;
    /// True when drop_tables drops all its tables in one `DROP TABLE IF EXISTS a, b, ...`
    /// (PostgreSQL: tables dropped together may refer to one another, a cycle of foreign keys
    /// included, while a table another table refers to cannot be dropped alone); false: one
    /// statement a table, dependents first (SQLite, which has no such list).
    bool drop_tables_together = false;
    /// True when a `CASE ... THEN ? ...` must cast its values to the column's type (an engine
    /// that types parameters by their context, where a CASE of NULLs is text: PostgreSQL);
    /// bulk_update writes `THEN CAST(? AS bigint)` then.
    bool cast_case_values = false;
    /// The words of the engine's error for an `ON CONFLICT (columns)` that names no UNIQUE
    /// constraint (upserts turn it into a UsageError that says what to declare).
    std::string_view no_conflict_target = "ON CONFLICT clause does not match";
    /// What a UsageError for a Database used by two threads at once advises, in parentheses.
    std::string_view thread_advice =
        "open one on the same file in each thread; with Options{.wal = true} readers do not "
        "wait for the writer";
    /// Why an integer key column is left empty by an INSERT without it, and the column type that
    /// makes the engine fill it in (the DataError of an insert into such a table says both).
    std::string_view unfilled_key_why =
        "on SQLite only a column declared INTEGER PRIMARY KEY is; one declared INT PRIMARY KEY, "
        "say, is left NULL";
    std::string_view filled_key_type = "INTEGER PRIMARY KEY";
    /// True when `LIMIT NULL` means no limit and a negative LIMIT is an error (PostgreSQL);
    /// false: `LIMIT -1` (SQLite).
    bool limit_null_is_all = false;
};

/// `url` for messages: a connection URI's password (`user:secret@`, `password=secret`) becomes
/// `***`. A path without `://` is returned as it is.
LOOM_DECL std::string redacted_url(std::string url);

/// A connection to one database.
class Connection {
public:
    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    virtual ~Connection() = default;

    virtual const Dialect& dialect() const noexcept = 0;

    /// A new prepared statement (the session caches them).
    virtual std::unique_ptr<Statement> prepare(std::string_view sql) = 0;
    /// Runs SQL that takes no parameters and returns no rows.
    virtual void exec(const std::string& sql) = 0;
    /// Like exec, but never throws (cleanup paths); false on failure.
    virtual bool exec_noexcept(const char* sql) noexcept = 0;

    /// Rows written by the last INSERT, UPDATE or DELETE.
    virtual std::int64_t changes() const noexcept = 0;
    /// The key the last INSERT assigned.
    virtual std::int64_t last_insert_id() const noexcept = 0;
    /// True while a transaction is open on the connection (the engine may end one by itself,
    /// e.g. SQLite rolls back on a full disk).
    virtual bool in_transaction() const noexcept = 0;
    /// True once the connection to the server is gone (PostgreSQL: the server closed it, was
    /// restarted, or the backend was terminated). The session then opens a new connection
    /// before its next statement outside a transaction. An embedded engine never loses it.
    LOOM_DECL virtual bool lost() const noexcept;

    /// Throws the engine's typed error when the database file was deleted, renamed or replaced
    /// since it was opened, so that a write would be lost to anyone opening the path. Asked
    /// before a statement that writes outside a transaction, at BEGIN and at COMMIT;
    /// `context` is that statement.
    virtual void check_file_in_place(std::string_view context) = 0;
    /// Whether an INSERT that leaves out `key_column`, the primary key of `table`, gets a new
    /// integer key from the engine (the one last_insert_id() reports). False for a legacy
    /// SQLite table whose key is declared e.g. `INT PRIMARY KEY`, which SQLite leaves NULL.
    /// Asked once per table and connection; not a statement listeners see.
    virtual bool assigns_keys(std::string_view table, std::string_view key_column) = 0;
    /// Diagnostics for a delete refused by a foreign key: the tables and columns
    /// (`"book"."publisher_id"`) that still hold a row referring to key `key` of `table`, as far
    /// as the engine can tell (empty when it cannot). Not a statement listeners see.
    virtual std::vector<std::string> rows_referring_to(std::string_view table,
                                                       std::int64_t key) = 0;

    /// After an INSERT that gave `table` the key `key` itself: an engine whose key generator is
    /// separate from the table (a PostgreSQL identity sequence) moves it past `key`, so later
    /// inserts do not collide. Not a statement listeners see.
    LOOM_DECL virtual void explicit_key_inserted(std::string_view table,
                                                 std::string_view key_column, std::int64_t key);

    /// The SQL that opens a read-write transaction, and a read-only snapshot.
    virtual std::string_view begin_sql() const noexcept = 0;
    virtual std::string_view begin_snapshot_sql() const noexcept = 0;

    // ---- prefetch levels at the same time (Session::fetch_together) ---------------------------

    /// Another connection to the same database that only reads, on which prefetch levels run
    /// beside the main connection's (on other threads); null when this engine or database has
    /// none (SQLite ":memory:", whose data no other connection sees; PostgreSQL, which sends
    /// sibling levels in one pipeline on its one connection instead). Not a statement
    /// listeners see. `busy_timeout_ms`: how long its statements wait for a lock (0: a reader
    /// that cannot begin at once is not used, as begin_shared_snapshot wants; a chunk loaded
    /// ahead waits as long as the Database's own connection would).
    LOOM_DECL virtual std::unique_ptr<Connection> open_reader(int busy_timeout_ms);
    /// Opens a read transaction on this connection (in none now) and on the first of `readers`
    /// (readers this engine opened with open_reader(), in no transaction), all on ONE snapshot:
    /// no commit of another connection is seen by one and not by another. Returns how many of
    /// the readers are in it (the first ones; the others stay in no transaction) and, when
    /// fewer than all, says why in `why`. Throws (with nothing left open) only when this
    /// connection's own transaction cannot begin. The default opens this connection's
    /// snapshot alone.
    LOOM_DECL virtual std::size_t begin_shared_snapshot(std::span<Connection* const> readers,
                                                        std::string& why);

    /// The most parameters one statement may bind.
    virtual int variable_limit() const noexcept = 0;
    virtual void set_variable_limit(int n) = 0;

    /// Whether Dialect::key_array_test works on this connection (asked once; may probe).
    virtual bool supports_key_arrays() = 0;
    /// One parameter holding every key, for Dialect::key_array_test.
    virtual std::string key_array(std::span<const std::int64_t> keys) const = 0;
    /// One parameter holding every text key (each a std::string Value).
    virtual std::string key_array(std::span<const std::string> keys) const = 0;

    /// Times this connection sent work to a server and waited for its answer (statements,
    /// prepares, transaction control; a pipeline counts once). 0 for an embedded engine.
    LOOM_DECL virtual std::int64_t round_trips() const noexcept;

    /// Whether run_together() can send several statements in one round trip (PostgreSQL's
    /// pipeline mode). Session::fetch_together asks it before preparing a batch for it.
    LOOM_DECL virtual bool runs_together() const noexcept;
    /// Sends `statements` (prepared on this connection, bound, not started) in one round trip
    /// and receives their results, in order; afterwards each statement's step() reads its own
    /// result, or throws its own error (a statement after a failed one in the same batch
    /// throws that it did not run). `ready[i]` is when statement i's result had arrived.
    /// Returns false, having run nothing, when the engine cannot: the caller runs them one by
    /// one.
    LOOM_DECL virtual bool run_together(std::span<Statement* const> statements,
                                        std::span<std::chrono::steady_clock::time_point> ready);
};

}  // namespace loom::detail::engine

namespace loom::detail {
using Statement = engine::Statement;
}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/engine.hpp"
#endif
