// Comparing the models' schema with a live one: the differences in words (check_schema,
// schema_report), and the operations that remove them (loom::diff, the autodetector). One
// comparison (compare_table) serves both.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../config.hpp"
#include "operations.hpp"

namespace loom::detail::migrate {

struct ColumnDiff {
    std::string name;
    bool type = false, nullness = false, unique = false, foreign_key = false;
};

/// How a live table differs from the one the models want.
struct TableDiff {
    std::vector<std::string> missing, extra;  // columns
    std::vector<ColumnDiff> changed;
    std::vector<std::vector<std::string>> missing_uniques, extra_uniques;  // several columns
    std::vector<IndexInfo> missing_indexes, extra_indexes;
    bool key = false;  // the primary key differs
};

LOOM_DECL std::string key_words(const TableInfo& t);

LOOM_DECL std::string foreign_key_words(const ForeignKeyInfo* f);

LOOM_DECL bool same_foreign_key(const ForeignKeyInfo* want, const ForeignKeyInfo* have);

LOOM_DECL TableDiff compare_table(const TableInfo& want, const TableInfo& have);

struct Report {
    std::vector<std::string> differences;
    std::vector<std::string> notes;
};

/// The differences between table `want` and the live `have` (null: there is none), in words.
LOOM_DECL void report_table(const TableInfo& want, const TableInfo* have, Report& r);

// ---- the autodetector ----------------------------------------------------------------------

/// What the caller allows the autodetector beyond additive changes (loom::DiffOptions).
struct Allowed {
    std::vector<std::string> drop;
    std::vector<std::pair<std::string, std::string>> rename;
    std::vector<std::pair<std::string, Value>> fill;
    std::vector<std::string> change_type;
};

struct Detected {
    std::vector<std::shared_ptr<const Op>> ops;
    std::vector<std::string> unresolved;
};

/// Operations that turn the live schema into `want`: additive ones always, destructive or
/// ambiguous ones only as `allowed` says; the rest are listed as unresolved, each with the
/// option that would resolve it.
LOOM_DECL Detected detect(const std::vector<TableInfo>& want, engine::SchemaEditor& ed,
                          engine::Runner& r, const Allowed& allowed);

}  // namespace loom::detail::migrate

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/compare.hpp"
#endif
