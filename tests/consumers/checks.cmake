# Checks shared by the consumer projects: what a consumer must (not) get from loom.

# add_subdirectory / FetchContent: loom must bring the loom::loom target and nothing else - no
# tests, examples or benchmarks, no install rules (loom is not the top-level project here).
function(loom_consumer_check_subproject loom_source_dir)
    get_cmake_property(variables VARIABLES)
    list(FILTER variables INCLUDE REGEX "^LOOM_(BUILD_[A-Z_]+|INSTALL)$")
    foreach(option IN LISTS variables)
        if(${option})
            message(FATAL_ERROR "${option} is ON in a project that only consumes loom")
        endif()
    endforeach()
    get_directory_property(subdirs DIRECTORY "${loom_source_dir}" SUBDIRECTORIES)
    if(subdirs)
        message(FATAL_ERROR "loom added subdirectories to a consumer's build: ${subdirs}")
    endif()
    get_directory_property(targets DIRECTORY "${loom_source_dir}" BUILDSYSTEM_TARGETS)
    # loom_postgres (loom::postgres) exists when libpq is found: the opt-in PostgreSQL engine.
    list(REMOVE_ITEM targets loom_postgres)
    if(NOT targets STREQUAL "loom")
        message(FATAL_ERROR "loom defined targets other than 'loom': ${targets}")
    endif()
endfunction()

function(loom_consumer_check_target)
    if(NOT TARGET loom::loom)
        message(FATAL_ERROR "loom::loom is not defined")
    endif()
endfunction()
