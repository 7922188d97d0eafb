// Who captures an engine's work into a CUDA graph, decided per execution (DESIGN.md section 4:
// "never two captures of the same work").
//
//  1. An outer capture is in progress on the caller's stream (whole-graph capture of a mixed
//     module, or a user's torch.cuda.graph): plain enqueue into it, with the engine's native
//     capture turned off for the call.  Data-dependent output shapes cannot be captured: error.
//  2. Subgraph CUDA-graph mode (set_cudagraphs_mode(True)): if the engine captures natively
//     (TensorRT-RTX cuda_graph_strategy=whole_graph_capture) it is left to do so; engines with
//     data-dependent output shapes run uncaptured; otherwise the runtime captures the engine
//     into a torch-level graph and replays it.
//  3. Otherwise: native capture if the engine has it, else none.
#pragma once

#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class CudaGraphPolicy {
 public:
  enum class Decision { kNONE, kNATIVE, kSUBGRAPH, kOUTER_CAPTURE };

  struct Inputs {
    bool subgraph_mode = false; // get_cudagraphs_mode()
    bool native_capture = false; // the engine's context captures itself (RTX whole_graph_capture)
    bool outer_capture = false; // the caller's stream is being captured
    bool data_dependent_outputs = false; // requires an output allocator
  };

  struct Plan {
    Decision decision = Decision::kNONE;
    bool allow_native_capture = false; // passed to BackendExecutionContext::enqueue
    std::string error; // non-empty: refuse to run, with this message
  };

  static Plan decide(const Inputs& in);
  static const char* to_string(Decision d);
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
