// Process-wide defaults of the runtime mode controls (DESIGN.md section 4, level 1): what an engine
// without settings of its own runs with. Set from Python by torch_tensorrt.runtime's
// dynamic_shapes_kernel_strategy(), cuda_graph_strategy() and set_runtime_cache_path() (which keep the
// Python runtime's copy equal), or from C++ directly. Read when an execution context is created; every
// change bumps generation(), so engines notice it with one integer compare per run.
#pragma once

#include <cstdint>
#include <string>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class RuntimeDefaults {
 public:
  struct Values {
    KernelSpecializationStrategy kernel_strategy = KernelSpecializationStrategy::kLAZY;
    CudaGraphStrategy cuda_graph_strategy = CudaGraphStrategy::kDISABLED;
    // Unset: each engine's own file in the private per-user cache directory. "" = memory only.
    bool has_runtime_cache_path = false;
    std::string runtime_cache_path;
  };

  static Values get();
  static void set(const Values& values);
  // The two strategies alone, without a lock or a string copy: read on every run (capture decision).
  static KernelSpecializationStrategy kernel_strategy();
  static CudaGraphStrategy cuda_graph_strategy();
  static uint64_t generation();
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
