// The definitions of transaction.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom {

LOOM_DECL Transaction::Transaction(Database& db) : scope_(detail::session_of(db)) {}

LOOM_DECL Transaction::~Transaction() = default;

LOOM_DECL void Transaction::commit() {
    scope_.commit();
}

LOOM_DECL void Transaction::rollback() {
    scope_.rollback();
}

}  // namespace loom
