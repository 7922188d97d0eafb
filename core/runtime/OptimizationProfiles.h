// Which optimization profile a call runs on, and the weight-streaming budget checks, for the C++
// engine; the Python engine applies the same rules with the same messages
// (torch_tensorrt/dynamo/runtime/_engine_profiles.py; tests/py/runtime/test_profiles_and_budgets.py
// runs both). A call runs on the profile forced by optimization_profile(module, k), else on the first
// profile (lowest index) whose [min, max] contains every input shape and the values of every
// shape-tensor input (TensorRT bounds those per profile); the choice is cached per shapes and values.
// Torch-free C++17: errors are std::invalid_argument (ValueError) / std::runtime_error.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class OptimizationProfiles {
 public:
  using Shape = std::vector<int64_t>;
  using Range = std::pair<Shape, Shape>; // (min, max)

  // ranges[profile][input]: the (min, max) shapes of each input in each profile.
  OptimizationProfiles(std::string engine_name, std::vector<std::string> input_names, std::vector<std::vector<Range>> ranges);

  // Shape-tensor inputs: `value_inputs` are their input indices (the order of the values choose() is
  // given), value_ranges[profile][k] the (min, max) values of value_inputs[k] in that profile, or
  // nullopt where the engine does not say.
  void set_value_ranges(std::vector<size_t> value_inputs, std::vector<std::vector<std::optional<Range>>> value_ranges);

  int64_t count() const {
    return static_cast<int64_t>(ranges_.size());
  }
  bool fits(int64_t profile, const std::vector<Shape>& shapes, const std::vector<Shape>& values = {}) const;
  // The profile for these shapes and shape-tensor values; `forced` < 0: automatic. Throws
  // std::invalid_argument naming the shapes (and values) and the ranges when no (or not the forced)
  // profile contains them.
  int64_t choose(const std::vector<Shape>& shapes, int64_t forced, const std::vector<Shape>& values = {});
  std::string describe(int64_t profile) const;

 private:
  int64_t resolve(const std::vector<Shape>& shapes, const std::vector<Shape>& values, int64_t forced) const;
  std::string describe_inputs(const std::vector<Shape>& shapes, const std::vector<Shape>& values) const;
  // The value range of input `input` in `profile`; nullptr when it has none (or is no shape tensor).
  const Range* value_range(int64_t profile, size_t input) const;

  std::string engine_name_;
  std::vector<std::string> input_names_;
  std::vector<std::vector<Range>> ranges_;
  std::vector<size_t> value_inputs_;
  std::vector<std::vector<std::optional<Range>>> value_ranges_; // [profile][k], see set_value_ranges
  std::map<std::tuple<int64_t, std::vector<Shape>, std::vector<Shape>>, int64_t> choices_;
};

// Throws std::invalid_argument unless 0 <= profile < count.
void check_profile_index(const std::string& engine_name, int64_t profile, int64_t count);
// Throws std::runtime_error for an engine without streamable weights, std::invalid_argument for a
// budget outside 0..streamable.
void check_weight_budget(const std::string& engine_name, int64_t budget, int64_t streamable);

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
