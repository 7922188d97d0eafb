"""How this copy of torch_tensorrt was built.

``setup.py`` rewrites this file inside every wheel (its ``build_py`` step), so an installed wheel says
which flavour it is; the values below are those of a source checkout or an editable install. The
import name is ``torch_tensorrt`` for every flavour; only the distribution name differs.
"""

from __future__ import annotations

#: "torch_tensorrt" or "torch_tensorrt_rtx" in a wheel; None in a source checkout.
DISTRIBUTION: str | None = None
#: "standard" (TensorRT), "rtx" (TensorRT-RTX), "jetpack" (JetPack's TensorRT), or "source".
FLAVOUR: str = "source"
#: The TensorRT Python package the wheel requires ("tensorrt", "tensorrt-rtx"; None for jetpack/source).
TENSORRT_REQUIREMENT: str | None = None
#: True if the wheel was built with the C++ runtime extension (torch_tensorrt._C), False for
#: --py-only, None in a source checkout.
CPP_RUNTIME: bool | None = None
#: True if the C++ runtime was compiled against a TensorRT SDK (else TRT_NO_SDK); None if unknown.
TENSORRT_SDK: bool | None = None
#: The SDK the C++ runtime was compiled against (None without one, or unknown), as setup.py found it
#: through third_party/tensorrt/sdk_locations.json: "tensorrt" or "tensorrt_rtx", its version from
#: NvInferVersion.h ("10.3.0.30"), its folders on the build machine, and where it was found
#: ("env:TENSORRT_HOME", "install:/usr/local/TensorRT", "multiarch:aarch64-linux-gnu" for JetPack).
TENSORRT_SDK_KIND: str | None = None
TENSORRT_SDK_VERSION: str | None = None
TENSORRT_SDK_INCLUDE_DIR: str | None = None
TENSORRT_SDK_LIB_DIR: str | None = None
TENSORRT_SDK_ORIGIN: str | None = None
#: The preprocessor defines torch_tensorrt._C was compiled with (TRT_HAS_IRUNTIME_CONFIG everywhere
#: but jetpack, TRT_NO_SDK without an SDK); () without the C++ runtime, None in a source checkout.
DEFINES: tuple[str, ...] | None = None
