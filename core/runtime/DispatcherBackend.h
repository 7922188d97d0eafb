// An EngineBackend whose engine calls are torch ops implemented outside this library and reached
// through the dispatcher. torch_tensorrt.testing.emulated_runtime() implements them in Python on the
// CPU reference executor, so TRTEngine and execute_engine (runtime config, runtime cache, CUDA-graph
// decisions, input checks, output allocation) run unchanged with only the TensorRT calls replaced.
// No TensorRT and no Python headers: the other side is only a set of operator schemas.
//
// The ops (schemas in register_dispatcher_ops.cpp); each takes the backend's session id first:
//   _dispatcher_load(engine bytes, name) -> (engine handle, io names, is_input, dtype names,
//                                             io dims flattened as [rank, d0, d1, ...] per tensor,
//                                             host_input: read from host memory (shape tensors))
//   _dispatcher_create_context(engine, allocation, kernel strategy, cuda graph strategy, use cache,
//                              cache bytes) -> (context, "") or (-1, why the runtime cache was refused)
//   _dispatcher_output_shapes(context, input names, inputs, output names) -> [rank, d0, ...] per output
//   _dispatcher_execute(context, names, tensors, inputs_bound, allocated output names) -> allocated outputs
//   _dispatcher_runtime_cache(context) -> cache bytes (empty: none)
//   _dispatcher_outer_capture() -> whether the caller is inside an outer CUDA-graph capture
//   _dispatcher_profiles(engine) -> [count, then per profile and input (io order): rank, min, opt, max dims,
//                                    then n, min, opt, max values of a shape-tensor input (n = -1: none)]
//   _dispatcher_set_profile(context, index) -> whether the context switched to optimization profile index
//   _dispatcher_weights(engine) -> [streamable bytes, budget, automatic budget]
//   _dispatcher_set_weight_budget(engine, bytes) -> whether the budget was taken
//   _dispatcher_set_profiler(context, enabled) -> whether the context times its layers from now on
//   _dispatcher_layer_times(context) -> (layer names, milliseconds) of its last run, in run order
//   _dispatcher_aliases(engine) -> per io tensor (io order), the input an output is aliased to ("": none)
// Integer strategies are the EngineBackend.h enums; tensors are CPU views of the runtime's buffers,
// valid for the duration of the call.
//
// One backend object per session (one emulated_runtime() block): begin() selects it, end() closes it
// and restores the selection from before. At end() the implementation hands over the runtime cache of
// every context it made; a closed backend's contexts answer from that and never call the ops again
// (the implementation is gone; at interpreter exit, so is Python).
#pragma once

#include <ATen/core/ivalue.h>

#include <atomic>
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

class DispatcherExecutionContext;

class DispatcherBackend : public EngineBackend, public std::enable_shared_from_this<DispatcherBackend> {
 public:
  // `rtx`: the implementation behaves like TensorRT-RTX (runtime config, kernel strategy, native CUDA
  // graphs, runtime cache), as the Python runtime decides from ENABLED_FEATURES.tensorrt_rtx.
  DispatcherBackend(int64_t session, std::string name, bool rtx);

  // Creates the session's backend and selects it. Throws std::invalid_argument for a session in use.
  static void begin(int64_t session, const std::string& name, bool rtx);
  // Closes the session's backend with the final runtime cache of each of its contexts (by handle) and
  // selects the backend selected before it, unless another selection was made since.
  static void end(int64_t session, const std::map<int64_t, std::string>& runtime_caches);

  std::string name() const override {
    return name_;
  }
  DeviceKind device_kind() const override {
    return DeviceKind::kCPU;
  }
  BackendFeatures features() const override;
  std::unique_ptr<BackendEngine> deserialize_engine(const std::string& bytes, const std::string& name) override;
  bool is_stream_capturing(void* stream) override;
  std::unique_ptr<GraphCapture> create_graph_capture() override;
  void set_log_level(int64_t) override {}

  bool closed() const {
    return closed_.load();
  }
  // Calls tensorrt::<op>(session, args...) and returns its outputs. Throws std::runtime_error once
  // the session has ended.
  std::vector<c10::IValue> call(const char* op, std::vector<c10::IValue> args);

  // Contexts register while alive so that end() can hand them their final runtime cache.
  void add_context(DispatcherExecutionContext* context);
  void remove_context(DispatcherExecutionContext* context);

 private:
  void close(const std::map<int64_t, std::string>& runtime_caches);

  const int64_t session_;
  const std::string name_;
  const bool rtx_;
  std::shared_ptr<EngineBackend> previous_; // selected before begin()
  std::atomic<bool> closed_{false};
  std::mutex contexts_mutex_;
  std::vector<DispatcherExecutionContext*> contexts_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
