// Where runtime-cache files live when nobody names one: the rule of the Python runtime
// (py/torch_tensorrt/runtime/_runtime_cache.py, default_cache_dir / default_cache_path), so that both
// runtimes give an engine the same file and either one finds the kernels the other compiled.
//
//   $TORCH_TENSORRT_CACHE_DIR (a leading ~ expanded) when set and not empty, else
//   POSIX:   $XDG_CACHE_HOME/torch_tensorrt/runtime_cache, or ~/.cache/torch_tensorrt/runtime_cache
//   Windows: %LOCALAPPDATA%\torch_tensorrt\runtime_cache, or ~\AppData\Local\torch_tensorrt\runtime_cache
//
// made absolute and normalised as os.path.abspath does; one file per engine, "<sha256 hex>.trtcache",
// because TensorRT-RTX caches cannot be merged.
//
// TensorRT-RTX runs the kernels it finds in a cache, so the directory must be one no other user can
// write into: missing directories are created private (0700), and the directory is refused when it is
// a symbolic link (its target may be someone else's), not a directory, or (POSIX) owned by another
// user; group/other write permission on our own directory is removed.  On Windows the profile's ACLs
// keep %LOCALAPPDATA% private, so there is no owner check (as in Python).
//
// Every cache file in a directory shares one lock file, kLockName, in that directory (created once,
// never deleted: deleting a lock file someone waits on breaks mutual exclusion), so saves leave no
// per-file ".lock" behind and eviction can delete files no writer is using.  The default directory
// is size-limited: after a save into it, the least recently used (oldest mtime; a load touches its
// file) "<name>.trtcache" files are deleted until the total is within dir_max_bytes(); the file just
// saved is never deleted and user-named paths are never evicted.  The same rules as Python.
//
// Torch-free and C++17: only the standard library and the OS.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class RuntimeCacheLocation {
 public:
  static constexpr const char* kCacheDirEnv = "TORCH_TENSORRT_CACHE_DIR";
  static constexpr const char* kSuffix = ".trtcache";

  // Which layout rule applies.  The host's, unless a test injects the other one: the parity table
  // checks the Windows layout on Linux.  Path syntax and file-system calls are always the host's.
  enum class Platform { kPosix, kWindows };
  static Platform host_platform();

  // Why a location cannot be used.  what() says what is wrong and how to fix it (the Python runtime's
  // words); error() is the errno it corresponds to, so callers can tell the cases apart as Python's
  // OSError subclasses do: EACCES for a refused directory (PermissionError), ENOTDIR, EEXIST, or the
  // errno of the call that failed.
  class Error : public std::runtime_error {
   public:
    Error(int error, const std::string& message) : std::runtime_error(message), error_(error) {}
    int error() const {
      return error_;
    }

   private:
    int error_;
  };

  // The directory, created and checked on every call (someone may have replaced it since); throws Error.
  static std::string default_dir(Platform platform = host_platform());
  // <default_dir>/<engine_hash>.trtcache.  Throws std::invalid_argument for a hash that is not a plain
  // file name ([A-Za-z0-9_][A-Za-z0-9_.-]*), Error as default_dir.
  static std::string default_path(const std::string& engine_hash, Platform platform = host_platform());
  // Creates `dir` and each missing parent with mode 0700 (a cache's parent may be a fresh directory
  // in a shared place).  What exists is left as it is, for the caller to check; throws Error when a
  // directory cannot be made.  The rule of Python's make_private_dirs.
  static void create_private_directories(const std::string& dir);

  static constexpr const char* kLockName = ".torch_tensorrt_runtime_cache.lock";
  static constexpr uint64_t kDefaultDirMaxBytes = uint64_t{2} << 30; // 2 GiB
  static constexpr const char* kDirMaxBytesEnv = "TORCH_TENSORRT_RUNTIME_CACHE_DIR_MAX_BYTES";

  // default_dir without creating or checking anything.  Throws Error when there is no home directory.
  static std::string default_location(Platform platform = host_platform());
  // The directory lock shared by every cache file in the directory of `cache_path`.
  static std::string lock_path(const std::string& cache_path);
  // Whether `name` is a cache file name of the default directory: "<usable name>.trtcache".
  static bool is_cache_file_name(const std::string& name);
  // Whether `path` is a cache file in the default directory (only those are ever evicted).
  static bool in_default_dir(const std::string& path);
  // $TORCH_TENSORRT_RUNTIME_CACHE_DIR_MAX_BYTES (decimal digits) or kDefaultDirMaxBytes, read each call.
  static uint64_t dir_max_bytes();
  // Deletes the oldest (mtime, then name) regular cache files in `dir` other than `keep` until their
  // total size is at most `limit`; returns the deleted names in order.  Call holding the directory lock.
  static std::vector<std::string> evict(const std::string& dir, const std::string& keep, uint64_t limit);
  // Marks a file as used now (its mtime), for eviction; failures are ignored.
  static void touch(const std::string& path);
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
