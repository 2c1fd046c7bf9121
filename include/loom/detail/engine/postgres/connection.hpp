// The PostgreSQL engine: statements and a connection over libpq. Nothing outside this folder
// (and <loom/postgres.hpp>, which opts in) includes <libpq-fe.h>.
//
// - `?` placeholders become `$1, $2...` when a statement is prepared (string literals, quoted
//   identifiers, dollar quotes and comments are skipped).
// - Statements are prepared once under a name (the Session caches them) for each set of bound
//   types: integers are sent as bigint, reals as double precision, blobs as bytea, text and
//   NULL as "unknown" (the server infers them from the column or function they meet).
//   Transaction control and DDL run unnamed.
// - Results arrive whole; cells are classed by their column's type. A prepared statement's first
//   result is in text format; when its columns are all integers, reals, booleans, text, bytea or
//   JSON, later runs ask for binary format (no number parsing, no bytea hex), else stay in text
//   (numeric, timestamptz, date, uuid... keep their text form, which loom's readers take).
//   Measured in docs/performance.md (PostgreSQL).
#pragma once

#include <libpq-fe.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../../options.hpp"
#include "../../excerpt.hpp"
#include "../../statement_kind.hpp"
#include "../engine.hpp"
#include "errors.hpp"

namespace loom::detail::postgres {

/// Byte-exact tests compare text with strpos / starts_with / right (no wildcards, case kept);
/// the i-tests use LOWER() and LIKE with `\` escaping the value's own `%`, `_` and `\`.
inline bool text_test(engine::TextTest test, std::string_view lhs, std::string& value,
                      std::string& out) {
    using engine::TextTest;
    const std::string col(lhs);
    auto like = [&](bool lead, bool trail) {
        engine::like_test(col, value, lead, trail, out);
        return true;
    };
    switch (test) {
    case TextTest::contains:
        out += "strpos(" + col + ", ?) > 0";
        return true;
    case TextTest::starts_with:
        if (value.empty()) {
            out += col + " IS NOT NULL";
            return false;
        }
        out += "starts_with(" + col + ", ?)";
        return true;
    case TextTest::ends_with: {
        if (value.empty()) {
            out += col + " IS NOT NULL";
            return false;
        }
        std::size_t chars = 0;  // right() counts characters: UTF-8 lead bytes
        for (unsigned char c : value)
            if ((c & 0xc0) != 0x80) ++chars;
        out += "right(" + col + ", " + std::to_string(chars) + ") = ?";
        return true;
    }
    case TextTest::iexact:
        out += "LOWER(" + col + ") = LOWER(?)";
        return true;
    case TextTest::icontains:
        return like(true, true);
    case TextTest::istarts_with:
        return like(false, true);
    case TextTest::iends_with:
        return like(true, false);
    }
    return false;
}

/// The JSON value at a path of a jsonb column, the path bound as one text[] parameter
/// (`{"limits","daily"}`; an array index is its decimal text, as `#>` takes it). PostgreSQL
/// types every expression, so the value is read as the kind it is compared with, as SQLite's
/// json_extract would compare it: compared with a number, a JSON number as numeric (true and
/// false as 1 and 0; other JSON types are NULL for that comparison); else its text (`#>>`: a
/// string unquoted, an array or object as JSON text, as json_extract gives them; NULL when
/// absent or JSON null).
inline void json_extract(std::string_view lhs, const std::vector<std::string>& path,
                         engine::JsonUse with, std::string& param, std::string& out) {
    param = "{";
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (i) param += ',';
        param += '"';
        for (std::size_t k = 1; k < path[i].size(); ++k) {
            const char c = path[i][k];
            if (c == '"' || c == '\\') param += '\\';
            param += c;
        }
        param += '"';
    }
    param += '}';
    switch (with) {
    case engine::JsonUse::number:
        out +=
            "(SELECT CASE jsonb_typeof(j) WHEN 'number' THEN j::numeric WHEN 'boolean' THEN "
            "j::boolean::int END FROM (SELECT ";
        out += lhs;
        out += " #> ?::text[]) s(j))";
        break;
    case engine::JsonUse::text:
    case engine::JsonUse::any:
        out += "(";
        out += lhs;
        out += " #>> ?::text[])";
        break;
    }
}

/// One array parameter: ` = ANY(?::bigint[])` (or text[]). Measured against
/// ` IN (SELECT unnest(?::bigint[]))` on 3,000 keys: 20-34 ms instead of 34-52 (the planner
/// knows the array's length; unnest's 200-row guess misleads it); docs/engines.md.
inline void key_array_test(bool text, bool negated, std::string& out) {
    out += negated ? " <> ALL(?::" : " = ANY(?::";
    out += text ? "text[])" : "bigint[])";
}

/// A foreign key added once both tables exist (CREATE TABLE cannot name a table not created
/// yet), unless the table has it: create_tables runs again with nothing to do.
inline std::string add_foreign_key(std::string_view table, std::string_view name,
                                   std::string_view definition) {
    auto literal = [](std::string_view v) {
        std::string out = "'";
        for (char c : v) {
            if (c == '\'') out += '\'';
            out += c;
        }
        return out + "'";
    };
    auto ident = [](std::string_view v) {
        std::string out = "\"";
        for (char c : v) {
            if (c == '"') out += '"';
            out += c;
        }
        return out + "\"";
    };
    return "DO $loom$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = "
           "to_regclass(" +
           literal(ident(table)) + ") AND conname = " + literal(name) + ") THEN ALTER TABLE " +
           ident(table) + " ADD CONSTRAINT " + ident(name) + " " + std::string(definition) +
           "; END IF; END $loom$";
}

inline constexpr engine::Dialect dialect{
    .name = "postgres",
    .integer_type = "bigint",
    .real_type = "double precision",
    .text_type = "text",
    .blob_type = "bytea",
    .auto_primary_key = "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    // Native types; the session's TimeZone is UTC and its DateStyle ISO (set on connect), so
    // the text loom binds is read as UTC and the text read back is ISO (`... 09:00:00.25+00`),
    // which loom's readers take.
    .timestamp_type = "timestamptz",
    .date_type = "date",
    .json_type = "jsonb",
    // One array parameter: one statement shape for any number of keys, no parameter limit.
    .key_array_test = &key_array_test,
    .explain_prefix = "EXPLAIN ",
    .explain_column = 0,
    .text_test = &text_test,
    .nulls_sort_low = false,
    .insert_returning = true,
    .json_extract = &json_extract,
    .key_arrays_always = true,
    .add_foreign_key = &add_foreign_key,
    .drop_tables_together = true,
    .cast_case_values = true,
    .no_conflict_target = "no unique or exclusion constraint matching the ON CONFLICT",
    .thread_advice = "open one Database, that is one server connection, in each thread",
    .unfilled_key_why =
        "on PostgreSQL a key column is filled in when it is an identity column or defaults to "
        "a sequence's nextval()",
    .filled_key_type = "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    .limit_null_is_all = true,
};

/// `?` -> `$n` outside literals, quoted identifiers and comments; `count` gets the number.
inline std::string number_placeholders(std::string_view sql, int& count) {
    std::string out;
    out.reserve(sql.size() + 16);
    count = 0;
    std::size_t i = 0;
    auto copy_until = [&](std::size_t end) {
        out.append(sql.substr(i, end - i));
        i = end;
    };
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == '\'' || c == '"') {
            // E'...' strings take backslash escapes.
            const bool escapes = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                                 (i < 2 || !is_sql_word_char(sql[i - 2]));
            std::size_t j = i + 1;
            while (j < sql.size()) {
                if (escapes && sql[j] == '\\') {
                    j += 2;
                    continue;
                }
                if (sql[j] == c) {
                    if (j + 1 < sql.size() && sql[j + 1] == c) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            copy_until(std::min(j + 1, sql.size()));
        } else if (sql.substr(i, 2) == "--") {
            const auto nl = sql.find('\n', i);
            copy_until(nl == std::string_view::npos ? sql.size() : nl);
        } else if (sql.substr(i, 2) == "/*") {
            const auto end = sql.find("*/", i + 2);
            copy_until(end == std::string_view::npos ? sql.size() : end + 2);
        } else if (c == '$' && (i == 0 || !is_sql_word_char(sql[i - 1]))) {
            // $tag$ ... $tag$ (a $1 placeholder written by hand is left alone)
            std::size_t j = i + 1;
            while (j < sql.size() && is_sql_word_char(sql[j]) && !(sql[j] >= '0' && sql[j] <= '9'))
                ++j;
            if (j < sql.size() && sql[j] == '$') {
                const std::string_view tag = sql.substr(i, j - i + 1);
                const auto end = sql.find(tag, j + 1);
                copy_until(end == std::string_view::npos ? sql.size() : end + tag.size());
            } else {
                out += c;
                ++i;
            }
        } else if (c == '?') {
            out += '$';
            out += std::to_string(++count);
            ++i;
        } else {
            out += c;
            ++i;
        }
    }
    return out;
}

/// True for SQL that reads only (its changes() mean nothing): the statement's first keyword.
inline bool reads_only(std::string_view sql) {
    const std::string_view w = first_sql_keyword(sql);
    for (std::string_view k : {"SELECT", "VALUES", "SHOW", "TABLE", "EXPLAIN"})
        if (sql_keyword_is(w, k)) return true;
    if (sql_keyword_is(w, "WITH")) {
        // A data-modifying CTE writes.
        std::size_t at = 0;
        while (at < sql.size()) {
            at = skip_sql_space(sql, at);
            const std::string_view word = sql_word_at(sql, at);
            if (word.empty()) {
                ++at;
                continue;
            }
            for (std::string_view k : {"INSERT", "UPDATE", "DELETE", "MERGE"})
                if (sql_keyword_is(word, k)) return false;
            at += word.size();
        }
        return true;
    }
    return is_transaction_control(sql);
}

/// Statements that run unnamed (not worth a server-side prepared statement).
inline bool runs_unnamed(std::string_view sql) {
    const std::string_view w = first_sql_keyword(sql);
    if (is_transaction_control(sql)) return true;
    for (std::string_view k : {"CREATE", "DROP", "ALTER", "SET", "START", "TRUNCATE", "COMMENT",
                               "GRANT", "REVOKE", "LOCK", "ANALYZE", "VACUUM", "DO", "RESET"})
        if (sql_keyword_is(w, k)) return true;
    return false;
}

class Connection;

/// Type OIDs loom reads (pg_type.h).
enum : Oid {
    oid_bool = 16,
    oid_bytea = 17,
    oid_int8 = 20,
    oid_int2 = 21,
    oid_int4 = 23,
    oid_oid = 26,
    oid_float4 = 700,
    oid_float8 = 701,
    oid_numeric = 1700,
    oid_name = 19,
    oid_text = 25,
    oid_json = 114,
    oid_bpchar = 1042,
    oid_varchar = 1043,
    oid_jsonb = 3802,
};

/// Types whose binary result format loom reads (integers and reals big-endian, text and bytea
/// as their bytes, jsonb after its version byte). A statement whose result columns are all of
/// these is read in binary format; any other type (numeric, timestamptz, date, uuid, arrays...)
/// keeps the whole statement in text format.
inline bool reads_binary(Oid t) noexcept {
    switch (t) {
    case oid_bool:
    case oid_bytea:
    case oid_int8:
    case oid_int2:
    case oid_int4:
    case oid_oid:
    case oid_float4:
    case oid_float8:
    case oid_name:
    case oid_text:
    case oid_json:
    case oid_bpchar:
    case oid_varchar:
    case oid_jsonb:
        return true;
    default:
        return false;
    }
}

/// A big-endian integer of `n` bytes (2, 4 or 8), sign-extended.
inline std::int64_t big_endian(const char* p, int n) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    const int shift = 64 - 8 * n;
    return shift ? static_cast<std::int64_t>(v << shift) >> shift : static_cast<std::int64_t>(v);
}

class Statement final : public engine::Statement {
public:
    Statement(Connection& conn, std::string_view sql);
    ~Statement() override { clear_result(); }

    const std::string& sql() const noexcept override { return sql_; }
    bool read_only() const noexcept override { return read_only_; }

    void bind_null(int i) override { slot(i, 'n', 0, 0).reset(); }
    void bind_int(int i, std::int64_t v) override {
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        slot(i, 'i', oid_int8, 0) = std::string(buf, r.ptr);
    }
    void bind_double(int i, double v) override {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        std::string s = buf;
        if (s == "inf") s = "Infinity";
        if (s == "-inf") s = "-Infinity";
        if (s == "nan" || s == "-nan") s = "NaN";
        slot(i, 'd', oid_float8, 0) = std::move(s);
    }
    void bind_text(int i, std::string_view v) override {
        if (v.find('\0') != std::string_view::npos)
            throw DataError("PostgreSQL text cannot hold a NUL byte (parameter " +
                            std::to_string(i) + " of: " + sql_excerpt(sql_) +
                            "); store such values as loom::Blob");
        slot(i, 't', 0, 0) = std::string(v);
    }
    void bind_blob(int i, std::span<const std::byte> v) override {
        slot(i, 'b', oid_bytea, 1) = std::string(reinterpret_cast<const char*>(v.data()), v.size());
    }

    bool step() override;
    void reset() noexcept override {
        clear_result();
        received_ = false;
        failed_prepare_ = false;
        prepare_sent_ = false;
        for (auto& v : values_) v.reset();
        for (auto& t : types_) t = 'n';
        for (auto& o : oids_) o = 0;
        for (auto& f : formats_) f = 0;
    }

    int column_count() const noexcept override { return res_ ? PQnfields(res_) : 0; }
    engine::Cell column_type(int c) const noexcept override {
        if (!res_ || PQgetisnull(res_, row_, c)) return engine::Cell::null;
        switch (types_of_result_[static_cast<std::size_t>(c)]) {
        case oid_bool:
        case oid_int2:
        case oid_int4:
        case oid_int8:
        case oid_oid:
            return engine::Cell::integer;
        case oid_float4:
        case oid_float8:
            return engine::Cell::real;
        case oid_numeric: {
            // sum() of integers is numeric: an integer when it is one that fits 64 bits; any
            // other number (a fraction, NaN, 1e300, a sum past bigint) reads as a real (numeric
            // is always read in text format).
            const char* p = PQgetvalue(res_, row_, c);
            const auto n = static_cast<std::size_t>(PQgetlength(res_, row_, c));
            std::int64_t v = 0;
            const auto r = std::from_chars(p, p + n, v);
            return r.ec == std::errc{} && r.ptr == p + n ? engine::Cell::integer
                                                         : engine::Cell::real;
        }
        case oid_bytea:
            return engine::Cell::blob;
        default:
            return engine::Cell::text;
        }
    }
    std::int64_t column_int(int c) const override {
        if (column_type(c) != engine::Cell::integer) throw_not_integer(c);
        if (binary_) return binary_int(c);
        const char* p = PQgetvalue(res_, row_, c);
        if (type_of(c) == oid_bool) return *p == 't' ? 1 : 0;
        std::int64_t v = 0;
        const std::size_t n = static_cast<std::size_t>(PQgetlength(res_, row_, c));
        const auto r = std::from_chars(p, p + n, v);
        if (r.ec != std::errc{} || r.ptr != p + n) throw_not_integer(c);
        return v;
    }
    double column_double(int c) const noexcept override {
        if (!res_ || PQgetisnull(res_, row_, c)) return 0;
        if (binary_) return binary_real(c);
        const char* p = PQgetvalue(res_, row_, c);
        if (type_of(c) == oid_bool) return *p == 't' ? 1 : 0;
        return std::strtod(p, nullptr);
    }
    std::string_view column_text(int c) const noexcept override {
        if (!res_ || PQgetisnull(res_, row_, c)) return {};
        const Oid t = type_of(c);
        if (t == oid_bytea) {
            const auto b = column_blob(c);
            return {reinterpret_cast<const char*>(b.data()), b.size()};
        }
        const char* p = PQgetvalue(res_, row_, c);
        std::size_t n = static_cast<std::size_t>(PQgetlength(res_, row_, c));
        if (binary_) {
            switch (t) {
            case oid_jsonb:  // a version byte (1), then the JSON text
                return n ? std::string_view(p + 1, n - 1) : std::string_view();
            case oid_bool:
                return *p ? "t" : "f";
            case oid_int2:
            case oid_int4:
            case oid_int8:
            case oid_oid:
            case oid_float4:
            case oid_float8:
                return binary_number_text(c);
            default:
                break;
            }
        }
        return {p, n};
    }
    std::span<const std::byte> column_blob(int c) const noexcept override {
        if (!res_ || PQgetisnull(res_, row_, c)) return {};
        if (type_of(c) != oid_bytea) {
            const auto t = column_text(c);
            return {reinterpret_cast<const std::byte*>(t.data()), t.size()};
        }
        const char* p = PQgetvalue(res_, row_, c);
        const auto n = static_cast<std::size_t>(PQgetlength(res_, row_, c));
        if (binary_) return {reinterpret_cast<const std::byte*>(p), n};
        // `\x` + hex digits in text format; decoded once per cell of the current row.
        auto& cell = decoded_[static_cast<std::size_t>(c)];
        if (decoded_row_[static_cast<std::size_t>(c)] != row_) {
            decoded_row_[static_cast<std::size_t>(c)] = row_;
            cell.clear();
            const std::string_view t(p, n);
            auto hex = [](char h) -> int { return h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10; };
            for (std::size_t k = 2; k + 1 < t.size(); k += 2)
                cell.push_back(static_cast<std::byte>(hex(t[k]) * 16 + hex(t[k + 1])));
        }
        return {cell.data(), cell.size()};
    }
    engine::CellValue cell(int c) const noexcept override {
        engine::CellValue v;
        v.type = column_type(c);
        switch (v.type) {
        case engine::Cell::integer: {
            if (binary_) {
                v.integer = binary_int(c);
                v.real = static_cast<double>(v.integer);
                break;
            }
            const char* p = PQgetvalue(res_, row_, c);
            if (type_of(c) == oid_bool) {
                v.integer = *p == 't' ? 1 : 0;
            } else {
                const std::size_t n = static_cast<std::size_t>(PQgetlength(res_, row_, c));
                const auto r = std::from_chars(p, p + n, v.integer);
                if (r.ec != std::errc{} || r.ptr != p + n) {
                    // Out of bigint's range (a numeric sum): the text, which readers refuse
                    // with a DataError that shows it.
                    v.type = engine::Cell::text;
                    v.bytes = {p, n};
                    break;
                }
            }
            v.real = static_cast<double>(v.integer);
            break;
        }
        case engine::Cell::real:
            v.real = column_double(c);
            break;
        case engine::Cell::text:
            v.bytes = column_text(c);
            break;
        case engine::Cell::blob: {
            const auto b = column_blob(c);
            v.bytes = {reinterpret_cast<const char*>(b.data()), b.size()};
            break;
        }
        case engine::Cell::null:
            break;
        }
        return v;
    }
    /// True when the current result is in binary format (the statement's result columns are
    /// all of types read in binary; see step()).
    bool binary_result() const noexcept { return binary_; }

    // In a pipeline (Connection::run_together): queued, then received, then stepped.
    bool send();
    void receive() noexcept;
    /// A statement libpq would not queue (the connection is lost): step() throws why.
    void fail_unsent(PGconn* pg) noexcept {
        clear_result();
        res_ = PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
        received_ = true;
    }
    std::string_view column_name(int c) const noexcept override {
        const char* n = res_ ? PQfname(res_, c) : nullptr;
        return n ? n : "";
    }

private:
    std::optional<std::string>& slot(int i, char type, Oid oid, int format) {
        if (i < 1 || i > params_)
            throw UsageError("parameter " + std::to_string(i) +
                             " is out of range: the statement "
                             "has " +
                             std::to_string(params_) + " (" + sql_excerpt(sql_) + ")");
        const auto k = static_cast<std::size_t>(i - 1);
        types_[k] = type;
        oids_[k] = oid;
        formats_[k] = format;
        return values_[k];
    }
    void clear_result() noexcept {
        if (res_) PQclear(res_);
        res_ = nullptr;
        row_ = -1;
        started_ = false;
    }
    Oid type_of(int c) const noexcept { return types_of_result_[static_cast<std::size_t>(c)]; }
    std::int64_t binary_int(int c) const noexcept {
        const char* p = PQgetvalue(res_, row_, c);
        switch (type_of(c)) {
        case oid_bool:
            return *p ? 1 : 0;
        case oid_int2:
            return big_endian(p, 2);
        case oid_int4:
            return big_endian(p, 4);
        case oid_oid:
            return big_endian(p, 4) & 0xffffffff;
        default:
            return big_endian(p, 8);
        }
    }
    double binary_real(int c) const noexcept {
        const char* p = PQgetvalue(res_, row_, c);
        switch (type_of(c)) {
        case oid_float4: {
            const auto bits = static_cast<std::uint32_t>(big_endian(p, 4));
            float f;
            std::memcpy(&f, &bits, sizeof f);
            return f;
        }
        case oid_float8: {
            const auto bits = static_cast<std::uint64_t>(big_endian(p, 8));
            double d;
            std::memcpy(&d, &bits, sizeof d);
            return d;
        }
        default:
            return static_cast<double>(binary_int(c));
        }
    }
    /// A binary number's text, as the server's text format writes it (kept until the row
    /// changes).
    std::string_view binary_number_text(int c) const noexcept {
        auto& cell = decoded_[static_cast<std::size_t>(c)];
        decoded_row_[static_cast<std::size_t>(c)] = -2;  // not a bytea decoding
        char buf[40];
        std::size_t n = 0;
        const Oid t = type_of(c);
        if (t == oid_float4 || t == oid_float8) {
            const double d = binary_real(c);
            if (d != d)
                n = static_cast<std::size_t>(std::snprintf(buf, sizeof buf, "NaN"));
            else if (d == HUGE_VAL || d == -HUGE_VAL)
                n = static_cast<std::size_t>(
                    std::snprintf(buf, sizeof buf, d > 0 ? "Infinity" : "-Infinity"));
            else if (t == oid_float4)
                n = static_cast<std::size_t>(
                    std::to_chars(buf, buf + sizeof buf, static_cast<float>(d)).ptr - buf);
            else
                n = static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, d).ptr - buf);
        } else {
            n = static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, binary_int(c)).ptr -
                                         buf);
        }
        cell.assign(reinterpret_cast<const std::byte*>(buf),
                    reinterpret_cast<const std::byte*>(buf) + n);
        return {reinterpret_cast<const char*>(cell.data()), cell.size()};
    }
    [[noreturn]] void throw_not_integer(int c) const {
        std::string found;
        switch (column_type(c)) {
        case engine::Cell::null:
            found = "NULL";
            break;
        case engine::Cell::real:
            found = "REAL " + std::string(column_text(c));
            break;
        case engine::Cell::blob:
            found = "BLOB of " + std::to_string(column_blob(c).size()) + " bytes";
            break;
        default: {
            std::string_view t = column_text(c);
            found = "TEXT '" + std::string(t.substr(0, 40)) + (t.size() > 40 ? "...'" : "'");
        }
        }
        throw DataError("result column " + std::to_string(c) + " (" + std::string(column_name(c)) +
                        "): expected an INTEGER key, found " + found +
                        " (a key that is not an integer is never rounded into another row's key; "
                        "while running: " +
                        sql_excerpt(sql_) + ")");
    }

    /// The bound values as libpq takes them: one pointer (null for NULL) and length each.
    struct Params {
        std::vector<const char*> values;
        std::vector<int> lengths;
    };
    Params bound() const {
        Params p{std::vector<const char*>(values_.size()), std::vector<int>(values_.size())};
        for (std::size_t k = 0; k < values_.size(); ++k) {
            p.values[k] = values_[k] ? values_[k]->c_str() : nullptr;
            p.lengths[k] = values_[k] ? static_cast<int>(values_[k]->size()) : 0;
        }
        return p;
    }

    Connection& conn_;
    std::string sql_;   // as loom wrote it, with `?`
    std::string text_;  // with `$n`
    int params_ = 0;
    bool read_only_ = false;
    bool unnamed_ = false;
    std::vector<std::optional<std::string>> values_;
    std::vector<char> types_;
    std::vector<Oid> oids_;
    std::vector<int> formats_;
    /// A server-side prepared statement; `binary`: its result columns are all of types read
    /// in binary format (learnt from its first result, which arrives in text format).
    struct Prepared {
        std::string name;
        bool known = false;
        bool binary = false;
    };
    std::map<std::string, Prepared> prepared_;  // bound types -> server statement
    void learn_format(Prepared& prep) noexcept;
    void take_result();

    PGresult* res_ = nullptr;
    bool binary_ = false;
    bool received_ = false;        // res_ came from a pipeline; step() reads it
    bool failed_prepare_ = false;  // ... and is the error of this statement's prepare
    bool prepare_sent_ = false;    // send() queued a prepare of this statement's shape
    std::vector<Oid> types_of_result_;
    int row_ = -1;
    bool started_ = false;
    mutable std::vector<std::vector<std::byte>> decoded_;
    mutable std::vector<int> decoded_row_;
};

/// A connection to a PostgreSQL server, from a libpq connection string or URI
/// (`postgresql://user@host/db`).
class Connection final : public engine::Connection {
public:
    Connection(const std::string& url, const Options& o) {
        conn_ = PQconnectdb(url.c_str());
        if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
            std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
            while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
            if (conn_) PQfinish(conn_);
            conn_ = nullptr;
            throw CantOpenError("cannot connect to PostgreSQL at '" + redacted(url) + "': " + msg +
                                    " (check the server is running and the connection string)",
                                pack_sqlstate("08001"));
        }
        PQsetNoticeProcessor(
            conn_, [](void*, const char*) {}, nullptr);
        // Timestamps are UTC and dates ISO in both directions (docs/engines.md); one round trip.
        exec(
            "SET client_min_messages = warning; SET TimeZone = 'UTC'; "
            "SET DateStyle = 'ISO, YMD'");
        if (o.busy_timeout_ms > 0) exec("SET lock_timeout = " + std::to_string(o.busy_timeout_ms));
        if (o.read_only) exec("SET default_transaction_read_only = on");
        if (o.statement_timeout_ms > 0)
            exec("SET statement_timeout = " + std::to_string(o.statement_timeout_ms));
    }
    ~Connection() override {
        if (conn_) PQfinish(conn_);
    }

    PGconn* native() const noexcept { return conn_; }
    std::string next_name() { return "loom_" + std::to_string(++names_); }
    void set_changes(std::int64_t n) noexcept { changes_ = n; }
    void count_round_trip() noexcept { ++round_trips_; }

    /// Reads the answer to a COMMIT sent without waiting (a read-only snapshot's end).
    void settle() noexcept {
        if (!commit_pending_) return;
        commit_pending_ = false;
        while (PGresult* r = PQgetResult(conn_)) PQclear(r);
    }
    /// True while the snapshot's BEGIN waits to go out with the next statement.
    bool begin_pending() const noexcept { return begin_pending_; }
    /// Sends the pending BEGIN on its own (before work that cannot carry it).
    void send_pending_begin() {
        begin_pending_ = false;
        snapshot_ = true;
        const std::string b(begin_snapshot_sql());
        ++round_trips_;
        PGresult* r = PQexec(conn_, b.c_str());
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            struct Clear {
                PGresult* r;
                ~Clear() { PQclear(r); }
            } clear{r};
            snapshot_ = false;
            throw_error(conn_, r, "while running: " + b);
        }
        PQclear(r);
    }
    /// Throws the typed error for the failed result `r`, and frees it.
    [[noreturn]] void throw_result(PGresult* r, std::string_view context) {
        struct Clear {
            PGresult* r;
            ~Clear() { PQclear(r); }
        } clear{r};
        throw_error(conn_, r, context);
    }
    std::int64_t round_trips() const noexcept override { return round_trips_; }

    /// Sibling prefetch levels in one pipeline (libpq 14+ pipeline mode).
    bool runs_together() const noexcept override { return true; }
    bool run_together(std::span<engine::Statement* const> statements,
                      std::span<std::chrono::steady_clock::time_point> ready) override;

    const engine::Dialect& dialect() const noexcept override { return postgres::dialect; }

    std::unique_ptr<engine::Statement> prepare(std::string_view sql) override {
        return std::make_unique<Statement>(*this, sql);
    }
    void exec(const std::string& sql) override {
        settle();
        if (sql == begin_snapshot_sql() && PQtransactionStatus(conn_) == PQTRANS_IDLE) {
            // Sent with the evaluation's first statement, in the same round trip.
            begin_pending_ = true;
            return;
        }
        if (begin_pending_) {
            if (sql == "COMMIT" || sql == "ROLLBACK") {
                begin_pending_ = false;
                return;
            }
            send_pending_begin();
        }
        if (sql == "COMMIT" || sql == "ROLLBACK") snapshot_ = false;
        ++round_trips_;
        PGresult* r = PQexec(conn_, sql.c_str());
        const auto st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            struct Clear {
                PGresult* r;
                ~Clear() { PQclear(r); }
            } clear{r};
            throw_error(conn_, r, "while running: " + sql_excerpt(sql));
        }
        PQclear(r);
    }
    bool exec_noexcept(const char* sql) noexcept override {
        settle();
        const std::string_view q(sql);
        if (begin_pending_ && (q == "COMMIT" || q == "ROLLBACK")) {
            begin_pending_ = false;  // the snapshot read nothing: nothing to end
            return true;
        }
        if (q == "COMMIT" && snapshot_ && PQtransactionStatus(conn_) == PQTRANS_INTRANS) {
            // The end of a read-only snapshot cannot fail: sent now, its answer read at the
            // connection's next use, so the evaluation does not wait for it.
            snapshot_ = false;
            if (PQsendQuery(conn_, sql) == 1) {
                commit_pending_ = true;
                return true;
            }
        }
        if (begin_pending_) {
            try {
                send_pending_begin();
            } catch (...) {
                return false;
            }
        }
        if (q == "COMMIT" || q == "ROLLBACK") snapshot_ = false;
        ++round_trips_;
        PGresult* r = PQexec(conn_, sql);
        const auto st = PQresultStatus(r);
        PQclear(r);
        return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    }

    std::int64_t changes() const noexcept override { return changes_; }
    std::int64_t last_insert_id() const noexcept override { return 0; }  // RETURNING instead
    bool lost() const noexcept override { return !conn_ || PQstatus(conn_) == CONNECTION_BAD; }
    bool in_transaction() const noexcept override {
        if (begin_pending_) return true;
        if (commit_pending_) return false;  // committing
        const auto s = PQtransactionStatus(conn_);
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
    }

    void check_file_in_place(std::string_view) override {}

    bool assigns_keys(std::string_view table, std::string_view key_column) override {
        settle();
        // A transaction aborted already, or a connection lost already: the INSERT says so.
        if (lost() || PQtransactionStatus(conn_) == PQTRANS_INERROR) return true;
        const std::string t(table), k(key_column);
        const char* params[] = {t.c_str(), k.c_str()};
        ++round_trips_;
        PGresult* r =
            PQexecParams(conn_,
                         "SELECT is_identity = 'YES' OR column_default LIKE 'nextval(%' "
                         "FROM information_schema.columns WHERE table_schema = current_schema() "
                         "AND table_name = $1 AND column_name = $2",
                         2, nullptr, params, nullptr, nullptr, 0);
        // A failure here (a lock or statement timeout, a lost connection) is reported now:
        // inside a transaction, the INSERT would only say that the transaction is aborted.
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            throw_result(r, "while asking whether the server fills in " + quote_name(table) + "." +
                                quote_name(key_column) +
                                " on INSERT, before inserting: nothing was inserted");
        bool out = true;  // no such table: the INSERT will say so
        if (PQntuples(r) == 1) out = *PQgetvalue(r, 0, 0) == 't';
        PQclear(r);
        return out;
    }

    std::vector<std::string> rows_referring_to(std::string_view table, std::int64_t key) override {
        settle();
        if (begin_pending_) send_pending_begin();
        std::vector<std::string> out;
        if (PQtransactionStatus(conn_) == PQTRANS_INERROR) return out;
        const std::string t(table);
        const char* params[] = {t.c_str()};
        PGresult* r = PQexecParams(
            conn_,
            "SELECT c.relname, a.attname FROM pg_constraint f "
            "JOIN pg_class c ON c.oid = f.conrelid "
            "JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = f.conkey[1] "
            "WHERE f.contype = 'f' AND f.confrelid = to_regclass(quote_ident($1)) "
            "AND f.confdeltype IN ('a', 'r') AND cardinality(f.conkey) = 1 "
            "ORDER BY c.relname, a.attname",
            1, nullptr, params, nullptr, nullptr, 0);
        ++round_trips_;
        std::vector<std::pair<std::string, std::string>> fks;
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            for (int i = 0; i < PQntuples(r); ++i)
                fks.emplace_back(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        PQclear(r);
        const std::string k = std::to_string(key);
        for (const auto& [child, column] : fks) {
            const std::string c = quote_name(child), col = quote_name(column);
            const std::string q = "SELECT 1 FROM " + c + " WHERE " + col + " = $1 LIMIT 1";
            const char* kp[] = {k.c_str()};
            ++round_trips_;
            PGresult* any = PQexecParams(conn_, q.c_str(), 1, nullptr, kp, nullptr, nullptr, 0);
            if (PQresultStatus(any) == PGRES_TUPLES_OK && PQntuples(any) > 0)
                out.push_back(c + "." + col);
            PQclear(any);
        }
        return out;
    }

    /// An identity column's sequence does not see explicit keys: move it past this one.
    void explicit_key_inserted(std::string_view table, std::string_view key_column,
                               std::int64_t key) override {
        settle();
        if (PQtransactionStatus(conn_) == PQTRANS_INERROR) return;
        const std::string t = quote_name(table), c(key_column), k = std::to_string(key);
        const char* params[] = {t.c_str(), c.c_str(), k.c_str()};
        ++round_trips_;
        PGresult* r = PQexecParams(
            conn_,
            "SELECT setval(s, $3::bigint) FROM (SELECT pg_get_serial_sequence($1, $2) AS s) q "
            "WHERE s IS NOT NULL AND $3::bigint > coalesce(pg_sequence_last_value(s::regclass), 0)",
            3, nullptr, params, nullptr, nullptr, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            PQclear(r);
            return;
        }
        // E.g. a role that may insert into the table but not UPDATE its sequence. Inside a
        // transaction, the statement after this one would only say that it is aborted.
        std::string why = "after inserting the key " + k + " into " + t +
                          ", while moving the table's key sequence past it (setval) so that "
                          "the keys the server assigns do not collide with it";
        const auto status = PQtransactionStatus(conn_);
        if (status == PQTRANS_IDLE)
            why +=
                ": the row is inserted, but the sequence was not moved, so a later insert "
                "without a key may collide with it; move it yourself (SELECT setval(...)) or "
                "grant UPDATE on the sequence";
        else if (status == PQTRANS_INERROR)
            why += ": the transaction is aborted, its rows will not be committed; roll it back";
        throw_result(r, why);
    }

    std::string_view begin_sql() const noexcept override { return "BEGIN"; }
    /// One snapshot for every level of an evaluation.
    std::string_view begin_snapshot_sql() const noexcept override {
        return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    }

    int variable_limit() const noexcept override { return limit_; }
    void set_variable_limit(int n) override {
        if (n < 1) throw UsageError("set_variable_limit: the limit must be at least 1");
        limit_ = std::min(n, 65535);
    }

    bool supports_key_arrays() override { return true; }
    /// `{1,2,3}`: a bigint[] literal.
    std::string key_array(std::span<const std::int64_t> keys) const override {
        std::string out;
        out.reserve(keys.size() * 8 + 2);
        out += '{';
        char buf[24];
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (i) out += ',';
            const auto r = std::to_chars(buf, buf + sizeof buf, keys[i]);
            out.append(buf, r.ptr);
        }
        out += '}';
        return out;
    }
    /// `{"a","b"}`: a text[] literal, every element quoted (`"` and `\` escaped).
    std::string key_array(std::span<const std::string> keys) const override {
        std::string out;
        out += '{';
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (i) out += ',';
            out += '"';
            for (const char c : keys[i]) {
                if (c == '"' || c == '\\') out += '\\';
                out += c;
            }
            out += '"';
        }
        out += '}';
        return out;
    }

    /// The URL without its password, for messages.
    static std::string redacted(std::string url) { return engine::redacted_url(std::move(url)); }

private:
    static std::string quote_name(std::string_view id) {
        std::string out = "\"";
        for (char c : id) {
            if (c == '"') out += '"';
            out += c;
        }
        return out + '"';
    }

    PGconn* conn_ = nullptr;
    std::int64_t changes_ = 0;
    std::uint64_t names_ = 0;
    std::int64_t round_trips_ = 0;
    int limit_ = 65535;
    bool begin_pending_ = false;   // the snapshot's BEGIN, to go out with the next statement
    bool snapshot_ = false;        // in the evaluation's read-only snapshot
    bool commit_pending_ = false;  // its COMMIT sent, the answer not read yet
};

inline Statement::Statement(Connection& conn, std::string_view sql)
    : conn_(conn), sql_(sql), read_only_(reads_only(sql)), unnamed_(runs_unnamed(sql)) {
    text_ = number_placeholders(sql, params_);
    const auto n = static_cast<std::size_t>(params_);
    values_.resize(n);
    types_.assign(n, 'n');
    oids_.assign(n, 0);
    formats_.assign(n, 0);
}

inline bool Statement::step() {
    if (!started_) {
        started_ = true;
        conn_.settle();
        if (!received_ && conn_.begin_pending()) {
            // The snapshot's BEGIN and this statement in one round trip.
            engine::Statement* self = this;
            std::chrono::steady_clock::time_point ready;
            if (!conn_.run_together({&self, 1}, {&ready, 1})) conn_.send_pending_begin();
            started_ = true;  // receive() cleared it
        }
        if (!received_) {
            PGconn* pg = conn_.native();
            const Params params = bound();
            const auto& [values, lengths] = params;
            const int n = params_;
            conn_.count_round_trip();
            if (unnamed_) {
                binary_ = false;
                res_ = PQexecParams(pg, text_.c_str(), n, oids_.data(), values.data(),
                                    lengths.data(), formats_.data(), 0);
            } else {
                const std::string sig(types_.begin(), types_.end());
                auto it = prepared_.find(sig);
                if (it == prepared_.end()) {
                    std::string name = conn_.next_name();
                    conn_.count_round_trip();
                    PGresult* p = PQprepare(pg, name.c_str(), text_.c_str(), n, oids_.data());
                    if (PQresultStatus(p) != PGRES_COMMAND_OK) {
                        res_ = p;
                        try {
                            throw_error(pg, p, "while preparing: " + sql_excerpt(sql_));
                        } catch (...) {
                            clear_result();
                            throw;
                        }
                    }
                    PQclear(p);
                    it = prepared_.emplace(sig, Prepared{std::move(name)}).first;
                }
                Prepared& prep = it->second;
                binary_ = prep.binary;
                res_ = PQexecPrepared(pg, prep.name.c_str(), n, values.data(), lengths.data(),
                                      formats_.data(), binary_ ? 1 : 0);
                learn_format(prep);
            }
        }
        received_ = false;
        take_result();
    }
    if (!res_) return false;
    if (row_ + 1 < PQntuples(res_)) {
        ++row_;
        return true;
    }
    return false;
}

inline void Statement::learn_format(Prepared& prep) noexcept {
    if (prep.known || PQresultStatus(res_) != PGRES_TUPLES_OK) return;
    // Binary from the next run on when every column is of a type read in binary (a prepared
    // statement's result types never change: the server refuses to run it once they would).
    prep.known = true;
    prep.binary = PQnfields(res_) > 0;
    for (int c = 0; c < PQnfields(res_); ++c)
        if (!reads_binary(PQftype(res_, c))) prep.binary = false;
}

/// Checks the result this statement got (run now or received from a pipeline): its error is
/// thrown here.
inline void Statement::take_result() {
    PGconn* pg = conn_.native();
    const auto st = PQresultStatus(res_);
    if (st == PGRES_PIPELINE_ABORTED) {
        clear_result();
        // The connection was lost (a BEGIN sent with this statement met a terminated backend,
        // say): that is this statement's error too, typed, so that callers can tell it (a
        // replica's reader moves to another server).
        if (conn_.lost()) throw_error(pg, nullptr, "while running: " + sql_excerpt(sql_));
        throw DatabaseError("not run: an earlier statement sent with it in one pipeline failed (" +
                                sql_excerpt(sql_) + ")",
                            pack_sqlstate("25P02"));
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        try {
            throw_error(
                pg, res_,
                (failed_prepare_ ? "while preparing: " : "while running: ") + sql_excerpt(sql_));
        } catch (...) {
            clear_result();
            throw;
        }
    }
    const char* tuples = PQcmdTuples(res_);
    conn_.set_changes(read_only_ || !*tuples ? 0 : std::strtoll(tuples, nullptr, 10));
    // COMMIT of a transaction an error had already aborted rolls back, without an error.
    if (sql_keyword_is(first_sql_keyword(sql_), "COMMIT") &&
        std::string_view(PQcmdStatus(res_)) == "ROLLBACK") {
        clear_result();
        throw TransactionAborted(
            "COMMIT rolled the transaction back: an earlier statement of it failed, and "
            "nothing written in it persists; run the whole transaction again",
            pack_sqlstate("25P02"));
    }
    types_of_result_.resize(static_cast<std::size_t>(PQnfields(res_)));
    for (int c = 0; c < PQnfields(res_); ++c)
        types_of_result_[static_cast<std::size_t>(c)] = PQftype(res_, c);
    decoded_.assign(static_cast<std::size_t>(PQnfields(res_)), {});
    decoded_row_.assign(decoded_.size(), -1);
    row_ = -1;
}

/// Queues this statement (its prepare first, when its shape is new) in the connection's open
/// pipeline. False when libpq refused it (the connection is lost).
inline bool Statement::send() {
    PGconn* pg = conn_.native();
    const Params params = bound();
    const auto& [values, lengths] = params;
    const int n = params_;
    prepare_sent_ = false;
    if (unnamed_) {
        binary_ = false;
        return PQsendQueryParams(pg, text_.c_str(), n, oids_.data(), values.data(), lengths.data(),
                                 formats_.data(), 0) == 1;
    }
    const std::string sig(types_.begin(), types_.end());
    auto it = prepared_.find(sig);
    if (it == prepared_.end()) {
        std::string name = conn_.next_name();
        if (PQsendPrepare(pg, name.c_str(), text_.c_str(), n, oids_.data()) != 1) return false;
        it = prepared_.emplace(sig, Prepared{std::move(name)}).first;
        prepare_sent_ = true;
    }
    binary_ = it->second.binary;
    return PQsendQueryPrepared(pg, it->second.name.c_str(), n, values.data(), lengths.data(),
                               formats_.data(), binary_ ? 1 : 0) == 1;
}

/// Takes this statement's results from the pipeline (its prepare's, then its own), in the
/// order send() queued them; step() then reads them. Never throws.
inline void Statement::receive() noexcept {
    PGconn* pg = conn_.native();
    clear_result();
    failed_prepare_ = false;
    auto next = [&]() -> PGresult* {
        PGresult* r = PQgetResult(pg);
        if (r) {
            // Each query's results end with a null.
            while (PGresult* more = PQgetResult(pg)) PQclear(more);
        }
        return r;
    };
    if (prepare_sent_) {
        PGresult* p = next();
        if (!p || PQresultStatus(p) != PGRES_COMMAND_OK) {
            // Not prepared: the server knows no such name, so prepare it again next time.
            prepared_.erase(std::string(types_.begin(), types_.end()));
            res_ = p;
            failed_prepare_ = p && PQresultStatus(p) != PGRES_PIPELINE_ABORTED;
        } else {
            PQclear(p);
        }
    }
    PGresult* r = next();
    if (res_) {
        if (r) PQclear(r);
    } else {
        res_ = r ? r : PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
        if (!unnamed_) {
            auto it = prepared_.find(std::string(types_.begin(), types_.end()));
            if (it != prepared_.end()) learn_format(it->second);
        }
    }
    prepare_sent_ = false;
    received_ = true;
}

inline bool Connection::run_together(std::span<engine::Statement* const> statements,
                                     std::span<std::chrono::steady_clock::time_point> ready) {
    settle();
    if (statements.empty() || PQpipelineStatus(conn_) != PQ_PIPELINE_OFF ||
        PQenterPipelineMode(conn_) != 1)
        return false;
    ++round_trips_;
    // The snapshot's BEGIN first, in the same round trip.
    const bool begin = begin_pending_;
    if (begin) {
        begin_pending_ = false;
        snapshot_ = true;
        const std::string b(begin_snapshot_sql());
        if (PQsendQueryParams(conn_, b.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
            PQexitPipelineMode(conn_);
            --round_trips_;
            throw_error(conn_, nullptr, "while running: " + b);
        }
    }
    std::size_t sent = 0;
    while (sent < statements.size() && static_cast<Statement*>(statements[sent])->send()) ++sent;
    PQpipelineSync(conn_);
    if (begin) {
        // Its result; should it fail, the statements after it say so (PIPELINE_ABORTED).
        if (PGresult* r = PQgetResult(conn_)) {
            PQclear(r);
            while (PGresult* more = PQgetResult(conn_)) PQclear(more);
        }
    }
    for (std::size_t i = 0; i < statements.size(); ++i) {
        auto* s = static_cast<Statement*>(statements[i]);
        if (i < sent)
            s->receive();
        else
            s->fail_unsent(conn_);
        ready[i] = std::chrono::steady_clock::now();
    }
    // The sync's own result, then out of pipeline mode.
    for (int guard = 0; guard < 64; ++guard) {
        PGresult* r = PQgetResult(conn_);
        if (!r) {
            if (PQstatus(conn_) != CONNECTION_OK) break;
            continue;
        }
        const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync) break;
    }
    PQexitPipelineMode(conn_);
    return true;
}

}  // namespace loom::detail::postgres
