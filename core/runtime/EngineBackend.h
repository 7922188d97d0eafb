// The runtime's only door to an inference library (DESIGN.md section 2).
//
// core/runtime talks to TensorRT exclusively through these abstract classes.  The TensorRT
// implementation (core/runtime/backend/, the only files that include the TensorRT SDK header) is built only when
// a TensorRT SDK is found; tests use a fake implementation (tests/core/fake_backend.*).
// Header-only, C++17, no torch and no TensorRT headers, so a backend can live in its own library.
//
// Conventions: names are tensor binding names; shapes are int64 dims (-1 = not known yet);
// streams are opaque native handles (cudaStream_t for CUDA, nullptr on CPU backends).
// Methods report failure by returning false / nullptr (the caller words the message) or by throwing
// std::exception subclasses with a message for the user.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime/DataType.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

// Ints shared with Python (torch_tensorrt.runtime._settings): lazy=0, eager=1, none=2.
enum class KernelSpecializationStrategy : int32_t { kLAZY = 0, kEAGER = 1, kNONE = 2 };
// disabled=0, whole_graph_capture=1.
enum class CudaGraphStrategy : int32_t { kDISABLED = 0, kWHOLE_GRAPH_CAPTURE = 1 };
// Engine-info slot RESOURCE_ALLOCATION_STRATEGY_IDX: "static"=0, "dynamic"=1.
enum class ResourceAllocationStrategy : int32_t { kSTATIC = 0, kDYNAMIC = 1 };

enum class DeviceKind : int32_t { kCUDA = 0, kCPU = 1 };

struct IOTensorInfo {
  std::string name;
  bool is_input = false;
  DataType dtype = DataType::kFLOAT32;
  std::vector<int64_t> shape; // -1 for dynamic dims
  // An input TensorRT reads from host memory: a shape tensor, whose values set shapes inside the
  // engine (TensorRT's isShapeInferenceIO input at TensorLocation::kHOST). The runtime binds the
  // address of a host copy; the engine metadata records its value range (InputSpec::shape_values).
  bool host_input = false;
  // For an output: the input whose memory it is (TensorRT's ICudaEngine::getAliasedInputTensor, e.g. a
  // KV-cache update layer writing its cache in place). The runtime binds it to that input's address and
  // returns the input tensor for it. Empty: an ordinary output.
  std::string aliased_input;
};

// What an execution context is created with (the backend maps it onto its runtime config).
struct ContextOptions {
  ResourceAllocationStrategy allocation = ResourceAllocationStrategy::kSTATIC;
  KernelSpecializationStrategy kernel_strategy = KernelSpecializationStrategy::kLAZY;
  CudaGraphStrategy cuda_graph_strategy = CudaGraphStrategy::kDISABLED;
  bool use_runtime_cache = false;
  std::string runtime_cache; // serialized cache to start from; empty = fresh cache
};

// The shapes input `name` may take in one optimization profile.
struct ProfileShape {
  std::vector<int64_t> min;
  std::vector<int64_t> opt;
  std::vector<int64_t> max;
};

// What this backend can do (RTX-only features are false on standard TensorRT).
struct BackendFeatures {
  bool runtime_config = false; // IRuntimeConfig (allocation strategy through the config)
  bool kernel_strategy = false; // dynamic-shapes kernel specialization strategy
  bool native_cuda_graphs = false; // CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE
  bool runtime_cache = false;
};

// Memory for outputs whose shape is only known during enqueue (data-dependent shapes).
class OutputAllocator {
 public:
  virtual ~OutputAllocator() = default;
  // Memory of at least `bytes` for output `name`, or nullptr when it cannot be allocated.
  virtual void* reallocate(const std::string& name, void* current, uint64_t bytes, uint64_t alignment) = 0;
  virtual void notify_shape(const std::string& name, const std::vector<int64_t>& shape) = 0;
};

// Receives per-layer execution times (TensorRT's IProfiler::reportLayerTime): once per layer and run,
// before the enqueue that ran them returns.
class LayerTimeReceiver {
 public:
  virtual ~LayerTimeReceiver() = default;
  virtual void report_layer_time(const std::string& layer_name, float milliseconds) = 0;
};

class BackendExecutionContext {
 public:
  virtual ~BackendExecutionContext() = default;
  virtual bool set_input_shape(const std::string& name, const std::vector<int64_t>& shape) = 0;
  // Output shape after all input shapes are set; -1 dims are data-dependent.
  virtual std::vector<int64_t> get_output_shape(const std::string& name) = 0;
  virtual bool set_tensor_address(const std::string& name, void* data) = 0;
  virtual bool set_output_allocator(const std::string& name, OutputAllocator* allocator) = 0;
  // Scratch memory for ResourceAllocationStrategy::kDYNAMIC: the size needed for the current input
  // shapes, then the memory itself (valid until the next enqueue returns).
  virtual int64_t device_memory_size_for_shapes() = 0;
  virtual bool set_device_memory(void* memory, int64_t size) = 0;
  // The engine captures itself into a CUDA graph: the context was created with
  // CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE on a backend with native CUDA graphs.
  virtual bool uses_native_capture() const = 0;
  // Whether the work enqueued by this context on `stream` can be captured into a CUDA graph.
  virtual bool is_stream_capturable(void* stream) = 0;
  // Runs the engine.  There is no per-call switch for native capture: TensorRT-RTX applies the
  // CUDA graph strategy when a context is created, so the runtime creates the context it needs
  // (kDISABLED while an outer capture records the engine; see CudaGraphPolicy).
  virtual bool enqueue(void* stream) = 0;
  // Switches to optimization profile `index` (a new context starts on profile 0), ordered on `stream`
  // before the next enqueue; false for an index the engine does not have.
  virtual bool set_optimization_profile(int32_t index, void* stream) = 0;
  // Reports every later run's layer times to `receiver` (nullptr: to none), which outlives the context
  // or is replaced first. False when this backend cannot time layers (nothing is attached then).
  virtual bool set_profiler(LayerTimeReceiver* receiver) = 0;
  // The runtime cache after execution (JIT-compiled kernels); empty when there is none.
  virtual std::string serialize_runtime_cache() = 0;
  // Counters for tests and diagnostics (e.g. {"enqueues": 3}); empty unless a backend has some.
  virtual std::map<std::string, int64_t> debug_stats() const {
    return {};
  }
};

class BackendEngine {
 public:
  virtual ~BackendEngine() = default;
  virtual const std::vector<IOTensorInfo>& io_tensors() const = 0;
  // Throws std::runtime_error when a context cannot be created (e.g. out of memory); a runtime
  // cache that is not a valid cache is reported by throwing std::invalid_argument.
  virtual std::unique_ptr<BackendExecutionContext> create_execution_context(const ContextOptions& options) = 0;
  // Optimization profiles (at least 1), and the shapes of input `name` in one (false: unknown input
  // or profile).
  virtual int32_t num_optimization_profiles() const = 0;
  virtual bool profile_shape(const std::string& name, int32_t profile, ProfileShape* out) const = 0;
  // The min/opt/max *values* shape-tensor input `name` may take in a profile (TensorRT's
  // getProfileTensorValuesV2); false when unknown (not a shape tensor, or a backend that cannot tell).
  virtual bool profile_values(const std::string& name, int32_t profile, ProfileShape* out) const {
    (void)name, (void)profile, (void)out;
    return false;
  }
  // Weight streaming: bytes of weights that can be streamed (0: built without it), the budget of them
  // kept on the device, and the budget the library would choose. A budget is set only while no
  // execution context of the engine exists (TensorRT's rule); false when refused.
  virtual int64_t streamable_weights_size() const = 0;
  virtual int64_t weight_streaming_budget() const = 0;
  virtual bool set_weight_streaming_budget(int64_t bytes) = 0;
  virtual int64_t weight_streaming_automatic_budget() const = 0;
};

// A CUDA graph captured on a stream, replayed later (torch-level subgraph capture).
class GraphCapture {
 public:
  virtual ~GraphCapture() = default;
  virtual void begin(void* stream) = 0;
  virtual void end(void* stream) = 0;
  virtual void replay(void* stream) = 0;
};

class EngineBackend {
 public:
  virtual ~EngineBackend() = default;
  virtual std::string name() const = 0;
  virtual DeviceKind device_kind() const = 0;
  virtual BackendFeatures features() const = 0;
  // Throws std::runtime_error with a message for the user when the bytes cannot be used
  // (corrupt, other TensorRT version, no GPU, no SDK).
  virtual std::unique_ptr<BackendEngine> deserialize_engine(const std::string& bytes, const std::string& name) = 0;
  // Whether `stream` is being captured into a CUDA graph right now (by anyone; an invalidated capture
  // not yet ended counts). Asked of the caller's stream, as PyTorch and Torch-TensorRT do: only work
  // enqueued on a capturing stream joins a graph, whatever the capture mode. A capture on another
  // stream (global or relaxed mode, this thread or another) records nothing the engine enqueues
  // elsewhere, and the engine never enqueues on such a stream: it runs on the caller's stream or, off
  // the legacy default stream (which no capture can include), on a pool stream it asked this of.
  virtual bool is_stream_capturing(void* stream) = 0;
  virtual std::unique_ptr<GraphCapture> create_graph_capture() = 0;
  // Forwarded from torch.ops.tensorrt.set_logging_level (runtime.h LogLevel numbering).
  virtual void set_log_level(int64_t level) = 0;
};

// Entry point a test backend library exports (see BackendRegistry::load_test_backend):
//   extern "C" void torch_tensorrt_create_test_backend(std::shared_ptr<EngineBackend>* out);
using CreateBackendFn = void (*)(std::shared_ptr<EngineBackend>* out);
constexpr const char* CREATE_TEST_BACKEND_SYMBOL = "torch_tensorrt_create_test_backend";

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
