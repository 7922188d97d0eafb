// TRTEngine's per-layer profiling controls (declared in TRTEngine.h; the state is an EngineProfiler).
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <stdexcept>

#include "core/runtime/TRTEngine.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

void TRTEngine::enable_profiling() {
  std::lock_guard<std::mutex> lock(mutex_);
  profiler_.enable();
  if (context_) {
    attach_profiler_locked(*context_); // replaces the receiver of an earlier profile
  }
}

void TRTEngine::disable_profiling() {
  std::lock_guard<std::mutex> lock(mutex_);
  drop_context_locked(); // first: the context points at the receiver disable() releases
  profiler_.disable();
}

bool TRTEngine::profiling_enabled() {
  std::lock_guard<std::mutex> lock(mutex_);
  return profiler_.enabled();
}

void TRTEngine::set_profile_format(const std::string& format) {
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    profiler_.set_format(format);
  } catch (const std::invalid_argument& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
}

std::string TRTEngine::get_profile_format() {
  std::lock_guard<std::mutex> lock(mutex_);
  return profiler_.format();
}

void TRTEngine::set_profile_path_prefix(const std::string& prefix) {
  TORCH_CHECK_VALUE(!prefix.empty(), "profile_path_prefix must name a directory, got an empty string");
  std::lock_guard<std::mutex> lock(mutex_);
  profiler_.set_path_prefix(prefix);
}

std::string TRTEngine::get_profile_path_prefix() {
  std::lock_guard<std::mutex> lock(mutex_);
  return profiler_.path_prefix();
}

std::string TRTEngine::profile_trace_path() {
  std::lock_guard<std::mutex> lock(mutex_);
  return profiler_.trace_path(info_.name);
}

std::tuple<std::vector<std::string>, std::vector<double>, std::vector<int64_t>> TRTEngine::layer_profile() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> names;
  std::vector<double> milliseconds;
  std::vector<int64_t> runs;
  for (const auto& record : profiler_.records()) {
    names.push_back(record.name);
    milliseconds.push_back(record.milliseconds);
    runs.push_back(record.runs);
  }
  return {names, milliseconds, runs};
}

void TRTEngine::attach_profiler_locked(BackendExecutionContext& ctx) {
  if (!profiler_.attach(ctx)) {
    TORCH_WARN_ONCE(
        "engine '", info_.name, "': profiling is enabled but the '", backend().name(), "' runtime backend's execution ",
        "contexts cannot report per-layer times, so its profile stays empty");
  }
}

void TRTEngine::write_profile(bool replayed) {
  if (replayed && !profile_replay_warned_) {
    profile_replay_warned_ = true; // once per engine, as the Python engine
    TORCH_WARN(
        "engine '", info_.name, "' ran from a CUDA graph while profiling: TensorRT reports per-layer times only for ",
        "runs it executes directly, so graph replays add nothing to the profile");
  }
  try {
    profiler_.after_run(info_.name);
  } catch (const std::runtime_error& e) {
    TORCH_CHECK(false, "engine '", info_.name, "': ", e.what());
  }
}

// The C++ trace writer, for the parity test against the Python one (tests/py/runtime/test_engine_profiling.py).
TORCH_LIBRARY_FRAGMENT(tensorrt, m) {
  m.def(
      "_engine_profile_trace(str engine_name, str format, str[] names, float[] milliseconds, int[] runs) -> str",
      [](std::string engine_name, std::string format, std::vector<std::string> names, std::vector<double> milliseconds,
         std::vector<int64_t> runs) {
        TORCH_CHECK_VALUE(names.size() == milliseconds.size() && names.size() == runs.size(), "one time and run count per layer");
        std::vector<LayerRecord> records;
        for (size_t i = 0; i < names.size(); ++i) {
          records.push_back(LayerRecord{names[i], milliseconds[i], runs[i]});
        }
        try {
          return trace_json(engine_name, format, records);
        } catch (const std::invalid_argument& e) {
          TORCH_CHECK_VALUE(false, e.what());
        }
      });
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
