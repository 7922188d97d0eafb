#include "core/runtime/TRTEngine.h"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <map>
#include <utility>

#include "core/runtime/Base64.h"
#include "core/runtime/Sha256.h"

#include "core/runtime/BackendRegistry.h"
#include "core/runtime/RuntimeCacheLocation.h"
#include "core/runtime/RuntimeDefaults.h"
#include "core/runtime/runtime.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

EngineInfo parse_info(const std::vector<std::string>& info) {
  try {
    return EngineInfo::from_list(info);
  } catch (const std::invalid_argument& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
}

constexpr const char* kEngineRefPrefix = "sha256:";

// The engine's own runtime-cache file in the per-user directory, named by the SHA-256 of its bytes as
// in the Python runtime; "" (memory only, with a warning) when the directory is refused or cannot be
// made: the cache only saves JIT time, so it never stops an engine from running.
std::string default_cache_path_for(const EngineInfo& info) {
  try {
    return RuntimeCacheLocation::default_path(Sha256::hex(info.engine));
  } catch (const std::exception& e) {
    log(LogLevel::kWARNING,
        std::string(e.what()) + " Engine '" + info.name + "' keeps its runtime cache in memory only.");
    return "";
  }
}

} // namespace

bool SubgraphCapture::matches(const std::vector<at::Tensor>& inputs, const std::vector<std::vector<int64_t>>& values)
    const {
  if (!graph || inputs.size() != input_shapes.size() || values != shape_values) {
    return false;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].sizes().vec() != input_shapes[i]) {
      return false;
    }
  }
  return true;
}

void SubgraphCapture::reset() {
  graph.reset();
  input_shapes.clear();
  shape_values.clear();
  static_inputs.clear();
  static_outputs.clear();
  workspace = at::Tensor();
}

TRTEngine::TRTEngine(std::vector<std::string> serialized_info)
    : serialized_info_(std::move(serialized_info)),
      info_(parse_info(serialized_info_)),
      runtime_config_(TRTRuntimeConfig::allocation_from_name(info_.resource_allocation_strategy)) {
  const std::string host = current_platform();
  // A ValueError with the Python runtime's text (require_host_platform): both runtimes give one verdict.
  TORCH_CHECK_VALUE(
      info_.target_platform == host,
      "engine '",
      info_.name,
      "' was built for platform ",
      info_.target_platform,
      "; this machine is ",
      host,
      ". Recompile the program on (or for) this platform.");
}

TRTEngine::~TRTEngine() {
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    if (context_) {
      runtime_config_.stash_runtime_cache(context_->serialize_runtime_cache());
    }
    subgraph_.reset();
    context_.reset();
    runtime_config_.save_runtime_cache();
  } catch (...) {
    // Never throw from a destructor; the cache is an optimisation.
  }
}

std::vector<std::string> TRTEngine::join_engine_info(
    const at::Tensor& serialized_engine,
    const std::vector<std::string>& engine_info) {
  std::vector<std::string> info = engine_info;
  if (info.size() <= static_cast<size_t>(SERIALIZED_ENGINE_IDX)) {
    return info; // EngineInfo::from_list reports the wrong length
  }
  std::string& slot = info[SERIALIZED_ENGINE_IDX];
  const std::string prefix = kEngineRefPrefix;
  if (slot.compare(0, prefix.size(), prefix) != 0) {
    return info; // the engine itself (base64) travels in the info
  }
  TORCH_CHECK_VALUE(
      serialized_engine.defined() && serialized_engine.scalar_type() == c10::ScalarType::Byte,
      "engine info slot ",
      slot_label(SERIALIZED_ENGINE_IDX),
      ": the engine must be a uint8 tensor");
  at::Tensor bytes = serialized_engine.detach().cpu().contiguous();
  std::string data(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.numel()));
  std::string digest = Sha256::hex(data);
  if (slot.substr(prefix.size()) != digest) {
    TORCH_CHECK_VALUE(
        false,
        "engine info slot ",
        slot_label(SERIALIZED_ENGINE_IDX),
        ": the engine tensor (sha256 ",
        digest.substr(0, 16),
        "\u2026) does not match the engine the info refers to (",
        slot.substr(0, 23),
        "\u2026); the file is corrupt or was edited");
  }
  slot = data.empty() ? std::string() : Base64::encode(data);
  return info;
}

EngineBackend& TRTEngine::backend() {
  if (!backend_) {
    backend_ = BackendRegistry::instance().current();
  }
  return *backend_;
}

void TRTEngine::follow_selected_backend() {
  BackendRegistry& registry = BackendRegistry::instance();
  const uint64_t generation = registry.generation();
  if (backend_generation_.load(std::memory_order_acquire) == generation) {
    return; // nothing was selected since this engine last looked
  }
  std::shared_ptr<EngineBackend> selected = registry.current();
  std::lock_guard<std::mutex> lock(mutex_);
  if (backend_ && backend_ != selected) {
    drop_context_locked();
    runtime_config_.save_runtime_cache();
    engine_.reset();
    last_enqueue_stream_.reset(); // streams of the old backend's device
  }
  backend_ = std::move(selected);
  // A selection made after `generation` was read only makes the next call look again.
  backend_generation_.store(generation, std::memory_order_release);
}

BackendEngine& TRTEngine::backend_engine() {
  if (!engine_) {
    std::unique_ptr<BackendEngine> loaded;
    try {
      loaded = backend().deserialize_engine(info_.engine, info_.name);
    } catch (const std::exception& e) {
      TORCH_CHECK(false, e.what());
    }
    TORCH_CHECK(loaded, "the ", backend().name(), " backend could not load engine '", info_.name, "'");
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    for (const auto& t : loaded->io_tensors()) {
      (t.is_input ? inputs : outputs).push_back(t.name);
    }
    TORCH_CHECK(
        inputs == info_.input_names,
        "engine '",
        info_.name,
        "' has inputs [",
        c10::Join(", ", inputs),
        "] but its info lists [",
        c10::Join(", ", info_.input_names),
        "]");
    for (const auto& name : info_.output_names) {
      TORCH_CHECK(
          std::find(outputs.begin(), outputs.end(), name) != outputs.end(),
          "engine '",
          info_.name,
          "' has no output named '",
          name,
          "' (its outputs: [",
          c10::Join(", ", outputs),
          "])");
    }
    setup_loaded_engine(*loaded);
    engine_ = std::move(loaded);
  }
  return *engine_;
}

// Shape-tensor inputs: the metadata says which have a value range (matched by name, as the Python
// runtime's shape_input_checks), the backend which it reads from host memory.
static std::vector<ShapeTensorInput> shape_tensor_inputs(const EngineInfo& info, const BackendEngine& engine) {
  std::vector<ShapeTensorInput> found;
  size_t index = 0;
  for (const auto& t : engine.io_tensors()) {
    if (!t.is_input) {
      continue;
    }
    ShapeTensorInput input;
    input.index = index++;
    input.host = t.host_input;
    for (const auto& spec : info.metadata.inputs) {
      if (spec.name == t.name && spec.has_shape_values) {
        input.has_range = true;
        input.min_values = spec.min_values;
        input.max_values = spec.max_values;
      }
    }
    if (input.has_range || input.host) {
      found.push_back(std::move(input));
    }
  }
  return found;
}

void TRTEngine::setup_loaded_engine(BackendEngine& engine) {
  shape_inputs_ = shape_tensor_inputs(info_, engine);
  aliased_ = find_aliased_outputs(info_, engine.io_tensors());
  const int32_t count = engine.num_optimization_profiles();
  profiles_.reset();
  if (count > 1) {
    std::vector<std::vector<OptimizationProfiles::Range>> ranges(static_cast<size_t>(count));
    for (int32_t p = 0; p < count; ++p) {
      for (const auto& name : info_.input_names) {
        ProfileShape shape;
        TORCH_CHECK(
            engine.profile_shape(name, p, &shape),
            "engine '", info_.name, "' has no shape for input ", name, " in optimization profile ", p);
        ranges[static_cast<size_t>(p)].emplace_back(shape.min, shape.max);
      }
    }
    profiles_ = std::make_unique<OptimizationProfiles>(info_.name, info_.input_names, std::move(ranges));
    set_profile_value_ranges(engine, count);
  }
  // The budget set before (engines are reloaded on another backend), else the automatic one, as
  // Torch-TensorRT sets it when it deserializes a streaming engine.
  if (engine.streamable_weights_size() > 0) {
    const int64_t budget = weight_budget_ >= 0 ? weight_budget_ : engine.weight_streaming_automatic_budget();
    TORCH_CHECK(
        engine.set_weight_streaming_budget(budget),
        "TensorRT refused weight-streaming budget ", budget, " for engine '", info_.name, "'");
  }
}

c10::Dict<std::string, int64_t> TRTEngine::aliased_outputs() {
  follow_selected_backend();
  std::lock_guard<std::mutex> lock(mutex_);
  backend_engine();
  c10::Dict<std::string, int64_t> found;
  for (size_t k = 0; k < info_.output_names.size(); ++k) {
    if (aliased_.input_of(k) >= 0) {
      found.insert(info_.output_names[k], aliased_.input_of(k));
    }
  }
  return found;
}

const IOTensorInfo& TRTEngine::io_tensor(const std::string& name) {
  for (const auto& t : backend_engine().io_tensors()) {
    if (t.name == name) {
      return t;
    }
  }
  TORCH_CHECK(false, "engine '", info_.name, "' has no tensor named '", name, "'");
}

BackendExecutionContext& TRTEngine::context(CudaGraphStrategy cuda_graph_strategy) {
  if (context_ && cuda_graph_strategy != context_cuda_graph_strategy_) {
    drop_context_locked();
  }
  // The process-wide defaults changed since the context was made: recreate it if they change what
  // this engine runs with (one integer compare per run otherwise).
  const uint64_t generation = RuntimeDefaults::generation();
  if (context_ && generation != context_generation_) {
    context_generation_ = generation;
    if (runtime_config_.effective() != context_settings_) {
      drop_context_locked();
    }
  }
  if (!context_) {
    context_generation_ = generation;
    if (runtime_config_.needs_default_cache_path(backend().features())) {
      runtime_config_.set_default_cache_path(default_cache_path_for(info_));
    }
    context_settings_ = runtime_config_.effective();
    BackendEngine& engine = backend_engine();
    ContextOptions options = runtime_config_.context_options(backend().features());
    options.cuda_graph_strategy = cuda_graph_strategy;
    context_cuda_graph_strategy_ = cuda_graph_strategy;
    try {
      try {
        context_ = engine.create_execution_context(options);
      } catch (const std::invalid_argument& e) {
        // The runtime cache was refused (another TensorRT version, garbage): never fatal.
        if (!options.use_runtime_cache || options.runtime_cache.empty()) {
          throw;
        }
        runtime_config_.reject_runtime_cache(e.what());
        options.runtime_cache.clear();
        context_ = engine.create_execution_context(options);
      }
    } catch (const std::exception& e) {
      TORCH_CHECK(false, "could not create an execution context for engine '", info_.name, "': ", e.what());
    }
    TORCH_CHECK(context_, "could not create an execution context for engine '", info_.name, "'");
    attach_profiler_locked(*context_);
    context_profile_ = 0;
    ++contexts_created_;
  }
  return *context_;
}

c10::Device TRTEngine::device() {
  if (backend().device_kind() == DeviceKind::kCUDA) {
    return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(info_.gpu_id));
  }
  return c10::Device(c10::DeviceType::CPU);
}

void TRTEngine::drop_context_locked() {
  subgraph_.reset();
  context_shapes_.known = false;
  if (context_) {
    runtime_config_.stash_runtime_cache(context_->serialize_runtime_cache());
    context_.reset();
  }
  context_profile_ = 0;
}

void TRTEngine::set_runtime_settings(int64_t kernel_strategy, int64_t cuda_graph_strategy) {
  KernelSpecializationStrategy kernel;
  CudaGraphStrategy cuda_graph;
  try {
    kernel = TRTRuntimeConfig::kernel_strategy_from_int(kernel_strategy);
    cuda_graph = TRTRuntimeConfig::cuda_graph_strategy_from_int(cuda_graph_strategy);
  } catch (const std::invalid_argument& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (runtime_config_.set_strategies(kernel, cuda_graph)) {
    drop_context_locked();
  }
}

std::vector<int64_t> TRTEngine::get_runtime_settings() {
  std::lock_guard<std::mutex> lock(mutex_);
  return {
      static_cast<int64_t>(runtime_config_.kernel_strategy()),
      static_cast<int64_t>(runtime_config_.cuda_graph_strategy())};
}

void TRTEngine::clear_runtime_settings() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (runtime_config_.clear_strategies()) {
    drop_context_locked();
  }
}

bool TRTEngine::has_runtime_settings() {
  std::lock_guard<std::mutex> lock(mutex_);
  return runtime_config_.has_strategies();
}

void TRTEngine::set_runtime_cache_path(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Kernels compiled so far are stashed; the file in use until now is saved when the next context
  // switches files (or when the engine is released).
  if (runtime_config_.set_runtime_cache_path(path)) {
    drop_context_locked();
  }
}

void TRTEngine::clear_runtime_cache_path() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (runtime_config_.clear_runtime_cache_path()) {
    drop_context_locked();
  }
}

std::string TRTEngine::get_runtime_cache_path() {
  std::lock_guard<std::mutex> lock(mutex_);
  return runtime_config_.runtime_cache_path();
}

at::Tensor TRTEngine::get_runtime_cache_payload() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (context_) {
    runtime_config_.stash_runtime_cache(context_->serialize_runtime_cache());
  }
  const std::string& payload = runtime_config_.runtime_cache_payload();
  at::Tensor out = at::empty({static_cast<int64_t>(payload.size())}, at::kByte);
  if (!payload.empty()) {
    std::memcpy(out.data_ptr(), payload.data(), payload.size());
  }
  return out;
}

void TRTEngine::set_runtime_cache_payload(const at::Tensor& payload) {
  TORCH_CHECK_VALUE(payload.scalar_type() == at::kByte && payload.dim() == 1, "a runtime cache payload is a 1-D uint8 tensor");
  at::Tensor bytes = payload.contiguous().cpu();
  std::lock_guard<std::mutex> lock(mutex_);
  drop_context_locked(); // the next context starts from these bytes
  runtime_config_.set_runtime_cache_payload(
      std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.numel())));
}

bool TRTEngine::save_runtime_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (context_) {
    runtime_config_.stash_runtime_cache(context_->serialize_runtime_cache());
  }
  return runtime_config_.save_runtime_cache();
}

void TRTEngine::reset_context() {
  std::lock_guard<std::mutex> lock(mutex_);
  drop_context_locked();
}

std::string TRTEngine::backend_name() {
  std::lock_guard<std::mutex> lock(mutex_);
  return backend().name();
}

std::string TRTEngine::last_capture_decision() {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_decision_;
}

c10::Dict<std::string, int64_t> TRTEngine::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  c10::Dict<std::string, int64_t> out;
  out.insert("contexts_created", contexts_created_);
  out.insert("executions", executions_);
  out.insert("graph_captures", graph_captures_);
  out.insert("graph_replays", graph_replays_);
  if (context_) {
    for (const auto& kv : context_->debug_stats()) {
      out.insert("context." + kv.first, kv.second);
    }
  }
  return out;
}

void TRTEngine::note_execution(const char* decision, bool graph_captured, bool graph_replayed) {
  last_decision_ = decision;
  ++executions_;
  graph_captures_ += graph_captured ? 1 : 0;
  graph_replays_ += graph_replayed ? 1 : 0;
}

std::string TRTEngine::to_str() const {
  std::ostringstream ss;
  ss << "torch.classes.tensorrt.Engine(name='" << info_.name << "', inputs=[" << c10::Join(", ", info_.input_names)
     << "], outputs=[" << c10::Join(", ", info_.output_names) << "], gpu_id=" << info_.gpu_id
     << ", target_platform='" << info_.target_platform << "', hardware_compatible=" << info_.hardware_compatible
     << ", requires_output_allocator=" << info_.requires_output_allocator << ", "
     << runtime_config_.describe() << ")";
  return ss.str();
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
