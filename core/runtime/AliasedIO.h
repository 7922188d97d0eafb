// Engine outputs aliased to engine inputs: an engine built with lift_mutable_buffers=True writes each
// lifted buffer in place through TensorRT's KV-cache update layer, whose output TensorRT requires to
// live at its input's address (ICudaEngine::getAliasedInputTensor names the input; the backends report
// it as IOTensorInfo::aliased_input). execute_engine binds such an output to the caller's input tensor
// and returns that tensor for it; TorchTensorRTModule leaves the trailing ones out of its result.
// The C++ half of py/torch_tensorrt/dynamo/runtime/_aliased_io.py: the same rules in the same words,
// so that both runtimes refuse the same calls alike.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/runtime/EngineBackend.h"
#include "core/runtime/EngineInfo.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

struct AliasedOutputs {
  // Per output, in the engine info's output order: the index (engine-info order) of the input whose
  // memory it is, or -1 for an ordinary output.
  std::vector<int64_t> input_of_output;
  bool any = false;

  // The input index output `k` is bound to, -1 for none (an empty table: no aliasing).
  int64_t input_of(size_t k) const {
    return any ? input_of_output[k] : -1;
  }
};

// What the loaded engine reports, checked against the engine info: an output aliased to an input the
// info does not list is refused (c10::Error), since no caller tensor could be bound to it.
AliasedOutputs find_aliased_outputs(const EngineInfo& info, const std::vector<IOTensorInfo>& io);

// The checks of one call of an engine with aliased outputs, after its capture decision: a torch CUDA
// graph (which replays copies of the inputs) is refused, then every input written in place must be a
// contiguous tensor (a contiguous copy would take the write and leave the caller's tensor unchanged).
void check_aliased_call(
    const EngineInfo& info,
    const AliasedOutputs& aliased,
    const std::vector<at::Tensor>& inputs,
    bool torch_capture);

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
