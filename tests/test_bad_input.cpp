// Bad input (issue #3): strings full of quotes, semicolons, LIKE wildcards, backslashes, NUL
// bytes and invalid UTF-8 go through every filter and every write as bound parameters and come
// back byte for byte; an empty in() list is valid SQL; slice bounds that are negative or
// overflow, and builders called after a slice, are clear errors that run nothing.
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace bad_input_spec {

using loom_test::message_of;

using namespace shop;
using loom::col;
using Strings = std::vector<std::string>;

/// True when PostgreSQL's text can hold `s`: well-formed UTF-8 (no surrogate, no overlong
/// form), no NUL byte.
bool postgres_text(const std::string& s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0) return false;
        std::size_t len = c < 0x80         ? 1
                          : (c >> 5) == 6  ? 2
                          : (c >> 4) == 14 ? 3
                          : (c >> 3) == 30 ? 4
                                           : 0;
        if (len == 0 || i + len > s.size()) return false;
        std::uint32_t cp = len == 1 ? c : c & (0x7f >> len);
        for (std::size_t k = 1; k < len; ++k) {
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d >> 6) != 2) return false;
            cp = (cp << 6) | (d & 0x3f);
        }
        static const std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

/// Strings that break code which pastes values into SQL or treats them as C strings. All
/// different, byte for byte ("nul" and "nul\0byte", "" and "\0" included on purpose). On
/// PostgreSQL, whose text holds neither a NUL byte nor invalid UTF-8, those are left out (the
/// errors they give are tested on their own below).
const Strings& nasty() {
    static const Strings all = [] {
        Strings v = {
            "O'Brien",
            "''",
            "\"double\" quotes",
            "'; DROP TABLE author; --",
            "Robert'); DELETE FROM book; --",
            "semi;colon;",
            "100%",
            "%",
            "_",
            "under_score",
            "back\\slash",
            "\\",
            "\\%",
            "\\_",
            "?",
            "?1",
            ":name",
            "@p $1",
            "nul",
            std::string("nul\0byte", 8),
            std::string("\0", 1),
            std::string("\0\0lead", 6),
            "",
            "\xff\xfe\xfd",
            "caf\xc3",
            "\xc3\x28",
            "\xed\xa0\x80",
            "caf\xc3\xa9",
            "new\nline\ttab\r",
            "  spaces  ",
            "GLOB*[x]",
        };
        if (on_postgres()) std::erase_if(v, [](const std::string& x) { return !postgres_text(x); });
        return v;
    }();
    return all;
}

using loom_test::has;

/// A LIKE pattern that matches `s` literally (loom's like() uses `\` as its escape).
std::string like_literal(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

/// One Author per nasty string, in order; their names read back in key order.
struct NastyAuthors {
    loom::Database db{test_url()};
    std::vector<Author> authors;
    NastyAuthors() {
        create_all(db);
        for (const auto& s : nasty()) {
            Author a;
            a.name = s;
            db.insert(a);
            authors.push_back(a);
        }
    }
    Strings names(const loom::QuerySet<Author>& qs) {
        Strings out;
        for (const Author& a : qs) out.push_back(a.name);
        return out;
    }
    /// The nasty strings for which `pred(name)` holds, in key order.
    template <class Pred> Strings expected(Pred pred) const {
        Strings out;
        for (const auto& s : nasty())
            if (pred(s)) out.push_back(s);
        return out;
    }
};

TEST_CASE("Bad input: strings written by insert read back byte for byte", "[bad_input]") {
    NastyAuthors t;
    const auto before = t.db.query_count();
    CHECK(t.names(t.db.objects<Author>()) == nasty());
    CHECK(t.db.query_count() - before == 1);
    CHECK(t.db.objects<Author>().count() == static_cast<std::int64_t>(nasty().size()));
    CHECK(t.db.objects<Author>().values_list(&Author::name).size() == nasty().size());
    for (const auto& [name] : t.db.objects<Author>().values_list(&Author::name))
        CHECK(std::find(nasty().begin(), nasty().end(), name) != nasty().end());
}

TEST_CASE("Bad input: == and != match each string exactly", "[bad_input][filter]") {
    NastyAuthors t;
    const auto n = static_cast<std::int64_t>(nasty().size());
    const auto before = t.db.query_count();
    for (const auto& s : nasty()) {
        INFO("value of " << s.size() << " bytes: " << s);
        CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name) == s)) == Strings{s});
        CHECK(t.db.objects<Author>().filter(col(&Author::name) != s).count() == n - 1);
        CHECK(t.db.objects<Author>().get(col(&Author::name) == s).name == s);
    }
    CHECK(t.db.query_count() - before == 3 * n);
}

TEST_CASE("Bad input: in() and not_in() match each string exactly", "[bad_input][filter]") {
    NastyAuthors t;
    for (const auto& s : nasty()) {
        INFO("value of " << s.size() << " bytes: " << s);
        CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).in(Strings{s}))) ==
              Strings{s});
        CHECK(t.names(t.db.objects<Author>().filter(
                  col(&Author::name).in({s, std::string("x")}))) == Strings{s});
    }
    CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).in(nasty()))) == nasty());
    CHECK(t.db.objects<Author>().filter(col(&Author::name).not_in(nasty())).count() == 0);
    const Strings firsts(nasty().begin(), nasty().begin() + 10);
    const Strings rest(nasty().begin() + 10, nasty().end());
    CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).not_in(firsts))) == rest);
}

TEST_CASE("Bad input: like() with escaped wildcards matches the string literally",
          "[bad_input][filter]") {
    NastyAuthors t;
    // SQLite's LIKE compares characters, not bytes: it reads a stored value up to its first NUL
    // byte and decodes invalid UTF-8 as U+FFFD. Byte-exact matching is contains() & co.
    auto as_like_sees = [](const std::string& name) { return name.substr(0, name.find('\0')); };
    const Strings invalid_utf8 = {"\xff\xfe\xfd", "caf\xc3", "\xc3\x28", "\xed\xa0\x80"};
    for (const auto& s : nasty()) {
        if (s.find('\0') != std::string::npos) continue;  // see the next test case
        INFO("value of " << s.size() << " bytes: " << s);
        const auto exact =
            t.names(t.db.objects<Author>().filter(col(&Author::name).like(like_literal(s))));
        CHECK(std::find(exact.begin(), exact.end(), s) != exact.end());
        if (std::find(invalid_utf8.begin(), invalid_utf8.end(), s) != invalid_utf8.end()) continue;
        // LIKE folds ASCII case, and none of the strings differ only by case.
        CHECK(exact ==
              t.expected([&](const std::string& name) { return as_like_sees(name) == s; }));
        const auto inside = t.names(
            t.db.objects<Author>().filter(col(&Author::name).like("%" + like_literal(s) + "%")));
        CHECK(inside == t.expected([&](const std::string& name) {
            return as_like_sees(name).find(s) != std::string::npos;
        }));
    }
    SECTION("an unescaped % and _ are wildcards") {
        CHECK(t.db.objects<Author>().filter(col(&Author::name).like("%")).count() ==
              static_cast<std::int64_t>(nasty().size()));
        // One character each; the encoded lone surrogate is one U+FFFD to SQLite's LIKE (not on
        // PostgreSQL: it cannot be stored there).
        CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).like("_"))) ==
              (on_postgres() ? Strings{"%", "_", "\\", "?"}
                             : Strings{"%", "_", "\\", "?", "\xed\xa0\x80"}));
        CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).like("\\_"))) ==
              Strings{"_"});
    }
}

TEST_CASE("Bad input: like() rejects a NUL byte in its pattern, which SQLite would cut short",
          "[bad_input][filter]") {
    NastyAuthors t;
    const auto before = t.db.query_count();
    const auto msg = message_of<loom::UsageError>(
        [&] { (void)col(&Author::name).like(std::string("nul\0byte", 8)); });
    CHECK(has(msg, "like(): the pattern contains a NUL byte"));
    CHECK(has(msg, "contains()"));
    CHECK(t.db.query_count() == before);
}

TEST_CASE("Bad input: contains, starts_with and ends_with treat every byte literally",
          "[bad_input][filter]") {
    NastyAuthors t;
    const auto before = t.db.query_count();
    for (const auto& s : nasty()) {
        INFO("needle of " << s.size() << " bytes: " << s);
        CHECK(
            t.names(t.db.objects<Author>().filter(col(&Author::name).contains(s))) ==
            t.expected([&](const std::string& name) { return name.find(s) != std::string::npos; }));
        CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).starts_with(s))) ==
              t.expected([&](const std::string& name) { return name.starts_with(s); }));
        CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).ends_with(s))) ==
              t.expected([&](const std::string& name) { return name.ends_with(s); }));
    }
    CHECK(t.db.query_count() - before == 3 * static_cast<std::int64_t>(nasty().size()));
    SECTION("% and _ are plain bytes") {
        CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).contains("%"))) ==
              Strings{"100%", "%", "\\%"});
        CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).ends_with("_"))) ==
              Strings{"_", "\\_"});
        CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).starts_with("nul"))) ==
              (on_postgres() ? Strings{"nul"} : Strings{"nul", std::string("nul\0byte", 8)}));
    }
}

TEST_CASE("Bad input: between() and a filter across a relation bind their strings",
          "[bad_input][filter]") {
    NastyAuthors t;
    for (const auto& s : nasty()) {
        INFO("value of " << s.size() << " bytes: " << s);
        CHECK(t.names(t.db.objects<Author>().filter(col(&Author::name).between(s, s))) ==
              Strings{s});
    }
    // Books published by a publisher with a nasty name, found through the join.
    for (std::size_t i = 0; i < 4; ++i) {
        Publisher p;
        p.name = nasty()[i * 6];
        t.db.insert(p);
        Book b;
        b.title = nasty()[i * 6 + 1];
        b.publisher = p;
        t.db.insert(b);
    }
    for (std::size_t i = 0; i < 4; ++i) {
        const auto books = t.db.objects<Book>()
                               .filter(col(&Book::publisher, &Publisher::name) == nasty()[i * 6])
                               .to_vector();
        REQUIRE(books.size() == 1);
        CHECK(books[0].title == nasty()[i * 6 + 1]);
    }
}

TEST_CASE("Bad input: every write stores the strings byte for byte", "[bad_input][write]") {
    NastyAuthors t;
    const auto n = nasty().size();
    // Each author gets the name of the next one, so every value really changes.
    auto shifted = [&](std::size_t i) { return nasty()[(i + 1) % n]; };
    SECTION("Database::update") {
        for (std::size_t i = 0; i < n; ++i) {
            t.authors[i].name = shifted(i);
            t.db.update(t.authors[i]);
        }
        for (std::size_t i = 0; i < n; ++i)
            CHECK(t.db.objects<Author>().get(col(&Author::id) == t.authors[i].id).name ==
                  shifted(i));
    }
    SECTION("QuerySet::update, with the value in both SET and WHERE") {
        std::vector<std::int64_t> changed;
        for (std::size_t i = 0; i < n; ++i) {
            changed.push_back(
                t.db.objects<Author>()
                    .filter(col(&Author::id) == t.authors[i].id && col(&Author::name) == nasty()[i])
                    .update(loom::set(&Author::name, shifted(i))));
        }
        CHECK(changed == std::vector<std::int64_t>(n, 1));
        for (std::size_t i = 0; i < n; ++i)
            CHECK(t.db.objects<Author>().get(col(&Author::id) == t.authors[i].id).name ==
                  shifted(i));
    }
    SECTION("QuerySet::remove with a nasty filter removes just that row") {
        CHECK(t.db.objects<Author>().filter(col(&Author::name) == nasty()[3]).remove() == 1);
        CHECK(t.db.objects<Author>().count() == static_cast<std::int64_t>(n - 1));
        CHECK(t.db.objects<Book>().count() == 0);  // the table "DROP TABLE" named is still there
    }
    SECTION("bulk_insert and text, optional text and blob columns of every byte") {
        std::vector<Sample> samples;
        for (const auto& s : nasty()) {
            Sample x;
            x.text = s;
            x.maybe_text = s;
            for (char c : s) x.data.push_back(static_cast<std::byte>(c));
            samples.push_back(std::move(x));
        }
        Sample every_byte;
        for (int b = 0; b < 256; ++b) {
            // PostgreSQL's text: every byte that is UTF-8 on its own (no NUL); its bytea: all.
            if (!on_postgres() || (b > 0 && b < 0x80)) every_byte.text += static_cast<char>(b);
            every_byte.data.push_back(static_cast<std::byte>(b));
        }
        every_byte.maybe_text = every_byte.text;
        samples.push_back(every_byte);
        t.db.bulk_insert(samples);
        const auto back = t.db.objects<Sample>().to_vector();
        REQUIRE(back.size() == samples.size());
        for (std::size_t i = 0; i < back.size(); ++i) {
            CHECK(back[i].text == samples[i].text);
            CHECK(back[i].maybe_text == samples[i].maybe_text);
            CHECK(back[i].data == samples[i].data);
        }
        const auto found = t.db.objects<Sample>()
                               .filter(col(&Sample::data) == every_byte.data &&
                                       col(&Sample::maybe_text) == every_byte.text)
                               .to_vector();
        REQUIRE(found.size() == 1);
        CHECK(found[0].text == every_byte.text);
    }
    SECTION("many-to-many writes between objects with nasty names") {
        std::vector<Person> people;
        for (const auto& s : nasty()) {
            Person p;
            p.name = s;
            t.db.insert(p);
            people.push_back(p);
        }
        t.db.m2m(people[0], &Person::friends).add(people[3], people[19], people[20]);
        t.db.m2m(people[0], &Person::friends).remove(people[3]);
        t.db.m2m(people[1], &Person::friends).set(std::vector<Person>{people[21], people[23]});
        const auto loaded = t.db.objects<Person>()
                                .filter(col(&Person::name).in({nasty()[0], nasty()[1]}))
                                .prefetch_related(&Person::friends)
                                .to_vector();
        REQUIRE(loaded.size() == 2);
        Strings first, second;
        for (const Person& f : loaded[0].friends) first.push_back(f.name);
        for (const Person& f : loaded[1].friends) second.push_back(f.name);
        CHECK(first == Strings{nasty()[19], nasty()[20]});
        CHECK(second == Strings{nasty()[21], nasty()[23]});
    }
}

TEST_CASE("Bad input: an empty in() matches nothing and an empty not_in() everything",
          "[bad_input][filter]") {
    loom::Database db(test_url());
    create_all(db);
    seed_catalogue(db);
    const std::vector<int> no_years;
    const Strings no_titles;
    const auto before = db.query_count();
    const auto none = db.objects<Book>().filter(col(&Book::year).in(no_years));
    CHECK(none.to_vector().empty());
    CHECK(none.count() == 0);  // from the cache
    CHECK_FALSE(db.objects<Book>().filter(col(&Book::title).in(no_titles)).exists());
    CHECK(db.objects<Book>().filter(col(&Book::year).not_in(no_years)).count() == 5);
    CHECK(db.objects<Book>().filter(col(&Book::title).not_in(no_titles)).to_vector().size() == 5);
    CHECK(db.objects<Book>()
              .filter(col(&Book::year).in(no_years) || col(&Book::year) == 1990)
              .count() == 1);
    CHECK(db.objects<Book>().filter(!col(&Book::year).in(no_years)).count() == 5);
    CHECK(db.objects<Book>().exclude(col(&Book::year).in(no_years)).count() == 5);
    CHECK(db.query_count() - before == 7);

    SECTION("writes through an empty in() change nothing") {
        CHECK(db.objects<Book>()
                  .filter(col(&Book::id).in(std::vector<std::int64_t>{}))
                  .update(loom::set(&Book::year, 0)) == 0);
        CHECK(db.objects<Book>().filter(col(&Book::id).in(std::vector<std::int64_t>{})).remove() ==
              0);
        CHECK(db.objects<Book>().count() == 5);
        CHECK(db.objects<Book>().filter(col(&Book::year) == 0).count() == 0);
    }
    SECTION("the SQL binds no parameter for it") {
        const auto q = db.objects<Book>().filter(col(&Book::year).in(no_years)).sql();
        CHECK(q.params.empty());
        CHECK(has(q.sql, "WHERE (FALSE)"));
    }
}

TEST_CASE("Bad input: negative or overflowing slice bounds are clear errors",
          "[bad_input][slice]") {
    loom::Database db(test_url());
    create_all(db);
    seed_catalogue(db);
    const auto books = db.objects<Book>().order_by(&Book::year);
    const auto before = db.query_count();
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    auto usage = [](auto&& f) { return message_of<loom::UsageError>(f); };

    CHECK(usage([&] { (void)books.limit(-1); }) == "limit(-1): must not be negative");
    CHECK(usage([&] { (void)books.offset(-1); }) == "offset(-1): must not be negative");
    CHECK(usage([&] { (void)books.slice(-1, 2); }) == "slice(-1, 2): bounds must not be negative");
    CHECK(usage([&] { (void)books.slice(1, -2); }) == "slice(1, -2): bounds must not be negative");
    CHECK(usage([&] { (void)books.limit(std::numeric_limits<std::int64_t>::min()); }) ==
          "limit(-9223372036854775808): must not be negative");
    CHECK(usage([&] { (void)books.offset(max).limit(max); }) ==
          "limit(9223372036854775807): the slice bound 9223372036854775807 + "
          "9223372036854775807 overflows a 64-bit integer");
    CHECK(usage([&] { (void)books.offset(1).offset(max); }) ==
          "offset(9223372036854775807): the slice bound 1 + 9223372036854775807 overflows a "
          "64-bit integer");
    CHECK(has(usage([&] { (void)books.offset(2).slice(0, max); }), "overflows a 64-bit integer"));
    CHECK(has(usage([&] { (void)books.offset(2).slice(max, max); }), "overflows a 64-bit integer"));
    CHECK(db.query_count() == before);

    SECTION("the largest bounds that fit are valid queries") {
        CHECK(books.limit(max).count() == 5);
        CHECK(books.offset(max).to_vector().empty());
        CHECK(books.offset(max).limit(0).to_vector().empty());
        CHECK(books.slice(max - 1, max).to_vector().empty());
        CHECK(db.query_count() - before == 4);
    }
    SECTION("the QuerySet that refused is unchanged") {
        CHECK(books.to_vector().size() == 5);
        CHECK(books.offset(3).to_vector().size() == 2);
    }
}

TEST_CASE("Bad input: filtering, reordering or distinct after a slice is an error",
          "[bad_input][slice]") {
    loom::Database db(test_url());
    create_all(db);
    seed_catalogue(db);
    const auto sliced = db.objects<Book>().order_by(&Book::year).slice(1, 3);
    const auto before = db.query_count();
    auto usage = [](auto&& f) { return message_of<loom::UsageError>(f); };

    CHECK(usage([&] { (void)sliced.filter(col(&Book::year) > 0); }) ==
          "filter(): cannot filter a QuerySet once it has been sliced; filter first, then slice");
    CHECK(usage([&] { (void)sliced.exclude(col(&Book::year) > 0); }) ==
          "exclude(): cannot filter a QuerySet once it has been sliced; filter first, then slice");
    CHECK(has(usage([&] { (void)sliced.get(col(&Book::year) == 1990); }),
              "cannot filter a QuerySet once it has been sliced"));
    CHECK(usage([&] { (void)sliced.reverse(); }) ==
          "reverse(): cannot reverse a QuerySet once it has been sliced");
    CHECK(usage([&] { (void)sliced.order_by(&Book::title); }) ==
          "order_by(): cannot reorder a QuerySet once it has been sliced; order first, then slice");
    CHECK(usage([&] { (void)sliced.distinct(); }) ==
          "distinct(): cannot make a QuerySet distinct once it has been sliced; call distinct() "
          "first, then slice");
    CHECK(db.query_count() == before);

    // What still works on a slice: a narrower slice, get() without a filter, select_related.
    CHECK(sliced.slice(1, 2).select_related(&Book::publisher).get().title == "Small Gods");
    CHECK(sliced.count() == 2);
}

TEST_CASE("Bad input: a value that does not fit SQLite's integer is a DataError",
          "[bad_input][filter]") {
    loom::Database db(test_url());
    create_all(db);
    const auto msg = message_of<loom::DataError>(
        [&] { (void)(col(&Sample::big) == std::numeric_limits<std::uint64_t>::max()); });
    CHECK(msg == "value 18446744073709551615 does not fit in SQLite's 64-bit signed INTEGER");
}

TEST_CASE(
    "Bad input: PostgreSQL text refuses a NUL byte and invalid UTF-8, and nothing is "
    "written",
    "[bad_input][write][postgres]") {
    loom::Database db(test_url());
    create_all(db);
    for (const auto& s :
         {std::string("nul\0byte", 8), std::string("\0", 1), std::string("\0\0lead", 6)}) {
        Author a;
        a.name = s;
        const auto msg = message_of<loom::DataError>([&] { db.insert(a); });
        CHECK(has(msg,
                  "PostgreSQL text cannot hold a NUL byte (parameter 1 of: INSERT INTO "
                  "\"author\""));
        CHECK(has(msg, "store such values as loom::Blob"));
    }
    for (const auto& s : {std::string("\xff\xfe\xfd"), std::string("caf\xc3"),
                          std::string("\xc3\x28"), std::string("\xed\xa0\x80")}) {
        INFO("value of " << s.size() << " bytes");
        Author a;
        a.name = s;
        const auto msg = message_of<loom::DataError>([&] { db.insert(a); });
        CHECK(has(msg, "invalid byte sequence for encoding \"UTF8\""));
        // A filter binds the same value: the same error, before any row is read.
        CHECK(has(message_of<loom::DataError>(
                      [&] { (void)db.objects<Author>().filter(col(&Author::name) == s).count(); }),
                  "invalid byte sequence for encoding \"UTF8\""));
    }
    CHECK(db.objects<Author>().count() == 0);
    CHECK(db.transaction_depth() == 0);
}

}  // namespace bad_input_spec
