// loom/loom.hpp - the whole library: models, the database, queries, prefetching, transactions
// and observability. Include this one header. (The HTML/text profile report is opt-in:
// <loom/profile.hpp>.)
#pragma once

#include "version.hpp"
#include "fwd.hpp"
#include "errors.hpp"
#include "types.hpp"
#include "options.hpp"
#include "model.hpp"
#include "relations.hpp"
#include "m2m.hpp"
#include "database.hpp"
#include "transaction.hpp"
#include "migrate.hpp"
#include "expr.hpp"
#include "prefetch.hpp"
#include "lookup.hpp"
#include "chunks.hpp"
#include "queryset.hpp"
#include "log.hpp"
#include "testing.hpp"
#include "format.hpp"
