// Shared helpers of the C++ tests that run torch code (this header needs torch's includes;
// test_helpers.h does not).
#pragma once

#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "core/runtime/BackendRegistry.h"
#include "core/runtime/EngineRegistry.h"
#include "core/runtime/runtime.h"
#include "tests/core/fake_backend.h"
#include "tests/core/test_helpers.h"

namespace torch_tensorrt {
namespace tests {

// The message of the c10::Error `fn` throws, "" when it throws none.
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "";
}

// A test whose engines run on a fresh fake backend (selected for the test, with CUDA graphs off and the
// engine registry empty before and after).
class FakeBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace rt = torch_tensorrt::core::runtime;
    backend = std::make_shared<FakeBackend>("fake", /*rtx=*/true);
    rt::BackendRegistry::instance().add(backend);
    rt::BackendRegistry::instance().select("fake");
    rt::set_cudagraphs_mode(false);
    rt::EngineRegistry::instance().clear();
  }
  void TearDown() override {
    namespace rt = torch_tensorrt::core::runtime;
    rt::set_cudagraphs_mode(false);
    rt::BackendRegistry::instance().select("default");
    rt::EngineRegistry::instance().clear();
  }

  std::shared_ptr<FakeBackend> backend;
};

} // namespace tests
} // namespace torch_tensorrt
