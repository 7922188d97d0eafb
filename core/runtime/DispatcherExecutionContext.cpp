#include "core/runtime/DispatcherExecutionContext.h"

#include <ATen/ops/from_blob.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "core/runtime/DispatcherBackend.h"
#include "core/runtime/DispatcherGraphCapture.h"
#include "core/runtime/execute_engine.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

DispatcherExecutionContext::DispatcherExecutionContext(
    std::shared_ptr<DispatcherBackend> backend,
    int64_t handle,
    std::vector<IOTensorInfo> io,
    const ContextOptions& options)
    : backend_(std::move(backend)),
      handle_(handle),
      io_(std::move(io)),
      options_(options),
      native_capture_(backend_->features().native_cuda_graphs && options.cuda_graph_strategy == CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE) {
  backend_->add_context(this);
}

DispatcherExecutionContext::~DispatcherExecutionContext() {
  backend_->remove_context(this);
}

void DispatcherExecutionContext::close(std::string final_runtime_cache) {
  std::lock_guard<std::mutex> lock(final_cache_mutex_);
  closed_ = true;
  final_runtime_cache_ = std::move(final_runtime_cache);
}

const IOTensorInfo* DispatcherExecutionContext::find(const std::string& name) const {
  for (const auto& t : io_) {
    if (t.name == name) {
      return &t;
    }
  }
  return nullptr;
}

at::Tensor DispatcherExecutionContext::view(const IOTensorInfo& t, const std::vector<int64_t>& shape) const {
  auto address = addresses_.find(t.name);
  if (address == addresses_.end()) {
    throw std::runtime_error("tensor '" + t.name + "' has no address");
  }
  return at::from_blob(address->second, shape, at::TensorOptions().dtype(to_scalar_type(t.dtype)));
}

void DispatcherExecutionContext::input_changed() {
  output_shapes_.clear();
  inputs_bound_ = false;
}

bool DispatcherExecutionContext::set_input_shape(const std::string& name, const std::vector<int64_t>& shape) {
  const IOTensorInfo* t = find(name);
  if (t == nullptr || !t->is_input || t->shape.size() != shape.size()) {
    return false;
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0 || (t->shape[i] >= 0 && t->shape[i] != shape[i])) {
      return false;
    }
  }
  shapes_[name] = shape;
  input_changed();
  return true;
}

bool DispatcherExecutionContext::set_optimization_profile(int32_t index, void*) {
  return backend_->call("_dispatcher_set_profile", {handle_, static_cast<int64_t>(index)}).at(0).toBool();
}

void DispatcherExecutionContext::compute_output_shapes() {
  std::vector<std::string> input_names;
  std::vector<at::Tensor> inputs;
  std::vector<std::string> output_names;
  for (const auto& t : io_) {
    if (!t.is_input) {
      output_names.push_back(t.name);
      continue;
    }
    auto shape = shapes_.find(t.name);
    if (shape == shapes_.end()) {
      throw std::runtime_error("input '" + t.name + "' has no shape");
    }
    input_names.push_back(t.name);
    inputs.push_back(view(t, shape->second));
  }
  const std::vector<int64_t> dims =
      backend_
          ->call(
              "_dispatcher_output_shapes",
              {c10::IValue(handle_), c10::IValue(input_names), c10::IValue(inputs), c10::IValue(output_names)})
          .at(0)
          .toIntVector();
  size_t pos = 0;
  for (const auto& name : output_names) {
    const int64_t rank = pos < dims.size() ? dims[pos++] : -1;
    if (rank < 0 || pos + static_cast<size_t>(rank) > dims.size()) {
      throw std::runtime_error("_dispatcher_output_shapes: malformed shape of output '" + name + "'");
    }
    output_shapes_[name].assign(dims.begin() + static_cast<std::ptrdiff_t>(pos), dims.begin() + static_cast<std::ptrdiff_t>(pos + rank));
    pos += static_cast<size_t>(rank);
  }
  inputs_bound_ = true;
}

std::vector<int64_t> DispatcherExecutionContext::get_output_shape(const std::string& name) {
  if (output_shapes_.empty()) {
    compute_output_shapes();
  }
  auto it = output_shapes_.find(name);
  if (it == output_shapes_.end()) {
    throw std::runtime_error("engine has no output named '" + name + "'");
  }
  return it->second;
}

bool DispatcherExecutionContext::set_tensor_address(const std::string& name, void* data) {
  const IOTensorInfo* t = find(name);
  if (t == nullptr || data == nullptr) {
    return false;
  }
  addresses_[name] = data;
  if (t->is_input) {
    input_changed();
  }
  return true;
}

bool DispatcherExecutionContext::set_output_allocator(const std::string& name, OutputAllocator* allocator) {
  const IOTensorInfo* t = find(name);
  if (t == nullptr || t->is_input) {
    return false;
  }
  allocators_[name] = allocator;
  return true;
}

bool DispatcherExecutionContext::uses_native_capture() const {
  return native_capture_;
}

DispatcherExecutionContext::Run DispatcherExecutionContext::bound_run() {
  Run run;
  for (const auto& t : io_) {
    if (!t.is_input && allocators_.count(t.name)) {
      run.allocated.push_back(t.name);
    } else if (t.is_input) {
      run.names.push_back(t.name);
      run.tensors.push_back(view(t, shapes_.at(t.name)));
    } else if (addresses_.count(t.name)) {
      run.names.push_back(t.name);
      run.tensors.push_back(view(t, get_output_shape(t.name)));
    }
  }
  return run;
}

bool DispatcherExecutionContext::execute(const Run& run, bool inputs_bound) {
  std::vector<at::Tensor> produced =
      backend_
          ->call(
              "_dispatcher_execute",
              {c10::IValue(handle_),
               c10::IValue(run.names),
               c10::IValue(run.tensors),
               c10::IValue(inputs_bound),
               c10::IValue(run.allocated)})
          .at(0)
          .toTensorVector();
  if (produced.size() != run.allocated.size()) {
    return false;
  }
  // Data-dependent outputs: memory from the runtime's allocator, as TensorRT asks for it.
  for (size_t i = 0; i < produced.size(); ++i) {
    const std::string& name = run.allocated[i];
    at::Tensor value = produced[i].contiguous();
    const uint64_t bytes = static_cast<uint64_t>(value.numel()) * value.element_size();
    void* memory = allocators_.at(name)->reallocate(name, nullptr, std::max<uint64_t>(bytes, 1), 256);
    if (memory == nullptr) {
      return false;
    }
    if (bytes > 0) {
      std::memcpy(memory, value.data_ptr(), bytes);
    }
    allocators_.at(name)->notify_shape(name, value.sizes().vec());
  }
  ++enqueues_;
  if (profiler_ != nullptr) {
    report_layer_times();
  }
  return true;
}

bool DispatcherExecutionContext::set_profiler(LayerTimeReceiver* receiver) {
  if (!backend_->call("_dispatcher_set_profiler", {handle_, receiver != nullptr}).at(0).toBool()) {
    return false;
  }
  profiler_ = receiver;
  return true;
}

void DispatcherExecutionContext::report_layer_times() {
  std::vector<c10::IValue> times = backend_->call("_dispatcher_layer_times", {handle_});
  const auto names = times.at(0).toListRef();
  const std::vector<double> ms = times.at(1).toDoubleVector();
  if (names.size() != ms.size()) {
    throw std::runtime_error("_dispatcher_layer_times: one time per layer expected");
  }
  for (size_t i = 0; i < ms.size(); ++i) {
    profiler_->report_layer_time(names[i].toStringRef(), static_cast<float>(ms[i]));
  }
}

bool DispatcherExecutionContext::enqueue(void*) {
  for (const auto& t : io_) {
    if (t.is_input && (!shapes_.count(t.name) || !addresses_.count(t.name))) {
      return false; // TensorRT refuses to run with an input unset
    }
  }
  Run run = bound_run();
  if (auto* steps = DispatcherGraphCapture::recording()) {
    if (!run.allocated.empty()) {
      return false; // data-dependent output shapes cannot be captured
    }
    // Each replay reads the recorded buffers again, so the implementation rebinds them every time.
    steps->push_back([this, run]() { return execute(run, /*inputs_bound=*/false); });
    return true;
  }
  const bool ok = execute(run, inputs_bound_);
  inputs_bound_ = false; // a run consumes the results computed for the bound inputs
  return ok;
}

std::string DispatcherExecutionContext::serialize_runtime_cache() {
  {
    std::lock_guard<std::mutex> lock(final_cache_mutex_);
    if (closed_) {
      return final_runtime_cache_;
    }
  }
  at::Tensor bytes = backend_->call("_dispatcher_runtime_cache", {handle_}).at(0).toTensor().contiguous();
  return std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.numel()));
}

std::map<std::string, int64_t> DispatcherExecutionContext::debug_stats() const {
  return {
      {"enqueues", enqueues_},
      {"kernel_strategy", static_cast<int64_t>(options_.kernel_strategy)},
      {"cuda_graph_strategy", static_cast<int64_t>(options_.cuda_graph_strategy)},
      {"use_runtime_cache", options_.use_runtime_cache ? 1 : 0},
  };
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
