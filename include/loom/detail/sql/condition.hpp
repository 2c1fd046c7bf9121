// Conditions as a tree (leaves of tokens joined by AND, OR, NOT), and how a tree becomes SQL
// when it is given to filter(): a column that crosses a to-many relation (a Reverse or a
// ManyToMany) cannot be joined without repeating rows, so the conditions on it become an
// EXISTS subquery over the related rows, correlated with the row they belong to.
//
// Django's rule for several conditions on one multi-valued relation: the conditions of ONE
// filter() call that are ANDed together (or sit under such an AND) and go through the same
// relation are about the same related row: one EXISTS holds them all. Separate filter() calls
// are separate EXISTS, each free to match another row. `!` negates the whole: `!(tags.name ==
// "x")` is "no tag is named x" (NOT EXISTS). OR keeps its branches apart, so a row with no
// related rows still matches the other branch.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../config.hpp"
#include "renderer.hpp"

namespace loom::detail {

struct Cond;
using CondPtr = std::shared_ptr<const Cond>;

struct Cond {
    enum Kind { leaf, all, any, negate } kind = leaf;
    Tokens tokens;              // leaf
    std::vector<CondPtr> kids;  // all, any: two; negate: one
    Tokens plain;               // negate: its SQL when the operand crosses no to-many hop
    bool aggregate = false;     // mentions an aggregate (COUNT(*)...): a having() condition
};

LOOM_DECL CondPtr make_leaf(Tokens t, bool aggregate = false);
LOOM_DECL CondPtr make_join(Cond::Kind kind, CondPtr a, CondPtr b);
/// NOT, two-valued as Django's exclude(): a row whose condition is NULL does not match `a`,
/// so it matches `!a`. `plain`: a simpler spelling of the same test (`c <> ?`), used when `a`
/// crosses no to-many hop.
LOOM_DECL CondPtr make_not(CondPtr a, Tokens plain = {});

/// A subquery over the rows of a to-many relation of a row of an enclosing query: EXISTS
/// (SELECT 1 ...) for a condition, (SELECT <value> ...) for a per-row aggregate.
struct HopSubquery final : SqlNode {
    bool exists = true;
    int outer = 0;                 // the row it belongs to: this many queries out
    std::vector<JoinStep> prefix;  // forward hops from that row to the relation's owner
    JoinStep hop;                  // the to-many relation
    std::string model;             // the related model's name
    Tokens select;                 // not exists: the value (rendered inside)
    Tokens cond;                   // a condition on the related rows (may be empty)

    LOOM_DECL void render(Renderer& r, int hop_levels, std::string& sql,
                          std::vector<Value>& params) const override;
};

/// Where a column crosses its first to-many hop: the hop, the path before it and the query
/// level it starts from. `key` names the relation as reached from that level.
struct Scope {
    std::string key;
    int outer = 0;
    std::size_t at = 0;  // index of the hop in the column's path
};

LOOM_DECL std::optional<Scope> scope_of(const ColumnRef& c);

LOOM_DECL void scopes_in(const Cond& c, std::vector<std::string>& out);

/// True when `c` can hold only for a row that has a related row in scope `key` (so it may be
/// moved into that scope's EXISTS).
LOOM_DECL bool needs_row(const Cond& c, const std::string& key);

/// `c` as seen from inside the subquery of scope `key`: its columns in that scope start at the
/// related row; every other column, and every node, is one query further out.
LOOM_DECL CondPtr reroot(const Cond& c, const std::string& key);

/// The first column of `c` (depth first) crossing a to-many hop whose scope is `key`.
LOOM_DECL const ColumnRef* column_in_scope(const Cond& c, const std::string& key);

/// EXISTS over scope `key` for the conditions `conds` (ANDed).
LOOM_DECL Tokens exists_over(const std::string& key, const std::vector<const Cond*>& conds);

LOOM_DECL void conjuncts(const CondPtr& c, std::vector<const Cond*>& out);

/// `c` as tokens in which no column crosses a to-many hop (see the header comment).
LOOM_DECL Tokens lower(const Cond& c);

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/condition.hpp"
#endif
