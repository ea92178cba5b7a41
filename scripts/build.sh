#!/usr/bin/env bash
# Installs what is missing, configures the `default` preset (build/default) and
# builds it with every core. Build messages go to stderr (callers print results on stdout).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
# Configure on the first run or when the presets changed; otherwise ninja re-runs
# cmake by itself when a CMakeLists.txt changes.
if [ ! -f build/default/build.ninja ] || [ CMakePresets.json -nt build/default/CMakeCache.txt ]; then
  cmake --preset default >&2
fi
cmake --build --preset default -j "$(nproc)" >&2
