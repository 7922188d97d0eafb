"""Defines only the TensorRT backend target compiles with (`local_defines`, never propagated).

They gate declarations inside the SDK's own headers, which only the backend includes, so they must
not leak into the rest of the runtime. The backend (//core/runtime:tensorrt_backend) and the
define-matrix test (//tests/bazel:define_matrix_test) both take them from here, so the matrix test
checks exactly what the backend is compiled with. The platform-wide defines are in
toolchains/BUILD.bazel (:trt_defines).

ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION: TensorRT-RTX declares part of its API (among it
IExecutionContext::isStreamCapturable) only inside `#if ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION`.
Set on the rtx configs; setup.py's cpp_defines sets it for the rtx wheel.
"""

def trt_backend_local_defines():
    return select({
        "//toolchains:rtx_x86_64": ["ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION"],
        "//toolchains:rtx_win": ["ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION"],
        "//conditions:default": [],
    })
