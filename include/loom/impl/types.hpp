// The definitions of types.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of types.hpp only.
#pragma once

namespace loom {

LOOM_DECL const Value& ResultRow::operator[](std::string_view name) const {
    for (std::size_t i = 0; names_ && i < names_->size(); ++i)
        if ((*names_)[i] == name) return values_.at(i);
    throw std::out_of_range("loom::ResultRow: no column named '" + std::string(name) + "'");
}

LOOM_DECL const std::vector<std::string>& ResultRow::names() const noexcept {
    static const std::vector<std::string> none;
    return names_ ? *names_ : none;
}

LOOM_DECL bool operator==(const SqlText& a, const SqlText& b) {
    return a.sql == b.sql && a.params == b.params;
}

}  // namespace loom
