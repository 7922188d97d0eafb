// tensorrt::_decide_capture: the C++ CUDA-graph rule set (CudaGraphPolicy) callable from Python, so
// tests/py/runtime/test_cudagraph_policy_parity.py can assert it against the Python runtime's
// decide_capture on every combination of inputs. Strategy names as in torch_tensorrt.runtime.
#include <torch/library.h>

#include <array>
#include <string>
#include <tuple>

#include "core/runtime/CudaGraphPolicy.h"
#include "core/runtime/TRTRuntimeConfig.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {
namespace {

// Names are read back through TRTRuntimeConfig::to_string: one spelling of each strategy in C++.
template <typename Strategy, size_t N>
Strategy from_name(const std::string& name, const std::array<Strategy, N>& all, const char* setting) {
  std::string valid;
  for (Strategy s : all) {
    if (name == TRTRuntimeConfig::to_string(s)) {
      return s;
    }
    valid += std::string(valid.empty() ? "" : ", ") + "'" + TRTRuntimeConfig::to_string(s) + "'";
  }
  TORCH_CHECK_VALUE(false, "unknown ", setting, " '", name, "'; valid: ", valid);
}

std::tuple<std::string, std::string> decide_capture(
    bool cudagraphs_mode,
    bool outer_capture,
    bool is_rtx,
    const std::string& cuda_graph_strategy,
    const std::string& kernel_strategy,
    bool dynamic_inputs,
    bool stream_capturable,
    bool data_dependent_outputs) {
  CudaGraphPolicy::Inputs in;
  in.cudagraphs_mode = cudagraphs_mode;
  in.outer_capture = outer_capture;
  in.is_rtx = is_rtx;
  in.cuda_graph_strategy = from_name(
      cuda_graph_strategy,
      std::array{CudaGraphStrategy::kDISABLED, CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE},
      "cuda_graph_strategy");
  in.kernel_strategy = from_name(
      kernel_strategy,
      std::array{KernelSpecializationStrategy::kLAZY, KernelSpecializationStrategy::kEAGER, KernelSpecializationStrategy::kNONE},
      "dynamic_shapes_kernel_specialization_strategy");
  in.dynamic_inputs = dynamic_inputs;
  in.stream_capturable = stream_capturable;
  in.data_dependent_outputs = data_dependent_outputs;
  CudaGraphPolicy::Decision d = CudaGraphPolicy::decide(in);
  return {CudaGraphPolicy::path_name(d.path), d.reason};
}

} // namespace

TORCH_LIBRARY_FRAGMENT(tensorrt, m) {
  m.def(
      "_decide_capture(bool cudagraphs_mode, bool outer_capture, bool is_rtx, str cuda_graph_strategy, "
      "str kernel_strategy, bool dynamic_inputs, bool stream_capturable, bool data_dependent_outputs) -> (str, str)",
      &decide_capture);
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
