// tensorrt::_default_runtime_cache_path: the C++ rule for the default runtime-cache file
// (RuntimeCacheLocation) callable from Python, so tests/py/runtime/test_runtime_cache_location_parity.py
// can assert one table of cases against it and against the Python runtime's default_cache_path.
#include <torch/library.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/runtime/RuntimeCacheLocation.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {
namespace {

// The OSError subclass Python raises for `error` (PEP 3151), so both rules' failures compare by name.
const char* python_error_name(int error) {
  switch (error) {
    case EACCES:
    case EPERM:
      return "PermissionError";
    case ENOTDIR:
      return "NotADirectoryError";
    case EEXIST:
      return "FileExistsError";
    case ENOENT:
      return "FileNotFoundError";
    case EISDIR:
      return "IsADirectoryError";
    default:
      return "OSError";
  }
}

RuntimeCacheLocation::Platform platform_from_name(const std::string& name) {
  if (name.empty()) {
    return RuntimeCacheLocation::host_platform();
  }
  if (name == "posix") {
    return RuntimeCacheLocation::Platform::kPosix;
  }
  TORCH_CHECK_VALUE(name == "windows", "unknown platform '", name, "'; valid: '', 'posix', 'windows'");
  return RuntimeCacheLocation::Platform::kWindows;
}

// ["ok", path] or [the Python exception class name, message]: a refusal is an outcome to compare,
// not an error of the op.
std::vector<std::string> default_path_outcome(const std::string& engine_hash, const std::string& platform) {
  RuntimeCacheLocation::Platform rule = platform_from_name(platform);
  try {
    return {"ok", RuntimeCacheLocation::default_path(engine_hash, rule)};
  } catch (const RuntimeCacheLocation::Error& e) {
    return {python_error_name(e.error()), e.what()};
  } catch (const std::invalid_argument& e) {
    return {"ValueError", e.what()};
  }
}

// The names RuntimeCacheLocation::evict deletes, so one table of eviction cases runs against both runtimes.
std::vector<std::string> evict_outcome(const std::string& dir, const std::string& keep, int64_t limit) {
  TORCH_CHECK_VALUE(limit >= 0, "limit must be >= 0");
  return RuntimeCacheLocation::evict(dir, keep, static_cast<uint64_t>(limit));
}

} // namespace

TORCH_LIBRARY_FRAGMENT(tensorrt, m) {
  m.def("_default_runtime_cache_path(str engine_hash, str platform=\"\") -> str[]", default_path_outcome);
  m.def("_evict_runtime_cache_dir(str dir, str keep, int limit) -> str[]", evict_outcome);
  m.def("_runtime_cache_lock_path(str cache_path) -> str", RuntimeCacheLocation::lock_path);
  m.def("_runtime_cache_dir_max_bytes() -> int", []() {
    return static_cast<int64_t>(std::min<uint64_t>(RuntimeCacheLocation::dir_max_bytes(), INT64_MAX));
  });
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
