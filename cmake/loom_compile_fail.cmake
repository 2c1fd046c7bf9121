# Compile-fail test driver, run by CTest as
#   cmake -DCOMPILER=<c++> -DSOURCE=<file.cpp> -DFLAGS_FILE=<flags.txt> -DOUTPUT=<file.o>
#         [-DIMPLICIT_INCLUDE_DIRS=<dirs>] -P loom_compile_fail.cmake
#
# SOURCE must contain a line "// expect-error: <substring>". The test passes only when
# compiling SOURCE (as C++20, with loom's include directories and definitions, one flag per
# line in FLAGS_FILE) FAILS and the compiler's output contains <substring>.

foreach(var COMPILER SOURCE FLAGS_FILE OUTPUT)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "loom_compile_fail: -D${var}=... is required")
    endif()
endforeach()

file(STRINGS "${SOURCE}" expect_lines REGEX "//[ \t]*expect-error:")
list(LENGTH expect_lines count)
if(NOT count EQUAL 1)
    message(FATAL_ERROR
        "${SOURCE}: needs exactly one line '// expect-error: <substring>' (found ${count})")
endif()
string(REGEX REPLACE "^.*//[ \t]*expect-error:[ \t]*" "" expected "${expect_lines}")
string(STRIP "${expected}" expected)
if(expected STREQUAL "")
    message(FATAL_ERROR "${SOURCE}: the expect-error line names no substring")
endif()

file(STRINGS "${FLAGS_FILE}" flags)
# The compiler searches its own directories anyway; naming them with -I can reorder them.
foreach(dir IN LISTS IMPLICIT_INCLUDE_DIRS)
    list(REMOVE_ITEM flags "-I${dir}")
endforeach()
list(REMOVE_DUPLICATES flags)
get_filename_component(output_dir "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${output_dir}")
file(REMOVE "${OUTPUT}")

# -fsyntax-only: the errors these tests expect come from name lookup, overload resolution and
# static_asserts in instantiated templates, all of which -fsyntax-only performs; it skips
# code generation, which the tests never needed.
set(command "${COMPILER}" -std=c++20 ${flags} -fsyntax-only "${SOURCE}")
# LC_ALL=C: plain ASCII quotes in GCC's messages, whatever the user's locale.
execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env LC_ALL=C ${command}
    RESULT_VARIABLE result
    OUTPUT_VARIABLE out
    ERROR_VARIABLE out)
file(REMOVE "${OUTPUT}")

list(JOIN command " " command_line)
if(result EQUAL 0)
    message(FATAL_ERROR
        "${SOURCE} compiled, but it must not (expected an error containing \"${expected}\").\n"
        "Command: ${command_line}\n${out}")
endif()

# Compare without regard to the compiler's quoting style and line wrapping.
string(REGEX REPLACE "[ \t\r\n]+" " " flat_out "${out}")
string(FIND "${flat_out}" "${expected}" position)
if(position EQUAL -1)
    message(FATAL_ERROR
        "${SOURCE} failed to compile, but not with the expected error.\n"
        "Expected a message containing: ${expected}\n"
        "Command: ${command_line}\nCompiler output:\n${out}")
endif()

message(STATUS "${SOURCE}: fails to compile as expected (\"${expected}\")")
