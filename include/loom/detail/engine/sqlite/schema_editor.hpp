// SQLite's side of schema changes: what ALTER TABLE does in place (ADD COLUMN, RENAME COLUMN,
// RENAME TO, CREATE/DROP INDEX), and for everything else the rebuild SQLite documents
// (lang_altertable.html, "Making Other Kinds Of Table Schema Changes"):
//
//   foreign keys off (outside the transaction: the migration runner does it), then inside the
//   migration's transaction: drop the views and triggers (kept to recreate), CREATE TABLE
//   loom_new_X, INSERT INTO loom_new_X SELECT ... FROM X (checked: every row copied, values of
//   a changed type still of that type), keep X's AUTOINCREMENT counter, DROP TABLE X, ALTER
//   TABLE loom_new_X RENAME TO X, recreate X's indexes, the views and the triggers; the runner
//   ends with PRAGMA foreign_key_check and turns foreign keys back on after COMMIT.
//
// Views and triggers anywhere in the schema are dropped and recreated, not only X's: since
// SQLite 3.26 RENAME TO checks the whole schema, and a view or another table's trigger that
// names X fails that check while X is gone. Recreating them also proves they still work with
// the new X (one that names a dropped column fails the migration, which rolls back).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../../errors.hpp"
#include "../../config.hpp"
#include "../catalog.hpp"
#include "introspect.hpp"

namespace loom::detail::sqlite {

class SchemaEditor final : public engine::SchemaEditor {
public:
    explicit SchemaEditor(const engine::Dialect& d) : d_(d) {}

    LOOM_DECL std::vector<std::string> table_names(engine::Runner& r) override;
    LOOM_DECL std::optional<engine::TableInfo> read_table(engine::Runner& r,
                                                          std::string_view name) override;

    LOOM_DECL engine::Steps create_table(const engine::TableInfo& t) override;
    LOOM_DECL engine::Steps drop_table(const engine::TableInfo& t) override;
    LOOM_DECL engine::Steps rename_table(const engine::TableInfo& t, std::string_view to) override;
    LOOM_DECL engine::Steps rename_column(const engine::TableInfo& t, std::string_view from,
                                          std::string_view to) override;

    LOOM_DECL engine::Steps change_table(engine::Runner& r, const engine::TableInfo& before,
                                         const engine::TableInfo& after,
                                         const std::vector<engine::ColumnSource>& sources) override;

    bool rebuild_needs_foreign_keys_off() const override { return true; }
    LOOM_DECL bool foreign_keys_enabled(engine::Runner& r) override;
    LOOM_DECL std::string foreign_keys_sql(bool on) const override;
    LOOM_DECL std::vector<std::string> foreign_key_violations(engine::Runner& r,
                                                              std::size_t limit) override;

private:
    /// The table's definition without its name and indexes: equal bodies need no rebuild.
    std::string body(const engine::TableInfo& t) const;

    /// CREATE INDEX / DROP INDEX turning before's indexes into after's.
    static engine::Steps index_steps(const engine::TableInfo& before,
                                     const engine::TableInfo& after);

    /// True when `after` is `before` plus one last column that ADD COLUMN can add in place:
    /// nullable, no key, no UNIQUE, nothing to copy into it.
    bool appended_column(const engine::TableInfo& before, const engine::TableInfo& after,
                         const std::vector<engine::ColumnSource>& sources) const;

    engine::Steps rebuild(engine::Runner& r, const engine::TableInfo& before,
                          const engine::TableInfo& after,
                          const std::vector<engine::ColumnSource>& sources);

    static const engine::ColumnSource* source_of(const engine::TableInfo& after,
                                                 const std::vector<engine::ColumnSource>& sources,
                                                 std::string_view col);
    /// Whether before already had this UNIQUE constraint over the same (copied) columns.
    static bool has_unique_over(const engine::TableInfo& before, const std::vector<std::string>& u,
                                const engine::TableInfo& after,
                                const std::vector<engine::ColumnSource>& sources);
    static std::string join(const std::vector<std::string>& v);
    static std::string lower(std::string_view s);

    const engine::Dialect& d_;
};

}  // namespace loom::detail::sqlite

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/schema_editor.hpp"
#endif
