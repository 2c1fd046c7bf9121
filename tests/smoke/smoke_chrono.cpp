// <loom/chrono.hpp> first: std::chrono members as columns, written and read back.
#include <loom/chrono.hpp>
#include <loom/queryset.hpp>

#include <chrono>
#include <cstdint>

namespace smoke_chrono {
struct Event {
    std::int64_t id = 0;
    std::chrono::sys_days day{};
    std::chrono::sys_seconds at{};
    std::chrono::minutes length{};
};
constexpr auto loom_model(loom::model_of<Event>) {
    return loom::table("event", loom::pk(&Event::id), loom::field(&Event::day, "day"),
                       loom::field(&Event::at, "at"), loom::field(&Event::length, "length"));
}
}  // namespace smoke_chrono

int main() {
    using namespace std::chrono;
    using smoke_chrono::Event;
    loom::Database db{":memory:"};
    db.create_tables<Event>();
    Event e{.day = sys_days{year{2026} / 11 / 30},
            .at = sys_days{year{2026} / 11 / 30} + 5h + 21min,
            .length = minutes{90}};
    db.insert(e);
    const auto text = db.query<std::tuple<std::string, std::string>>("SELECT day, at FROM event");
    const auto back = db.objects<Event>().get(loom::col(&Event::id) == e.id);
    return text.at(0) ==
                       std::tuple<std::string, std::string>{"2026-11-30", "2026-11-30 05:21:00"} &&
                   back.day == e.day && back.at == e.at && back.length == e.length
               ? 0
               : 1;
}
