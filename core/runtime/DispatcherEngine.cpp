#include "core/runtime/DispatcherEngine.h"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "core/runtime/DispatcherBackend.h"
#include "core/runtime/DispatcherExecutionContext.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

DispatcherEngine::DispatcherEngine(
    std::shared_ptr<DispatcherBackend> backend,
    int64_t handle,
    std::vector<IOTensorInfo> io,
    std::vector<std::vector<ProfileShape>> profiles,
    std::vector<std::vector<std::optional<ProfileShape>>> values)
    : backend_(std::move(backend)),
      handle_(handle),
      io_(std::move(io)),
      profiles_(std::move(profiles)),
      values_(std::move(values)) {}

int32_t DispatcherEngine::num_optimization_profiles() const {
  return std::max<int32_t>(static_cast<int32_t>(profiles_.size()), 1);
}

std::optional<size_t> DispatcherEngine::input_index(const std::string& name) const {
  size_t input = 0;
  for (const auto& t : io_) {
    if (!t.is_input) {
      continue;
    }
    if (t.name == name) {
      return input;
    }
    ++input;
  }
  return std::nullopt;
}

bool DispatcherEngine::profile_values(const std::string& name, int32_t profile, ProfileShape* out) const {
  const auto input = input_index(name);
  if (profile < 0 || static_cast<size_t>(profile) >= values_.size() || !input) {
    return false;
  }
  const auto& range = values_[static_cast<size_t>(profile)].at(*input);
  if (range) {
    *out = *range;
  }
  return range.has_value();
}

bool DispatcherEngine::profile_shape(const std::string& name, int32_t profile, ProfileShape* out) const {
  const auto input = input_index(name);
  if (profile < 0 || static_cast<size_t>(profile) >= profiles_.size() || !input) {
    return false;
  }
  *out = profiles_[static_cast<size_t>(profile)].at(*input);
  return true;
}

std::vector<int64_t> DispatcherEngine::weights() const {
  std::vector<int64_t> out = backend_->call("_dispatcher_weights", {handle_}).at(0).toIntVector();
  if (out.size() != 3) {
    throw std::runtime_error("_dispatcher_weights must return (streamable, budget, automatic)");
  }
  return out;
}

int64_t DispatcherEngine::streamable_weights_size() const {
  return weights()[0];
}

int64_t DispatcherEngine::weight_streaming_budget() const {
  return weights()[1];
}

int64_t DispatcherEngine::weight_streaming_automatic_budget() const {
  return weights()[2];
}

bool DispatcherEngine::set_weight_streaming_budget(int64_t bytes) {
  return backend_->call("_dispatcher_set_weight_budget", {handle_, bytes}).at(0).toBool();
}

std::unique_ptr<BackendExecutionContext> DispatcherEngine::create_execution_context(const ContextOptions& options) {
  at::Tensor cache = at::empty({static_cast<int64_t>(options.runtime_cache.size())}, at::kByte);
  if (!options.runtime_cache.empty()) {
    std::memcpy(cache.data_ptr(), options.runtime_cache.data(), options.runtime_cache.size());
  }
  std::vector<c10::IValue> out = backend_->call(
      "_dispatcher_create_context",
      {handle_,
       static_cast<int64_t>(options.allocation),
       static_cast<int64_t>(options.kernel_strategy),
       static_cast<int64_t>(options.cuda_graph_strategy),
       options.use_runtime_cache,
       cache});
  if (out.at(0).toInt() < 0) {
    // The contract of create_execution_context: a refused runtime cache is std::invalid_argument.
    throw std::invalid_argument(out.at(1).toStringRef());
  }
  return std::make_unique<DispatcherExecutionContext>(backend_, out.at(0).toInt(), io_, options);
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
