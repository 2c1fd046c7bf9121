// The definitions of schema.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail {

LOOM_DECL std::string on_delete_word(on_delete d) {
    switch (d) {
    case on_delete::cascade:
        return "CASCADE";
    case on_delete::set_null:
        return "SET NULL";
    case on_delete::restrict:
        return "RESTRICT";
    default:
        return "NO ACTION";
    }
}

LOOM_DECL engine::TypeClass type_class(Storage s) {
    switch (s) {
    case Storage::integer:
        return engine::TypeClass::integer;
    case Storage::real:
        return engine::TypeClass::real;
    case Storage::text:
        return engine::TypeClass::text;
    default:
        return engine::TypeClass::blob;
    }
}

}  // namespace loom::detail
