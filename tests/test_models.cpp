// Model descriptors: every column type round-trips, and the DDL of each relation kind is what
// the descriptors say (read back from SQLite itself: sqlite_master, PRAGMA table_info,
// foreign_key_list, index_list, index_info).
#include "catch.hpp"
#include "models.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace test_models {

// Reserved words as table and column names: identifiers are quoted everywhere.
struct Order {
    std::int64_t id = 0;
    std::string group;
    loom::ForeignKey<Order> from;
};

// A foreign key with the default rule (restrict) and a nullable one with no_action.
struct Shelf {
    std::int64_t id = 0;
    std::string label;
};
struct Item {
    std::int64_t id = 0;
    loom::ForeignKey<Shelf> shelf;
    loom::ForeignKey<Shelf> spare;
    std::string sku;
    int weight = 0;
};

}  // namespace test_models

namespace test_models {
constexpr auto loom_model(loom::model_of<Order>) {
    return loom::table("order", loom::pk(&test_models::Order::id, "select"),
                       loom::field(&test_models::Order::group, "group", loom::indexed),
                       loom::foreign_key(&test_models::Order::from, "from", loom::nullable));
}
}  // namespace test_models

namespace test_models {
constexpr auto loom_model(loom::model_of<Shelf>) {
    return loom::table("shelf", loom::pk(&test_models::Shelf::id),
                       loom::field(&test_models::Shelf::label, "label"));
}
}  // namespace test_models

namespace test_models {
constexpr auto loom_model(loom::model_of<Item>) {
    return loom::table("item", loom::pk(&test_models::Item::id),
                       loom::foreign_key(&test_models::Item::shelf, "shelf_id"),
                       loom::foreign_key(&test_models::Item::spare, "spare_id", loom::nullable,
                                         loom::on_delete::no_action),
                       loom::field(&test_models::Item::sku, "sku", loom::unique),
                       loom::field(&test_models::Item::weight, "weight", loom::indexed));
}
}  // namespace test_models

namespace models_test {

using shop::Sample;
using Row = std::map<std::string, std::string>;

// Every row of a raw SQL statement, each column as text ("NULL" for NULL), keyed by name.
std::vector<Row> rows_of(loom::Database& db, const std::string& sql) {
    std::vector<Row> out;
    for (const auto& row : db.query<loom::ResultRow>(sql)) {
        Row r;
        for (std::size_t c = 0; c < row.size(); ++c) {
            const loom::Value& v = row[c];
            std::string text = "NULL";
            if (const auto* i = std::get_if<std::int64_t>(&v)) text = std::to_string(*i);
            if (const auto* d = std::get_if<double>(&v)) text = std::to_string(*d);
            if (const auto* t = std::get_if<std::string>(&v)) text = *t;
            if (const auto* b = std::get_if<loom::Blob>(&v))
                text.assign(reinterpret_cast<const char*>(b->data()), b->size());
            r[row.names()[c]] = text;
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::int64_t count_rows(loom::Database& db, const std::string& table) {
    return std::stoll(rows_of(db, "SELECT count(*) AS n FROM \"" + table + "\"").at(0).at("n"));
}

std::set<std::string> user_tables(loom::Database& db) {
    std::set<std::string> out;
    for (auto& r : rows_of(db, on_engine("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT LIKE 'sqlite_%'",
                                         "SELECT table_name AS name FROM information_schema.tables "
                                         "WHERE table_schema = current_schema()")))
        out.insert(r.at("name"));
    return out;
}

// PRAGMA table_info: column name -> the row describing it.
std::map<std::string, Row> columns_of(loom::Database& db, const std::string& table) {
    std::map<std::string, Row> out;
    for (auto& r : rows_of(db, "PRAGMA table_info(\"" + table + "\")")) out[r.at("name")] = r;
    return out;
}

// PRAGMA foreign_key_list: FK column -> the row describing it.
std::map<std::string, Row> foreign_keys_of(loom::Database& db, const std::string& table) {
    std::map<std::string, Row> out;
    for (auto& r : rows_of(db, "PRAGMA foreign_key_list(\"" + table + "\")")) out[r.at("from")] = r;
    return out;
}

struct IndexDesc {
    std::string name;
    bool unique = false;
    std::vector<std::string> columns;
};

std::vector<IndexDesc> indexes_of(loom::Database& db, const std::string& table) {
    std::vector<IndexDesc> out;
    for (auto& r : rows_of(db, "PRAGMA index_list(\"" + table + "\")")) {
        IndexDesc d{r.at("name"), r.at("unique") == "1", {}};
        for (auto& c : rows_of(db, "PRAGMA index_info(\"" + d.name + "\")"))
            d.columns.push_back(c.at("name"));
        out.push_back(std::move(d));
    }
    return out;
}

bool has_index(loom::Database& db, const std::string& table, std::vector<std::string> columns,
               bool unique) {
    for (auto& d : indexes_of(db, table))
        if (d.columns == columns && d.unique == unique) return true;
    return false;
}

Sample read_back(loom::Database& db, std::int64_t id) {
    return db.objects<Sample>().filter(loom::col(&Sample::id) == id).get();
}

loom::Blob bytes(std::initializer_list<int> v) {
    loom::Blob b;
    for (int x : v) b.push_back(static_cast<std::byte>(x));
    return b;
}

// ---- column types ----------------------------------------------------------------------------

TEST_CASE("every column type round-trips through SQLite unchanged", "[models][types]") {
    loom::Database db(test_url());
    shop::create_all(db);

    SECTION("extreme values of each type") {
        Sample s;
        s.flag = true;
        s.tiny = std::numeric_limits<std::int8_t>::min();
        s.small = std::numeric_limits<std::uint16_t>::max();
        s.normal = std::numeric_limits<int>::min();
        s.big = std::numeric_limits<std::int64_t>::max();
        s.real = -1.5e300;
        s.text = "plain";
        s.data = bytes({0, 1, 2, 255});
        s.color = shop::Color::blue;
        s.maybe_int = std::numeric_limits<int>::max();
        s.maybe_text = "present";
        db.insert(s);

        Sample t;
        t.tiny = std::numeric_limits<std::int8_t>::max();
        t.big = std::numeric_limits<std::int64_t>::min();
        t.real = 0.1;
        t.color = shop::Color::green;
        db.insert(t);

        const Sample a = read_back(db, s.id);
        CHECK(a.id == s.id);
        CHECK(a.flag == true);
        CHECK(a.tiny == -128);
        CHECK(a.small == 65535);
        CHECK(a.normal == std::numeric_limits<int>::min());
        CHECK(a.big == std::numeric_limits<std::int64_t>::max());
        CHECK(a.real == -1.5e300);
        CHECK(a.text == "plain");
        CHECK(a.data == bytes({0, 1, 2, 255}));
        CHECK(a.color == shop::Color::blue);
        CHECK(a.maybe_int == std::numeric_limits<int>::max());
        CHECK(a.maybe_text == std::optional<std::string>("present"));

        const Sample b = read_back(db, t.id);
        CHECK(b.flag == false);
        CHECK(b.tiny == 127);
        CHECK(b.small == 0);
        CHECK(b.big == std::numeric_limits<std::int64_t>::min());
        CHECK(b.real == 0.1);  // bit-exact: REAL is an IEEE double
        CHECK(b.color == shop::Color::green);
    }

    SECTION("strings keep quotes, NUL bytes and invalid UTF-8 byte for byte") {
        if (on_postgres()) return;  // SQLite's storage (PostgreSQL text holds no NUL)
        const std::string nasty = std::string("it's \"quoted\"; DROP TABLE sample; --") +
                                  std::string("\0mid\0", 5) + "\xff\xfe\xc3(";
        Sample s;
        s.text = nasty;
        s.maybe_text = nasty;
        db.insert(s);

        const Sample r = read_back(db, s.id);
        CHECK(r.text.size() == nasty.size());
        CHECK(r.text == nasty);
        CHECK(r.maybe_text == std::optional<std::string>(nasty));
        CHECK(count_rows(db, "sample") == 1);
        CHECK(rows_of(db, "SELECT length(CAST(text AS BLOB)) AS n FROM sample").at(0).at("n") ==
              std::to_string(nasty.size()));
    }

    SECTION("an empty string is stored as '' and an empty optional as NULL") {
        Sample empty;
        empty.text = "";
        empty.maybe_text = std::string();
        db.insert(empty);
        Sample null;
        null.maybe_text = std::nullopt;
        db.insert(null);

        const Sample e = read_back(db, empty.id);
        CHECK(e.text.empty());
        REQUIRE(e.maybe_text.has_value());
        CHECK(e.maybe_text->empty());
        CHECK_FALSE(read_back(db, null.id).maybe_text.has_value());

        if (on_postgres()) return;  // the rest reads SQLite's typeof()
        auto stored = rows_of(db,
                              "SELECT typeof(text) AS t, typeof(maybe_text) AS m FROM sample "
                              "ORDER BY id");
        CHECK(stored.at(0) == Row{{"t", "text"}, {"m", "text"}});
        CHECK(stored.at(1) == Row{{"t", "text"}, {"m", "null"}});
    }

    SECTION("an empty blob stays an empty blob, not NULL") {
        Sample s;
        s.data = {};
        db.insert(s);
        CHECK(read_back(db, s.id).data.empty());
        CHECK(rows_of(db, on_engine("SELECT typeof(data) AS t FROM sample",
                                    "SELECT CASE WHEN data IS NULL THEN 'null' ELSE 'blob' END "
                                    "AS t FROM sample"))
                  .at(0)
                  .at("t") == "blob");
    }

    SECTION("optionals round-trip in both states") {
        Sample with, without;
        with.maybe_int = 0;  // present zero is not NULL
        with.maybe_text = "x";
        db.insert(with);
        db.insert(without);
        CHECK(read_back(db, with.id).maybe_int == std::optional<int>(0));
        CHECK(read_back(db, with.id).maybe_text == std::optional<std::string>("x"));
        CHECK_FALSE(read_back(db, without.id).maybe_int.has_value());
        CHECK_FALSE(read_back(db, without.id).maybe_text.has_value());
    }

    SECTION("values are stored with SQLite's natural types") {
        if (on_postgres()) return;  // SQLite's storage (PostgreSQL text holds no NUL)
        Sample s;
        s.flag = true;
        s.tiny = -5;
        s.real = 2.5;
        s.color = shop::Color::blue;
        s.text = "t";
        s.data = bytes({7});
        db.insert(s);
        auto r = rows_of(db,
                         "SELECT typeof(flag) AS f, flag, typeof(tiny) AS ti, tiny, typeof(real) "
                         "AS r, typeof(color) AS c, color, typeof(data) AS d, typeof(maybe_int) "
                         "AS mi FROM sample")
                     .at(0);
        CHECK(r == Row{{"f", "integer"},
                       {"flag", "1"},
                       {"ti", "integer"},
                       {"tiny", "-5"},
                       {"r", "real"},
                       {"c", "integer"},
                       {"color", "3"},
                       {"d", "blob"},
                       {"mi", "null"}});
    }

    SECTION("updating every column writes every column") {
        Sample s;
        db.insert(s);
        s.flag = true;
        s.tiny = 9;
        s.small = 10;
        s.normal = -11;
        s.big = 1LL << 40;
        s.real = 3.25;
        s.text = "changed";
        s.data = bytes({1, 2});
        s.color = shop::Color::green;
        s.maybe_int = 12;
        s.maybe_text = "also";
        db.update(s);
        const Sample r = read_back(db, s.id);
        CHECK(r.flag);
        CHECK(r.tiny == 9);
        CHECK(r.small == 10);
        CHECK(r.normal == -11);
        CHECK(r.big == (1LL << 40));
        CHECK(r.real == 3.25);
        CHECK(r.text == "changed");
        CHECK(r.data == bytes({1, 2}));
        CHECK(r.color == shop::Color::green);
        CHECK(r.maybe_int == std::optional<int>(12));
        CHECK(r.maybe_text == std::optional<std::string>("also"));

        s.maybe_int.reset();
        s.maybe_text.reset();
        db.update(s);
        CHECK_FALSE(read_back(db, s.id).maybe_int.has_value());
        CHECK_FALSE(read_back(db, s.id).maybe_text.has_value());
    }
}

TEST_CASE("infinities round-trip as REAL", "[models][types]") {
    loom::Database db(test_url());
    db.create_tables<Sample>();
    Sample a, b;
    a.real = std::numeric_limits<double>::infinity();
    b.real = -std::numeric_limits<double>::infinity();
    db.insert(a);
    db.insert(b);
    CHECK(read_back(db, a.id).real == std::numeric_limits<double>::infinity());
    CHECK(read_back(db, b.id).real == -std::numeric_limits<double>::infinity());
}

// ---- DDL -------------------------------------------------------------------------------------

TEST_CASE("schema_sql shows the DDL create_tables runs with FK targets first",
          "[models][ddl][sqlite]") {
    loom::Database db(test_url());
    // Given in reverse dependency order on purpose: publisher before book before review; the
    // join tables come after every model table.
    const auto sql = db.schema_sql<shop::Review, shop::Book, shop::Author, shop::Publisher>();
    const std::vector<std::string> expected = {
        "CREATE TABLE IF NOT EXISTS \"publisher\" (\n"
        "  \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "  \"name\" TEXT NOT NULL UNIQUE\n"
        ")",
        "CREATE TABLE IF NOT EXISTS \"book\" (\n"
        "  \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "  \"title\" TEXT NOT NULL,\n"
        "  \"year\" INTEGER NOT NULL,\n"
        "  \"publisher_id\" INTEGER NOT NULL REFERENCES \"publisher\" (\"id\") ON DELETE CASCADE\n"
        ")",
        "CREATE INDEX IF NOT EXISTS \"book_publisher_id_idx\" ON \"book\" (\"publisher_id\")",
        "CREATE TABLE IF NOT EXISTS \"review\" (\n"
        "  \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "  \"book_id\" INTEGER NOT NULL REFERENCES \"book\" (\"id\") ON DELETE CASCADE,\n"
        "  \"rating\" INTEGER NOT NULL,\n"
        "  \"body\" TEXT NOT NULL\n"
        ")",
        "CREATE INDEX IF NOT EXISTS \"review_book_id_idx\" ON \"review\" (\"book_id\")",
        "CREATE TABLE IF NOT EXISTS \"author\" (\n"
        "  \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "  \"name\" TEXT NOT NULL,\n"
        "  \"born\" INTEGER\n"
        ")",
        "CREATE TABLE IF NOT EXISTS \"book_authors\" (\n"
        "  \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "  \"book_id\" INTEGER NOT NULL REFERENCES \"book\" (\"id\") ON DELETE CASCADE,\n"
        "  \"author_id\" INTEGER NOT NULL REFERENCES \"author\" (\"id\") ON DELETE CASCADE,\n"
        "  UNIQUE (\"book_id\", \"author_id\")\n"
        ")",
        "CREATE INDEX IF NOT EXISTS \"book_authors_author_id_idx\" ON \"book_authors\" "
        "(\"author_id\")",
    };
    CHECK(sql == expected);
    CHECK(db.query_count() == 0);  // schema_sql only renders
    CHECK(user_tables(db).empty());
}

TEST_CASE("create_tables creates every table of the given models and their join tables",
          "[models][ddl]") {
    loom::Database db(test_url());
    shop::create_all(db);
    CHECK(user_tables(db) == std::set<std::string>{"author", "book", "book_authors", "club",
                                                   "employee", "membership", "person",
                                                   "person_friends", "profile", "publisher",
                                                   "review", "sample", "user"});
}

TEST_CASE("foreign keys are constraints with the descriptor's ON DELETE rule",
          "[models][ddl][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);

    SECTION("ForeignKey with on_delete::cascade") {
        auto fks = foreign_keys_of(db, "book");
        REQUIRE(fks.size() == 1);
        CHECK(fks.at("publisher_id").at("table") == "publisher");
        CHECK(fks.at("publisher_id").at("to") == "id");
        CHECK(fks.at("publisher_id").at("on_delete") == "CASCADE");
        CHECK(foreign_keys_of(db, "review").at("book_id").at("on_delete") == "CASCADE");
    }
    SECTION("self-referencing ForeignKey with on_delete::set_null") {
        auto fks = foreign_keys_of(db, "employee");
        REQUIRE(fks.size() == 1);
        CHECK(fks.at("manager_id").at("table") == "employee");
        CHECK(fks.at("manager_id").at("on_delete") == "SET NULL");
    }
    SECTION("OneToOne with on_delete::cascade") {
        auto fks = foreign_keys_of(db, "profile");
        REQUIRE(fks.size() == 1);
        CHECK(fks.at("user_id").at("table") == "user");
        CHECK(fks.at("user_id").at("on_delete") == "CASCADE");
    }
    SECTION("the default rule is RESTRICT; no_action adds no clause") {
        db.create_tables<test_models::Shelf, test_models::Item>();
        auto fks = foreign_keys_of(db, "item");
        REQUIRE(fks.size() == 2);
        CHECK(fks.at("shelf_id").at("on_delete") == "RESTRICT");
        CHECK(fks.at("spare_id").at("on_delete") == "NO ACTION");
    }
    SECTION("the join table references both sides with ON DELETE CASCADE") {
        auto fks = foreign_keys_of(db, "book_authors");
        REQUIRE(fks.size() == 2);
        CHECK(fks.at("book_id").at("table") == "book");
        CHECK(fks.at("book_id").at("on_delete") == "CASCADE");
        CHECK(fks.at("author_id").at("table") == "author");
        CHECK(fks.at("author_id").at("on_delete") == "CASCADE");
    }
}

TEST_CASE("NOT NULL follows the member type: optionals and nullable keys may be NULL",
          "[models][ddl][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    db.create_tables<test_models::Shelf, test_models::Item>();
    auto notnull = [&](const std::string& table, const std::string& column) {
        return columns_of(db, table).at(column).at("notnull") == "1";
    };
    CHECK(notnull("book", "title"));
    CHECK(notnull("book", "year"));
    CHECK(notnull("book", "publisher_id"));
    CHECK_FALSE(notnull("author", "born"));          // std::optional<int>
    CHECK_FALSE(notnull("employee", "manager_id"));  // on_delete::set_null implies nullable
    CHECK(notnull("profile", "user_id"));
    CHECK(notnull("item", "shelf_id"));
    CHECK_FALSE(notnull("item", "spare_id"));  // loom::nullable
    for (const char* c :
         {"flag", "tiny", "small", "normal", "big", "real", "text", "data", "color"})
        CHECK(notnull("sample", c));
    CHECK_FALSE(notnull("sample", "maybe_int"));
    CHECK_FALSE(notnull("sample", "maybe_text"));

    auto types = columns_of(db, "sample");
    CHECK(types.at("flag").at("type") == "INTEGER");
    CHECK(types.at("real").at("type") == "REAL");
    CHECK(types.at("text").at("type") == "TEXT");
    CHECK(types.at("data").at("type") == "BLOB");
    CHECK(types.at("color").at("type") == "INTEGER");
    CHECK(types.at("id").at("pk") == "1");
}

TEST_CASE("a OneToOne column is UNIQUE, so a second profile for one user is refused",
          "[models][ddl][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    CHECK(has_index(db, "profile", {"user_id"}, true));

    shop::User u;
    u.login = "ada";
    db.insert(u);
    shop::Profile p1, p2;
    p1.user = u;
    p2.user = u;
    db.insert(p1);
    CHECK_THROWS_AS(db.insert(p2), loom::ConstraintError);
    CHECK(count_rows(db, "profile") == 1);
}

TEST_CASE("unique and indexed fields get their index", "[models][ddl][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    db.create_tables<test_models::Shelf, test_models::Item>();
    CHECK(has_index(db, "publisher", {"name"}, true));
    CHECK(has_index(db, "item", {"sku"}, true));
    CHECK(has_index(db, "item", {"weight"}, false));
}

TEST_CASE("every foreign key column, join tables included, leads some index",
          "[models][ddl][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    db.create_tables<test_models::Shelf, test_models::Item, test_models::Order>();
    int checked = 0;
    for (const auto& table : user_tables(db)) {
        const auto indexes = indexes_of(db, table);
        // Iterating the keys by name, not with a structured binding: C++20 lets a lambda capture
        // a structured binding, but Clang 14 does not implement that yet (Clang 16 does).
        for (const auto& fk : foreign_keys_of(db, table)) {
            const std::string& column = fk.first;
            INFO(table << "." << column);
            CHECK(std::any_of(indexes.begin(), indexes.end(), [&](const IndexDesc& d) {
                return !d.columns.empty() && d.columns.front() == column;
            }));
            ++checked;
        }
    }
    // book, review, employee, profile, membership x2, book_authors x2, person_friends x2,
    // item x2, order
    CHECK(checked == 13);
    CHECK(has_index(db, "book", {"publisher_id"}, false));
    CHECK(has_index(db, "employee", {"manager_id"}, false));
    CHECK(has_index(db, "membership", {"person_id"}, false));
    CHECK(has_index(db, "membership", {"club_id"}, false));
}

TEST_CASE("a join table holds each pair once", "[models][ddl][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    CHECK(has_index(db, "book_authors", {"book_id", "author_id"}, true));
    CHECK(has_index(db, "book_authors", {"author_id"}, false));
    CHECK(columns_of(db, "book_authors").at("book_id").at("notnull") == "1");
    CHECK(columns_of(db, "book_authors").at("author_id").at("notnull") == "1");

    auto c = shop::seed_catalogue(db);
    const auto before = count_rows(db, "book_authors");
    CHECK_THROWS_AS(
        db.execute("INSERT INTO book_authors (book_id, author_id) VALUES (" +
                   std::to_string(c.omens.id) + ", " + std::to_string(c.gaiman.id) + ")"),
        loom::ConstraintError);
    CHECK(count_rows(db, "book_authors") == before);
}

TEST_CASE("a self many-to-many gets from_ and to_ columns", "[models][ddl][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    auto cols = columns_of(db, "person_friends");
    CHECK(cols.size() == 3);
    CHECK(cols.count("id") == 1);
    CHECK(cols.count("from_person_id") == 1);
    CHECK(cols.count("to_person_id") == 1);
    auto fks = foreign_keys_of(db, "person_friends");
    CHECK(fks.at("from_person_id").at("table") == "person");
    CHECK(fks.at("to_person_id").at("table") == "person");
    CHECK(has_index(db, "person_friends", {"from_person_id", "to_person_id"}, true));
}

TEST_CASE("a many-to-many through an explicit model uses that model's table, no join table",
          "[models][ddl][sqlite]") {
    loom::Database db(test_url());
    const auto sql = db.schema_sql<shop::Person, shop::Club, shop::Membership>();
    for (const auto& s : sql) CHECK(s.find("person_clubs") == std::string::npos);
    db.create_tables<shop::Person, shop::Club, shop::Membership>();
    CHECK(user_tables(db) ==
          std::set<std::string>{"club", "membership", "person", "person_friends"});
    auto cols = columns_of(db, "membership");
    CHECK(cols.size() == 4);
    CHECK(cols.count("role") == 1);
    auto fks = foreign_keys_of(db, "membership");
    CHECK(fks.at("person_id").at("table") == "person");
    CHECK(fks.at("club_id").at("table") == "club");
}

TEST_CASE("reserved words work as table and column names", "[models][ddl][sqlite]") {
    loom::Database db(test_url());
    db.create_tables<test_models::Order>();
    CHECK(columns_of(db, "order").count("select") == 1);
    test_models::Order a;
    a.group = "first";
    db.insert(a);
    test_models::Order b;
    b.group = "second";
    b.from = a;
    db.insert(b);
    auto rows = db.objects<test_models::Order>()
                    .filter(loom::col(&test_models::Order::group) == "second")
                    .to_vector();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].id == b.id);
    CHECK(rows[0].from.id() == a.id);
}

TEST_CASE("create_tables is idempotent and never touches existing rows", "[models][ddl]") {
    loom::Database db(test_url());
    shop::create_all(db);
    const auto c = shop::seed_catalogue(db);
    const auto statements =
        db.schema_sql<shop::Publisher, shop::Author, shop::Book, shop::Review, shop::Employee,
                      shop::Person, shop::Club, shop::Membership, shop::User, shop::Profile,
                      shop::Sample>();
    const auto q0 = db.query_count();
    shop::create_all(db);
    // BEGIN, every statement, COMMIT: nothing else (no DROP, no ALTER).
    CHECK(db.query_count() - q0 == static_cast<std::int64_t>(statements.size()) + 2);
    CHECK(count_rows(db, "publisher") == 2);
    CHECK(count_rows(db, "book") == 5);
    CHECK(count_rows(db, "book_authors") == 6);
    CHECK(count_rows(db, "review") == 6);
    CHECK(db.objects<shop::Book>().filter(loom::col(&shop::Book::id) == c.omens.id).get().title ==
          "Good Omens");
}

TEST_CASE("drop_tables drops the models' tables and join tables, dependents first",
          "[models][ddl]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::seed_catalogue(db);  // rows present: a wrong drop order would break a FOREIGN KEY
    const auto q0 = db.query_count();
    db.drop_tables<shop::Publisher, shop::Author, shop::Book, shop::Review>();
    // BEGIN, book_authors, then review, book, author, publisher, COMMIT; PostgreSQL: BEGIN, one
    // DROP TABLE naming the five, COMMIT
    CHECK(db.query_count() - q0 == (on_postgres() ? 3 : 7));
    CHECK(user_tables(db) == std::set<std::string>{"club", "employee", "membership", "person",
                                                   "person_friends", "profile", "sample", "user"});
    SECTION("dropping again is harmless") {
        db.drop_tables<shop::Publisher, shop::Author, shop::Book, shop::Review>();
        CHECK(user_tables(db).size() == 8);
    }
    SECTION("the tables can be created again, empty") {
        db.create_tables<shop::Publisher, shop::Author, shop::Book, shop::Review>();
        CHECK(count_rows(db, "book") == 0);
        CHECK(count_rows(db, "book_authors") == 0);
    }
}

}  // namespace models_test
