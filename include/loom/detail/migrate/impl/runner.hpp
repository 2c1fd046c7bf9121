// The definitions of runner.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

#include <chrono>
#include <cstdio>

#include "../../engine/postgres/schema_editor.hpp"
#include "../../engine/sqlite/schema_editor.hpp"

namespace loom::detail::migrate {

LOOM_DECL SessionRunner::SessionRunner(Session& s, std::string_view origin)
    : s_(s), origin_(origin) {}

LOOM_DECL void SessionRunner::query(std::string_view sql, const std::vector<Value>& params,
                                    const std::function<void(const Statement&)>& on_row) {
    s_.run(
        sql, Session::bind_all(params), [&](const Statement& st) { on_row(st); }, origin_);
}

LOOM_DECL void SessionRunner::execute(std::string_view sql, const std::vector<Value>& params) {
    s_.execute(sql, Session::bind_all(params), origin_);
}

LOOM_DECL std::unique_ptr<engine::SchemaEditor> editor_for(const engine::Dialect& d) {
    if (d.name == "sqlite") return std::make_unique<sqlite::SchemaEditor>(d);
    if (d.name == "postgres") return std::make_unique<postgres::SchemaEditor>(d);
    throw UsageError("loom: schema checks and migrations are not available for the " +
                     std::string(d.name) + " engine");
}

LOOM_DECL std::string checksum(const std::vector<std::shared_ptr<const Op>>& ops) {
    std::uint64_t h = 14695981039346656037ull;
    for (const auto& op : ops) {
        for (unsigned char c : op->signature() + "\n") {
            h ^= c;
            h *= 1099511628211ull;
        }
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

LOOM_DECL std::string utc_now() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto day = floor<days>(now);
    const year_month_day ymd{day};
    const hh_mm_ss hms{floor<seconds>(now - day)};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

LOOM_DECL std::string value_sql(const Value& v) {
    switch (v.index()) {
    case 0:
        return "NULL";
    case 1:
        return std::to_string(std::get<1>(v));
    case 2:
        return real_text(std::get<2>(v));
    case 3: {
        std::string out = "'";
        for (char c : std::get<3>(v)) {
            if (c == '\'') out += '\'';
            out += c;
        }
        return out + "'";
    }
    default: {
        static const char* hex = "0123456789ABCDEF";
        std::string out = "X'";
        for (auto b : std::get<4>(v)) {
            out += hex[std::to_integer<unsigned>(b) >> 4];
            out += hex[std::to_integer<unsigned>(b) & 15];
        }
        return out + "'";
    }
    }
}

}  // namespace loom::detail::migrate
