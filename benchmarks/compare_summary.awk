# The table of benchmarks/compare.sh: medians of repeated result lines
#     peer case threads batch value [key=value ...]
# (value: samples per second; extras: gflops= for uinfo's MLP steps, ce_nats= for probes), then
# one line per uinfo case and peer:
#     case batch threads uinfo peer peer_value ratio [ce_nats=uinfo/peer]
# and the share of the one-thread FMA peak (the `cpu fma_avx512_gflops` line) uinfo reaches.
# A peer's matching case is uinfo's without the `_ftz` / `_warm` suffix, except for uinfo-base
# (another uinfo build), which runs the very same cases.

function median(list,    v, n, i, j, t) {
  n = split(list, v, " ")
  for (i = 2; i <= n; ++i) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; --j) {
    t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
  }
  return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
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

NF >= 5 && $5 ~ /^[0-9.e+-]+$/ {
  key = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
  values[key] = values[key] " " $5
  for (i = 6; i <= NF; ++i) if (split($i, kv, "=") == 2 && (kv[1] == "gflops" || kv[1] == "ce_nats"))
    extra[kv[1], key] = extra[kv[1], key] " " kv[2]
}

END {
  for (key in values) {
    split(key, k, SUBSEP)
    m[key] = median(values[key])
    if (k[1] == "uinfo") cases[k[2] SUBSEP k[3] SUBSEP k[4]] = 1
    if (k[2] == "fma_avx512_gflops" && k[3] == 1) peak = m[key]
  }
  n = 0
  for (key in cases) order[++n] = key
  sort_cases(n)
  printf "%-19s %5s %7s %10s %-10s %10s %7s\n", "case", "batch", "threads", "uinfo", "peer",
         "peer_value", "ratio"
  peer_count = split("uinfo-base pytorch dlib sklearn", peers, " ")
  for (i = 1; i <= n; ++i) {
    split(order[i], c, SUBSEP)
    mine_key = "uinfo" SUBSEP order[i]
    for (p = 1; p <= peer_count; ++p) {
      peer_case = c[1]
      if (peers[p] != "uinfo-base") sub(/_(ftz|warm)$/, "", peer_case)
      other_key = peers[p] SUBSEP peer_case SUBSEP c[2] SUBSEP c[3]
      if (!(other_key in m)) continue
      printf "%-19s %5d %7d %10.0f %-10s %10.0f %7.2f", c[1], c[3], c[2], m[mine_key], peers[p],
             m[other_key], m[mine_key] / m[other_key]
      if (("ce_nats", mine_key) in extra) {
        printf "  ce_nats=%.4f/%.4f", median(extra["ce_nats", mine_key]),
               median(extra["ce_nats", other_key])
      }
      printf "\n"
    }
  }
  if (peak == "") exit
  printf "\nFMA peak (1 thread, AVX-512): %.1f GFLOP/s; MLP steps on the multiply-adds they execute:\n",
         peak
  for (i = 1; i <= n; ++i) {
    split(order[i], c, SUBSEP)
    if (c[1] !~ /^mlp_train/ || c[2] != 1) continue
    for (p = 0; p <= 1; ++p) {
      key = (p ? "uinfo-base" : "uinfo") SUBSEP order[i]
      if (!(("gflops", key) in extra)) continue
      gflops = median(extra["gflops", key])
      printf "%-19s %5d %-10s %8.1f GFLOP/s %6.1f%% of peak\n", c[1], c[3],
             p ? "uinfo-base" : "uinfo", gflops, 100 * gflops / peak
    }
  }
}
