#!/usr/bin/env bash
# Installs what attnjit needs to build and test. Idempotent: asks apt only for
# packages that are missing, and does nothing when all are present.
# The CUDA toolkit (nvcc, NVRTC) is not a Debian package here: it is expected at
# /usr/local/cuda, and its absence is an error.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  cmake ninja-build g++
  clang-14 libclang-rt-14-dev llvm-14-tools   # fuzz preset (libFuzzer), FileCheck + lit
  libgtest-dev libbenchmark-dev
  libsqlite3-dev libssl-dev libfmt-dev libcli11-dev nlohmann-json3-dev libdlpack-dev
  python3                                      # lit
)

installed() {
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif [ -t 0 ]; then
    sudo "$@"
  else
    sudo -n "$@"  # no terminal (CI): fail at once rather than wait for a password
  fi
}

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
fi

cuda=/usr/local/cuda
problems=()
[ -x "$cuda/bin/nvcc" ] || problems+=("$cuda/bin/nvcc")
[ -f "$cuda/include/nvrtc.h" ] || problems+=("$cuda/include/nvrtc.h")
compgen -G "$cuda/lib64/libnvrtc.so*" >/dev/null || problems+=("$cuda/lib64/libnvrtc.so")
if [ "${#problems[@]}" -gt 0 ]; then
  {
    echo "setup: the CUDA toolkit is missing or incomplete; not found: ${problems[*]}"
    echo "setup: install the CUDA 13 toolkit (nvcc, NVRTC, headers) so that it lives at $cuda;"
    echo "setup: it is not installed by this script. A GPU is not needed to build or test."
  } >&2
  exit 1
fi
