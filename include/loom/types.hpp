// loom/types.hpp - the values loom binds and reads: loom::Blob (binary data), loom::Value (one
// bound parameter as a query listener sees it) and loom::SqlText (SQL with its parameters).
// Member types loom maps to columns: bool, every integer type, enums (stored as integers),
// float/double, std::string, loom::Blob, std::optional of those, the std::chrono types of
// <loom/chrono.hpp>, and any type T with a loom::column_type<T> specialization (below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "detail/config.hpp"

namespace loom {

/// Binary data, stored as a BLOB.
using Blob = std::vector<std::byte>;

/// A bound parameter: NULL, integer, real, text or blob.
using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string, Blob>;

/// What a column holds beyond its storage class, for the engine's DDL type (a Dialect
/// decision: SQLite declares all of them TEXT; PostgreSQL may use timestamptz, date, jsonb).
enum class column_kind { plain, timestamp, date, json };

/// The customization point for member types loom does not know: specialize it to store a
/// type T in one of the four storage types (std::int64_t, double, std::string, loom::Blob).
///
///     template <> struct loom::column_type<UserId> {
///         using storage = std::int64_t;
///         static std::int64_t to_storage(const UserId& v) { return v.value; }
///         static UserId from_storage(std::int64_t s) { return UserId{s}; }
///     };
///
/// `from_storage` may throw (any std::exception) when a stored value does not fit: loom reports
/// it as a loom::DataError naming the table, column and row, with the exception's text as the
/// reason. `to_storage` may throw loom::DataError for a value that cannot be stored.
/// Optionally `static constexpr loom::column_kind kind = ...;` (default plain). Filters on
/// such a column take values of T (`loom::col(&User::id) == UserId{7}`); ordering and IN
/// lists follow the storage type's order. The specialization must be visible wherever the
/// model is used (put it beside T).
template <class T> struct column_type;

/// SQL text and its parameters, in order (what QuerySet::sql() returns).
struct SqlText {
    std::string sql;
    std::vector<Value> params;
    /// The same text and the same parameters (compiled once: comparing the parameters
    /// instantiates std::variant's comparison).
    friend bool operator==(const SqlText& a, const SqlText& b);
};

/// One row of a raw query whose shape is known only at run time:
/// `db.query<loom::ResultRow>("PRAGMA table_info(book)")`. Cells by position or by column name.
class ResultRow {
public:
    ResultRow() = default;
    ResultRow(std::shared_ptr<const std::vector<std::string>> names, std::vector<Value> values)
        : names_(std::move(names)), values_(std::move(values)) {}

    std::size_t size() const noexcept { return values_.size(); }
    const Value& operator[](std::size_t i) const { return values_.at(i); }
    /// The cell of column `name` (the first one so named); std::out_of_range when none.
    const Value& operator[](std::string_view name) const;
    /// The column names, in order.
    const std::vector<std::string>& names() const noexcept;
    const std::vector<Value>& values() const noexcept { return values_; }

private:
    std::shared_ptr<const std::vector<std::string>> names_;
    std::vector<Value> values_;
};

}  // namespace loom

// Not std::vector<loom::Value>: Value and Blob name standard types only (detail/config.hpp).
LOOM_EXTERN_TEMPLATE(class std::vector<loom::SqlText>);

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/types.hpp"
#endif
