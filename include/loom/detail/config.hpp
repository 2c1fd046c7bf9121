// How loom's non-template code is compiled: in every translation unit that includes it (the
// default, header-only), or once, in a library (LOOM_SEPARATE_COMPILATION; docs/performance.md,
// "Separate compilation").
//
// A header whose non-template functions are compiled once declares them in the header and
// defines them in impl/<name>.hpp beside it, each definition marked LOOM_DECL. The header ends
// with
//
//     #if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
//     #include "impl/<name>.hpp"
//     #endif
//
// so a header-only build sees the definitions as inline functions, as before, and a separately
// compiled program sees only their declarations, except in the one translation unit that
// includes <loom/src.hpp> (which defines LOOM_SOURCE): that one compiles them, once.
//
// Templates and the small functions a row loop calls stay in the headers in both modes: they
// must be inlined where they are used. A virtual function defined in impl/ is declared LOOM_DECL
// in its class as well: declared there without `inline`, it would become the class's key
// function, and every header-only translation unit would emit the vtable and every function it
// names (CTest loom_hpp_defines_nothing).
//
// The standard containers of loom's own types (std::vector<Token>, std::vector<ColumnInfo>...)
// are compiled once as well: after the type's definition, at global scope (an explicit
// instantiation must be in a namespace that encloses std), its header names them with
// LOOM_EXTERN_TEMPLATE:
//
//     LOOM_EXTERN_TEMPLATE(class std::vector<loom::detail::Token>);
//
// an explicit instantiation declaration (`extern template`) in a separately compiled user TU,
// which then calls the container's member functions instead of compiling them; their explicit
// instantiation definition (`template`) in <loom/src.hpp>'s TU; nothing header-only. Member
// templates (emplace_back...) are still compiled where they are used. The standard lets a program
// explicitly instantiate a standard library template only for an argument that depends on a
// type of its own ([namespace.std]): never std::vector<std::string>, std::vector<long> or
// std::vector<loom::Value> (a std::variant of standard types). A move-only element type cannot
// have the whole std::vector instantiated (its copy constructor): name the members loom calls
// instead (std::unique_ptr itself is fine: its copy constructor is deleted). CTest
// separate_compilation_keeps_code_out checks that they stay out of a user's TU.
#pragma once

#if defined(LOOM_SEPARATE_COMPILATION)
#define LOOM_DECL
#else
#define LOOM_DECL inline
#endif

#if !defined(LOOM_SEPARATE_COMPILATION)
#define LOOM_EXTERN_TEMPLATE(...) static_assert(true)
#elif defined(LOOM_SOURCE)
#define LOOM_EXTERN_TEMPLATE(...) template __VA_ARGS__
#else
#define LOOM_EXTERN_TEMPLATE(...) extern template __VA_ARGS__
#endif

// LOOM_OUT_OF_LINE_VALUE(T), in the class T: declares T's copy and move constructors and
// assignments and its destructor, to be defined (defaulted) in an impl/ file by
// LOOM_DEFAULT_VALUE(T). A value type that every query builder copies (a SQL token...) is then
// copied and destroyed by code compiled once, not in every TU that copies it.
#define LOOM_OUT_OF_LINE_VALUE(T)         \
    LOOM_DECL T(const T&);                \
    LOOM_DECL T(T&&) noexcept;            \
    LOOM_DECL T& operator=(const T&);     \
    LOOM_DECL T& operator=(T&&) noexcept; \
    LOOM_DECL ~T()
#define LOOM_DEFAULT_VALUE(T)                          \
    LOOM_DECL T::T(const T&) = default;                \
    LOOM_DECL T::T(T&&) noexcept = default;            \
    LOOM_DECL T& T::operator=(const T&) = default;     \
    LOOM_DECL T& T::operator=(T&&) noexcept = default; \
    LOOM_DECL T::~T() = default

// LOOM_EXTERN_MOVE_ONLY_VECTOR(T): LOOM_EXTERN_TEMPLATE for the members of std::vector<T> that
// loom calls, for a move-only T (naming the whole std::vector<T> would instantiate its copy
// constructor, which does not compile for such a T).
#define LOOM_EXTERN_MOVE_ONLY_VECTOR(T)                                            \
    LOOM_EXTERN_TEMPLATE(std::vector<T>::vector::~vector());                       \
    LOOM_EXTERN_TEMPLATE(void std::vector<T>::push_back(T&&));                     \
    LOOM_EXTERN_TEMPLATE(std::vector<T>::size_type std::vector<T>::size() const);  \
    LOOM_EXTERN_TEMPLATE(void std::vector<T>::reserve(std::vector<T>::size_type)); \
    LOOM_EXTERN_TEMPLATE(std::vector<T>::iterator std::vector<T>::begin());        \
    LOOM_EXTERN_TEMPLATE(std::vector<T>::iterator std::vector<T>::end());          \
    LOOM_EXTERN_TEMPLATE(std::vector<T>::reference std::vector<T>::back());        \
    LOOM_EXTERN_TEMPLATE(                                                          \
        std::vector<T>::reference std::vector<T>::operator[](std::vector<T>::size_type))
