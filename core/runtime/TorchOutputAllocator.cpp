#include "core/runtime/TorchOutputAllocator.h"

#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>

#include <algorithm>

namespace torch_tensorrt {
namespace core {
namespace runtime {

void* TorchOutputAllocator::reallocate(const std::string& name, void*, uint64_t bytes, uint64_t) {
  try {
    at::Tensor& buffer = buffers_[name];
    int64_t size = static_cast<int64_t>(std::max<uint64_t>(bytes, 1));
    if (!buffer.defined() || buffer.numel() < size) {
      buffer = at::empty({size}, at::TensorOptions().dtype(c10::ScalarType::Byte).device(device_));
    }
    return buffer.data_ptr();
  } catch (...) {
    return nullptr; // TensorRT reports the failed allocation
  }
}

void TorchOutputAllocator::notify_shape(const std::string& name, const std::vector<int64_t>& shape) {
  shapes_[name] = shape;
}

at::Tensor TorchOutputAllocator::output(const std::string& name, c10::ScalarType dtype) {
  auto shape = shapes_.find(name);
  TORCH_CHECK(shape != shapes_.end(), "TensorRT did not report the shape of data-dependent output '", name, "'");
  int64_t numel = 1;
  for (int64_t d : shape->second) {
    TORCH_CHECK(d >= 0, "TensorRT reported an invalid shape for output '", name, "'");
    numel *= d;
  }
  at::Tensor out = at::empty(shape->second, at::TensorOptions().dtype(dtype).device(device_));
  auto buffer = buffers_.find(name);
  if (numel > 0) {
    TORCH_CHECK(buffer != buffers_.end(), "TensorRT wrote output '", name, "' without allocating it");
    int64_t bytes = numel * static_cast<int64_t>(c10::elementSize(dtype));
    TORCH_CHECK(buffer->second.numel() >= bytes, "output '", name, "' is larger than the memory TensorRT asked for");
    // A typed copy of the raw bytes: view the byte buffer's prefix as the output dtype.
    out.view(c10::ScalarType::Byte).reshape({bytes}).copy_(buffer->second.narrow(0, 0, bytes));
  }
  return out;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
