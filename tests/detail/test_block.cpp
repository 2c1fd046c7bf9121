// White-box tests of the prefetch engine's StableBlock (detail/prefetch/block.hpp): where a
// prefetch level keeps its objects. Objects never move, indexing agrees with iteration, and
// the block reserves no more than twice what it holds (issue 20, "Lighter objects").
#include "catch.hpp"

#include <loom/loom.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace test_block {

TEST_CASE("StableBlock keeps every object in place and reserves at most twice what it holds",
          "[detail][block]") {
    loom::detail::StableBlock<std::string> block;
    CHECK(block.capacity() == 0);
    std::vector<const std::string*> where;
    for (std::size_t i = 0; i < 5000; ++i) {
        std::string& s = block.emplace_back();
        s = std::to_string(i);
        where.push_back(&s);
        // Segment k holds 8 << k objects: full segments plus the last one's room.
        REQUIRE(block.capacity() <= 2 * block.size() + 8);
    }
    REQUIRE(block.size() == 5000);
    std::size_t i = 0;
    for (const std::string& s : block) {
        REQUIRE(&s == where[i]);
        REQUIRE(&block[i] == where[i]);
        REQUIRE(s == std::to_string(i));
        ++i;
    }
    CHECK(i == 5000);
}

}  // namespace test_block
