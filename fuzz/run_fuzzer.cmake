# Runs one fuzzer on its seed corpus for UINFO_FUZZ_SECONDS seconds (environment; default 5), as
# `ctest` calls it:
#   cmake -D FUZZER=binary -D SEEDS=dir -D WORK=dir -D MAX_LEN=bytes -P run_fuzzer.cmake
# New inputs go to WORK/corpus, never into the committed seeds; a crashing input is kept as
# WORK/crash-* and the test fails. The last line says how many inputs were executed.
set(seconds "$ENV{UINFO_FUZZ_SECONDS}")
if(NOT seconds)
  set(seconds 5)
endif()
file(MAKE_DIRECTORY "${WORK}/corpus")
execute_process(
  COMMAND "${FUZZER}" "${WORK}/corpus" "${SEEDS}" -max_total_time=${seconds} -max_len=${MAX_LEN}
          -malloc_limit_mb=256 -rss_limit_mb=2048 -timeout=20 -print_final_stats=1
          -artifact_prefix=${WORK}/
  RESULT_VARIABLE status
  ERROR_VARIABLE log
  OUTPUT_VARIABLE log)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" executed "${log}")
string(REGEX REPLACE "[^0-9]*([0-9]+)" "\\1" executed "${executed}")
get_filename_component(name "${FUZZER}" NAME)
if(NOT status EQUAL 0)
  message("${log}")
  message(FATAL_ERROR "${name} failed (status ${status}) after ${executed} inputs")
endif()
message("${name}: ${executed} inputs in ${seconds} s, no defect")
