#!/usr/bin/env bash
# On the GPU machine, over the binaries scripts/gpu-prepare.sh gathered:
#   tests  the GPU tests (every example against the CPU reference), the runtime
#          tests, the API example, and cold against warm start of the cache
#   tune   `attnjit tune` on 3 variants x 3 shapes; the cache (kernels and
#          tuning records) is left in $OUT/cache
#   bench  attnjit's kernels on the shapes of ../shared/bench/peers.py: default
#          family and configs (fa3_sm90 on an H100), fa2_sm80 beside them, and
#          tuned configs from .device/cache (or $OUT/cache)
#   decode the decode family on peers.py's decode shapes, KV contiguous and paged
#   peers  peers.py itself (SDPA backends, FlexAttention), in the same run
#   persistent  fa3_sm90's persistent grid against its CTA-per-tile one, two
#          rounds alternating, on the shapes where CTAs are short or long
#   all    tests, tune, bench, decode and peers, then tables of attnjit against the peers
# Several may be given, e.g. `tests tune`. Logs and JSON go to $OUT (or ./gpu-out).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what=" ${*:-all} "
[ "$what" = " all " ] && what=" tests tune bench decode peers "
out="${OUT:-gpu-out}"
mkdir -p "$out"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
status=0
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
want() { [[ "$what" == *" $1 "* ]]; }

# The variants and shapes tuned, and benchmarked tuned against default.
tuned_cases=(
  "causal_d128 b=16,h=16,sq=1024" "causal_d128 b=4,h=16,sq=4096" "causal_d128 b=1,h=16,sq=16384"
  "dense_d64 b=16,h=32,sq=1024" "dense_d64 b=4,h=32,sq=4096" "dense_d64 b=1,h=32,sq=16384"
  "sliding1024 b=4,h=16,sq=4096" "sliding1024 b=2,h=16,sq=8192" "sliding1024 b=1,h=16,sq=16384"
)

if want tests; then
  .device/runtime_tests --gtest_brief=1 2>&1 | tee "$out/runtime_tests.log" | tail -3 || status=1
  # In 8 shards at once, as sessions 33-35 ran it (228 s for the suite then).
  for i in 0 1 2 3 4 5 6 7; do
    GTEST_TOTAL_SHARDS=8 GTEST_SHARD_INDEX=$i .device/gpu_tests --gtest_brief=1 \
      >"$out/gpu_tests_$i.log" 2>&1 &
  done
  for job in $(jobs -p); do wait "$job" || status=1; done
  cat "$out"/gpu_tests_?.log >"$out/gpu_tests.log"
  grep -hE '^\[ +(PASSED|FAILED|SKIPPED) +\]|Failure' "$out/gpu_tests.log" | sort | uniq -c | tail -40
  # Cold and warm start: two processes over one fresh cache.
  fresh=$(mktemp -d)
  for i in cold warm; do
    .device/engine_demo --cache-dir "$fresh/demo" || status=1
    .device/attnjit run examples/causal.attn --shape b=1,h=8,sq=1000 --check --cache-dir "$fresh/run" ||
      status=1
  done 2>&1 | tee "$out/warm_start.log"
fi

if want tune; then
  for case in "${tuned_cases[@]}"; do
    set -- $case
    .device/attnjit tune bench/peer_variants.attn --variant "$1" --shape "$2" --budget 40 \
      --cache-dir "$out/cache" --json >"$out/tune_$1_${2//[=,]/_}.json" 2>>"$out/tune.log" || status=1
  done
  python3 - "$out" <<'PY' | tee "$out/tune_table.txt"
import glob, json, sys
rows = [r for f in sorted(glob.glob(sys.argv[1] + "/tune_*.json")) for r in json.load(open(f))]
print(f"{'variant':<13} {'shape':<17} {'best config':<21} {'ms':>8} {'TF/s':>6} {'default config':<21} {'ms':>8} {'gain':>6} {'ok/all':>7} {'s':>5}")
for r in rows:
    ok = sum(c["outcome"] == "measured" for c in r["candidates"])
    print(f"{r['variant']:<13} {r['shape']:<17} {r['best_config']:<21} {r['best_ms']:>8.4f} {r['best_tflops']:>6.1f} "
          f"{r['default_config']:<21} {r['default_ms']:>8.4f} {r['speedup']:>5.2f}x {ok:>3}/{len(r['candidates']):<3} {r['tuning_seconds']:>5.1f}")
PY
fi

if want bench; then
  : >"$out/attnjit.jsonl"
  run() {  # label variant shape [attnjit run options...]
    .device/attnjit run bench/peer_variants.attn --variant "$2" --shape "$3" --iters 30 --json "${@:4}" |
      python3 -c 'import json,sys; r=json.load(sys.stdin); r["label"]=sys.argv[1]; print(json.dumps(r))' "$1" \
        >>"$out/attnjit.jsonl" || { echo "bench: $2 $3 failed" >&2; status=1; }
  }
  for d in 64 128; do
    for kind in dense causal; do
      for s in 1024 4096 16384; do
        run default "${kind}_d$d" "b=$((16384 / s)),h=$((2048 / d)),sq=$s" --no-cache
        run fa2 "${kind}_d$d" "b=$((16384 / s)),h=$((2048 / d)),sq=$s" --no-cache --family fa2_sm80
      done
    done
  done
  for v in dense_d128 causal_d128 sliding1024 document_causal prefixlm2048 causal_alibi causal_softcap; do
    run default "$v" "b=2,h=16,sq=8192" --no-cache
    run fa2 "$v" "b=2,h=16,sq=8192" --no-cache --family fa2_sm80
  done
  tuned_cache=".device/cache"
  [ -d "$tuned_cache" ] || tuned_cache="$out/cache"
  if [ -d "$tuned_cache" ]; then
    for case in "${tuned_cases[@]}"; do
      set -- $case
      run tuned "$1" "$2" --cache-dir "$tuned_cache"
      [[ "$1" == sliding1024 ]] && run default "$1" "$2" --no-cache
    done
  fi
fi

if want decode; then
  : >"$out/decode.jsonl"
  for v in decode decode_paged16; do
    for shape in b=1,h=32,hkv=8,sq=1,sk=131072 b=8,h=32,hkv=8,sq=1,sk=32768 b=64,h=32,hkv=8,sq=1,sk=4096; do
      .device/attnjit run bench/decode_variants.attn --variant "$v" --shape "$shape" --iters 50 --json --no-cache |
        python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' >>"$out/decode.jsonl" ||
        { echo "decode: $v $shape failed" >&2; status=1; }
    done
  done
  # peers.py's own decode cases and copy ceiling, in the same run: its setup,
  # then those two parts of it (it prints decode rows, not into peers.json).
  python3 - >"$out/peers-decode.log" 2>&1 <<'PY' || status=1
src = open(".device/peers.py").read()
setup = src[:src.index("# ceilings")]
copy = src[src.index("x = torch.empty("):src.index("del a, b, x, y")]
decode = src[src.index("# Decode:"):src.index("out = os.environ")]
exec(setup + copy + decode)
PY
fi

if want persistent; then
  ms() {  # file variant shape [config]: the median ms of `attnjit run --iters 30`
    .device/attnjit run "bench/$1" --variant "$2" --shape "$3" --iters 30 --no-cache \
      --family fa3_sm90 ${4:+--config "$4"} 2>&1 | grep -oE '[0-9.]+ ms' | tr -d ' ms'
  }
  {
    printf '%-16s %-18s %-22s %s\n' variant shape "persistent config" "default ms, persistent ms (x2)"
    for case in "document_causal b=2,h=16,sq=8192" "sliding1024 b=2,h=16,sq=8192" \
      "causal_d128 b=2,h=16,sq=8192" "causal_alibi b=2,h=16,sq=8192" \
      "prefixlm2048 b=2,h=16,sq=8192" "dense_d128 b=4,h=16,sq=4096" \
      "causal_d128 b=4,h=16,sq=4096" "dense_d128 b=1,h=16,sq=16384" \
      "causal_d128 b=1,h=16,sq=16384" "fp8_dense_d128 b=4,h=16,sq=4096" \
      "fp8_causal_d128 b=4,h=16,sq=4096" "fp8_dense_d128 b=1,h=16,sq=16384"; do
      set -- $case
      file=peer_variants.attn config=persistent=1,stages=2
      [[ "$1" == fp8* ]] && file=precision_variants.attn config=persistent=1
      printf '%-16s %-18s %-22s %s %s %s %s\n' "$1" "$2" "$config" "$(ms $file "$1" "$2")" \
        "$(ms $file "$1" "$2" $config)" "$(ms $file "$1" "$2")" "$(ms $file "$1" "$2" $config)"
    done
  } | tee "$out/persistent.txt"
fi

if want peers; then
  OUT="$out" PYTHONUNBUFFERED=1 python3 .device/peers.py >"$out/peers.log" 2>&1 || status=1
fi

if [ -s "$out/attnjit.jsonl" ] && [ -s "$out/peers.json" ]; then
  python3 scripts/compare_peers.py "$out/attnjit.jsonl" "$out/peers.json" | tee "$out/table.txt"
fi
if [ -s "$out/decode.jsonl" ]; then
  python3 scripts/compare_decode.py "$out/decode.jsonl" "$out/peers-decode.log" | tee "$out/decode.txt"
fi
exit $status
