#!/usr/bin/env bash
# The README's test command, and CI's: installs what the tests need, then builds and checks uinfo
# the ways its users build it:
#   test      GCC, -O2, every test (unit, allocation, compile-fail, install, program, experiment)
#   clang     the same with Clang
#   sanitize  the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (Clang, -O1)
#   release   the optimised (-O3) examples and benchmarks, as scripts/quickstart.sh builds them
# every one with warnings as errors. Name steps to run only those: scripts/test.sh clang sanitize
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

steps=("$@")
((${#steps[@]})) || steps=(test clang sanitize release)
for step in "${steps[@]}"; do
  echo "=== uinfo: $step ($(date +%T))"
  start=$SECONDS
  cmake --workflow --preset "$step"
  echo "=== uinfo: $step passed in $((SECONDS - start)) s"
done
