#!/usr/bin/env bash
# Side-by-side training throughput of the 784-256-128-10 ReLU MLP (softmax CE, SGD momentum 0.9,
# random data) on one thread: uinfo (uinfo_bench_mlp) against PyTorch (torch_mlp.py) and dlib
# (dlib_mlp) from the peer benchmarks, plus the CPU's FMA peak, all in one sitting. Repetitions
# are interleaved (uinfo, pytorch, dlib, fma, uinfo, ...); the table shows medians:
#     case batch threads uinfo peer peer_value ratio        (samples/s; ratio = uinfo / peer)
# followed by uinfo's share of the single-thread AVX-512 FMA peak, with and without flushing
# subnormals to zero (mlp_train_ftz: uinfo only, see benchmarks/bench_mlp.cpp).
#
# Env: REPS (3), BATCHES ("1 32 256"), BUILD (build/bench), PEERS (/work/shared/peers, only read),
#      PEERS_WORK (/tmp/uinfo-peers, a writable copy where the peers are built and run),
#      OPENBLAS_CORETYPE (SkylakeX on AVX-512 CPUs: OpenBLAS 0.3.21 misdetects recent cores and
#      falls back to slow generic kernels; set it empty to keep the detection),
#      MFLOP_PER_SAMPLE (1.41: forward + backward including the first layer's input gradient).
# Not part of ctest: it takes a few minutes and needs the peers' packages.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPS=${REPS:-3}
BATCHES=${BATCHES:-1 32 256}
BUILD=${BUILD:-$ROOT/build/bench}
PEERS=${PEERS:-/work/shared/peers}
PEERS_WORK=${PEERS_WORK:-/tmp/uinfo-peers}
MFLOP_PER_SAMPLE=${MFLOP_PER_SAMPLE:-1.41}
if [[ -z ${OPENBLAS_CORETYPE+set} ]] && grep -qw avx512f /proc/cpuinfo; then
  OPENBLAS_CORETYPE=SkylakeX
fi
PY=/usr/bin/python3  # Debian's python, which sees the apt-installed torch
OPENBLAS=/usr/lib/x86_64-linux-gnu/openblas-openmp
CXX="g++ -O3 -march=native -DNDEBUG"  # as the peers' run_all.sh builds them

# 1. Packages: the peers' (Debian 12) and Google Benchmark.
packages=(python3-torch libdlib-dev libopenblas0-openmp libblas-dev liblapack-dev libbenchmark-dev
          libxsimd-dev g++ cmake)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "compare_peers: missing packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  echo "(uinfo's own dependencies: scripts/install-deps.sh)" >&2
  exit 1
fi

# 2. The peers, built in a scratch copy (the shared folder stays untouched).
mkdir -p "$PEERS_WORK/build"
cp -r --update --no-preserve=mode "$PEERS"/. "$PEERS_WORK"/
build_peer() {  # build_peer OUT SRC FLAGS...: rebuild when missing or older than its sources
  local out=$PEERS_WORK/build/$1 src=$PEERS_WORK/$2
  shift 2
  if [[ ! $out -nt $src || ! $out -nt $PEERS_WORK/bench.hpp ]]; then
    echo "building $out" >&2
    $CXX -o "$out" "$src" "$@"
  fi
}
build_peer dlib_mlp dlib_mlp.cpp -std=c++14 -ldlib -lblas -llapack -lpthread
build_peer fma_peak fma_peak.cpp -std=c++17 -lpthread

# 3. uinfo's benchmark, optimised.
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DUINFO_BUILD_TESTS=OFF \
        -DUINFO_BUILD_EXAMPLES=OFF >&2
fi
cmake --build "$BUILD" --target uinfo_bench_mlp -j2 >&2

# 4. Interleaved repetitions; every run appends `peer case threads batch value` lines to $raw.
raw=$BUILD/compare_peers_raw.txt
log=$BUILD/compare_peers_stderr.txt
: >"$raw"
: >"$log"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
one_thread=(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)
peer_env=(LD_LIBRARY_PATH="$OPENBLAS" "${one_thread[@]}")
if [[ -n ${OPENBLAS_CORETYPE:-} ]]; then peer_env+=(OPENBLAS_CORETYPE="$OPENBLAS_CORETYPE"); fi
read -ra batches <<<"$BATCHES"
batch_alternatives=$(IFS='|'; echo "${batches[*]}")
# mlp_tiny_train (16-16-16-10, batch 1: per-step overhead) runs whenever batch 1 does.
# uinfo's mlp_train_ftz rows (subnormals flushed to zero, fit()'s default) are compared with the
# same (unflushed) peer rows.
batch_regex="^BM_MlpTrainStep/(mlp_train/batch:(${batch_alternatives})|mlp_tiny_train/batch:1)/"
run_uinfo() {  # Google Benchmark CSV -> `uinfo CASE 1 BATCH items_per_second`
  env "${one_thread[@]}" "$BUILD/benchmarks/uinfo_bench_mlp" --benchmark_filter="$batch_regex" \
      --benchmark_min_time=2 --benchmark_min_warmup_time=0.5 --benchmark_format=csv 2>>"$log" |
    awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) column[$i] = i; next }
             { gsub(/"/, "", $1); split($1, part, "/"); sub(/batch:/, "", part[3])
               print "uinfo", part[2] (part[4] == "ftz:1" ? "_ftz" : ""), 1, part[3],
                     $column["items_per_second"] }'
}
for rep in $(seq "$REPS"); do
  echo "[rep $rep/$REPS] uinfo, pytorch, dlib, fma_peak" >&2
  {
    run_uinfo
    (cd "$PEERS_WORK" && env "${peer_env[@]}" "$PY" torch_mlp.py 1 "${batches[@]}") 2>>"$log" |
      grep -E ' mlp_(tiny_)?train '
    env "${peer_env[@]}" "$PEERS_WORK/build/dlib_mlp" 1 "${batches[@]}" 2>>"$log" |
      grep -E ' mlp_(tiny_)?train '
    "$PEERS_WORK/build/fma_peak" 1 2>>"$log" | grep fma_avx512_gflops || true
  } >>"$raw"
done

# 5. Medians, then the table.
awk -v mflop="$MFLOP_PER_SAMPLE" '
  { key = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; values[key] = values[key] " " $5 }
  function median(list,    v, n, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; ++i) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; --j) {
      t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
    }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  END {
    for (key in values) {
      split(key, k, SUBSEP)
      m[key] = median(values[key])
      if (k[1] == "uinfo") uinfo_keys[k[2] SUBSEP k[3] SUBSEP k[4]] = 1
      if (k[2] == "fma_avx512_gflops") peak = m[key]
    }
    printf "%-14s %5s %7s %10s %-8s %10s %7s\n", "case", "batch", "threads", "uinfo", "peer",
           "peer_value", "ratio"
    n = 0
    for (u in uinfo_keys) order[++n] = u
    for (i = 2; i <= n; ++i) for (j = i; j > 1; --j) {  # by case, then numeric batch
      split(order[j - 1], a, SUBSEP); split(order[j], b, SUBSEP)
      if (a[1] < b[1] || (a[1] == b[1] && a[3] + 0 <= b[3] + 0)) break
      t = order[j]; order[j] = order[j - 1]; order[j - 1] = t
    }
    for (i = 1; i <= n; ++i) {
      split(order[i], c, SUBSEP)
      mine = m["uinfo" SUBSEP order[i]]
      base = c[1]
      sub(/_ftz$/, "", base)  # flushed or not, uinfo is compared with the same peer run
      for (p = 1; p <= split("pytorch dlib", peers, " "); ++p) {
        other = m[peers[p] SUBSEP base SUBSEP c[2] SUBSEP c[3]]
        if (other == "") continue
        printf "%-14s %5d %7d %10.0f %-8s %10.0f %7.2f\n", c[1], c[3], c[2], mine, peers[p],
               other, mine / other
      }
    }
    if (peak == "") exit
    printf "\nFMA peak (1 thread, AVX-512): %.1f GFLOP/s; at %s MFLOP/sample:\n", peak, mflop
    for (i = 1; i <= n; ++i) {
      split(order[i], c, SUBSEP)
      if (c[1] !~ /^mlp_train/) continue
      gflops = m["uinfo" SUBSEP order[i]] * mflop / 1000
      printf "%-14s %5d %7d %10.1f GFLOP/s %6.1f%% of peak\n", c[1], c[3], c[2], gflops,
             100 * gflops / peak
    }
  }' "$raw"
# Other work on the (2-core) machine skews the figures: the load should stay near 1 (ours).
echo "load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "raw lines: $raw; stderr: $log" >&2
