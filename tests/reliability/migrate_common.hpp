// tests/reliability/migrate_common.hpp - what migrate_crash.cpp and migrate_race.cpp share: a
// bookstore database big enough that rebuilding its tables takes a while (and outgrows SQLite's
// page cache, so pages reach the file or the WAL before COMMIT), the migrations that evolve it
// (every kind of rebuild: a table with foreign keys pointing in and out, a join table, a
// self-reference), and a snapshot of everything a database holds, to compare.
#pragma once

#include <loom/loom.hpp>
#include <loom/migrate.hpp>

#include "../models.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace reliability {

inline loom::Options options(bool wal, int busy_timeout_ms = 5000) {
    loom::Options o;
    o.wal = wal;
    o.busy_timeout_ms = busy_timeout_ms;
    return o;
}

inline void remove_database(const std::string& path) {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"})
        std::remove((path + suffix).c_str());
}

/// 0001 makes the schema; 0002 and 0003 evolve it through SQLite's rebuild.
inline loom::Migrations migrations() {
    using namespace loom;
    return Migrations{{
        {"0001_initial",
         {create_tables<shop::Publisher, shop::Author, shop::Book, shop::Review,
                        shop::Employee>()}},
        {"0002_pages",
         {add_column("book", column<int>("pages").fill(0)),
          data_step("count pages",
                    [](Database& db) { db.execute("UPDATE book SET pages = length(title)"); }),
          alter_column("author", column<int>("born").fill(1900)),
          add_unique("book", {"title", "year"}), rename_column("review", "body", "text"),
          alter_column("employee", column<std::optional<std::int64_t>>("manager_id")
                                       .references("employee", on_delete::cascade))}},
        {"0003_positions",
         {add_column("book_authors", column<int>("position").fill(1)),
          drop_column("review", "rating"), add_index("book", {"pages"}),
          rename_table("employee", "staff")}},
    }};
}

/// A database with 0001 applied and `books` books of ~1 KB titles, 2 reviews each, 2 authors
/// each, and a chain of employees.
inline void make_database(const std::string& path, bool wal, int books) {
    remove_database(path);
    loom::Database db{path, options(wal)};
    const auto m = migrations();
    loom::Migrations({m.list().front()}).apply(db);
    const std::string filler(1000, 'x');
    db.transaction([&] {
        std::vector<shop::Publisher> pubs(3);
        for (int i = 0; i < 3; ++i) {
            pubs[i].name = "publisher " + std::to_string(i);
            db.insert(pubs[i]);
        }
        std::vector<shop::Author> authors(20);
        for (int i = 0; i < 20; ++i) {
            authors[i].name = "author " + std::to_string(i);
            if (i % 3) authors[i].born = 1900 + i;
            db.insert(authors[i]);
        }
        for (int i = 0; i < books; ++i) {
            shop::Book b;
            b.title = std::to_string(i) + filler;
            b.year = 1950 + i % 70;
            b.publisher = pubs[static_cast<std::size_t>(i % 3)];
            db.insert(b);
            db.m2m(b, &shop::Book::authors).add(authors[static_cast<std::size_t>(i % 20)]);
            db.m2m(b, &shop::Book::authors).add(authors[static_cast<std::size_t>((i + 7) % 20)]);
            for (int k = 0; k < 2; ++k) {
                shop::Review r;
                r.book = b;
                r.rating = 1 + (i + k) % 5;
                r.body = "review " + std::to_string(k) + " of " + std::to_string(i);
                db.insert(r);
            }
        }
        shop::Employee prev;
        for (int i = 0; i < 50; ++i) {
            shop::Employee e;
            e.name = "employee " + std::to_string(i);
            if (i) e.manager = prev;
            db.insert(e);
            prev = e;
        }
    });
}

inline std::string rows(loom::Database& db, const std::string& sql) {
    std::string out;
    for (const auto& r : db.query<loom::ResultRow>(sql)) {
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (i) out += '|';
            const auto& v = r[i];
            switch (v.index()) {
            case 0:
                out += "NULL";
                break;
            case 1:
                out += std::to_string(std::get<1>(v));
                break;
            case 2:
                out += std::to_string(std::get<2>(v));
                break;
            case 3:
                out += std::get<3>(v);
                break;
            default:
                out += "<blob>";
                break;
            }
        }
        out += '\n';
    }
    return out;
}

/// Everything the database holds: its schema, and every table's rows in key order (the
/// history without its time stamps).
inline std::string snapshot(loom::Database& db) {
    std::string out = rows(db, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name");
    for (const auto& t : db.query<std::string>(
             "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")) {
        const std::string cols = t == "loom_migrations" ? "name, checksum" : "*";
        out += t + ":\n" + rows(db, "SELECT " + cols + " FROM \"" + t + "\" ORDER BY rowid");
    }
    return out;
}

/// "ok", or what PRAGMA integrity_check and foreign_key_check found.
inline std::string damage(loom::Database& db) {
    std::string out = rows(db, "PRAGMA integrity_check");
    if (out == "ok\n") out.clear();
    const std::string fk = rows(db, "PRAGMA foreign_key_check");
    if (!fk.empty()) out += "foreign_key_check: " + fk;
    return out.empty() ? "ok" : out;
}

}  // namespace reliability
