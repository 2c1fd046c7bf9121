// JSON columns (<loom/json.hpp>, nlohmann::json): round trips, key-path filters with bound paths
// and values, nested paths and array indexes, missing keys, invalid stored JSON.
#include "catch.hpp"
#include "support.hpp"
#include "test_db.hpp"

#include <loom/json.hpp>
#include <loom/loom.hpp>
#include <loom/testing.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace test_json {

struct Account {
    std::int64_t id = 0;
    std::string name;
    nlohmann::json settings;
    std::optional<nlohmann::json> extra;
};

constexpr auto loom_model(loom::model_of<Account>) {
    return loom::table("account", loom::pk(&Account::id), loom::field(&Account::name, "name"),
                       loom::field(&Account::settings, "settings"),
                       loom::field(&Account::extra, "extra"));
}

using loom_test::message_of;

using loom_test::has;

struct Seeded {
    loom::Database db{test_url()};
    Seeded() {
        db.create_tables<Account>();
        using nlohmann::json;
        std::vector<Account> rows = {
            {0, "ann", json{{"theme", "dark"}, {"limits", {{"daily", 5}}}, {"tags", {"a", "b"}}},
             std::nullopt},
            {0, "bob", json{{"theme", "light"}, {"limits", {{"daily", 50}}}, {"beta", true}},
             json{{"x", 1}}},
            {0, "cy", json{{"theme", "dark"}, {"limits", {{"daily", 20.5}}}, {"tags", {"b"}}},
             std::nullopt},
            {0, "di", json::object(), std::nullopt},
        };
        for (auto& a : rows) db.insert(a);
    }
    std::vector<std::string> names(const loom::QuerySet<Account>& qs) {
        std::vector<std::string> out;
        for (const auto& a : qs.order_by(&Account::id).to_vector()) out.push_back(a.name);
        return out;
    }
};

using loom::col;
using Names = std::vector<std::string>;

TEST_CASE("JSON: a column round-trips as compact JSON text", "[json]") {
    Seeded t;
    const auto rows = t.db.query<loom::ResultRow>("SELECT settings FROM account WHERE id = 2");
    // PostgreSQL's jsonb keeps the document parsed and shows it in its own form.
    CHECK(std::get<std::string>(rows[0][0]) ==
          on_engine(R"({"beta":true,"limits":{"daily":50},"theme":"light"})",
                    R"({"beta": true, "theme": "light", "limits": {"daily": 50}})"));
    const auto bob = loom::expect_queries(
        t.db, 1, [&] { return t.db.objects<Account>().get(col(&Account::name) == "bob"); });
    CHECK(bob.settings["limits"]["daily"] == 50);
    CHECK(bob.extra == nlohmann::json{{"x", 1}});
    const auto rows2 = t.db.query<loom::ResultRow>(
        on_engine("SELECT type FROM pragma_table_info('account') WHERE name = 'settings'",
                  "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                  "current_schema() AND table_name = 'account' AND column_name = 'settings'"));
    CHECK(std::get<std::string>(rows2[0][0]) == on_engine("TEXT", "jsonb"));
}

TEST_CASE("JSON: key-path filters bind the path and the value", "[json][filter]") {
    Seeded t;
    loom::expect_queries(t.db, 8, [&] {
        CHECK(t.names(t.db.objects<Account>().filter(col(&Account::settings).json("theme") ==
                                                     "dark")) == Names{"ann", "cy"});
        CHECK(t.names(t.db.objects<Account>().filter(
                  col(&Account::settings).json("limits", "daily") > 10)) == Names{"bob", "cy"});
        CHECK(t.names(t.db.objects<Account>().filter(
                  col(&Account::settings).json("limits", "daily") < 20.75)) == Names{"ann", "cy"});
        CHECK(t.names(t.db.objects<Account>().filter(col(&Account::settings).json("tags", 0) ==
                                                     "b")) == Names{"cy"});
        CHECK(t.names(t.db.objects<Account>().filter(col(&Account::settings).json("beta") ==
                                                     true)) == Names{"bob"});
        // A missing key is NULL.
        CHECK(t.names(t.db.objects<Account>().filter(col(&Account::settings).json("theme") ==
                                                     std::nullopt)) == Names{"di"});
        CHECK(t.names(t.db.objects<Account>().filter(
                  col(&Account::settings).json("theme").in({"light", "blue"}))) == Names{"bob"});
        // On a nullable JSON column.
        CHECK(t.names(t.db.objects<Account>().filter(col(&Account::extra).json("x") == 1)) ==
              Names{"bob"});
    });
    const auto q =
        t.db.objects<Account>().filter(col(&Account::settings).json("limits", "daily") == 5).sql();
    // PostgreSQL types every expression: the path compared with a number reads a number (a
    // boolean as 1 or 0, as SQLite's json_extract does), and the path is one text[] parameter.
    CHECK(has(q.sql, on_engine("json_extract(t0.\"settings\", ?) = ?",
                               "(SELECT CASE jsonb_typeof(j) WHEN 'number' THEN j::numeric WHEN "
                               "'boolean' THEN j::boolean::int END FROM (SELECT t0.\"settings\" "
                               "#> ?::text[]) s(j)) = ?")));
    REQUIRE(q.params.size() == 2);
    CHECK(std::get<std::string>(q.params[0]) ==
          on_engine(R"($."limits"."daily")", R"({"limits","daily"})"));
    CHECK(std::get<std::int64_t>(q.params[1]) == 5);
}

TEST_CASE("JSON: keys with SQL or path syntax in them are data, not syntax", "[json][bad_input]") {
    Seeded t;
    nlohmann::json odd{
        {"it's; DROP TABLE account; --", "x"}, {"a.b", 1}, {"$[0]", 2}, {"{a,b}", 3}, {"a\\b", 4}};
    Account a{0, "odd", odd, std::nullopt};
    t.db.insert(a);
    CHECK(t.names(t.db.objects<Account>().filter(
              col(&Account::settings).json("it's; DROP TABLE account; --") == "x")) ==
          Names{"odd"});
    CHECK(t.names(t.db.objects<Account>().filter(col(&Account::settings).json("a.b") == 1)) ==
          Names{"odd"});
    CHECK(t.names(t.db.objects<Account>().filter(col(&Account::settings).json("$[0]") == 2)) ==
          Names{"odd"});
    // Array-literal syntax (braces, a comma) in a key (PostgreSQL's path is a text[]).
    CHECK(t.names(t.db.objects<Account>().filter(col(&Account::settings).json("{a,b}") == 3)) ==
          Names{"odd"});
    // A backslash: PostgreSQL only (SQLite 3.40's json_extract compares a path's key with the
    // key's escaped JSON text, so `a\b` finds nothing there).
    if (on_postgres())
        CHECK(t.names(t.db.objects<Account>().filter(col(&Account::settings).json("a\\b") == 4)) ==
              Names{"odd"});
    // A double quote cannot be named in a JSON path: refused before any SQL runs.
    const auto before = t.db.query_count();
    const auto msg = message_of<loom::UsageError>(
        [&] { (void)t.db.objects<Account>().filter(col(&Account::settings).json("a\"b") == 1); });
    CHECK(has(msg, "json(): the key 'a\"b' contains a double quote"));
    CHECK(t.db.query_count() == before);
    CHECK(t.db.objects<Account>().count() == 5);
}

// SQLite only: a PostgreSQL jsonb column refuses text that is not JSON when it is written.
TEST_CASE("JSON: stored text that is not JSON is a DataError naming column and row",
          "[json][bad_input][sqlite]") {
    Seeded t;
    t.db.execute("UPDATE account SET settings = '{\"theme\": ' WHERE name = 'cy'");
    const auto msg = loom::expect_queries(t.db, 1, [&] {
        return message_of<loom::DataError>([&] { (void)t.db.objects<Account>().to_vector(); });
    });
    CHECK(has(msg, "Account.settings (row id=3)"));
    CHECK(has(msg, "parse error"));
    CHECK(has(msg, "found TEXT '{\"theme\": '"));
    // Nothing lost: the other rows read, the bad one is still there.
    CHECK(t.db.objects<Account>().filter(col(&Account::name) != "cy").count() == 3);
    CHECK(t.db.objects<Account>().count() == 4);
}

}  // namespace test_json
