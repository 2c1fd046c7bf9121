// examples/migrations.cpp - a schema evolving with a program: three versions of a library
// program, each with its own models and the migrations written so far, run one after the other
// on one database file. Version 2 adds a field, version 3 renames one, changes a type and adds
// a unique pair; the books written by version 1 are there, whole, at the end.
//
// Each version does what a real program does at start-up: apply the pending migrations, then
// check that the database matches its models. Between versions the developer's side is shown
// too: loom::diff drafting the next migration from the changed models, and the plan (the SQL
// it will run). The models of the three versions live in namespaces v1, v2, v3 here; in a real
// program there is one set, edited over time.
#include <loom/loom.hpp>
#include <loom/migrate.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace v1 {
struct Book {
    std::int64_t id = 0;
    std::string title;
    int year = 0;
};
constexpr auto loom_model(loom::model_of<Book>) {
    return loom::table("book", loom::pk(&Book::id), loom::field(&Book::title, "title"),
                       loom::field(&Book::year, "year"));
}
}  // namespace v1

namespace v2 {  // + pages (NOT NULL), + subtitle (nullable)
struct Book {
    std::int64_t id = 0;
    std::string title;
    int year = 0;
    int pages = 0;
    std::optional<std::string> subtitle;
};
constexpr auto loom_model(loom::model_of<Book>) {
    return loom::table("book", loom::pk(&Book::id), loom::field(&Book::title, "title"),
                       loom::field(&Book::year, "year"), loom::field(&Book::pages, "pages"),
                       loom::field(&Book::subtitle, "subtitle"));
}
}  // namespace v2

namespace v3 {  // title -> name, year: int -> text ("c. 1300"), UNIQUE (name, year)
struct Book {
    std::int64_t id = 0;
    std::string name;
    std::string year;
    int pages = 0;
    std::optional<std::string> subtitle;
};
constexpr auto loom_model(loom::model_of<Book>) {
    return loom::table("book", loom::pk(&Book::id), loom::field(&Book::name, "name"),
                       loom::field(&Book::year, "year"), loom::field(&Book::pages, "pages"),
                       loom::field(&Book::subtitle, "subtitle"))
        .unique_together(&Book::name, &Book::year);
}
}  // namespace v3

// The migrations, as the program's source holds them at each version: a list that only grows.
const loom::Migration m0001{
    "0001_initial",
    {loom::create_table("book", {loom::primary_key("id"), loom::column<std::string>("title"),
                                 loom::column<int>("year")})}};
const loom::Migration m0002{
    "0002_pages_subtitle",
    {loom::add_column("book", loom::column<std::int64_t>("pages").fill(std::int64_t{0})),
     loom::add_column("book", loom::column<std::optional<std::string>>("subtitle")),
     // A data step: the pages we know.
     loom::data_step("pages of the books we have", [](loom::Database& db) {
         db.execute("UPDATE book SET pages = ? WHERE title = ?", 412, "Dune");
         db.execute("UPDATE book SET pages = ? WHERE title = ?", 1178, "The Lord of the Rings");
     })}};
const loom::Migration m0003{"0003_name_year_text",
                            {loom::rename_column("book", "title", "name"),
                             loom::alter_column("book", loom::column<std::string>("year")),
                             loom::add_unique("book", {"name", "year"})}};

template <class Book> void print_books(loom::Database& db) {
    for (const Book& b : db.objects<Book>().order_by(&Book::id)) {
        if constexpr (requires { b.title; })
            fmt::print("  #{} {} ({})", b.id, b.title, b.year);
        else
            fmt::print("  #{} {} ({})", b.id, b.name, b.year);
        if constexpr (requires { b.pages; }) fmt::print(", {} pages", b.pages);
        fmt::print("\n");
    }
}

int main() {
    const char* path = "library.db";
    std::remove(path);
    try {
        // ---- version 1 ----------------------------------------------------------------------
        {
            loom::Database db{path};
            const loom::Migrations migrations{{m0001}};
            fmt::print("version 1: applied {} migration(s)\n", migrations.apply(db).size());
            db.check_schema<v1::Book>();
            for (auto [title, year] :
                 {std::pair{"Dune", 1965}, {"The Lord of the Rings", 1954}, {"Solaris", 1961}}) {
                v1::Book b{.title = title, .year = year};
                db.insert(b);
            }
            print_books<v1::Book>(db);
        }

        // ---- developing version 2: the models changed; what does the database need? ---------
        {
            loom::Database db{path};
            try {
                db.check_schema<v2::Book>();
            } catch (const loom::SchemaError& e) {
                fmt::print("\nversion 2's models against the database:\n{}\n", e.what());
            }
            loom::DiffOptions o;
            o.fill = {{"book.pages", loom::Value{std::int64_t{0}}}};  // pages for the books there
            const loom::Diff d = loom::diff<v2::Book>(db, o);
            fmt::print("\nloom::diff drafts (pasted into 0002, plus a data step):\n{}\n", d.cpp());
        }

        // ---- version 2 ------------------------------------------------------------------------
        {
            loom::Database db{path};
            const loom::Migrations migrations{{m0001, m0002}};
            for (const auto& p : migrations.plan(db)) fmt::print("\nthe plan:\n{}", p.text());
            fmt::print("version 2: applied {} migration(s)\n", migrations.apply(db).size());
            db.check_schema<v2::Book>();
            print_books<v2::Book>(db);
        }

        // ---- developing version 3: a rename is never guessed ----------------------------------
        {
            loom::Database db{path};
            const loom::Diff guess = loom::diff<v3::Book>(db);
            fmt::print("\nloom::diff for version 3, asked nothing:\n{}\nunresolved:\n",
                       guess.cpp());
            for (const auto& u : guess.unresolved) fmt::print("  {}\n", u);
            loom::DiffOptions o;
            o.rename = {{"book.title", "name"}};
            fmt::print("\nwith DiffOptions::rename {{\"book.title\", \"name\"}}:\n{}\n",
                       loom::diff<v3::Book>(db, o).cpp());
        }

        // ---- version 3 ------------------------------------------------------------------------
        {
            loom::Database db{path};
            const loom::Migrations migrations{{m0001, m0002, m0003}};
            fmt::print("\nversion 3: applied {} migration(s)\n", migrations.apply(db).size());
            db.check_schema<v3::Book>();
            v3::Book medieval{.name = "The Travels of Marco Polo", .year = "c. 1300", .pages = 400};
            db.insert(medieval);
            print_books<v3::Book>(db);
            fmt::print("history:\n");
            for (const auto& h : migrations.history(db))
                fmt::print("  {} (checksum {})\n", h.name, h.checksum);
        }
    } catch (const loom::Error& e) {
        fmt::print(stderr, "migrations: {}\n", e.what());
        return 1;
    }
    std::remove(path);
    return 0;
}
