# Checks ports/loom the way it can be checked without vcpkg: runs the portfile itself with
# small stand-ins for the vcpkg helpers it calls, then checks the installed tree has the layout
# vcpkg expects of a header-only port, and checks the two vcpkg.json manifests.
#
#   cmake -DPORTFILE=<ports/loom/portfile.cmake> -DWORK_DIR=<scratch dir>
#         -DCURRENT_PACKAGES_DIR=<prefix> -DLOOM_SOURCE_DIR=<loom> -DLOOM_VERSION=<x.y.z>
#         -DCMAKE_GENERATOR=<gen> -DCMAKE_CXX_COMPILER=<c++> [-DCMAKE_MAKE_PROGRAM=<prog>]
#         -P vcpkg_port_test.cmake
#
# The stand-ins do what vcpkg does for a release-only, header-only port on Linux; they are not
# vcpkg. What they cannot check (downloading the sources, the SHA512) is left to a real vcpkg.

cmake_minimum_required(VERSION 3.25)

foreach(var PORTFILE WORK_DIR CURRENT_PACKAGES_DIR LOOM_SOURCE_DIR LOOM_VERSION CMAKE_GENERATOR
            CMAKE_CXX_COMPILER)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "vcpkg_port_test.cmake: -D${var}=... is required")
    endif()
endforeach()

get_filename_component(port_dir "${PORTFILE}" DIRECTORY)
file(REMOVE_RECURSE "${WORK_DIR}" "${CURRENT_PACKAGES_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}" "${CURRENT_PACKAGES_DIR}")

function(fail)
    string(JOIN "" message ${ARGN})
    message(FATAL_ERROR "[vcpkg port] ${message}")
endfunction()

function(run step)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT result EQUAL 0)
        list(JOIN ARGN " " command_line)
        fail("${step} failed (${result})\nCommand: ${command_line}\n${out}")
    endif()
    message(STATUS "[vcpkg port] ${step}: ok")
endfunction()

# --- The manifests ---------------------------------------------------------------------------
function(check_manifest file)
    file(READ "${file}" json)
    string(JSON name ERROR_VARIABLE error GET "${json}" name)
    if(error OR NOT name STREQUAL "loom")
        fail("${file}: \"name\" must be \"loom\" (${name}${error})")
    endif()
    string(JSON version ERROR_VARIABLE error GET "${json}" version)
    if(error OR NOT version STREQUAL LOOM_VERSION)
        fail("${file}: \"version\" is '${version}', project() says ${LOOM_VERSION}")
    endif()
    string(JSON count LENGTH "${json}" dependencies)
    set(deps "")
    set(host_deps "")
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
        string(JSON type TYPE "${json}" dependencies ${i})
        if(type STREQUAL "STRING")
            string(JSON dep GET "${json}" dependencies ${i})
            list(APPEND deps "${dep}")
        else()
            string(JSON dep GET "${json}" dependencies ${i} name)
            string(JSON host ERROR_VARIABLE no_host GET "${json}" dependencies ${i} host)
            if(NOT no_host AND host)
                list(APPEND host_deps "${dep}")
            else()
                list(APPEND deps "${dep}")
            endif()
        endif()
    endforeach()
    foreach(dep sqlite3 fmt)
        if(NOT dep IN_LIST deps)
            fail("${file}: no dependency on ${dep}")
        endif()
    endforeach()
    foreach(dep IN LISTS ARGN)
        if(NOT dep IN_LIST host_deps)
            fail("${file}: ${dep} must be a host dependency ({\"name\": \"${dep}\", \"host\": true})")
        endif()
    endforeach()
    message(STATUS "[vcpkg port] ${file}: ok (dependencies: ${deps}; host: ${host_deps})")
endfunction()

check_manifest("${port_dir}/vcpkg.json" vcpkg-cmake vcpkg-cmake-config)
check_manifest("${LOOM_SOURCE_DIR}/vcpkg.json")

# --- Stand-ins for the vcpkg helpers the portfile calls ----------------------------------------
set(PORT loom)
set(VERSION "${LOOM_VERSION}")
set(TARGET_TRIPLET x64-linux)
set(CURRENT_BUILDTREES_DIR "${WORK_DIR}/buildtrees/${PORT}")
set(VCPKG_TARGET_IS_LINUX ON)
set(stand_in_build_dir "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel")

function(vcpkg_from_github)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUT_SOURCE_PATH;REPO;REF;SHA512;HEAD_REF" "PATCHES")
    foreach(required OUT_SOURCE_PATH REPO REF SHA512)
        if(NOT DEFINED arg_${required})
            fail("vcpkg_from_github() needs ${required}")
        endif()
    endforeach()
    # Instead of downloading ${arg_REPO}@${arg_REF}: the local source tree.
    set(${arg_OUT_SOURCE_PATH} "${LOOM_SOURCE_DIR}" PARENT_SCOPE)
endfunction()

function(vcpkg_cmake_configure)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS;OPTIONS_RELEASE;OPTIONS_DEBUG")
    if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
        fail("a header-only port should set(VCPKG_BUILD_TYPE release)")
    endif()
    set(configure "${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${stand_in_build_dir}"
        -G "${CMAKE_GENERATOR}"
        "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}"
        -DCMAKE_BUILD_TYPE=Release
        "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}"
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
        -DFETCHCONTENT_FULLY_DISCONNECTED=ON
        ${arg_OPTIONS} ${arg_OPTIONS_RELEASE})
    if(CMAKE_MAKE_PROGRAM)
        list(APPEND configure "-DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}")
    endif()
    run("vcpkg_cmake_configure" ${configure})
    # Tests, examples, benchmarks... all off: nothing to compile, no Catch2 needed.
    file(STRINGS "${stand_in_build_dir}/CMakeCache.txt" cache REGEX "^LOOM_BUILD_[A-Z_]+:")
    foreach(line IN LISTS cache)
        if(NOT line MATCHES "=(OFF|0|FALSE|NO)$")
            fail("the portfile must turn every LOOM_BUILD_* option off: ${line}")
        endif()
    endforeach()
endfunction()

function(vcpkg_cmake_install)
    run("vcpkg_cmake_install" "${CMAKE_COMMAND}" --build "${stand_in_build_dir}" --target install)
endfunction()

function(vcpkg_cmake_config_fixup)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "PACKAGE_NAME;CONFIG_PATH" "")
    if(NOT arg_PACKAGE_NAME)
        set(arg_PACKAGE_NAME "${PORT}")
    endif()
    if(NOT arg_CONFIG_PATH)
        set(arg_CONFIG_PATH "share/${arg_PACKAGE_NAME}")
    endif()
    # The real helper moves CONFIG_PATH to share/<name> and rewrites the relative paths; the
    # portfile installs there directly, which this stand-in requires.
    if(NOT arg_CONFIG_PATH STREQUAL "share/${arg_PACKAGE_NAME}")
        fail("the stand-in vcpkg_cmake_config_fixup only checks an in-place layout, "
             "CONFIG_PATH share/${arg_PACKAGE_NAME} (got ${arg_CONFIG_PATH})")
    endif()
    file(GLOB config_files "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}/*.cmake")
    if(NOT config_files)
        fail("vcpkg_cmake_config_fixup: no CMake files in ${arg_CONFIG_PATH}")
    endif()
    foreach(file IN LISTS config_files)
        file(READ "${file}" text)
        string(FIND "${text}" "${CURRENT_PACKAGES_DIR}" absolute)
        if(NOT absolute EQUAL -1)
            fail("${file} contains the absolute install path: not relocatable")
        endif()
    endforeach()
    message(STATUS "[vcpkg port] vcpkg_cmake_config_fixup: ${arg_CONFIG_PATH} is relocatable")
endfunction()

function(vcpkg_fixup_pkgconfig)
    file(GLOB_RECURSE pc_files "${CURRENT_PACKAGES_DIR}/*.pc")
    foreach(file IN LISTS pc_files)
        file(READ "${file}" text)
        string(FIND "${text}" "${CURRENT_PACKAGES_DIR}" absolute)
        if(NOT absolute EQUAL -1)
            fail("${file} contains the absolute install path")
        endif()
    endforeach()
    message(STATUS "[vcpkg port] vcpkg_fixup_pkgconfig: ${pc_files}")
endfunction()

function(vcpkg_install_copyright)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
    set(text "")
    foreach(file IN LISTS arg_FILE_LIST)
        file(READ "${file}" content)
        string(APPEND text "${content}")
    endforeach()
    file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()

# --- Run the portfile ------------------------------------------------------------------------
# include() sets CMAKE_CURRENT_LIST_DIR to ports/loom, as vcpkg does for a portfile.
include("${PORTFILE}")

# --- The layout vcpkg expects of a header-only port --------------------------------------------
set(p "${CURRENT_PACKAGES_DIR}")
foreach(file include/loom/loom.hpp include/loom/version.hpp
             share/loom/loomConfig.cmake share/loom/loomConfigVersion.cmake
             share/loom/loomTargets.cmake share/loom/copyright share/loom/usage)
    if(NOT EXISTS "${p}/${file}")
        fail("missing ${file}")
    endif()
endforeach()
foreach(dir lib bin debug)
    if(EXISTS "${p}/${dir}")
        fail("${dir}/ must not be installed by a header-only port")
    endif()
endforeach()
file(GLOB top_level RELATIVE "${p}" "${p}/*")
list(SORT top_level)
if(NOT top_level STREQUAL "include;share")
    fail("the package should hold include/ and share/ only, not: ${top_level}")
endif()
file(READ "${p}/share/loom/usage" usage)
foreach(expected "find_package(loom CONFIG REQUIRED)" "loom::loom")
    string(FIND "${usage}" "${expected}" found)
    if(found EQUAL -1)
        fail("share/loom/usage does not show ${expected}")
    endif()
endforeach()
file(READ "${p}/share/loom/copyright" copyright)
if(NOT copyright MATCHES "MIT License")
    fail("share/loom/copyright is not loom's LICENSE")
endif()
message(STATUS "[vcpkg port] layout of ${p}: ok")
