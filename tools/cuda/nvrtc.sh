#!/usr/bin/env bash
# Installs NVIDIA's NVRTC (the CUDA runtime compiler) from PyPI into a virtual environment
# and prints the folder holding libnvrtc.so.13, for LD_LIBRARY_PATH. Lets a machine without
# a GPU or a CUDA toolkit compile hyv's CUDA kernels to PTX (the CUDA backend's PTX tests).
#
#   export LD_LIBRARY_PATH="$(tools/cuda/nvrtc.sh)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
#
# The venv is reused when it already has the pinned version (HYV_NVRTC_VENV, default
# target/cuda-nvrtc-venv). NVRTC is pinned to 13.0.x: its PTX (ISA 9.0) loads on any CUDA 13
# driver, while newer NVRTCs emit PTX that only newer drivers can JIT. Progress goes to
# stderr; stdout is the library folder only.
set -euo pipefail

VERSION="13.0.88"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${HYV_NVRTC_VENV:-$ROOT/target/cuda-nvrtc-venv}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "nvrtc.sh: creating $VENV" >&2
  if ! python3 -m venv "$VENV" >&2; then
    echo "nvrtc.sh: python3 -m venv failed; on Debian: apt-get install python3-venv" >&2
    exit 1
  fi
fi
installed="$("$VENV/bin/python" -m pip show nvidia-cuda-nvrtc 2>/dev/null | sed -n 's/^Version: //p' || true)"
if [ "$installed" != "$VERSION" ]; then
  echo "nvrtc.sh: installing nvidia-cuda-nvrtc==$VERSION (about 140 MB) into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "nvidia-cuda-nvrtc==$VERSION" >&2
fi
lib="$("$VENV/bin/python" -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13", "lib"))')"
if [ ! -e "$lib/libnvrtc.so.13" ]; then
  echo "nvrtc.sh: libnvrtc.so.13 not found in $lib after installing nvidia-cuda-nvrtc==$VERSION" >&2
  exit 1
fi
echo "$lib"
