// Primary keys that are not integers (issue 17, "Keys"): std::string keys the application
// assigns, foreign keys and many-to-many join tables that refer to them, and every way of
// loading relations (select_related, prefetch_related forward / reverse / many-to-many, nested,
// Prefetch objects, annotate_count, chunks, explicit loads). Each checks the rows and the exact
// number of statements run.
#include "catch.hpp"
#include "test_db.hpp"

#include <loom/loom.hpp>
#include <loom/testing.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
                       loom::many_to_many(&Country::languages, "country_language"));
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
        CHECK_THROWS_AS(w.db.remove(w.fr), loom::ConstraintError);  // its Capital
        CHECK(w.fr.code == "FR");
        CHECK(w.db.objects<Country>().count() == 3);
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
    SECTION("load() on a forward key to a text key; a list of a text-keyed owner says db.load") {
        City paris = w.db.objects<City>().get(loom::col(&City::name) == "Paris");
        loom::expect_queries(w.db, 1, [&] { paris.country.load(w.db); });
        CHECK(paris.country->name == "France");
        Country fr = w.db.objects<Country>().get("FR");
        CHECK_THROWS_WITH(fr.cities.load(w.db),
                          Catch::Contains("use db.load") || Catch::Contains("db.load(object"));
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

}  // namespace test_keys
