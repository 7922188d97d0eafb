#include "core/runtime/TRTRuntimeConfig.h"

#include <mutex>
#include <set>
#include <stdexcept>

#include "core/runtime/RuntimeDefaults.h"
#include "core/runtime/runtime.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

void warn_once(const std::string& setting, const std::string& message) {
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::lock_guard<std::mutex> lock(mutex);
  if (warned.insert(setting).second) {
    log(LogLevel::kWARNING, message);
  }
}

} // namespace

KernelSpecializationStrategy TRTRuntimeConfig::kernel_strategy_from_int(int64_t value) {
  switch (value) {
    case 0:
      return KernelSpecializationStrategy::kLAZY;
    case 1:
      return KernelSpecializationStrategy::kEAGER;
    case 2:
      return KernelSpecializationStrategy::kNONE;
    default:
      throw std::invalid_argument(
          "unknown dynamic_shapes_kernel_specialization_strategy enum value " + std::to_string(value) +
          "; valid values: 0 (lazy), 1 (eager), 2 (none)");
  }
}

CudaGraphStrategy TRTRuntimeConfig::cuda_graph_strategy_from_int(int64_t value) {
  switch (value) {
    case 0:
      return CudaGraphStrategy::kDISABLED;
    case 1:
      return CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE;
    default:
      throw std::invalid_argument(
          "unknown cuda_graph_strategy enum value " + std::to_string(value) +
          "; valid values: 0 (disabled), 1 (whole_graph_capture)");
  }
}

ResourceAllocationStrategy TRTRuntimeConfig::allocation_from_name(const std::string& name) {
  if (name == "static") {
    return ResourceAllocationStrategy::kSTATIC;
  }
  if (name == "dynamic") {
    return ResourceAllocationStrategy::kDYNAMIC;
  }
  throw std::invalid_argument("unknown resource allocation strategy '" + name + "'; expected static or dynamic");
}

const char* TRTRuntimeConfig::to_string(KernelSpecializationStrategy s) {
  switch (s) {
    case KernelSpecializationStrategy::kLAZY:
      return "lazy";
    case KernelSpecializationStrategy::kEAGER:
      return "eager";
    case KernelSpecializationStrategy::kNONE:
      return "none";
  }
  return "?";
}

const char* TRTRuntimeConfig::to_string(CudaGraphStrategy s) {
  switch (s) {
    case CudaGraphStrategy::kDISABLED:
      return "disabled";
    case CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE:
      return "whole_graph_capture";
  }
  return "?";
}

const char* TRTRuntimeConfig::to_string(ResourceAllocationStrategy s) {
  switch (s) {
    case ResourceAllocationStrategy::kSTATIC:
      return "static";
    case ResourceAllocationStrategy::kDYNAMIC:
      return "dynamic";
  }
  return "?";
}

TRTRuntimeConfig::TRTRuntimeConfig(ResourceAllocationStrategy allocation) : allocation_(allocation) {}

TRTRuntimeConfig::Effective TRTRuntimeConfig::effective() const {
  Effective out{KernelSpecializationStrategy::kLAZY, CudaGraphStrategy::kDISABLED, default_cache_path_};
  if (kernel_override_ && cuda_graph_override_ && cache_path_override_) {
    out.kernel_strategy = *kernel_override_;
    out.cuda_graph_strategy = *cuda_graph_override_;
    out.runtime_cache_path = *cache_path_override_;
    return out; // nothing to read from the process-wide defaults
  }
  const RuntimeDefaults::Values defaults = RuntimeDefaults::get();
  out.kernel_strategy = kernel_override_.value_or(defaults.kernel_strategy);
  out.cuda_graph_strategy = cuda_graph_override_.value_or(defaults.cuda_graph_strategy);
  if (cache_path_override_) {
    out.runtime_cache_path = *cache_path_override_;
  } else if (defaults.has_runtime_cache_path) {
    out.runtime_cache_path = defaults.runtime_cache_path;
  }
  return out;
}

KernelSpecializationStrategy TRTRuntimeConfig::effective_kernel_strategy() const {
  return kernel_override_ ? *kernel_override_ : RuntimeDefaults::kernel_strategy();
}

CudaGraphStrategy TRTRuntimeConfig::effective_cuda_graph_strategy() const {
  return cuda_graph_override_ ? *cuda_graph_override_ : RuntimeDefaults::cuda_graph_strategy();
}

bool TRTRuntimeConfig::needs_default_cache_path(const BackendFeatures& features) const {
  return !default_cache_path_set_ && features.runtime_cache && !cache_path_override_ &&
      !RuntimeDefaults::get().has_runtime_cache_path;
}

bool TRTRuntimeConfig::set_strategies(KernelSpecializationStrategy kernel, CudaGraphStrategy cuda_graph) {
  const Effective before = effective();
  kernel_override_ = kernel;
  cuda_graph_override_ = cuda_graph;
  return effective() != before;
}

bool TRTRuntimeConfig::clear_strategies() {
  const Effective before = effective();
  kernel_override_.reset();
  cuda_graph_override_.reset();
  return effective() != before;
}

bool TRTRuntimeConfig::set_runtime_cache_path(const std::string& path) {
  const Effective before = effective();
  cache_path_override_ = path;
  return effective() != before;
}

bool TRTRuntimeConfig::clear_runtime_cache_path() {
  const Effective before = effective();
  cache_path_override_.reset();
  return effective() != before;
}

void TRTRuntimeConfig::set_runtime_cache_payload(const std::string& payload) {
  cache_payload_ = payload;
  cache_dirty_ = false; // the bytes came from their owner, who saves them
  cache_loaded_ = true; // and replace what the file would have given
}

void TRTRuntimeConfig::follow_cache_path(const std::string& path) {
  if (path == cache_file_path_ && (cache_file_ != nullptr) == !path.empty()) {
    return;
  }
  save_runtime_cache(); // the previous file gets the kernels compiled while it was in use
  cache_file_path_ = path;
  cache_file_ = path.empty() ? nullptr : std::make_unique<RuntimeCacheFile>(path);
  // Kernels compiled so far stay in memory; the new file (if any) is read at the next context.
  cache_loaded_ = false;
}

ContextOptions TRTRuntimeConfig::context_options(const BackendFeatures& features) {
  const Effective settings = effective();
  follow_cache_path(settings.runtime_cache_path);
  const KernelSpecializationStrategy kernel_strategy_ = settings.kernel_strategy;
  const CudaGraphStrategy cuda_graph_strategy_ = settings.cuda_graph_strategy;
  ContextOptions options;
  options.allocation = allocation_;
  options.kernel_strategy = kernel_strategy_;
  options.cuda_graph_strategy = cuda_graph_strategy_;
  if (!features.kernel_strategy && kernel_strategy_ != KernelSpecializationStrategy::kLAZY) {
    warn_once(
        "dynamic_shapes_kernel_specialization_strategy",
        std::string("dynamic_shapes_kernel_specialization_strategy='") + to_string(kernel_strategy_) +
            "' is a TensorRT-RTX feature and has no effect on this TensorRT; using 'lazy' (reported once)");
    options.kernel_strategy = KernelSpecializationStrategy::kLAZY;
  }
  if (!features.native_cuda_graphs && cuda_graph_strategy_ != CudaGraphStrategy::kDISABLED) {
    warn_once(
        "cuda_graph_strategy",
        std::string("cuda_graph_strategy='") + to_string(cuda_graph_strategy_) +
            "' is a TensorRT-RTX feature and has no effect on this TensorRT; using 'disabled' (reported once)");
    options.cuda_graph_strategy = CudaGraphStrategy::kDISABLED;
  }
  if (!features.runtime_cache) {
    if (cache_file_) {
      warn_once(
          "runtime_cache",
          "runtime_cache='" + cache_file_path_ +
              "' is a TensorRT-RTX feature and has no effect on this TensorRT (reported once)");
    }
    return options;
  }
  options.use_runtime_cache = true;
  if (cache_file_ && !cache_loaded_) {
    std::string from_file = cache_file_->load();
    if (!from_file.empty()) {
      cache_payload_ = from_file;
      cache_dirty_ = false;
    }
    cache_loaded_ = true;
  }
  options.runtime_cache = cache_payload_;
  return options;
}

void TRTRuntimeConfig::stash_runtime_cache(const std::string& payload) {
  if (!payload.empty() && payload != cache_payload_) {
    cache_payload_ = payload;
    cache_dirty_ = true;
  }
}

bool TRTRuntimeConfig::save_runtime_cache() {
  if (!cache_file_ || !cache_dirty_ || cache_payload_.empty()) {
    return false;
  }
  bool ok = cache_file_->save(cache_payload_);
  if (ok) {
    cache_dirty_ = false;
  }
  return ok;
}

void TRTRuntimeConfig::reject_runtime_cache(const std::string& reason) {
  if (cache_file_) {
    cache_file_->quarantine(reason);
  } else {
    log(LogLevel::kWARNING, "the in-memory runtime cache was rejected (" + reason + "); starting with an empty one");
  }
  cache_payload_.clear();
  cache_dirty_ = false;
}

std::string TRTRuntimeConfig::describe() const {
  const Effective settings = effective();
  return std::string("RuntimeSettings(dynamic_shapes_kernel_specialization_strategy='") +
      to_string(settings.kernel_strategy) + "', cuda_graph_strategy='" + to_string(settings.cuda_graph_strategy) +
      "', runtime_cache=" +
      (settings.runtime_cache_path.empty() ? "<memory>" : "'" + settings.runtime_cache_path + "'") +
      ", resource_allocation_strategy='" + to_string(allocation_) + "')";
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
