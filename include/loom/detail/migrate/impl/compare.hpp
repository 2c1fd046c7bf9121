// The definitions of compare.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail::migrate {

LOOM_DECL std::string key_words(const TableInfo& t) {
    if (t.primary_key.empty()) return "none";
    std::string s = "(" + join(t.primary_key);
    if (t.primary_key.size() == 1)
        if (const auto* c = t.column(t.primary_key[0]); c && c->auto_key) s += ", auto-assigned";
    return s + ")";
}

LOOM_DECL std::string foreign_key_words(const ForeignKeyInfo* f) {
    if (!f) return "no foreign key";
    std::string s = "references " + f->table;
    if (!f->to.empty()) s += " (" + join(f->to) + ")";
    if (f->on_delete != "NO ACTION") s += " ON DELETE " + f->on_delete;
    return s;
}

LOOM_DECL bool same_foreign_key(const ForeignKeyInfo* want, const ForeignKeyInfo* have) {
    if (!want || !have) return !want && !have;
    return engine::same_name(want->table, have->table) &&
           (have->to.empty() || engine::same_names(want->to, have->to)) &&
           engine::same_name(want->on_delete, have->on_delete);
}

LOOM_DECL TableDiff compare_table(const TableInfo& want, const TableInfo& have) {
    TableDiff d;
    d.key = !engine::same_names(want.primary_key, have.primary_key);
    if (!d.key && want.primary_key.size() == 1) {
        const auto* w = want.column(want.primary_key[0]);
        const auto* h = have.column(have.primary_key[0]);
        d.key = !w || !h || w->auto_key != h->auto_key || (!w->auto_key && w->type != h->type);
    }
    for (const auto& w : want.columns) {
        const ColumnInfo* h = have.column(w.name);
        if (!h) {
            d.missing.push_back(w.name);
            continue;
        }
        if (want.in_primary_key(w.name)) continue;  // the key is compared above
        ColumnDiff c;
        c.name = w.name;
        c.type = w.type != h->type;
        c.nullness = w.not_null != h->not_null;
        c.unique = want.has_unique({w.name}) != have.has_unique({w.name});
        c.foreign_key = !same_foreign_key(want.foreign_key(w.name), have.foreign_key(w.name));
        if (c.type || c.nullness || c.unique || c.foreign_key) d.changed.push_back(std::move(c));
    }
    for (const auto& h : have.columns)
        if (!want.column(h.name)) d.extra.push_back(h.name);
    for (const auto& u : want.uniques)
        if (u.size() > 1 && !have.has_unique(u)) d.missing_uniques.push_back(u);
    for (const auto& u : have.uniques)
        if (u.size() > 1 && !want.has_unique(u)) d.extra_uniques.push_back(u);
    for (const auto& i : want.indexes)
        if (!have.index_on(i.columns)) d.missing_indexes.push_back(i);
    for (const auto& i : have.indexes)
        if (!want.index_on(i.columns)) d.extra_indexes.push_back(i);
    return d;
}

LOOM_DECL void report_table(const TableInfo& want, const TableInfo* have, Report& r) {
    const std::string& t = want.name;
    if (!have) {
        r.differences.push_back(t + ": in the models, not in the database");
        return;
    }
    const TableDiff d = compare_table(want, *have);
    if (d.key)
        r.differences.push_back(t + ": primary key " + key_words(want) + " in the model, " +
                                key_words(*have) + " in the database");
    for (const auto& m : d.missing)
        r.differences.push_back(t + "." + m + ": in the model, not in the database");
    for (const auto& x : d.extra) {
        const ColumnInfo& c = *have->column(x);
        if (c.not_null && c.default_sql.empty() && !have->in_primary_key(x))
            r.differences.push_back(t + "." + x +
                                    ": in the database (NOT NULL, no default), not in the model: "
                                    "inserts would fail");
        else
            r.notes.push_back(t + "." + x + ": in the database, not in the model");
    }
    for (const auto& c : d.changed) {
        const ColumnInfo& w = *want.column(c.name);
        const ColumnInfo& h = *have->column(c.name);
        const std::string col = t + "." + c.name + ": ";
        if (c.type)
            r.differences.push_back(
                col + std::string(engine::type_class_name(w.type)) + " in the model, " +
                (h.declared_type.empty() ? std::string(engine::type_class_name(h.type))
                                         : h.declared_type) +
                " in the database");
        if (c.nullness)
            r.differences.push_back(col + (w.not_null ? "NOT NULL in the model, NULL allowed in "
                                                        "the database"
                                                      : "NULL allowed in the model, NOT NULL in "
                                                        "the database"));
        if (c.unique)
            r.differences.push_back(col + (want.has_unique({c.name})
                                               ? "UNIQUE in the model, not in the database"
                                               : "UNIQUE in the database, not in the model"));
        if (c.foreign_key)
            r.differences.push_back(
                col + foreign_key_words(want.foreign_key(c.name)) +
                " in the model; in the database: " + foreign_key_words(have->foreign_key(c.name)));
    }
    for (const auto& u : d.missing_uniques)
        r.differences.push_back(t + ": UNIQUE (" + join(u) + ") in the model, not in the database");
    for (const auto& u : d.extra_uniques)
        r.differences.push_back(t + ": UNIQUE (" + join(u) + ") in the database, not in the model");
    for (const auto& i : d.missing_indexes)
        r.differences.push_back(t + ": index on (" + join(i.columns) +
                                ") in the model, not in the database");
    for (const auto& i : d.extra_indexes) {
        const std::string text = t + ": " + (i.unique ? "unique index " : "index ") + i.name +
                                 " on (" + join(i.columns) + ") in the database, not in the model";
        (i.unique ? r.differences : r.notes).push_back(text);
    }
}

LOOM_DECL Detected detect(const std::vector<TableInfo>& want, engine::SchemaEditor& ed,
                          engine::Runner& r, const Allowed& allowed) {
    Detected out;
    std::vector<std::shared_ptr<const Op>> first, creates, changes, drops;
    std::vector<bool> used_drop(allowed.drop.size()), used_rename(allowed.rename.size()),
        used_fill(allowed.fill.size()), used_type(allowed.change_type.size());
    auto find = [](const auto& list, std::vector<bool>& used, const std::string& key) -> int {
        for (std::size_t i = 0; i < list.size(); ++i) {
            const auto& k = [&]() -> const std::string& {
                if constexpr (std::is_same_v<std::decay_t<decltype(list[i])>, std::string>)
                    return list[i];
                else
                    return list[i].first;
            }();
            if (engine::same_name(k, key)) {
                used[i] = true;
                return static_cast<int>(i);
            }
        }
        return -1;
    };
    auto quoted = [](const std::string& s) { return "\"" + s + "\""; };

    for (const auto& w : want) {
        std::optional<TableInfo> have = ed.read_table(r, w.name);
        std::string old_name = w.name;
        if (!have)
            for (std::size_t i = 0; i < allowed.rename.size(); ++i) {
                const auto& [from, to] = allowed.rename[i];
                if (from.find('.') != std::string::npos || !engine::same_name(to, w.name)) continue;
                used_rename[i] = true;
                if (auto old = ed.read_table(r, from)) {
                    first.push_back(std::make_shared<RenameTable>(old->name, w.name));
                    old_name = old->name;
                    have = std::move(old);
                    have->name = w.name;
                }
            }
        if (!have) {
            creates.push_back(std::make_shared<CreateTables>(std::vector<TableInfo>{w}));
            continue;
        }
        // Column renames named by the caller ("book.name" -> "title").
        for (std::size_t i = 0; i < allowed.rename.size(); ++i) {
            const std::string& from = allowed.rename[i].first;
            const std::string& to = allowed.rename[i].second;
            const auto dot = from.find('.');
            if (dot == std::string::npos) continue;
            const std::string table = from.substr(0, dot), col = from.substr(dot + 1);
            if (!engine::same_name(table, w.name) && !engine::same_name(table, old_name)) continue;
            used_rename[i] = true;
            if (!have->column(col) || have->column(to) || !w.column(to)) {
                out.unresolved.push_back("DiffOptions::rename {" + quoted(from) + ", " +
                                         quoted(to) + "}: " + w.name + " has no column " + col +
                                         " to rename, or the model has no column " + to);
                continue;
            }
            changes.push_back(std::make_shared<RenameColumn>(w.name, have->column(col)->name, to));
            auto rename = [&](std::vector<std::string>& cols) {
                for (auto& x : cols)
                    if (engine::same_name(x, col)) x = to;
            };
            have->column(col)->name = to;
            rename(have->primary_key);
            for (auto& u : have->uniques) rename(u);
            for (auto& x : have->indexes) rename(x.columns);
            for (auto& f : have->foreign_keys) rename(f.columns);
        }

        const TableDiff d = compare_table(w, *have);
        std::vector<std::string> added;  // columns this diff adds
        auto present = [&](const std::vector<std::string>& cols) {
            for (const auto& col : cols)
                if (!have->column(col) && !contains(added, col)) return false;
            return true;
        };
        if (d.key)
            out.unresolved.push_back(w.name + ": primary key " + key_words(w) + " in the model, " +
                                     key_words(*have) +
                                     " in the database; loom does not change a primary key: "
                                     "write that migration with loom::raw_sql");
        std::vector<std::string> extra;
        for (const auto& x : d.extra) {
            if (find(allowed.drop, used_drop, w.name + "." + x) >= 0)
                changes.push_back(std::make_shared<DropColumn>(w.name, x));
            else
                extra.push_back(x);
        }
        if (!d.missing.empty() && !extra.empty()) {
            std::vector<std::string> olds;
            for (const auto& x : extra) olds.push_back(w.name + "." + x);
            for (const auto& m : d.missing)
                out.unresolved.push_back(
                    w.name + "." + m + ": in the model, not in the database, and " + join(olds) +
                    (olds.size() == 1 ? " is" : " are") +
                    " in the database, not in the model: a rename (DiffOptions::rename {" +
                    quoted(olds[0]) + ", " + quoted(m) + "}) or a new column (DiffOptions::drop {" +
                    quoted(olds[0]) + "} drops the old one and its data)?");
        } else {
            for (const auto& m : d.missing) {
                if (w.column(m)) added.push_back(m);
                ColumnSpec spec = spec_of(w, *w.column(m));
                const int f = find(allowed.fill, used_fill, w.name + "." + m);
                if (spec.info.not_null && f < 0) {
                    added.pop_back();
                    out.unresolved.push_back(
                        w.name + "." + m +
                        ": NOT NULL in the model, not in the database: the rows there need a "
                        "value (DiffOptions::fill {" +
                        quoted(w.name + "." + m) +
                        ", value}; nullptr if the table is empty), or declare the member "
                        "std::optional");
                    continue;
                }
                if (f >= 0 && allowed.fill[static_cast<std::size_t>(f)].second.index() != 0)
                    spec.fill = allowed.fill[static_cast<std::size_t>(f)].second;
                changes.push_back(std::make_shared<AddColumn>(w.name, std::move(spec)));
            }
            for (const auto& x : extra) {
                const ColumnInfo& c = *have->column(x);
                if (c.not_null && c.default_sql.empty())
                    out.unresolved.push_back(
                        w.name + "." + x +
                        ": in the database (NOT NULL, no default), not in the model, so inserts "
                        "would fail: drop it and its data with DiffOptions::drop {" +
                        quoted(w.name + "." + x) + "}, or make it nullable with raw SQL");
            }
        }
        for (const auto& c : d.changed) {
            const ColumnInfo& wc = *w.column(c.name);
            const ColumnInfo& hc = *have->column(c.name);
            const std::string key = w.name + "." + c.name;
            ColumnSpec spec = spec_of(w, wc);
            bool ok = true;
            if (c.type) {
                const bool widening =
                    hc.type == engine::TypeClass::integer && wc.type == engine::TypeClass::text;
                if (!widening && find(allowed.change_type, used_type, key) < 0) {
                    out.unresolved.push_back(
                        key + ": " + std::string(engine::type_class_name(wc.type)) +
                        " in the model, " + std::string(engine::type_class_name(hc.type)) +
                        " in the database: a value may not convert; allow it with "
                        "DiffOptions::change_type {" +
                        quoted(key) +
                        "} (the migration then fails, changing nothing, if one does not)");
                    ok = false;
                }
            }
            if (c.nullness && wc.not_null) {
                const int f = find(allowed.fill, used_fill, key);
                if (f < 0) {
                    out.unresolved.push_back(
                        key +
                        ": NOT NULL in the model, NULL allowed in the database: say what "
                        "NULL becomes with DiffOptions::fill {" +
                        quoted(key) +
                        ", value} (nullptr: there is no NULL; the migration fails if there is)");
                    ok = false;
                } else if (allowed.fill[static_cast<std::size_t>(f)].second.index() != 0) {
                    spec.fill = allowed.fill[static_cast<std::size_t>(f)].second;
                }
            }
            if (ok) changes.push_back(std::make_shared<AlterColumn>(w.name, std::move(spec)));
        }
        for (const auto& u : d.missing_uniques)
            if (present(u))
                changes.push_back(std::make_shared<Constraint>(Constraint::Kind::add_unique, w.name,
                                                               u, std::string()));
        for (const auto& u : d.extra_uniques)
            changes.push_back(std::make_shared<Constraint>(Constraint::Kind::drop_unique, w.name, u,
                                                           std::string()));
        for (const auto& i : d.missing_indexes)
            if (present(i.columns))
                changes.push_back(std::make_shared<Constraint>(
                    Constraint::Kind::add_index, w.name, i.columns,
                    i.name == engine::index_name(w.name, i.columns) ? std::string() : i.name));
        for (const auto& i : d.extra_indexes)
            if (find(allowed.drop, used_drop, i.name) >= 0)
                changes.push_back(std::make_shared<Constraint>(Constraint::Kind::drop_index, w.name,
                                                               i.columns, i.name));
    }
    // Tables the caller names to drop.
    for (std::size_t i = 0; i < allowed.drop.size(); ++i) {
        const auto& name = allowed.drop[i];
        if (used_drop[i] || name.find('.') != std::string::npos) continue;
        bool wanted = false;
        for (const auto& w : want) wanted = wanted || engine::same_name(w.name, name);
        if (wanted) continue;
        if (auto t = ed.read_table(r, name)) {
            used_drop[i] = true;
            drops.push_back(std::make_shared<DropTable>(t->name));
        }
    }
    auto unused = [&](const char* option, const auto& list, const std::vector<bool>& used,
                      auto&& show) {
        for (std::size_t i = 0; i < list.size(); ++i)
            if (!used[i])
                out.unresolved.push_back(std::string("DiffOptions::") + option + " " +
                                         show(list[i]) + ": nothing it applies to");
    };
    unused("drop", allowed.drop, used_drop,
           [&](const std::string& s) { return "{" + quoted(s) + "}"; });
    unused("rename", allowed.rename, used_rename,
           [&](const auto& p) { return "{" + quoted(p.first) + ", " + quoted(p.second) + "}"; });
    unused("fill", allowed.fill, used_fill,
           [&](const auto& p) { return "{" + quoted(p.first) + ", ...}"; });
    unused("change_type", allowed.change_type, used_type,
           [&](const std::string& s) { return "{" + quoted(s) + "}"; });

    for (auto* list : {&first, &creates, &changes, &drops})
        for (auto& op : *list) out.ops.push_back(std::move(op));
    return out;
}

}  // namespace loom::detail::migrate
