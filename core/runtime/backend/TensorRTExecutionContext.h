// BackendExecutionContext over nvinfer1::IExecutionContext.
#pragma once

#include "core/runtime/backend/TensorRTSdk.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime/EngineBackend.h"
#include "core/runtime/backend/TensorRTRuntimeConfig.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class TensorRTExecutionContext : public BackendExecutionContext {
 public:
  explicit TensorRTExecutionContext(TensorRTRuntimeConfig config);
  ~TensorRTExecutionContext() override;

  bool set_input_shape(const std::string& name, const std::vector<int64_t>& shape) override;
  std::vector<int64_t> get_output_shape(const std::string& name) override;
  bool set_tensor_address(const std::string& name, void* data) override;
  bool set_output_allocator(const std::string& name, OutputAllocator* allocator) override;
  int64_t device_memory_size_for_shapes() override;
  bool set_device_memory(void* memory, int64_t size) override;
  bool uses_native_capture() const override;
  bool is_stream_capturable(void* stream) override;
  bool set_optimization_profile(int32_t index, void* stream) override;
  bool enqueue(void* stream) override;
  bool set_profiler(LayerTimeReceiver* receiver) override;
  std::string serialize_runtime_cache() override;

 private:
  class AllocatorAdapter;
  class ProfilerAdapter;
  // Declared before config_ (which owns the IExecutionContext), so destroyed after it: TensorRT keeps a
  // plain pointer to the profiler as long as the context exists.
  std::unique_ptr<ProfilerAdapter> profiler_;
  TensorRTRuntimeConfig config_;
  std::map<std::string, std::unique_ptr<AllocatorAdapter>> allocators_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
