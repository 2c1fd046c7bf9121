// White-box tests of what a prefetch level keeps of its parents (detail/prefetch/level.hpp):
// ParentObjects (the parents' objects and caches: no pointer each while they are one array in
// order) and KeyPlan (the distinct keys, and each key's parents: no chains while each parent
// has a key of its own). Issue 20, "Lighter objects": both are alive while a level fetches.
#include "catch.hpp"

#include <loom/loom.hpp>

#include <cstdint>
#include <optional>
#include <vector>

#include "../models.hpp"

namespace test_level_parents {

using loom::detail::KeyPlan;
using loom::detail::ParentObjects;
using shop::Book;

std::vector<std::uint32_t> parents_of(const KeyPlan<std::int64_t>& plan, std::uint32_t k) {
    std::vector<std::uint32_t> out;
    plan.for_parents(k, [&](std::uint32_t p) { out.push_back(p); });
    return out;
}

TEST_CASE("a level's parents are their array while none is left out, else one pointer each",
          "[detail][level]") {
    std::vector<Book> books(5);
    ParentObjects parents;
    parents.start(books.data(), sizeof(Book), books.size());
    auto add = [&](std::size_t i) {
        parents.add(i, &books[i], loom::detail::cache_of(books[i].authors),
                    loom::detail::cache_of(books[i].publisher));
    };
    std::vector<std::size_t> added;
    SECTION("every object") {
        added = {0, 1, 2, 3, 4};
    }
    SECTION("the first left out") {
        added = {1, 2, 3, 4};
    }
    SECTION("one in the middle left out") {
        added = {0, 1, 3, 4};
    }
    SECTION("the last left out") {
        added = {0, 1, 2, 3};
    }
    for (std::size_t i : added) add(i);
    REQUIRE(parents.size() == added.size());
    for (std::size_t p = 0; p < added.size(); ++p) {
        Book& b = books[added[p]];
        CHECK(parents.owner(p) == &b);
        CHECK(parents.cache(p) == loom::detail::cache_of(b.authors));
        CHECK(parents.key_relation(p) == loom::detail::cache_of(b.publisher));
    }
}

TEST_CASE("objects not known to be one array are kept one pointer each", "[detail][level]") {
    Book a, b;
    ParentObjects parents;
    parents.start(nullptr, sizeof(Book), 2);
    parents.add(0, &b, loom::detail::cache_of(b.reviews), &b);
    parents.add(1, &a, loom::detail::cache_of(a.reviews), &a);
    REQUIRE(parents.size() == 2);
    CHECK(parents.owner(0) == &b);
    CHECK(parents.owner(1) == &a);
    CHECK(parents.cache(1) == loom::detail::cache_of(a.reviews));
}

TEST_CASE("a cache given alone is its own parent, with no owner", "[detail][level]") {
    Book b;
    ParentObjects parents;
    parents.add_cache(loom::detail::cache_of(b.publisher));
    REQUIRE(parents.size() == 1);
    CHECK(parents.owner(0) == nullptr);
    CHECK(parents.cache(0) == loom::detail::cache_of(b.publisher));
    CHECK(parents.key_relation(0) == loom::detail::cache_of(b.publisher));
}

TEST_CASE("a key plan chains the parents of each key only when some share one or have none",
          "[detail][level]") {
    using Keys = std::vector<std::optional<std::int64_t>>;
    KeyPlan<std::int64_t> plan;
    SECTION("one key each: key k's parent is parent k, no chains") {
        plan.plan(Keys{7, 9, 8}, true);
        CHECK(plan.one_each);
        CHECK(plan.first_parents() == nullptr);
        CHECK(plan.next_parent.empty());
        CHECK(plan.distinct == std::vector<std::int64_t>{7, 9, 8});
        for (std::uint32_t k = 0; k < 3; ++k) CHECK(parents_of(plan, k) == std::vector{k});
    }
    SECTION("a repeated key") {
        plan.plan(Keys{7, 9, 7, 8, 9, 7}, true);
        CHECK_FALSE(plan.one_each);
        CHECK(plan.distinct == std::vector<std::int64_t>{7, 9, 8});
        CHECK(parents_of(plan, 0) == std::vector<std::uint32_t>{0, 2, 5});
        CHECK(parents_of(plan, 1) == std::vector<std::uint32_t>{1, 4});
        CHECK(parents_of(plan, 2) == std::vector<std::uint32_t>{3});
        CHECK(plan.first_parents()[2] == 3);
    }
    SECTION("a NULL key") {
        plan.plan(Keys{7, std::nullopt, 9, 7}, true);
        CHECK_FALSE(plan.one_each);
        CHECK(plan.distinct == std::vector<std::int64_t>{7, 9});
        CHECK(parents_of(plan, 0) == std::vector<std::uint32_t>{0, 3});
        CHECK(parents_of(plan, 1) == std::vector<std::uint32_t>{2});
    }
    SECTION("the first key NULL") {
        plan.plan(Keys{std::nullopt, 7, 9}, true);
        CHECK(parents_of(plan, 0) == std::vector<std::uint32_t>{1});
        CHECK(parents_of(plan, 1) == std::vector<std::uint32_t>{2});
    }
    SECTION("not chained (a forward level): distinct keys only") {
        plan.plan(Keys{7, 7, std::nullopt, 8}, false);
        CHECK(plan.distinct == std::vector<std::int64_t>{7, 8});
        CHECK(plan.first_parent.empty());
        CHECK(plan.next_parent.empty());
    }
}

}  // namespace test_level_parents
