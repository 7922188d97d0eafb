// The objects and C++ state of an _EngineFastPath (engine_fast_path.h), shared by the call
// (engine_fast_path.cpp) and the Python type around it (engine_fast_path_type.cpp). Internal to the
// Python extension module.
#pragma once

#include <Python.h>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace torch_tensorrt::core::runtime::python::fast_path {

using Sizes = std::vector<int64_t>;

// The Python objects a fast path holds, by constructor keyword (the order of kKeywords).
enum Ref : int {
  kEngine, // the TRTEngine
  kPlan, // (stamp, decision, context): the plan this path was made for
  kAcquire, // engine._lock.acquire / .release
  kRelease,
  kPinnedBackend, // engine._pinned_backend
  kBackendVar, // the context variable of the active backend (current_backend)
  kDefaultBackend, // (globals, name) of the backend used when none is active
  kDefaults, // (globals, name) of the process-wide runtime defaults (process_defaults)
  kFeatures, // (globals, name) of ENABLED_FEATURES as the engine's module sees it
  kRtxName, // its attribute read into the stamp ("tensorrt_rtx")
  kCudagraphs, // (globals, name) of the CUDA-graph mode (get_cudagraphs_mode)
  kMultiDevice, // (globals, name) of the multi-device safe mode (get_multi_device_safe_mode)
  kOuterCaptureVar, // the context variable OUTER_CAPTURE
  kIsCapturing, // torch.cuda.is_current_stream_capturing
  kNames, // tuple of the input names
  kOutputs, // tuple of (output name, torch.dtype)
  kSetShape, // the context's bound methods
  kBind,
  kOutputShape,
  kRun, // context.execute, or engine._launch on CUDA
  kRunArg, // its argument: None, or the context
  kDevice, // the outputs' torch.device, None for host engines
  kShapesState, // engine._fast_shapes: [input shapes set on the context or None, output entries]
  kFallback, // the pure-Python runner of the same plan and shape state
  kRefCount
};

inline constexpr const char* kKeywords[kRefCount] = {
    "engine", "plan", "acquire", "release",
    "pinned_backend", "backend_var", "default_backend", "defaults",
    "features", "rtx_name", "cudagraphs", "multi_device",
    "outer_capture_var", "is_capturing", "names", "outputs",
    "set_shape", "bind", "output_shape", "run",
    "run_arg", "device", "shapes_state", "fallback"};

// The last signature key built for an input (the (shape, dtype, device) tuple engine._accepted holds)
// and the tensor facts it stands for: a call with the same facts reuses the key.
struct Signature {
  Sizes sizes;
  at::ScalarType dtype = at::ScalarType::Undefined;
  c10::Device device{c10::kCPU};
  PyObject* key = nullptr; // strong
};

// What this path knows of the shape state: valid while shapes_state[0] is `list` (which it wrote, or
// read after the Python runner wrote it).
struct KnownShapes {
  PyObject* list = nullptr; // strong
  std::vector<Sizes> inputs;
  std::vector<Sizes> outputs;
};

struct State {
  Py_ssize_t count = 0;
  std::vector<at::ScalarType> output_dtypes;
  std::optional<c10::Device> device; // set on CUDA engines
  bool pinned = false; // engine._pinned_backend is truthy
  bool stamp_backend_is_cuda = false; // the plan's backend runs on CUDA
  std::vector<Signature> signatures;
  KnownShapes known;
};

struct FastPath {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* refs[kRefCount];
  State* state;
};

// A process-lifetime interned string (names read on every call).
inline PyObject* interned(const char* name) {
  PyObject* s = PyUnicode_InternFromString(name);
  TORCH_CHECK(s != nullptr, "could not intern ", name);
  return s;
}

// One call (engine_fast_path.h's run_engine_fast_path).
PyObject* run(FastPath* self, PyObject* inputs);

} // namespace torch_tensorrt::core::runtime::python::fast_path
