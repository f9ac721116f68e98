#!/usr/bin/env bash
# Creates .venv and installs Kaiku with everything it needs, from nothing.
#
# torch comes first and pinned. On Linux the default index (PyPI) has the CUDA build of torch, which pulls
# about 19 nvidia/cuda/triton packages (several GB); so by default torch comes from PyTorch's CPU wheel index.
#   KAIKU_TORCH=cpu    (default) the CPU build from KAIKU_TORCH_CPU_INDEX; if that index cannot be reached,
#                      from pip's configured index (a mirror, a local wheel folder: `pip config list`)
#   KAIKU_TORCH=cuda   the build of pip's configured index: CUDA on Linux from PyPI
# A torch of the pinned version already in .venv is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
TORCH_VERSION=2.13.0
KAIKU_TORCH="${KAIKU_TORCH:-cpu}"
KAIKU_TORCH_CPU_INDEX="${KAIKU_TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"

case "$KAIKU_TORCH" in
    cpu | cuda) ;;
    *) echo "install.sh: KAIKU_TORCH must be 'cpu' or 'cuda', got '$KAIKU_TORCH'" >&2; exit 2 ;;
esac

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip_install() { .venv/bin/python -m pip install --quiet --disable-pip-version-check "$@"; }

installed="$(.venv/bin/python -c 'import torch; print(torch.__version__)' 2>/dev/null || true)"
if [ "${installed%%+*}" = "$TORCH_VERSION" ]; then
    echo "install.sh: torch $installed already installed, kept"
elif [ "$KAIKU_TORCH" = cuda ]; then
    pip_install "torch==$TORCH_VERSION"
# Short timeout, one retry: an unreachable index (offline, firewalled) should fall back quickly.
elif ! pip_install --timeout 15 --retries 1 --index-url "$KAIKU_TORCH_CPU_INDEX" "torch==$TORCH_VERSION"; then
    echo "install.sh: $KAIKU_TORCH_CPU_INDEX not reachable; torch $TORCH_VERSION from pip's configured index" >&2
    pip_install "torch==$TORCH_VERSION"
fi
pip_install -e ".[test]"
