// loom/loom.hpp - the whole library: models, the database, queries, prefetching, transactions
// and observability. Include this one header.
#pragma once

#include "chunks.hpp"
#include "database.hpp"
#include "errors.hpp"
#include "expr.hpp"
#include "lookup.hpp"
#include "model.hpp"
#include "observability.hpp"
#include "prefetch.hpp"
#include "queryset.hpp"
#include "relations.hpp"
#include "transaction.hpp"
#include "value.hpp"
#include "version.hpp"
