// The definitions of joins.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of joins.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL JoinInfo automatic_join_info(std::string_view owner_table, std::string_view target_table,
                                       bool self, std::string_view table,
                                       std::string_view src_column, std::string_view dst_column) {
    JoinInfo j;
    j.raw_table = std::string(table);
    const std::string owner(owner_table), target(target_table);
    if (self) {
        j.raw_src = src_column.empty() ? "from_" + owner + "_id" : std::string(src_column);
        j.raw_dst = dst_column.empty() ? "to_" + target + "_id" : std::string(dst_column);
    } else {
        j.raw_src = src_column.empty() ? owner + "_id" : std::string(src_column);
        j.raw_dst = dst_column.empty() ? target + "_id" : std::string(dst_column);
    }
    j.table = quote(j.raw_table);
    j.src_column = quote(j.raw_src);
    j.dst_column = quote(j.raw_dst);
    return j;
}

LOOM_DECL JoinInfo through_join_info(std::string_view table, std::string_view src_column,
                                     std::string_view dst_column) {
    JoinInfo j;
    j.explicit_through = true;
    j.raw_table = std::string(table);
    j.raw_src = std::string(src_column);
    j.raw_dst = std::string(dst_column);
    j.table = quote(j.raw_table);
    j.src_column = quote(j.raw_src);
    j.dst_column = quote(j.raw_dst);
    return j;
}

LOOM_DECL RelationJoin make_relation_join(const RelationShape& shape) {
    const std::string t0_pk = "t0." + shape.target->pk;
    RelationJoin r;
    switch (shape.kind) {
    case RelationShape::forward:
        r.key = t0_pk;
        r.forward = true;
        break;
    case RelationShape::many: {
        const JoinInfo& j = *shape.join;
        r.key = "j." + j.from_column(shape.reversed);
        r.join = " JOIN " + j.table + " AS j ON j." + j.to_column(shape.reversed) + " = " + t0_pk;
        r.through = &j;
        r.reversed = shape.reversed;
        break;
    }
    case RelationShape::reverse:
        r.key = "t0." + quote(shape.column);
        break;
    }
    return r;
}

LOOM_DECL JoinStep make_relation_hop(const RelationShape& shape) {
    JoinStep s;
    s.table = shape.target->table;
    s.pk = shape.target->pk;
    s.target = shape.target->name;
    s.name = shape.owner->name + "::" + std::string(shape.member);
    s.src_key = shape.owner->pk;
    switch (shape.kind) {
    case RelationShape::forward:
        s.kind = JoinStep::forward;
        s.fk_column = quote(shape.column);
        s.nullable = shape.nullable;
        s.src_key.clear();
        break;
    case RelationShape::many: {
        const JoinInfo& j = *shape.join;
        s.kind = JoinStep::many;
        s.through = j.table;
        s.through_src = j.from_column(shape.reversed);
        s.through_dst = j.to_column(shape.reversed);
        break;
    }
    case RelationShape::reverse:
        s.kind = shape.one_to_one ? JoinStep::reverse_one : JoinStep::many;
        s.dst_fk = quote(shape.column);
        s.nullable = true;
        break;
    }
    return s;
}

}  // namespace loom::detail
