// ContextOptions -> TensorRT runtime config, and the one create_execution_context that picks the
// TensorRT overload the build has, so that no caller needs an #if:
//   TRT_HAS_IRUNTIME_CONFIG: ICudaEngine::createExecutionContext(IRuntimeConfig*), the config holding
//     the allocation strategy, and with TRT_MAJOR_RTX also the kernel specialization strategy, the
//     CUDA graph strategy and the runtime cache;
//   otherwise (JetPack): ICudaEngine::createExecutionContext(ExecutionContextAllocationStrategy).
#pragma once

#include "core/runtime/backend/TensorRTSdk.h"

#include <memory>
#include <string>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class TensorRTRuntimeConfig {
 public:
  // What this build of the backend supports (compile-time).
  static BackendFeatures features();
  static nvinfer1::ExecutionContextAllocationStrategy allocation_strategy(ResourceAllocationStrategy s);

  // A context plus what must outlive it (the runtime config and cache).  Throws std::runtime_error
  // when TensorRT cannot create it, std::invalid_argument when the runtime cache bytes are refused.
  static TensorRTRuntimeConfig create_execution_context(nvinfer1::ICudaEngine& engine, const ContextOptions& options);

  nvinfer1::IExecutionContext* context() const {
    return context_.get();
  }
  // Created with CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE: the context captures itself. The strategy
  // is a property of the runtime config the context is created from ("used during execution context
  // creation", TensorRT-RTX IRuntimeConfig docs), so it is never changed on a live context: the
  // runtime creates another context instead (TRTEngine::context).
  bool native_capture() const {
    return native_capture_;
  }
  std::string serialize_runtime_cache() const;

 private:
  // Destroyed in reverse order: the context before the config and cache it was created with.
#if defined(TRT_HAS_IRUNTIME_CONFIG)
  std::unique_ptr<nvinfer1::IRuntimeConfig> config_;
#endif
#if defined(TRT_MAJOR_RTX)
  std::unique_ptr<nvinfer1::IRuntimeCache> cache_;
#endif
  std::unique_ptr<nvinfer1::IExecutionContext> context_;
  bool native_capture_ = false;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
