# Runs an example program in a fresh, empty working directory (CTest smoke test):
#   cmake -DPROGRAM=<exe> -DWORK_DIR=<dir> -P loom_run_example.cmake
# Fails if the program exits non-zero; its output is shown either way.

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${PROGRAM}" WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} exited with ${result}")
endif()
