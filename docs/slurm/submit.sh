#!/usr/bin/env bash
# Submits a uinfo sweep to Slurm: a job array of SHARDS tasks, each running one shard of the jobs
# (--shard auto), and the merge as a job that starts once every task has succeeded.
#   docs/slurm/submit.sh PROGRAM SHARDS OUT [FLAGS...]
#   docs/slurm/submit.sh uinfo-checkerboard-sweep 16 results/sweep --seeds 8
#   docs/slurm/submit.sh uinfo-checkerboard-perturb 8 results/perturb --ks 0,5,10,20
# PROGRAM is uinfo-checkerboard-sweep or uinfo-checkerboard-perturb; FLAGS go to every task and
# to the merge alike. The programs are looked up in $UINFO_BIN (default: build/release/examples);
# the #SBATCH lines of shard.sbatch and merge.sbatch set each task's cores and time limit.
set -euo pipefail
if (($# < 3)); then
  sed -n '2,10p' "$0" >&2
  exit 2
fi
program=$1 shards=$2 out=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
export UINFO_BIN=${UINFO_BIN:-$PWD/build/release/examples}
array=$(sbatch --parsable --array="1-$shards" --job-name="$program" --export=ALL \
          "$here/shard.sbatch" "$program" "$out" "$@")
array=${array%%;*}  # "jobid;cluster" on federated clusters
merge=$(sbatch --parsable --dependency="afterok:$array" --job-name="$program-merge" --export=ALL \
          "$here/merge.sbatch" "$program" "$out" "$@")
echo "submitted shards as job array $array, the merge as job ${merge%%;*}; results in $out/"
