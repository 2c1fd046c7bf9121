// loom/loom.hpp - the whole library: models, the database, queries, prefetching, transactions
// and observability. Include this one header. (The HTML/text profile report is opt-in:
// <loom/profile.hpp>.)
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
#include "migrate.hpp"
#include "model.hpp"
#include "options.hpp"
#include "prefetch.hpp"
#include "queryset.hpp"
#include "relations.hpp"
#include "testing.hpp"
#include "transaction.hpp"
#include "types.hpp"
#include "version.hpp"
