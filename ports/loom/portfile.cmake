# vcpkg port of loom, a header-only C++20 ORM over SQLite.
#
# Use from a checkout as an overlay port:
#     vcpkg install loom --overlay-ports=<loom>/ports
# REPO/REF/SHA512 below are placeholders until loom is published: set REPO to loom's GitHub
# repository; on the first install vcpkg reports the archive's real SHA512 to paste here.

# Header-only: a single (release) configuration, nothing to build.
set(VCPKG_BUILD_TYPE release)

vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO loom-authors/loom
    REF "v${VERSION}"
    SHA512 0
    HEAD_REF main
)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DLOOM_BUILD_TESTS=OFF
        -DLOOM_BUILD_EXAMPLES=OFF
        -DLOOM_BUILD_BENCHMARKS=OFF
        -DLOOM_BUILD_DOC_TESTS=OFF
        -DLOOM_INSTALL=ON
        -DLOOM_INSTALL_CMAKEDIR=share/loom
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME loom CONFIG_PATH share/loom)
vcpkg_fixup_pkgconfig()

# A header-only library leaves no binaries: drop the empty leftovers.
file(REMOVE_RECURSE
    "${CURRENT_PACKAGES_DIR}/debug"
    "${CURRENT_PACKAGES_DIR}/lib"
)

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
