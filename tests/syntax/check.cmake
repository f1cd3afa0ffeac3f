# ctest driver: compiles one source file with the exact command the build uses for it (from
# compile_commands.json) but only up to the end of the compiler's front end (-fsyntax-only), where
# Clang's warnings and errors all arise. The sanitize step builds only the unit tests with Clang;
# this checks that the programs compile under Clang too, without the cost of generating their code.
#   cmake -D COMMANDS=compile_commands.json -D SOURCE=/path/to/file.cpp -P check.cmake
file(READ "${COMMANDS}" commands)
string(JSON count LENGTH "${commands}")
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON file GET "${commands}" ${i} file)
  if(NOT file STREQUAL SOURCE)
    continue()
  endif()
  string(JSON command GET "${commands}" ${i} command)
  string(JSON directory GET "${commands}" ${i} directory)
  separate_arguments(words UNIX_COMMAND "${command}")
  # Drop what writes files: the object (-o), its dependency file (-MD -MT -MF) and -c.
  set(kept)
  set(skip_next FALSE)
  foreach(word IN LISTS words)
    if(skip_next)
      set(skip_next FALSE)
    elseif(word MATCHES "^-(o|MT|MF)$")
      set(skip_next TRUE)
    elseif(NOT word MATCHES "^-(c|MD)$")
      list(APPEND kept "${word}")
    endif()
  endforeach()
  execute_process(COMMAND ${kept} -fsyntax-only -Wno-unused-command-line-argument
                  WORKING_DIRECTORY "${directory}" RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${SOURCE} does not compile cleanly")
  endif()
  message(STATUS "${SOURCE}: compiles cleanly")
  return()
endforeach()
message(FATAL_ERROR "${SOURCE} is not in ${COMMANDS}")
