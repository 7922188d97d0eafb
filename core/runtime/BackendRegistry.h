// Which EngineBackend new engines use.  The default is the TensorRT backend when the library was
// built with a TensorRT SDK, else a backend whose every use explains that there is none.
//
// Test backends: with TORCH_TENSORRT_ALLOW_TEST_BACKENDS=1 in the environment,
// load_test_backend(path) loads a shared library exporting CREATE_TEST_BACKEND_SYMBOL (e.g. the
// fake backend built by tests/core/run_cpp_tests.sh) and selects it.  Without the variable it
// refuses, so a production process cannot be switched to a fake backend by accident.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

constexpr const char* ALLOW_TEST_BACKENDS_ENV = "TORCH_TENSORRT_ALLOW_TEST_BACKENDS";

class BackendRegistry {
 public:
  static BackendRegistry& instance();

  std::shared_ptr<EngineBackend> current();
  std::string current_name();
  // Changes whenever the selection changes: engines compare it on every call (one atomic read)
  // instead of taking the registry's lock (TRTEngine::follow_selected_backend).
  uint64_t generation() const {
    return generation_.load(std::memory_order_acquire);
  }
  // True when the default backend can run engines (built with a TensorRT SDK).
  bool has_tensorrt_backend() const;

  // Adds (or replaces) a backend under its name(); does not select it.
  void add(std::shared_ptr<EngineBackend> backend);
  // Selects a registered backend; "default" selects the built-in one.  Throws std::invalid_argument.
  void select(const std::string& name);
  std::vector<std::string> names();
  // Selects a backend object that is not registered by name (one that lives for a scope, e.g. the
  // DispatcherBackend of one emulated_runtime() block); returns the backend selected until now.
  std::shared_ptr<EngineBackend> exchange(std::shared_ptr<EngineBackend> backend);
  // Selects `previous` if `expected` is still the selection (scopes may end in any order); true if so.
  bool restore(const std::shared_ptr<EngineBackend>& expected, std::shared_ptr<EngineBackend> previous);

  // See the file comment.  Returns the loaded backend's name.  Throws std::runtime_error.
  std::string load_test_backend(const std::string& library_path);

 private:
  BackendRegistry();
  std::mutex mutex_;
  std::shared_ptr<EngineBackend> default_;
  std::shared_ptr<EngineBackend> selected_;
  std::atomic<uint64_t> generation_{1};
  std::vector<std::shared_ptr<EngineBackend>> backends_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
