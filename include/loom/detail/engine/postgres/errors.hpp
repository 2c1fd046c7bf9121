// PostgreSQL SQLSTATEs mapped to loom's typed errors, with messages shaped as SQLite's are:
// the server's words, then what ran, then what to do.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <string_view>

#include "../../../errors.hpp"

namespace loom::detail::postgres {

/// The SQLSTATE packed into an int (six bits a character, bit 30 set), as DatabaseError::code()
/// carries it; loom::sqlstate() spells it back.
inline int pack_sqlstate(std::string_view s) noexcept {
    int code = 1 << 30;
    for (std::size_t i = 0; i < 5 && i < s.size(); ++i)
        code |= ((static_cast<int>(s[i]) - '0') & 0x3f) << (6 * static_cast<int>(i));
    return code;
}

/// Throws the typed error for a failed result (`res` may be null: the connection's message).
[[noreturn]] inline void throw_error(PGconn* conn, const PGresult* res, std::string_view context) {
    std::string state;
    std::string msg;
    if (res) {
        if (const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) state = s;
        if (const char* m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)) msg = m;
        if (const char* d = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL)) {
            msg += ": ";
            msg += d;
        }
    }
    if (msg.empty()) {
        msg = conn ? PQerrorMessage(conn) : "out of memory";
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    }
    if (state.empty() && conn && PQstatus(conn) == CONNECTION_BAD) state = "08006";
    if (!context.empty()) {
        msg += " (";
        msg += context;
        msg += ")";
    }
    const int code = state.empty() ? pack_sqlstate("XX000") : pack_sqlstate(state);
    using K = ConstraintError::Kind;
    const std::string_view st = state;
    if (st == "23505") {
        // A primary key is a unique index too; PostgreSQL names it <table>_pkey.
        const char* c = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : nullptr;
        const bool pk = c && std::string_view(c).ends_with("_pkey");
        throw ConstraintError(msg, code, pk ? K::primary_key : K::unique);
    }
    if (st == "23503") throw ConstraintError(msg, code, K::foreign_key);
    if (st == "23502") throw ConstraintError(msg, code, K::not_null);
    if (st == "23514") throw ConstraintError(msg, code, K::check);
    if (st.starts_with("23")) throw ConstraintError(msg, code, K::other);
    if (st == "40001")
        throw BusyError(msg +
                            ": another transaction wrote the same rows concurrently; roll back "
                            "and run the whole transaction again",
                        code);
    if (st == "40P01")
        throw BusyError(msg +
                            ": two transactions waited for each other's locks and the server "
                            "cancelled this one; roll back and run the whole transaction again "
                            "(taking locks in one order everywhere avoids it)",
                        code);
    if (st == "55P03")
        throw BusyError(msg +
                            ": the statement waited for a lock past lock_timeout "
                            "(Options::busy_timeout_ms); retry later or raise the limit",
                        code);
    if (st == "57014")
        throw BusyError(msg +
                            ": the statement ran past statement_timeout "
                            "(Options::statement_timeout_ms) or was cancelled; nothing it did "
                            "stands; make it cheaper, or raise the limit",
                        code);
    if (st == "25006")
        throw ReadOnlyError(msg +
                                ": the transaction or server is read-only (a hot standby, or "
                                "default_transaction_read_only); send writes to the primary",
                            code);
    if (st == "25P02")
        throw TransactionAborted(msg +
                                     ": an earlier statement of this transaction failed, and "
                                     "PostgreSQL ignores everything until it is rolled back; "
                                     "end the transaction, or run the statement that may fail in "
                                     "a nested loom::Transaction (a savepoint)",
                                 code);
    if (st.starts_with("08") || st == "57P01" || st == "57P02" || st == "57P03")
        throw ConnectionError(msg +
                                  ": the connection to the server was lost; what the open "
                                  "transaction wrote is rolled back (a statement outside a "
                                  "transaction may or may not have been committed); loom "
                                  "connects again at the next statement outside a transaction: "
                                  "run the work again",
                              code);
    // Class 22, data exception: a value malformed for its column's type ('abc' for an integer,
    // February 30th, a too-long varchar, invalid JSON): what SQLite's own checks raise too.
    if (st.starts_with("22"))
        throw DataError(msg +
                        ": the server refused a value as malformed or out of range for its "
                        "column's type (SQLSTATE " +
                        state + "); the statement wrote nothing");
    if (st == "53100") throw IoError(msg + ": the server's disk is full", code);
    if (st.starts_with("58")) throw IoError(msg, code);
    if (st == "3D000" || st == "28000" || st == "28P01") throw CantOpenError(msg, code);
    throw DatabaseError(msg, code);
}

}  // namespace loom::detail::postgres
