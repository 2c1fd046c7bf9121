// The definitions of database.hpp's non-template members (detail/config.hpp: where compiled).
#pragma once

namespace loom {

LOOM_DECL Database::Database(const std::string& path, Options options)
    : session_(detail::engine::open(path, options), shown_path(path), options) {
    session_.set_reopen([this, path] { return detail::engine::open(path, session_.options()); });
}

LOOM_DECL Database::~Database() = default;

LOOM_DECL Database::Subscription::Subscription(Subscription&& o) noexcept
    : s_(std::exchange(o.s_, nullptr)), id_(o.id_) {}

LOOM_DECL auto Database::Subscription::operator=(Subscription&& o) noexcept -> Subscription& {
    if (this != &o) {
        reset();
        s_ = std::exchange(o.s_, nullptr);
        id_ = o.id_;
    }
    return *this;
}

LOOM_DECL Database::Subscription::~Subscription() {
    reset();
}

LOOM_DECL void Database::Subscription::reset() {
    if (s_) s_->remove_listener(id_);
    s_ = nullptr;
}

LOOM_DECL Database::Subscription::Subscription(detail::Session* s, std::uint64_t id)
    : s_(s), id_(id) {}

LOOM_DECL auto Database::on_query(QueryListener listener) -> Subscription {
    return Subscription(&session_, session_.add_listener(std::move(listener)));
}

LOOM_DECL void Database::set_query_hook(QueryListener hook) {
    session_.set_hook(std::move(hook));
}

LOOM_DECL void Database::add_replica(std::string name, const std::string& url) {
    router_.add(session_, std::move(name), url, shown_path(url));
}

LOOM_DECL std::vector<std::string> Database::replica_names() const {
    return router_.names();
}

LOOM_DECL Database::ReadYourWrites::ReadYourWrites(ReadYourWrites&& o) noexcept
    : r_(std::exchange(o.r_, nullptr)) {}

LOOM_DECL Database::ReadYourWrites::~ReadYourWrites() {
    if (r_) r_->guard_end();
}

LOOM_DECL Database::ReadYourWrites::ReadYourWrites(detail::Router& r, const detail::Session& s)
    : r_(&r) {
    r.guard_begin(s);
}

LOOM_DECL auto Database::read_your_writes() -> ReadYourWrites {
    return ReadYourWrites(router_, session_);
}

LOOM_DECL std::string Database::shown_path(const std::string& path) {
    if (!detail::engine::is_postgres_url(path)) return path;
    std::string url = path;
    const auto scheme = url.find("://"), at = url.find('@');
    if (at != std::string::npos && at > scheme) {
        const auto colon = url.find(':', scheme + 3);
        if (colon != std::string::npos && colon < at) url.replace(colon + 1, at - colon - 1, "***");
    }
    if (const auto pw = url.find("password="); pw != std::string::npos) {
        const auto end = url.find_first_of("& ", pw);
        url.replace(pw + 9, (end == std::string::npos ? url.size() : end) - pw - 9, "***");
    }
    return url;
}

LOOM_DECL void Database::create_model_tables(const detail::SchemaModel* models, std::size_t count) {
    const std::vector<std::string> statements =
        detail::schema_sql({models, count}, session_.dialect());
    detail::Session::Call call(session_);
    {
        detail::Session::TransactionScope tx(session_);
        for (const auto& s : statements) session_.execute(s);
        tx.commit();
    }
    call.finish();
}

LOOM_DECL void Database::drop_model_tables(const detail::SchemaModel* models, std::size_t count) {
    const std::vector<std::string> names = detail::drop_order({models, count});
    detail::Session::Call call(session_);
    {
        detail::Session::TransactionScope tx(session_);
        if (session_.dialect().drop_tables_together) {
            std::string sql = "DROP TABLE IF EXISTS ";
            for (std::size_t i = 0; i < names.size(); ++i) sql += (i ? ", " : "") + names[i];
            session_.execute(sql);
        } else {
            for (const auto& n : names) session_.execute("DROP TABLE IF EXISTS " + n);
        }
        tx.commit();
    }
    call.finish();
}

LOOM_DECL std::optional<std::int64_t> Database::insert_statement(
    const detail::ModelMeta& m, std::string_view pk_column, bool auto_key, bool with_pk,
    std::int64_t chosen_key, void (*bind)(detail::Binder&, const void*, bool), const void* obj,
    std::string_view origin) {
    if (!auto_key) {
        if (!with_pk)
            throw UsageError(std::string(origin) + ": " + m.name + "." + std::string(pk_column) +
                             " is empty: a key that is not an integer is never assigned by "
                             "the database; give the object its key before inserting it. "
                             "Nothing was inserted");
    } else if (!with_pk && !session_.assigns_keys(&m, m.raw_table, pk_column)) {
        throw DataError(std::string(origin) + ": " + m.name + "." + std::string(pk_column) +
                        " (table " + m.table +
                        "): the database does not fill in this key column on insert (" +
                        std::string(session_.dialect().unfilled_key_why) +
                        "), so the new row would have no key; declare the column " +
                        std::string(session_.dialect().filled_key_type) +
                        ", or give the object its key before inserting it. Nothing was "
                        "inserted");
    }
    // A key the database assigns is read back as the dialect says: with RETURNING (the row's
    // own key), or as the connection's last insert id.
    std::optional<std::int64_t> assigned;
    const auto bind_row = [&](detail::Binder& b) { bind(b, obj, with_pk); };
    if (with_pk) {
        session_.execute(m.insert_with_pk_sql, bind_row, origin);
    } else if (session_.dialect().insert_returning) {
        session_.run(
            m.insert_returning_sql, bind_row,
            [&](const detail::Statement& s) {
                if (!s.is_null(0)) assigned = s.column_int(0);
            },
            origin);
    } else {
        session_.execute(m.insert_sql, bind_row, origin);
        assigned = session_.last_insert_id();
    }
    if (auto_key) {
        if (!with_pk) {
            // Checked before the INSERT (assigns_keys); a NULL key here is a table that changed
            // under us.
            if (!assigned)
                throw DataError(std::string(origin) + ": " + m.name +
                                ": the database returned no key for the new row");
        } else {
            // An engine whose key generator is apart from the table (a PostgreSQL identity
            // sequence) moves it past a key the program chose.
            session_.connection().explicit_key_inserted(m.raw_table, pk_column, chosen_key);
        }
    }
    return assigned;
}

LOOM_DECL void Database::add_hint(const ConstraintError& e, const std::string& hint) {
    if (!hint.empty())
        throw ConstraintError(std::string(e.what()) + ": " + hint, e.code(), e.kind());
}

}  // namespace loom
