#include "core/runtime/OptimizationProfiles.h"

#include <stdexcept>

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

// Input-shape signatures whose profile is remembered (cleared when full).
constexpr size_t kMaxChoices = 64;

// As Python prints a tuple: (2, 3), (5,), ().
std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return out + (shape.size() == 1 ? ",)" : ")");
}

bool within(const std::vector<int64_t>& given, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi) {
  if (given.size() != lo.size() || given.size() != hi.size()) {
    return false;
  }
  for (size_t d = 0; d < lo.size(); ++d) {
    if (given[d] < lo[d] || given[d] > hi[d]) {
      return false;
    }
  }
  return true;
}

} // namespace

OptimizationProfiles::OptimizationProfiles(
    std::string engine_name,
    std::vector<std::string> input_names,
    std::vector<std::vector<Range>> ranges)
    : engine_name_(std::move(engine_name)), input_names_(std::move(input_names)), ranges_(std::move(ranges)) {}

void OptimizationProfiles::set_value_ranges(
    std::vector<size_t> value_inputs,
    std::vector<std::vector<std::optional<Range>>> value_ranges) {
  value_inputs_ = std::move(value_inputs);
  value_ranges_ = std::move(value_ranges);
  choices_.clear();
}

bool OptimizationProfiles::fits(int64_t profile, const std::vector<Shape>& shapes, const std::vector<Shape>& values)
    const {
  const auto& ranges = ranges_.at(static_cast<size_t>(profile));
  for (size_t i = 0; i < shapes.size() && i < ranges.size(); ++i) {
    if (!within(shapes[i], ranges[i].first, ranges[i].second)) {
      return false;
    }
  }
  if (static_cast<size_t>(profile) >= value_ranges_.size()) {
    return true; // no shape-tensor inputs
  }
  const auto& value_ranges = value_ranges_[static_cast<size_t>(profile)];
  for (size_t k = 0; k < values.size() && k < value_ranges.size(); ++k) {
    if (value_ranges[k] && !within(values[k], value_ranges[k]->first, value_ranges[k]->second)) {
      return false;
    }
  }
  return true;
}

// As the Python selector words it: "x min (1, 3) max (4, 3)", plus " values min (..) max (..)" for a
// shape-tensor input whose range the engine gives.
std::string OptimizationProfiles::describe(int64_t profile) const {
  const auto& ranges = ranges_.at(static_cast<size_t>(profile));
  std::string out = "profile " + std::to_string(profile) + ": ";
  for (size_t i = 0; i < input_names_.size() && i < ranges.size(); ++i) {
    out += (i ? ", " : "") + input_names_[i] + " min " + shape_text(ranges[i].first) + " max " +
        shape_text(ranges[i].second);
    if (const Range* values = value_range(profile, i)) {
      out += " values min " + shape_text(values->first) + " max " + shape_text(values->second);
    }
  }
  return out;
}

const OptimizationProfiles::Range* OptimizationProfiles::value_range(int64_t profile, size_t input) const {
  if (static_cast<size_t>(profile) >= value_ranges_.size()) {
    return nullptr;
  }
  const auto& ranges = value_ranges_[static_cast<size_t>(profile)];
  for (size_t k = 0; k < value_inputs_.size() && k < ranges.size(); ++k) {
    if (value_inputs_[k] == input && ranges[k]) {
      return &*ranges[k];
    }
  }
  return nullptr;
}

// "x=(2, 3), dims=(2,) values (4, 5)": the shapes, and the values of the shape-tensor inputs.
std::string OptimizationProfiles::describe_inputs(const std::vector<Shape>& shapes, const std::vector<Shape>& values)
    const {
  std::string out;
  for (size_t i = 0; i < input_names_.size() && i < shapes.size(); ++i) {
    out += (i ? ", " : "") + input_names_[i] + "=" + shape_text(shapes[i]);
    for (size_t k = 0; k < value_inputs_.size() && k < values.size(); ++k) {
      if (value_inputs_[k] == i) {
        out += " values " + shape_text(values[k]);
      }
    }
  }
  return out;
}

int64_t OptimizationProfiles::choose(const std::vector<Shape>& shapes, int64_t forced, const std::vector<Shape>& values) {
  auto key = std::make_tuple(forced, shapes, values);
  auto found = choices_.find(key);
  if (found != choices_.end()) {
    return found->second;
  }
  const int64_t profile = resolve(shapes, values, forced);
  if (choices_.size() >= kMaxChoices) {
    choices_.clear();
  }
  choices_.emplace(std::move(key), profile);
  return profile;
}

int64_t OptimizationProfiles::resolve(const std::vector<Shape>& shapes, const std::vector<Shape>& values, int64_t forced)
    const {
  const std::string given = describe_inputs(shapes, values);
  if (forced >= 0) {
    if (fits(forced, shapes, values)) {
      return forced;
    }
    throw std::invalid_argument(
        "inputs of engine '" + engine_name_ + "' have shapes " + given + ", outside optimization profile " +
        std::to_string(forced) + " selected with optimization_profile(): " + describe(forced) +
        ". Select a profile containing them, or 'auto' to run on the first profile that does.");
  }
  std::string every;
  for (int64_t p = 0; p < count(); ++p) {
    if (fits(p, shapes, values)) {
      return p;
    }
    every += (p ? "; " : "") + describe(p);
  }
  throw std::invalid_argument(
      "inputs of engine '" + engine_name_ + "' have shapes " + given +
      ", which no optimization profile of the engine contains (" + every +
      "). Pass inputs inside one of them, or recompile with torch_tensorrt.Input(profiles=[...]) covering these "
      "shapes.");
}

void check_profile_index(const std::string& engine_name, int64_t profile, int64_t count) {
  if (profile < 0 || profile >= count) {
    throw std::invalid_argument(
        "optimization profile " + std::to_string(profile) + " does not exist: engine '" + engine_name + "' has " +
        std::to_string(count) + " optimization profile" + (count != 1 ? "s" : "") + " (0.." +
        std::to_string(count - 1) + "); compile with torch_tensorrt.Input(profiles=[...]) for more");
  }
}

void check_weight_budget(const std::string& engine_name, int64_t budget, int64_t streamable) {
  if (streamable <= 0) {
    throw std::runtime_error(
        "engine '" + engine_name +
        "' has no streamable weights: it was not compiled with enable_weight_streaming=True (recompile with it "
        "to set a weight-streaming budget)");
  }
  if (budget < 0 || budget > streamable) {
    throw std::invalid_argument(
        "weight-streaming budget " + std::to_string(budget) + " of engine '" + engine_name + "' must lie in 0.." +
        std::to_string(streamable) + " (its streamable weight bytes)");
  }
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
