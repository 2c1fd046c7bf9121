# tests/docs/extract_snippets.cmake - turns the ```cpp blocks of one Markdown page into C++
# sources (the convention is in tests/docs/README.md). Included by tests/docs/CMakeLists.txt and
# run at configure time; the pages are configure dependencies, so editing one re-runs it.
#
#   loom_docs_extract(<page.md> <out_dir> <id>
#                     <out_page_tu> <out_programs> <out_runnable_programs>)
#
# Writes <out_dir>/<id>.cpp (every `fragment` and `decl` block of the page, in one translation
# unit after tests/docs/prelude.hpp, with a main() that runs the fragments) unless the page has
# none, and <out_dir>/<id>_L<line>.cpp for each whole-program block. Files are rewritten only
# when their content changes, so reconfiguring does not rebuild anything.
#
# The block text is never split into a CMake list (C++ is full of ';' and '['): it is cut out
# of the page with string(FIND)/string(SUBSTRING) and written back quoted.

function(_loom_docs_write path content)
    set(tmp "${path}.tmp")
    file(WRITE "${tmp}" "${content}")
    configure_file("${tmp}" "${path}" COPYONLY)
    file(REMOVE "${tmp}")
endfunction()

function(loom_docs_extract page out_dir id
         out_page_tu out_programs out_runnable)
    file(READ "${page}" text)
    # A leading newline lets every fence be found as "\n```cpp"; the N-th "\n" then starts line N.
    set(text "\n${text}")
    file(RELATIVE_PATH rel "${PROJECT_SOURCE_DIR}" "${page}")

    set(includes "")
    set(decls "")
    set(fragments "")
    set(calls "")
    set(programs "")
    set(runnable "")
    set(pos 0)
    while(TRUE)
        string(SUBSTRING "${text}" ${pos} -1 rest)
        string(FIND "${rest}" "\n```cpp" found)
        if(found EQUAL -1)
            break()
        endif()
        math(EXPR fence "${pos} + ${found} + 1")          # at the backticks
        string(SUBSTRING "${text}" ${fence} -1 rest)
        string(FIND "${rest}" "\n" eol)
        if(eol EQUAL -1)
            message(FATAL_ERROR "${rel}: a ```cpp fence with no block after it")
        endif()
        math(EXPR info_len "${eol} - 3")
        string(SUBSTRING "${rest}" 3 ${info_len} info)   # "cpp fragment norun ..."
        math(EXPR body_start "${fence} + ${eol} + 1")
        string(SUBSTRING "${text}" ${body_start} -1 rest)
        # The closing fence: a line that starts with ``` (the body may be empty).
        if(rest MATCHES "^```")
            set(close 0)
            set(body "")
        else()
            string(FIND "${rest}" "\n```" close)
            if(close EQUAL -1)
                message(FATAL_ERROR "${rel}: a ```cpp block is never closed")
            endif()
            string(SUBSTRING "${rest}" 0 ${close} body)
            math(EXPR close "${close} + 1")
        endif()
        math(EXPR pos "${body_start} + ${close} + 3")

        # Line number of the block's first line in the page.
        string(SUBSTRING "${text}" 0 ${body_start} before)
        string(REGEX REPLACE "[^\n]" "" newlines "${before}")
        string(LENGTH "${newlines}" line)

        # The info string: cpp [fragment|decl] [norun] [throws]
        string(STRIP "${info}" info)
        string(REGEX REPLACE "[ \t]+" ";" words "${info}")
        list(GET words 0 lang)
        if(NOT lang STREQUAL "cpp")
            continue()                                   # ```cpp-something: not ours
        endif()
        list(REMOVE_AT words 0)
        set(kind program)
        set(run TRUE)
        set(throws FALSE)
        foreach(w IN LISTS words)
            if(w STREQUAL "fragment" OR w STREQUAL "decl")
                set(kind ${w})
            elseif(w STREQUAL "norun")
                set(run FALSE)
            elseif(w STREQUAL "throws")
                set(throws TRUE)
            else()
                message(FATAL_ERROR "${rel}:${line}: unknown word '${w}' after ```cpp "
                    "(known: fragment, decl, norun, throws; see tests/docs/README.md)")
            endif()
        endforeach()
        set(where "#line ${line} \"${rel}\"\n")

        if(kind STREQUAL "program")
            set(src "${out_dir}/${id}_L${line}.cpp")
            _loom_docs_write("${src}" "// Generated from ${rel}:${line} by tests/docs/extract_snippets.cmake.\n${where}${body}\n")
            list(APPEND programs "${src}")
            if(run)
                list(APPEND runnable "${src}")
            endif()
            continue()
        endif()

        # #include lines of fragments and decls go to the top of the page's translation unit;
        # the line stays (as a comment) so that #line numbers still match the page.
        string(REGEX MATCHALL "(^|\n)#include[^\n]*" incs "${body}")
        foreach(inc IN LISTS incs)
            string(STRIP "${inc}" inc)
            string(APPEND includes "${inc}\n")
        endforeach()
        string(REGEX REPLACE "(^|\n)#include([^\n]*)" "\\1// #include\\2 (moved to the top)" body "${body}")

        if(kind STREQUAL "decl")
            string(APPEND decls "namespace docs_decl_L${line} {\n${where}${body}\n}  // namespace docs_decl_L${line}\n\n")
        else()
            set(fn "docs_fragment_L${line}")
            string(APPEND fragments "[[maybe_unused]] static void ${fn}() {\n    LOOM_DOCS_FIXTURE\n${where}${body}\n}\n\n")
            if(run)
                if(throws)
                    string(APPEND calls "    failures += loom_docs::run_throwing(\"${rel}:${line}\", &${fn});\n")
                else()
                    string(APPEND calls "    failures += loom_docs::run(\"${rel}:${line}\", &${fn});\n")
                endif()
            endif()
        endif()
    endwhile()

    set(tu "")
    if(decls OR fragments)
        set(tu "${out_dir}/${id}.cpp")
        _loom_docs_write("${tu}" "// Generated from ${rel} by tests/docs/extract_snippets.cmake: its `cpp fragment` and\n// `cpp decl` blocks, after the prelude (tests/docs/prelude.hpp).\n#include \"prelude.hpp\"\n\n${includes}\n${decls}${fragments}int main() {\n    int failures = 0;\n${calls}    return failures == 0 ? 0 : 1;\n}\n")
    endif()
    set(${out_page_tu} "${tu}" PARENT_SCOPE)
    set(${out_programs} "${programs}" PARENT_SCOPE)
    set(${out_runnable} "${runnable}" PARENT_SCOPE)
endfunction()
