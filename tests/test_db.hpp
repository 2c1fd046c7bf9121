// The database a test opens: SQLite in memory, or, when LOOM_TEST_ENGINE=postgres (the
// "postgres" CTest label, which scripts/test.sh runs against a throwaway cluster), a fresh empty
// schema on the server LOOM_TEST_PG_URL names. Tests are written once:
//
//     loom::Database db(test_url());
//
// Engine-specific test cases carry the tag [sqlite] or [postgres]; the other engine's run skips
// them (tests/CMakeLists.txt).
#pragma once

#include <loom/loom.hpp>
#if defined(LOOM_TESTS_POSTGRES)
#include <loom/postgres.hpp>
#endif

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

/// True when this run's tests use PostgreSQL.
inline bool on_postgres() {
    const char* e = std::getenv("LOOM_TEST_ENGINE");
    return e && std::string_view(e) == "postgres";
}

#if defined(LOOM_TESTS_POSTGRES)
namespace test_db_detail {
/// Creates the schemas and drops them when the run ends.
struct Schemas {
    std::unique_ptr<loom::Database> admin;
    std::vector<std::string> names;
    ~Schemas() {
        if (!admin) return;
        for (const auto& n : names) {
            try {
                admin->execute("DROP SCHEMA IF EXISTS " + n + " CASCADE");
            } catch (...) {
            }
        }
    }
};
inline Schemas& schemas() {
    static Schemas s;
    return s;
}
}  // namespace test_db_detail
#endif

/// ":memory:", or a connection URI whose search_path is a new empty schema.
inline std::string test_url() {
    if (!on_postgres()) return ":memory:";
#if defined(LOOM_TESTS_POSTGRES)
    const char* base = std::getenv("LOOM_TEST_PG_URL");
    if (!base || !*base)
        throw std::runtime_error("LOOM_TEST_ENGINE=postgres needs LOOM_TEST_PG_URL");
    auto& s = test_db_detail::schemas();
    if (!s.admin) s.admin = std::make_unique<loom::Database>(base);
    std::string name =
        std::string("loom_t") + std::to_string(::getpid()) + "_" + std::to_string(s.names.size());
    s.admin->execute("CREATE SCHEMA " + name);
    s.names.push_back(name);
    std::string url = base;
    url += url.find('?') == std::string::npos ? '?' : '&';
    return url + "options=-csearch_path%3D" + name;
#else
    throw std::runtime_error("LOOM_TEST_ENGINE=postgres, but loom_tests was built without libpq");
#endif
}

/// The text of a test's expectation on this run's engine.
inline std::string on_engine(std::string sqlite, std::string postgres) {
    return on_postgres() ? postgres : sqlite;
}

/// A prefetch level's key test as the engine writes it for `n` keys (SQLite's padded list, at
/// most json_keys_above keys; PostgreSQL's one array parameter).
inline std::string key_test(std::size_t n) {
    if (on_postgres()) return " = ANY(?::bigint[])";
    std::string out = " IN (";
    for (std::size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
    return out + ")";
}

/// A model INSERT as the engine runs it: PostgreSQL reads the new key with RETURNING.
inline std::string inserted(std::string sql, std::string_view key = "\"id\"") {
    if (on_postgres()) sql += " RETURNING " + std::string(key);
    return sql;
}
