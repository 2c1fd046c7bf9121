# Consumer test driver, run by CTest as `cmake -DMODE=<mode> ... -P consumer_test.cmake`.
#
# MODE install          cmake --install the main build into a fresh PREFIX, check the layout
#                       and the version file's compatibility rules.
# MODE find_package     configure, build and run find_package/ against PREFIX.
# MODE add_subdirectory configure, build and run add_subdirectory/ on LOOM_SOURCE_DIR (with
#                       -DSEPARATE=ON: loom configured with LOOM_SEPARATE_COMPILATION=ON).
# MODE fetchcontent     configure, build and run fetchcontent/ on LOOM_SOURCE_DIR.
# MODE pkgconfig        compile main.cpp with `pkg-config --cflags --libs loom` from PREFIX, run.
#
# Other variables: WORK_DIR (scratch directory of this test, wiped first), LOOM_SOURCE_DIR,
# LOOM_BINARY_DIR, LOOM_VERSION, LOOM_INSTALL_CMAKEDIR, LOOM_INSTALL_PKGCONFIGDIR,
# CMAKE_GENERATOR, CMAKE_MAKE_PROGRAM, CMAKE_CXX_COMPILER, EXE_SUFFIX, PKG_CONFIG_EXECUTABLE.

cmake_minimum_required(VERSION 3.25)

set(consumers_dir "${CMAKE_CURRENT_LIST_DIR}")

function(require)
    foreach(var IN LISTS ARGN)
        if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
            message(FATAL_ERROR "consumer_test.cmake (MODE=${MODE}): -D${var}=... is required")
        endif()
    endforeach()
endfunction()

# Runs a command; on failure prints its output and stops the test.
function(run step)
    string(TIMESTAMP start "%s")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
    string(TIMESTAMP stop "%s")
    math(EXPR seconds "${stop} - ${start}")
    list(JOIN ARGN " " command_line)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "[${MODE}] ${step} FAILED (${result}) after ${seconds}s\n"
                            "Command: ${command_line}\n${out}")
    endif()
    message(STATUS "[${MODE}] ${step}: ok (${seconds}s)")
    set(run_output "${out}" PARENT_SCOPE)
endfunction()

function(require_file path)
    if(NOT EXISTS "${path}")
        message(FATAL_ERROR "[${MODE}] expected file is missing: ${path}")
    endif()
endfunction()

# Configures, builds and runs the consumer project in consumers/<project>.
function(build_and_run project)
    set(build_dir "${WORK_DIR}/build")
    set(configure "${CMAKE_COMMAND}" -S "${consumers_dir}/${project}" -B "${build_dir}"
        -G "${CMAKE_GENERATOR}"
        "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}"
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
        -DFETCHCONTENT_FULLY_DISCONNECTED=ON
        ${ARGN})
    if(CMAKE_MAKE_PROGRAM)
        list(APPEND configure "-DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}")
    endif()
    run("configure" ${configure})
    run("build" "${CMAKE_COMMAND}" --build "${build_dir}" --config Debug)
    run("run" "${build_dir}/bin/consumer${EXE_SUFFIX}")
    set(build_dir "${build_dir}" PARENT_SCOPE)
endfunction()

# A project that consumes loom as a subproject must get none of loom's install rules.
function(check_no_install_rules build_dir)
    set(prefix "${WORK_DIR}/install-check")
    file(REMOVE_RECURSE "${prefix}")
    run("install (must install nothing)"
        "${CMAKE_COMMAND}" --install "${build_dir}" --prefix "${prefix}" --config Debug)
    file(GLOB_RECURSE installed "${prefix}/*")
    if(installed)
        message(FATAL_ERROR "[${MODE}] loom installed files into a consumer's prefix: ${installed}")
    endif()
endfunction()

# The version file: SameMajorVersion, ARCH_INDEPENDENT.
function(check_version_file file)
    string(REPLACE "." ";" parts "${LOOM_VERSION}")
    list(GET parts 0 major)
    list(GET parts 1 minor)
    math(EXPR next_major "${major} + 1")
    math(EXPR next_minor "${minor} + 1")
    # requested version -> expected compatibility; 32-bit consumer: the file is arch-independent
    foreach(check "${LOOM_VERSION}=TRUE" "${major}.${minor}=TRUE" "${major}=TRUE"
                  "${major}.${next_minor}=FALSE" "${next_major}.0=FALSE")
        string(REPLACE "=" ";" check "${check}")
        list(GET check 0 requested)
        list(GET check 1 expected)
        set(PACKAGE_FIND_VERSION "${requested}")
        string(REPLACE "." ";" req_parts "${requested}")
        list(GET req_parts 0 PACKAGE_FIND_VERSION_MAJOR)
        set(CMAKE_SIZEOF_VOID_P 4)
        unset(PACKAGE_VERSION_COMPATIBLE)
        unset(PACKAGE_VERSION_UNSUITABLE)
        include("${file}")
        if(PACKAGE_VERSION_UNSUITABLE)
            message(FATAL_ERROR "[${MODE}] ${file} rejects a 32-bit consumer: not arch-independent")
        endif()
        if(expected AND NOT PACKAGE_VERSION_COMPATIBLE)
            message(FATAL_ERROR "[${MODE}] loom ${LOOM_VERSION} should satisfy find_package(loom ${requested})")
        elseif(NOT expected AND PACKAGE_VERSION_COMPATIBLE)
            message(FATAL_ERROR "[${MODE}] loom ${LOOM_VERSION} should NOT satisfy find_package(loom ${requested})")
        endif()
    endforeach()
    message(STATUS "[${MODE}] loomConfigVersion.cmake: SameMajorVersion, arch-independent: ok")
endfunction()

require(MODE WORK_DIR)
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

if(MODE STREQUAL "install")
    require(LOOM_BINARY_DIR PREFIX LOOM_VERSION LOOM_INSTALL_CMAKEDIR LOOM_INSTALL_PKGCONFIGDIR)
    file(REMOVE_RECURSE "${PREFIX}")
    run("cmake --install" "${CMAKE_COMMAND}" --install "${LOOM_BINARY_DIR}" --prefix "${PREFIX}"
        --config Debug)
    foreach(file include/loom/loom.hpp include/loom/version.hpp
                 ${LOOM_INSTALL_CMAKEDIR}/loomConfig.cmake
                 ${LOOM_INSTALL_CMAKEDIR}/loomConfigVersion.cmake
                 ${LOOM_INSTALL_CMAKEDIR}/loomTargets.cmake
                 ${LOOM_INSTALL_PKGCONFIGDIR}/loom.pc)
        require_file("${PREFIX}/${file}")
    endforeach()
    file(GLOB_RECURSE binaries "${PREFIX}/*.a" "${PREFIX}/*.so" "${PREFIX}/*.so.*"
                               "${PREFIX}/*.lib" "${PREFIX}/*.dll" "${PREFIX}/*.dylib")
    if(binaries)
        message(FATAL_ERROR "[${MODE}] a header-only library installed binaries: ${binaries}")
    endif()
    file(READ "${PREFIX}/${LOOM_INSTALL_CMAKEDIR}/loomConfig.cmake" config)
    foreach(dependency SQLite3 fmt)
        if(NOT config MATCHES "find_dependency\\(${dependency}[ )]")
            message(FATAL_ERROR "[${MODE}] loomConfig.cmake does not find_dependency(${dependency})")
        endif()
    endforeach()
    check_version_file("${PREFIX}/${LOOM_INSTALL_CMAKEDIR}/loomConfigVersion.cmake")

elseif(MODE STREQUAL "find_package")
    require(PREFIX LOOM_VERSION CMAKE_GENERATOR CMAKE_CXX_COMPILER)
    build_and_run(find_package
        "-DCMAKE_PREFIX_PATH=${PREFIX}"
        "-DLOOM_EXPECTED_PREFIX=${PREFIX}"
        "-DLOOM_EXPECTED_VERSION=${LOOM_VERSION}")

elseif(MODE STREQUAL "add_subdirectory" OR MODE STREQUAL "fetchcontent")
    require(LOOM_SOURCE_DIR CMAKE_GENERATOR CMAKE_CXX_COMPILER)
    if(SEPARATE)
        # loom::loom as a static library of loom's non-template code (LOOM_SEPARATE_COMPILATION)
        build_and_run(${MODE} "-DLOOM_SOURCE_DIR=${LOOM_SOURCE_DIR}"
            -DLOOM_SEPARATE_COMPILATION=ON)
        file(GLOB_RECURSE archives "${build_dir}/loom/*loom.a" "${build_dir}/loom/*loom.lib")
        if(NOT archives)
            message(FATAL_ERROR "[${MODE}] LOOM_SEPARATE_COMPILATION=ON built no loom library")
        endif()
        message(STATUS "[${MODE}] separately compiled: ${archives}")
    else()
        build_and_run(${MODE} "-DLOOM_SOURCE_DIR=${LOOM_SOURCE_DIR}")
    endif()
    check_no_install_rules("${build_dir}")

elseif(MODE STREQUAL "pkgconfig")
    require(PREFIX LOOM_VERSION LOOM_INSTALL_PKGCONFIGDIR CMAKE_CXX_COMPILER PKG_CONFIG_EXECUTABLE)
    # Only our prefix on the search path, in front of the system's (sqlite3.pc, fmt.pc).
    set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LOOM_INSTALL_PKGCONFIGDIR}")
    run("pkg-config --modversion" "${PKG_CONFIG_EXECUTABLE}" --modversion loom)
    string(STRIP "${run_output}" modversion)
    if(NOT modversion STREQUAL LOOM_VERSION)
        message(FATAL_ERROR "[${MODE}] pkg-config says loom ${modversion}, expected ${LOOM_VERSION}")
    endif()
    run("pkg-config --cflags --libs" "${PKG_CONFIG_EXECUTABLE}" --cflags --libs loom)
    string(STRIP "${run_output}" flags)
    message(STATUS "[${MODE}] pkg-config --cflags --libs loom: ${flags}")
    string(FIND "${flags}" "-I${PREFIX}/" include_flag)
    if(include_flag EQUAL -1)
        message(FATAL_ERROR "[${MODE}] loom.pc's Cflags do not point into ${PREFIX}: ${flags}")
    endif()
    separate_arguments(flags UNIX_COMMAND "${flags}")
    set(exe "${WORK_DIR}/consumer${EXE_SUFFIX}")
    run("compile" "${CMAKE_CXX_COMPILER}" -std=c++20 "${consumers_dir}/main.cpp" -o "${exe}"
        ${flags})
    run("run" "${exe}")

else()
    message(FATAL_ERROR "consumer_test.cmake: unknown MODE '${MODE}'")
endif()
