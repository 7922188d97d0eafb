// Per-layer engine profiles of the C++ engine: Torch-TensorRT's enable_profiling / disable_profiling.
//
// While profiling is on, the engine attaches a LayerTimes receiver to each execution context it creates
// (BackendExecutionContext::set_profiler: TensorRT's IProfiler on the TensorRT backend). Each run reports
// every layer's time once; the receiver sums them per layer, in the order layers first reported, and
// after each run the engine writes the sums to <prefix>/<engine name>_engine_execution_profile.trace, the
// file Torch-TensorRT's runtime writes, in the "perfetto" (Chrome trace events) or "trex" layout. The
// Python engine writes the same file with the same content (dynamo/runtime/_engine_profiling.py); the
// parity test runs one table of records through both writers (tensorrt::_engine_profile_trace).
// No torch and no TensorRT headers (TRTEngineProfiling.cpp words the warnings and errors).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

struct LayerRecord {
  std::string name;
  double milliseconds = 0.0; // summed over runs
  int64_t runs = 0;
};

class LayerTimes : public LayerTimeReceiver {
 public:
  void report_layer_time(const std::string& layer_name, float milliseconds) override;
  std::vector<LayerRecord> records() const;

 private:
  mutable std::mutex mutex_;
  std::vector<LayerRecord> records_; // first-report order; engines have tens to thousands of layers
};

// "perfetto", "trex" or "cudagraph" (Torch-TensorRT's names; "cudagraph" writes the perfetto layout).
// Throws std::invalid_argument for anything else, naming the accepted values.
void check_profile_format(const std::string& format);

// The trace file's JSON text for `records` in `format`'s layout.
std::string trace_json(const std::string& engine_name, const std::string& format, const std::vector<LayerRecord>& records);

// Writes `text` to a temporary file next to `path`, then renames it over `path` (readers never see half a
// file). Throws std::runtime_error naming the path when it cannot.
void write_text_atomically(const std::string& path, const std::string& text);

// One engine's profiling state (a member of TRTEngine, used under its mutex).
class EngineProfiler {
 public:
  EngineProfiler();

  bool enabled() const {
    return times_ != nullptr;
  }
  // Starts a new profile; attach() hands it to contexts.
  void enable();
  void disable();
  void set_format(const std::string& format);
  const std::string& format() const {
    return format_;
  }
  void set_path_prefix(const std::string& prefix) {
    prefix_ = prefix;
  }
  const std::string& path_prefix() const {
    return prefix_;
  }
  std::string trace_path(const std::string& engine_name) const;
  std::vector<LayerRecord> records() const;
  // Attaches the receiver to `ctx` when profiling; false when the backend cannot time layers.
  bool attach(BackendExecutionContext& ctx);
  // After a run: writes the trace (std::runtime_error naming the file when it cannot).
  void after_run(const std::string& engine_name);

 private:
  std::shared_ptr<LayerTimes> times_;
  std::string format_ = "perfetto";
  std::string prefix_; // the system temporary directory until set, as in Torch-TensorRT
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
