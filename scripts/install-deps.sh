#!/usr/bin/env bash
# Installs the Debian 12 packages uinfo needs that are missing. Run as root (or with sudo on PATH).
#   scripts/install-deps.sh          what building and running the programs needs
#   scripts/install-deps.sh --test   and what the whole test suite needs (Clang and its sanitizer
#                                    and fuzzer runtimes, OpenMPI, pkg-config)
set -euo pipefail

packages=(cmake g++ make libeigen3-dev libxsimd-dev catch2 libbenchmark-dev zlib1g-dev gnuplot-nox
          dataset-fashion-mnist libcli11-dev nlohmann-json3-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(clang libclang-rt-14-dev libopenmpi-dev openmpi-bin pkgconf)
elif [[ -n "${1:-}" ]]; then
  echo "usage: scripts/install-deps.sh [--test]" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "uinfo: all required packages are installed"
  exit 0
fi

as_root=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "uinfo: run as root to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
echo "uinfo: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
