#include "core/runtime/runtime.h"

#include <atomic>
#include <iostream>
#include <mutex>

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

std::atomic<bool> g_cudagraphs_mode{false};
std::atomic<bool> g_multi_device_safe_mode{false};
std::atomic<int64_t> g_log_level{static_cast<int64_t>(LogLevel::kWARNING)};
std::mutex g_log_mutex;

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kINTERNAL_ERROR:
      return "INTERNAL ERROR";
    case LogLevel::kERROR:
      return "ERROR";
    case LogLevel::kWARNING:
      return "WARNING";
    case LogLevel::kINFO:
      return "INFO";
    case LogLevel::kDEBUG:
      return "DEBUG";
    case LogLevel::kGRAPH:
      return "GRAPH";
  }
  return "LOG";
}

} // namespace

std::string current_platform() {
#if defined(_WIN32) && (defined(_M_X64) || defined(__x86_64__))
  return "windows_x86_64";
#elif defined(__linux__) && defined(__x86_64__)
  return "linux_x86_64";
#elif defined(__linux__) && defined(__aarch64__)
  return "linux_aarch64";
#elif defined(__aarch64__)
  return "unknown_aarch64";
#elif defined(__x86_64__) || defined(_M_X64)
  return "unknown_x86_64";
#else
  return "unknown_unknown";
#endif
}

std::string slot_label(int64_t index) {
  if (index < 0 || index >= SERIALIZATION_LEN) {
    return "slot " + std::to_string(index);
  }
  return std::string(SERIALIZED_INFO_NAMES[static_cast<size_t>(index)]) + " (" + std::to_string(index) + ")";
}

bool get_cudagraphs_mode() {
  return g_cudagraphs_mode.load();
}

void set_cudagraphs_mode(bool enabled) {
  g_cudagraphs_mode.store(enabled);
}

bool get_multi_device_safe_mode() {
  return g_multi_device_safe_mode.load();
}

void set_multi_device_safe_mode(bool enabled) {
  g_multi_device_safe_mode.store(enabled);
}

LogLevel get_log_level() {
  return static_cast<LogLevel>(g_log_level.load());
}

void set_log_level(LogLevel level) {
  g_log_level.store(static_cast<int64_t>(level));
}

bool log_enabled(LogLevel level) {
  return static_cast<int64_t>(level) <= g_log_level.load();
}

void log(LogLevel level, const std::string& message) {
  if (!log_enabled(level)) {
    return;
  }
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::cerr << "[torch_tensorrt] " << level_name(level) << ": " << message << std::endl;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
