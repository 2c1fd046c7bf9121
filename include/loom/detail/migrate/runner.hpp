// What the public migration API runs on: a Runner over the Session (every statement counted and
// shown to listeners, labelled with an origin), the engine's SchemaEditor, checksums and the
// time stamp of the history table.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../config.hpp"
#include "../session.hpp"
#include "operations.hpp"

namespace loom::detail::migrate {

class SessionRunner final : public engine::Runner {
public:
    SessionRunner(Session& s, std::string_view origin);
    LOOM_DECL void query(std::string_view sql, const std::vector<Value>& params,
                         const std::function<void(const Statement&)>& on_row) override;
    LOOM_DECL void execute(std::string_view sql, const std::vector<Value>& params) override;

private:
    Session& s_;
    std::string_view origin_;
};

/// The schema editor of the session's engine.
LOOM_DECL std::unique_ptr<engine::SchemaEditor> editor_for(const engine::Dialect& d);

/// FNV-1a over the operations' canonical texts: 16 hex digits, the same on every platform and
/// engine.
LOOM_DECL std::string checksum(const std::vector<std::shared_ptr<const Op>>& ops);

/// Now, in UTC: 2024-05-01T12:00:00Z.
LOOM_DECL std::string utc_now();

/// A bound value as a plan shows it: 3, 2.5, 'text', X'00ff', NULL.
LOOM_DECL std::string value_sql(const Value& v);

}  // namespace loom::detail::migrate

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/runner.hpp"
#endif
