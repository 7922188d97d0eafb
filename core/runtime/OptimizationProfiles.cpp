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

std::string shapes_text(const std::vector<std::string>& names, const std::vector<std::vector<int64_t>>& shapes) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < shapes.size(); ++i) {
    out += (i ? ", " : "") + names[i] + "=" + shape_text(shapes[i]);
  }
  return out;
}

} // namespace

OptimizationProfiles::OptimizationProfiles(
    std::string engine_name,
    std::vector<std::string> input_names,
    std::vector<std::vector<Range>> ranges)
    : engine_name_(std::move(engine_name)), input_names_(std::move(input_names)), ranges_(std::move(ranges)) {}

bool OptimizationProfiles::fits(int64_t profile, const std::vector<Shape>& shapes) const {
  const auto& ranges = ranges_.at(static_cast<size_t>(profile));
  for (size_t i = 0; i < shapes.size() && i < ranges.size(); ++i) {
    const Shape& lo = ranges[i].first;
    const Shape& hi = ranges[i].second;
    if (shapes[i].size() != lo.size()) {
      return false;
    }
    for (size_t d = 0; d < lo.size(); ++d) {
      if (shapes[i][d] < lo[d] || shapes[i][d] > hi[d]) {
        return false;
      }
    }
  }
  return true;
}

std::string OptimizationProfiles::describe(int64_t profile) const {
  const auto& ranges = ranges_.at(static_cast<size_t>(profile));
  std::string out = "profile " + std::to_string(profile) + ": ";
  for (size_t i = 0; i < input_names_.size() && i < ranges.size(); ++i) {
    out += (i ? ", " : "") + input_names_[i] + " min " + shape_text(ranges[i].first) + " max " +
        shape_text(ranges[i].second);
  }
  return out;
}

int64_t OptimizationProfiles::choose(const std::vector<Shape>& shapes, int64_t forced) {
  auto key = std::make_pair(forced, shapes);
  auto found = choices_.find(key);
  if (found != choices_.end()) {
    return found->second;
  }
  const int64_t profile = resolve(shapes, forced);
  if (choices_.size() >= kMaxChoices) {
    choices_.clear();
  }
  choices_.emplace(std::move(key), profile);
  return profile;
}

int64_t OptimizationProfiles::resolve(const std::vector<Shape>& shapes, int64_t forced) const {
  const std::string given = shapes_text(input_names_, shapes);
  if (forced >= 0) {
    if (fits(forced, shapes)) {
      return forced;
    }
    throw std::invalid_argument(
        "inputs of engine '" + engine_name_ + "' have shapes " + given + ", outside optimization profile " +
        std::to_string(forced) + " selected with optimization_profile(): " + describe(forced) +
        ". Select a profile containing them, or 'auto' to run on the first profile that does.");
  }
  std::string every;
  for (int64_t p = 0; p < count(); ++p) {
    if (fits(p, shapes)) {
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
