// The definitions of migrate.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom {

LOOM_DECL ColumnDef::ColumnDef(std::string name, ColumnType type) {
    spec_.info.name = std::move(name);
    spec_.info.not_null = true;
    switch (type) {
    case ColumnType::integer:
        spec_.info.type = detail::engine::TypeClass::integer;
        break;
    case ColumnType::real:
        spec_.info.type = detail::engine::TypeClass::real;
        break;
    case ColumnType::text:
        spec_.info.type = detail::engine::TypeClass::text;
        break;
    default:
        spec_.info.type = detail::engine::TypeClass::blob;
        break;
    }
}

LOOM_DECL ColumnDef& ColumnDef::nullable(bool yes) {
    spec_.info.not_null = !yes;
    return *this;
}

LOOM_DECL ColumnDef& ColumnDef::unique(bool yes) {
    spec_.unique = yes;
    return *this;
}

LOOM_DECL ColumnDef& ColumnDef::references(std::string table, on_delete rule, std::string column) {
    detail::engine::ForeignKeyInfo f;
    f.columns = {spec_.info.name};
    f.table = std::move(table);
    f.to = {std::move(column)};
    f.on_delete = detail::on_delete_word(rule);
    spec_.references = std::move(f);
    return *this;
}

LOOM_DECL ColumnDef primary_key(std::string name) {
    ColumnDef c(std::move(name), ColumnType::integer);
    c.spec_.info.not_null = false;  // the engine's key type says what it needs
    c.spec_.info.auto_key = true;
    return c;
}

LOOM_DECL std::string Operation::describe() const {
    return spec_->describe();
}

LOOM_DECL std::string Operation::cpp() const {
    return spec_->cpp();
}

LOOM_DECL Operation::Operation(std::shared_ptr<const detail::migrate::Op> op)
    : spec_(std::move(op)) {}

LOOM_DECL Operation create_table(std::string name, std::vector<ColumnDef> columns,
                                 std::vector<std::vector<std::string>> unique_together) {
    detail::engine::TableInfo t;
    t.name = std::move(name);
    for (const auto& c : columns) {
        const auto& s = detail::access::spec(c);
        if (t.column(s.info.name))
            throw UsageError("loom::create_table(\"" + t.name + "\"): two columns are named " +
                             s.info.name);
        if (s.fill)
            throw UsageError("loom::create_table(\"" + t.name + "\"): column " + s.info.name +
                             " has a fill value, which only a column added to a table with rows "
                             "needs");
        if (s.info.auto_key) t.primary_key = {s.info.name};
        detail::migrate::put_column(t, s);
    }
    for (auto& u : unique_together) t.uniques.push_back(std::move(u));
    return detail::migrate::make_op<detail::migrate::CreateTables>(
        std::vector<detail::engine::TableInfo>{std::move(t)});
}

LOOM_DECL Operation drop_table(std::string table) {
    return detail::migrate::make_op<detail::migrate::DropTable>(std::move(table));
}

LOOM_DECL Operation rename_table(std::string from, std::string to) {
    return detail::migrate::make_op<detail::migrate::RenameTable>(std::move(from), std::move(to));
}

LOOM_DECL Operation add_column(std::string table, ColumnDef column) {
    return detail::migrate::make_op<detail::migrate::AddColumn>(std::move(table),
                                                                detail::access::spec(column));
}

LOOM_DECL Operation drop_column(std::string table, std::string column) {
    return detail::migrate::make_op<detail::migrate::DropColumn>(std::move(table),
                                                                 std::move(column));
}

LOOM_DECL Operation rename_column(std::string table, std::string from, std::string to) {
    return detail::migrate::make_op<detail::migrate::RenameColumn>(std::move(table),
                                                                   std::move(from), std::move(to));
}

LOOM_DECL Operation alter_column(std::string table, ColumnDef column) {
    return detail::migrate::make_op<detail::migrate::AlterColumn>(std::move(table),
                                                                  detail::access::spec(column));
}

LOOM_DECL Operation add_index(std::string table, std::vector<std::string> columns,
                              std::string name) {
    return detail::migrate::make_op<detail::migrate::Constraint>(
        detail::migrate::Constraint::Kind::add_index, std::move(table), std::move(columns),
        std::move(name));
}

LOOM_DECL Operation drop_index(std::string table, std::vector<std::string> columns,
                               std::string name) {
    return detail::migrate::make_op<detail::migrate::Constraint>(
        detail::migrate::Constraint::Kind::drop_index, std::move(table), std::move(columns),
        std::move(name));
}

LOOM_DECL Operation add_unique(std::string table, std::vector<std::string> columns) {
    return detail::migrate::make_op<detail::migrate::Constraint>(
        detail::migrate::Constraint::Kind::add_unique, std::move(table), std::move(columns),
        std::string());
}

LOOM_DECL Operation drop_unique(std::string table, std::vector<std::string> columns) {
    return detail::migrate::make_op<detail::migrate::Constraint>(
        detail::migrate::Constraint::Kind::drop_unique, std::move(table), std::move(columns),
        std::string());
}

LOOM_DECL Operation data_step(std::string name, std::function<void(Database&)> fn) {
    return detail::migrate::make_op<detail::migrate::DataStep>(std::move(name), std::move(fn));
}

LOOM_DECL std::string PlannedMigration::text() const {
    std::string out = "-- " + name + " (checksum " + checksum + ")\n";
    if (foreign_keys_off)
        out += "-- foreign keys off while it runs, all of them checked before COMMIT\n";
    for (const auto& s : statements) {
        out += s.sql;
        if (s.sql.rfind("--", 0) != 0) out += ";";
        if (!s.params.empty()) {
            out += "  -- parameters:";
            for (const auto& p : s.params) {
                out += ' ';
                out += detail::migrate::value_sql(p);
            }
        }
        out += "\n";
    }
    return out;
}

LOOM_DECL Migrations::Migrations(std::vector<Migration> list) : list_(std::move(list)) {
    for (std::size_t i = 0; i < list_.size(); ++i) {
        if (list_[i].name.empty()) throw UsageError("loom::Migrations: a migration has no name");
        if (list_[i].operations.empty())
            throw UsageError("loom::Migrations: migration '" + list_[i].name +
                             "' has no operations");
        for (std::size_t j = 0; j < i; ++j)
            if (list_[j].name == list_[i].name)
                throw UsageError("loom::Migrations: two migrations are named '" + list_[i].name +
                                 "'");
    }
}

LOOM_DECL std::string Migrations::checksum(std::string_view name) const {
    return checksum_of(at(name));
}

LOOM_DECL std::vector<std::string> Migrations::apply(Database& db) const {
    auto& s = detail::session_of(db);
    detail::migrate::SessionRunner runner(s, "migrate");
    const auto editor = detail::migrate::editor_for(s.dialect());
    db.create_tables<AppliedMigration>();
    const auto applied = read_history(db);
    check_history(applied);
    // Statements cached before a schema change may not run after it (PostgreSQL's
    // prepared statements), nor after one rolled back: prepared again when next used.
    struct Forget {
        detail::Session& s;
        ~Forget() { s.forget_statements(); }
    } forget{s};
    std::vector<std::string> done;
    for (const auto& m : list_)
        if (!find(applied, m.name) && apply_one(db, s, runner, *editor, m)) done.push_back(m.name);
    return done;
}

LOOM_DECL std::vector<PlannedMigration> Migrations::plan(Database& db) const {
    auto& s = detail::session_of(db);
    detail::migrate::SessionRunner runner(s, "migrate");
    const auto editor = detail::migrate::editor_for(s.dialect());
    const auto applied = history(db);
    check_history(applied);
    detail::migrate::Context ctx(*editor, runner, nullptr);
    std::vector<PlannedMigration> out;
    for (const auto& m : list_) {
        if (find(applied, m.name)) continue;
        PlannedMigration p;
        p.name = m.name;
        p.checksum = checksum_of(m);
        p.foreign_keys_off = rebuilds(m) && editor->rebuild_needs_foreign_keys_off();
        ctx.planned.clear();
        run_operations(ctx, m);
        for (const auto& op : m.operations) p.operations.push_back(op.describe());
        p.statements = std::move(ctx.planned);
        out.push_back(std::move(p));
    }
    return out;
}

LOOM_DECL std::vector<AppliedMigration> Migrations::history(Database& db) const {
    auto& s = detail::session_of(db);
    detail::migrate::SessionRunner runner(s, "migrate");
    if (!detail::migrate::editor_for(s.dialect())->read_table(runner, "loom_migrations")) return {};
    return read_history(db);
}

LOOM_DECL void Migrations::adopt(Database& db, std::string_view name) const {
    const Migration& last = at(name);
    db.create_tables<AppliedMigration>();
    db.transaction([&] {
        const auto applied = read_history(db);
        check_history(applied);
        for (const auto& m : list_) {
            if (!find(applied, m.name)) {
                AppliedMigration rec{0, m.name, checksum_of(m), detail::migrate::utc_now()};
                db.insert(rec);
            }
            if (&m == &last) break;
        }
    });
}

LOOM_DECL const Migration& Migrations::at(std::string_view name) const {
    for (const auto& m : list_)
        if (m.name == name) return m;
    throw UsageError("loom::Migrations: no migration is named '" + std::string(name) + "'");
}

LOOM_DECL std::vector<std::shared_ptr<const detail::migrate::Op>> Migrations::ops_of(
    const Migration& m) {
    std::vector<std::shared_ptr<const detail::migrate::Op>> ops;
    for (const auto& op : m.operations) ops.push_back(detail::access::spec(op));
    return ops;
}

LOOM_DECL std::string Migrations::checksum_of(const Migration& m) {
    return detail::migrate::checksum(ops_of(m));
}

LOOM_DECL bool Migrations::rebuilds(const Migration& m) {
    for (const auto& op : m.operations)
        if (detail::access::spec(op)->rebuilds()) return true;
    return false;
}

LOOM_DECL const AppliedMigration* Migrations::find(const std::vector<AppliedMigration>& h,
                                                   std::string_view name) {
    for (const auto& a : h)
        if (a.name == name) return &a;
    return nullptr;
}

LOOM_DECL std::vector<AppliedMigration> Migrations::read_history(Database& db) {
    return db.query<AppliedMigration>(
        "SELECT id, name, checksum, applied_at FROM loom_migrations ORDER BY id");
}

LOOM_DECL void Migrations::check_changed(const AppliedMigration& a, const Migration& m) const {
    const std::string now = checksum_of(m);
    if (a.checksum != now)
        throw MigrationError(
            "migration '" + m.name + "' changed after it was applied on " + a.applied_at +
                " (checksum then " + a.checksum + ", now " + now +
                "): an applied migration must not change; put the change in a new migration "
                "(a create_tables<...>() operation follows its models: freeze it with the "
                "operations loom::diff prints for an empty database)",
            m.name);
}

LOOM_DECL void Migrations::check_history(const std::vector<AppliedMigration>& applied) const {
    for (const auto& a : applied) {
        const Migration* m = nullptr;
        for (const auto& x : list_)
            if (x.name == a.name) m = &x;
        if (!m)
            throw MigrationError("the database has migration '" + a.name + "' (applied on " +
                                     a.applied_at +
                                     "), which this program's list does not have: was it "
                                     "renamed or removed, or did a newer program migrate "
                                     "this database?",
                                 a.name);
        check_changed(a, *m);
    }
    for (std::size_t i = 0; i < list_.size(); ++i) {
        if (find(applied, list_[i].name)) continue;
        for (std::size_t j = i + 1; j < list_.size(); ++j)
            if (find(applied, list_[j].name))
                throw MigrationError("migration '" + list_[i].name + "' is not applied, but '" +
                                         list_[j].name +
                                         "', after it in the list, is: migrations apply in "
                                         "order (was it inserted before applied ones?)",
                                     list_[i].name);
    }
}

LOOM_DECL void Migrations::run_operations(detail::migrate::Context& ctx, const Migration& m) {
    const auto n = m.operations.size();
    for (std::size_t i = 0; i < n; ++i) {
        const auto& op = *detail::access::spec(m.operations[i]);
        try {
            ctx.forget();
            op.run(ctx);
        } catch (const std::exception& e) {
            throw MigrationError("migration '" + m.name + "', operation " + std::to_string(i + 1) +
                                     " of " + std::to_string(n) + " (" + op.describe() +
                                     "): " + e.what(),
                                 m.name);
        }
    }
}

LOOM_DECL bool Migrations::apply_one(Database& db, detail::Session& s,
                                     detail::engine::Runner& runner,
                                     detail::engine::SchemaEditor& editor,
                                     const Migration& m) const {
    ForeignKeysOff fk(s, runner, editor, m);
    detail::Session::TransactionScope tx(s);
    for (const auto& step : editor.lock_history("loom_migrations"))
        runner.execute(step.sql, step.params);
    // Under the write lock: another process may have applied it while this one waited.
    const auto applied = db.query<AppliedMigration>(
        "SELECT id, name, checksum, applied_at FROM loom_migrations WHERE name = ?", m.name);
    if (!applied.empty()) {
        check_changed(applied.front(), m);
        tx.commit();
        return false;
    }
    detail::migrate::Context ctx(editor, runner, &db);
    run_operations(ctx, m);
    if (fk.active()) {
        const auto bad = editor.foreign_key_violations(runner, 5);
        if (!bad.empty()) {
            std::string list;
            for (const auto& b : bad) list += (list.empty() ? "" : "; ") + b;
            throw MigrationError("migration '" + m.name +
                                     "': foreign keys point at missing rows after it (" + list +
                                     "); it was rolled back",
                                 m.name);
        }
    }
    AppliedMigration rec{0, m.name, checksum_of(m), detail::migrate::utc_now()};
    db.insert(rec);
    tx.commit();
    return true;
}

LOOM_DECL std::string Diff::cpp() const {
    std::string out;
    for (const auto& op : operations) out += (out.empty() ? "" : ",\n") + op.cpp();
    return out;
}

}  // namespace loom
