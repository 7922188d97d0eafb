# The C++ runtime's source lists: one definition for both build paths.
# Loaded by Bazel (load("//core/runtime:sources.bzl", ...)) and parsed by setup.py with
# ast.literal_eval, so keep it to plain list assignments of string literals.
# Paths are relative to the repository root.

# Everything that compiles without a TensorRT SDK.
RUNTIME_SOURCES = [
    "core/runtime/runtime.cpp",
    "core/runtime/text.cpp",
    "core/runtime/Json.cpp",
    "core/runtime/ShapeExpr.cpp",
    "core/runtime/Base64.cpp",
    "core/runtime/Sha256.cpp",
    "core/runtime/EngineMetadata.cpp",
    "core/runtime/EngineInfo.cpp",
    "core/runtime/FileIO.cpp",
    "core/runtime/ScopedFileLock.cpp",
    "core/runtime/RuntimeCacheFile.cpp",
    "core/runtime/RuntimeCacheLocation.cpp",
    "core/runtime/RuntimeDefaults.cpp",
    "core/runtime/TRTRuntimeConfig.cpp",
    "core/runtime/CudaGraphPolicy.cpp",
    "core/runtime/OptimizationProfiles.cpp",
    "core/runtime/AliasedIO.cpp",
    "core/runtime/UnavailableBackend.cpp",
    "core/runtime/DispatcherGraphCapture.cpp",
    "core/runtime/DispatcherExecutionContext.cpp",
    "core/runtime/DispatcherEngine.cpp",
    "core/runtime/DispatcherBackend.cpp",
    "core/runtime/register_dispatcher_ops.cpp",
    "core/runtime/BackendRegistry.cpp",
    "core/runtime/TRTEngine.cpp",
    "core/runtime/TRTEngineProfiles.cpp",
    "core/runtime/EngineProfiler.cpp",
    "core/runtime/TRTEngineProfiling.cpp",
    "core/runtime/EngineRegistry.cpp",
    "core/runtime/TorchOutputAllocator.cpp",
    "core/runtime/EngineStreams.cpp",
    "core/runtime/EngineInputChecks.cpp",
    "core/runtime/execute_engine.cpp",
    "core/runtime/register_jit_hooks.cpp",
    "core/runtime/register_cache_ops.cpp",
    "core/runtime/register_policy_ops.cpp",
]

RUNTIME_HEADERS = [
    "core/runtime/runtime.h",
    "core/runtime/text.h",
    "core/runtime/DataType.h",
    "core/runtime/Json.h",
    "core/runtime/ShapeExpr.h",
    "core/runtime/Base64.h",
    "core/runtime/Sha256.h",
    "core/runtime/EngineMetadata.h",
    "core/runtime/EngineInfo.h",
    "core/runtime/EngineBackend.h",
    "core/runtime/FileIO.h",
    "core/runtime/ScopedFileLock.h",
    "core/runtime/WindowsApi.h",
    "core/runtime/TorchOutputAllocator.h",
    "core/runtime/EngineStreams.h",
    "core/runtime/EngineInputChecks.h",
    "core/runtime/RuntimeCacheFile.h",
    "core/runtime/RuntimeCacheLocation.h",
    "core/runtime/RuntimeDefaults.h",
    "core/runtime/TRTRuntimeConfig.h",
    "core/runtime/CudaGraphPolicy.h",
    "core/runtime/OptimizationProfiles.h",
    "core/runtime/AliasedIO.h",
    "core/runtime/UnavailableBackend.h",
    "core/runtime/DispatcherGraphCapture.h",
    "core/runtime/DispatcherExecutionContext.h",
    "core/runtime/DispatcherEngine.h",
    "core/runtime/DispatcherBackend.h",
    "core/runtime/BackendRegistry.h",
    "core/runtime/TRTEngine.h",
    "core/runtime/EngineProfiler.h",
    "core/runtime/EngineRegistry.h",
    "core/runtime/execute_engine.h",
]

# The Python extension module (setup.py only; Bazel builds a plain shared library): its init and eager
# call path, and the Python runtime's per-call fast path in C (engine_fast_path.h: the call, and the
# Python type around it; engine_fast_path_state.h is what both share).
PYTHON_MODULE_SOURCES = [
    "core/runtime/python_module.cpp",
    "core/runtime/engine_fast_path.cpp",
    "core/runtime/engine_fast_path_type.cpp",
]

# The TensorRT backend target (needs an SDK); only TensorRTSdk.h includes the SDK header.
BACKEND_SOURCES = [
    "core/runtime/backend/TensorRTBackend.cpp",
    "core/runtime/backend/TensorRTEngine.cpp",
    "core/runtime/backend/TensorRTExecutionContext.cpp",
    "core/runtime/backend/TensorRTRuntimeConfig.cpp",
    "core/runtime/backend/TensorRTLogger.cpp",
    "core/runtime/backend/CudaGraphCapture.cpp",
]

BACKEND_HEADERS = [
    "core/runtime/backend/TensorRTBackend.h",
    "core/runtime/backend/TensorRTEngine.h",
    "core/runtime/backend/TensorRTExecutionContext.h",
    "core/runtime/backend/TensorRTRuntimeConfig.h",
    "core/runtime/backend/TensorRTLogger.h",
    "core/runtime/backend/TensorRTSdk.h",
    "core/runtime/backend/CudaGraphCapture.h",
]

# The fake backend (tests only): linked into the C++ test binary and built as a loadable library
# for the Python tests (see tests/core/run_cpp_tests.sh).
FAKE_BACKEND_SOURCES = [
    "tests/core/fake_backend.cpp",
]

# C++ unit tests (googletest).
TEST_SOURCES = [
    "tests/core/test_text_and_base64.cpp",
    "tests/core/test_json.cpp",
    "tests/core/test_shape_expr.cpp",
    "tests/core/test_engine_info.cpp",
    "tests/core/test_runtime_config.cpp",
    "tests/core/test_runtime_cache_file.cpp",
    "tests/core/test_runtime_cache_location.cpp",
    "tests/core/test_cuda_graph_policy.cpp",
    "tests/core/test_execute_engine.cpp",
    "tests/core/test_backend_selection.cpp",
    "tests/core/test_profiles_and_budgets.cpp",
    "tests/core/test_shape_tensor_inputs.cpp",
    "tests/core/test_engine_profiling.cpp",
    "tests/core/test_aliased_io.cpp",
]
