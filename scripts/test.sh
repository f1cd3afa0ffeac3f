#!/usr/bin/env bash
# The README's test command, and CI's: installs what the tests need, then builds and checks uinfo
# the ways its users build it, every one with warnings as errors:
#   test      GCC, -O2 (assertions kept on): the library, examples and benchmarks; every test (unit,
#             allocation, compile-fail, install, program, experiment)
#   sanitize  Clang, assertions on: the unit and helper tests under AddressSanitizer +
#             UndefinedBehaviorSanitizer (-O1), and every program through Clang's front end
#   fuzz      every parser's libFuzzer harness on its seed corpus for UINFO_FUZZ_SECONDS seconds
#             each (5 by default; e.g. 600 for a real search)
# Name steps to run only those, or others (clang: the test step built by Clang; release:
# the quick start's build): scripts/test.sh clang
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

steps=("$@")
((${#steps[@]})) || steps=(test sanitize fuzz)
for step in "${steps[@]}"; do
  echo "=== uinfo: $step ($(date +%T))"
  start=$SECONDS
  cmake --workflow --preset "$step"
  echo "=== uinfo: $step passed in $((SECONDS - start)) s"
done
