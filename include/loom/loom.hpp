// loom/loom.hpp - the core of the library: models, the database, queries, prefetching, writes,
// transactions, errors and the query hook (Database::on_query). Include this one header for
// those. What only some programs use is opt-in, each a header of its own that keeps its compile
// time (and fmt) out of every other translation unit:
//   <loom/format.hpp>   fmt::formatter for models: fmt::print("{}", book)
//   <loom/log.hpp>      query_logger / log_queries, format_params, statement_shape
//   <loom/testing.hpp>  expect_queries / ExpectQueries, NPlusOneGuard
//   <loom/profile.hpp>  the HTML/text profile report
//   <loom/migrate.hpp>  schema checks and migrations
//   <loom/postgres.hpp> the PostgreSQL engine (needs libpq);  <loom/json.hpp> JSON columns
#pragma once

#include "chrono.hpp"
#include "chunks.hpp"
#include "database.hpp"
#include "errors.hpp"
#include "expr.hpp"
#include "fwd.hpp"
#include "lookup.hpp"
#include "m2m.hpp"
#include "model.hpp"
#include "options.hpp"
#include "prefetch.hpp"
#include "queryset.hpp"
#include "relations.hpp"
#include "transaction.hpp"
#include "types.hpp"
#include "version.hpp"
