// The definitions of log.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of log.hpp only.
#pragma once

namespace loom {

LOOM_DECL std::string_view detail::cut_utf8(std::string_view s, std::size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

LOOM_DECL void detail::append_quoted(std::string& out, std::string_view s) {
    out += '\'';
    for (char c : s) {
        switch (c) {
        case '\'':
            out += "''";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
                ::loom::detail::format_into(std::back_inserter(out), "\\x{:02x}",
                                            static_cast<unsigned char>(c));
            else
                out += c;
        }
    }
    out += '\'';
}

LOOM_DECL std::string format_value(const Value& v, const ParamFormat& f) {
    std::string out;
    auto to = std::back_inserter(out);
    if (std::holds_alternative<std::nullptr_t>(v)) {
        out = "NULL";
    } else if (auto* i = std::get_if<std::int64_t>(&v)) {
        ::loom::detail::format_into(to, "{}", *i);
    } else if (auto* d = std::get_if<double>(&v)) {
        ::loom::detail::format_into(to, "{}", *d);
        if (out.find_first_of(".eEn") == std::string::npos) out += ".0";  // 2.0, not 2
    } else if (auto* s = std::get_if<std::string>(&v)) {
        if (f.redact_text) {
            ::loom::detail::format_into(to, "<text {} bytes>", s->size());
        } else if (f.max_string && s->size() > f.max_string) {
            detail::append_quoted(out, detail::cut_utf8(*s, f.max_string));
            ::loom::detail::format_into(to, "... ({} bytes)", s->size());
        } else {
            detail::append_quoted(out, *s);
        }
    } else {
        const Blob& b = std::get<Blob>(v);
        if (f.redact_blobs) {
            ::loom::detail::format_into(to, "<blob {} bytes>", b.size());
        } else {
            out = "x'";
            const std::size_t n = f.max_blob ? std::min(b.size(), f.max_blob) : b.size();
            for (std::size_t k = 0; k < n; ++k)
                ::loom::detail::format_into(to, "{:02x}", static_cast<unsigned char>(b[k]));
            out += '\'';
            if (n < b.size()) ::loom::detail::format_into(to, "... ({} bytes)", b.size());
        }
    }
    return out;
}

LOOM_DECL std::string format_params(std::span<const Value> params, const ParamFormat& f) {
    std::string out = "(";
    const std::size_t shown = f.max_params ? std::min(params.size(), f.max_params) : params.size();
    for (std::size_t k = 0; k < shown; ++k) {
        if (k) out += ", ";
        out += format_value(params[k], f);
    }
    if (shown < params.size())
        ::loom::detail::format_into(std::back_inserter(out), ", ... {} more",
                                    params.size() - shown);
    out += ')';
    return out;
}

LOOM_DECL std::string statement_shape(std::string_view sql) {
    std::string out;
    out.reserve(sql.size());
    std::size_t at = 0;
    while (true) {
        const std::size_t in = sql.find("IN (?", at);
        if (in == std::string_view::npos) break;
        std::size_t p = in + 5;
        while (sql.substr(p, 3) == ", ?") p += 3;
        if (p < sql.size() && sql[p] == ')') {
            out.append(sql.substr(at, in - at));
            out += "IN (...)";
            at = p + 1;
        } else {
            out.append(sql.substr(at, p - at));
            at = p;
        }
    }
    out.append(sql.substr(at));
    return out;
}

LOOM_DECL std::string format_query(const QueryEvent& e, const LogOptions& o) {
    std::string line = o.prefix;
    auto to = std::back_inserter(line);
    detail::append_ms(line, e.duration);
    line += " ms, ";
    if (!e.error.empty())
        ::loom::detail::format_into(to, "FAILED ({})", e.error);
    else if (e.changes > 0 || !e.read_only || detail::is_transaction_control(e.sql))
        line += detail::count_of(e.changes, "row changed", "rows changed");
    else
        line += detail::count_of(e.rows, "row", "rows");
    // A statement a read replica ran names it: `[Book @replica1]`.
    const bool replica = !e.server.empty() && e.server != "primary";
    if (!e.origin.empty() && replica)
        ::loom::detail::format_into(to, " [{} @{}]", e.origin, e.server);
    else if (!e.origin.empty())
        ::loom::detail::format_into(to, " [{}]", e.origin);
    else if (replica)
        ::loom::detail::format_into(to, " [@{}]", e.server);
    line += ' ';
    line += e.sql;
    if (o.show_params && !e.params.empty()) {
        line += " -- ";
        line += format_params(e.params, o.params);
    }
    return line;
}

LOOM_DECL QueryListener query_logger(std::function<void(std::string_view line)> sink,
                                     LogOptions options) {
    return [sink = std::move(sink), o = std::move(options)](const QueryEvent& e) {
        if (e.duration < o.slower_than) return;
        sink(format_query(e, o));
    };
}

LOOM_DECL QueryListener query_logger(std::FILE* out, LogOptions options) {
    return query_logger(
        [out](std::string_view line) {
            std::fwrite(line.data(), 1, line.size(), out);
            std::fputc('\n', out);
        },
        std::move(options));
}

LOOM_DECL Database::Subscription log_queries(Database& db,
                                             std::function<void(std::string_view line)> sink,
                                             LogOptions options) {
    return db.on_query(query_logger(std::move(sink), std::move(options)));
}

LOOM_DECL Database::Subscription log_queries(Database& db, std::FILE* out, LogOptions options) {
    return db.on_query(query_logger(out, std::move(options)));
}

}  // namespace loom
