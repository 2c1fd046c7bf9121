// The definitions of column.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of column.hpp only.
#pragma once

#include <charconv>

namespace loom::detail {

LOOM_DECL std::string_view ddl_type(const engine::Dialect& d, Storage s) {
    switch (s) {
    case Storage::integer:
        return d.integer_type;
    case Storage::real:
        return d.real_type;
    case Storage::text:
        return d.text_type;
    default:
        return d.blob_type;
    }
}

LOOM_DECL const char* adapter_reason(const char* what) {
    thread_local std::string reason;
    reason = what;
    return reason.c_str();
}

LOOM_DECL std::string describe_stored(const Statement& s, int c) {
    switch (s.column_type(c)) {
    case engine::Cell::null:
        return "NULL";
    case engine::Cell::integer:
        return "INTEGER " + std::to_string(s.column_int(c));
    case engine::Cell::real: {
        // Shortest round-trip form: 1.5, 1e+300 (std::to_string gives 300 digits).
        char buf[32];
        const auto r = std::to_chars(buf, buf + sizeof buf, s.column_double(c));
        return "REAL " + std::string(buf, r.ptr);
    }
    case engine::Cell::text: {
        auto t = s.column_text(c);
        std::string shown(t.substr(0, 40));
        return "TEXT '" + shown + (t.size() > 40 ? "...'" : "'");
    }
    default:
        return "BLOB of " + std::to_string(s.column_blob(c).size()) + " bytes";
    }
}

}  // namespace loom::detail
