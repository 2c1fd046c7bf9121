// Column types: the loom::column_type<T> customization point (a strong id, a legacy 'Y'/'N'
// flag, a UUID, an enum stored as text) and std::chrono members. Each test checks the stored
// form with raw SQL, filters and ordering with values of the user type, a bad stored value read
// back (a DataError naming model, column and row), and the number of statements run.
#include "catch.hpp"
#include "support.hpp"
#include "test_db.hpp"

#include <loom/loom.hpp>
#include <loom/migrate.hpp>
#include <loom/testing.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace test_types {

// ---- a strong id ------------------------------------------------------------------------------
struct UserId {
    std::int64_t value = 0;
    friend auto operator<=>(const UserId&, const UserId&) = default;
};

// ---- a legacy 'Y'/'N' flag ------------------------------------------------------------------
struct YesNo {
    bool yes = false;
    friend bool operator==(const YesNo&, const YesNo&) = default;
};

// ---- a UUID (16 bytes, stored as its canonical 36-character text) ---------------------------
struct Uuid {
    std::array<std::uint8_t, 16> bytes{};
    friend auto operator<=>(const Uuid&, const Uuid&) = default;

    std::string text() const {
        static const char hex[] = "0123456789abcdef";
        std::string s;
        for (std::size_t i = 0; i < 16; ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
            s += hex[bytes[i] >> 4];
            s += hex[bytes[i] & 15];
        }
        return s;
    }
    static Uuid parse(const std::string& s) {
        auto nibble = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        if (s.size() != 36) throw std::invalid_argument("a UUID has 36 characters");
        Uuid u;
        std::size_t k = 0;
        for (std::size_t i = 0; i < 36;) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (s[i++] != '-') throw std::invalid_argument("a UUID's dashes are misplaced");
                continue;
            }
            const int hi = nibble(s[i]), lo = nibble(s[i + 1]);
            if (hi < 0 || lo < 0) throw std::invalid_argument("a UUID holds hex digits only");
            u.bytes[k++] = static_cast<std::uint8_t>(hi * 16 + lo);
            i += 2;
        }
        return u;
    }
    static Uuid of(std::uint8_t last) {
        Uuid u;
        u.bytes[0] = 0xab;
        u.bytes[15] = last;
        return u;
    }
};

enum class Color { red, green, blue };

}  // namespace test_types

// The adapters, beside the types they map.
template <> struct loom::column_type<test_types::UserId> {
    using storage = std::int64_t;
    static std::int64_t to_storage(const test_types::UserId& v) { return v.value; }
    static test_types::UserId from_storage(std::int64_t s) { return test_types::UserId{s}; }
};

template <> struct loom::column_type<test_types::YesNo> {
    using storage = std::string;
    static std::string to_storage(const test_types::YesNo& v) { return v.yes ? "Y" : "N"; }
    static test_types::YesNo from_storage(const std::string& s) {
        if (s == "Y") return {true};
        if (s == "N") return {false};
        throw loom::DataError("expected 'Y' or 'N'");
    }
};

template <> struct loom::column_type<test_types::Uuid> {
    using storage = std::string;
    static std::string to_storage(const test_types::Uuid& v) { return v.text(); }
    static test_types::Uuid from_storage(const std::string& s) {
        return test_types::Uuid::parse(s);
    }
};

template <> struct loom::column_type<test_types::Color> {
    using storage = std::string;
    static std::string to_storage(test_types::Color c) {
        switch (c) {
        case test_types::Color::red:
            return "red";
        case test_types::Color::green:
            return "green";
        default:
            return "blue";
        }
    }
    static test_types::Color from_storage(const std::string& s) {
        if (s == "red") return test_types::Color::red;
        if (s == "green") return test_types::Color::green;
        if (s == "blue") return test_types::Color::blue;
        throw loom::DataError("not a Color: expected red, green or blue");
    }
};

namespace test_types {

struct Ticket {
    std::int64_t id = 0;
    UserId owner;
    YesNo urgent;
    Uuid token;
    std::optional<Uuid> parent;
    Color color = Color::red;
};

constexpr auto loom_model(loom::model_of<Ticket>) {
    return loom::table(
        "ticket", loom::pk(&Ticket::id), loom::field(&Ticket::owner, "owner"),
        loom::field(&Ticket::urgent, "urgent"), loom::field(&Ticket::token, "token", loom::unique),
        loom::field(&Ticket::parent, "parent"), loom::field(&Ticket::color, "color"));
}

using sys_ms = std::chrono::sys_time<std::chrono::milliseconds>;
using sys_us = std::chrono::sys_time<std::chrono::microseconds>;

struct Stamp {
    std::int64_t id = 0;
    std::chrono::sys_seconds at;
    sys_ms at_ms;
    sys_us at_us;
    std::chrono::year_month_day day = std::chrono::year(1970) / 1 / 1;
    std::chrono::seconds took{0};
    std::optional<std::chrono::sys_seconds> done;
};

constexpr auto loom_model(loom::model_of<Stamp>) {
    return loom::table("stamp", loom::pk(&Stamp::id), loom::field(&Stamp::at, "at"),
                       loom::field(&Stamp::at_ms, "at_ms"), loom::field(&Stamp::at_us, "at_us"),
                       loom::field(&Stamp::day, "day"), loom::field(&Stamp::took, "took"),
                       loom::field(&Stamp::done, "done"));
}

using loom_test::message_of;

using loom_test::has;

template <class T> T stored(loom::Database& db, const std::string& sql) {
    const auto rows = db.query<loom::ResultRow>(sql);
    REQUIRE(rows.size() == 1);
    return std::get<T>(rows[0][0]);
}

using namespace std::chrono;
using loom::col;

sys_seconds at(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
    return sys_days(year(y) / month(m) / day(d)) + hours(h) + minutes(mi) + seconds(s);
}

TEST_CASE("Types: a user type maps through loom::column_type to its storage and back", "[types]") {
    loom::Database db(test_url());
    db.create_tables<Ticket>();
    Ticket a{0, UserId{7}, YesNo{true}, Uuid::of(1), std::nullopt, Color::green};
    Ticket b{0, UserId{9}, YesNo{false}, Uuid::of(2), Uuid::of(1), Color::blue};
    loom::expect_queries(db, 2, [&] {
        db.insert(a);
        db.insert(b);
    });

    // The stored forms are the storage types': an INTEGER, 'Y'/'N', the UUID's text.
    CHECK(stored<std::int64_t>(db, "SELECT owner FROM ticket WHERE id = 1") == 7);
    CHECK(stored<std::string>(db, "SELECT urgent FROM ticket WHERE id = 1") == "Y");
    CHECK(stored<std::string>(db, "SELECT urgent FROM ticket WHERE id = 2") == "N");
    CHECK(stored<std::string>(db, "SELECT token FROM ticket WHERE id = 1") ==
          "ab000000-0000-0000-0000-000000000001");
    CHECK(stored<std::string>(db, "SELECT parent FROM ticket WHERE id = 2") ==
          "ab000000-0000-0000-0000-000000000001");
    CHECK(stored<std::string>(db, "SELECT color FROM ticket WHERE id = 2") == "blue");

    const auto back = loom::expect_queries(
        db, 1, [&] { return db.objects<Ticket>().order_by(&Ticket::id).to_vector(); });
    REQUIRE(back.size() == 2);
    CHECK(back[0].owner == UserId{7});
    CHECK(back[0].urgent == YesNo{true});
    CHECK(back[0].token == Uuid::of(1));
    CHECK_FALSE(back[0].parent.has_value());
    CHECK(back[0].color == Color::green);
    CHECK(back[1].parent == Uuid::of(1));
    CHECK(back[1].color == Color::blue);
}

TEST_CASE("Types: filters take values of the user type", "[types][filter]") {
    loom::Database db(test_url());
    db.create_tables<Ticket>();
    for (int i = 1; i <= 5; ++i) {
        Ticket t{0,
                 UserId{10 - i},
                 YesNo{i % 2 == 0},
                 Uuid::of(static_cast<std::uint8_t>(i)),
                 std::nullopt,
                 i <= 2 ? Color::red : Color::blue};
        db.insert(t);
    }
    auto ids = [&](auto qs) {
        std::vector<std::int64_t> out;
        for (const auto& t : qs.to_vector()) out.push_back(t.id);
        return out;
    };
    loom::expect_queries(db, 6, [&] {
        CHECK(ids(db.objects<Ticket>().filter(col(&Ticket::owner) == UserId{8})) ==
              std::vector<std::int64_t>{2});
        CHECK(ids(db.objects<Ticket>().filter(col(&Ticket::urgent) == YesNo{true})) ==
              std::vector<std::int64_t>{2, 4});
        CHECK(ids(db.objects<Ticket>()
                      .filter(col(&Ticket::token).in(std::vector<Uuid>{Uuid::of(3), Uuid::of(5)}))
                      .order_by(&Ticket::id)) == std::vector<std::int64_t>{3, 5});
        // Ordering follows the storage: owner is 9, 8, 7, 6, 5 for ids 1..5.
        CHECK(ids(db.objects<Ticket>()
                      .filter(col(&Ticket::owner) < UserId{7})
                      .order_by(&Ticket::owner)) == std::vector<std::int64_t>{5, 4});
        CHECK(ids(db.objects<Ticket>().filter(col(&Ticket::color) == Color::red)) ==
              std::vector<std::int64_t>{1, 2});
        CHECK(ids(db.objects<Ticket>().filter(col(&Ticket::parent) == std::nullopt)).size() == 5);
    });
    // The bound value is the storage form.
    const auto sql = db.objects<Ticket>().filter(col(&Ticket::urgent) == YesNo{false}).sql();
    REQUIRE(sql.params.size() == 1);
    CHECK(std::get<std::string>(sql.params[0]) == "N");
}

TEST_CASE("Types: a stored value the adapter refuses is a DataError naming column and row",
          "[types][bad_input]") {
    loom::Database db(test_url());
    db.create_tables<Ticket>();
    Ticket a{0, UserId{1}, YesNo{true}, Uuid::of(1), std::nullopt, Color::red};
    db.insert(a);

    SECTION("a flag that is neither Y nor N") {
        db.execute("UPDATE ticket SET urgent = 'X' WHERE id = 1");
        const auto msg = loom::expect_queries(db, 1, [&] {
            return message_of<loom::DataError>([&] { (void)db.objects<Ticket>().get(); });
        });
        CHECK(has(msg, "Ticket.urgent (row id=1)"));
        CHECK(has(msg, "expected 'Y' or 'N'"));
        CHECK(has(msg, "found TEXT 'X'"));
    }
    SECTION("a UUID that is not one (the adapter throws std::invalid_argument)") {
        db.execute("UPDATE ticket SET token = 'not-a-uuid' WHERE id = 1");
        const auto msg = message_of<loom::DataError>([&] { (void)db.objects<Ticket>().get(); });
        CHECK(has(msg, "Ticket.token (row id=1)"));
        CHECK(has(msg, "a UUID has 36 characters"));
    }
    SECTION("a storage class that does not fit: the built-in reason") {
        // SQLite only: a PostgreSQL bigint column refuses the text when it is written.
        if (on_postgres()) return;
        db.execute("UPDATE ticket SET owner = 'seven' WHERE id = 1");
        const auto msg = message_of<loom::DataError>([&] { (void)db.objects<Ticket>().get(); });
        CHECK(has(msg, "Ticket.owner (row id=1): expected INTEGER, found TEXT 'seven'"));
    }
    SECTION("an enum stored as text, with an unknown name") {
        db.execute("UPDATE ticket SET color = 'mauve' WHERE id = 1");
        const auto msg = message_of<loom::DataError>([&] { (void)db.objects<Ticket>().get(); });
        CHECK(has(msg, "Ticket.color (row id=1): not a Color"));
    }
    // Nothing was lost: the row is still there, as the bad value left it.
    CHECK(db.objects<Ticket>().count() == 1);
}

TEST_CASE("Types: timestamps are fixed-width UTC text that sorts as time", "[types][chrono]") {
    loom::Database db(test_url());
    db.create_tables<Stamp>();
    const std::vector<sys_seconds> instants = {
        at(1969, 12, 31, 23, 59, 59),  // one second before the epoch
        at(1900, 1, 1),                // long before it
        at(2024, 2, 29, 12, 30, 5),    // a leap day
        at(9999, 12, 31, 23, 59, 59),  // the last second loom's text holds
        at(1970, 1, 1),
    };
    loom::expect_queries(db, static_cast<std::int64_t>(instants.size()), [&] {
        for (const auto& t : instants) {
            Stamp s;
            s.at = t;
            s.at_ms = sys_ms(t) - milliseconds(1);
            s.at_us = sys_us(t) + microseconds(123456);
            s.day = year_month_day(floor<days>(t));
            s.took = seconds(-90);
            db.insert(s);
        }
    });

    // PostgreSQL stores timestamptz and shows it in UTC (the session's TimeZone) with "+00".
    const std::string utc = on_engine("", "+00");
    CHECK(stored<std::string>(db, "SELECT at FROM stamp WHERE id = 1") ==
          "1969-12-31 23:59:59" + utc);
    CHECK(stored<std::string>(db, "SELECT at_ms FROM stamp WHERE id = 1") ==
          "1969-12-31 23:59:58.999" + utc);
    CHECK(stored<std::string>(db, "SELECT at_us FROM stamp WHERE id = 2") ==
          "1900-01-01 00:00:00.123456" + utc);
    CHECK(stored<std::string>(db, "SELECT day FROM stamp WHERE id = 3") == "2024-02-29");
    CHECK(stored<std::string>(db, "SELECT at_us FROM stamp WHERE id = 4") ==
          "9999-12-31 23:59:59.123456" + utc);
    CHECK(stored<std::int64_t>(db, "SELECT took FROM stamp WHERE id = 1") == -90);
    // The engine's own date functions read the values.
    CHECK(stored<std::int64_t>(db, on_engine("SELECT CAST(strftime('%s', at) AS INTEGER) FROM "
                                             "stamp WHERE id = 1",
                                             "SELECT CAST(extract(epoch FROM at) AS bigint) FROM "
                                             "stamp WHERE id = 1")) == -1);

    const auto back = db.objects<Stamp>().order_by(&Stamp::id).to_vector();
    REQUIRE(back.size() == instants.size());
    for (std::size_t i = 0; i < instants.size(); ++i) {
        INFO("row " << i + 1);
        CHECK(back[i].at == instants[i]);
        CHECK(back[i].at_ms == sys_ms(instants[i]) - milliseconds(1));
        CHECK(back[i].at_us == sys_us(instants[i]) + microseconds(123456));
        CHECK(back[i].day == year_month_day(floor<days>(instants[i])));
        CHECK(back[i].took == seconds(-90));
        CHECK_FALSE(back[i].done.has_value());
    }

    // Filters and ordering compare chrono values; text order is time order.
    std::vector<std::int64_t> order;
    for (const auto& s : db.objects<Stamp>().order_by(&Stamp::at).to_vector())
        order.push_back(s.id);
    CHECK(order == std::vector<std::int64_t>{2, 1, 5, 3, 4});
    CHECK(db.objects<Stamp>().filter(col(&Stamp::at) < at(1970, 1, 1)).count() == 2);
    CHECK(db.objects<Stamp>().filter(col(&Stamp::at_ms) >= sys_ms(at(1970, 1, 1))).count() == 2);
    CHECK(db.objects<Stamp>()
              .filter(col(&Stamp::at).between(at(2000, 1, 1), at(2100, 1, 1)))
              .count() == 1);
    CHECK(db.objects<Stamp>()
              .filter(col(&Stamp::day) == year_month_day(year(2024) / 2 / 29))
              .count() == 1);
    CHECK(db.objects<Stamp>().filter(col(&Stamp::took) == seconds(-90)).count() == 5);
}

TEST_CASE("Types: date text agrees with std::chrono's calendar on every day loom's text holds",
          "[types][chrono]") {
    // loom computes the calendar itself (chrono.hpp does not parse all of <chrono>): compare it
    // with std::chrono::year_month_day over 0000-01-01 to 9999-12-31, both ways, and through
    // timestamps one second before midnight.
    using namespace std::chrono;
    using D = loom::column_type<sys_days>;
    using Y = loom::column_type<year_month_day>;
    using S = loom::column_type<sys_seconds>;
    const sys_days first = sys_days(year(0) / 1 / 1), last = sys_days(year(9999) / 12 / 31);
    long long mismatches = 0, checked = 0;
    for (sys_days d = first; d <= last; d += days(1), ++checked) {
        const year_month_day ymd(d);
        char want[32];
        std::snprintf(want, sizeof want, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()),
                      unsigned(ymd.day()));
        const std::string text = D::to_storage(d);
        if (text != want || Y::to_storage(ymd) != text || D::from_storage(text) != d ||
            Y::from_storage(text) != ymd)
            ++mismatches;
        if (checked % 97 == 0) {
            const sys_seconds t = d + hours(23) + minutes(59) + seconds(59);
            if (S::to_storage(t) != std::string(want) + " 23:59:59" ||
                S::from_storage(S::to_storage(t)) != t)
                ++mismatches;
        }
    }
    CHECK(checked == 3652425);
    CHECK(mismatches == 0);
    CHECK(message_of<loom::DataError>([] { (void)D::from_storage("2023-02-29"); }) ==
          "expected a date 'YYYY-MM-DD' (not a calendar date)");
    CHECK(D::from_storage("2000-02-29") == sys_days(year(2000) / 2 / 29));
    CHECK(message_of<loom::DataError>([] { (void)D::from_storage("1900-02-29"); }) ==
          "expected a date 'YYYY-MM-DD' (not a calendar date)");
}

TEST_CASE("Types: sub-second precision is kept, and never silently cut", "[types][chrono]") {
    loom::Database db(test_url());
    db.create_tables<Stamp>();
    Stamp s;
    s.at = at(2030, 6, 1);
    s.at_ms = sys_ms(s.at) + milliseconds(7);
    s.at_us = sys_us(s.at) + microseconds(1);
    s.done = s.at;
    db.insert(s);
    const std::string utc = on_engine("", "+00");
    CHECK(stored<std::string>(db, "SELECT at_ms FROM stamp") == "2030-06-01 00:00:00.007" + utc);
    CHECK(stored<std::string>(db, "SELECT at_us FROM stamp") == "2030-06-01 00:00:00.000001" + utc);
    CHECK(db.objects<Stamp>().get().done == s.at);

    // Text other writers use (T, Z, +00:00, fewer digits) reads back.
    db.execute(
        "UPDATE stamp SET at = '2030-06-01T00:00:01Z', at_ms = '2030-06-01 00:00:00.5', "
        "at_us = '2030-06-01T00:00:00.25+00:00'");
    const Stamp back = db.objects<Stamp>().get();
    CHECK(back.at == at(2030, 6, 1, 0, 0, 1));
    CHECK(back.at_ms == sys_ms(at(2030, 6, 1)) + milliseconds(500));
    CHECK(back.at_us == sys_us(at(2030, 6, 1)) + microseconds(250000));

    // A seconds column holding a fraction would lose it: refused.
    db.execute("UPDATE stamp SET at = '2030-06-01 00:00:00.5'");
    const auto msg = message_of<loom::DataError>([&] { (void)db.objects<Stamp>().get(); });
    CHECK(has(msg, "Stamp.at (row id=1)"));
    CHECK(has(msg, "more sub-second digits than the member's precision holds"));
}

// SQLite only: PostgreSQL's timestamptz, date and bigint columns refuse such text when it is
// written, so loom never reads it there.
TEST_CASE("Types: malformed stored dates and times are DataErrors naming column and row",
          "[types][chrono][bad_input][sqlite]") {
    loom::Database db(test_url());
    db.create_tables<Stamp>();
    Stamp first, second;
    db.insert(first);
    db.insert(second);
    struct Case {
        const char* column;
        const char* text;
        const char* reason;
    };
    const Case cases[] = {
        {"at", "'2024-13-01 00:00:00'", "expected UTC text 'YYYY-MM-DD HH:MM:SS'"},
        {"at", "'2023-02-29 00:00:00'", "(not a calendar date)"},
        {"at", "'2024-01-01 24:00:00'", "expected UTC text"},
        {"at", "'2024-01-01 10:00:00+02:00'", "only UTC (+00) is read"},
        {"at", "'yesterday'", "expected UTC text"},
        {"at_ms", "'2024-01-01 00:00:00.'", "expected UTC text 'YYYY-MM-DD HH:MM:SS.mmm'"},
        {"day", "'2024-02-30'", "expected a date 'YYYY-MM-DD'"},
        {"day", "'2024-02-01 00:00:00'", "expected a date 'YYYY-MM-DD'"},
        {"day", "20240201", "expected a date"},  // TEXT affinity: stored as text
        {"day", "X'3230'", "expected TEXT, found BLOB of 2 bytes"},
        {"took", "'90s'", "expected INTEGER"},
    };
    for (const auto& c : cases) {
        INFO(c.column << " = " << c.text);
        db.execute(std::string("UPDATE stamp SET ") + c.column + " = " + c.text + " WHERE id = 2");
        const auto msg = message_of<loom::DataError>(
            [&] { (void)db.objects<Stamp>().order_by(&Stamp::id).to_vector(); });
        CHECK(has(msg, std::string("Stamp.") + c.column + " (row id=2)"));
        CHECK(has(msg, c.reason));
        db.execute("DELETE FROM stamp WHERE id = 2");
        db.execute(
            "INSERT INTO stamp (id, at, at_ms, at_us, day, took) SELECT 2, at, at_ms, "
            "at_us, day, took FROM stamp WHERE id = 1");
    }
    CHECK(db.objects<Stamp>().count() == 2);
}

TEST_CASE("Types: a time or date loom's text cannot hold is refused and nothing is written",
          "[types][chrono][bad_input]") {
    loom::Database db(test_url());
    db.create_tables<Stamp>();
    Stamp s;
    s.at = at(10000, 1, 1);
    // The statement fails while its values are bound: it never steps.
    const auto msg = loom::expect_queries(
        db, 1, [&] { return message_of<loom::DataError>([&] { db.insert(s); }); });
    CHECK(has(msg, "the year 10000 is outside 0000-9999"));
    Stamp bad;
    bad.day = year(2023) / 2 / 29;
    CHECK(
        has(message_of<loom::DataError>([&] { db.insert(bad); }), "is not a valid calendar date"));
    CHECK(has(message_of<loom::DataError>([&] {
                  (void)db.objects<Stamp>().filter(col(&Stamp::at) > at(-1, 1, 1)).count();
              }),
              "outside 0000-9999"));
    CHECK(db.objects<Stamp>().count() == 0);
}

TEST_CASE("Types: timestamp, date and JSON columns take the dialect's DDL type",
          "[types][schema]") {
    loom::Database db(test_url());
    db.create_tables<Stamp>();
    const auto rows = db.query<loom::ResultRow>(
        on_engine("SELECT name, type FROM pragma_table_info('stamp') ORDER BY cid",
                  "SELECT column_name, data_type FROM information_schema.columns WHERE "
                  "table_schema = current_schema() AND table_name = 'stamp' ORDER BY "
                  "ordinal_position"));
    std::vector<std::string> types;
    for (const auto& r : rows) types.push_back(std::get<std::string>(r[1]));
    if (on_postgres()) {
        const std::string tz = "timestamp with time zone";
        CHECK(types == std::vector<std::string>{"bigint", tz, tz, tz, "date", "bigint", tz});
    } else {
        CHECK(types == std::vector<std::string>{"INTEGER", "TEXT", "TEXT", "TEXT", "TEXT",
                                                "INTEGER", "TEXT"});
    }
    // timestamptz and date read back as the text columns the model declares.
    CHECK_NOTHROW(db.check_schema<Stamp>());
}

}  // namespace test_types
