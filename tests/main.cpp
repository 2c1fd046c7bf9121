// tests/main.cpp - main() for the Catch2 v2 build of loom_tests. With Catch2 v3 this file is
// not compiled: loom_tests links Catch2::Catch2WithMain instead (see tests/CMakeLists.txt).
// A PostgreSQL run (LOOM_TEST_ENGINE=postgres) without a server to use is skipped (exit code 77,
// CTest's SKIP_RETURN_CODE): scripts/test.sh starts one.
#define CATCH_CONFIG_RUNNER
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "catch.hpp"

int main(int argc, char* argv[]) {
    const char* engine = std::getenv("LOOM_TEST_ENGINE");
    const char* url = std::getenv("LOOM_TEST_PG_URL");
    if (engine && std::string_view(engine) == "postgres" && (!url || !*url)) {
        std::puts(
            "skipped: LOOM_TEST_ENGINE=postgres needs LOOM_TEST_PG_URL (scripts/test.sh "
            "starts a throwaway server)");
        return 77;
    }
    return Catch::Session().run(argc, argv);
}
