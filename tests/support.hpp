// Helpers shared by loom's test files: counting statements, recording them, reading one number
// with raw SQL and catching an exception's message. Only the public API.
#pragma once

#include <loom/database.hpp>
#include <loom/options.hpp>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace loom_test {

/// Statements run on `db` since this object was made: `q()`.
class Queries {
public:
    explicit Queries(const loom::Database& db) : db_(db), start_(db.query_count()) {}
    std::int64_t operator()() const { return db_.query_count() - start_; }

private:
    const loom::Database& db_;
    std::int64_t start_;
};

/// Every statement's SQL, parameters and returned row count while it lives.
class SqlLog {
public:
    explicit SqlLog(loom::Database& db)
        : sub_(db.on_query([this](const loom::QueryEvent& e) {
              sql.emplace_back(e.sql);
              params.emplace_back(e.params.begin(), e.params.end());
              rows.push_back(e.rows);
          })) {}
    SqlLog(const SqlLog&) = delete;
    SqlLog& operator=(const SqlLog&) = delete;

    std::vector<std::string> sql;
    std::vector<std::vector<loom::Value>> params;
    std::vector<std::int64_t> rows;

private:
    loom::Database::Subscription sub_;
};

/// A database file path of this process in the temp directory, removed with its journals
/// before and after use.
struct TempFile {
    explicit TempFile(const std::string& stem)
        : path((std::filesystem::temp_directory_path() /
                (std::string("loom_test_") + stem + "_" + std::to_string(::getpid()) + ".db"))
                   .string()) {
        remove_all();
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() { remove_all(); }
    void remove_all() const {
        std::error_code ec;
        for (const char* suffix : {"", "-journal", "-wal", "-shm"})
            std::filesystem::remove(path + suffix, ec);
    }
    std::string path;
};

/// The one integer `sql` returns (raw SQL, e.g. a count).
inline std::int64_t scalar(loom::Database& db, const std::string& sql) {
    return db.query<std::int64_t>(sql).at(0);
}

/// How many rows `table` has.
inline std::int64_t count_rows(loom::Database& db, const std::string& table) {
    return scalar(db, "SELECT count(*) FROM \"" + table + "\"");
}

/// Whether `text` contains `part`.
inline bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

/// The message of the exception of type E that `fn` throws, "<no exception>" when it throws
/// none; an exception of another type goes through (and fails the test).
template <class E, class Fn> std::string message_of(Fn&& fn) {
    try {
        fn();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception>";
}

}  // namespace loom_test
