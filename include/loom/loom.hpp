// loom/loom.hpp - the whole library: models, the database, queries, prefetching, transactions
// and observability. Include this one header. Two parts are opt-in, each a header of its own
// that keeps its compile time out of every other translation unit: schema checks and
// migrations (<loom/migrate.hpp>) and the HTML/text profile report (<loom/profile.hpp>).
#pragma once

#include "chrono.hpp"
#include "chunks.hpp"
#include "database.hpp"
#include "errors.hpp"
#include "expr.hpp"
#include "format.hpp"
#include "fwd.hpp"
#include "log.hpp"
#include "lookup.hpp"
#include "m2m.hpp"
#include "model.hpp"
#include "options.hpp"
#include "prefetch.hpp"
#include "queryset.hpp"
#include "relations.hpp"
#include "testing.hpp"
#include "transaction.hpp"
#include "types.hpp"
#include "version.hpp"
