// A Django-style lookup whose second step names no relation of Author.
// expect-error: loom::lookup: a step of the path names no relation of the model reached so far
#include "models.hpp"

#include <loom/lookup.hpp>

int main() {
    auto p = loom::lookup<shop::Book, "authors__publisher">();
    (void)p;
}
