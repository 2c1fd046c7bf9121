// Primary keys that are not integers (issue 17, "Keys"): std::string keys the application
// assigns, foreign keys and many-to-many join tables that refer to them, and every way of
// loading relations (select_related, prefetch_related forward / reverse / many-to-many, nested,
// Prefetch objects, annotate_count, chunks, explicit loads). Each checks the rows and the exact
// number of statements run.
#include "catch.hpp"
#include "test_db.hpp"

#include <loom/loom.hpp>
#include <loom/testing.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace test_keys {

// A UUID, a user type: a key through loom::column_type, stored as its canonical text.
struct Uuid {
    std::array<unsigned char, 16> bytes{};
    friend auto operator<=>(const Uuid&, const Uuid&) = default;
    /// A UUID whose last byte is `n` (the rest 0x5a), for tests.
    static Uuid of(unsigned char n) {
        Uuid u;
        u.bytes.fill(0x5a);
        u.bytes[15] = n;
        return u;
    }
};

}  // namespace test_keys

template <> struct std::hash<test_keys::Uuid> {
    std::size_t operator()(const test_keys::Uuid& u) const noexcept {
        std::size_t h = 0;
        for (auto b : u.bytes) h = h * 131 + b;
        return h;
    }
};
template <> struct loom::column_type<test_keys::Uuid> {
    using storage = std::string;
    static std::string to_storage(const test_keys::Uuid& u) {
        static const char hex[] = "0123456789abcdef";
        std::string s;
        for (std::size_t i = 0; i < 16; ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
            s += hex[u.bytes[i] >> 4];
            s += hex[u.bytes[i] & 15];
        }
        return s;
    }
    static test_keys::Uuid from_storage(const std::string& s) {
        auto nibble = [](char c) {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            throw std::invalid_argument("not a lower-case UUID");
        };
        if (s.size() != 36) throw std::invalid_argument("a UUID has 36 characters");
        test_keys::Uuid u;
        std::size_t k = 0;
        for (std::size_t i = 0; i < 36; ++i) {
            if (i == 8 || i == 13 || i == 18 || i == 23) continue;
            u.bytes[k++] = static_cast<unsigned char>(nibble(s[i]) * 16 + nibble(s[i + 1]));
            ++i;
        }
        return u;
    }
};

namespace test_keys {

struct City;
struct Language;

// A country is known by its ISO code: a text primary key.
struct Country {
    std::string code;
    std::string name;
    loom::Reverse<City> cities;
    loom::ManyToMany<Language> languages;
    std::int64_t city_count = 0;  // annotate_count target
    loom::ReverseOne<struct Capital> capital;
};

// A city has an integer key and a foreign key to a text key.
struct City {
    std::int64_t id = 0;
    std::string name;
    loom::ForeignKey<Country, std::string> country;
    std::int64_t population = 0;
};

// Languages have text keys too: the join table between them holds two text columns.
struct Language {
    std::string iso;
    std::string name;
    loom::Reverse<Country> countries;
};

// A capital: a one-to-one onto a text key.
struct Capital {
    std::int64_t id = 0;
    loom::OneToOne<Country, std::string> country;
    std::string name;
};

constexpr auto loom_model(loom::model_of<Country>) {
    return loom::table("country", loom::pk(&Country::code, "code"),
                       loom::field(&Country::name, "name"),
                       loom::reverse(&Country::cities, &City::country),
                       loom::many_to_many(&Country::languages, "country_language"),
                       loom::reverse(&Country::capital, &Capital::country));
}
constexpr auto loom_model(loom::model_of<City>) {
    return loom::table("city", loom::pk(&City::id), loom::field(&City::name, "name"),
                       loom::foreign_key(&City::country, "country_code", loom::on_delete::cascade),
                       loom::field(&City::population, "population"));
}
constexpr auto loom_model(loom::model_of<Language>) {
    return loom::table("language", loom::pk(&Language::iso, "iso"),
                       loom::field(&Language::name, "name"),
                       loom::reverse(&Language::countries, &Country::languages));
}
constexpr auto loom_model(loom::model_of<Capital>) {
    return loom::table("capital", loom::pk(&Capital::id),
                       loom::one_to_one(&Capital::country, "country_code"),
                       loom::field(&Capital::name, "name"));
}

using Names = std::vector<std::string>;

template <class R> Names names(const R& range) {
    Names out;
    for (const auto& x : range) out.push_back(x.name);
    return out;
}

struct World {
    loom::Database db{test_url()};
    Country fr{.code = "FR", .name = "France"};
    Country de{.code = "DE", .name = "Germany"};
    Country is{.code = "IS", .name = "Iceland"};
    Language fre{.iso = "fr", .name = "French"};
    Language ger{.iso = "de", .name = "German"};
    Language bre{.iso = "br", .name = "Breton"};

    World() {
        db.create_tables<Country, City, Language, Capital>();
        db.insert(fr);
        db.insert(de);
        db.insert(is);
        db.insert(fre);
        db.insert(ger);
        db.insert(bre);
        std::vector<City> cities{{.name = "Paris", .country = fr, .population = 2100},
                                 {.name = "Lyon", .country = fr, .population = 520},
                                 {.name = "Berlin", .country = de, .population = 3600},
                                 {.name = "Brest", .country = fr, .population = 140}};
        db.bulk_insert(cities);
        db.m2m(fr, &Country::languages).add(fre, bre);
        db.m2m(de, &Country::languages).add(ger);
        Capital paris{.country = fr, .name = "Paris"};
        db.insert(paris);
    }
    loom::QuerySet<Country> countries() {
        return db.objects<Country>().order_by(loom::asc(&Country::code));
    }
};

TEST_CASE("a text primary key: insert, get, update, remove", "[keys]") {
    loom::Database db(test_url());
    db.create_tables<Country, City, Language, Capital>();

    SECTION("the DDL declares the key column TEXT, and the columns that refer to it") {
        const auto ddl = db.schema_sql<Country, City, Language>();
        std::string all;
        for (const auto& s : ddl) all += s + "\n";
        const std::string text = on_engine("TEXT", "text");
        CHECK(all.find("\"code\" " + text + " PRIMARY KEY NOT NULL") != std::string::npos);
        CHECK(all.find("\"country_code\" " + text + " NOT NULL") != std::string::npos);
        CHECK(all.find("REFERENCES \"country\" (\"code\")") != std::string::npos);
    }
    SECTION("insert keeps the key given; get and find take a key of its type") {
        Country nl{.code = "NL", .name = "Netherlands"};
        loom::expect_queries(db, 1, [&] { db.insert(nl); });
        CHECK(nl.code == "NL");
        const Country got =
            loom::expect_queries(db, 1, [&] { return db.objects<Country>().get("NL"); });
        CHECK(got.name == "Netherlands");
        CHECK_FALSE(db.objects<Country>().find(std::string("XX")).has_value());
        CHECK(db.objects<Country>().filter(loom::col(&Country::code) == "NL").count() == 1);
    }
    SECTION("update writes the row with that key; remove deletes it and empties the key") {
        Country nl{.code = "NL", .name = "Holland"};
        db.insert(nl);
        nl.name = "Netherlands";
        loom::expect_queries(db, 1, [&] { db.update(nl); });
        CHECK(db.query<std::string>("SELECT name FROM country WHERE code = ?", "NL") ==
              std::vector<std::string>{"Netherlands"});
        CHECK(loom::expect_queries(db, 1, [&] { return db.remove(nl); }));
        CHECK(nl.code.empty());
        CHECK(db.objects<Country>().count() == 0);
    }
    SECTION("save inserts an object whose row is gone, updates one that is there") {
        Country nl{.code = "NL", .name = "Holland"};
        db.save(nl);
        nl.name = "Netherlands";
        db.save(nl);
        CHECK(db.objects<Country>().get("NL").name == "Netherlands");
        CHECK(db.objects<Country>().count() == 1);
    }
    SECTION("an object without its key is refused, and nothing is written") {
        Country none{.name = "Nowhere"};
        CHECK_THROWS_WITH(db.insert(none),
                          Catch::Contains("Country.code is empty") &&
                              Catch::Contains("give the object its key before inserting it"));
        CHECK(db.objects<Country>().count() == 0);
    }
    SECTION("a duplicate key is a ConstraintError, and the first row stays") {
        Country a{.code = "NL", .name = "Netherlands"};
        Country b{.code = "NL", .name = "Other"};
        db.insert(a);
        CHECK_THROWS_AS(db.insert(b), loom::ConstraintError);
        CHECK(db.objects<Country>().get("NL").name == "Netherlands");
    }
    SECTION("update of a key with no row is DoesNotExist naming the key") {
        Country ghost{.code = "ZZ", .name = "Ghost"};
        CHECK_THROWS_WITH(db.update(ghost), Catch::Contains("code\" = 'ZZ'"));
    }
    SECTION("a stored key of another type is a DataError naming the column") {
        // (SQLite turns an INTEGER into TEXT in a TEXT column; a BLOB stays a BLOB.) SQLite
        // only: PostgreSQL stores the bytea's text form in a text column.
        if (on_postgres()) return;
        db.execute("INSERT INTO country (code, name) VALUES (?, ?)", loom::Blob{std::byte{7}},
                   "Seven");
        CHECK_THROWS_WITH(db.objects<Country>().to_vector(),
                          Catch::Contains("Country.code") && Catch::Contains("expected TEXT") &&
                              Catch::Contains("BLOB of 1 bytes"));
    }
}

TEST_CASE("foreign keys to a text key", "[keys]") {
    World w;
    SECTION("the key is stored and read back") {
        const City paris = w.db.objects<City>().get(loom::col(&City::name) == "Paris");
        REQUIRE(paris.country.id());
        CHECK(*paris.country.id() == "FR");
        CHECK(w.db.objects<City>().filter(loom::col(&City::country) == w.fr).count() == 3);
        CHECK(w.db.objects<City>().filter(loom::col(&City::country) == "DE").count() == 1);
    }
    SECTION("a key that matches no row is refused by the database, naming the key") {
        City atlantis{.name = "Atlantis", .country = std::string("AT")};
        CHECK_THROWS_WITH(w.db.insert(atlantis),
                          Catch::Contains("City.country_code = 'AT' matches no Country"));
        CHECK(w.db.objects<City>().count() == 4);
    }
    SECTION("on_delete cascade follows the text key, into the join table too") {
        CHECK(w.db.remove(w.de));
        CHECK(w.db.objects<City>().count() == 3);
        CHECK(w.db.query<std::int64_t>("SELECT count(*) FROM country_language").front() == 2);
    }
    SECTION("a restrict foreign key refuses the delete, and the row and its key stay") {
        // Its Capital: named from the descriptors (the engine looks rows up by integer keys).
        CHECK_THROWS_WITH(w.db.remove(w.fr),
                          Catch::EndsWith("Country code='FR' is still referred to by a row of "
                                          "\"capital\".\"country_code\" (a restrict foreign "
                                          "key); delete or reassign those rows first, or declare "
                                          "the foreign key on_delete::cascade or set_null"));
        CHECK(w.fr.code == "FR");
        CHECK(w.db.objects<Country>().count() == 3);
        CHECK_THROWS_WITH(w.db.objects<Country>().remove(),
                          Catch::EndsWith("a Country row this remove() matches is still referred "
                                          "to by a row of \"capital\".\"country_code\" (a "
                                          "restrict foreign key); delete or reassign those rows "
                                          "first, or declare the foreign key on_delete::cascade "
                                          "or set_null; nothing was deleted"));
        CHECK(w.db.objects<Country>().count() == 3);
        CHECK(w.db.objects<City>().count() == 4);
    }
    SECTION("select_related joins the row of the text key") {
        auto cities = loom::expect_queries(w.db, 1, [&] {
            return w.db.objects<City>()
                .select_related(&City::country)
                .order_by(loom::asc(&City::id))
                .to_vector();
        });
        REQUIRE(cities.size() == 4);
        CHECK(cities[0].country->name == "France");
        CHECK(cities[2].country->name == "Germany");
        CHECK(cities[0].country.get() == cities[1].country.get());  // one object, shared
    }
    SECTION("select_related on a one-to-one and its reverse side") {
        auto capitals = loom::expect_queries(w.db, 1, [&] {
            return w.db.objects<Capital>().select_related(&Capital::country).to_vector();
        });
        REQUIRE(capitals.size() == 1);
        CHECK(capitals[0].country->code == "FR");
    }
}

TEST_CASE("prefetch_related with text keys", "[keys]") {
    World w;
    SECTION("forward: the countries of cities, one query") {
        auto cities = loom::expect_queries(w.db, 2, [&] {
            return w.db.objects<City>()
                .order_by(loom::asc(&City::id))
                .prefetch_related(&City::country)
                .to_vector();
        });
        CHECK(cities[0].country->name == "France");
        CHECK(cities[2].country->name == "Germany");
        CHECK(cities[0].country.get() == cities[3].country.get());
    }
    SECTION("reverse: the cities of countries, keyed by the text key") {
        auto countries = loom::expect_queries(
            w.db, 2, [&] { return w.countries().prefetch_related(&Country::cities).to_vector(); });
        REQUIRE(countries.size() == 3);  // DE, FR, IS
        CHECK(names(countries[0].cities) == Names{"Berlin"});
        CHECK(names(countries[1].cities) == Names{"Paris", "Lyon", "Brest"});
        CHECK(countries[2].cities.empty());
        // Back references: each city's country is loaded with it, with no query.
        loom::expect_queries(w.db, 0,
                             [&] { CHECK(countries[1].cities[0].country->name == "France"); });
    }
    SECTION("many-to-many between two text keys, both sides") {
        auto countries = loom::expect_queries(w.db, 2, [&] {
            return w.countries().prefetch_related(&Country::languages).to_vector();
        });
        CHECK(names(countries[0].languages) == Names{"German"});
        CHECK(names(countries[1].languages) == Names{"Breton", "French"});
        auto languages = loom::expect_queries(w.db, 2, [&] {
            return w.db.objects<Language>()
                .order_by(loom::asc(&Language::iso))
                .prefetch_related(&Language::countries)
                .to_vector();
        });
        CHECK(names(languages[0].countries) == Names{"France"});   // br
        CHECK(names(languages[1].countries) == Names{"Germany"});  // de
    }
    SECTION("nested: cities, their countries, the countries' languages") {
        auto cities = loom::expect_queries(w.db, 3, [&] {
            return w.db.objects<City>()
                .order_by(loom::asc(&City::id))
                .prefetch_related(loom::path(&City::country, &Country::languages))
                .to_vector();
        });
        CHECK(names(cities[0].country->languages) == Names{"Breton", "French"});
        CHECK(names(cities[2].country->languages) == Names{"German"});
    }
    SECTION("a Prefetch with its own queryset, sliced per parent") {
        auto countries = loom::expect_queries(w.db, 2, [&] {
            return w.countries()
                .prefetch_related(loom::Prefetch(
                    &Country::cities,
                    w.db.objects<City>().order_by(loom::desc(&City::population)).limit(2)))
                .to_vector();
        });
        CHECK(names(countries[1].cities) == Names{"Paris", "Lyon"});
        CHECK(names(countries[0].cities) == Names{"Berlin"});
    }
    SECTION("annotate_count per text key") {
        auto countries = loom::expect_queries(w.db, 2, [&] {
            return w.countries().annotate_count(&Country::cities, &Country::city_count).to_vector();
        });
        CHECK(countries[0].city_count == 1);
        CHECK(countries[1].city_count == 3);
        CHECK(countries[2].city_count == 0);
    }
    SECTION("chunks: keyset pagination on the text key, prefetching per chunk") {
        std::vector<Names> seen;
        loom::expect_queries(w.db, 4, [&] {
            for (auto& chunk : w.countries().prefetch_related(&Country::cities).chunks(2)) {
                seen.emplace_back();
                for (const Country& c : chunk)
                    seen.back().push_back(c.code + ":" + std::to_string(c.cities.size()));
            }
        });
        CHECK(seen == std::vector<Names>{{"DE:1", "FR:3"}, {"IS:0"}});
    }
    SECTION("key lists past the variable limit are split into chunks") {
        w.db.set_variable_limit(2);
        // (PostgreSQL binds every key list as one text[] parameter: no chunks.)
        auto countries = loom::expect_queries(w.db, on_postgres() ? 2 : 3, [&] {
            return w.countries().prefetch_related(&Country::cities).to_vector();
        });
        CHECK(names(countries[1].cities) == Names{"Paris", "Lyon", "Brest"});
    }
    SECTION("prefetch_related_objects and db.load on objects in hand") {
        std::vector<Country> mine{w.fr, w.de};
        loom::expect_queries(w.db, 1,
                             [&] { loom::prefetch_related_objects(w.db, mine, &Country::cities); });
        CHECK(mine[0].cities.size() == 3);
        Country fr = w.db.objects<Country>().get("FR");
        loom::expect_queries(w.db, 1, [&] { w.db.load(fr, &Country::languages); });
        CHECK(names(fr.languages) == Names{"Breton", "French"});
    }
    SECTION("load() on a forward key to a text key, and on the lists of a text-keyed owner") {
        City paris = w.db.objects<City>().get(loom::col(&City::name) == "Paris");
        loom::expect_queries(w.db, 1, [&] { paris.country.load(w.db); });
        CHECK(paris.country->name == "France");
        Country fr = w.db.objects<Country>().get("FR");
        loom::expect_queries(w.db, 1, [&] { fr.cities.load(w.db); });
        CHECK(names(fr.cities) == Names{"Paris", "Lyon", "Brest"});
        loom::expect_queries(w.db, 1, [&] { fr.languages.load(w.db); });
        CHECK(names(fr.languages) == Names{"Breton", "French"});
        Language ger = w.db.objects<Language>().get("de");
        loom::expect_queries(w.db, 1, [&] { ger.countries.load(w.db); });
        CHECK(names(ger.countries) == Names{"Germany"});
    }
    SECTION("a list keeps its owner's text key through copies, moves and its owner's end") {
        loom::Reverse<City> cities;
        {
            auto all = w.countries().to_vector();  // DE, FR, IS
            loom::Reverse<City> copy = all[1].cities;
            cities = std::move(copy);
            copy.load(w.db);  // a moved-from list still knows its owner
            CHECK(copy.size() == 3);
        }
        loom::expect_queries(w.db, 1, [&] { cities.load(w.db); });
        CHECK(names(cities) == Names{"Paris", "Lyon", "Brest"});
        cities.load(w.db);  // again, once loaded: the key stays with the list
        CHECK(cities.size() == 3);
    }
    SECTION("a list of an object inserted, upserted or made by get_or_create loads by its key") {
        Country nl{.code = "NL", .name = "Netherlands"};
        w.db.insert(nl);
        City ams{.name = "Amsterdam", .country = nl};
        w.db.insert(ams);
        loom::expect_queries(w.db, 1, [&] { nl.cities.load(w.db); });
        CHECK(names(nl.cities) == Names{"Amsterdam"});
        Country be{.code = "BE", .name = "Belgium"};
        w.db.upsert(be);
        be.cities.load(w.db);
        CHECK(be.cities.empty());
        auto [lu, created] = w.db.get_or_create(Country{.code = "LU", .name = "Luxembourg"});
        CHECK(created);
        lu.cities.load(w.db);
        CHECK(lu.cities.empty());
        auto [fr, found] = w.db.get_or_create(Country{.code = "FR", .name = "?"});
        CHECK_FALSE(found);
        fr.cities.load(w.db);
        CHECK(fr.cities.size() == 3);
    }
    SECTION("load() on a ReverseOne of a text-keyed owner") {
        Country fr = w.db.objects<Country>().get("FR");
        loom::expect_queries(w.db, 1, [&] { fr.capital.load(w.db); });
        REQUIRE(fr.capital.has_value());
        CHECK(fr.capital->name == "Paris");
        Country de = w.db.objects<Country>().get("DE");
        de.capital.load(w.db);
        CHECK_FALSE(de.capital.has_value());
    }
    SECTION("text keys are one array parameter (past json_keys_above on SQLite)") {
        w.db.set_json_keys_above(2);
        w.db.set_variable_limit(2);  // an IN list would need two chunks
        std::vector<std::string> sql;
        std::vector<loom::Value> params;
        auto sub = w.db.on_query([&](const loom::QueryEvent& e) {
            sql.emplace_back(e.sql);
            params.assign(e.params.begin(), e.params.end());
        });
        const auto countries = w.countries().prefetch_related(&Country::cities).to_vector();
        REQUIRE(sql.size() == 2);
        CHECK(sql[1].find(on_engine("WHERE t0.\"country_code\" IN (SELECT value FROM "
                                    "json_each(?))",
                                    "WHERE t0.\"country_code\" = ANY(?::text[])")) !=
              std::string::npos);
        REQUIRE(params.size() == 1);
        CHECK(std::get<std::string>(params[0]) ==
              on_engine(R"(["DE","FR","IS"])", R"({"DE","FR","IS"})"));
        CHECK(names(countries[1].cities) == Names{"Paris", "Lyon", "Brest"});
        // Keys holding the array syntax's own characters are data.
        Country odd{.code = "a\"b\\c,{d}", .name = "Odd"};
        w.db.insert(odd);
        City c{.name = "Oddville", .country = odd, .population = 1};
        w.db.insert(c);
        const auto all = w.countries().prefetch_related(&Country::cities).to_vector();
        REQUIRE(all.size() == 4);
        CHECK(names(all[3].cities) == Names{"Oddville"});
    }
    SECTION("a dangling text key names the key") {
        w.db.execute(on_engine("PRAGMA foreign_keys = OFF",
                               "ALTER TABLE city DROP CONSTRAINT city_country_code_fkey"));
        w.db.execute("UPDATE city SET country_code = ? WHERE name = ?", "XX", "Brest");
        CHECK_THROWS_WITH(w.db.objects<City>().prefetch_related(&City::country).to_vector(),
                          Catch::Contains("country_code 'XX' matches no Country"));
    }
}

TEST_CASE("many-to-many writes with text keys", "[keys]") {
    World w;
    SECTION("add is idempotent, remove and set keep the loaded list true") {
        Country fr = w.countries().prefetch_related(&Country::languages).get("FR");
        // BEGIN, the INSERT ... ON CONFLICT DO NOTHING that skips the existing link, COMMIT.
        loom::expect_queries(w.db, 3, [&] { w.db.m2m(fr, &Country::languages).add(w.fre); });
        CHECK(names(fr.languages) == Names{"Breton", "French"});
        w.db.m2m(fr, &Country::languages).remove(w.bre);
        CHECK(names(fr.languages) == Names{"French"});
        w.db.m2m(fr, &Country::languages).set(std::vector{w.ger, w.fre});
        CHECK(w.db.query<std::string>(
                  "SELECT language_id FROM country_language WHERE country_id = ? ORDER BY 1",
                  "FR") == std::vector<std::string>{"de", "fr"});
    }
    SECTION("linking an object without its key is refused") {
        Language none{.name = "None"};
        CHECK_THROWS_WITH(w.db.m2m(w.fr, &Country::languages).add(none),
                          Catch::Contains("insert the Language before linking it"));
    }
}

// ---- UUID keys: a user type (loom::column_type<Uuid> + std::hash) as the primary key -------

struct Login;
struct Team;

// An account is known by a UUID the application makes.
struct Account {
    Uuid id;
    std::string name;
    loom::Reverse<Login> logins;
    loom::ManyToMany<Team> teams;
};
// A login has an integer key and a foreign key to the UUID key.
struct Login {
    std::int64_t id = 0;
    loom::ForeignKey<Account, Uuid> account;
    std::string device;
};
// A team has an integer key; its many-to-many with accounts joins an integer and a UUID.
struct Team {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Account> members;
};

constexpr auto loom_model(loom::model_of<Account>) {
    return loom::table("account", loom::pk(&Account::id), loom::field(&Account::name, "name"),
                       loom::reverse(&Account::logins, &Login::account),
                       loom::many_to_many(&Account::teams, "account_team"));
}
constexpr auto loom_model(loom::model_of<Login>) {
    return loom::table("login", loom::pk(&Login::id),
                       loom::foreign_key(&Login::account, "account_id", loom::on_delete::cascade),
                       loom::field(&Login::device, "device"));
}
constexpr auto loom_model(loom::model_of<Team>) {
    return loom::table("team", loom::pk(&Team::id), loom::field(&Team::name, "name"),
                       loom::reverse(&Team::members, &Account::teams));
}

struct Accounts {
    loom::Database db{":memory:"};
    Account ann{.id = Uuid::of(1), .name = "Ann"};
    Account bob{.id = Uuid::of(2), .name = "Bob"};
    Team red{.name = "red"};
    Team blue{.name = "blue"};

    Accounts() {
        db.create_tables<Account, Login, Team>();
        db.insert(ann);
        db.insert(bob);
        db.insert(red);
        db.insert(blue);
        std::vector<Login> logins{{.account = ann, .device = "phone"},
                                  {.account = bob, .device = "laptop"},
                                  {.account = ann, .device = "tablet"}};
        db.bulk_insert(logins);
        db.m2m(ann, &Account::teams).add(red, blue);
        db.m2m(bob, &Account::teams).add(red);
    }
    loom::QuerySet<Account> accounts() {
        return db.objects<Account>().order_by(loom::asc(&Account::name));
    }
};

TEST_CASE("a UUID primary key (a user type) works end to end", "[keys]") {
    Accounts w;
    const std::string ann_text = "5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a01";

    SECTION("the key is stored as the adapter's text, in a TEXT column, and get takes a Uuid") {
        CHECK(w.db.query<std::string>("SELECT id FROM account ORDER BY name").front() == ann_text);
        CHECK(w.db.query<std::string>("SELECT account_id FROM login ORDER BY id").front() ==
              ann_text);
        std::string ddl;
        for (const auto& q : w.db.schema_sql<Account, Login>()) ddl += q + "\n";
        CHECK(ddl.find("\"id\" TEXT PRIMARY KEY NOT NULL") != std::string::npos);
        CHECK(ddl.find("\"account_id\" TEXT NOT NULL") != std::string::npos);
        const Account got =
            loom::expect_queries(w.db, 1, [&] { return w.db.objects<Account>().get(Uuid::of(2)); });
        CHECK(got.name == "Bob");
        CHECK_FALSE(w.db.objects<Account>().find(Uuid::of(9)).has_value());
        CHECK(w.db.objects<Account>().filter(loom::col(&Account::id) == Uuid::of(1)).count() == 1);
    }
    SECTION("update and remove find the row by its UUID; remove empties the key") {
        Account ann = w.ann;
        ann.name = "Anne";
        loom::expect_queries(w.db, 1, [&] { w.db.update(ann); });
        CHECK(w.db.objects<Account>().get(Uuid::of(1)).name == "Anne");
        CHECK(loom::expect_queries(w.db, 1, [&] { return w.db.remove(ann); }));
        CHECK(ann.id == Uuid{});
        CHECK(w.db.objects<Account>().count() == 1);
        CHECK(w.db.objects<Login>().count() == 1);  // on_delete cascade
        CHECK(w.db.query<std::int64_t>("SELECT count(*) FROM account_team").front() == 1);
    }
    SECTION("a duplicate UUID is a ConstraintError; a foreign key to no account names the key") {
        Account again{.id = Uuid::of(1), .name = "Other"};
        CHECK_THROWS_AS(w.db.insert(again), loom::ConstraintError);
        Login stray{.account = Uuid::of(9), .device = "toaster"};
        CHECK_THROWS_WITH(w.db.insert(stray),
                          Catch::EndsWith("Login.account_id = "
                                          "'5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a09' matches no "
                                          "Account"));
        CHECK(w.db.objects<Login>().count() == 3);
    }
    SECTION("select_related joins the account of each login") {
        auto logins = loom::expect_queries(w.db, 1, [&] {
            return w.db.objects<Login>()
                .select_related(&Login::account)
                .order_by(loom::asc(&Login::id))
                .to_vector();
        });
        REQUIRE(logins.size() == 3);
        CHECK(logins[0].account->name == "Ann");
        CHECK(logins[1].account->name == "Bob");
        CHECK(logins[0].account.get() == logins[2].account.get());
    }
    SECTION("prefetch_related forward and reverse over the UUID key") {
        auto logins = loom::expect_queries(w.db, 2, [&] {
            return w.db.objects<Login>()
                .order_by(loom::asc(&Login::id))
                .prefetch_related(&Login::account)
                .to_vector();
        });
        CHECK(logins[1].account->id == Uuid::of(2));
        auto accounts = loom::expect_queries(w.db, 2, [&] {
            return w.accounts()
                .prefetch_related(loom::Prefetch(
                    &Account::logins, w.db.objects<Login>().order_by(loom::asc(&Login::id))))
                .to_vector();
        });
        REQUIRE(accounts.size() == 2);
        CHECK(accounts[0].logins.size() == 2);
        CHECK(accounts[0].logins[1].device == "tablet");
        CHECK(accounts[1].logins[0].device == "laptop");
        loom::expect_queries(w.db, 0, [&] { CHECK(accounts[0].logins[0].account->name == "Ann"); });
    }
    SECTION("prefetch_related of the many-to-many, from both sides") {
        auto accounts = loom::expect_queries(
            w.db, 2, [&] { return w.accounts().prefetch_related(&Account::teams).to_vector(); });
        CHECK(names(accounts[0].teams) == Names{"red", "blue"});
        CHECK(names(accounts[1].teams) == Names{"red"});
        auto teams = loom::expect_queries(w.db, 2, [&] {
            return w.db.objects<Team>()
                .order_by(loom::asc(&Team::id))
                .prefetch_related(loom::Prefetch(&Team::members, w.accounts()))
                .to_vector();
        });
        CHECK(names(teams[0].members) == Names{"Ann", "Bob"});
        CHECK(names(teams[1].members) == Names{"Ann"});
    }
    SECTION("nested: logins, their accounts, the accounts' teams") {
        auto logins = loom::expect_queries(w.db, 3, [&] {
            return w.db.objects<Login>()
                .order_by(loom::asc(&Login::id))
                .prefetch_related(loom::path(&Login::account, &Account::teams))
                .to_vector();
        });
        CHECK(names(logins[1].account->teams) == Names{"red"});
    }
    SECTION("load() on the lists of a UUID-keyed object, and on the reverse many-to-many") {
        Account ann = w.db.objects<Account>().get(Uuid::of(1));
        loom::expect_queries(w.db, 1, [&] { ann.logins.load(w.db); });
        CHECK(ann.logins.size() == 2);
        loom::expect_queries(w.db, 1, [&] { ann.teams.load(w.db); });
        CHECK(names(ann.teams) == Names{"red", "blue"});
        Team red = w.db.objects<Team>().get(w.red.id);
        loom::expect_queries(w.db, 1, [&] { red.members.load(w.db); });
        CHECK(names(red.members) == Names{"Ann", "Bob"});
    }
    SECTION("many-to-many writes and db.load") {
        Account bob = w.db.objects<Account>().get(Uuid::of(2));
        w.db.m2m(bob, &Account::teams).set(std::vector{w.blue});
        loom::expect_queries(w.db, 1, [&] { w.db.load(bob, &Account::teams); });
        CHECK(names(bob.teams) == Names{"blue"});
        CHECK(w.db.query<std::string>(
                  "SELECT account_id FROM account_team WHERE team_id = ? ORDER BY 1", w.blue.id) ==
              std::vector<std::string>{ann_text, "5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a02"});
    }
}

}  // namespace test_keys
