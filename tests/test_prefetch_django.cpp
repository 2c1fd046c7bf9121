// prefetch_related where Django's behaviour is the reference (issue 15, items 3 and 8 to 13):
// Django's prefetch_related test scenarios (a person's houses, a house's rooms, a house's main
// room) ported to loom, plus the safety of assigning an object from its own relations. Each
// test states the exact statements it runs and the exact objects it gets; the suite runs under
// ASan/LSan in CI, which checks that back references neither dangle nor leak.
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace django_tests {

using loom_test::Queries;

struct House;
struct Room;

struct Person {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<House> houses;
};

struct House {
    std::int64_t id = 0;
    std::string name;
    loom::ForeignKey<Person> owner;
    loom::OneToOne<Room> main_room;
    loom::Reverse<Room> rooms;
    // Not in the descriptor: Prefetch(...).into targets.
    loom::Reverse<Room> some_rooms;
    loom::OneToOne<Room> main_room_attr;
};

struct Room {
    std::int64_t id = 0;
    std::string name;
    loom::ForeignKey<House> house;
    loom::ReverseOne<House> main_room_of;
    loom::ForeignKey<House> house_attr;  // not in the descriptor: a Prefetch(...).into target
};

struct Member {
    std::int64_t id = 0;
    std::string name;
};

struct Club {
    std::int64_t id = 0;
    std::string name;
    loom::ManyToMany<Member> members;
    loom::ManyToMany<Member> admins;
    loom::ManyToMany<Member> chosen;  // not in the descriptor: a Prefetch(...).into target
};

// A tree whose list of children is followed by another member (copied after the list).
struct Node {
    std::int64_t id = 0;
    std::string name;
    loom::ForeignKey<Node> parent;
    loom::Reverse<Node> children;
    std::string note = "a plain member after the relations";
};

constexpr auto loom_model(loom::model_of<Node>) {
    return loom::table("dj_node", loom::pk(&Node::id), loom::field(&Node::name, "name"),
                       loom::foreign_key(&Node::parent, "parent_id", loom::on_delete::set_null),
                       loom::reverse(&Node::children, &Node::parent));
}
constexpr auto loom_model(loom::model_of<Person>) {
    return loom::table("dj_person", loom::pk(&Person::id), loom::field(&Person::name, "name"),
                       loom::reverse(&Person::houses, &House::owner));
}
constexpr auto loom_model(loom::model_of<House>) {
    return loom::table(
        "dj_house", loom::pk(&House::id), loom::field(&House::name, "name"),
        loom::foreign_key(&House::owner, "owner_id", loom::on_delete::set_null),
        loom::one_to_one(&House::main_room, "main_room_id", loom::on_delete::set_null),
        loom::reverse(&House::rooms, &Room::house));
}
constexpr auto loom_model(loom::model_of<Room>) {
    return loom::table("dj_room", loom::pk(&Room::id), loom::field(&Room::name, "name"),
                       loom::foreign_key(&Room::house, "house_id", loom::on_delete::cascade),
                       loom::reverse(&Room::main_room_of, &House::main_room));
}
constexpr auto loom_model(loom::model_of<Member>) {
    return loom::table("dj_member", loom::pk(&Member::id), loom::field(&Member::name, "name"));
}
constexpr auto loom_model(loom::model_of<Club>) {
    return loom::table("dj_club", loom::pk(&Club::id), loom::field(&Club::name, "name"),
                       loom::many_to_many(&Club::members, "dj_club_members"),
                       loom::many_to_many(&Club::admins, "dj_club_admins"));
}

using Names = std::vector<std::string>;

template <class List> Names names(const List& list) {
    Names out;
    for (const auto& x : list) out.push_back(x.name);
    return out;
}

/// The SQL of every statement a database runs while this object lives.
class Log {
public:
    explicit Log(loom::Database& db)
        : sub_(db.on_query([this](const loom::QueryEvent& e) { sql.emplace_back(e.sql); })) {}
    Log(const Log&) = delete;
    Log& operator=(const Log&) = delete;
    Names sql;

private:
    loom::Database::Subscription sub_;
};

/// Django's prefetch_related fixtures, cut down:
///   Joe owns Big (rooms Hall, Kitchen, Lounge; main room Lounge) and Small (Den; main Den);
///   Jane owns Flat (Studio; no main room); nobody owns Empty (no rooms); Tom owns nothing.
///   Club Chess: members Joe and Jane, admin Jane.
/// Ids follow that order: people 1 Joe, 2 Jane, 3 Tom; houses 1 Big, 2 Small, 3 Flat, 4 Empty;
/// rooms 1 Hall, 2 Kitchen, 3 Lounge, 4 Den, 5 Studio.
void seed(loom::Database& db) {
    db.create_tables<Person, House, Room, Member, Club>();
    db.transaction([&] {
        Person joe{.name = "Joe"}, jane{.name = "Jane"}, tom{.name = "Tom"};
        for (Person* p : {&joe, &jane, &tom}) db.insert(*p);
        House big{.name = "Big"}, small{.name = "Small"}, flat{.name = "Flat"},
            empty{.name = "Empty"};
        big.owner = joe;
        small.owner = joe;
        flat.owner = jane;
        for (House* h : {&big, &small, &flat, &empty}) db.insert(*h);
        auto room = [&](const char* name, House& h) {
            Room r{.name = name};
            r.house = h;
            db.insert(r);
            return r;
        };
        room("Hall", big);
        room("Kitchen", big);
        const Room lounge = room("Lounge", big);
        const Room den = room("Den", small);
        room("Studio", flat);
        big.main_room = lounge;
        small.main_room = den;
        db.update(big);
        db.update(small);
        Member mjoe{.name = "Joe"}, mjane{.name = "Jane"};
        db.insert(mjoe);
        db.insert(mjane);
        Club chess{.name = "Chess"};
        db.insert(chess);
        db.m2m(chess, &Club::members).add(mjoe, mjane);
        db.m2m(chess, &Club::admins).add(mjane);
    });
}

struct World {
    loom::Database db{test_url()};
    World() { seed(db); }
};

const House& house_named(const std::vector<House>& houses, const std::string& name) {
    for (const House& h : houses)
        if (h.name == name) return h;
    FAIL("no house " << name);
    throw;
}

// ---- item 8: Prefetch(...).into(...) on a forward relation -----------------------------------

TEST_CASE("a Prefetch of a forward ForeignKey into another member loads what the key names",
          "[prefetch][django]") {
    World w;
    Log log(w.db);
    auto rooms =
        w.db.objects<Room>()
            .prefetch_related(loom::Prefetch(&Room::house, w.db.objects<House>().filter(
                                                               loom::col(&House::name) != "Small"))
                                  .into(&Room::house_attr))
            .to_vector();
    REQUIRE(log.sql.size() == 2);  // the rooms, then their houses (it was 1: no query ran)
    REQUIRE(names(rooms) == Names{"Hall", "Kitchen", "Lounge", "Den", "Studio"});
    CHECK(rooms[0].house_attr->name == "Big");
    CHECK(rooms[2].house_attr->name == "Big");
    CHECK(rooms[4].house_attr->name == "Flat");
    CHECK(rooms[0].house_attr.id() == rooms[0].house.id());
    // The relation member itself is left alone.
    CHECK_FALSE(rooms[0].house.loaded());

    SECTION("a target the Prefetch's queryset filtered out reads as nullptr, and says why") {
        const Room& den = rooms[3];
        CHECK(den.house_attr.loaded());
        CHECK(den.house_attr.get() == nullptr);
        CHECK_FALSE(den.house_attr.is_null());
        CHECK(den.house_attr.id() == std::optional<std::int64_t>(2));
        CHECK_THROWS_MATCHES(
            *den.house_attr, loom::UsageError,
            Catch::Matchers::Message(
                "Room::house (loaded into another member by Prefetch(...).into(...)) is not NULL "
                "(its key is 2), but the House it points at was filtered out by the QuerySet of "
                "the Prefetch that loaded it; get() returns nullptr for it"));
    }
    CHECK(log.sql.size() == 2);
}

TEST_CASE("a Prefetch of a forward one-to-one into another member, NULL keys included",
          "[prefetch][django]") {
    World w;
    Queries q(w.db);
    auto houses = w.db.objects<House>()
                      .prefetch_related(loom::Prefetch(&House::main_room, w.db.objects<Room>())
                                            .into(&House::main_room_attr))
                      .to_vector();
    CHECK(q() == 2);
    REQUIRE(names(houses) == Names{"Big", "Small", "Flat", "Empty"});
    CHECK(houses[0].main_room_attr->name == "Lounge");
    CHECK(houses[1].main_room_attr->name == "Den");
    CHECK(houses[2].main_room_attr.loaded());
    CHECK(houses[2].main_room_attr.is_null());
    CHECK(houses[2].main_room_attr.get() == nullptr);
    CHECK_FALSE(houses[0].main_room.loaded());
    CHECK(q() == 2);
}

// ---- item 9: into() refuses a member the descriptor declares --------------------------------

TEST_CASE("into() refuses another declared relation, before any query", "[prefetch][django]") {
    World w;
    Queries q(w.db);
    const auto admins_only = w.db.objects<Member>().filter(loom::col(&Member::name) == "Jane");
    CHECK_THROWS_MATCHES(
        loom::Prefetch(&Club::members, admins_only).into(&Club::admins), loom::UsageError,
        Catch::Matchers::Message(
            "Prefetch(Club::members).into(&Club::admins): admins is a relation the descriptor "
            "of Club declares; into() takes a member the descriptor does not declare (or the "
            "relation itself), so that a prefetch never passes for another relation"));
    CHECK(q() == 0);

    SECTION("a member the descriptor does not declare, or the relation itself, is fine") {
        const auto clubs =
            w.db.objects<Club>()
                .prefetch_related(
                    loom::Prefetch(&Club::members, admins_only).into(&Club::chosen),
                    loom::Prefetch(&Club::admins, w.db.objects<Member>()).into(&Club::admins))
                .to_vector();
        CHECK(q() == 3);
        CHECK(names(clubs[0].chosen) == Names{"Jane"});
        CHECK(names(clubs[0].admins) == Names{"Jane"});
        CHECK_FALSE(clubs[0].members.loaded());
    }
}

// ---- item 10: back references ----------------------------------------------------------------

TEST_CASE("a reverse ForeignKey level points each child at its parent, with no query",
          "[prefetch][django]") {
    World w;
    Queries q(w.db);
    const auto qs = w.db.objects<House>().prefetch_related(&House::rooms);
    const std::vector<House>& houses = qs.rows();
    REQUIRE(q() == 2);
    REQUIRE(names(houses) == Names{"Big", "Small", "Flat", "Empty"});
    CHECK(names(houses[0].rooms) == Names{"Hall", "Kitchen", "Lounge"});
    for (const House& h : houses) {
        for (const Room& r : h.rooms) {
            CHECK(r.house.loaded());
            CHECK(r.house.get() == &h);  // the very object, as in Django
            CHECK(r.house.id() == std::optional<std::int64_t>(h.id));
        }
    }
    // Through the back reference to the parent's other relations: still no query.
    CHECK(houses[0].rooms[1].house->rooms[2].name == "Lounge");
    CHECK(q() == 2);
}

TEST_CASE("back references outlive the QuerySet: copies keep the parents alive",
          "[prefetch][django]") {
    World w;
    Queries q(w.db);
    SECTION("to_vector() of a temporary QuerySet") {
        auto houses = w.db.objects<House>().prefetch_related(&House::rooms).to_vector();
        CHECK(q() == 2);
        const Room& kitchen = houses[0].rooms[1];
        // The parent as loaded: the QuerySet's row, which the copies keep.
        CHECK(kitchen.house->name == "Big");
        CHECK(kitchen.house->id == houses[0].id);
        CHECK(names(kitchen.house->rooms) == Names{"Hall", "Kitchen", "Lounge"});
        Room copy = kitchen;
        houses.clear();
        houses.shrink_to_fit();
        CHECK(copy.house->name == "Big");
        CHECK(names(copy.house->rooms) == Names{"Hall", "Kitchen", "Lounge"});
    }
    SECTION("a list copied out of the rows") {
        loom::Reverse<Room> rooms;
        {
            const auto qs = w.db.objects<House>().prefetch_related(&House::rooms);
            rooms = qs.rows()[1].rooms;
        }
        REQUIRE(rooms.size() == 1);
        CHECK(rooms[0].house->name == "Small");
    }
    SECTION("get() and first()") {
        const auto qs = w.db.objects<House>().prefetch_related(&House::rooms);
        const House small = qs.get(loom::col(&House::name) == "Small");
        CHECK(small.rooms[0].house->name == "Small");
        const House big = *qs.first();
        CHECK(big.rooms[2].house->id == big.id);
        CHECK(q() == 4);
    }
    CHECK(q() > 0);
}

TEST_CASE("nested levels point back at the objects of the level above", "[prefetch][django]") {
    World w;
    Queries q(w.db);
    Room den;
    {
        const auto qs =
            w.db.objects<Person>().prefetch_related(loom::path(&Person::houses, &House::rooms));
        const std::vector<Person>& people = qs.rows();
        REQUIRE(q() == 3);
        REQUIRE(names(people) == Names{"Joe", "Jane", "Tom"});
        const Person& joe = people[0];
        REQUIRE(names(joe.houses) == Names{"Big", "Small"});
        CHECK(joe.houses[1].owner.get() == &joe);
        CHECK(joe.houses[1].rooms[0].house.get() == &joe.houses[1]);
        CHECK(people[1].houses[0].rooms[0].house->owner->name == "Jane");
        CHECK(people[2].houses.empty());
        den = joe.houses[1].rooms[0];
    }
    // The copy keeps its whole chain of parents alive.
    CHECK(den.house->name == "Small");
    CHECK(den.house->owner->name == "Joe");
    CHECK(names(den.house->owner->houses) == Names{"Big", "Small"});
    CHECK(q() == 3);
}

TEST_CASE("one-to-one levels fill the other side too", "[prefetch][django]") {
    World w;
    Queries q(w.db);
    SECTION("a reverse one-to-one fills the forward side") {
        const auto qs = w.db.objects<Room>().prefetch_related(&Room::main_room_of);
        const auto& rooms = qs.rows();
        REQUIRE(q() == 2);
        const Room& lounge = rooms[2];
        REQUIRE(lounge.main_room_of->name == "Big");
        CHECK(lounge.main_room_of->main_room.get() == &lounge);
        CHECK_FALSE(rooms[0].main_room_of.has_value());
    }
    SECTION("a forward one-to-one fills the reverse side") {
        const auto qs = w.db.objects<House>().prefetch_related(&House::main_room);
        const auto& houses = qs.rows();
        REQUIRE(q() == 2);
        CHECK(houses[0].main_room->name == "Lounge");
        CHECK(houses[0].main_room->main_room_of.get() == &houses[0]);
        CHECK(houses[1].main_room->main_room_of.get() == &houses[1]);
        CHECK(houses[2].main_room.get() == nullptr);
    }
    CHECK(q() == 2);
}

TEST_CASE("a Prefetch's queryset gets back references too, and prefetching them runs nothing",
          "[prefetch][django]") {
    World w;
    Queries q(w.db);
    const auto not_the_hall = w.db.objects<Room>()
                                  .filter(loom::col(&Room::name) != "Hall")
                                  .order_by(loom::desc(&Room::name));
    SECTION("a filtered, ordered Prefetch") {
        const auto qs =
            w.db.objects<House>().prefetch_related(loom::Prefetch(&House::rooms, not_the_hall));
        const auto& big = qs.rows()[0];
        REQUIRE(names(big.rooms) == Names{"Lounge", "Kitchen"});
        CHECK(big.rooms[0].house.get() == &big);
        CHECK(q() == 2);
    }
    SECTION("into another member") {
        const auto qs = w.db.objects<House>().prefetch_related(
            loom::Prefetch(&House::rooms, not_the_hall).into(&House::some_rooms));
        const auto& big = qs.rows()[0];
        REQUIRE(names(big.some_rooms) == Names{"Lounge", "Kitchen"});
        CHECK(big.some_rooms[1].house.get() == &big);
        CHECK(q() == 2);
    }
    SECTION("the queryset prefetches the known side: no query for it") {
        const auto qs = w.db.objects<House>().prefetch_related(
            loom::Prefetch(&House::rooms, w.db.objects<Room>().prefetch_related(&Room::house)));
        const auto& houses = qs.rows();
        CHECK(houses[2].rooms[0].house.get() == &houses[2]);
        CHECK(q() == 2);
    }
}

TEST_CASE("prefetch_related_objects fills back references below the objects it is given",
          "[prefetch][django]") {
    World w;
    // The caller's own objects may move or go at any time: loom cannot point at them, so the
    // first level's children get no back reference to them; deeper levels, which loom keeps,
    // do.
    auto people = w.db.objects<Person>().to_vector();
    Queries q(w.db);
    loom::prefetch_related_objects(w.db, people, loom::path(&Person::houses, &House::rooms));
    CHECK(q() == 2);
    const House& big = people[0].houses[0];
    CHECK_FALSE(big.owner.loaded());
    CHECK(big.rooms[0].house.get() == &big);
    CHECK(names(big.rooms[0].house->rooms) == Names{"Hall", "Kitchen", "Lounge"});
    people.clear();
    CHECK(q() == 2);
}

TEST_CASE("a self-referencing reverse ForeignKey points back at the manager",
          "[prefetch][django]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::Employee ada{.name = "Ada"}, bob{.name = "Bob"}, cy{.name = "Cy"};
    db.insert(ada);
    bob.manager = ada;
    cy.manager = ada;
    db.insert(bob);
    db.insert(cy);
    const auto qs = db.objects<shop::Employee>().prefetch_related(&shop::Employee::reports);
    const auto& staff = qs.rows();
    REQUIRE(names(staff[0].reports) == Names{"Bob", "Cy"});
    CHECK(staff[0].reports[1].manager.get() == &staff[0]);
    CHECK(staff[1].reports.empty());
}

// ---- item 11: a Prefetch's queryset runs on its own database ----------------------------------

/// Two database files, removed at the end of the test.
struct TwoFiles {
    std::string a, b;
    TwoFiles() {
        const auto dir = std::filesystem::temp_directory_path();
        const std::string tag = std::to_string(::getpid());
        a = (dir / ("loom_test_prefetch_django_a_" + tag + ".db")).string();
        b = (dir / ("loom_test_prefetch_django_b_" + tag + ".db")).string();
        remove_all();
    }
    ~TwoFiles() { remove_all(); }
    void remove_all() const {
        std::error_code ec;
        for (const std::string& p : {a, b})
            for (const char* suffix : {"", "-journal", "-wal", "-shm"})
                std::filesystem::remove(p + suffix, ec);
    }
};

TEST_CASE("a Prefetch whose queryset belongs to another Database runs there",
          "[prefetch][django]") {
    TwoFiles files;
    {
        loom::Database a(files.a), b(files.b);
        seed(a);
        seed(b);
        // b's rooms differ from a's: same houses, other names.
        b.objects<Room>().update(loom::set(&Room::name, std::string("B-room")));
        Room attic{.name = "Attic"};
        attic.house = 1;
        b.insert(attic);

        Queries qa(a), qb(b);
        const auto qs = a.objects<House>().prefetch_related(
            loom::Prefetch(&House::rooms, b.objects<Room>().prefetch_related(&Room::main_room_of)));
        const auto& houses = qs.rows();
        CHECK(qa() == 1);  // the houses
        CHECK(qb() == 2);  // their rooms, and the rooms' main_room_of, both in b
        REQUIRE(names(houses[0].rooms) == Names{"B-room", "B-room", "B-room", "Attic"});
        CHECK(houses[0].rooms[3].house.get() == &houses[0]);
        CHECK(houses[0].rooms[2].main_room_of->name == "Big");

        SECTION("two querysets of two databases for one member are a conflict") {
            CHECK_THROWS_MATCHES(
                a.objects<House>().prefetch_related(
                    loom::Prefetch(&House::rooms, a.objects<Room>()),
                    loom::Prefetch(&House::rooms, b.objects<Room>())),
                loom::UsageError,
                Catch::Matchers::Message(
                    "prefetch_related: House::rooms was given two different querysets (of two "
                    "databases); use Prefetch(...).into(...) to load the second one into another "
                    "member"));
        }
    }
}

// ---- item 12: to-one levels have no ORDER BY ----------------------------------------------

TEST_CASE("to-one levels run without ORDER BY; to-many levels keep theirs", "[prefetch][django]") {
    World w;
    Log log(w.db);
    SECTION("a forward ForeignKey") {
        w.db.objects<House>().prefetch_related(&House::owner).rows();
        REQUIRE(log.sql.size() == 2);
        CHECK(log.sql[1] ==
              "SELECT t0.\"id\", t0.\"name\" FROM \"dj_person\" AS t0 WHERE t0.\"id\"" +
                  key_test(2));
    }
    SECTION("a forward one-to-one, even with an ordered Prefetch queryset") {
        w.db.objects<House>()
            .prefetch_related(loom::Prefetch(
                &House::main_room, w.db.objects<Room>().order_by(loom::desc(&Room::name))))
            .rows();
        REQUIRE(log.sql.size() == 2);
        CHECK(log.sql[1] ==
              "SELECT t0.\"id\", t0.\"name\", t0.\"house_id\" FROM \"dj_room\" AS t0 WHERE "
              "t0.\"id\"" +
                  key_test(2));
    }
    SECTION("a reverse one-to-one") {
        w.db.objects<Room>().prefetch_related(&Room::main_room_of).rows();
        REQUIRE(log.sql.size() == 2);
        CHECK(log.sql[1] ==
              "SELECT t0.\"main_room_id\", t0.\"id\", t0.\"name\", t0.\"owner_id\", "
              "t0.\"main_room_id\" FROM \"dj_house\" AS t0 WHERE t0.\"main_room_id\"" +
                  key_test(8));
    }
    SECTION("a reverse ForeignKey (to-many): ordered by parent key, then primary key") {
        w.db.objects<House>().prefetch_related(&House::rooms).rows();
        REQUIRE(log.sql.size() == 2);
        CHECK(log.sql[1] ==
              "SELECT t0.\"house_id\", t0.\"id\", t0.\"name\", t0.\"house_id\" FROM \"dj_room\" "
              "AS t0 WHERE t0.\"house_id\"" +
                  key_test(4) +
                  " ORDER BY t0.\"house_id\" ASC, "
                  "t0.\"id\" ASC");
    }
}

// ---- item 13: messages and checks --------------------------------------------------------

TEST_CASE("a forward key whose target a Prefetch filtered out says so", "[prefetch][django]") {
    World w;
    const auto rooms =
        w.db.objects<Room>()
            .prefetch_related(loom::Prefetch(
                &Room::house, w.db.objects<House>().filter(loom::col(&House::name) == "Flat")))
            .to_vector();
    CHECK(rooms[4].house->name == "Flat");
    CHECK(rooms[0].house.loaded());
    CHECK_FALSE(rooms[0].house.is_null());
    CHECK(rooms[0].house.get() == nullptr);
    CHECK_THROWS_MATCHES(
        rooms[0].house->name, loom::UsageError,
        Catch::Matchers::Message(
            "Room::house is not NULL (its key is 1), but the House it points at was filtered "
            "out by the QuerySet of the Prefetch that loaded it; get() returns nullptr for it"));
}

TEST_CASE("load() on a member the descriptor does not declare says so", "[prefetch][django]") {
    World w;
    Queries q(w.db);
    House big = w.db.objects<House>().get(loom::col(&House::name) == "Big");
    CHECK_THROWS_MATCHES(
        big.some_rooms.load(w.db), loom::NotLoaded,
        Catch::Matchers::Message(
            "this relation<Room> was never loaded, and cannot load itself: either its object "
            "was built in code (insert it, or read it back from the database, then call "
            "load(db) on the relation), or the member is not declared in its model's "
            "descriptor (a Prefetch(...).into(...) target, which only prefetch_related fills)"));
    SECTION("once a Prefetch filled it, the message names the relation it came from") {
        auto houses =
            w.db.objects<House>()
                .prefetch_related(
                    loom::Prefetch(&House::rooms, w.db.objects<Room>()).into(&House::some_rooms))
                .to_vector();
        CHECK(names(houses[0].some_rooms) == Names{"Hall", "Kitchen", "Lounge"});
        CHECK_THROWS_MATCHES(
            houses[0].some_rooms.load(w.db), loom::NotLoaded,
            Catch::Matchers::Message(
                "House::rooms (loaded into another member by Prefetch(...).into(...)): this "
                "member is not declared in the descriptor of House, so load(db) cannot fill it; "
                "run the QuerySet with the Prefetch again, or load &House::rooms itself"));
        CHECK(q() == 3);
    }
}

// ---- item 3: assigning an object from its own relations -------------------------------------
// Each assignment below reads its source from a block that only the destination keeps alive:
// before the fix, ASan reported a heap-use-after-free in each.

TEST_CASE("n = n.children[0] with members after the list stays valid", "[prefetch][django]") {
    loom::Database db(test_url());
    db.create_tables<Node>();
    Node root{.name = "root"}, a{.name = "a"}, b{.name = "b"};
    db.insert(root);
    a.parent = root;
    b.parent = root;
    db.insert(a);
    db.insert(b);
    // Objects of the caller's: the children get no back reference, so only n.children keeps
    // the block of its children alive.
    auto nodes = db.objects<Node>().filter(loom::col(&Node::name) == "root").to_vector();
    loom::prefetch_related_objects(db, nodes, &Node::children);
    Node& n = nodes[0];
    REQUIRE(names(n.children) == Names{"a", "b"});
    n = n.children[1];
    CHECK(n.name == "b");
    CHECK(n.note == "a plain member after the relations");
    CHECK(n.parent.id() == std::optional<std::int64_t>(root.id));
    CHECK_FALSE(n.children.loaded());
}

TEST_CASE("an object assigned from something reachable through it stays valid",
          "[prefetch][django]") {
    loom::Database db(test_url());
    shop::create_all(db);
    const shop::Catalogue c = shop::seed_catalogue(db);
    shop::Employee ada{.name = "Ada"}, bob{.name = "Bob"}, dee{.name = "Dee"};
    db.insert(ada);
    bob.manager = ada;
    db.insert(bob);
    dee.manager = bob;
    db.insert(dee);

    SECTION("n = n.reports[0]") {
        shop::Employee n =
            db.objects<shop::Employee>()
                .filter(loom::col(&shop::Employee::name) == "Ada")
                .prefetch_related(loom::path(&shop::Employee::reports, &shop::Employee::reports))
                .get();
        n = n.reports[0];
        CHECK(n.name == "Bob");
        CHECK(names(n.reports) == Names{"Dee"});
        CHECK(n.manager->name == "Ada");  // Bob's back reference, copied
        CHECK(n.reports[0].manager->name == "Bob");
        n = n.reports[0];
        CHECK(n.name == "Dee");
        CHECK(n.manager->name == "Bob");
        CHECK_FALSE(n.reports.loaded());  // the path stops at Dee's level
    }
    SECTION("b = b.authors[1].books[1]") {
        shop::Book b = db.objects<shop::Book>()
                           .filter(loom::col(&shop::Book::title) == "Good Omens")
                           .prefetch_related(loom::path(&shop::Book::authors, &shop::Author::books,
                                                        &shop::Book::reviews))
                           .get();
        b = b.authors[1].books[1];  // Gaiman's second book
        CHECK(b.title == "American Gods");
        CHECK(b.id == c.american_gods.id);
        std::vector<std::string> bodies;
        for (const shop::Review& r : b.reviews) bodies.push_back(r.body);
        CHECK(bodies == Names{"A road trip.", "Long."});
        CHECK(b.reviews[0].book->title == "American Gods");
        CHECK_FALSE(b.authors.loaded());
    }
    SECTION("moving from a relation's object copies it") {
        shop::Book b = db.objects<shop::Book>()
                           .filter(loom::col(&shop::Book::title) == "Good Omens")
                           .prefetch_related(loom::path(&shop::Book::authors, &shop::Author::books,
                                                        &shop::Book::reviews))
                           .get();
        b = std::move(b.authors[0].books[1]);  // const: a copy
        CHECK(b.title == "Small Gods");
        CHECK(b.reviews.size() == 1);
    }
    SECTION("swap, and self-assignment") {
        auto books = db.objects<shop::Book>()
                         .prefetch_related(&shop::Book::reviews, &shop::Book::authors)
                         .to_vector();
        using std::swap;
        swap(books[1], books[3]);
        CHECK(books[1].title == "American Gods");
        CHECK(books[1].reviews[0].book->title == "American Gods");
        CHECK(books[3].authors.size() == 2);
        std::swap(books[1], books[1]);
        shop::Book& alias = books[3];
        books[3] = alias;
        CHECK(books[3].title == "Good Omens");
        // Self-move: the relation members keep their caches (a std::string member is left
        // in whatever state the standard library leaves it).
        books[3].reviews = std::move(alias.reviews);
        books[3].publisher = std::move(alias.publisher);
        books[3] = std::move(alias);
        CHECK(books[3].reviews.size() == 2);
        CHECK(books[3].authors[1].name == "Neil Gaiman");
    }
}

TEST_CASE("create_tables of models whose foreign keys form a cycle runs twice, keys enforced",
          "[schema][django]") {
    // House -> Room (main_room) -> House (house): PostgreSQL cannot name a table CREATE TABLE
    // has not made yet, so the key closing the cycle is added after the tables, once.
    loom::Database db(test_url());
    db.create_tables<Person, House, Room>();
    db.create_tables<Person, House, Room>();
    House h{.name = "H"};
    db.insert(h);
    Room ok{.name = "ok"};
    ok.house = h;
    db.insert(ok);
    Room stray{.name = "stray"};
    stray.house = loom::ForeignKey<House>(999);
    try {
        db.insert(stray);
        FAIL("no exception");
    } catch (const loom::ConstraintError& e) {
        CHECK(e.kind() == loom::ConstraintError::Kind::foreign_key);
    }
    if (on_postgres())
        CHECK(db.query<std::int64_t>(
                  "SELECT count(*) FROM pg_constraint WHERE conname = 'dj_room_house_id_fkey' "
                  "AND connamespace = current_schema()::regnamespace") ==
              std::vector<std::int64_t>{1});
    CHECK(db.objects<Room>().count() == 1);
}

TEST_CASE("drop_tables of models whose foreign keys form a cycle drops them, rows and all",
          "[schema][django]") {
    loom::Database db(test_url());
    db.create_tables<Person, House, Room>();
    House h{.name = "H"};
    db.insert(h);
    Room r{.name = "hall"};
    r.house = h;
    db.insert(r);
    h.main_room = r;
    db.update(h);  // both keys of the cycle set: each table refers to the other's row

    db.reset_query_count();
    db.drop_tables<Person, House, Room>();
    // In a transaction: PostgreSQL's one DROP TABLE naming the three (a table another table
    // refers to cannot be dropped alone), SQLite's one a table, dependents first.
    CHECK(db.query_count() == (on_postgres() ? 3 : 5));
    const auto tables = on_postgres()
                            ? db.query<std::int64_t>(
                                  "SELECT count(*) FROM information_schema.tables WHERE "
                                  "table_schema = current_schema() AND table_name LIKE 'dj\\_%'")
                            : db.query<std::int64_t>(
                                  "SELECT count(*) FROM sqlite_master WHERE "
                                  "type = 'table' AND name LIKE 'dj\\_%' "
                                  "ESCAPE '\\'");
    CHECK(tables == std::vector<std::int64_t>{0});

    db.create_tables<Person, House, Room>();  // and again from nothing
    CHECK(db.objects<House>().count() == 0);
    House again{.name = "again"};
    db.insert(again);
    CHECK(again.id == 1);
    db.drop_tables<Room, House, Person>();  // in any order
    db.drop_tables<Room, House, Person>();  // and nothing left to drop
}

}  // namespace django_tests
