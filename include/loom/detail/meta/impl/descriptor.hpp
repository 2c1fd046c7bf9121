// The definitions of descriptor.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of descriptor.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL std::string ModelMeta::select_list(std::string_view alias) const {
    std::string out;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (i) out += ", ";
        out += alias;
        out += '.';
        out += columns[i];
    }
    return out;
}

}  // namespace loom::detail
