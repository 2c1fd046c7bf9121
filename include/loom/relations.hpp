// loom/relations.hpp - the relation members a model declares: ForeignKey<T>, OneToOne<T>,
// ManyToMany<T>, Reverse<T> (the other side of a ForeignKey or a ManyToMany) and ReverseOne<T>
// (the other side of a OneToOne). Each holds its key (if it has one) and a cache that
// prefetch_related, select_related or an explicit load() fills. Reading a relation that was not
// loaded throws loom::NotLoaded: loom never runs a query behind your back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "errors.hpp"
#include "detail/type_name.hpp"
#include "fwd.hpp"

namespace loom {
namespace detail {

/// What a relation member knows about itself once its object came from (or went to) the
/// database: names for messages, and how to load it explicitly.
struct RelationInfo {
    std::string_view owner;   // "Book"
    std::string_view member;  // "authors"
    std::string_view target;  // "Author"
    void (*load)(Database& db, void* relation, std::int64_t owner_key);
};

[[noreturn]] inline void throw_not_loaded(const RelationInfo* info, std::string_view kind,
                                          std::string_view target) {
    if (!info)
        throw NotLoaded("this " + std::string(kind) + "<" + std::string(target) +
                        "> was never loaded: it belongs to an object that did not come from the "
                        "database. Read the object back with prefetch_related, or insert it and "
                        "call load(db) on the relation");
    std::string owner(info->owner), member(info->member);
    std::string var;
    for (char c : owner) var += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    throw NotLoaded(owner + "::" + member + " was not loaded, and loom never runs a hidden "
                    "query. Load it with db.objects<" + owner + ">().prefetch_related(&" + owner +
                    "::" + member + "), or explicitly with " + var + "." + member + ".load(db)");
}

struct relation_access;
template <class T> std::int64_t primary_key_of(const T& obj);

}  // namespace detail

/// A many-to-one link: the column `<name>_id` plus a cache of the object it points to.
/// Assign an id or an object; read through `->`, `*` or `get()` once loaded.
///
///     book.publisher = penguin;            // or = penguin.id
///     db.insert(book);
///     auto books = db.objects<Book>().prefetch_related(&Book::publisher);
///     books.first()->publisher->name;      // no query
template <class T>
class ForeignKey {
public:
    using target_type = T;

    ForeignKey() = default;
    ForeignKey(std::int64_t id) : id_(id) {}
    ForeignKey(std::nullopt_t) {}
    ForeignKey(const T& obj) : id_(detail::primary_key_of(obj)) {}

    ForeignKey& operator=(std::int64_t id) {
        set_id(id);
        return *this;
    }
    ForeignKey& operator=(std::nullopt_t) {
        set_id(std::nullopt);
        return *this;
    }
    ForeignKey& operator=(const T& obj) {
        set_id(detail::primary_key_of(obj));
        return *this;
    }

    /// The stored key; empty when the column is NULL.
    std::optional<std::int64_t> id() const noexcept { return id_; }
    bool is_null() const noexcept { return !id_.has_value(); }
    /// True once the target was fetched (by prefetch_related, select_related or load()).
    bool loaded() const noexcept { return loaded_; }

    /// The related object, or nullptr when the key is NULL. Throws NotLoaded if not loaded.
    const T* get() const {
        if (!loaded_) detail::throw_not_loaded(info_, "ForeignKey", detail::type_name<T>());
        return obj_;
    }
    const T& operator*() const {
        const T* p = get();
        if (!p) throw_null();
        return *p;
    }
    const T* operator->() const { return &**this; }

    /// Fetches the related object now, with one query visible in the query log.
    void load(Database& db) {
        if (!info_) detail::throw_not_loaded(info_, "ForeignKey", detail::type_name<T>());
        info_->load(db, this, id_.value_or(0));
    }

    friend bool operator==(const ForeignKey& a, const ForeignKey& b) { return a.id_ == b.id_; }

private:
    friend struct detail::relation_access;
    void set_id(std::optional<std::int64_t> id) {
        id_ = id;
        obj_ = nullptr;
        loaded_ = false;
        keep_.reset();
    }
    [[noreturn]] void throw_null() const {
        if (info_)
            throw UsageError(std::string(info_->owner) + "::" + std::string(info_->member) +
                             " is NULL; check is_null() or use get(), which returns nullptr");
        throw UsageError("dereferenced a NULL ForeignKey; check is_null() first");
    }

    std::optional<std::int64_t> id_;
    const T* obj_ = nullptr;
    bool loaded_ = false;
    std::shared_ptr<const void> keep_;
    const detail::RelationInfo* info_ = nullptr;
};

/// A one-to-one link: a ForeignKey whose column is UNIQUE. The other side is ReverseOne<T>.
template <class T>
class OneToOne : public ForeignKey<T> {
public:
    using ForeignKey<T>::ForeignKey;
    using ForeignKey<T>::operator=;
};

/// The shared behaviour of the to-many sides (ManyToMany<T>, Reverse<T>): a loaded, ordered
/// list of related objects, iterated as `const T&`.
template <class T>
class RelatedList {
public:
    using value_type = T;

    class iterator {
    public:
        using iterator_concept = std::random_access_iterator_tag;
        using iterator_category = std::random_access_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using reference = const T&;
        using pointer = const T*;

        iterator() = default;
        explicit iterator(const T* const* p) : p_(p) {}
        const T& operator*() const { return **p_; }
        const T* operator->() const { return *p_; }
        const T& operator[](difference_type n) const { return *p_[n]; }
        iterator& operator++() { ++p_; return *this; }
        iterator operator++(int) { auto t = *this; ++p_; return t; }
        iterator& operator--() { --p_; return *this; }
        iterator operator--(int) { auto t = *this; --p_; return t; }
        iterator& operator+=(difference_type n) { p_ += n; return *this; }
        iterator& operator-=(difference_type n) { p_ -= n; return *this; }
        friend iterator operator+(iterator i, difference_type n) { return i += n; }
        friend iterator operator+(difference_type n, iterator i) { return i += n; }
        friend iterator operator-(iterator i, difference_type n) { return i -= n; }
        friend difference_type operator-(iterator a, iterator b) { return a.p_ - b.p_; }
        friend bool operator==(iterator a, iterator b) { return a.p_ == b.p_; }
        friend auto operator<=>(iterator a, iterator b) { return a.p_ <=> b.p_; }

    private:
        const T* const* p_ = nullptr;
    };
    using const_iterator = iterator;

    bool loaded() const noexcept { return loaded_; }
    iterator begin() const { return iterator(checked().data()); }
    iterator end() const { return iterator(checked().data() + items_.size()); }
    std::size_t size() const { return checked().size(); }
    bool empty() const { return checked().empty(); }
    const T& operator[](std::size_t i) const { return *checked()[i]; }
    const T& front() const { return *checked().front(); }
    const T& back() const { return *checked().back(); }

    /// Fetches the related objects now, with one query visible in the query log.
    void load(Database& db) {
        if (!info_) detail::throw_not_loaded(info_, "relation", detail::type_name<T>());
        info_->load(db, this, owner_key_);
    }

protected:
    RelatedList() = default;

private:
    friend struct detail::relation_access;
    const std::vector<const T*>& checked() const {
        if (!loaded_) detail::throw_not_loaded(info_, "relation", detail::type_name<T>());
        return items_;
    }

    std::vector<const T*> items_;
    // What keeps the items alive: usually one block; more are chained (see relation_access::keep).
    std::shared_ptr<const void> keep_;
    bool loaded_ = false;
    std::int64_t owner_key_ = 0;
    const detail::RelationInfo* info_ = nullptr;
};

/// A many-to-many link through a join table (automatic, or an explicit through model).
/// Change it with db.m2m(obj, &Model::member).add/remove/set/clear, which keep a loaded cache true.
template <class T>
class ManyToMany : public RelatedList<T> {
public:
    using target_type = T;
    ManyToMany() = default;
    ManyToMany(const ManyToMany&) = default;
    ManyToMany(ManyToMany&&) noexcept = default;
    ManyToMany& operator=(const ManyToMany&) = default;
    ManyToMany& operator=(ManyToMany&&) noexcept = default;
    ~ManyToMany() = default;
};

/// The other side of a ForeignKey (the reviews of a book) or of a ManyToMany (the books of an
/// author). Declared with loom::reverse(&Owner::member, &Target::forward_member).
template <class T>
class Reverse : public RelatedList<T> {
public:
    using target_type = T;
    Reverse() = default;
    Reverse(const Reverse&) = default;
    Reverse(Reverse&&) noexcept = default;
    Reverse& operator=(const Reverse&) = default;
    Reverse& operator=(Reverse&&) noexcept = default;
    ~Reverse() = default;
};

/// The other side of a OneToOne: at most one object.
template <class T>
class ReverseOne {
public:
    using target_type = T;

    bool loaded() const noexcept { return loaded_; }
    /// The related object, or nullptr when there is none. Throws NotLoaded if not loaded.
    const T* get() const {
        if (!loaded_) detail::throw_not_loaded(info_, "ReverseOne", detail::type_name<T>());
        return obj_;
    }
    bool has_value() const { return get() != nullptr; }
    const T& operator*() const {
        const T* p = get();
        if (!p)
            throw DoesNotExist(info_ ? std::string(info_->owner) + "::" +
                                           std::string(info_->member) + " has no related object"
                                     : std::string("ReverseOne has no related object"));
        return *p;
    }
    const T* operator->() const { return &**this; }

    void load(Database& db) {
        if (!info_) detail::throw_not_loaded(info_, "ReverseOne", detail::type_name<T>());
        info_->load(db, this, owner_key_);
    }

private:
    friend struct detail::relation_access;
    const T* obj_ = nullptr;
    bool loaded_ = false;
    std::shared_ptr<const void> keep_;
    std::int64_t owner_key_ = 0;
    const detail::RelationInfo* info_ = nullptr;
};

namespace detail {

/// The prefetch engine's door into relation caches.
struct relation_access {
    template <class T>
    static void bind(ForeignKey<T>& r, const RelationInfo* info, std::int64_t) noexcept {
        r.info_ = info;
    }
    template <class T>
    static void bind(RelatedList<T>& r, const RelationInfo* info, std::int64_t key) noexcept {
        r.info_ = info;
        r.owner_key_ = key;
    }
    template <class T>
    static void bind(ReverseOne<T>& r, const RelationInfo* info, std::int64_t key) noexcept {
        r.info_ = info;
        r.owner_key_ = key;
    }

    template <class T>
    static std::optional<std::int64_t>& key(ForeignKey<T>& r) noexcept { return r.id_; }

    template <class T>
    static void set(ForeignKey<T>& r, const T* obj, const std::shared_ptr<const void>& keep) {
        r.obj_ = obj;
        r.loaded_ = true;
        r.keep_ = keep;
    }
    template <class T>
    static void set(ReverseOne<T>& r, const T* obj, const std::shared_ptr<const void>& keep) {
        r.obj_ = obj;
        r.loaded_ = true;
        r.keep_ = keep;
    }

    template <class T>
    static void clear(RelatedList<T>& r) {
        r.items_.clear();
        r.keep_.reset();
        r.loaded_ = false;
    }
    /// Marks the list loaded (empty unless items are pushed) and remembers what keeps the
    /// items alive.
    template <class T>
    static void start(RelatedList<T>& r, const std::shared_ptr<const void>& keep) {
        r.items_.clear();
        r.keep_ = keep;
        r.loaded_ = true;
    }
    template <class T>
    static void push(RelatedList<T>& r, const T* obj) {
        r.items_.push_back(obj);
    }
    template <class T>
    static std::vector<const T*>& items(RelatedList<T>& r) noexcept { return r.items_; }
    template <class T>
    static void keep(RelatedList<T>& r, std::shared_ptr<const void> k) {
        // One keep-alive in the common case (no allocation per list); further ones chain.
        if (!r.keep_)
            r.keep_ = std::move(k);
        else
            r.keep_ = std::make_shared<
                const std::pair<std::shared_ptr<const void>, std::shared_ptr<const void>>>(
                std::move(r.keep_), std::move(k));
    }
};

}  // namespace detail
}  // namespace loom
