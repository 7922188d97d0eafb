#include "core/runtime/FileIO.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#include <filesystem>
#include <random>

#include "core/runtime/WindowsApi.h"
#endif

#include "core/runtime/runtime.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {
namespace file_io {

namespace {

ReadOutcome outcome(ReadStatus status, std::string reason = "") {
  ReadOutcome out;
  out.status = status;
  out.reason = std::move(reason);
  return out;
}

// Reads go in chunks so that memory follows the bytes actually present, never a size someone claimed.
constexpr size_t kReadChunk = size_t{1} << 20;

#if !defined(_WIN32)

// Why a file of this mode is refused, or "" for a regular file (the Python runtime's words).
std::string not_regular_reason(mode_t mode) {
  if (S_ISREG(mode)) {
    return "";
  }
  const char* kind = S_ISFIFO(mode) ? "a FIFO"
      : S_ISCHR(mode)               ? "a character device"
      : S_ISBLK(mode)               ? "a block device"
      : S_ISSOCK(mode)              ? "a socket"
      : S_ISDIR(mode)               ? "a directory"
                                    : nullptr;
  return kind == nullptr ? "is not a regular file" : std::string("is ") + kind + ", not a regular file";
}

// Appends up to `limit` bytes (fewer at end of file) from `fd` to `out`.
bool read_up_to(int fd, uint64_t limit, std::string* out) {
  std::vector<char> chunk(static_cast<size_t>(std::min<uint64_t>(limit, kReadChunk)));
  while (limit > 0) {
    ssize_t n = ::read(fd, chunk.data(), static_cast<size_t>(std::min<uint64_t>(limit, chunk.size())));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return false;
    }
    if (n == 0) {
      break;
    }
    out->append(chunk.data(), static_cast<size_t>(n));
    limit -= static_cast<uint64_t>(n);
  }
  return true;
}

#else

std::string windows_error(DWORD code) {
  return "Windows error " + std::to_string(static_cast<unsigned long>(code));
}

// Creates a new temporary file beside `path` (CREATE_NEW: never someone else's file); sets `tmp`.
HANDLE create_temporary(const std::string& path, std::wstring* tmp) {
  std::random_device random;
  for (int attempt = 0; attempt < 16; ++attempt) {
    *tmp = widen(directory_of(path) + "\\." + basename_of(path) + "." + std::to_string(random()) + ".tmp");
    HANDLE file = ::CreateFileW(tmp->c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file != INVALID_HANDLE_VALUE || ::GetLastError() != ERROR_FILE_EXISTS) {
      return file;
    }
  }
  return INVALID_HANDLE_VALUE;
}

#endif

} // namespace

std::string directory_of(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

#if !defined(_WIN32)

// The path's kind, without opening it: opening a device can have side effects, a FIFO blocks.
ReadOutcome probe(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return outcome(errno == ENOENT ? ReadStatus::kMissing : ReadStatus::kFailed, std::strerror(errno));
  }
  std::string reason = not_regular_reason(st.st_mode);
  return reason.empty() ? outcome(ReadStatus::kOk) : outcome(ReadStatus::kRefused, reason);
}

ReadOutcome read_bounded(const std::string& path, const BoundedRead& how) {
  ReadOutcome pre = probe(path);
  if (pre.status != ReadStatus::kOk) {
    return pre;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return outcome(errno == ENOENT ? ReadStatus::kMissing : ReadStatus::kFailed, std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() {
      ::close(fd);
    }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return outcome(ReadStatus::kFailed, std::strerror(errno));
  }
  std::string reason = not_regular_reason(st.st_mode); // the path may have been swapped since probe()
  if (!reason.empty()) {
    return outcome(ReadStatus::kRefused, reason);
  }
  ReadOutcome out;
  if (!read_up_to(fd, how.header_size, &out.data)) {
    return outcome(ReadStatus::kFailed, std::strerror(errno));
  }
  if (!how.header_valid(out.data)) {
    return out; // the caller's decoder reports the problem; the payload is never read
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > how.limit) {
    return outcome(ReadStatus::kRefused, how.too_large_reason(size));
  }
  // Sized by the file, not by the length its header claims; one byte more, so that a file that grew
  // since fstat is caught by decode() (trailing bytes) instead of being read without bound.
  uint64_t rest = size > how.header_size ? size - how.header_size : 0;
  if (!read_up_to(fd, rest + 1, &out.data)) {
    return outcome(ReadStatus::kFailed, std::strerror(errno));
  }
  return out;
}

// Writes `data` to a temporary file beside `path`, fsyncs it and renames it over `path`: readers see
// the old or the new file, never a mix.  false with `error` set on failure (the temporary removed).
bool replace_atomically(const std::string& path, const std::string& data, std::string* error) {
  std::string tmpl = directory_of(path) + "/." + basename_of(path) + ".XXXXXX.tmp";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemps(name.data(), 4);
  if (fd < 0) {
    *error = std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    ::fchmod(fd, st.st_mode & 07777); // keep a user's chosen permissions
  }
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n <= 0) {
      break;
    }
    written += static_cast<size_t>(n);
  }
  bool ok = written == data.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (ok && std::rename(name.data(), path.c_str()) == 0) {
    return true;
  }
  *error = std::strerror(errno);
  ::unlink(name.data());
  return false;
}

#else // _WIN32: no FIFOs or device nodes to open by accident; the size and kind checks still apply.

// UTF-8 (how paths arrive from Python and from the engine info) to the UTF-16 the W APIs take.
std::wstring widen(const std::string& utf8) {
  if (utf8.empty()) {
    return std::wstring();
  }
  int n = ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n > 0 ? n : 0), L'\0');
  if (n > 0) {
    ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), &out[0], n);
  }
  return out;
}

ReadOutcome probe(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return outcome(ReadStatus::kMissing);
  }
  if (ec) {
    return outcome(ReadStatus::kFailed, ec.message());
  }
  if (status.type() == std::filesystem::file_type::directory) {
    return outcome(ReadStatus::kRefused, "is a directory, not a regular file");
  }
  return std::filesystem::is_regular_file(status) ? outcome(ReadStatus::kOk)
                                                  : outcome(ReadStatus::kRefused, "is not a regular file");
}

ReadOutcome read_bounded(const std::string& path, const BoundedRead& how) {
  ReadOutcome pre = probe(path);
  if (pre.status != ReadStatus::kOk) {
    return pre;
  }
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(path, ec);
  std::ifstream f(path, std::ios::binary);
  if (ec || !f) {
    return outcome(ReadStatus::kFailed, ec ? ec.message() : "cannot open");
  }
  ReadOutcome out;
  std::vector<char> chunk(kReadChunk);
  auto read_up_to = [&](uint64_t want) {
    while (want > 0 && f) {
      f.read(chunk.data(), static_cast<std::streamsize>(std::min<uint64_t>(want, chunk.size())));
      out.data.append(chunk.data(), static_cast<size_t>(f.gcount()));
      want -= static_cast<uint64_t>(f.gcount());
    }
  };
  read_up_to(how.header_size);
  if (!how.header_valid(out.data)) {
    return out;
  }
  if (size > how.limit) {
    return outcome(ReadStatus::kRefused, how.too_large_reason(size));
  }
  read_up_to((size > how.header_size ? size - how.header_size : 0) + 1);
  return out;
}

// The POSIX sequence with Windows calls: write a temporary beside the file, flush it to disk, then
// MoveFileExW(REPLACE_EXISTING | WRITE_THROUGH), which replaces the file in one rename on the same
// volume and returns only once the rename is on disk.
bool replace_atomically(const std::string& path, const std::string& data, std::string* error) {
  std::wstring tmp;
  HANDLE file = create_temporary(path, &tmp);
  if (file == INVALID_HANDLE_VALUE) {
    *error = windows_error(::GetLastError());
    return false;
  }
  size_t written = 0;
  while (written < data.size()) {
    DWORD chunk = static_cast<DWORD>(std::min<size_t>(data.size() - written, size_t{1} << 30));
    DWORD n = 0;
    if (!::WriteFile(file, data.data() + written, chunk, &n, nullptr) || n == 0) {
      break;
    }
    written += n;
  }
  bool ok = written == data.size() && ::FlushFileBuffers(file);
  DWORD code = ok ? 0 : ::GetLastError();
  ::CloseHandle(file);
  const std::wstring target = widen(path);
  // A virus scanner or indexer may hold the old file open for a moment without FILE_SHARE_DELETE:
  // retry briefly before giving up.  Our own readers hold the lock, so they are never in the way.
  for (int attempt = 0; ok && attempt < 20; ++attempt) {
    if (::MoveFileExW(tmp.c_str(), target.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
      return true;
    }
    code = ::GetLastError();
    if (code != ERROR_ACCESS_DENIED && code != ERROR_SHARING_VIOLATION) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = windows_error(code);
  ::DeleteFileW(tmp.c_str());
  return false;
}

#endif

std::string move_aside(const std::string& path) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  std::string aside = path + ".corrupt-" + std::to_string(ns);
  if (std::rename(path.c_str(), aside.c_str()) != 0) {
    log(LogLevel::kWARNING, "could not move bad runtime cache " + path + " aside: " + std::strerror(errno));
    return "";
  }
  return aside;
}

} // namespace file_io
} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
