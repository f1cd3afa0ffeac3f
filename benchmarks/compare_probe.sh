#!/usr/bin/env bash
# Side by side: one linear-decoder usable-information estimate by uinfo (uinfo_bench_info) and
# scikit-learn's LogisticRegression(C=1e4, lbfgs) fit on the peers' probe data (10,000 x 100
# training samples, 2,000 test samples, 10 classes), on one thread, repetitions interleaved.
# Prints medians: seconds per fit, held-out cross-entropy (nats) and the speed ratio.
#
# Env: REPS (3), BUILD (build/release), PEERS (/work/shared/peers, only read), PEERS_WORK
#      (/tmp/uinfo-peers, a writable copy), OPENBLAS_CORETYPE (SkylakeX on AVX-512 CPUs, where
#      OpenBLAS 0.3.21 otherwise falls back to slow generic kernels).
# Not part of ctest: it needs the peers' packages (python3-sklearn, libopenblas0-openmp).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPS=${REPS:-3}
BUILD=${BUILD:-$ROOT/build/release}
PEERS=${PEERS:-/work/shared/peers}
PEERS_WORK=${PEERS_WORK:-/tmp/uinfo-peers}
if [[ -z ${OPENBLAS_CORETYPE+set} ]] && grep -qw avx512f /proc/cpuinfo; then
  OPENBLAS_CORETYPE=SkylakeX
fi
PY=/usr/bin/python3
OPENBLAS=/usr/lib/x86_64-linux-gnu/openblas-openmp
peer_env=(LD_LIBRARY_PATH="$OPENBLAS" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)
if [[ -n ${OPENBLAS_CORETYPE:-} ]]; then peer_env+=(OPENBLAS_CORETYPE="$OPENBLAS_CORETYPE"); fi

for p in python3-sklearn python3-torch libopenblas0-openmp libbenchmark-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    { echo "compare_probe: missing package $p (apt-get install $p)" >&2; exit 1; }
done

mkdir -p "$PEERS_WORK"
cp -r --update --no-preserve=mode "$PEERS"/. "$PEERS_WORK"/
if [[ ! -f $PEERS_WORK/data/probe_meta.json ]]; then
  (cd "$PEERS_WORK" && env "${peer_env[@]}" "$PY" gen_probe_data.py >&2)
fi
[[ -f $BUILD/CMakeCache.txt ]] || cmake --preset release >&2
cmake --build "$BUILD" --target uinfo_bench_info -j2 >&2

raw=$(mktemp)
for rep in $(seq "$REPS"); do
  echo "[rep $rep/$REPS] uinfo, scikit-learn" >&2
  UINFO_PROBE_DATA=$PEERS_WORK/data OMP_NUM_THREADS=1 "$BUILD/benchmarks/uinfo_bench_info" \
      --benchmark_filter='FromScratch|Reprobe' --benchmark_format=csv 2>/dev/null |
    awk -F, 'NR == 1 { gsub(/"/, ""); for (i = 1; i <= NF; ++i) c[$i] = i; next }
             { gsub(/"/, "", $1); print "uinfo", $1, $c["real_time"] / 1000, $c["ce_nats"] }' >>"$raw"
  (cd "$PEERS_WORK" && env "${peer_env[@]}" "$PY" probes.py 1 lr_lbfgs_C1e4 2>/dev/null) |
    awk '$1 == "sklearn" && $2 == "lr_lbfgs_C1e4" {
           for (i = 6; i <= NF; ++i) { split($i, kv, "="); f[kv[1]] = kv[2] }
           print "sklearn", $2, f["fit_s"], f["ce_nats"] }' >>"$raw"
done

awk '
  { key = $1 " " $2; t[key] = t[key] " " $3; ce[key] = $4 }
  function median(list,    v, n, i, j, x) {
    n = split(list, v, " ")
    for (i = 2; i <= n; ++i) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; --j) {
      x = v[j]; v[j] = v[j - 1]; v[j - 1] = x
    }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  END {
    sk = median(t["sklearn lr_lbfgs_C1e4"])
    printf "%-45s %9s %9s %8s\n", "case", "seconds", "ce_nats", "speedup"
    printf "%-45s %9.4f %9.4f %8s\n", "sklearn LogisticRegression(C=1e4, lbfgs)", sk, ce["sklearn lr_lbfgs_C1e4"], "1.0"
    for (key in t) {
      if (key !~ /^uinfo/) continue
      m = median(t[key])
      printf "%-45s %9.4f %9.4f %8.1f\n", substr(key, 7), m, ce[key], sk / m
    }
  }' "$raw"
rm -f "$raw"
