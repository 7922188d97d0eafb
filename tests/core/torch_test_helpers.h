// Shared helpers of the C++ tests that run torch code (this header needs torch's includes;
// test_helpers.h does not).
#pragma once

#include <c10/util/Exception.h>

#include <functional>
#include <string>

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

} // namespace tests
} // namespace torch_tensorrt
