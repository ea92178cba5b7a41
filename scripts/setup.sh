#!/usr/bin/env bash
# Installs what attnjit needs to build and test. Idempotent: asks apt only for
# packages that are missing, and does nothing when all are present.
# The CUDA toolkit (nvcc, NVRTC) is not a Debian package here: it is expected at
# /usr/local/cuda, and its absence is an error. Where the toolkit has no cuobjdump (nor
# nvdisasm), they are installed from PyPI into the git-ignored .tools/ (see the end).
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

apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  apt_install "${missing[@]}"
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

# cuobjdump (with nvdisasm, which `cuobjdump -sass` runs) lets the lit tests read a cubin's
# SASS without a GPU. Some CUDA 13 installs lack both; then they come from PyPI's NVIDIA wheels,
# installed into the git-ignored .tools/ and linked as .tools/bin/{cuobjdump,nvdisasm}, where
# tests/lit/lit.cfg.py looks after PATH and $cuda/bin. PyPI has no 13.0 wheels: 13.2 is the
# oldest, and it reads sm_80+ cubins from any CUDA 13.
sass_tools_version=13.2.86
sass_tools_dir=".tools/cuda-sass-$sass_tools_version"
sass_tools_bin="$sass_tools_dir/nvidia/cu13/bin"

# A cuobjdump that can disassemble: nvdisasm beside it (a toolkit's bin/) or on PATH.
sass_ready() {
  [ -x "$1/cuobjdump" ] && { [ -x "$1/nvdisasm" ] || command -v nvdisasm >/dev/null; }
}

system_cuobjdump="$(command -v cuobjdump || true)"
if ! { [ -n "$system_cuobjdump" ] && sass_ready "$(dirname "$system_cuobjdump")"; } &&
    ! sass_ready "$cuda/bin"; then
  if ! sass_ready "$sass_tools_bin"; then
    echo "setup: installing cuobjdump and nvdisasm $sass_tools_version from PyPI into .tools/" >&2
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    # Into a scratch folder first, so that an interrupted install leaves nothing half done.
    rm -rf "$sass_tools_dir.partial"
    PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install -q \
      --no-input --target "$sass_tools_dir.partial" \
      "nvidia-cuda-cuobjdump==$sass_tools_version" "nvidia-cuda-nvdisasm==$sass_tools_version"
    rm -rf "$sass_tools_dir"
    mv "$sass_tools_dir.partial" "$sass_tools_dir"
  fi
  mkdir -p .tools/bin
  for tool in cuobjdump nvdisasm; do
    target="../cuda-sass-$sass_tools_version/nvidia/cu13/bin/$tool"
    [ "$(readlink ".tools/bin/$tool" || true)" = "$target" ] || ln -sfn "$target" ".tools/bin/$tool"
  done
fi
