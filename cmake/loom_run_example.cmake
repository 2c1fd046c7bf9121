# Runs an example program in a fresh, empty working directory (CTest smoke test):
#   cmake -DPROGRAM=<exe> -DWORK_DIR=<dir> [-DPOSTGRES=1] -P loom_run_example.cmake
# Fails if the program exits non-zero; its output is shown either way. With POSTGRES, the
# program runs with LOOM_DATABASE_URL set to the server LOOM_TEST_PG_URL names; without that
# variable it prints the line the test's SKIP_REGULAR_EXPRESSION matches and does not run.

if(POSTGRES)
    if("$ENV{LOOM_TEST_PG_URL}" STREQUAL "")
        message(STATUS "LOOM_TEST_PG_URL is not set: skipped")
        return()
    endif()
    set(ENV{LOOM_DATABASE_URL} "$ENV{LOOM_TEST_PG_URL}")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${PROGRAM}" WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} exited with ${result}")
endif()
