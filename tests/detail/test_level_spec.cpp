// White-box tests of the prefetch engine's LevelSpec (detail/prefetch/level.hpp): what a
// prefetch level knows of the relation it loads is data, filled once per relation, so that
// every relation to one model with one key type runs the same RelLevel<Target, Key>.
#include "catch.hpp"

#include <loom/loom.hpp>

#include <cstdint>
#include <string>
#include <type_traits>

#include "../models.hpp"

namespace test_level_spec {

// A model known by a text key, with a member that loads by it.
struct Town;
struct Region {
    std::string code;
    loom::Reverse<Town> towns;
};
struct Town {
    std::int64_t id = 0;
    loom::ForeignKey<Region, std::string> region;
};
constexpr auto loom_model(loom::model_of<Region>) {
    return loom::table("region", loom::pk(&Region::code, "code"),
                       loom::reverse(&Region::towns, &Town::region));
}
constexpr auto loom_model(loom::model_of<Town>) {
    return loom::table("town", loom::pk(&Town::id), loom::foreign_key(&Town::region, "region_id"));
}

using namespace shop;
using loom::detail::LevelKind;
using loom::detail::LevelSpec;

template <class Owner, class M> const LevelSpec& spec_of(M Owner::*member) {
    const LevelSpec* out = nullptr;
    loom::detail::visit_entry(
        member, [&](auto i) { out = &loom::detail::level_spec<Owner, decltype(i)::value>; });
    REQUIRE(out != nullptr);
    return *out;
}

template <class Owner, class M> const loom::detail::RelationInfo* info_of(M Owner::*member) {
    const loom::detail::RelationInfo* out = nullptr;
    loom::detail::visit_entry(
        member, [&](auto i) { out = &loom::detail::relation_info<Owner, decltype(i)::value>; });
    return out;
}

TEST_CASE("a forward key's spec names its column and has no back reference", "[detail][spec]") {
    const LevelSpec& s = spec_of(&Book::publisher);
    CHECK(s.kind == LevelKind::forward);
    CHECK(s.to_one());
    CHECK_FALSE(s.shared_targets);
    CHECK(s.column == "publisher_id");
    CHECK(s.info == info_of(&Book::publisher));
    CHECK(s.into_info->into);
    CHECK(s.back_info == nullptr);
    CHECK(s.set_back == nullptr);
    CHECK(s.set_backs == nullptr);
    CHECK(s.describe() == "Book::publisher");
    CHECK(s.join().forward);
}

TEST_CASE("a reverse key's children point back at their parents through the spec",
          "[detail][spec]") {
    const LevelSpec& s = spec_of(&Book::reviews);
    CHECK(s.kind == LevelKind::list);
    CHECK_FALSE(s.to_one());
    CHECK_FALSE(s.shared_targets);
    CHECK(s.back_info == info_of(&Review::book));
    CHECK(s.set_back == nullptr);
    REQUIRE(s.set_backs != nullptr);

    // set_backs points each child the level read (its block, in row order) at its parent:
    // child i at parents.owner(first_parent[link[i]]), through the back anchor.
    // (The anchor first: it outlives the words that refer to it.)
    loom::detail::AnchorRef back(new loom::detail::Anchor(s.back_info));
    Book first, second;
    first.id = 7;
    second.id = 8;
    loom::detail::StableBlock<Review> block;
    for (std::int64_t key : {8, 7, 8}) block.emplace_back().book = key;
    const std::uint32_t link[] = {1, 0, 1};  // the key index of each row: 7 is key 0, 8 key 1
    loom::detail::ParentObjects parents;
    auto add = [&](Book& b) {
        parents.add(parents.size(), &b, loom::detail::cache_of(b.reviews), &b);
    };
    SECTION("parents chained by key") {
        add(second);
        add(first);
        const std::uint32_t first_parent[] = {1, 0};  // the first parent of each key
        s.set_backs(&block, link, first_parent, parents, back.get());
    }
    SECTION("one parent a key: key k's parent is parent k") {
        add(first);
        add(second);
        s.set_backs(&block, link, nullptr, parents, back.get());
    }
    CHECK(block[0].book.get() == &second);
    CHECK(block[1].book.get() == &first);
    CHECK(block[2].book.get() == &second);
    CHECK(*block[1].book.id() == 7);
}

TEST_CASE(
    "many-to-many levels, either side, share their target rows and make no back "
    "reference",
    "[detail][spec]") {
    for (const LevelSpec* s : {&spec_of(&Book::authors), &spec_of(&Author::books)}) {
        CHECK(s->kind == LevelKind::list);
        CHECK(s->shared_targets);
        CHECK(s->back_info == nullptr);
    }
    CHECK_FALSE(spec_of(&Publisher::books).shared_targets);
}

TEST_CASE("both sides of a one-to-one point back at each other", "[detail][spec]") {
    const LevelSpec& forward = spec_of(&Profile::user);
    CHECK(forward.kind == LevelKind::forward);
    CHECK(forward.back_info == info_of(&User::profile));
    CHECK(forward.set_back != nullptr);
    CHECK(forward.set_backs == nullptr);
    const LevelSpec& reverse = spec_of(&User::profile);
    CHECK(reverse.kind == LevelKind::reverse_one);
    CHECK(reverse.to_one());
    CHECK(reverse.back_info == info_of(&Profile::user));
    CHECK(reverse.set_backs != nullptr);
}

TEST_CASE(
    "a relation names its spec and carries no loader, unless its member cannot name the key "
    "it loads by",
    "[detail][spec]") {
    // rel.load(db) runs the level from the spec; the member's load() names the target and the
    // key type (its own key, or its owner's integer key), so reading or writing a model
    // compiles no level for relations nothing loads.
    for (const loom::detail::RelationInfo* info :
         {info_of(&Book::publisher), info_of(&Book::authors), info_of(&Book::reviews),
          info_of(&Author::books), info_of(&User::profile), info_of(&Town::region)}) {
        REQUIRE(info->spec != nullptr);
        CHECK(info->load_by_key == nullptr);
        CHECK_FALSE(info->into);
    }
    CHECK(&info_of(&Book::reviews)->spec() == &spec_of(&Book::reviews));
    CHECK(&info_of(&Town::region)->spec() == &spec_of(&Town::region));
    // A Reverse of a model with a text key keeps that key in a box whose type only the
    // relation knows: the relation loads it.
    const loom::detail::RelationInfo* towns = info_of(&Region::towns);
    CHECK(&towns->spec() == &spec_of(&Region::towns));
    CHECK(towns->load_by_key != nullptr);
    // A member Prefetch(...).into(...) filled cannot load itself.
    const LevelSpec& s = spec_of(&Book::reviews);
    CHECK(s.into_info->spec == nullptr);
    CHECK(s.into_info->load_by_key == nullptr);
    CHECK(s.into_info->into);
}

TEST_CASE("relations to one model with one key type run one level type", "[detail][spec]") {
    using loom::detail::RelNodeT;
    using FromAuthor = RelNodeT<Author, loom::Reverse<Book>>;
    using FromPublisher = RelNodeT<Publisher, loom::Reverse<Book>>;
    using FromReview = RelNodeT<Review, loom::ForeignKey<Book>>;
    STATIC_REQUIRE(std::is_same_v<FromAuthor::Key, std::int64_t>);
    STATIC_REQUIRE(std::is_same_v<FromPublisher::Key, std::int64_t>);
    STATIC_REQUIRE(std::is_same_v<FromReview::Key, std::int64_t>);
    STATIC_REQUIRE(std::is_same_v<FromAuthor::Target, FromReview::Target>);
}

}  // namespace test_level_spec
