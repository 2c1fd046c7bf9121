// What the public migration API runs on: a Runner over the Session (every statement counted and
// shown to listeners, labelled with an origin), the engine's SchemaEditor, checksums and the
// time stamp of the history table.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../engine/postgres/schema_editor.hpp"
#include "../engine/sqlite/schema_editor.hpp"
#include "../session.hpp"
#include "operations.hpp"

namespace loom::detail::migrate {

class SessionRunner final : public engine::Runner {
public:
    SessionRunner(Session& s, std::string_view origin) : s_(s), origin_(origin) {}
    void query(std::string_view sql, const std::vector<Value>& params,
               const std::function<void(const Statement&)>& on_row) override {
        s_.run(
            sql, Session::bind_all(params), [&](const Statement& st) { on_row(st); }, origin_);
    }
    void execute(std::string_view sql, const std::vector<Value>& params) override {
        s_.execute(sql, Session::bind_all(params), origin_);
    }

private:
    Session& s_;
    std::string_view origin_;
};

/// The schema editor of the session's engine.
inline std::unique_ptr<engine::SchemaEditor> editor_for(const engine::Dialect& d) {
    if (d.name == "sqlite") return std::make_unique<sqlite::SchemaEditor>(d);
    if (d.name == "postgres") return std::make_unique<postgres::SchemaEditor>(d);
    throw UsageError("loom: schema checks and migrations are not available for the " +
                     std::string(d.name) + " engine");
}

/// FNV-1a over the operations' canonical texts: 16 hex digits, the same on every platform and
/// engine.
inline std::string checksum(const std::vector<std::shared_ptr<const Op>>& ops) {
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

/// Now, in UTC: 2024-05-01T12:00:00Z.
inline std::string utc_now() {
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

/// A bound value as a plan shows it: 3, 2.5, 'text', X'00ff', NULL.
inline std::string value_sql(const Value& v) {
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
