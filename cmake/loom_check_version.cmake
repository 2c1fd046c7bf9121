# Checks that include/loom/version.hpp and the vcpkg manifests carry the version of project().
#
# Used two ways:
#   include() from the top-level CMakeLists.txt at configure time, and
#   cmake -DLOOM_VERSION_HEADER=<version.hpp> -DLOOM_EXPECTED_VERSION=<x.y.z>
#         [-DLOOM_VCPKG_MANIFESTS=<a.json;b.json>] -P loom_check_version.cmake   (a CTest test)

if(NOT DEFINED LOOM_VERSION_HEADER OR NOT DEFINED LOOM_EXPECTED_VERSION)
    message(FATAL_ERROR "loom_check_version: set LOOM_VERSION_HEADER and LOOM_EXPECTED_VERSION")
endif()

file(READ "${LOOM_VERSION_HEADER}" _loom_header)
foreach(_part MAJOR MINOR PATCH)
    if(NOT _loom_header MATCHES "#define[ \t]+LOOM_VERSION_${_part}[ \t]+([0-9]+)")
        message(FATAL_ERROR "${LOOM_VERSION_HEADER}: no '#define LOOM_VERSION_${_part} <n>'")
    endif()
    set(_loom_${_part} "${CMAKE_MATCH_1}")
endforeach()
if(NOT _loom_header MATCHES "#define[ \t]+LOOM_VERSION_STRING[ \t]+\"([^\"]*)\"")
    message(FATAL_ERROR "${LOOM_VERSION_HEADER}: no '#define LOOM_VERSION_STRING \"x.y.z\"'")
endif()
set(_loom_string "${CMAKE_MATCH_1}")

set(_loom_numeric "${_loom_MAJOR}.${_loom_MINOR}.${_loom_PATCH}")
if(NOT _loom_numeric STREQUAL LOOM_EXPECTED_VERSION
   OR NOT _loom_string STREQUAL LOOM_EXPECTED_VERSION)
    message(FATAL_ERROR
        "Version mismatch: project(loom VERSION ${LOOM_EXPECTED_VERSION}) but "
        "${LOOM_VERSION_HEADER} says ${_loom_numeric} (LOOM_VERSION_STRING \"${_loom_string}\"). "
        "Update both together (and ports/loom/vcpkg.json, vcpkg.json, CHANGELOG.md).")
endif()

foreach(_manifest IN LISTS LOOM_VCPKG_MANIFESTS)
    file(READ "${_manifest}" _loom_json)
    string(JSON _loom_json_version ERROR_VARIABLE _loom_json_error GET "${_loom_json}" "version")
    if(_loom_json_error)
        message(FATAL_ERROR "${_manifest}: no \"version\" field (${_loom_json_error})")
    endif()
    if(NOT _loom_json_version STREQUAL LOOM_EXPECTED_VERSION)
        message(FATAL_ERROR "Version mismatch: project() says ${LOOM_EXPECTED_VERSION} but "
                            "${_manifest} says ${_loom_json_version}")
    endif()
endforeach()

if(CMAKE_SCRIPT_MODE_FILE)
    message(STATUS "loom version ${LOOM_EXPECTED_VERSION}: version.hpp and manifests agree")
endif()
