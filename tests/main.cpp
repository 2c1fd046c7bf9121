// tests/main.cpp - main() for the Catch2 v2 build of loom_tests. With Catch2 v3 this file is
// not compiled: loom_tests links Catch2::Catch2WithMain instead (see tests/CMakeLists.txt).
#define CATCH_CONFIG_MAIN
#include "catch.hpp"
