#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine of ours (no GPU needed).
# torch/torchvision come from the machine's local wheel cache; never let pip pull another torch.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# C++ test dependencies (googletest sources for the C++ runtime tests) from Debian's packages.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && [ ! -d /usr/src/googletest ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq googletest >/dev/null
fi
$PY -m pip install --quiet "torch==2.14.1" "torchvision==0.29.1"
$PY -m pip install --quiet "tensorrt-rtx==1.7.1.116" "numpy" "tqdm" "pytest" "hypothesis" "ruff" "pytest-xdist" "transformers==5.23.0"
# The package itself, against the installed torch (build isolation would fetch another torch);
# this also compiles the C++ runtime extension torch_tensorrt._C in place.
USE_TRT_RTX=1 $PY -m pip install --quiet --no-build-isolation --no-deps -e .
$PY -c "import torch_tensorrt, torch; print('torch', torch.__version__, '| torch_tensorrt', torch_tensorrt.__version__, '| features', torch_tensorrt.ENABLED_FEATURES)"
