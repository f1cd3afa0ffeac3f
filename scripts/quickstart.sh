#!/usr/bin/env bash
# The README's first command: installs the missing Debian packages, builds the optimised
# examples and runs the main job. Results land in results/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release
cmake --build --preset release --target uinfo-train-mlp
build/release/examples/uinfo-train-mlp --out results/train-mlp "$@"
