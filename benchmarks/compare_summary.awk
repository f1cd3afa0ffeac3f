# The table of benchmarks/compare.sh from its result lines
#     peer case threads batch value [key=value ...] rep=N
# (value: samples per second; extras: gflops= for uinfo's MLP, CNN and recurrent steps,
# ce_nats= for probes): one line per uinfo case and peer,
#     case batch threads uinfo peer peer_value ratio [ce_nats=uinfo/peer]
# with the medians of both values and the median over repetitions of their ratio within each
# repetition; then the share of the one-thread FMA peak (the `cpu fma_avx512_gflops` line of the
# same repetition) that uinfo's MLP, CNN and recurrent steps reach. A peer's matching case is
# uinfo's without the `_ftz` / `_warm` suffix, except for uinfo-base (another uinfo build), which
# runs the same cases.

function median(list,    v, n, i, j, t) {
  n = split(list, v, " ")
  for (i = 2; i <= n; ++i) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; --j) {
    t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
  }
  return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

# The median over repetitions of numerator[rep] / denominator[rep] (values of `field`, keyed
# field SUBSEP key SUBSEP rep), over the repetitions that have both.
function paired_median(numerator_key, denominator_key, field,    r, list) {
  list = ""
  for (r = 1; r <= reps; ++r) {
    if ((field, numerator_key, r) in by_rep && (field, denominator_key, r) in by_rep)
      list = list " " by_rep[field, numerator_key, r] / by_rep[field, denominator_key, r]
  }
  return list == "" ? "" : median(list)
}

# Sorts order[1..n] (keys "case SUBSEP threads SUBSEP batch") by case, threads, then batch.
function sort_cases(n,    i, j, a, b, t) {
  for (i = 2; i <= n; ++i) for (j = i; j > 1; --j) {
    split(order[j - 1], a, SUBSEP); split(order[j], b, SUBSEP)
    if (a[1] < b[1] || (a[1] == b[1] && (a[2] + 0 < b[2] + 0 ||
                                         (a[2] == b[2] && a[3] + 0 <= b[3] + 0)))) break
    t = order[j]; order[j] = order[j - 1]; order[j - 1] = t
  }
}

# The batch-1 step against its memory passes alone (BM_MlpMemoryPasses: every weight read by the
# forward pass, read and written with its velocity by the fused update, read again for the input
# gradients): the share of that floor's rate the step reaches, and what the floor would be against
# PyTorch's batch-1 step.
function memory_floor(    floor_key, step_key, torch_key) {
  floor_key = "uinfo" SUBSEP "mlp_memory_passes" SUBSEP 1 SUBSEP 1
  step_key = "uinfo" SUBSEP "mlp_train_ftz" SUBSEP 1 SUBSEP 1
  torch_key = "pytorch" SUBSEP "mlp_train" SUBSEP 1 SUBSEP 1
  if (!(("value", floor_key) in values) || !(("value", step_key) in values)) return
  printf "\nMemory passes of a batch-1 step alone: %.0f samples/s; the step (mlp_train_ftz) reaches %.1f%% of that rate",
         median(values["value", floor_key]), 100 * paired_median(step_key, floor_key, "value")
  if (("value", torch_key) in values)
    printf "; the floor itself is %.2fx PyTorch", paired_median(floor_key, torch_key, "value")
  printf "\n"
}

NF >= 5 && $5 ~ /^[0-9.e+-]+$/ {
  key = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
  rep = 0
  for (i = 6; i <= NF; ++i) if (split($i, kv, "=") == 2 && kv[1] == "rep") rep = kv[2] + 0
  if (rep > reps) reps = rep
  values["value", key] = values["value", key] " " $5
  by_rep["value", key, rep] = $5
  for (i = 6; i <= NF; ++i) if (split($i, kv, "=") == 2 && (kv[1] == "gflops" || kv[1] == "ce_nats")) {
    values[kv[1], key] = values[kv[1], key] " " kv[2]
    by_rep[kv[1], key, rep] = kv[2]
  }
  if ($1 == "uinfo") cases[$2 SUBSEP $3 SUBSEP $4] = 1
  if ($2 == "fma_avx512_gflops" && $3 == 1) {
    peak_key = key
    by_rep["gflops", peak_key, rep] = $5  # so that gflops ratios pair with it
  }
}

END {
  n = 0
  for (key in cases) order[++n] = key
  sort_cases(n)
  printf "%-19s %5s %7s %10s %-10s %10s %7s\n", "case", "batch", "threads", "uinfo", "peer",
         "peer_value", "ratio"
  peer_count = split("uinfo-base pytorch dlib sklearn", peers, " ")
  for (i = 1; i <= n; ++i) {
    split(order[i], c, SUBSEP)
    mine = "uinfo" SUBSEP order[i]
    for (p = 1; p <= peer_count; ++p) {
      peer_case = c[1]
      if (peers[p] != "uinfo-base") sub(/_(ftz|warm)$/, "", peer_case)
      other = peers[p] SUBSEP peer_case SUBSEP c[2] SUBSEP c[3]
      if (!(("value", other) in values)) continue
      printf "%-19s %5d %7d %10.0f %-10s %10.0f %7.2f", c[1], c[3], c[2],
             median(values["value", mine]), peers[p], median(values["value", other]),
             paired_median(mine, other, "value")
      if (("ce_nats", mine) in values) {
        printf "  ce_nats=%.4f/%.4f", median(values["ce_nats", mine]),
               median(values["ce_nats", other])
      }
      printf "\n"
    }
  }
  memory_floor()
  if (peak_key == "") exit
  printf "\nFMA peak (1 thread, AVX-512): %.1f GFLOP/s (median); share of it that uinfo's training steps reach on the multiply-adds they execute:\n",
         median(values["value", peak_key])
  for (i = 1; i <= n; ++i) {
    split(order[i], c, SUBSEP)
    if (c[1] !~ /^(mlp|cnn_[a-z0-9]+|multiarea_rnn|rnn)_train/ || c[2] != 1) continue
    for (p = 0; p <= 1; ++p) {
      key = (p ? "uinfo-base" : "uinfo") SUBSEP order[i]
      if (!(("gflops", key) in values)) continue
      printf "%-19s %5d %-10s %8.1f GFLOP/s %6.1f%% of peak\n", c[1], c[3],
             p ? "uinfo-base" : "uinfo", median(values["gflops", key]),
             100 * paired_median(key, peak_key, "gflops")
    }
  }
}
