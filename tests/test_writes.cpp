// Writes: insert, update, remove (with the database's on_delete rules), save, bulk_insert and
// many-to-many add/remove/set/clear from both sides. Each checks the rows in the database and
// the exact number of statements run.
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace test_writes {
// A parent that cannot be deleted while children point at it (the default on_delete).
struct Shelf {
    std::int64_t id = 0;
    std::string label;
    loom::Reverse<struct Jar> jars;
};
struct Jar {
    std::int64_t id = 0;
    loom::ForeignKey<Shelf> shelf;
    std::string jam;
};

}  // namespace test_writes

namespace test_writes {
constexpr auto loom_model(loom::model_of<Shelf>) {
    return loom::table("shelf", loom::pk(&test_writes::Shelf::id),
                       loom::field(&test_writes::Shelf::label, "label"),
                       loom::reverse(&test_writes::Shelf::jars, &test_writes::Jar::shelf));
}
}  // namespace test_writes

namespace test_writes {
constexpr auto loom_model(loom::model_of<Jar>) {
    return loom::table("jar", loom::pk(&test_writes::Jar::id),
                       loom::foreign_key(&test_writes::Jar::shelf, "shelf_id"),
                       loom::field(&test_writes::Jar::jam, "jam"));
}
// A many-to-many through a model whose keys are restrict: neither side can be deleted while
// enrolled.
struct Course;
struct Student {
    std::int64_t id = 0;
    std::string name;
    loom::ManyToMany<Course> courses;
};
struct Course {
    std::int64_t id = 0;
    std::string title;
    loom::Reverse<Student> students;
};
struct Enrollment {
    std::int64_t id = 0;
    loom::ForeignKey<Student> student;
    loom::ForeignKey<Course> course;
};
constexpr auto loom_model(loom::model_of<Student>) {
    return loom::table("student", loom::pk(&Student::id), loom::field(&Student::name, "name"),
                       loom::many_to_many(&Student::courses, loom::through(&Enrollment::student,
                                                                           &Enrollment::course)));
}
constexpr auto loom_model(loom::model_of<Course>) {
    return loom::table("course", loom::pk(&Course::id), loom::field(&Course::title, "title"),
                       loom::reverse(&Course::students, &Student::courses));
}
constexpr auto loom_model(loom::model_of<Enrollment>) {
    return loom::table("enrollment", loom::pk(&Enrollment::id),
                       loom::foreign_key(&Enrollment::student, "student_id"),
                       loom::foreign_key(&Enrollment::course, "course_id"));
}
}  // namespace test_writes

namespace writes_test {

using loom_test::count_rows;
using loom_test::scalar;
using loom_test::SqlLog;

using shop::Author;
using shop::Book;
using shop::Publisher;

// The (book_id, author_id) pairs of the join table, in order.
std::vector<std::pair<std::int64_t, std::int64_t>> links(loom::Database& db,
                                                         const std::string& table = "book_authors",
                                                         const std::string& a = "book_id",
                                                         const std::string& b = "author_id") {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    for (auto [x, y] : db.query<std::tuple<std::int64_t, std::int64_t>>(
             "SELECT " + a + ", " + b + " FROM " + table + " ORDER BY 1, 2"))
        out.emplace_back(x, y);
    return out;
}

std::vector<std::string> names(const loom::RelatedList<Author>& list) {
    std::vector<std::string> out;
    for (const Author& a : list) out.push_back(a.name);
    std::sort(out.begin(), out.end());
    return out;
}

Publisher publisher(loom::Database& db, const char* name) {
    Publisher p;
    p.name = name;
    db.insert(p);
    return p;
}

Author author(loom::Database& db, const char* name) {
    Author a;
    a.name = name;
    db.insert(a);
    return a;
}

Book book(loom::Database& db, const char* title, const Publisher& p, int year = 2000) {
    Book b;
    b.title = title;
    b.year = year;
    b.publisher = p;
    db.insert(b);
    return b;
}

// ---- insert ----------------------------------------------------------------------------------

TEST_CASE("insert runs one INSERT and sets the primary key", "[writes][insert]") {
    loom::Database db(test_url());
    shop::create_all(db);
    SqlLog log(db);
    Publisher a, b;
    a.name = "Gollancz";
    b.name = "Penguin";
    const auto q0 = db.query_count();
    db.insert(a);
    db.insert(b);
    CHECK(db.query_count() - q0 == 2);
    CHECK(a.id == 1);
    CHECK(b.id == 2);
    CHECK(log.sql ==
          std::vector<std::string>{inserted("INSERT INTO \"publisher\" (\"name\") VALUES (?)"),
                                   inserted("INSERT INTO \"publisher\" (\"name\") VALUES (?)")});
    const auto stored = db.objects<Publisher>().order_by(&Publisher::id).to_vector();
    REQUIRE(stored.size() == 2);
    CHECK(stored[0].id == a.id);
    CHECK(stored[0].name == "Gollancz");
    CHECK(stored[1].id == b.id);
    CHECK(stored[1].name == "Penguin");
}

TEST_CASE("insert keeps an explicit primary key", "[writes][insert]") {
    loom::Database db(test_url());
    shop::create_all(db);
    Publisher p;
    p.id = 42;
    p.name = "Tor";
    db.insert(p);
    CHECK(p.id == 42);
    CHECK(db.objects<Publisher>().get(loom::col(&Publisher::id) == 42).name == "Tor");
    Publisher next;
    next.name = "Orbit";
    db.insert(next);
    CHECK(next.id == 43);  // AUTOINCREMENT continues after the largest key
}

TEST_CASE("insert stores foreign keys and NULL for a nullable one left empty", "[writes][insert]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::Employee boss;
    boss.name = "Boss";
    db.insert(boss);
    shop::Employee worker;
    worker.name = "Worker";
    worker.manager = boss;
    db.insert(worker);
    CHECK(scalar(db, "SELECT manager_id IS NULL FROM employee WHERE id = " +
                         std::to_string(boss.id)) == 1);
    CHECK(scalar(db, "SELECT manager_id FROM employee WHERE id = " + std::to_string(worker.id)) ==
          boss.id);
}

// ---- update ----------------------------------------------------------------------------------

TEST_CASE("update writes the object's columns to its row only", "[writes][update]") {
    loom::Database db(test_url());
    shop::create_all(db);
    const auto c = shop::seed_catalogue(db);
    Book b = c.omens;
    b.title = "Good Omens (revised)";
    b.year = 2006;
    b.publisher = c.penguin;
    const auto q0 = db.query_count();
    db.update(b);
    CHECK(db.query_count() - q0 == 1);
    const Book r = db.objects<Book>().get(loom::col(&Book::id) == c.omens.id);
    CHECK(r.title == "Good Omens (revised)");
    CHECK(r.year == 2006);
    CHECK(r.publisher.id() == c.penguin.id);
    // The other books are untouched.
    CHECK(db.objects<Book>().get(loom::col(&Book::id) == c.small_gods.id).title == "Small Gods");
    CHECK(count_rows(db, "book") == 5);
}

TEST_CASE("update of a row that does not exist throws DoesNotExist and writes nothing",
          "[writes][update]") {
    loom::Database db(test_url());
    shop::create_all(db);
    publisher(db, "Gollancz");
    Publisher ghost;
    ghost.id = 999;
    ghost.name = "Ghost";
    CHECK_THROWS_WITH(db.update(ghost),
                      "update: no Publisher with \"id\" = 999 (insert it "
                      "first, or use save)");
    CHECK_THROWS_AS(db.update(ghost), loom::DoesNotExist);
    CHECK(count_rows(db, "publisher") == 1);
    CHECK(ghost.id == 999);
}

// ---- remove ----------------------------------------------------------------------------------

TEST_CASE("remove deletes the row and resets the key", "[writes][remove]") {
    loom::Database db(test_url());
    shop::create_all(db);
    Author a = author(db, "A");
    Author b = author(db, "B");
    const auto old_id = a.id;
    const auto q0 = db.query_count();
    CHECK(db.remove(a));
    CHECK(db.query_count() - q0 == 1);
    CHECK(a.id == 0);
    CHECK(scalar(db, "SELECT count(*) FROM author WHERE id = " + std::to_string(old_id)) == 0);
    CHECK(count_rows(db, "author") == 1);
    CHECK(db.objects<Author>().get().id == b.id);

    SECTION("removing it again finds no row") {
        Author again;
        again.id = old_id;
        CHECK_FALSE(db.remove(again));
        CHECK(count_rows(db, "author") == 1);
    }
}

TEST_CASE("remove lets the database apply on_delete cascade", "[writes][remove]") {
    loom::Database db(test_url());
    shop::create_all(db);
    auto c = shop::seed_catalogue(db);
    REQUIRE(count_rows(db, "review") == 6);

    SECTION("a book takes its reviews and its author links with it") {
        db.remove(c.omens);  // 2 reviews, 2 authors
        CHECK(count_rows(db, "book") == 4);
        CHECK(count_rows(db, "review") == 4);
        CHECK(count_rows(db, "book_authors") == 4);
        CHECK(count_rows(db, "author") == 3);  // the authors themselves stay
    }
    SECTION("a publisher takes its books, their reviews and links with it") {
        db.remove(c.gollancz);  // 3 books, 4 reviews, 4 links
        CHECK(count_rows(db, "publisher") == 1);
        CHECK(count_rows(db, "book") == 2);
        CHECK(count_rows(db, "review") == 2);
        CHECK(count_rows(db, "book_authors") == 2);
    }
    SECTION("an author takes only its links with it") {
        db.remove(c.pratchett);  // linked to 3 books
        CHECK(count_rows(db, "book") == 5);
        CHECK(count_rows(db, "book_authors") == 3);
    }
}

TEST_CASE("remove lets the database apply on_delete set_null", "[writes][remove]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::Employee boss, a, b;
    boss.name = "Boss";
    db.insert(boss);
    a.name = "A";
    a.manager = boss;
    b.name = "B";
    b.manager = boss;
    db.insert(a);
    db.insert(b);
    db.remove(boss);
    CHECK(count_rows(db, "employee") == 2);
    CHECK(scalar(db, "SELECT count(*) FROM employee WHERE manager_id IS NULL") == 2);
    auto left = db.objects<shop::Employee>().to_vector();
    REQUIRE(left.size() == 2);
    CHECK(left[0].manager.is_null());
    CHECK(left[1].manager.is_null());
}

TEST_CASE("remove of a row still referenced under on_delete restrict fails and keeps it",
          "[writes][remove]") {
    loom::Database db(test_url());
    db.create_tables<test_writes::Shelf, test_writes::Jar>();
    test_writes::Shelf shelf;
    shelf.label = "top";
    db.insert(shelf);
    test_writes::Jar jar;
    jar.shelf = shelf;
    jar.jam = "plum";
    db.insert(jar);
    const auto id = shelf.id;
    try {
        db.remove(shelf);
        FAIL("remove should have thrown");
    } catch (const loom::ConstraintError& e) {
        CHECK(e.kind() == loom::ConstraintError::Kind::foreign_key);
        CHECK(
            std::string(e.what()) ==
            on_engine("FOREIGN KEY constraint failed",
                      "update or delete on table \"shelf\" violates foreign key constraint "
                      "\"jar_shelf_id_fkey\" on table \"jar\": Key (id)=(1) is still "
                      "referenced from table \"jar\".") +
                " (while running: DELETE FROM \"shelf\" WHERE "
                "\"id\" = ?): Shelf id=1 is still referred to by a row of \"jar\".\"shelf_id\" (a "
                "restrict foreign key); delete or reassign those rows first, or declare the "
                "foreign key on_delete::cascade or set_null");
    }
    CHECK(shelf.id == id);  // still names the row that is still there
    CHECK(count_rows(db, "shelf") == 1);
    CHECK(count_rows(db, "jar") == 1);

    SECTION("once the child is gone the parent can go") {
        CHECK(db.remove(jar));
        CHECK(db.remove(shelf));
        CHECK(count_rows(db, "shelf") == 0);
    }
}

TEST_CASE("a refused remove inside a transaction names the referring column on every engine",
          "[writes][remove]") {
    // PostgreSQL aborts the transaction at the error, so no query can look the rows up: the
    // column comes from the descriptors (Shelf declares its reverse side, Jar::shelf).
    loom::Database db(test_url());
    db.create_tables<test_writes::Shelf, test_writes::Jar>();
    test_writes::Shelf shelf{.label = "top"};
    db.insert(shelf);
    test_writes::Jar jar{.shelf = shelf, .jam = "plum"};
    db.insert(jar);
    {
        loom::Transaction tx(db);
        CHECK_THROWS_WITH(db.remove(shelf),
                          Catch::EndsWith("Shelf id=1 is still referred to by a row of "
                                          "\"jar\".\"shelf_id\" (a restrict foreign key); "
                                          "delete or reassign those rows first, or declare the "
                                          "foreign key on_delete::cascade or set_null"));
    }
    CHECK(count_rows(db, "shelf") == 1);
    CHECK(shelf.id == 1);
}

TEST_CASE("a bulk remove that a restrict foreign key refuses names the column and deletes nothing",
          "[writes][remove]") {
    loom::Database db(test_url());
    db.create_tables<test_writes::Shelf, test_writes::Jar>();
    test_writes::Shelf top{.label = "top"}, low{.label = "low"};
    db.insert(top);
    db.insert(low);
    test_writes::Jar jar{.shelf = top, .jam = "plum"};
    db.insert(jar);
    try {
        db.objects<test_writes::Shelf>().remove();
        FAIL("remove should have thrown");
    } catch (const loom::ConstraintError& e) {
        CHECK(e.kind() == loom::ConstraintError::Kind::foreign_key);
        CHECK(std::string(e.what()) ==
              on_engine("FOREIGN KEY constraint failed",
                        "update or delete on table \"shelf\" violates foreign key constraint "
                        "\"jar_shelf_id_fkey\" on table \"jar\": Key (id)=(1) is still "
                        "referenced from table \"jar\".") +
                  " (while running: DELETE FROM \"shelf\" WHERE \"id\" IN (SELECT "
                  "t0.\"id\" FROM \"shelf\" AS t0)): a Shelf row this remove() "
                  "matches is still referred to by a row of \"jar\".\"shelf_id\" (a restrict "
                  "foreign key); delete or reassign those rows first, or declare the foreign key "
                  "on_delete::cascade or set_null; nothing was deleted");
    }
    // One statement: the shelf nothing refers to is still there too.
    CHECK(count_rows(db, "shelf") == 2);
    CHECK(count_rows(db, "jar") == 1);
    CHECK(db.objects<test_writes::Shelf>()
              .filter(loom::col(&test_writes::Shelf::label) == "low")
              .remove() == 1);
}

TEST_CASE("a refused bulk remove names the restrict keys of an explicit through model",
          "[writes][remove]") {
    using test_writes::Course;
    using test_writes::Student;
    loom::Database db(test_url());
    db.create_tables<Student, Course, test_writes::Enrollment>();
    Student ann{.name = "Ann"};
    Course math{.title = "Math"};
    db.insert(ann);
    db.insert(math);
    test_writes::Enrollment e{.student = ann, .course = math};
    db.insert(e);
    const std::string advice =
        " (a restrict foreign key); delete or reassign those rows first, or declare the foreign "
        "key on_delete::cascade or set_null; nothing was deleted";
    // The owner side of the many-to-many, and its reverse side.
    CHECK_THROWS_WITH(db.objects<Student>().remove(),
                      Catch::EndsWith("a Student row this remove() matches is still referred to "
                                      "by a row of \"enrollment\".\"student_id\"" +
                                      advice));
    CHECK_THROWS_WITH(db.objects<Course>().remove(),
                      Catch::EndsWith("a Course row this remove() matches is still referred to "
                                      "by a row of \"enrollment\".\"course_id\"" +
                                      advice));
    CHECK(count_rows(db, "student") == 1);
    CHECK(count_rows(db, "course") == 1);
    CHECK(count_rows(db, "enrollment") == 1);
}

TEST_CASE("a bulk update that sets a key matching no row names it and changes nothing",
          "[writes][update]") {
    loom::Database db(test_url());
    db.create_tables<test_writes::Shelf, test_writes::Jar>();
    test_writes::Shelf top{.label = "top"};
    db.insert(top);
    std::vector<test_writes::Jar> jars{{.shelf = top, .jam = "plum"}, {.shelf = top, .jam = "fig"}};
    db.bulk_insert(jars);
    try {
        db.objects<test_writes::Jar>().update(loom::set(&test_writes::Jar::jam, "quince"),
                                              loom::set(&test_writes::Jar::shelf, 999));
        FAIL("update should have thrown");
    } catch (const loom::ConstraintError& e) {
        CHECK(e.kind() == loom::ConstraintError::Kind::foreign_key);
        CHECK(std::string(e.what()) ==
              on_engine("FOREIGN KEY constraint failed",
                        "insert or update on table \"jar\" violates foreign key constraint "
                        "\"jar_shelf_id_fkey\": Key (shelf_id)=(999) is not present in table "
                        "\"shelf\".") +
                  " (while running: UPDATE \"jar\" SET \"jam\" = ?, \"shelf_id\" = ? WHERE "
                  "\"id\" IN (SELECT t0.\"id\" FROM \"jar\" AS t0)): Jar.shelf_id = "
                  "999 matches no Shelf; nothing was updated");
    }
    CHECK(scalar(db, "SELECT count(*) FROM jar WHERE shelf_id = 1 AND jam <> 'quince'") == 2);
}

// ---- save ------------------------------------------------------------------------------------

TEST_CASE("save inserts an object without a key", "[writes][save]") {
    loom::Database db(test_url());
    shop::create_all(db);
    Publisher p;
    p.name = "Tor";
    const auto q0 = db.query_count();
    db.save(p);
    CHECK(db.query_count() - q0 == 1);
    CHECK(p.id == 1);
    CHECK(count_rows(db, "publisher") == 1);
}

TEST_CASE("save updates an object with a key", "[writes][save]") {
    loom::Database db(test_url());
    shop::create_all(db);
    Publisher p = publisher(db, "Tor");
    p.name = "Tor Books";
    SqlLog log(db);
    db.save(p);
    CHECK(log.sql ==
          std::vector<std::string>{
              "BEGIN", "UPDATE \"publisher\" SET \"name\" = ? WHERE \"id\" = ?", "COMMIT"});
    CHECK(p.id == 1);
    CHECK(count_rows(db, "publisher") == 1);
    CHECK(db.objects<Publisher>().get().name == "Tor Books");
}

TEST_CASE("save of an object whose row is gone inserts it again under its key", "[writes][save]") {
    loom::Database db(test_url());
    shop::create_all(db);
    Publisher p;
    p.id = 7;
    p.name = "Back";
    db.save(p);
    CHECK(p.id == 7);
    CHECK(db.objects<Publisher>().get().id == 7);
    CHECK(count_rows(db, "publisher") == 1);
}

// ---- bulk_insert -----------------------------------------------------------------------------

TEST_CASE("bulk_insert inserts every object in one transaction and sets their keys",
          "[writes][bulk]") {
    loom::Database db(test_url());
    shop::create_all(db);
    std::vector<Author> authors(5);
    for (std::size_t i = 0; i < authors.size(); ++i) authors[i].name = "A" + std::to_string(i);
    authors[2].born = 1950;
    SqlLog log(db);
    const auto q0 = db.query_count();
    db.bulk_insert(authors);
    CHECK(db.query_count() - q0 == 1 + 5 + 1);  // BEGIN, 5 INSERTs, COMMIT
    REQUIRE(log.sql.size() == 7);
    CHECK(log.sql.front() == "BEGIN");
    CHECK(log.sql.back() == "COMMIT");
    for (std::size_t i = 1; i <= 5; ++i)
        CHECK(log.sql[i] == inserted("INSERT INTO \"author\" (\"name\", \"born\") VALUES (?, ?)"));
    for (std::size_t i = 0; i < authors.size(); ++i)
        CHECK(authors[i].id == static_cast<std::int64_t>(i + 1));
    const auto stored = db.objects<Author>().order_by(&Author::id).to_vector();
    REQUIRE(stored.size() == 5);
    for (std::size_t i = 0; i < stored.size(); ++i) {
        CHECK(stored[i].id == authors[i].id);
        CHECK(stored[i].name == authors[i].name);
    }
    CHECK(stored[2].born == std::optional<int>(1950));
    CHECK_FALSE(stored[1].born.has_value());
}

TEST_CASE("bulk_insert reuses one prepared statement however many rows it inserts",
          "[writes][bulk]") {
    loom::Database db(test_url());
    shop::create_all(db);
    std::vector<Publisher> few(2), many(200);
    for (std::size_t i = 0; i < few.size(); ++i) few[i].name = "few" + std::to_string(i);
    for (std::size_t i = 0; i < many.size(); ++i) many[i].name = "many" + std::to_string(i);
    db.bulk_insert(few);
    const auto cached = db.cached_statements();
    const auto q0 = db.query_count();
    db.bulk_insert(many);
    CHECK(db.query_count() - q0 == 202);
    CHECK(db.cached_statements() == cached);
    CHECK(count_rows(db, "publisher") == 202);
    CHECK(many.back().id == 202);
}

TEST_CASE("bulk_insert keeps explicit keys and works on any range of lvalues", "[writes][bulk]") {
    loom::Database db(test_url());
    shop::create_all(db);
    Publisher a, b, c;
    a.name = "a";
    b.name = "b";
    b.id = 10;
    c.name = "c";
    SECTION("a vector of objects") {
        std::vector<Publisher> v{a, b, c};
        db.bulk_insert(v);
        CHECK(v[0].id == 1);
        CHECK(v[1].id == 10);
        CHECK(v[2].id == 11);
    }
    SECTION("a view of the objects") {
        std::array<Publisher, 3> arr{a, b, c};
        db.bulk_insert(std::span<Publisher>(arr));
        CHECK(arr[0].id == 1);
        CHECK(arr[1].id == 10);
        CHECK(arr[2].id == 11);
    }
    CHECK(count_rows(db, "publisher") == 3);
}

TEST_CASE("bulk_insert inside a transaction uses a savepoint", "[writes][bulk]") {
    loom::Database db(test_url());
    shop::create_all(db);
    std::vector<Publisher> v(2);
    v[0].name = "x";
    v[1].name = "y";
    loom::Transaction tx(db);
    SqlLog log(db);
    db.bulk_insert(v);
    CHECK(log.sql ==
          std::vector<std::string>{
              "SAVEPOINT loom_1", inserted("INSERT INTO \"publisher\" (\"name\") VALUES (?)"),
              inserted("INSERT INTO \"publisher\" (\"name\") VALUES (?)"), "RELEASE loom_1"});
    tx.commit();
    CHECK(count_rows(db, "publisher") == 2);
}

TEST_CASE("bulk_insert of nothing writes nothing", "[writes][bulk]") {
    loom::Database db(test_url());
    shop::create_all(db);
    std::vector<Publisher> none;
    db.bulk_insert(none);
    CHECK(count_rows(db, "publisher") == 0);
    CHECK(db.transaction_depth() == 0);
}

// ---- many-to-many ----------------------------------------------------------------------------

TEST_CASE("m2m add links objects from the owning side", "[writes][m2m]") {
    loom::Database db(test_url());
    shop::create_all(db);
    const Publisher p = publisher(db, "P");
    Book b = book(db, "B", p);
    const Author x = author(db, "X"), y = author(db, "Y");
    const auto q0 = db.query_count();
    db.m2m(b, &Book::authors).add(x, y);
    CHECK(db.query_count() - q0 == 4);  // BEGIN, 2 INSERTs, COMMIT
    CHECK(links(db) == decltype(links(db)){{b.id, x.id}, {b.id, y.id}});

    SECTION("adding a link twice keeps it once") {
        db.m2m(b, &Book::authors).add(x);
        CHECK(links(db).size() == 2);
    }
    SECTION("an unloaded cache stays unloaded") {
        CHECK_FALSE(b.authors.loaded());
        CHECK_THROWS_AS(b.authors.size(), loom::NotLoaded);
    }
}

TEST_CASE("m2m add links objects from the reverse side", "[writes][m2m]") {
    loom::Database db(test_url());
    shop::create_all(db);
    const Publisher p = publisher(db, "P");
    const Book b1 = book(db, "B1", p), b2 = book(db, "B2", p);
    Author a = author(db, "A");
    db.m2m(a, &Author::books).add(b1, b2);
    // The join table's columns keep their meaning: book_id, author_id.
    CHECK(links(db) == decltype(links(db)){{b1.id, a.id}, {b2.id, a.id}});
    const auto books = db.objects<Author>().prefetch_related(&Author::books).get().books.size();
    CHECK(books == 2);

    SECTION("and remove unlinks from the reverse side") {
        db.m2m(a, &Author::books).remove(b1);
        CHECK(links(db) == decltype(links(db)){{b2.id, a.id}});
    }
    SECTION("and clear unlinks everything of that author only") {
        Author other = author(db, "Other");
        db.m2m(other, &Author::books).add(b1);
        db.m2m(a, &Author::books).clear();
        CHECK(links(db) == decltype(links(db)){{b1.id, other.id}});
    }
}

TEST_CASE("m2m remove, set and clear change only the owner's links", "[writes][m2m]") {
    loom::Database db(test_url());
    shop::create_all(db);
    auto c = shop::seed_catalogue(db);
    const auto others = [&] {
        auto all = links(db);
        std::erase_if(all, [&](auto& l) { return l.first == c.omens.id; });
        return all;
    };
    const auto untouched = others();
    REQUIRE(untouched.size() == 4);

    SECTION("remove") {
        const auto q0 = db.query_count();
        db.m2m(c.omens, &Book::authors).remove(c.gaiman);
        CHECK(db.query_count() - q0 == 3);  // BEGIN, DELETE, COMMIT
        auto all = links(db);
        CHECK(std::count(all.begin(), all.end(), std::pair{c.omens.id, c.pratchett.id}) == 1);
        CHECK(std::count(all.begin(), all.end(), std::pair{c.omens.id, c.gaiman.id}) == 0);
    }
    SECTION("remove of an object that is not linked is a no-op") {
        db.m2m(c.omens, &Book::authors).remove(c.leguin);
        CHECK(links(db).size() == 6);
    }
    SECTION("set") {
        SqlLog log(db);
        std::vector<Author> v{c.leguin, c.gaiman};
        db.m2m(c.omens, &Book::authors).set(v);
        CHECK(log.sql == std::vector<std::string>{
                             "BEGIN", "DELETE FROM \"book_authors\" WHERE \"book_id\" = ?",
                             "SAVEPOINT loom_1",
                             "INSERT INTO \"book_authors\" (\"book_id\", \"author_id\") "
                             "VALUES (?, ?) ON CONFLICT DO NOTHING",
                             "INSERT INTO \"book_authors\" (\"book_id\", \"author_id\") "
                             "VALUES (?, ?) ON CONFLICT DO NOTHING",
                             "RELEASE loom_1", "COMMIT"});
        auto all = links(db);
        CHECK(std::count(all.begin(), all.end(), std::pair{c.omens.id, c.leguin.id}) == 1);
        CHECK(std::count(all.begin(), all.end(), std::pair{c.omens.id, c.gaiman.id}) == 1);
        CHECK(std::count(all.begin(), all.end(), std::pair{c.omens.id, c.pratchett.id}) == 0);
    }
    SECTION("set to nothing") {
        db.m2m(c.omens, &Book::authors).set(std::vector<Author>{});
        CHECK(links(db).size() == 4);
    }
    SECTION("clear") {
        const auto q0 = db.query_count();
        db.m2m(c.omens, &Book::authors).clear();
        CHECK(db.query_count() - q0 == 1);
        CHECK(links(db).size() == 4);
    }
    CHECK(others() == untouched);
    CHECK(count_rows(db, "author") == 3);
    CHECK(count_rows(db, "book") == 5);
}

TEST_CASE("m2m writes keep a loaded cache true", "[writes][m2m]") {
    loom::Database db(test_url());
    shop::create_all(db);
    auto c = shop::seed_catalogue(db);
    Book omens = db.objects<Book>()
                     .filter(loom::col(&Book::id) == c.omens.id)
                     .prefetch_related(&Book::authors)
                     .get();
    REQUIRE(names(omens.authors) == std::vector<std::string>{"Neil Gaiman", "Terry Pratchett"});
    auto fresh = [&] {
        return names(db.objects<Book>()
                         .filter(loom::col(&Book::id) == c.omens.id)
                         .prefetch_related(&Book::authors)
                         .get()
                         .authors);
    };

    SECTION("add") {
        db.m2m(omens, &Book::authors).add(c.leguin);
        CHECK(names(omens.authors) ==
              std::vector<std::string>{"Neil Gaiman", "Terry Pratchett", "Ursula K. Le Guin"});
        CHECK(names(omens.authors) == fresh());
    }
    SECTION("add of an object already linked does not repeat it") {
        db.m2m(omens, &Book::authors).add(c.gaiman);
        CHECK(omens.authors.size() == 2);
        CHECK(names(omens.authors) == fresh());
    }
    SECTION("remove") {
        db.m2m(omens, &Book::authors).remove(c.gaiman);
        CHECK(names(omens.authors) == std::vector<std::string>{"Terry Pratchett"});
        CHECK(names(omens.authors) == fresh());
    }
    SECTION("set") {
        db.m2m(omens, &Book::authors).set(std::vector<Author>{c.leguin});
        CHECK(omens.authors.loaded());
        CHECK(names(omens.authors) == std::vector<std::string>{"Ursula K. Le Guin"});
        CHECK(names(omens.authors) == fresh());
    }
    SECTION("set to the list itself, whose objects only the list keeps alive") {
        db.m2m(omens, &Book::authors).set(omens.authors);
        CHECK(names(omens.authors) == std::vector<std::string>{"Neil Gaiman", "Terry Pratchett"});
        CHECK(names(omens.authors) == fresh());
    }
    SECTION("many edits: the list stays true, and a copy taken between edits keeps its items") {
        const auto before = omens.authors;
        const std::string first = before[0].name, second = before[1].name;
        for (int i = 0; i < 50; ++i) {
            db.m2m(omens, &Book::authors).add(c.leguin);
            db.m2m(omens, &Book::authors).remove(c.gaiman);
            db.m2m(omens, &Book::authors).add(c.gaiman);
            db.m2m(omens, &Book::authors).remove(c.leguin);
        }
        CHECK(names(omens.authors) == std::vector<std::string>{"Neil Gaiman", "Terry Pratchett"});
        CHECK(omens.authors[0].name == "Terry Pratchett");  // Gaiman was removed and added back
        CHECK(names(omens.authors) == fresh());
        CHECK(before[0].name == first);  // the copy did not see the edits
        CHECK(before[1].name == second);
        db.m2m(omens, &Book::authors).add(c.leguin);
        const auto with_leguin = omens.authors;
        db.m2m(omens, &Book::authors).clear();
        CHECK(names(with_leguin) ==
              std::vector<std::string>{"Neil Gaiman", "Terry Pratchett", "Ursula K. Le Guin"});
        CHECK(omens.authors.empty());
    }
    SECTION("clear") {
        db.m2m(omens, &Book::authors).clear();
        CHECK(omens.authors.loaded());
        CHECK(omens.authors.empty());
        CHECK(fresh().empty());
    }
    SECTION("from the reverse side") {
        Author leguin = db.objects<Author>()
                            .filter(loom::col(&Author::id) == c.leguin.id)
                            .prefetch_related(&Author::books)
                            .get();
        REQUIRE(leguin.books.size() == 1);
        db.m2m(leguin, &Author::books).add(c.omens);
        CHECK(leguin.books.size() == 2);
        db.m2m(leguin, &Author::books).remove(c.dispossessed);
        REQUIRE(leguin.books.size() == 1);
        CHECK(leguin.books[0].title == "Good Omens");
        CHECK(fresh() ==
              std::vector<std::string>{"Neil Gaiman", "Terry Pratchett", "Ursula K. Le Guin"});
    }
}

TEST_CASE("m2m on a self-reference uses from_ for the owner and to_ for the target",
          "[writes][m2m]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::Person alice, bob, carol;
    alice.name = "Alice";
    bob.name = "Bob";
    carol.name = "Carol";
    db.insert(alice);
    db.insert(bob);
    db.insert(carol);
    db.m2m(alice, &shop::Person::friends).add(bob);
    db.m2m(carol, &shop::Person::friend_of).add(alice);  // alice -> carol
    CHECK(links(db, "person_friends", "from_person_id", "to_person_id") ==
          decltype(links(db)){{alice.id, bob.id}, {alice.id, carol.id}});
    const auto loaded = db.objects<shop::Person>()
                            .filter(loom::col(&shop::Person::id) == alice.id)
                            .prefetch_related(&shop::Person::friends)
                            .get();
    REQUIRE(loaded.friends.size() == 2);
    CHECK(loaded.friends[0].name == "Bob");
    CHECK(loaded.friends[1].name == "Carol");
}

TEST_CASE("m2m through an explicit model is refused with a UsageError", "[writes][m2m]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::Person p;
    p.name = "P";
    db.insert(p);
    shop::Club club;
    club.name = "Chess";
    db.insert(club);
    CHECK_THROWS_WITH(db.m2m(p, &shop::Person::clubs),
                      "Person::clubs goes through the model stored in \"membership\"; insert or "
                      "remove rows of that model instead");
    CHECK_THROWS_AS(db.m2m(club, &shop::Club::members), loom::UsageError);
    CHECK(count_rows(db, "membership") == 0);

    SECTION("the through model itself is written like any model") {
        shop::Membership m;
        m.person = p;
        m.club = club;
        m.role = "captain";
        db.insert(m);
        const auto loaded = db.objects<shop::Person>().prefetch_related(&shop::Person::clubs).get();
        REQUIRE(loaded.clubs.size() == 1);
        CHECK(loaded.clubs[0].name == "Chess");
    }
}

TEST_CASE("m2m on the reverse side of a ForeignKey is a UsageError", "[writes][m2m]") {
    loom::Database db(test_url());
    shop::create_all(db);
    Publisher p = publisher(db, "P");
    CHECK_THROWS_WITH(db.m2m(p, &Publisher::books),
                      "db.m2m: the member is not a many-to-many relation declared in the "
                      "descriptor of Publisher");
}

TEST_CASE("m2m with an object that was never inserted is a UsageError", "[writes][m2m]") {
    loom::Database db(test_url());
    shop::create_all(db);
    const Publisher p = publisher(db, "P");
    Book saved = book(db, "B", p);
    Book unsaved;
    Author a = author(db, "A");
    Author nobody;
    CHECK_THROWS_WITH(db.m2m(unsaved, &Book::authors).add(a),
                      "Book::authors: insert the Book before linking objects to it");
    CHECK_THROWS_WITH(db.m2m(saved, &Book::authors).add(a, nobody),
                      "Book::authors: insert the Author before linking it");
    CHECK_THROWS_AS(db.m2m(saved, &Book::authors).set(std::vector<Author>{nobody}),
                    loom::UsageError);
    CHECK(count_rows(db, "book_authors") == 0);
    CHECK(db.transaction_depth() == 0);
}

}  // namespace writes_test
