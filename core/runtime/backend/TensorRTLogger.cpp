#include "core/runtime/backend/TensorRTLogger.h"

#include <string>

#include "core/runtime/runtime.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

void TensorRTLogger::log(Severity severity, const char* msg) noexcept {
  // Severity: kINTERNAL_ERROR 0, kERROR 1, kWARNING 2, kINFO 3, kVERBOSE 4 - our levels 0..4 (+5).
  int64_t level = static_cast<int64_t>(severity);
  if (level > level_.load()) {
    return;
  }
  try {
    runtime::log(static_cast<LogLevel>(level), std::string("TensorRT: ") + (msg ? msg : ""));
  } catch (...) {
  }
}

void TensorRTLogger::set_level(int64_t level) {
  level_.store(level);
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
