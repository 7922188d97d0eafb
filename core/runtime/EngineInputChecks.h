// The C++ engine's input checks, as the Python engine's (_engine_input_checks.py) with the same messages:
// count, dtype, shape range and device per input, and the value ranges of shape-tensor inputs.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/runtime/TRTEngine.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

// A shape as Python prints a tuple ((2, 3), (4,)): both runtimes word their errors alike.
std::string shape_str(c10::IntArrayRef shape);

// Raises the error the Python engine raises for a wrong input count, dtype, shape or device.
void check_inputs(TRTEngine& engine, const std::vector<at::Tensor>& inputs, c10::Device device);

// Shape-tensor inputs (TRTEngine::shape_inputs): the values of those the metadata bounds are checked,
// with the Python runtime's words (_shape_tensor_inputs.host_shape_inputs), since TensorRT's own report
// names neither the input nor the fix; those TensorRT reads from host memory become a host copy.
// Returns the values, in shape_inputs order (a torch CUDA graph is valid for one set of them).
std::vector<std::vector<int64_t>> prepare_shape_inputs(TRTEngine& engine, std::vector<at::Tensor>& inputs);

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
