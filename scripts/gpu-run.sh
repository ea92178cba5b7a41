#!/usr/bin/env bash
# On the GPU machine, over the binaries scripts/gpu-prepare.sh gathered:
#   tests  the GPU tests (every example against the CPU reference) and runtime tests
#   bench  attnjit's kernels on the shapes of ../shared/bench/peers.py
#   peers  peers.py itself (SDPA backends, FlexAttention), in the same run
#   all    all three, then one table of attnjit against the peers
# Logs and JSON go to $OUT (or ./gpu-out).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:-all}"
out="${OUT:-gpu-out}"
mkdir -p "$out"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
status=0
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader

if [ "$what" = tests ] || [ "$what" = all ]; then
  .device/runtime_tests --gtest_brief=1 2>&1 | tee "$out/runtime_tests.log" | tail -3 || status=1
  .device/gpu_tests --gtest_brief=1 2>&1 | tee "$out/gpu_tests.log" | tail -40 || status=1
fi

if [ "$what" = bench ] || [ "$what" = all ]; then
  : >"$out/attnjit.jsonl"
  run() {  # variant shape [attnjit run options...]
    .device/attnjit run bench/peer_variants.attn --variant "$1" --shape "$2" --iters 30 --json "${@:3}" |
      python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' >>"$out/attnjit.jsonl" ||
      { echo "bench: $1 $2 failed" >&2; status=1; }
  }
  for d in 64 128; do
    for kind in dense causal; do
      for s in 1024 4096 16384; do
        run "${kind}_d$d" "b=$((16384 / s)),h=$((2048 / d)),sq=$s"
        # 32 rows per warp: faster, though it spills at some head sizes (the tuner's call).
        run "${kind}_d$d" "b=$((16384 / s)),h=$((2048 / d)),sq=$s" --config "bm=128,bn=$((8192 / d)),warps=4"
      done
    done
  done
  for v in dense_d128 causal_d128 sliding1024 document_causal prefixlm2048 causal_alibi causal_softcap; do
    run "$v" "b=2,h=16,sq=8192"
  done
fi

if [ "$what" = peers ] || [ "$what" = all ]; then
  OUT="$out" PYTHONUNBUFFERED=1 python3 .device/peers.py >"$out/peers.log" 2>&1 || status=1
fi

if [ -s "$out/attnjit.jsonl" ] && [ -s "$out/peers.json" ]; then
  python3 scripts/compare_peers.py "$out/attnjit.jsonl" "$out/peers.json" | tee "$out/table.txt"
fi
exit $status
