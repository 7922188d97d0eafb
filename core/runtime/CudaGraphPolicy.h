// Who captures an engine's work into a CUDA graph, decided per execution (DESIGN.md section 4:
// "never two captures of the same work"). The same rule set as the Python runtime's
// torch_tensorrt.runtime._cudagraphs.decide_capture: same inputs, same path names, same reasons.
// tests/py/runtime/test_cudagraph_policy_parity.py asserts both on every combination of inputs
// through the tensorrt::_decide_capture op (register_policy_ops.cpp).
//
//  1. An outer capture is in progress (whole-graph capture of a mixed module, or a user's own
//     torch.cuda.graph): the engine is recorded by it (outer_whole_graph_capture), its context
//     created without native capture; not_capturable when lazy kernels with dynamic inputs or
//     data-dependent outputs would break the outer graph.
//  2. Something asks for a capture (subgraph mode, or cuda_graph_strategy="whole_graph_capture" on
//     TensorRT-RTX): not_capturable when the stream cannot be captured or lazy kernels with dynamic
//     inputs would invalidate the graph; on TensorRT-RTX the engine captures itself
//     (rtx_native_capture); elsewhere a torch graph around the engine (torch_subgraph_capture),
//     except for data-dependent outputs, which run uncaptured (no_capture).
//  3. Otherwise no_capture.
#pragma once

#include <string>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class CudaGraphPolicy {
 public:
  enum class Path { kNO_CAPTURE, kTORCH_SUBGRAPH_CAPTURE, kRTX_NATIVE_CAPTURE, kOUTER_WHOLE_GRAPH_CAPTURE, kNOT_CAPTURABLE };

  struct Inputs {
    bool cudagraphs_mode = false; // get_cudagraphs_mode()
    bool outer_capture = false; // the caller's stream is being captured
    bool is_rtx = false; // the backend captures natively (BackendFeatures::native_cuda_graphs)
    // The settings as they apply on the backend in use (their defaults where it lacks the feature).
    CudaGraphStrategy cuda_graph_strategy = CudaGraphStrategy::kDISABLED;
    KernelSpecializationStrategy kernel_strategy = KernelSpecializationStrategy::kLAZY;
    bool dynamic_inputs = false; // some input dimension has a range
    bool stream_capturable = true; // BackendExecutionContext::is_stream_capturable
    bool data_dependent_outputs = false; // requires an output allocator
  };

  struct Decision {
    Path path = Path::kNO_CAPTURE;
    std::string reason; // why (empty for a plain no_capture), worded as in Python
    // The CUDA graph strategy the execution context must be created with: TensorRT-RTX applies it
    // when a context is created (IRuntimeConfig), so a different one means a new context.
    CudaGraphStrategy native_strategy() const {
      return path == Path::kRTX_NATIVE_CAPTURE ? CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE : CudaGraphStrategy::kDISABLED;
    }
    // Paths that capture on the engine's stream, so its capturability must be asked of the context.
    bool captures_engine_stream() const {
      return path == Path::kTORCH_SUBGRAPH_CAPTURE || path == Path::kRTX_NATIVE_CAPTURE;
    }
  };

  static Decision decide(const Inputs& in);
  // "no_capture", "torch_subgraph_capture", ... (the Python constants' values).
  static const char* path_name(Path path);
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
