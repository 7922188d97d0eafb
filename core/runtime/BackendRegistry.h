// Which EngineBackend new engines use.  The default is the TensorRT backend when the library was
// built with a TensorRT SDK, else a backend whose every use explains that there is none.
//
// Test backends: with TORCH_TENSORRT_ALLOW_TEST_BACKENDS=1 in the environment,
// load_test_backend(path) loads a shared library exporting CREATE_TEST_BACKEND_SYMBOL (e.g. the
// fake backend built by tests/core/run_cpp_tests.sh) and selects it.  Without the variable it
// refuses, so a production process cannot be switched to a fake backend by accident.
#pragma once

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
  // True when the default backend can run engines (built with a TensorRT SDK).
  bool has_tensorrt_backend() const;

  // Adds (or replaces) a backend under its name(); does not select it.
  void add(std::shared_ptr<EngineBackend> backend);
  // Selects a registered backend; "default" selects the built-in one.  Throws std::invalid_argument.
  void select(const std::string& name);
  std::vector<std::string> names();

  // See the file comment.  Returns the loaded backend's name.  Throws std::runtime_error.
  std::string load_test_backend(const std::string& library_path);

 private:
  BackendRegistry();
  std::mutex mutex_;
  std::shared_ptr<EngineBackend> default_;
  std::shared_ptr<EngineBackend> selected_;
  std::vector<std::shared_ptr<EngineBackend>> backends_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
