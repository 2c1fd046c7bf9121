// loom/fwd.hpp - forward declarations of loom's public types, for headers that only name them.
#pragma once

#include <cstdint>

namespace loom {

class Database;
class Transaction;
template <class T> class QuerySet;
template <class T> class ForeignKey;
template <class T> class OneToOne;
template <class T> class ManyToMany;
template <class T> class Reverse;
template <class T> class ReverseOne;

class Error;
class DatabaseError;
class ConstraintError;
class DataError;
class DoesNotExist;
class MultipleObjectsReturned;
class NotLoaded;
class UsageError;

}  // namespace loom
