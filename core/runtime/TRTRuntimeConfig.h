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
#include <optional>
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

  // The settings a new execution context gets: the engine's own (set_*), else the process-wide
  // defaults (RuntimeDefaults).
  struct Effective {
    KernelSpecializationStrategy kernel_strategy;
    CudaGraphStrategy cuda_graph_strategy;
    std::string runtime_cache_path; // "" = memory only
    bool operator==(const Effective& other) const {
      return kernel_strategy == other.kernel_strategy && cuda_graph_strategy == other.cuda_graph_strategy &&
          runtime_cache_path == other.runtime_cache_path;
    }
    bool operator!=(const Effective& other) const {
      return !(*this == other);
    }
  };
  Effective effective() const;
  // The effective strategies alone (no runtime-cache path): cheap enough for every run.
  KernelSpecializationStrategy effective_kernel_strategy() const;
  CudaGraphStrategy effective_cuda_graph_strategy() const;

  // Setters return true when the effective settings changed (the execution context must be recreated).
  bool set_strategies(KernelSpecializationStrategy kernel, CudaGraphStrategy cuda_graph);
  // Back to the process-wide default strategies.
  bool clear_strategies();
  bool has_strategies() const {
    return kernel_override_.has_value();
  }
  // "" = keep the runtime cache in memory only (kernels survive context recreation, not the process).
  bool set_runtime_cache_path(const std::string& path);
  // Back to the process-wide default cache (or the engine's own default file, see set_default_cache_path).
  bool clear_runtime_cache_path();
  // The engine's own file when neither it nor the process names one ("" = memory only).
  void set_default_cache_path(const std::string& path) {
    default_cache_path_ = path;
    default_cache_path_set_ = true;
  }
  // Whether the engine's own file is still to be found (RuntimeCacheLocation) before a context is
  // created on a backend with `features`: once, and only when it would be used, because finding it
  // creates the per-user directory, which a named file or a backend without a runtime cache never
  // needs (the Python runtime resolves it under the same conditions).
  bool needs_default_cache_path(const BackendFeatures& features) const;

  KernelSpecializationStrategy kernel_strategy() const {
    return effective().kernel_strategy;
  }
  CudaGraphStrategy cuda_graph_strategy() const {
    return effective().cuda_graph_strategy;
  }
  ResourceAllocationStrategy allocation() const {
    return allocation_;
  }
  std::string runtime_cache_path() const {
    return effective().runtime_cache_path;
  }
  // The latest known cache bytes (stashed from contexts or loaded), and replacing them (a cache handle
  // attached from Python hands its bytes over this way).
  const std::string& runtime_cache_payload() const {
    return cache_payload_;
  }
  void set_runtime_cache_payload(const std::string& payload);

  // The options for a new execution context on a backend with `features`.  Settings the backend
  // does not have (RTX-only features on standard TensorRT) fall back to their defaults with a
  // warning printed once per process and setting.  Loads the runtime cache (file or memory).
  ContextOptions context_options(const BackendFeatures& features);

  // The cache of a context that is being dropped or saved: kept in memory for the next context.
  void stash_runtime_cache(const std::string& payload);
  // Writes the stashed cache to the file, if there is a file and something to write.
  bool save_runtime_cache();
  // TensorRT refused the cache we handed it: move the file aside, forget the bytes.
  void reject_runtime_cache(const std::string& reason);

  std::string describe() const;

 private:
  // Switches cache_file_ to the effective path, saving what the previous file is owed.
  void follow_cache_path(const std::string& path);

  ResourceAllocationStrategy allocation_;
  std::optional<KernelSpecializationStrategy> kernel_override_;
  std::optional<CudaGraphStrategy> cuda_graph_override_;
  std::optional<std::string> cache_path_override_;
  std::string default_cache_path_;
  bool default_cache_path_set_ = false;
  std::string cache_file_path_; // the path cache_file_ was opened for
  std::unique_ptr<RuntimeCacheFile> cache_file_;
  std::string cache_payload_; // latest known cache bytes
  bool cache_loaded_ = false;
  bool cache_dirty_ = false;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
