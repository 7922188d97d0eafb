// A fake EngineBackend for tests (never shipped): runs tiny "engines" on the CPU so that
// execute_engine's logic (input checks, shape binding, output allocation, data-dependent outputs,
// dynamic scratch memory, runtime cache, CUDA-graph decisions) runs end to end without TensorRT.
//
// Engine bytes are text (make one with FakeEngineSpec::serialize() or by hand):
//
//   FAKE_TRT_ENGINE 1
//   op <identity|add|filter_positive>
//   input <name> <dtype> <dims> [host]   dims: comma-separated, -1 = dynamic, "-" = rank 0;
//                                        host: a shape-tensor input read from host memory
//   output <name> <dtype> [aliases <input>]   aliases: the output is that input's memory (TensorRT's
//                                        getAliasedInputTensor); the enqueue fails unless both are bound to
//                                        one address, and adds input 0 into it in place (float32) before
//                                        the op computes the other outputs, which it does not count
//   profile <index> <input> <min dims> <opt dims> <max dims>   (optional; indices 0..n-1, every input)
//   values <index> <input> <min> <opt> <max>   (optional: a host input's value range in that profile;
//                                                its values outside the active profile fail the enqueue)
//   streamable <bytes>                                         (optional: weight streaming)
//   automatic_budget <bytes>                                   (optional; default: the streamable bytes)
//   layer <name>                                               (optional, repeated: the layers its profiler
//                                                               reports, 0.25 * (k + 1) ms for layer k;
//                                                               default: one layer named by the op)
//
//   identity         output k = copy of input (k mod #inputs)
//   add              one output = elementwise sum of all inputs (same shape/dtype; float32/64, int32/64)
//   filter_positive  one float32 input -> 1-D output of its elements > 0 (data-dependent shape)
//
// Its "streams" are nullptr; "CUDA graph capture" records enqueues and replays them.  Runtime
// caches are "FAKECACHE1\n" + one line per (shape) the context has run; anything else is refused.
// With profiles, a context refuses input shapes outside its active profile (as TensorRT does), and
// a weight budget is refused while any context of the engine exists (TensorRT's rule).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace tests {

namespace rt = torch_tensorrt::core::runtime;

struct FakeEngineSpec {
  std::string op = "identity";
  std::vector<rt::IOTensorInfo> io;
  std::map<int32_t, std::map<std::string, rt::ProfileShape>> profiles;
  std::map<int32_t, std::map<std::string, rt::ProfileShape>> profile_values; // "values" lines
  int64_t streamable = 0;
  int64_t automatic_budget = -1;
  std::vector<std::string> layers;

  std::string serialize() const;
  // Throws std::runtime_error for malformed bytes.
  static FakeEngineSpec parse(const std::string& bytes);
};

class FakeBackend : public rt::EngineBackend, public std::enable_shared_from_this<FakeBackend> {
 public:
  // `rtx`: behave like TensorRT-RTX (runtime config features); false = standard TensorRT.
  explicit FakeBackend(std::string name = "fake", bool rtx = true);

  std::string name() const override {
    return name_;
  }
  rt::DeviceKind device_kind() const override {
    return rt::DeviceKind::kCPU;
  }
  rt::BackendFeatures features() const override;
  std::unique_ptr<rt::BackendEngine> deserialize_engine(const std::string& bytes, const std::string& name) override;
  bool is_stream_capturing(void* stream) override;
  std::unique_ptr<rt::GraphCapture> create_graph_capture() override;
  void set_log_level(int64_t level) override {
    log_level = level;
  }

  // Test controls and observations (the Python tests set TORCH_TENSORRT_FAKE_OUTER_CAPTURE=1 and
  // TORCH_TENSORRT_FAKE_NOT_CAPTURABLE=1 instead).
  bool simulate_outer_capture = false;
  bool simulate_not_capturable = false; // every context reports its stream not capturable
  bool stream_capturable() const;
  int64_t log_level = -1;
  int64_t engines_loaded = 0;
  // Set while a FakeGraphCapture is recording: enqueues are appended instead of run.
  std::vector<std::function<void()>>* recording = nullptr;

 private:
  std::string name_;
  bool rtx_;
};

} // namespace tests
} // namespace torch_tensorrt
