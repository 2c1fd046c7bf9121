// <loom/format.hpp> alone (opt-in: <loom/loom.hpp> leaves it out): fmt::format("{}", model).
#include <loom/format.hpp>

#include "smoke_models.hpp"

#include <fmt/core.h>

#include <string>

int main() {
    smoke::Item i{.id = 1, .name = "cup"};
    i.shelf = 3;  // a key, not loaded
    const std::string text = fmt::format("{}", i);
    return text == R"(Item{id=1, name="cup", shelf=#3 (not loaded)})" ? 0 : 1;
}
