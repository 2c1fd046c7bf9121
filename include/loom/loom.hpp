// loom/loom.hpp - the whole library: models, the database, queries, prefetching, transactions,
// fmt formatting of models, the query log and the test helpers. Include this one header.
// Opt-in, not included here: <loom/profile.hpp> (the profile report, text and HTML).
#pragma once

#include "chunks.hpp"
#include "database.hpp"
#include "errors.hpp"
#include "expr.hpp"
#include "format.hpp"
#include "log.hpp"
#include "lookup.hpp"
#include "model.hpp"
#include "prefetch.hpp"
#include "queryset.hpp"
#include "relations.hpp"
#include "testing.hpp"
#include "transaction.hpp"
#include "value.hpp"
#include "version.hpp"
