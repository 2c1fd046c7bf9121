// Binder: binds a statement's parameters in order, and records them as Values for query
// listeners when someone listens.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "column.hpp"
#include "config.hpp"

namespace loom::detail {

class Binder {
public:
    Binder(Statement& s, std::vector<Value>* record) : stmt_(s), record_(record) {}
    /// Records every value bound from now on in `out` (for the query listeners).
    void record(std::vector<Value>* out) noexcept { record_ = out; }

    /// A member value, bound as its column type binds it.
    template <class V> void operator()(const V& v) {
        ++index_;
        column_traits<V>::bind(stmt_, index_, v);
        if (record_) record(column_traits<V>::value(v));
    }
    void value(const Value& v) {
        ++index_;
        bind_value(stmt_, index_, v);
        if (record_) record(v);
    }
    /// A key: std::int64_t keys bind as integers, others as their column type binds them.
    void key(std::int64_t k) { integer(k); }
    template <class K> void key(const K& k) { (*this)(k); }
    template <class K> void key(const std::optional<K>& k) {
        if (k)
            key(*k);
        else
            value(Value{nullptr});
    }
    void integer(std::int64_t v) {
        ++index_;
        stmt_.bind_int(index_, v);
        if (record_) record(Value(v));
    }

private:
    /// Appends to the recorded values (out of line: each caller carries a call, not
    /// std::vector<Value>'s growth and std::variant's copy and move).
    void record(const Value& v);
    void record(Value&& v);

    Statement& stmt_;
    std::vector<Value>* record_;
    int index_ = 0;
};

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/binder.hpp"
#endif
