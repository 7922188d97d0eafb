#include "core/runtime/BackendRegistry.h"

#include <cstdlib>
#include <stdexcept>
#include <utility>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#include "core/runtime/UnavailableBackend.h"
#ifndef TRT_NO_SDK
#include "core/runtime/backend/TensorRTBackend.h"
#endif

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

CreateBackendFn load_factory(const std::string& path) {
#if defined(_WIN32)
  HMODULE handle = LoadLibraryA(path.c_str());
  if (handle == nullptr) {
    throw std::runtime_error("cannot load test backend library '" + path + "'");
  }
  auto fn = reinterpret_cast<CreateBackendFn>(GetProcAddress(handle, CREATE_TEST_BACKEND_SYMBOL));
#else
  // Never closed: engines keep using the backend's code.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    throw std::runtime_error("cannot load test backend library '" + path + "': " + (err ? err : "unknown error"));
  }
  auto fn = reinterpret_cast<CreateBackendFn>(dlsym(handle, CREATE_TEST_BACKEND_SYMBOL));
#endif
  if (fn == nullptr) {
    throw std::runtime_error(
        "library '" + path + "' does not export " + CREATE_TEST_BACKEND_SYMBOL + "; it is not a test backend");
  }
  return fn;
}

} // namespace

BackendRegistry& BackendRegistry::instance() {
  static BackendRegistry registry;
  return registry;
}

BackendRegistry::BackendRegistry() {
#ifdef TRT_NO_SDK
  default_ = std::make_shared<UnavailableBackend>();
#else
  default_ = create_tensorrt_backend();
#endif
  selected_ = default_;
  backends_.push_back(default_);
}

std::shared_ptr<EngineBackend> BackendRegistry::current() {
  std::lock_guard<std::mutex> lock(mutex_);
  return selected_;
}

std::string BackendRegistry::current_name() {
  return current()->name();
}

bool BackendRegistry::has_tensorrt_backend() const {
#ifdef TRT_NO_SDK
  return false;
#else
  return true;
#endif
}

void BackendRegistry::add(std::shared_ptr<EngineBackend> backend) {
  if (!backend) {
    throw std::invalid_argument("cannot register a null backend");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& b : backends_) {
    if (b->name() == backend->name() && b != default_) {
      b = backend;
      return;
    }
  }
  backends_.push_back(std::move(backend));
}

void BackendRegistry::select(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (name == "default") {
    selected_ = default_;
    generation_.fetch_add(1, std::memory_order_acq_rel);
    return;
  }
  for (auto& b : backends_) {
    if (b->name() == name) {
      selected_ = b;
      generation_.fetch_add(1, std::memory_order_acq_rel);
      return;
    }
  }
  std::string known;
  for (auto& b : backends_) {
    known += (known.empty() ? "" : ", ") + b->name();
  }
  throw std::invalid_argument("unknown runtime backend '" + name + "'; registered: default, " + known);
}

std::vector<std::string> BackendRegistry::names() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (auto& b : backends_) {
    out.push_back(b->name());
  }
  return out;
}

std::shared_ptr<EngineBackend> BackendRegistry::exchange(std::shared_ptr<EngineBackend> backend) {
  if (!backend) {
    throw std::invalid_argument("cannot select a null backend");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::swap(selected_, backend);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return backend;
}

bool BackendRegistry::restore(const std::shared_ptr<EngineBackend>& expected, std::shared_ptr<EngineBackend> previous) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (selected_ != expected || !previous) {
    return false;
  }
  selected_ = std::move(previous);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

std::string BackendRegistry::load_test_backend(const std::string& library_path) {
  const char* allowed = std::getenv(ALLOW_TEST_BACKENDS_ENV);
  if (allowed == nullptr || std::string(allowed) != "1") {
    throw std::runtime_error(
        std::string("test backends are disabled; set ") + ALLOW_TEST_BACKENDS_ENV +
        "=1 in the environment of a test process to load one");
  }
  CreateBackendFn create = load_factory(library_path);
  std::shared_ptr<EngineBackend> backend;
  create(&backend);
  if (!backend) {
    throw std::runtime_error("test backend library '" + library_path + "' returned no backend");
  }
  std::string name = backend->name();
  add(backend);
  select(name);
  return name;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
