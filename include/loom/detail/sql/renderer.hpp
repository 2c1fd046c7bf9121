// Renderer: turns tokens into SQL text and parameters, assigning table aliases to join paths
// (t0 is the queried table; a subquery nested one level deeper uses u0, u1..., the next v0...)
// and writing the JOINs they need; resolving loom::outer columns in the enclosing queries; and
// the one way a column is tested against a list of keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../../errors.hpp"
#include "../config.hpp"
#include "../session.hpp"
#include "../std_light.hpp"
#include "tokens.hpp"

namespace loom::detail {

/// Appends ` IN (?, ?, ...)` (` NOT IN` when `negated`) with one parameter per key, or the
/// dialect's test against one array parameter holding all of them (` = ANY(?::bigint[])`).
LOOM_DECL void append_key_list(std::string& sql, std::vector<Value>& params,
                               std::span<const std::int64_t> keys, Session* session, bool array,
                               bool negated = false);

/// The same for keys of any type: text keys (each a std::string Value) may be one array
/// parameter; other keys are bound one by one.
LOOM_DECL void append_key_list(std::string& sql, std::vector<Value>& params,
                               std::span<const Value> keys, Session* session = nullptr,
                               bool array = false);

class Renderer {
public:
    /// `session` decides how long key lists are bound and writes the engine's text tests;
    /// without one (comparing two queries' SQL) key lists are always parameter lists.
    explicit Renderer(Session* session = nullptr, std::string model = {});
    /// The renderer of a subquery written inside another query's SQL, `depth` levels deep:
    /// its own aliases, loom::outer columns resolved by `outer`, whose root model is
    /// `outer`'s... and `model` the name of this query's root model.
    Renderer(Session* session, Renderer* outer, int depth, std::string model);
    ~Renderer();
    Renderer(const Renderer&);
    Renderer(Renderer&&) noexcept;
    Renderer& operator=(const Renderer&);
    Renderer& operator=(Renderer&&) noexcept;

    /// A renderer for a subquery of this query that belongs to the same level (its outer
    /// columns are this query's).
    Renderer sibling() const;

    /// Aliases of the root table and of the join table of a many-to-many subquery.
    std::string root() const;
    /// Names the root table by `alias` instead (an UPDATE's own table).
    void set_root(std::string alias);
    std::string through_alias() const;
    int depth() const noexcept { return depth_; }
    const std::string& model() const noexcept { return model_; }
    /// Renders to-many hops as inner JOINs (inside an aggregate subquery); elsewhere a to-many
    /// hop in a column is a UsageError (it would repeat rows).
    void allow_many(bool on) noexcept { allow_many_ = on; }

    /// The renderer `n` queries out (0: this one).
    Renderer& up(int n);

    std::string alias_for(const std::vector<JoinStep>& path);
    std::string column(const ColumnRef& c);

    void render(const Tokens& tokens, std::string& sql, std::vector<Value>& params);
    /// What the JSON path ending at tokens[i] is compared with: the value of the parameter
    /// (or key list) right after its operator (`= ?`, `IN (?, ...)`, `BETWEEN ? AND ?`).
    static engine::JsonUse json_use(const Tokens& tokens, std::size_t i);
    const std::string& joins() const noexcept { return joins_; }
    Session* session() const noexcept { return session_; }

private:
    Session* session_;
    Renderer* outer_ = nullptr;
    int depth_ = 0;
    std::string prefix_ = "t";
    std::string root_;
    std::string model_;
    bool allow_many_ = false;
    std::vector<std::pair<std::string, std::string>> aliases_;
    std::string joins_;
};

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/renderer.hpp"
#endif
