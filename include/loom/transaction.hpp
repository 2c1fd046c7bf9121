// loom/transaction.hpp - loom::Transaction, an RAII guard that rolls back unless committed
// (db.transaction(fn), in database.hpp, is the same as a function). Opened inside another
// transaction, both become savepoints, so an inner failure undoes only the inner work.
//
//     db.transaction([&] { db.insert(a); db.insert(b); });   // both or neither
//
//     loom::Transaction tx(db);
//     db.insert(a);
//     tx.commit();                                          // without this: rolled back
#pragma once

#include "database.hpp"
#include "detail/config.hpp"
#include "detail/session.hpp"

namespace loom {

/// A transaction (or a savepoint, when one is already open) that rolls back when destroyed
/// before commit() or rollback().
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();

    /// Makes the work permanent (or, for a savepoint, part of the enclosing transaction).
    /// Throws UsageError when the transaction already ended or a nested one is still open, and
    /// TransactionAborted when the database already rolled it back by itself (a full disk):
    /// nothing of it persists.
    void commit();
    /// Undoes the work now (quietly when the database already rolled it back).
    void rollback();
    bool active() const noexcept { return scope_.active(); }

private:
    detail::Session::TransactionScope scope_;
};

}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/transaction.hpp"
#endif
