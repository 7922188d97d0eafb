#include "core/runtime/backend/TensorRTRuntimeConfig.h"

#include <stdexcept>

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

// The RTX strategies and cache are set on the IRuntimeConfig a context is created from, so they
// exist only where both the RTX API and the config path are compiled (as in create_execution_context).
#if defined(TRT_HAS_IRUNTIME_CONFIG) && defined(TRT_MAJOR_RTX)
nvinfer1::DynamicShapesKernelSpecializationStrategy kernel_strategy(KernelSpecializationStrategy s) {
  switch (s) {
    case KernelSpecializationStrategy::kLAZY:
      return nvinfer1::DynamicShapesKernelSpecializationStrategy::kLAZY;
    case KernelSpecializationStrategy::kEAGER:
      return nvinfer1::DynamicShapesKernelSpecializationStrategy::kEAGER;
    case KernelSpecializationStrategy::kNONE:
      return nvinfer1::DynamicShapesKernelSpecializationStrategy::kNONE;
  }
  throw std::invalid_argument("unknown kernel specialization strategy");
}

nvinfer1::CudaGraphStrategy cuda_graph_strategy(CudaGraphStrategy s) {
  switch (s) {
    case CudaGraphStrategy::kDISABLED:
      return nvinfer1::CudaGraphStrategy::kDISABLED;
    case CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE:
      return nvinfer1::CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE;
  }
  throw std::invalid_argument("unknown CUDA graph strategy");
}
#endif

} // namespace

BackendFeatures TensorRTRuntimeConfig::features() {
  BackendFeatures f;
#if defined(TRT_HAS_IRUNTIME_CONFIG)
  f.runtime_config = true;
#endif
#if defined(TRT_HAS_IRUNTIME_CONFIG) && defined(TRT_MAJOR_RTX)
  f.kernel_strategy = true;
  f.native_cuda_graphs = true;
  f.runtime_cache = true;
#endif
  return f;
}

nvinfer1::ExecutionContextAllocationStrategy TensorRTRuntimeConfig::allocation_strategy(ResourceAllocationStrategy s) {
  // "dynamic": the runtime hands scratch memory sized for the current shapes on every call
  // (updateDeviceMemorySizeForShapes + setDeviceMemoryV2).
  return s == ResourceAllocationStrategy::kDYNAMIC ? nvinfer1::ExecutionContextAllocationStrategy::kUSER_MANAGED
                                                   : nvinfer1::ExecutionContextAllocationStrategy::kSTATIC;
}

TensorRTRuntimeConfig TensorRTRuntimeConfig::create_execution_context(
    nvinfer1::ICudaEngine& engine,
    const ContextOptions& options) {
  TensorRTRuntimeConfig out;
#if defined(TRT_HAS_IRUNTIME_CONFIG)
  out.config_.reset(engine.createRuntimeConfig());
  if (!out.config_) {
    throw std::runtime_error("TensorRT could not create a runtime config (see the TensorRT log)");
  }
  out.config_->setExecutionContextAllocationStrategy(allocation_strategy(options.allocation));
#if defined(TRT_MAJOR_RTX)
  out.config_->setDynamicShapesKernelSpecializationStrategy(kernel_strategy(options.kernel_strategy));
  if (!out.config_->setCudaGraphStrategy(cuda_graph_strategy(options.cuda_graph_strategy))) {
    throw std::runtime_error("TensorRT-RTX refused the CUDA graph strategy");
  }
  out.native_capture_ = options.cuda_graph_strategy == CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE;
  if (options.use_runtime_cache) {
    out.cache_.reset(out.config_->createRuntimeCache());
    if (!out.cache_) {
      throw std::runtime_error("TensorRT-RTX could not create a runtime cache");
    }
    if (!options.runtime_cache.empty() &&
        !out.cache_->deserialize(options.runtime_cache.data(), options.runtime_cache.size())) {
      throw std::invalid_argument("TensorRT-RTX refused the runtime cache (another TensorRT-RTX version or device?)");
    }
    if (!out.config_->setRuntimeCache(*out.cache_)) {
      throw std::runtime_error("TensorRT-RTX could not attach the runtime cache");
    }
  }
#endif
  out.context_.reset(engine.createExecutionContext(out.config_.get()));
#else
  out.context_.reset(engine.createExecutionContext(allocation_strategy(options.allocation)));
#endif
  if (!out.context_) {
    throw std::runtime_error("TensorRT could not create an execution context (see the TensorRT log)");
  }
  return out;
}

std::string TensorRTRuntimeConfig::serialize_runtime_cache() const {
#if defined(TRT_MAJOR_RTX)
  if (cache_) {
    std::unique_ptr<nvinfer1::IHostMemory> memory(cache_->serialize());
    if (memory && memory->size() > 0) {
      return std::string(static_cast<const char*>(memory->data()), memory->size());
    }
  }
#endif
  return "";
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
