// An exclusive inter-process lock on a lock file, held for the object's lifetime: flock on POSIX; on
// Windows LockFileEx on the file's first byte, the range Python's msvcrt.locking(fd, LK_NBLCK, 1) takes
// (py/torch_tensorrt/_file_lock.py), so the C++ and Python runtimes exclude each other there too.
// Acquisition is polled until a timeout, so a hung peer cannot hang this process; locked() says
// whether it was taken.  The lock file is created 0600 if missing and never deleted (deleting a lock
// file someone waits on breaks mutual exclusion; see _file_lock.py).
#pragma once

#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class ScopedFileLock {
 public:
  static constexpr int kDefaultTimeoutMs = 10000;

  explicit ScopedFileLock(const std::string& lock_path, int timeout_ms = kDefaultTimeoutMs);
  ~ScopedFileLock();
  ScopedFileLock(const ScopedFileLock&) = delete;
  ScopedFileLock& operator=(const ScopedFileLock&) = delete;

  bool locked() const {
    return locked_;
  }

 private:
#if !defined(_WIN32)
  int fd_ = -1;
#else
  void* handle_ = nullptr; // the lock file's HANDLE when locked, as void* so this header needs no windows.h
#endif
  bool locked_ = false;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
