// One engine of a DispatcherBackend: its IO description and the implementation's handle for it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class DispatcherBackend;

class DispatcherEngine : public BackendEngine {
 public:
  // `profiles`: per optimization profile, the shapes of each input (in io order); `values`: likewise the
  // value ranges of shape-tensor inputs (nullopt for other inputs).
  DispatcherEngine(
      std::shared_ptr<DispatcherBackend> backend,
      int64_t handle,
      std::vector<IOTensorInfo> io,
      std::vector<std::vector<ProfileShape>> profiles,
      std::vector<std::vector<std::optional<ProfileShape>>> values = {});

  const std::vector<IOTensorInfo>& io_tensors() const override {
    return io_;
  }
  std::unique_ptr<BackendExecutionContext> create_execution_context(const ContextOptions& options) override;
  int32_t num_optimization_profiles() const override;
  bool profile_shape(const std::string& name, int32_t profile, ProfileShape* out) const override;
  bool profile_values(const std::string& name, int32_t profile, ProfileShape* out) const override;
  // Asked of the implementation each time (_dispatcher_weights): not on the per-call path.
  int64_t streamable_weights_size() const override;
  int64_t weight_streaming_budget() const override;
  bool set_weight_streaming_budget(int64_t bytes) override;
  int64_t weight_streaming_automatic_budget() const override;

 private:
  std::vector<int64_t> weights() const; // (streamable, budget, automatic)
  // The position of input `name` among the engine's inputs (profiles_ and values_ are indexed by it).
  std::optional<size_t> input_index(const std::string& name) const;

  std::shared_ptr<DispatcherBackend> backend_;
  int64_t handle_;
  std::vector<IOTensorInfo> io_;
  std::vector<std::vector<ProfileShape>> profiles_;
  std::vector<std::vector<std::optional<ProfileShape>>> values_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
