#!/usr/bin/env bash
# The project's test run (what CI runs through .ci/run):
#   1. install what is missing, build the `default` preset, run its CTest suite;
#   2. build the `fuzz` preset and run the front-end fuzzer for
#      ${ATTNJIT_FUZZ_SECONDS:-60} seconds, seeded with examples/;
#   3. print `N passed, N failed[, N skipped]`: CTest's counts plus the fuzz run as one test.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs="$(nproc)"
passed=0
failed=0
skipped=0
status=0

log_dir="$(mktemp -d)"
trap 'rm -rf "$log_dir"' EXIT

scripts/setup.sh

# --- 1. unit, golden and reference tests --------------------------------------
if cmake --preset default && cmake --build --preset default -j "$jobs"; then
  ctest_rc=0
  ctest --preset default -j "$jobs" --output-on-failure 2>&1 | tee "$log_dir/ctest.log" ||
    ctest_rc=$?
  # "95% tests passed, 2 tests failed out of 40": skipped tests are inside "passed".
  summary="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' \
    "$log_dir/ctest.log" | tail -n 1 || true)"
  if [ -n "$summary" ]; then
    total="$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")"
    ctest_failed="$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$summary")"
    ctest_skipped="$(grep -cE '^[[:space:]]*[0-9]+ - .* \(Skipped\)$' "$log_dir/ctest.log" || true)"
    passed=$((passed + total - ctest_failed - ctest_skipped))
    failed=$((failed + ctest_failed))
    skipped=$((skipped + ctest_skipped))
    if [ "$ctest_rc" -ne 0 ] && [ "$ctest_failed" -eq 0 ]; then
      failed=$((failed + 1))  # ctest failed without a failing test (no tests, bad preset...)
    fi
  else
    echo "test.sh: ctest printed no summary (exit $ctest_rc)" >&2
    failed=$((failed + 1))
  fi
  [ "$ctest_rc" -eq 0 ] || status=1
else
  echo "test.sh: the default build failed; its tests did not run" >&2
  failed=$((failed + 1))
  status=1
fi

# --- 2. fuzzing the front end ---------------------------------------------------
fuzz_ok=0
if cmake --preset fuzz && cmake --build --preset fuzz -j "$jobs" --target parse_fuzzer; then
  corpus="$log_dir/corpus"
  mkdir -p "$corpus" build/fuzz/artifacts
  cp examples/*.attn "$corpus"/
  if build/fuzz/tests/fuzz/parse_fuzzer \
      -max_total_time="${ATTNJIT_FUZZ_SECONDS:-60}" \
      -dict=tests/fuzz/dict.txt \
      -max_len=4096 \
      -rss_limit_mb=2048 \
      -timeout=10 \
      -print_final_stats=1 \
      -artifact_prefix=build/fuzz/artifacts/ \
      "$corpus" </dev/null; then
    fuzz_ok=1
  else
    echo "test.sh: parse_fuzzer found a failure; the input is in build/fuzz/artifacts/" >&2
  fi
else
  echo "test.sh: the fuzz build failed" >&2
fi
if [ "$fuzz_ok" -eq 1 ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  status=1
fi

[ "$failed" -eq 0 ] || status=1
line="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || line="$line, $skipped skipped"
echo "$line"
exit "$status"
