// The definitions of condition.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail {

LOOM_DECL CondPtr make_leaf(Tokens t, bool aggregate) {
    auto c = std::make_shared<Cond>();
    c->tokens = std::move(t);
    c->aggregate = aggregate;
    return c;
}

LOOM_DECL CondPtr make_join(Cond::Kind kind, CondPtr a, CondPtr b) {
    auto c = std::make_shared<Cond>();
    c->kind = kind;
    c->aggregate = a->aggregate || b->aggregate;
    c->kids = {std::move(a), std::move(b)};
    return c;
}

LOOM_DECL CondPtr make_not(CondPtr a, Tokens plain) {
    auto c = std::make_shared<Cond>();
    c->kind = Cond::negate;
    c->aggregate = a->aggregate;
    c->kids = {std::move(a)};
    c->plain = std::move(plain);
    return c;
}

LOOM_DECL void HopSubquery::render(Renderer& r, int hop_levels, std::string& sql,
                                   std::vector<Value>& params) const {
    Renderer& home = r.up(hop_levels);
    const std::string owner = home.up(outer).alias_for(prefix);
    Renderer sub(r.session(), &home, r.depth() + 1, model);
    sub.allow_many(!exists);
    const std::string root = sub.root();
    std::string from, where;
    if (hop.through.empty()) {
        from = hop.table + " AS " + root;
        where = root + "." + hop.dst_fk + " = " + owner + "." + hop.src_key;
    } else {
        const std::string j = sub.through_alias();
        from = hop.through + " AS " + j + " JOIN " + hop.table + " AS " + root + " ON " + root +
               "." + hop.pk + " = " + j + "." + hop.through_dst;
        where = j + "." + hop.through_src + " = " + owner + "." + hop.src_key;
    }
    std::string what = "1", test;
    std::vector<Value> what_params, test_params;
    if (!exists) {
        what.clear();
        sub.render(select, what, what_params);
    }
    if (!cond.empty()) {
        test = " AND (";
        sub.render(cond, test, test_params);
        test += ")";
    }
    sql += std::string(exists ? "EXISTS (SELECT " : "(SELECT ") + what + " FROM " + from +
           sub.joins() + " WHERE " + where + test + ")";
    params.insert(params.end(), what_params.begin(), what_params.end());
    params.insert(params.end(), test_params.begin(), test_params.end());
}

LOOM_DECL std::optional<Scope> scope_of(const ColumnRef& c) {
    std::string key = std::to_string(c.outer) + ":";
    for (std::size_t i = 0; i < c.path.size(); ++i) {
        key += c.path[i].key();
        if (c.path[i].kind == JoinStep::many) return Scope{key, c.outer, i};
    }
    return std::nullopt;
}

LOOM_DECL void scopes_in(const Cond& c, std::vector<std::string>& out) {
    auto add = [&](const std::string& k) {
        for (const auto& e : out)
            if (e == k) return;
        out.push_back(k);
    };
    if (c.kind == Cond::leaf) {
        for (const auto& t : c.tokens)
            if (t.kind == Token::column)
                if (auto s = scope_of(t.col)) add(s->key);
        return;
    }
    for (const auto& k : c.kids) scopes_in(*k, out);
}

LOOM_DECL bool needs_row(const Cond& c, const std::string& key) {
    switch (c.kind) {
    case Cond::leaf:
        for (const auto& t : c.tokens)
            if (t.kind == Token::column)
                if (auto s = scope_of(t.col); s && s->key == key) return true;
        return false;
    case Cond::all:
        return needs_row(*c.kids[0], key) || needs_row(*c.kids[1], key);
    case Cond::any:
        return needs_row(*c.kids[0], key) && needs_row(*c.kids[1], key);
    default:
        return false;
    }
}

LOOM_DECL CondPtr reroot(const Cond& c, const std::string& key) {
    auto out = std::make_shared<Cond>(c);
    if (c.kind == Cond::leaf) {
        for (auto& t : out->tokens) {
            if (t.kind == Token::column) {
                auto s = scope_of(t.col);
                if (s && s->key == key) {
                    t.col.path.erase(t.col.path.begin(),
                                     t.col.path.begin() + static_cast<std::ptrdiff_t>(s->at + 1));
                    t.col.outer = 0;
                } else {
                    ++t.col.outer;
                }
            } else if (t.kind == Token::subquery) {
                ++t.hop;
            }
        }
        return out;
    }
    for (auto& k : out->kids) k = reroot(*k, key);
    if (c.kind == Cond::negate) out->plain.clear();  // its columns moved: write it out again
    return out;
}

LOOM_DECL const ColumnRef* column_in_scope(const Cond& c, const std::string& key) {
    if (c.kind == Cond::leaf) {
        for (const auto& t : c.tokens)
            if (t.kind == Token::column)
                if (auto s = scope_of(t.col); s && s->key == key) return &t.col;
        return nullptr;
    }
    for (const auto& k : c.kids)
        if (auto* col = column_in_scope(*k, key)) return col;
    return nullptr;
}

LOOM_DECL Tokens exists_over(const std::string& key, const std::vector<const Cond*>& conds) {
    const ColumnRef* col = nullptr;
    for (const Cond* c : conds)
        if (!col) col = column_in_scope(*c, key);
    const Scope s = *scope_of(*col);
    auto node = std::make_shared<HopSubquery>();
    node->outer = s.outer;
    node->prefix.assign(col->path.begin(), col->path.begin() + static_cast<std::ptrdiff_t>(s.at));
    node->hop = col->path[s.at];
    node->model = node->hop.target;
    Tokens inner;
    for (std::size_t i = 0; i < conds.size(); ++i) {
        if (conds.size() > 1) append(inner, i ? ") AND (" : "(");
        append(inner, lower(*reroot(*conds[i], key)));
    }
    if (conds.size() > 1) append(inner, ")");
    node->cond = std::move(inner);
    Tokens out;
    append(out, std::shared_ptr<const SqlNode>(std::move(node)));
    return out;
}

LOOM_DECL void conjuncts(const CondPtr& c, std::vector<const Cond*>& out) {
    if (c->kind == Cond::all) {
        conjuncts(c->kids[0], out);
        conjuncts(c->kids[1], out);
    } else {
        out.push_back(c.get());
    }
}

LOOM_DECL Tokens lower(const Cond& c) {
    std::vector<std::string> scopes;
    scopes_in(c, scopes);
    Tokens out;
    switch (c.kind) {
    case Cond::leaf:
        if (scopes.empty()) return c.tokens;
        return exists_over(scopes.front(), {&c});
    case Cond::negate:
        if (scopes.empty() && !c.plain.empty()) return c.plain;
        append(out, "NOT COALESCE((");
        append(out, lower(*c.kids[0]));
        append(out, "), FALSE)");
        return out;
    case Cond::any:
        append(out, "(");
        append(out, lower(*c.kids[0]));
        append(out, ") OR (");
        append(out, lower(*c.kids[1]));
        append(out, ")");
        return out;
    case Cond::all:
        break;
    }
    if (scopes.empty()) {
        append(out, "(");
        append(out, lower(*c.kids[0]));
        append(out, ") AND (");
        append(out, lower(*c.kids[1]));
        append(out, ")");
        return out;
    }
    // Group the conjuncts that cross exactly one to-many relation by that relation; a group
    // with a conjunct that needs a related row becomes one EXISTS.
    std::vector<const Cond*> items;
    conjuncts(c.kids[0], items);
    conjuncts(c.kids[1], items);
    std::vector<std::string> keys(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        std::vector<std::string> s;
        scopes_in(*items[i], s);
        if (s.size() == 1) keys[i] = s.front();
    }
    std::vector<Tokens> parts;
    std::vector<bool> done(items.size(), false);
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (done[i]) continue;
        if (keys[i].empty()) {
            parts.push_back(lower(*items[i]));
            continue;
        }
        std::vector<const Cond*> group;
        bool anchored = false;
        for (std::size_t k = i; k < items.size(); ++k)
            if (keys[k] == keys[i]) {
                group.push_back(items[k]);
                anchored = anchored || needs_row(*items[k], keys[i]);
            }
        if (!anchored) {
            parts.push_back(lower(*items[i]));
            done[i] = true;
            continue;
        }
        for (std::size_t k = i; k < items.size(); ++k)
            if (keys[k] == keys[i]) done[k] = true;
        parts.push_back(exists_over(keys[i], group));
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
        append(out, i ? ") AND (" : "(");
        append(out, parts[i]);
    }
    append(out, ")");
    return out;
}

}  // namespace loom::detail
