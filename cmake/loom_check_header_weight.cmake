# Header-weight check for <loom/loom.hpp>, run by CTest as
#   cmake -DCOMPILER=<c++> -DFLAGS_FILE=<flags.txt> -DWORK_DIR=<dir> -DLINE_BUDGET=<n>
#         [-DIMPLICIT_INCLUDE_DIRS=<dirs>] -P loom_check_header_weight.cmake
#
# What including loom costs is measured by scripts/compile_time.sh (docs/performance.md,
# "Compile time"); a timed assertion would only measure the machine. This check guards the
# two causes of past regressions instead, with figures that do not depend on the machine:
#   1. No heavy standard or third-party header behind <loom/loom.hpp>: the whole of <chrono>
#      (calendars, time zones, <sstream>), <thread>, <algorithm>/<ranges> (every std::ranges
#      algorithm), the iostreams beyond <ostream>, <filesystem>, <regex>, {fmt}, libpq,
#      nlohmann/json. loom takes what it needs of the first three from detail/std_light.hpp;
#      the others belong to the opt-in headers (log.hpp, format.hpp, profile.hpp,
#      postgres.hpp, json.hpp). Checked with libstdc++ only (std_light.hpp's light path).
#   2. The lines the compiler parses (after preprocessing, without blank lines and line
#      markers) stay within LINE_BUDGET, checked with libstdc++ 12 (Debian 12's), where the
#      budget was measured. Raising the budget is a decision: record the new figure and why in
#      docs/performance.md.

foreach(var COMPILER FLAGS_FILE WORK_DIR LINE_BUDGET)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "loom_check_header_weight: -D${var}=... is required")
    endif()
endforeach()

file(STRINGS "${FLAGS_FILE}" flags)
foreach(dir IN LISTS IMPLICIT_INCLUDE_DIRS)
    list(REMOVE_ITEM flags "-I${dir}")
endforeach()
list(REMOVE_DUPLICATES flags)
file(MAKE_DIRECTORY "${WORK_DIR}")
set(source "${WORK_DIR}/loom_hpp_only.cpp")
file(WRITE "${source}" "#include <loom/loom.hpp>\n")

# -E with -H: the preprocessed text on stdout, one line per included header on stderr
# ("." repeated by depth, a space, the path), with GCC and Clang alike.
execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env LC_ALL=C "${COMPILER}" -std=c++20 ${flags} -E -H "${source}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE text
    ERROR_VARIABLE tree)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "preprocessing <loom/loom.hpp> failed:\n${tree}")
endif()

string(REGEX MATCHALL "[^\n]+" tree_lines "${tree}")
set(headers "")
foreach(line IN LISTS tree_lines)
    if(line MATCHES "^\\.+ (.+)$")
        list(APPEND headers "${CMAKE_MATCH_1}")
    endif()
endforeach()
list(REMOVE_DUPLICATES headers)
list(LENGTH headers header_count)

set(libstdcxx_major "")
foreach(header IN LISTS headers)
    if(header MATCHES "/c\\+\\+/([0-9]+)/bits/")
        set(libstdcxx_major "${CMAKE_MATCH_1}")
        break()
    endif()
endforeach()

# Lines parsed: drop line markers and blank lines.
string(REGEX REPLACE "\n#[^\n]*" "" text "\n${text}")
string(REGEX REPLACE "\n[ \t\r]*(\n[ \t\r]*)*" "\n" text "${text}")
string(REGEX MATCHALL "\n" newlines "${text}")
list(LENGTH newlines line_count)

message(STATUS "<loom/loom.hpp>: ${header_count} headers, ${line_count} lines after "
               "preprocessing (budget ${LINE_BUDGET} with libstdc++ 12)")

if(libstdcxx_major STREQUAL "")
    message(STATUS "not libstdc++: only the line count is printed")
    return()
endif()

set(forbidden "")
foreach(header IN LISTS headers)
    # The standard headers by their last path component, the third-party ones by directory.
    get_filename_component(name "${header}" NAME)
    if(header MATCHES "/c\\+\\+/[0-9]+/[a-z_]+$"
       AND name MATCHES "^(chrono|thread|algorithm|ranges|sstream|istream|iostream|fstream|filesystem|regex|format|locale|iomanip)$")
        list(APPEND forbidden "${header}")
    elseif(header MATCHES "/(fmt|nlohmann)/[^/]+$" OR name STREQUAL "libpq-fe.h")
        list(APPEND forbidden "${header}")
    endif()
endforeach()
if(forbidden)
    list(JOIN forbidden "\n  " forbidden_text)
    message(FATAL_ERROR
        "<loom/loom.hpp> includes heavy headers it must not parse in every TU:\n"
        "  ${forbidden_text}\n"
        "Include detail/std_light.hpp for <chrono>, <thread> and <algorithm>; put the rest "
        "behind an opt-in header. Which loom header brought it in: run\n"
        "  ${COMPILER} -std=c++20 -Iinclude -H -fsyntax-only ${source}")
endif()

if(libstdcxx_major STREQUAL "12" AND line_count GREATER LINE_BUDGET)
    message(FATAL_ERROR
        "<loom/loom.hpp> parses ${line_count} lines after preprocessing, over its budget of "
        "${LINE_BUDGET} (tests/CMakeLists.txt, LOOM_HEADER_LINE_BUDGET). Every TU that "
        "includes loom pays for them. Find what grew with\n"
        "  ${COMPILER} -std=c++20 -Iinclude -H -fsyntax-only ${source}\n"
        "and either make it lighter or raise the budget, recording the new figure in "
        "docs/performance.md (\"Compile time\").")
endif()
