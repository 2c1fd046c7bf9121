// rel.load(db) compiles its prefetch level where it is called, from the prefetch engine that
// <loom/database.hpp> brings. A file that declares models with <loom/model.hpp> and
// <loom/relations.hpp> alone and calls load(db) must fail to compile, naming the loader, not
// compile and then fail to link with an undefined reference.
// expect-error: RelationLoader<cf_load_without_database_hpp::Publisher, long
#include <loom/model.hpp>
#include <loom/relations.hpp>

#include <cstdint>
#include <string>

namespace cf_load_without_database_hpp {

struct Publisher {
    std::int64_t id = 0;
    std::string name;
};
struct Book {
    std::int64_t id = 0;
    loom::ForeignKey<Publisher> publisher;
};

constexpr auto loom_model(loom::model_of<Publisher>) {
    return loom::table("publisher", loom::pk(&Publisher::id),
                       loom::field(&Publisher::name, "name"));
}
constexpr auto loom_model(loom::model_of<Book>) {
    return loom::table("book", loom::pk(&Book::id),
                       loom::foreign_key(&Book::publisher, "publisher_id"));
}

// Defined here, called from a file that has a Database: this file never sees the engine.
void load_publisher(Book& b, loom::Database& db) {
    b.publisher.load(db);
}

}  // namespace cf_load_without_database_hpp

int main() {}
