#!/usr/bin/env bash
# uinfo side by side with its peers (/work/shared/peers), in one sitting:
#   mlp:   one training step of the 784-256-128-10 ReLU MLP (softmax CE, SGD momentum 0.9, random
#          data) and of the 16-16-16-10 one (per-step overhead): uinfo_bench_mlp against PyTorch
#          (torch_mlp.py) and dlib (dlib_mlp.cpp), samples per second;
#   cnn:   one training step of the image experiments' All-CNN and ResNet-8 on 1x28x28 images
#          (softmax CE, SGD momentum 0.9, random data): uinfo_bench_cnn against PyTorch
#          (torch_cnn.py), images per second, at CNN_BATCHES;
#   probe: one linear-decoder usable-information estimate on the peers' probe data (10,000 x 100
#          training samples, 10 classes): uinfo_bench_info against scikit-learn's
#          LogisticRegression(C=1e4, lbfgs) (probes.py), training samples per second of fit, with
#          both held-out cross-entropies (the speed only counts at equal cross-entropy);
#   rnn:   one update of the multi-area rate RNN (300 units, 20 trials x 280 steps, Dale's law,
#          noise, Adam with clipping) and one training step of a 4-100-2 tanh Elman RNN over 50
#          steps (batch 32 and 256, SGD): uinfo_bench_rnn against PyTorch (torch_multiarea_rnn.py,
#          torch_rnn.py's fused nn.RNN), trials per second;
# plus the CPU's FMA peak (fma_peak.cpp). Every program runs REPS times, interleaved (uinfo,
# baseline, peers, peak, uinfo, ...), for each thread count; the table shows medians, one line per
# case:
#     case batch threads uinfo peer peer_value ratio
# where ratio is the median over repetitions of uinfo / peer within each repetition: on a shared
# machine the load changes from one repetition to the next, and a ratio of runs a minute apart
# sees less of that than a ratio of medians.
# then the batch-1 step against the memory passes it cannot avoid, timed alone, and the share of
# the one-thread FMA peak that uinfo's MLP and CNN steps reach on the multiply-adds they execute.
# uinfo runs one network on one thread by design (parallelism goes across networks), so its rows
# at 2 threads time the same single-thread step against 2-thread peers.
# uinfo's `_ftz` rows flush subnormals to zero (fit()'s default; see bench_mlp.cpp) and are
# compared with the same, unflushed, peer runs; `_warm` is a re-probe from the previous weights.
#
# Env: REPS (3), THREADS ("1 2"), BATCHES ("1 32 256"), CNN_BATCHES ("32 128"),
#      CASES ("mlp cnn probe rnn"),
#      BUILD (build/release: where uinfo's benchmarks are built),
#      BASELINE (empty: a directory holding uinfo_bench_mlp, _info and _rnn of another
#        build, e.g. before a change; it runs as the peer `uinfo-base` in the same interleaving),
#      PEERS (/work/shared/peers, only read), PEERS_WORK (/tmp/uinfo-peers, a writable copy where
#        the peers are built and run),
#      OPENBLAS_CORETYPE (SkylakeX on AVX-512 CPUs: OpenBLAS 0.3.21 misdetects recent cores and
#        falls back to slow generic kernels; set it empty to keep the detection).
# The peers use OpenBLAS built with OpenMP (libopenblas0-openmp), whose threads share libgomp
# with PyTorch's; with the pthread build 2-thread PyTorch is pathological.
# Not part of ctest: it takes about 10 minutes and needs the peers' packages.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPS=${REPS:-3}
THREADS=${THREADS:-1 2}
BATCHES=${BATCHES:-1 32 256}
CNN_BATCHES=${CNN_BATCHES:-32 128}
CASES=${CASES:-mlp cnn probe rnn}
BUILD=${BUILD:-$ROOT/build/release}
BASELINE=${BASELINE:-}
PEERS=${PEERS:-/work/shared/peers}
PEERS_WORK=${PEERS_WORK:-/tmp/uinfo-peers}
if [[ -z ${OPENBLAS_CORETYPE+set} ]] && grep -qw avx512f /proc/cpuinfo; then
  OPENBLAS_CORETYPE=SkylakeX
fi
PY=/usr/bin/python3  # Debian's python, which sees the apt-installed torch and scikit-learn
OPENBLAS=/usr/lib/x86_64-linux-gnu/openblas-openmp
CXX="g++ -O3 -march=native -DNDEBUG"  # as the peers' run_all.sh builds them
wants() { [[ " $CASES " == *" $1 "* ]]; }

# 1. Packages: the peers' (Debian 12) and Google Benchmark.
packages=(python3-torch python3-sklearn libdlib-dev libopenblas0-openmp libblas-dev liblapack-dev
          libbenchmark-dev libxsimd-dev g++ cmake)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "compare: missing packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

# 2. The peers, built and run in a scratch copy (the shared folder stays untouched).
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
peer() {  # peer THREADS COMMAND...: runs a peer in the environment every peer shares
  local threads=$1
  shift
  env LD_LIBRARY_PATH="$OPENBLAS" OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" \
      ${OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE="$OPENBLAS_CORETYPE"} "$@"
}
if wants probe && [[ ! -f $PEERS_WORK/data/probe_meta.json ]]; then
  # Generated once, with the BLAS and thread count the peers' README fixes.
  (cd "$PEERS_WORK" && peer 1 "$PY" gen_probe_data.py >&2)
fi

# 3. uinfo's benchmarks, optimised.
[[ -f $BUILD/CMakeCache.txt ]] || (cd "$ROOT" && cmake --preset release >&2)
targets=()
for bench in mlp cnn probe rnn; do
  if wants $bench; then targets+=("uinfo_bench_${bench/probe/info}"); fi
done
cmake --build "$BUILD" --target "${targets[@]}" -j2 >&2

# 4. Interleaved repetitions; every run appends `peer case threads batch value [key=value ...]`.
raw=$BUILD/compare_raw.txt
log=$BUILD/compare_stderr.txt
: >"$raw"
: >"$log"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
read -ra batches <<<"$BATCHES"
batch_alternatives=$(IFS='|'; echo "${batches[*]}")
# mlp_tiny_train (16-16-16-10 at batch 1) and the memory passes alone (BM_MlpMemoryPasses, the
# floor under the batch-1 step) run whenever batch 1 does.
mlp_filter="^BM_Mlp(TrainStep/(mlp_train/batch:(${batch_alternatives})|mlp_tiny_train/batch:1)/"
mlp_filter+="|MemoryPasses/mlp_train/batch:(${batch_alternatives})/)"
read -ra cnn_batches <<<"$CNN_BATCHES"
cnn_filter="^BM_CnnTrainStep/(allcnn|resnet8)_train/batch:($(IFS='|'; echo "${cnn_batches[*]}"))/"
probe_filter='^BM_LinearDecoder(FromScratch|Reprobe/warm:1)'
# The Elman step at the batches asked for among the peer's (32 and 256); the multi-area update at
# the reference's batch of 20 trials.
rnn_batches=$(for b in "${batches[@]}"; do [[ $b == 32 || $b == 256 ]] && echo "$b"; done)
rnn_filter="^BM_MultiAreaUpdate/"
[[ -n $rnn_batches ]] && rnn_filter+="|^BM_ElmanTrainStep/rnn_train/batch:($(echo $rnn_batches | tr ' ' '|'))/"

# run_uinfo NAME DIR THREADS BENCH FILTER: Google Benchmark CSV -> result lines. The case is the
# benchmark's name with `_ftz` or `_warm` appended for those variants; extras carry the counters.
run_uinfo() {
  local name=$1 dir=$2 threads=$3 bench=$4 filter=$5
  env OMP_NUM_THREADS="$threads" UINFO_PROBE_DATA="$PEERS_WORK/data" "$dir/uinfo_bench_$bench" \
      --benchmark_filter="$filter" --benchmark_min_time=2 --benchmark_min_warmup_time=0.5 \
      --benchmark_format=csv 2>>"$log" |
    awk -F, -v name="$name" -v threads="$threads" '
      NR == 1 { gsub(/"/, ""); for (i = 1; i <= NF; ++i) column[$i] = i; next }
      { gsub(/"/, "", $1); n = split($1, part, "/")
        if (part[1] == "BM_MlpTrainStep") {
          sub(/batch:/, "", part[3])
          print name, part[2] (part[4] == "ftz:1" ? "_ftz" : ""), threads, part[3],
                $column["items_per_second"], "gflops=" $column["GFLOP/s"]
        } else if (part[1] == "BM_CnnTrainStep") {
          sub(/batch:/, "", part[3])
          print name, "cnn_" part[2], threads, part[3], $column["items_per_second"],
                "gflops=" $column["GFLOP/s"]
        } else if (part[1] == "BM_MultiAreaUpdate" || part[1] == "BM_ElmanTrainStep") {
          sub(/batch:/, "", part[3])
          print name, part[2], threads, part[3], $column["items_per_second"],
                "gflops=" $column["GFLOP/s"]
        } else if (part[1] == "BM_MlpMemoryPasses") {
          sub(/batch:/, "", part[3])
          print name, "mlp_memory_passes", threads, part[3], $column["items_per_second"]
        } else {
          print name, "linear_probe" ($1 ~ /warm:1/ ? "_warm" : ""), threads, 0,
                $column["items_per_second"], "ce_nats=" $column["ce_nats"]
        } }'
}
# Peer lines are already in the result format; probe lines are renamed to uinfo's case name.
run_peers_mlp() {
  (cd "$PEERS_WORK" && peer "$1" "$PY" torch_mlp.py "$1" "${batches[@]}") 2>>"$log" |
    grep -E ' mlp_(tiny_)?train '
  peer "$1" "$PEERS_WORK/build/dlib_mlp" "$1" "${batches[@]}" 2>>"$log" |
    grep -E ' mlp_(tiny_)?train '
}
run_peers_cnn() {
  (cd "$PEERS_WORK" && peer "$1" "$PY" torch_cnn.py "$1" "${cnn_batches[@]}") 2>>"$log" |
    grep -E ' cnn_(allcnn|resnet8)_train '
}
run_peers_probe() {
  (cd "$PEERS_WORK" && peer "$1" "$PY" probes.py "$1" lr_lbfgs_C1e4 2>>"$log") |
    awk '$1 == "sklearn" && $2 == "lr_lbfgs_C1e4" { $2 = "linear_probe"; print }'
}
run_peers_rnn() {
  (cd "$PEERS_WORK" && peer "$1" "$PY" torch_multiarea_rnn.py "$1" 20) 2>>"$log" |
    grep -E ' multiarea_rnn_train '
  if [[ -n $rnn_batches ]]; then
    # shellcheck disable=SC2086  # the batches as separate arguments
    (cd "$PEERS_WORK" && peer "$1" "$PY" torch_rnn.py "$1" $rnn_batches) 2>>"$log" |
      grep -E ' rnn_train '
  fi
}
for rep in $(seq "$REPS"); do
  for threads in $THREADS; do
    echo "[rep $rep/$REPS, $threads thread(s)] $CASES" >&2
    {
      for bench in mlp cnn probe rnn; do
        wants $bench || continue
        filter=${bench}_filter
        run_uinfo uinfo "$BUILD/benchmarks" "$threads" "${bench/probe/info}" "${!filter}"
        if [[ -n $BASELINE && -x $BASELINE/uinfo_bench_${bench/probe/info} ]]; then
          run_uinfo uinfo-base "$BASELINE" "$threads" "${bench/probe/info}" "${!filter}"
        fi
        run_peers_$bench "$threads"
      done
      "$PEERS_WORK/build/fma_peak" "$threads" 2>>"$log" | grep fma_avx512_gflops || true
    } | sed "s/\$/ rep=$rep/" >>"$raw"
  done
done

# 5. Medians, then the table.
awk -f "$ROOT/benchmarks/compare_summary.awk" "$raw"
# Other work on the (2-core) machine skews the figures: the load should stay near 1 (ours).
echo "load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "raw lines: $raw; stderr: $log" >&2
