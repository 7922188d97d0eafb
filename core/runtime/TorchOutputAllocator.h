#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

// Data-dependent outputs: TensorRT asks for memory during enqueue and reports the final shape.
class TorchOutputAllocator : public OutputAllocator {
 public:
  explicit TorchOutputAllocator(c10::Device device) : device_(device) {}

  void* reallocate(const std::string& name, void* current, uint64_t bytes, uint64_t alignment) override;
  void notify_shape(const std::string& name, const std::vector<int64_t>& shape) override;
  // The output TensorRT wrote, typed and shaped as it reported (after the enqueue).
  at::Tensor output(const std::string& name, c10::ScalarType dtype);

 private:
  c10::Device device_;
  std::map<std::string, at::Tensor> buffers_;
  std::map<std::string, std::vector<int64_t>> shapes_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
