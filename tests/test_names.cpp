// A model may be named like one of loom's own types. Descriptors are constexpr functions found
// by argument-dependent lookup in the model's namespace (here the global one), so the names
// inside them are the user's: Profile below is ::Profile, not loom's profile report.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catch.hpp"
#include "models.hpp"

struct Profile;
struct Path;
struct Error;
struct Log;

struct Options {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Profile> profiles;
};
struct Profile {
    std::int64_t id = 0;
    std::string bio;
    loom::ForeignKey<Options> options;
    loom::ManyToMany<Path> paths;
};
struct Path {
    std::int64_t id = 0;
    std::string route;
    loom::Reverse<Profile> profiles;
};
struct Column {
    std::int64_t id = 0;
    int width = 0;
};
struct Value {
    std::int64_t id = 0;
    double amount = 0;
};
struct Transaction {
    std::int64_t id = 0;
    std::int64_t amount = 0;
    loom::ForeignKey<Error> error;
};
struct Session {
    std::int64_t id = 0;
    std::string token;
};
struct Query {
    std::int64_t id = 0;
    std::string text;
};
struct Event {
    std::int64_t id = 0;
    std::string kind;
    loom::Reverse<Log> logs;
};
struct Error {
    std::int64_t id = 0;
    std::string message;
    loom::Reverse<Transaction> transactions;
};
struct Row {
    std::int64_t id = 0;
    int n = 0;
};
struct Log {
    std::int64_t id = 0;
    loom::ForeignKey<Event> event;
    std::string line;
};

constexpr auto loom_model(loom::model_of<Options>) {
    return loom::table("options", loom::pk(&Options::id), loom::field(&Options::name, "name"),
                       loom::reverse(&Options::profiles, &Profile::options));
}
constexpr auto loom_model(loom::model_of<Profile>) {
    return loom::table("profile", loom::pk(&Profile::id), loom::field(&Profile::bio, "bio"),
                       loom::foreign_key(&Profile::options, "options_id", loom::nullable),
                       loom::many_to_many(&Profile::paths, "profile_paths"));
}
constexpr auto loom_model(loom::model_of<Path>) {
    return loom::table("path", loom::pk(&Path::id), loom::field(&Path::route, "route"),
                       loom::reverse(&Path::profiles, &Profile::paths));
}
constexpr auto loom_model(loom::model_of<Column>) {
    return loom::table("column", loom::pk(&Column::id), loom::field(&Column::width, "width"));
}
constexpr auto loom_model(loom::model_of<Value>) {
    return loom::table("value", loom::pk(&Value::id), loom::field(&Value::amount, "amount"));
}
constexpr auto loom_model(loom::model_of<Transaction>) {
    return loom::table("transaction", loom::pk(&Transaction::id),
                       loom::field(&Transaction::amount, "amount"),
                       loom::foreign_key(&Transaction::error, "error_id", loom::nullable));
}
constexpr auto loom_model(loom::model_of<Session>) {
    return loom::table("session", loom::pk(&Session::id), loom::field(&Session::token, "token"));
}
constexpr auto loom_model(loom::model_of<Query>) {
    return loom::table("query", loom::pk(&Query::id), loom::field(&Query::text, "text"));
}
constexpr auto loom_model(loom::model_of<Event>) {
    return loom::table("event", loom::pk(&Event::id), loom::field(&Event::kind, "kind"),
                       loom::reverse(&Event::logs, &Log::event));
}
constexpr auto loom_model(loom::model_of<Error>) {
    return loom::table("error", loom::pk(&Error::id), loom::field(&Error::message, "message"),
                       loom::reverse(&Error::transactions, &Transaction::error));
}
constexpr auto loom_model(loom::model_of<Row>) {
    return loom::table("row", loom::pk(&Row::id), loom::field(&Row::n, "n"));
}
constexpr auto loom_model(loom::model_of<Log>) {
    return loom::table("log", loom::pk(&Log::id), loom::field(&Log::line, "line"),
                       loom::foreign_key(&Log::event, "event_id", loom::on_delete::cascade));
}

TEST_CASE("models named like loom's own types are declared, written and prefetched",
          "[models][names]") {
    loom::Database db{test_url()};
    db.create_tables<Options, Profile, Path, Column, Value, Error, Transaction, Session, Query,
                     Event, Row, Log>();

    Options o{.name = "dark"};
    db.insert(o);
    Path home{.route = "/home"}, about{.route = "/about"};
    db.insert(home);
    db.insert(about);
    Profile p{.bio = "hi", .options = o};
    db.insert(p);
    db.m2m(p, &Profile::paths).add(home, about);
    Error e{.message = "overdrawn"};
    db.insert(e);
    {
        loom::Transaction tx(db);  // loom's Transaction beside the model ::Transaction
        Transaction t{.amount = 5, .error = e};
        db.insert(t);
        Transaction fine{.amount = 7};
        db.insert(fine);
        tx.commit();
    }
    Event ev{.kind = "login"};
    db.insert(ev);
    Log l1{.event = ev, .line = "a"}, l2{.event = ev, .line = "b"};
    db.insert(l1);
    db.insert(l2);
    Column c{.width = 3};
    Value v{.amount = 1.5};
    Session s{.token = "t"};
    Query q{.text = "q"};
    Row r{.n = 9};
    db.insert(c);
    db.insert(v);
    db.insert(s);
    db.insert(q);
    db.insert(r);

    const auto q0 = db.query_count();
    auto profiles =
        db.objects<Profile>().prefetch_related(&Profile::options, &Profile::paths).to_vector();
    auto errors = db.objects<Error>().prefetch_related(&Error::transactions).to_vector();
    auto events = db.objects<Event>()
                      .filter(loom::col(&Event::kind) == "login")
                      .prefetch_related(&Event::logs)
                      .to_vector();
    CHECK(db.query_count() - q0 == 7);
    REQUIRE(profiles.size() == 1);
    CHECK(profiles[0].options->name == "dark");
    REQUIRE(profiles[0].paths.size() == 2);
    CHECK(profiles[0].paths[0].route == "/home");
    CHECK(profiles[0].paths[1].route == "/about");
    REQUIRE(errors.size() == 1);
    REQUIRE(errors[0].transactions.size() == 1);
    CHECK(errors[0].transactions[0].amount == 5);
    REQUIRE(events.size() == 1);
    CHECK(events[0].logs.size() == 2);
    CHECK(db.objects<Column>().get().width == 3);
    CHECK(db.objects<Value>().get().amount == 1.5);
    CHECK(db.objects<Session>().get().token == "t");
    CHECK(db.objects<Query>().get().text == "q");
    CHECK(db.objects<Row>().get().n == 9);
    CHECK(db.objects<Transaction>().filter(loom::col(&Transaction::error).is_null()).count() == 1);
}
