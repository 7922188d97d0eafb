// An execution context of a DispatcherBackend. Shapes, addresses and output allocators are kept here,
// as TensorRT keeps them in its context; the implementation sees them only when it must compute:
// output shapes (_dispatcher_output_shapes, which binds the inputs there) and the run itself
// (_dispatcher_execute), each given CPU tensor views of the bound buffers.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class DispatcherBackend;

class DispatcherExecutionContext : public BackendExecutionContext {
 public:
  DispatcherExecutionContext(
      std::shared_ptr<DispatcherBackend> backend,
      int64_t handle,
      std::vector<IOTensorInfo> io,
      const ContextOptions& options);
  ~DispatcherExecutionContext() override;

  int64_t handle() const {
    return handle_;
  }
  // The backend's session ended: from now on the runtime cache is `final_runtime_cache`.
  void close(std::string final_runtime_cache);

  bool set_input_shape(const std::string& name, const std::vector<int64_t>& shape) override;
  std::vector<int64_t> get_output_shape(const std::string& name) override;
  bool set_tensor_address(const std::string& name, void* data) override;
  bool set_output_allocator(const std::string& name, OutputAllocator* allocator) override;
  int64_t device_memory_size_for_shapes() override {
    return 0; // the implementation allocates what it needs itself
  }
  bool set_device_memory(void* memory, int64_t size) override {
    return true;
  }
  bool uses_native_capture() const override;
  bool is_stream_capturable(void* stream) override {
    return true;
  }
  bool set_optimization_profile(int32_t index, void* stream) override;
  bool enqueue(void* stream) override;
  bool set_profiler(LayerTimeReceiver* receiver) override;
  std::string serialize_runtime_cache() override;
  std::map<std::string, int64_t> debug_stats() const override;

 private:
  // One run's arguments to _dispatcher_execute (kept by a recorded CUDA graph for its replays).
  struct Run {
    std::vector<std::string> names;
    std::vector<at::Tensor> tensors;
    std::vector<std::string> allocated; // data-dependent outputs, delivered through their allocators
  };
  const IOTensorInfo* find(const std::string& name) const;
  at::Tensor view(const IOTensorInfo& t, const std::vector<int64_t>& shape) const;
  void compute_output_shapes();
  Run bound_run();
  bool execute(const Run& run, bool inputs_bound);
  void report_layer_times();
  void input_changed();

  std::shared_ptr<DispatcherBackend> backend_;
  const int64_t handle_;
  const std::vector<IOTensorInfo> io_;
  const ContextOptions options_;
  const bool native_capture_;
  std::map<std::string, std::vector<int64_t>> shapes_;
  std::map<std::string, void*> addresses_;
  std::map<std::string, OutputAllocator*> allocators_;
  std::map<std::string, std::vector<int64_t>> output_shapes_; // empty until asked for
  // The implementation holds exactly the current inputs (bound by _dispatcher_output_shapes), so a
  // run need not bind them again (and the network is evaluated once per call, not twice).
  bool inputs_bound_ = false;
  int64_t enqueues_ = 0;
  LayerTimeReceiver* profiler_ = nullptr; // gets each run's layer times (_dispatcher_layer_times)
  std::mutex final_cache_mutex_;
  bool closed_ = false;
  std::string final_runtime_cache_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
