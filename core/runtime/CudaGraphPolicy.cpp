#include "core/runtime/CudaGraphPolicy.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

CudaGraphPolicy::Plan CudaGraphPolicy::decide(const Inputs& in) {
  Plan plan;
  if (in.outer_capture) {
    plan.decision = Decision::kOUTER_CAPTURE;
    plan.allow_native_capture = false;
    if (in.data_dependent_outputs) {
      plan.error =
          "this engine has data-dependent output shapes (it needs an output allocator), which cannot be captured "
          "into a CUDA graph; run it outside the capture or disable whole-graph CUDA graphs for this module";
    }
    return plan;
  }
  if (in.native_capture) {
    plan.decision = Decision::kNATIVE;
    plan.allow_native_capture = true;
    return plan;
  }
  if (in.subgraph_mode && !in.data_dependent_outputs) {
    plan.decision = Decision::kSUBGRAPH;
    return plan;
  }
  plan.decision = Decision::kNONE;
  return plan;
}

const char* CudaGraphPolicy::to_string(Decision d) {
  switch (d) {
    case Decision::kNONE:
      return "none";
    case Decision::kNATIVE:
      return "native";
    case Decision::kSUBGRAPH:
      return "subgraph";
    case Decision::kOUTER_CAPTURE:
      return "outer_capture";
  }
  return "?";
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
