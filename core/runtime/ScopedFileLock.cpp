#include "core/runtime/ScopedFileLock.h"

#include <chrono>
#include <thread>

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#else
#include "core/runtime/WindowsApi.h"

#include "core/runtime/FileIO.h"
#endif

namespace torch_tensorrt {
namespace core {
namespace runtime {

#if !defined(_WIN32)

ScopedFileLock::ScopedFileLock(const std::string& lock_path, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return;
  }
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  locked_ = true;
}

ScopedFileLock::~ScopedFileLock() {
  if (fd_ >= 0) {
    if (locked_) {
      ::flock(fd_, LOCK_UN);
    }
    ::close(fd_);
  }
}

#else

ScopedFileLock::ScopedFileLock(const std::string& lock_path, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  HANDLE handle = ::CreateFileW(
      file_io::widen(lock_path).c_str(),
      GENERIC_READ | GENERIC_WRITE,
      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, // Python opens it with os.open
      nullptr,
      OPEN_ALWAYS,
      FILE_ATTRIBUTE_NORMAL,
      nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    return;
  }
  // Polled rather than blocking, like POSIX, so a hung peer cannot hang this process forever.
  for (;;) {
    OVERLAPPED at_zero = {};
    if (::LockFileEx(handle, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &at_zero)) {
      break;
    }
    if (::GetLastError() != ERROR_LOCK_VIOLATION || std::chrono::steady_clock::now() > deadline) {
      ::CloseHandle(handle);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  handle_ = handle;
  locked_ = true;
}

ScopedFileLock::~ScopedFileLock() {
  if (handle_ != nullptr) {
    OVERLAPPED at_zero = {};
    ::UnlockFileEx(static_cast<HANDLE>(handle_), 0, 1, 0, &at_zero);
    ::CloseHandle(static_cast<HANDLE>(handle_));
  }
}

#endif

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
