#include "core/runtime/backend/TensorRTExecutionContext.h"

#include <stdexcept>

namespace torch_tensorrt {
namespace core {
namespace runtime {

// TensorRT's output-allocator callback, forwarding to the runtime's OutputAllocator.
class TensorRTExecutionContext::AllocatorAdapter : public nvinfer1::IOutputAllocator {
 public:
  AllocatorAdapter(std::string name, OutputAllocator* target) : name_(std::move(name)), target_(target) {}

  void* reallocateOutputAsync(
      const char* /*tensorName*/,
      void* currentMemory,
      uint64_t size,
      uint64_t alignment,
      cudaStream_t /*stream*/) noexcept override {
    try {
      return target_->reallocate(name_, currentMemory, size, alignment);
    } catch (...) {
      return nullptr;
    }
  }

  void notifyShape(const char* /*tensorName*/, const nvinfer1::Dims& dims) noexcept override {
    try {
      target_->notify_shape(name_, std::vector<int64_t>(dims.d, dims.d + dims.nbDims));
    } catch (...) {
    }
  }

 private:
  std::string name_;
  OutputAllocator* target_;
};

// TensorRT's profiler callback, forwarding each layer's time to the engine's receiver. With a profiler
// attached, enqueueV3 reports before it returns (IExecutionContext::setEnqueueEmitsProfile's default).
class TensorRTExecutionContext::ProfilerAdapter : public nvinfer1::IProfiler {
 public:
  explicit ProfilerAdapter(LayerTimeReceiver* target) : target_(target) {}

  void reportLayerTime(const char* layerName, float ms) noexcept override {
    try {
      target_->report_layer_time(layerName != nullptr ? layerName : "", ms);
    } catch (...) {
    }
  }

 private:
  LayerTimeReceiver* target_;
};

TensorRTExecutionContext::TensorRTExecutionContext(TensorRTRuntimeConfig config) : config_(std::move(config)) {}

TensorRTExecutionContext::~TensorRTExecutionContext() = default;

bool TensorRTExecutionContext::set_input_shape(const std::string& name, const std::vector<int64_t>& shape) {
  if (shape.size() > static_cast<size_t>(nvinfer1::Dims::MAX_DIMS)) {
    return false;
  }
  nvinfer1::Dims dims{};
  dims.nbDims = static_cast<int32_t>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    dims.d[i] = shape[i];
  }
  return config_.context()->setInputShape(name.c_str(), dims);
}

std::vector<int64_t> TensorRTExecutionContext::get_output_shape(const std::string& name) {
  nvinfer1::Dims dims = config_.context()->getTensorShape(name.c_str());
  if (dims.nbDims < 0) {
    throw std::runtime_error("TensorRT could not compute the shape of output '" + name + "'");
  }
  return std::vector<int64_t>(dims.d, dims.d + dims.nbDims);
}

bool TensorRTExecutionContext::set_tensor_address(const std::string& name, void* data) {
  return config_.context()->setTensorAddress(name.c_str(), data);
}

bool TensorRTExecutionContext::set_output_allocator(const std::string& name, OutputAllocator* allocator) {
  auto adapter = std::make_unique<AllocatorAdapter>(name, allocator);
  if (!config_.context()->setOutputAllocator(name.c_str(), adapter.get())) {
    return false;
  }
  allocators_[name] = std::move(adapter);
  return true;
}

int64_t TensorRTExecutionContext::device_memory_size_for_shapes() {
  return static_cast<int64_t>(config_.context()->updateDeviceMemorySizeForShapes());
}

bool TensorRTExecutionContext::set_device_memory(void* memory, int64_t size) {
  config_.context()->setDeviceMemoryV2(memory, size);
  return true;
}

bool TensorRTExecutionContext::uses_native_capture() const {
  return config_.native_capture();
}

bool TensorRTExecutionContext::is_stream_capturable(void* stream) {
#if TORCHTRT_RTX_RUNTIME_ALLOCATION_API
  return config_.context()->isStreamCapturable(static_cast<cudaStream_t>(stream));
#else
  // Not declared by this SDK (standard TensorRT, or TensorRT-RTX without the feature gate): report
  // capturable and let the capture itself fail with CUDA's error, as before the probe existed.
  (void)stream;
  return true;
#endif
}

bool TensorRTExecutionContext::set_optimization_profile(int32_t index, void* stream) {
  return config_.context()->setOptimizationProfileAsync(index, static_cast<cudaStream_t>(stream));
}

bool TensorRTExecutionContext::enqueue(void* stream) {
  return config_.context()->enqueueV3(static_cast<cudaStream_t>(stream));
}

bool TensorRTExecutionContext::set_profiler(LayerTimeReceiver* receiver) {
  if (receiver == nullptr) {
    config_.context()->setProfiler(nullptr);
    profiler_.reset();
    return true;
  }
  auto adapter = std::make_unique<ProfilerAdapter>(receiver);
  config_.context()->setProfiler(adapter.get());
  profiler_ = std::move(adapter); // the previous adapter (if any) goes only after TensorRT let go of it
  return true;
}

std::string TensorRTExecutionContext::serialize_runtime_cache() {
  return config_.serialize_runtime_cache();
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
