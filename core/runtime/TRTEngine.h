// torch.classes.tensorrt.Engine: one TensorRT engine, built from its serialized engine-info list
// (runtime.h) and pickled back to exactly that list.  The TensorRT objects (engine, execution
// context) are created lazily through the selected EngineBackend on first execution, so an engine
// can be constructed, inspected and pickled on a machine (or build) that cannot run it.
#pragma once

#include <ATen/core/Dict.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/ivalue.h>
#include <c10/core/Stream.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/runtime/AliasedIO.h"
#include "core/runtime/EngineBackend.h"
#include "core/runtime/EngineInfo.h"
#include "core/runtime/EngineProfiler.h"
#include "core/runtime/OptimizationProfiles.h"
#include "core/runtime/TRTRuntimeConfig.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

// The input shapes last set on an engine's execution context and the output shapes they gave. A
// context keeps its shapes, so a run with the same shapes sets none and asks for none
// (execute_engine.cpp; the Python engine's fast path does the same). Unknown after the context or its
// optimization profile changes, and never known for engines with shape-tensor inputs (their values
// decide the output shapes).
struct ContextShapes {
  bool known = false;
  std::vector<std::vector<int64_t>> inputs;
  std::vector<std::vector<int64_t>> outputs;
};

// Torch-level CUDA graph of one engine (subgraph mode): static buffers + the captured graph,
// valid for one set of input shapes and shape-tensor values (TensorRT reads those on the host when
// the graph is recorded, so a replay cannot take other values).
struct SubgraphCapture {
  std::vector<std::vector<int64_t>> input_shapes;
  std::vector<std::vector<int64_t>> shape_values;
  std::vector<at::Tensor> static_inputs;
  std::vector<at::Tensor> static_outputs;
  at::Tensor workspace;
  std::unique_ptr<GraphCapture> graph;

  bool matches(const std::vector<at::Tensor>& inputs, const std::vector<std::vector<int64_t>>& values) const;
  void reset();
};

// An input execute_engine treats apart: a shape tensor (Input(is_shape_tensor=True)) whose values the
// metadata bounds (InputSpec::shape_values) and/or that the backend reads from host memory.
struct ShapeTensorInput {
  size_t index = 0; // in the engine's input order
  bool has_range = false; // the metadata records min/max values: checked on every call
  std::vector<int64_t> min_values;
  std::vector<int64_t> max_values;
  bool host = false; // IOTensorInfo::host_input: bound as a host copy
};

class TRTEngine : public torch::CustomClassHolder {
 public:
  // Throws c10::ValueError for a malformed info list or an engine built for another platform.
  explicit TRTEngine(std::vector<std::string> serialized_info);
  ~TRTEngine() override;

  // The op's form of an engine (see execute_engine.h): the bytes as a uint8 tensor and the info list
  // whose engine slot is "sha256:<hex>" of those bytes (or, equally accepted, their base64).
  // Returns the full info list; throws c10::ValueError when the bytes do not match the digest.
  static std::vector<std::string> join_engine_info(
      const at::Tensor& serialized_engine,
      const std::vector<std::string>& engine_info);

  // --- methods exposed to Python / TorchScript -------------------------------------------------
  const std::vector<std::string>& serialize() const {
    return serialized_info_;
  }
  const std::string& name() const {
    return info_.name;
  }
  const std::vector<std::string>& input_names() const {
    return info_.input_names;
  }
  const std::vector<std::string>& output_names() const {
    return info_.output_names;
  }
  // Ints as in runtime/_settings.py; the context is recreated (once, lazily) when they change.
  void set_runtime_settings(int64_t kernel_strategy, int64_t cuda_graph_strategy);
  std::vector<int64_t> get_runtime_settings();
  // Back to the process-wide default strategies (RuntimeDefaults); has_... says whether it has its own.
  void clear_runtime_settings();
  bool has_runtime_settings();
  void set_runtime_cache_path(const std::string& path);
  // Back to the process-wide default cache.
  void clear_runtime_cache_path();
  std::string get_runtime_cache_path();
  // The cache bytes (the live context's kernels included), and starting the next context from given
  // bytes: how a cache handle owned by Python (runtime_cache() blocks, streams) is served.
  at::Tensor get_runtime_cache_payload();
  void set_runtime_cache_payload(const at::Tensor& payload);
  // Stashes the live context's cache and writes it to the cache file; false if nothing was written.
  bool save_runtime_cache();
  void reset_context();
  std::string backend_name();
  std::string last_capture_decision();
  c10::Dict<std::string, int64_t> stats();
  std::string to_str() const;
  // Optimization profiles and weight streaming: runtime controls (never serialized), with the Python
  // engine's rules and messages (OptimizationProfiles.h). These load the engine on the selected backend.
  int64_t num_optimization_profiles();
  // Runs every call on `profile` (checked against the engine); clear_...: back to the first profile
  // containing each call's input shapes. get_... is the forced one, -1 when automatic.
  void set_optimization_profile(int64_t profile);
  void clear_optimization_profile();
  int64_t get_optimization_profile();
  int64_t active_optimization_profile();
  int64_t get_streamable_device_memory_budget();
  int64_t get_automatic_device_memory_budget();
  int64_t get_device_memory_budget();
  // Drops the execution context (TensorRT takes a budget only while none exists); the next call
  // creates one. Throws for an engine without streamable weights or a budget outside 0..streamable.
  bool set_device_memory_budget(int64_t budget);
  // Per-layer profiling (EngineProfiler.h; TRTEngineProfiling.cpp), a runtime control like those above.
  // enable: a new profile, attached to the live context and every later one; disable: drops the context
  // (as Torch-TensorRT does), so the next call runs on one without a profiler.
  void enable_profiling();
  void disable_profiling();
  bool profiling_enabled();
  void set_profile_format(const std::string& format);
  std::string get_profile_format();
  void set_profile_path_prefix(const std::string& prefix);
  std::string get_profile_path_prefix();
  std::string profile_trace_path();
  // The profile so far: layer names, their total milliseconds and runs (first-report order).
  std::tuple<std::vector<std::string>, std::vector<double>, std::vector<int64_t>> layer_profile();
  // Outputs the engine writes into an input's memory -> that input's index (AliasedIO.h), as the engine
  // on the selected backend reports them (the Python engine's _aliased); loads the engine.
  c10::Dict<std::string, int64_t> aliased_outputs();

  // --- used by execute_engine --------------------------------------------------------------------
  std::mutex& mutex() {
    return mutex_;
  }
  const EngineInfo& info() const {
    return info_;
  }
  // The backend of this engine's current objects (the selected one when they were made).
  EngineBackend& backend();
  // Before each execution: the call runs on the backend selected now. Engines outlive scopes that
  // select a backend (torch_tensorrt.testing.emulated_runtime()), so, as on the Python runtime, a
  // switch drops the deserialized engine and its context (their kernels stashed, the cache file
  // saved) while the settings, cache path and kernels, which belong to the module, carry over.
  void follow_selected_backend();
  BackendEngine& backend_engine();
  const IOTensorInfo& io_tensor(const std::string& name);
  // Created with `cuda_graph_strategy` (the capture decision's native strategy, not the setting:
  // CudaGraphPolicy::Decision::native_strategy): TensorRT-RTX applies the strategy when a context is
  // created, so asking for another one recreates the context.
  BackendExecutionContext& context(CudaGraphStrategy cuda_graph_strategy);
  c10::Device device();
  TRTRuntimeConfig& runtime_config() {
    return runtime_config_;
  }
  SubgraphCapture& subgraph_capture() {
    return subgraph_;
  }
  // The stream of this engine's last enqueue (under mutex()): an enqueue on another stream waits for
  // it, since both would use the one context's activation memory (execute_engine.cpp, EngineStreams).
  ContextShapes& context_shapes() {
    return context_shapes_;
  }
  std::optional<c10::Stream>& last_enqueue_stream() {
    return last_enqueue_stream_;
  }
  void note_execution(const char* decision, bool graph_captured, bool graph_replayed);
  // A capture decision that refused the call (nothing ran): last_capture_decision() reports it.
  void note_decision(const char* decision) {
    last_decision_ = decision;
  }
  // After each run (under mutex()): writes the profile's trace file when profiling. `replayed`: the run
  // came from a CUDA graph, of which TensorRT times no layers.
  void note_profiled_run(bool replayed) {
    if (profiler_.enabled()) {
      write_profile(replayed);
    }
  }
  bool has_several_profiles() const {
    return profiles_ != nullptr;
  }
  // The shape-tensor inputs of the loaded engine (empty for almost every engine: execute_engine's
  // per-call cost for the others is this one emptiness test). Valid after backend_engine().
  const std::vector<ShapeTensorInput>& shape_inputs() const {
    return shape_inputs_;
  }
  // The loaded engine's aliased outputs (bound to their inputs' memory). Valid after backend_engine().
  const AliasedOutputs& aliased() const {
    return aliased_;
  }
  // Switches `ctx` to this call's profile (cached per input shapes and `shape_values`, the values of
  // shape_inputs() in that order) on `stream`; a switch drops the subgraph capture recorded on the old
  // one. Throws c10::ValueError when no profile fits.
  void use_profile(
      BackendExecutionContext& ctx,
      const std::vector<at::Tensor>& inputs,
      const std::vector<std::vector<int64_t>>& shape_values,
      void* stream);

 private:
  void drop_context_locked();
  void write_profile(bool replayed);
  void attach_profiler_locked(BackendExecutionContext& ctx);
  void setup_loaded_engine(BackendEngine& engine);
  void set_profile_value_ranges(const BackendEngine& engine, int32_t count);

  std::vector<std::string> serialized_info_;
  EngineInfo info_;
  std::mutex mutex_;
  std::optional<c10::Stream> last_enqueue_stream_;
  std::shared_ptr<EngineBackend> backend_;
  std::atomic<uint64_t> backend_generation_{0}; // BackendRegistry::generation() backend_ was checked at
  std::unique_ptr<BackendEngine> engine_;
  std::unique_ptr<BackendExecutionContext> context_;
  TRTRuntimeConfig runtime_config_;
  SubgraphCapture subgraph_;
  ContextShapes context_shapes_;
  TRTRuntimeConfig::Effective context_settings_{};
  CudaGraphStrategy context_cuda_graph_strategy_ = CudaGraphStrategy::kDISABLED;
  uint64_t context_generation_ = 0;
  std::string last_decision_ = "not run";
  int64_t contexts_created_ = 0;
  int64_t executions_ = 0;
  int64_t graph_captures_ = 0;
  int64_t graph_replays_ = 0;
  std::unique_ptr<OptimizationProfiles> profiles_; // engines with several profiles only
  std::vector<ShapeTensorInput> shape_inputs_; // of the loaded engine (setup_loaded_engine)
  AliasedOutputs aliased_; // of the loaded engine (setup_loaded_engine)
  int64_t forced_profile_ = -1; // optimization_profile(module, k); -1: automatic
  int64_t context_profile_ = 0; // the profile context_ runs on (a new context starts on 0)
  int64_t weight_budget_ = -1; // set_device_memory_budget's; -1: the backend's automatic budget
  EngineProfiler profiler_; // per-layer profiling, off until enable_profiling()
  bool profile_replay_warned_ = false;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
