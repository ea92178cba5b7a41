#!/usr/bin/env bash
# Here, on the machine without a GPU: build, then gather what the GPU machine
# runs into .device/ (ignored by git, carried by the device tool): the stripped
# binaries, the peers' benchmark script, and nothing it would have to build.
# Then, on the GPU machine: scripts/gpu-run.sh [tests|bench|peers|all].
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/build.sh >&2
rm -rf .device && mkdir -p .device
for binary in build/default/tools/attnjit build/default/tests/gpu_tests build/default/tests/runtime_tests \
  build/default/examples/api/engine_demo; do
  strip -o ".device/$(basename "$binary")" "$binary"
done
cp ../shared/bench/peers.py .device/
du -sh .device >&2
