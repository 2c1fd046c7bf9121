// How member types map to columns: storage class, binding, reading back with a reason when
// the stored value does not fit, and which C++ values compare with a column of each type.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "../errors.hpp"
#include "../types.hpp"
#include "config.hpp"
#include "engine/engine.hpp"

namespace loom {
namespace detail {

/// The storage class a member type maps to; each engine's dialect names its DDL type.
enum class Storage { integer, real, text, blob };

LOOM_DECL std::string_view ddl_type(const engine::Dialect& d, Storage s);

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct strip_opt { using type = T; };
template <class T> struct strip_opt<std::optional<T>> { using type = T; };

template <class T, bool = std::is_enum_v<T>> struct integer_repr { using type = T; };
template <class T> struct integer_repr<T, true> { using type = std::underlying_type_t<T>; };

/// T has a loom::column_type<T> specialization (a user adapter, or loom's own for std::chrono
/// and nlohmann::json).
template <class T>
concept adapted = requires {
    typename ::loom::column_type<T>::storage;
};

template <class T>
concept integer_like = ((std::integral<T> && !std::same_as<T, bool>) ||
                        std::is_enum_v<T>)&&!adapted<T>;

/// How one member type maps to a column: its SQL type, how it binds and how it reads back.
/// `read` returns nullptr on success, or a short reason the stored value does not fit.
template <class T> struct column_traits;

template <> struct column_traits<bool> {
    static constexpr Storage storage = Storage::integer;
    static constexpr bool nullable = false;
    static void bind(Statement& s, int i, bool v) { s.bind_int(i, v ? 1 : 0); }
    static Value value(bool v) { return std::int64_t{v}; }
    static const char* read(const engine::CellValue& cell, bool& out) {
        if (cell.type != engine::Cell::integer) return "expected INTEGER 0 or 1";
        const auto v = cell.integer;
        if (v != 0 && v != 1) return "expected INTEGER 0 or 1";
        out = v == 1;
        return nullptr;
    }
};

template <integer_like T> struct column_traits<T> {
    static constexpr Storage storage = Storage::integer;
    static constexpr bool nullable = false;
    static std::int64_t to_int(T v) {
        return static_cast<std::int64_t>(static_cast<typename integer_repr<T>::type>(v));
    }
    static void bind(Statement& s, int i, T v) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= 8) {
            if (v > static_cast<T>(std::numeric_limits<std::int64_t>::max()))
                throw DataError("value " + std::to_string(v) +
                                " does not fit in SQLite's 64-bit signed INTEGER");
        }
        s.bind_int(i, to_int(v));
    }
    static Value value(T v) { return to_int(v); }
    static const char* read(const engine::CellValue& cell, T& out) {
        if (cell.type != engine::Cell::integer) return "expected INTEGER";
        const std::int64_t v = cell.integer;
        using U = typename integer_repr<T>::type;
        if constexpr (std::is_signed_v<U>) {
            if (v < std::numeric_limits<U>::min() || v > std::numeric_limits<U>::max())
                return "integer out of range for the member's type";
        } else {
            if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<U>::max())
                return "integer out of range for the member's type";
        }
        out = static_cast<T>(static_cast<U>(v));
        return nullptr;
    }
};

template <std::floating_point T> struct column_traits<T> {
    static constexpr Storage storage = Storage::real;
    static constexpr bool nullable = false;
    static void bind(Statement& s, int i, T v) {
        // SQLite binds a NaN as NULL: refuse it rather than lose the value silently, and on
        // every engine, so that a model stores the same values everywhere.
        if (v != v)
            throw DataError(
                "NaN cannot be stored: loom refuses it on every engine (SQLite would store it as "
                "NULL)");
        s.bind_double(i, static_cast<double>(v));
    }
    static Value value(T v) { return static_cast<double>(v); }
    static const char* read(const engine::CellValue& cell, T& out) {
        if (cell.type != engine::Cell::real && cell.type != engine::Cell::integer)
            return "expected REAL";
        const double v = cell.real;
        if constexpr (sizeof(T) < sizeof(double)) {
            // 1e300 would become inf in a float: a different value, not a rounding.
            constexpr double most = std::numeric_limits<T>::max();
            if (v - v == 0 && (v > most || v < -most))
                return "REAL out of range for the member's type (float)";
        }
        out = static_cast<T>(v);
        return nullptr;
    }
};

template <> struct column_traits<std::string> {
    static constexpr Storage storage = Storage::text;
    static constexpr bool nullable = false;
    static void bind(Statement& s, int i, std::string_view v) { s.bind_text(i, v); }
    static Value value(std::string_view v) { return std::string(v); }
    static const char* read(const engine::CellValue& cell, std::string& out) {
        if (cell.type != engine::Cell::text) return "expected TEXT";
        out.assign(cell.bytes);
        return nullptr;
    }
};

template <> struct column_traits<Blob> {
    static constexpr Storage storage = Storage::blob;
    static constexpr bool nullable = false;
    static void bind(Statement& s, int i, const Blob& v) { s.bind_blob(i, v); }
    static Value value(const Blob& v) { return v; }
    static const char* read(const engine::CellValue& cell, Blob& out) {
        if (cell.type != engine::Cell::blob) return "expected BLOB";
        const auto* p = reinterpret_cast<const std::byte*>(cell.bytes.data());
        out.assign(p, p + cell.bytes.size());
        return nullptr;
    }
};

/// The reason an adapter's from_storage gave (its exception's text), kept per thread for the caller
/// that builds the DataError from it right away.
LOOM_DECL const char* adapter_reason(const char* what);

template <class A> constexpr column_kind kind_of() {
    if constexpr (requires { A::kind; })
        return A::kind;
    else
        return column_kind::plain;
}

template <class S>
inline constexpr bool storage_type_v =
    std::is_same_v<S, std::int64_t> || std::is_same_v<S, double> ||
    std::is_same_v<S, std::string> || std::is_same_v<S, Blob>;

/// A user type through its loom::column_type<T> adapter.
template <adapted T> struct column_traits<T> {
    using A = ::loom::column_type<T>;
    using S = typename A::storage;
    static_assert(storage_type_v<S>,
                  "loom::column_type<T>::storage must be std::int64_t, double, std::string or "
                  "loom::Blob");
    static_assert(
        requires(const T& v) {
            { A::to_storage(v) } -> std::convertible_to<S>;
        },
        "loom::column_type<T> needs static storage to_storage(const T&)");
    static_assert(
        requires(S s) {
            { A::from_storage(std::move(s)) } -> std::convertible_to<T>;
        },
        "loom::column_type<T> needs static T from_storage(storage)");
    static constexpr Storage storage = column_traits<S>::storage;
    static constexpr bool nullable = false;
    static constexpr column_kind kind = kind_of<A>();
    static void bind(Statement& s, int i, const T& v) {
        column_traits<S>::bind(s, i, static_cast<S>(A::to_storage(v)));
    }
    static Value value(const T& v) { return column_traits<S>::value(A::to_storage(v)); }
    static const char* read(const engine::CellValue& cell, T& out) {
        S raw{};
        if (const char* err = column_traits<S>::read(cell, raw)) return err;
        try {
            out = A::from_storage(std::move(raw));
        } catch (const std::exception& e) {
            return adapter_reason(e.what());
        }
        return nullptr;
    }
};

template <class T> constexpr column_kind column_kind_of() {
    if constexpr (requires { column_traits<T>::kind; })
        return column_traits<T>::kind;
    else
        return column_kind::plain;
}

template <class T> struct column_traits<std::optional<T>> {
    static constexpr Storage storage = column_traits<T>::storage;
    static constexpr bool nullable = true;
    static constexpr column_kind kind = column_kind_of<T>();
    static void bind(Statement& s, int i, const std::optional<T>& v) {
        if (v)
            column_traits<T>::bind(s, i, *v);
        else
            s.bind_null(i);
    }
    static Value value(const std::optional<T>& v) {
        return v ? column_traits<T>::value(*v) : Value{nullptr};
    }
    static const char* read(const engine::CellValue& cell, std::optional<T>& out) {
        if (cell.type == engine::Cell::null) {
            out.reset();
            return nullptr;
        }
        T v{};
        if (auto err = column_traits<T>::read(cell, v)) return err;
        out = std::move(v);
        return nullptr;
    }
};

template <class T>
concept column_type = requires {
    column_traits<T>::storage;
};

/// Reading NULL into a non-optional member is reported with its own reason.
/// (Every non-nullable read rejects NULL, so NULL is told apart only on failure: one type
/// check per column on the hot path, not two.)
template <class T> const char* read_column(const engine::CellValue& cell, T& out) {
    const char* err = column_traits<T>::read(cell, out);
    if constexpr (!column_traits<T>::nullable) {
        if (err && cell.type == engine::Cell::null)
            return "NULL read into a non-optional member (declare it std::optional)";
    }
    return err;
}

/// Reads result column `c` of `s` into `out` (one call to the engine per cell).
template <class T> const char* read_column(const Statement& s, int c, T& out) {
    return read_column(s.cell(c), out);
}

LOOM_DECL std::string describe_stored(const Statement& s, int c);

/// What a JSON key path (`col(&User::settings).json("theme")`) holds: a JSON scalar, compared
/// with strings, numbers and bool.
struct json_scalar {};

// Which C++ values may be compared with / assigned to a column of type Col. Wrong categories
// (a string against an integer column) do not compile.
template <class Col> struct value_category { using type = Col; };
template <class Col> struct value_category<std::optional<Col>> : value_category<Col> {};

template <class Col, class V> constexpr bool accepts_value() {
    using C = typename value_category<Col>::type;
    using U = std::remove_cvref_t<V>;
    if constexpr (std::same_as<C, bool>)
        return std::same_as<U, bool>;
    else if constexpr (std::is_enum_v<C>)
        return std::same_as<U, C>;
    else if constexpr (std::integral<C>)
        return std::integral<U> && !std::same_as<U, bool>;
    else if constexpr (std::floating_point<C>)
        return (std::integral<U> && !std::same_as<U, bool>) || std::floating_point<U>;
    else if constexpr (std::same_as<C, std::string>)
        return std::convertible_to<const U&, std::string_view>;
    else if constexpr (std::same_as<C, Blob>)
        return std::same_as<U, Blob>;
    else if constexpr (std::same_as<C, json_scalar>)
        return std::convertible_to<const U&, std::string_view> || std::integral<U> ||
               std::floating_point<U>;
    else if constexpr (adapted<C>)
        return std::convertible_to<const U&, C>;
    else
        return false;
}

/// `value_for<Col> U` (or value_for<U, Col>): U can be compared with / stored in a Col column.
template <class V, class Col>
concept value_for = accepts_value<Col, V>();

inline constexpr const char* nan_in_filter =
    "NaN cannot be compared or stored: loom refuses it on every engine (SQLite binds it as NULL, "
    "so a filter on it would match as NULL does: exclude(col == NaN) would keep every row); test "
    "with is_null(), or check the value first (std::isnan)";

/// The bound Value for a C++ value compared with a column of type Col.
template <class Col, class V> Value to_value(const V& v) {
    using C = typename value_category<Col>::type;
    using U = std::remove_cvref_t<V>;
    if constexpr (adapted<C>)
        return column_traits<C>::value(static_cast<const C&>(v));
    else if constexpr (std::same_as<C, json_scalar>) {
        if constexpr (std::convertible_to<const U&, std::string_view>)
            return std::string(std::string_view(v));
        else if constexpr (std::floating_point<U>)
            return to_value<double>(v);
        else
            return to_value<std::int64_t>(v);
    } else if constexpr (std::same_as<C, std::string>)
        return std::string(std::string_view(v));
    else if constexpr (std::floating_point<C>) {
        const double d = static_cast<double>(v);
        if (d != d) throw DataError(nan_in_filter);
        return d;
    } else if constexpr (std::is_enum_v<U>)
        return column_traits<U>::value(v);
    else if constexpr (std::same_as<U, bool>)
        return std::int64_t{v};
    else if constexpr (std::integral<U>) {
        if constexpr (std::is_unsigned_v<U> && sizeof(U) >= 8) {
            if (v > static_cast<U>(std::numeric_limits<std::int64_t>::max()))
                throw DataError("value " + std::to_string(v) +
                                " does not fit in SQLite's 64-bit signed INTEGER");
        }
        return static_cast<std::int64_t>(v);
    } else
        return v;
}

/// A result cell as a Value.
inline Value cell_value(const Statement& s, int c) {
    switch (s.column_type(c)) {
    case engine::Cell::null:
        return nullptr;
    case engine::Cell::integer:
        return s.column_int(c);
    case engine::Cell::real:
        return s.column_double(c);
    case engine::Cell::text:
        return std::string(s.column_text(c));
    default: {
        const auto b = s.column_blob(c);
        return Blob(b.begin(), b.end());
    }
    }
}

inline void bind_value(Statement& s, int i, const Value& v) {
    switch (v.index()) {
    case 0:
        s.bind_null(i);
        break;
    case 1:
        s.bind_int(i, std::get<1>(v));
        break;
    case 2:
        if (std::get<2>(v) != std::get<2>(v)) throw DataError(nan_in_filter);
        s.bind_double(i, std::get<2>(v));
        break;
    case 3:
        s.bind_text(i, std::get<3>(v));
        break;
    default:
        s.bind_blob(i, std::get<4>(v));
        break;
    }
}

}  // namespace detail
}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/column.hpp"
#endif
