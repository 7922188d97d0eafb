// Runtime settings of one engine -> the options its TensorRT execution context is created with.
//
// Settings (never serialized with the engine): dynamic-shapes kernel specialization strategy,
// CUDA graph strategy, runtime cache file; plus the engine's resource allocation strategy (from
// the engine info).  The TensorRT side of the mapping - which runtime-config calls exist on which
// TensorRT, and the one create_execution_context that picks the right overload - is in
// core/runtime/backend/TensorRTRuntimeConfig.*, behind EngineBackend (DESIGN.md section 2); this
// class holds no TensorRT types and compiles without an SDK.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/runtime/EngineBackend.h"
#include "core/runtime/RuntimeCacheFile.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class TRTRuntimeConfig {
 public:
  // Ints shared with Python; unknown values throw std::invalid_argument listing the valid ones.
  // (Strategy *names* are validated in Python, torch_tensorrt/runtime/_settings.py.)
  static KernelSpecializationStrategy kernel_strategy_from_int(int64_t value);
  static CudaGraphStrategy cuda_graph_strategy_from_int(int64_t value);
  static ResourceAllocationStrategy allocation_from_name(const std::string& name);
  static const char* to_string(KernelSpecializationStrategy s);
  static const char* to_string(CudaGraphStrategy s);
  static const char* to_string(ResourceAllocationStrategy s);

  explicit TRTRuntimeConfig(ResourceAllocationStrategy allocation = ResourceAllocationStrategy::kSTATIC);

  // Each setter returns true when the value changed, i.e. the execution context must be recreated.
  bool set_strategies(KernelSpecializationStrategy kernel, CudaGraphStrategy cuda_graph);
  // "" = keep the runtime cache in memory only (kernels survive context recreation, not the process).
  bool set_runtime_cache_path(const std::string& path);

  KernelSpecializationStrategy kernel_strategy() const {
    return kernel_strategy_;
  }
  CudaGraphStrategy cuda_graph_strategy() const {
    return cuda_graph_strategy_;
  }
  ResourceAllocationStrategy allocation() const {
    return allocation_;
  }
  const std::string& runtime_cache_path() const {
    return runtime_cache_path_;
  }

  // The options for a new execution context on a backend with `features`.  Settings the backend
  // does not have (RTX-only features on standard TensorRT) fall back to their defaults with a
  // warning printed once per process and setting.  Loads the runtime cache (file or memory).
  ContextOptions context_options(const BackendFeatures& features);
  // Whether the engine will capture itself into CUDA graphs on a backend with `features`.
  bool native_capture_active(const BackendFeatures& features) const;

  // The cache of a context that is being dropped or saved: kept in memory for the next context.
  void stash_runtime_cache(const std::string& payload);
  // Writes the stashed cache to the file, if there is a file and something to write.
  bool save_runtime_cache();
  // TensorRT refused the cache we handed it: move the file aside, forget the bytes.
  void reject_runtime_cache(const std::string& reason);

  std::string describe() const;

 private:
  ResourceAllocationStrategy allocation_;
  KernelSpecializationStrategy kernel_strategy_ = KernelSpecializationStrategy::kLAZY;
  CudaGraphStrategy cuda_graph_strategy_ = CudaGraphStrategy::kDISABLED;
  std::string runtime_cache_path_;
  std::unique_ptr<RuntimeCacheFile> cache_file_;
  std::string cache_payload_; // latest known cache bytes
  bool cache_loaded_ = false;
  bool cache_dirty_ = false;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
