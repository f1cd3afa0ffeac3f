#!/usr/bin/env bash
# The README's first command: installs the missing Debian packages, builds the optimised
# examples and runs the main job, the checkerboard experiment. Results land in results/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release
cmake --build --preset release --target uinfo-checkerboard
build/release/examples/uinfo-checkerboard --out results/checkerboard "$@"
