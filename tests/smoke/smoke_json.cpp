// <loom/json.hpp> first: an nlohmann::json member as a column, written, filtered and read back.
#include <loom/json.hpp>
#include <loom/queryset.hpp>

#include <cstdint>

namespace smoke_json {
struct User {
    std::int64_t id = 0;
    nlohmann::json settings;
};
constexpr auto loom_model(loom::model_of<User>) {
    return loom::table("user", loom::pk(&User::id), loom::field(&User::settings, "settings"));
}
}  // namespace smoke_json

int main() {
    using smoke_json::User;
    loom::Database db{":memory:"};
    db.create_tables<User>();
    User dark{.settings = {{"theme", "dark"}}};
    User light{.settings = {{"theme", "light"}}};
    db.insert(dark);
    db.insert(light);
    const auto found =
        db.objects<User>().filter(loom::col(&User::settings).json("theme") == "dark").to_vector();
    return found.size() == 1 && found[0].id == dark.id && found[0].settings["theme"] == "dark" ? 0
                                                                                               : 1;
}
