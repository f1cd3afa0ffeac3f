#!/usr/bin/env bash
# The README's test command, and CI's: installs what the tests need, then builds and checks uinfo
# the ways its users build it, every one with warnings as errors:
#   test      GCC, -O3 (assertions kept on): the library, examples and benchmarks; every test (unit,
#             allocation, compile-fail, install, program, experiment)
#   clang     the same with Clang, all but the programs' runs
#   sanitize  the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (Clang, -O1)
# Name steps to run only those, or others (release: the quick start's build): scripts/test.sh clang
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

steps=("$@")
((${#steps[@]})) || steps=(test clang sanitize)
for step in "${steps[@]}"; do
  echo "=== uinfo: $step ($(date +%T))"
  start=$SECONDS
  cmake --workflow --preset "$step"
  echo "=== uinfo: $step passed in $((SECONDS - start)) s"
done
