// The definitions of errors.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of errors.hpp only.
#pragma once

namespace loom {

LOOM_DECL Error::Error(const std::string& what) : std::runtime_error(what) {}

LOOM_DECL DatabaseError::DatabaseError(const std::string& what, int code)
    : Error(what), code_(code) {}

LOOM_DECL ConstraintError::ConstraintError(const std::string& what, int code, Kind kind)
    : DatabaseError(what, code), kind_(kind) {}

LOOM_DECL ListenerError::ListenerError(const std::string& what, std::exception_ptr original)
    : Error(what), original_(std::move(original)) {}

LOOM_DECL SchemaError::SchemaError(const std::string& what, std::vector<std::string> differences)
    : Error(what), differences_(std::move(differences)) {}

LOOM_DECL MigrationError::MigrationError(const std::string& what, std::string migration)
    : Error(what), migration_(std::move(migration)) {}

LOOM_DECL std::string sqlstate(int code) {
    if (!(code & (1 << 30))) return {};
    std::string s(5, '0');
    for (int i = 0; i < 5; ++i)
        s[static_cast<std::size_t>(i)] = static_cast<char>(((code >> (6 * i)) & 0x3f) + '0');
    return s;
}

}  // namespace loom
