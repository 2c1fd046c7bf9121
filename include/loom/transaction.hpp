// loom/transaction.hpp - transactions: an RAII guard that rolls back unless committed, and
// db.transaction(fn). Opened inside another transaction, both become savepoints, so an inner
// failure undoes only the inner work.
//
//     db.transaction([&] { db.insert(a); db.insert(b); });   // both or neither
//
//     loom::Transaction tx(db);
//     db.insert(a);
//     tx.commit();                                          // without this: rolled back
#pragma once

#include <type_traits>
#include <utility>

#include "database.hpp"

namespace loom {

/// A transaction (or a savepoint, when one is already open) that rolls back when destroyed
/// before commit() or rollback().
class Transaction {
public:
    explicit Transaction(Database& db) : db_(db), depth_(db.depth_ + 1) { db.begin(); }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() {
        if (!done_) db_.rollback_noexcept();
    }

    /// Makes the work permanent (or, for a savepoint, part of the enclosing transaction).
    void commit() {
        check("commit");
        db_.commit();
        done_ = true;
    }
    /// Undoes the work now.
    void rollback() {
        check("rollback");
        done_ = true;
        db_.rollback();
    }
    bool active() const noexcept { return !done_; }

private:
    void check(const char* what) const {
        if (done_) throw UsageError(std::string(what) + ": this transaction already ended");
        if (db_.depth_ != depth_)
            throw UsageError(std::string(what) +
                             ": a nested transaction is still open; end it first");
    }
    Database& db_;
    int depth_;
    bool done_ = false;
};

template <class Fn>
decltype(auto) Database::transaction(Fn&& fn) {
    Transaction tx(*this);
    if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
        std::forward<Fn>(fn)();
        tx.commit();
    } else {
        decltype(auto) r = std::forward<Fn>(fn)();
        tx.commit();
        return r;
    }
}

}  // namespace loom
