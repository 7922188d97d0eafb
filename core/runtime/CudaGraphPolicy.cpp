#include "core/runtime/CudaGraphPolicy.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

// Word for word the reasons of torch_tensorrt/runtime/_cudagraphs.py (the parity test compares them).
constexpr const char* kLazyDynamicReason =
    "dynamic_shapes_kernel_specialization_strategy='lazy' with dynamic inputs: TensorRT-RTX compiles "
    "shape-specialized kernels in the background during the first runs of each new shape and swaps them "
    "in later, which a recorded graph cannot follow; use dynamic_shapes_kernel_specialization_strategy="
    "'eager' or 'none'";
constexpr const char* kDataDependentReason = "the engine has data-dependent output shapes (it needs an output allocator)";
constexpr const char* kOuterReason = "an outer whole-graph capture records this engine";
constexpr const char* kStreamReason = "the stream the engine runs on cannot be captured";
constexpr const char* kNativeReason = "TensorRT-RTX captures the engine natively";
constexpr const char* kTorchReason = "torch CUDA graph around the engine";

CudaGraphPolicy::Decision make(CudaGraphPolicy::Path path, const char* reason = "") {
  CudaGraphPolicy::Decision d;
  d.path = path;
  d.reason = reason;
  return d;
}

} // namespace

CudaGraphPolicy::Decision CudaGraphPolicy::decide(const Inputs& in) {
  const bool lazy_dynamic = in.is_rtx && in.dynamic_inputs && in.kernel_strategy == KernelSpecializationStrategy::kLAZY;
  if (in.outer_capture) {
    // Someone else records this run: the engine must neither capture natively nor start a torch
    // capture, but lazy kernels and data-dependent outputs break that outer graph too.
    if (lazy_dynamic) {
      return make(Path::kNOT_CAPTURABLE, kLazyDynamicReason);
    }
    if (in.data_dependent_outputs) {
      return make(Path::kNOT_CAPTURABLE, kDataDependentReason);
    }
    return make(Path::kOUTER_WHOLE_GRAPH_CAPTURE, kOuterReason);
  }
  const bool wants_capture =
      in.cudagraphs_mode || (in.is_rtx && in.cuda_graph_strategy == CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE);
  if (!wants_capture) {
    return make(Path::kNO_CAPTURE);
  }
  if (!in.stream_capturable) {
    return make(Path::kNOT_CAPTURABLE, kStreamReason);
  }
  // Lazy kernels with dynamic inputs are left to TensorRT-RTX's native capture, which follows the
  // kernels it swaps in (Torch-TensorRT enables CUDA graphs on such engines with default settings).
  if (in.is_rtx) {
    // TensorRT-RTX decides itself which parts of a data-dependent engine it can capture.
    return make(Path::kRTX_NATIVE_CAPTURE, kNativeReason);
  }
  if (in.data_dependent_outputs) {
    // A graph cannot replay outputs whose size it only learns while running: run uncaptured.
    return make(Path::kNO_CAPTURE, kDataDependentReason);
  }
  return make(Path::kTORCH_SUBGRAPH_CAPTURE, kTorchReason);
}

const char* CudaGraphPolicy::path_name(Path path) {
  switch (path) {
    case Path::kNO_CAPTURE:
      return "no_capture";
    case Path::kTORCH_SUBGRAPH_CAPTURE:
      return "torch_subgraph_capture";
    case Path::kRTX_NATIVE_CAPTURE:
      return "rtx_native_capture";
    case Path::kOUTER_WHOLE_GRAPH_CAPTURE:
      return "outer_whole_graph_capture";
    case Path::kNOT_CAPTURABLE:
      return "not_capturable";
  }
  return "?";
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
