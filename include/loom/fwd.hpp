// loom/fwd.hpp - forward declarations of loom's public types, for headers that only name them.
#pragma once

#include <cstdint>
#include <utility>

namespace loom {

class Database;
class Transaction;
template <class T> class QuerySet;
template <class T> class Chunks;
/// K: the type of T's primary key (std::int64_t unless T declares another key type).
template <class T, class K = std::int64_t> class ForeignKey;
template <class T, class K = std::int64_t> class OneToOne;
template <class T> class ManyToMany;
template <class T> class Reverse;
template <class T> class ReverseOne;
template <class T> struct model_of;

class Error;
class DatabaseError;
class ConstraintError;
class DataError;
class DoesNotExist;
class MultipleObjectsReturned;
class NotLoaded;
class UsageError;
class TransactionAborted;
class ListenerError;
class SchemaError;
class MigrationError;

namespace detail {
/// The one door from loom's machinery into the private parts of its public types (a
/// QuerySet's state, an expression's tokens, a prefetch path's node).
struct access {
    template <class X> static const auto& state(const X& x) noexcept { return x.state_; }
    template <class X> static Database& database(const X& x) noexcept { return *x.db_; }
    template <class X> static const auto& tokens(const X& x) noexcept { return x.tokens_; }
    template <class X> static const auto& spec(const X& x) noexcept { return x.spec_; }
    template <class X> static const auto& node(const X& x) noexcept { return *x.node_; }
    template <class X, class... A> static X make(A&&... a) { return X(std::forward<A>(a)...); }
};
}  // namespace detail

}  // namespace loom
