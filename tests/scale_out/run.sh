#!/usr/bin/env bash
# ctest driver: runs a small sweep and a small perturbation on one machine, then again scaled out
# (or killed part-way and resumed), and checks that the files are the one-machine run's, byte for
# byte.
#   run.sh slurm BIN_DIR   a job array through docs/slurm/submit.sh, with tests/scale_out/sbatch
#                          standing in for Slurm's, then the merge
#   run.sh mpi BIN_DIR [MPIEXEC]
#                          mpirun --oversubscribe -n 3 (as root, with OpenMPI's consent variables)
#   run.sh kill BIN_DIR    SIGKILL once a few jobs have finished, then --resume (the seed program
#                          uinfo-checkerboard too)
set -euo pipefail
mode=$1 bin=$2 mpiexec=${3:-mpirun}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
small=(--trials 1000 --probe-trials 300 --epochs 3 --quiet --threads 2)
programs=(uinfo-checkerboard-sweep uinfo-checkerboard-perturb)
if [[ $mode == kill ]]; then  # jobs long enough that the kill lands between two
  small=(--trials 6000 --probe-trials 300 --epochs 5 --quiet --threads 2)
  programs+=(uinfo-checkerboard)
fi
declare -A args=(
  [uinfo-checkerboard-sweep]="--lrs 0.05,0.01 --batches 16,64 --seeds 2"
  [uinfo-checkerboard-perturb]="--ks 0,2 --kinds slow_start,colour_first --seeds 2"
  [uinfo-checkerboard]="--seeds 6"
)
for program in "${programs[@]}"; do
  # shellcheck disable=SC2206
  flags=("${small[@]}" ${args[$program]})
  "$bin/$program" "${flags[@]}" --out "$work/$program/whole" > /dev/null
  case $mode in
    slurm)
      PATH=$here:$PATH UINFO_BIN=$bin "$here/../../docs/slurm/submit.sh" "$program" 3 \
        "$work/$program/out" "${flags[@]}"
      ;;
    mpi)
      OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        "$mpiexec" --oversubscribe -n 3 "$bin/$program" "${flags[@]}" --out "$work/$program/out" \
        > /dev/null
      ;;
    kill)
      out=$work/$program/out
      "$bin/$program" "${flags[@]}" --out "$out" > /dev/null &
      pid=$!
      # jobs.log: two lines of its own, then one per finished job
      until (($(cat "$out/jobs.log" 2> /dev/null | wc -l) >= 4)); do
        kill -0 $pid 2> /dev/null || break  # ended (or failed) first: the checks below say which
        sleep 0.01
      done
      kill -KILL $pid 2> /dev/null || true
      { wait $pid || true; } 2> /dev/null  # no "Killed" from the shell
      finished=$(($(wc -l < "$out/jobs.log") - 2))
      total=$(($(wc -l < "$work/$program/whole/jobs.log") - 2))
      echo "$program: killed after $finished of $total jobs"
      ((finished < total))
      "$bin/$program" "${flags[@]}" --out "$out" --resume > /dev/null
      ;;
    *)
      echo "usage: run.sh slurm|mpi|kill BIN_DIR" >&2
      exit 2
      ;;
  esac
  compared=0
  for file in "$work/$program/whole"/*; do
    name=$(basename "$file")
    [[ $name == run.json ]] && continue  # its wall time differs
    [[ $mode == slurm && $name == jobs.log ]] && continue  # each shard keeps its own
    cmp "$file" "$work/$program/out/$name"
    compared=$((compared + 1))
  done
  echo "$program, $mode: $compared files identical to the one-machine run's"
  ((compared >= 5))
done
