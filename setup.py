"""Build the torch_tensorrt package (Python part; the C++ runtime is added by the runtime issue).

  python setup.py bdist_wheel              -> torch_tensorrt (requires tensorrt)
  python setup.py bdist_wheel --use-rtx    -> torch_tensorrt_rtx (requires tensorrt-rtx)
Build with --no-build-isolation so the installed torch is used.
"""

from __future__ import annotations

import os
import sys

from setuptools import find_packages, setup

USE_RTX = os.environ.get("USE_TRT_RTX", "0") == "1"
if "--use-rtx" in sys.argv:
    sys.argv.remove("--use-rtx")
    USE_RTX = True

here = os.path.dirname(os.path.abspath(__file__))
version: dict[str, str] = {}
with open(os.path.join(here, "py", "torch_tensorrt", "_version.py")) as f:
    exec(f.read(), version)  # noqa: S102 - our own version file

setup(
    name="torch_tensorrt_rtx" if USE_RTX else "torch_tensorrt",
    version=version["__version__"],
    description="Compile PyTorch models into TensorRT-RTX / TensorRT engines",
    package_dir={"": "py"},
    packages=find_packages(where="py"),
    python_requires=">=3.10",
    install_requires=["torch>=2.9", "numpy", "tensorrt-rtx" if USE_RTX else "tensorrt"],
    extras_require={"progress": ["tqdm"]},
)
