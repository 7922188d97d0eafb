// TRTEngine's optimization-profile and weight-streaming controls (declared in TRTEngine.h), as the
// Python engine's ProfileAndBudgetControls: which profile calls run on (OptimizationProfiles) and how
// many bytes of streamable weights stay on the device. Runtime controls, never serialized.
#include <c10/util/Exception.h>

#include <stdexcept>

#include "core/runtime/TRTEngine.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

// The value ranges of the shape-tensor inputs per profile, in shape_inputs_ order (the order of the
// values execute_engine passes to use_profile).
void TRTEngine::set_profile_value_ranges(const BackendEngine& engine, int32_t count) {
  std::vector<size_t> value_inputs;
  for (const auto& input : shape_inputs_) {
    value_inputs.push_back(input.index);
  }
  std::vector<std::vector<std::optional<OptimizationProfiles::Range>>> value_ranges(static_cast<size_t>(count));
  for (int32_t p = 0; p < count; ++p) {
    for (size_t index : value_inputs) {
      ProfileShape values;
      auto& ranges = value_ranges[static_cast<size_t>(p)];
      if (engine.profile_values(info_.input_names.at(index), p, &values)) {
        ranges.emplace_back(OptimizationProfiles::Range{values.min, values.max});
      } else {
        ranges.emplace_back(std::nullopt);
      }
    }
  }
  profiles_->set_value_ranges(std::move(value_inputs), std::move(value_ranges));
}

int64_t TRTEngine::num_optimization_profiles() {
  follow_selected_backend();
  std::lock_guard<std::mutex> lock(mutex_);
  backend_engine();
  return profiles_ ? profiles_->count() : 1;
}

void TRTEngine::set_optimization_profile(int64_t profile) {
  // Profile 0 always exists: selecting it needs no engine (nor a machine that can load one).
  if (profile != 0) {
    try {
      check_profile_index(info_.name, profile, num_optimization_profiles());
    } catch (const std::invalid_argument& e) {
      TORCH_CHECK_VALUE(false, e.what());
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  forced_profile_ = profile;
}

void TRTEngine::clear_optimization_profile() {
  std::lock_guard<std::mutex> lock(mutex_);
  forced_profile_ = -1;
}

int64_t TRTEngine::get_optimization_profile() {
  std::lock_guard<std::mutex> lock(mutex_);
  return forced_profile_;
}

int64_t TRTEngine::active_optimization_profile() {
  std::lock_guard<std::mutex> lock(mutex_);
  return context_profile_;
}

void TRTEngine::use_profile(
    BackendExecutionContext& ctx,
    const std::vector<at::Tensor>& inputs,
    const std::vector<std::vector<int64_t>>& shape_values,
    void* stream) {
  std::vector<std::vector<int64_t>> shapes;
  shapes.reserve(inputs.size());
  for (const auto& t : inputs) {
    shapes.push_back(t.sizes().vec());
  }
  int64_t profile = 0;
  try {
    profile = profiles_->choose(shapes, forced_profile_, shape_values);
  } catch (const std::invalid_argument& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
  if (profile != context_profile_) {
    TORCH_CHECK(
        ctx.set_optimization_profile(static_cast<int32_t>(profile), stream),
        "TensorRT could not switch engine '", info_.name, "' to optimization profile ", profile);
    context_profile_ = profile;
    subgraph_.reset();
    context_shapes_.known = false;
  }
}

int64_t TRTEngine::get_streamable_device_memory_budget() {
  follow_selected_backend();
  std::lock_guard<std::mutex> lock(mutex_);
  return backend_engine().streamable_weights_size();
}

int64_t TRTEngine::get_automatic_device_memory_budget() {
  follow_selected_backend();
  std::lock_guard<std::mutex> lock(mutex_);
  BackendEngine& engine = backend_engine();
  try {
    check_weight_budget(info_.name, 0, engine.streamable_weights_size());
  } catch (const std::runtime_error& e) {
    TORCH_CHECK(false, e.what());
  }
  return engine.weight_streaming_automatic_budget();
}

int64_t TRTEngine::get_device_memory_budget() {
  follow_selected_backend();
  std::lock_guard<std::mutex> lock(mutex_);
  BackendEngine& engine = backend_engine();
  return engine.streamable_weights_size() > 0 ? engine.weight_streaming_budget() : 0;
}

bool TRTEngine::set_device_memory_budget(int64_t budget) {
  follow_selected_backend();
  std::lock_guard<std::mutex> lock(mutex_);
  BackendEngine& engine = backend_engine();
  try {
    check_weight_budget(info_.name, budget, engine.streamable_weights_size());
  } catch (const std::invalid_argument& e) {
    TORCH_CHECK_VALUE(false, e.what());
  } catch (const std::runtime_error& e) {
    TORCH_CHECK(false, e.what());
  }
  drop_context_locked();
  TORCH_CHECK(
      engine.set_weight_streaming_budget(budget),
      "TensorRT refused weight-streaming budget ", budget, " for engine '", info_.name, "'");
  weight_budget_ = budget;
  return true;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
