# Separate-compilation check, run by CTest as
#   cmake -DCOMPILER=<c++> -DNM=<nm> -DFLAGS_FILE=<flags.txt> -DWORK_DIR=<dir> -DSOURCE=<tu.cpp>
#         "-DPATTERNS=<regex;...>" -P loom_check_separate_compilation.cmake
#
# With LOOM_SEPARATE_COMPILATION a user's translation unit must not compile loom's non-template
# code: that is compiled once, in <loom/src.hpp>'s TU (detail/config.hpp). This compiles SOURCE
# (a program that uses loom: a query with prefetches, writes, a profile) in that mode and reads
# its symbols. For each PATTERN (a regular expression over demangled names, one class's or one
# header's non-template functions):
#   - no symbol matching it may be defined in the object file (a header that compiles its code
#     again in every TU: its impl/ file included without the guard, a body left in a class);
#   - at least one must be referenced, undefined (so the pattern names code the TU really uses,
#     and the check cannot pass by matching nothing).
# Templates are compiled in the TU by design; the patterns name non-template functions only, and
# the members of the standard containers of loom's types that LOOM_EXTERN_TEMPLATE names.
#
# With -DHEADER_ONLY_EMPTY=ON instead of PATTERNS: SOURCE (a file that only includes headers) is
# compiled header-only and must define no function, vtable or type_info at all. An inline
# function is compiled only where it is used, unless a vtable needs it: a virtual function
# declared in its class without `inline` and defined inline elsewhere (impl/) makes it the
# class's key function, and every TU that sees the definition then emits the vtable and every
# function it names. Declare such virtual functions LOOM_DECL in the class.

set(required COMPILER NM FLAGS_FILE WORK_DIR SOURCE)
if(NOT HEADER_ONLY_EMPTY)
    list(APPEND required PATTERNS)
endif()
foreach(var IN LISTS required)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "loom_check_separate_compilation: -D${var}=... is required")
    endif()
endforeach()
file(STRINGS "${FLAGS_FILE}" flags)
list(REMOVE_DUPLICATES flags)
file(MAKE_DIRECTORY "${WORK_DIR}")

if(HEADER_ONLY_EMPTY)
    list(REMOVE_ITEM flags -DLOOM_SEPARATE_COMPILATION)
    execute_process(
        COMMAND "${COMPILER}" -std=c++20 ${flags} -O0 -c "${SOURCE}" -o "${WORK_DIR}/empty.o"
        RESULT_VARIABLE result ERROR_VARIABLE errors)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "compiling ${SOURCE} failed:\n${errors}")
    endif()
    execute_process(COMMAND "${NM}" -C --defined-only "${WORK_DIR}/empty.o"
        RESULT_VARIABLE result OUTPUT_VARIABLE defined ERROR_VARIABLE errors)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "${NM} failed:\n${errors}")
    endif()
    # Names may hold ';' and '[' (abi tags), which CMake lists mangle: count and collect text.
    string(REPLACE ";" "," defined "${defined}")
    string(REGEX MATCHALL "[^\n]+" lines "${defined}")
    set(count 0)
    set(names "")
    foreach(line IN LISTS lines)
        if(line MATCHES "^[0-9a-f]* *[TtWwVv] (.+)$")
            set(name "${CMAKE_MATCH_1}")
            if(NOT name MATCHES "^DW\\.ref\\.")
                math(EXPR count "${count} + 1")
                if(count LESS_EQUAL 20)
                    string(APPEND names "\n      ${name}")
                endif()
            endif()
        endif()
    endforeach()
    if(count GREATER 0)
        message(FATAL_ERROR "${SOURCE}, header-only, defines ${count} symbols, the first:"
            "${names}\nA header emits code in every TU that includes it (see the top of "
            "this file: a virtual function defined in impl/ must be declared LOOM_DECL).")
    endif()
    message(STATUS "${SOURCE}, header-only: defines nothing: ok")
    return()
endif()

set(object "${WORK_DIR}/tu.o")
execute_process(
    COMMAND "${COMPILER}" -std=c++20 ${flags} -DLOOM_SEPARATE_COMPILATION -O0 -c "${SOURCE}"
            -o "${object}"
    RESULT_VARIABLE result
    ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "compiling ${SOURCE} with -DLOOM_SEPARATE_COMPILATION failed:\n${errors}")
endif()

# "<type letter> <demangled name>" per symbol: defined ones, then undefined ones.
execute_process(COMMAND "${NM}" -C --defined-only --format=posix "${object}"
    RESULT_VARIABLE result OUTPUT_VARIABLE defined ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${object}:\n${errors}")
endif()
execute_process(COMMAND "${NM}" -C --undefined-only --format=posix "${object}"
    RESULT_VARIABLE result OUTPUT_VARIABLE undefined ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${object}:\n${errors}")
endif()
string(REPLACE ";" "\\;" defined "${defined}")
string(REPLACE ";" "\\;" undefined "${undefined}")
string(REGEX MATCHALL "[^\n]+" defined_lines "${defined}")
string(REGEX MATCHALL "[^\n]+" undefined_lines "${undefined}")

set(failures "")
foreach(pattern IN LISTS PATTERNS)
    set(compiled_here "")
    foreach(line IN LISTS defined_lines)
        # posix format: "<name> <type> [<value> <size>]"; the name may contain spaces.
        if(line MATCHES "^(.+) [TtWw]( [0-9a-f]+ [0-9a-f]+)?$")
            set(name "${CMAKE_MATCH_1}")
            if(name MATCHES "${pattern}")
                list(APPEND compiled_here "${name}")
            endif()
        endif()
    endforeach()
    set(referenced 0)
    foreach(line IN LISTS undefined_lines)
        if(line MATCHES "^(.+) [Uw]")
            if(CMAKE_MATCH_1 MATCHES "${pattern}")
                set(referenced 1)
                break()
            endif()
        endif()
    endforeach()
    if(compiled_here)
        list(JOIN compiled_here "\n      " names)
        string(APPEND failures "  /${pattern}/ is compiled in the user's TU:\n      ${names}\n")
    elseif(NOT referenced)
        string(APPEND failures "  /${pattern}/ matches no function the TU calls: a stale pattern\n")
    else()
        message(STATUS "/${pattern}/: referenced, compiled elsewhere: ok")
    endif()
endforeach()
if(failures)
    message(FATAL_ERROR "with LOOM_SEPARATE_COMPILATION, ${SOURCE}:\n${failures}"
        "Non-template code belongs in an impl/ file (include/loom/detail/config.hpp).")
endif()
