#include "core/runtime/RuntimeCacheFile.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#include <filesystem>
#include <random>
#ifndef NOMINMAX
#define NOMINMAX // windows.h would otherwise define min/max macros that break std::min
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#endif

#include "core/runtime/RuntimeCacheLocation.h"
#include "core/runtime/Sha256.h"
#include "core/runtime/runtime.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

constexpr char kMagic[8] = {'T', 'T', 'R', 'T', 'R', 'T', 'C', '\0'};
constexpr uint32_t kFormatVersion = 1;
constexpr int kLockTimeoutMs = 10000;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
}

uint64_t get_le(const std::string& data, size_t offset, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(data[offset + static_cast<size_t>(i)]);
  }
  return v;
}

// What a bounded read found.  kOk: `data` holds the header (and, when the header is valid, the rest
// of the file) for decode() to judge; kRefused / kFailed: `reason` says why nothing was read.
enum class ReadStatus { kOk, kMissing, kRefused, kFailed };

struct ReadOutcome {
  ReadStatus status = ReadStatus::kOk;
  std::string data;
  std::string reason;
};

ReadOutcome outcome(ReadStatus status, std::string reason = "") {
  ReadOutcome out;
  out.status = status;
  out.reason = std::move(reason);
  return out;
}

std::string too_large_reason(uint64_t size, uint64_t limit) {
  return "is " + std::to_string(size) + " bytes, over the " + std::to_string(limit) +
      "-byte limit for runtime cache files (raise it with " + RuntimeCacheFile::kMaxBytesEnv + ")";
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

// The path's kind, without opening it: opening a device can have side effects, a FIFO blocks.
ReadOutcome probe(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return outcome(errno == ENOENT ? ReadStatus::kMissing : ReadStatus::kFailed, std::strerror(errno));
  }
  std::string reason = not_regular_reason(st.st_mode);
  return reason.empty() ? outcome(ReadStatus::kOk) : outcome(ReadStatus::kRefused, reason);
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

ReadOutcome read_bounded(const std::string& path, uint64_t limit) {
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
  if (!read_up_to(fd, RuntimeCacheFile::kHeaderSize, &out.data)) {
    return outcome(ReadStatus::kFailed, std::strerror(errno));
  }
  try {
    RuntimeCacheFile::check_header(out.data);
  } catch (const std::invalid_argument&) {
    return out; // decode() reports the same problem; the payload is never read
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > limit) {
    return outcome(ReadStatus::kRefused, too_large_reason(size, limit));
  }
  // Sized by the file, not by the length its header claims; one byte more, so that a file that grew
  // since fstat is caught by decode() (trailing bytes) instead of being read without bound.
  uint64_t rest = size > RuntimeCacheFile::kHeaderSize ? size - RuntimeCacheFile::kHeaderSize : 0;
  if (!read_up_to(fd, rest + 1, &out.data)) {
    return outcome(ReadStatus::kFailed, std::strerror(errno));
  }
  return out;
}

#else // _WIN32: no FIFOs or device nodes to open by accident; the size and kind checks still apply.

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

ReadOutcome read_bounded(const std::string& path, uint64_t limit) {
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
  read_up_to(RuntimeCacheFile::kHeaderSize);
  try {
    RuntimeCacheFile::check_header(out.data);
  } catch (const std::invalid_argument&) {
    return out;
  }
  if (size > limit) {
    return outcome(ReadStatus::kRefused, too_large_reason(size, limit));
  }
  read_up_to((size > RuntimeCacheFile::kHeaderSize ? size - RuntimeCacheFile::kHeaderSize : 0) + 1);
  return out;
}

#endif

// Logs why nothing was read (nothing for a missing file) and returns the empty payload.
std::string report(const std::string& path, const ReadOutcome& read) {
  if (read.status == ReadStatus::kRefused) {
    log(LogLevel::kWARNING,
        "runtime cache " + path + " " + read.reason + "; not reading it, starting with a fresh cache");
  } else if (read.status == ReadStatus::kFailed) {
    log(LogLevel::kWARNING, "could not read runtime cache " + path + ": " + read.reason + "; continuing without it");
  }
  return "";
}

std::string directory_of(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

#if defined(_WIN32)
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

std::string windows_error(DWORD code) {
  return "Windows error " + std::to_string(static_cast<unsigned long>(code));
}
#endif

// Exclusive inter-process lock on the directory's lock file (RuntimeCacheLocation::lock_path): flock on POSIX; on Windows LockFileEx on its first
// byte, the range Python's msvcrt.locking(fd, LK_NBLCK, 1) takes (runtime/_file_lock.py), so the
// two runtimes exclude each other there too.  The lock file is never deleted (see _file_lock.py).
class ScopedFileLock {
 public:
  explicit ScopedFileLock(const std::string& lock_path) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kLockTimeoutMs);
#if !defined(_WIN32)
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
#else
    handle_ = ::CreateFileW(
        widen(lock_path).c_str(),
        GENERIC_READ | GENERIC_WRITE,
        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, // Python opens it with os.open
        nullptr,
        OPEN_ALWAYS,
        FILE_ATTRIBUTE_NORMAL,
        nullptr);
    if (handle_ == INVALID_HANDLE_VALUE) {
      return;
    }
    // Polled rather than blocking, like POSIX, so a hung peer cannot hang this process forever.
    for (;;) {
      OVERLAPPED at_zero = {};
      if (::LockFileEx(handle_, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &at_zero)) {
        break;
      }
      if (::GetLastError() != ERROR_LOCK_VIOLATION || std::chrono::steady_clock::now() > deadline) {
        ::CloseHandle(handle_);
        handle_ = INVALID_HANDLE_VALUE;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
#endif
    locked_ = true;
  }
  ~ScopedFileLock() {
#if !defined(_WIN32)
    if (fd_ >= 0) {
      if (locked_) {
        ::flock(fd_, LOCK_UN);
      }
      ::close(fd_);
    }
#else
    if (handle_ != INVALID_HANDLE_VALUE) {
      if (locked_) {
        OVERLAPPED at_zero = {};
        ::UnlockFileEx(handle_, 0, 1, 0, &at_zero);
      }
      ::CloseHandle(handle_);
    }
#endif
  }
  ScopedFileLock(const ScopedFileLock&) = delete;
  ScopedFileLock& operator=(const ScopedFileLock&) = delete;
  bool locked() const {
    return locked_;
  }

 private:
#if !defined(_WIN32)
  int fd_ = -1;
#else
  HANDLE handle_ = INVALID_HANDLE_VALUE;
#endif
  bool locked_ = false;
};

#if !defined(_WIN32)

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

#else

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

// After a save into the default directory, keeps the directory within its size limit.
void evict_default_dir(const std::string& saved) {
  if (!RuntimeCacheLocation::in_default_dir(saved)) {
    return; // user-named paths are never evicted
  }
  uint64_t limit = RuntimeCacheLocation::dir_max_bytes();
  for (const auto& name : RuntimeCacheLocation::evict(directory_of(saved), basename_of(saved), limit)) {
    log(LogLevel::kINFO,
        "evicted least recently used runtime cache " + name + " (directory over " + std::to_string(limit) + " bytes)");
  }
}

} // namespace

RuntimeCacheFile::RuntimeCacheFile(std::string path) : path_(std::move(path)) {}

std::string RuntimeCacheFile::encode(const std::string& payload) {
  std::string out(kMagic, sizeof(kMagic));
  put_u32(out, kFormatVersion);
  put_u32(out, 0);
  put_u64(out, payload.size());
  auto digest = Sha256::digest(payload);
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  out += payload;
  return out;
}

uint64_t RuntimeCacheFile::check_header(const std::string& data) {
  if (data.size() < kHeaderSize) {
    throw std::invalid_argument(
        "file is " + std::to_string(data.size()) + " bytes, shorter than the " + std::to_string(kHeaderSize) +
        "-byte header (truncated)");
  }
  if (std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    throw std::invalid_argument("bad magic: not a runtime cache file");
  }
  uint64_t version = get_le(data, 8, 4);
  if (version != kFormatVersion) {
    throw std::invalid_argument(
        "format version " + std::to_string(version) + ", this build reads version " + std::to_string(kFormatVersion));
  }
  if (get_le(data, 12, 4) != 0) {
    throw std::invalid_argument("unknown header flags");
  }
  return get_le(data, 16, 8);
}

uint64_t RuntimeCacheFile::max_bytes() {
  const char* raw = std::getenv(kMaxBytesEnv);
  std::string text = raw == nullptr ? "" : raw;
  const char* space = " \t\n\r\f\v";
  text.erase(0, text.find_first_not_of(space));
  text.erase(text.find_last_not_of(space) + 1);
  if (text.empty()) {
    return kDefaultMaxBytes;
  }
  // Decimal digits only, as in Python; a value beyond 64 bits means "no practical limit".
  bool digits = std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t value = 0;
  for (char c : digits ? text : std::string()) {
    uint64_t digit = static_cast<uint64_t>(c - '0');
    value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
  }
  if (digits && value >= kHeaderSize) {
    return value;
  }
  // Once per distinct value: this runs on every load.
  static std::mutex mutex;
  static std::string warned;
  std::lock_guard<std::mutex> guard(mutex);
  if (warned != raw) {
    warned = raw;
    log(LogLevel::kWARNING,
        std::string(kMaxBytesEnv) + "='" + raw + "' is not a whole number of bytes >= " + std::to_string(kHeaderSize) +
            "; using the default limit of " + std::to_string(kDefaultMaxBytes) + " bytes");
  }
  return kDefaultMaxBytes;
}

std::string RuntimeCacheFile::decode(const std::string& data) {
  uint64_t length = check_header(data);
  uint64_t actual = data.size() - kHeaderSize;
  if (actual < length) {
    throw std::invalid_argument(
        "payload is " + std::to_string(actual) + " bytes, header says " + std::to_string(length) + " (truncated)");
  }
  if (actual > length) {
    throw std::invalid_argument(
        std::to_string(actual - length) + " unexpected bytes after the " + std::to_string(length) + "-byte payload");
  }
  std::string payload = data.substr(kHeaderSize);
  auto digest = Sha256::digest(payload);
  if (std::memcmp(digest.data(), data.data() + 24, 32) != 0) {
    throw std::invalid_argument("payload SHA-256 does not match the header (corrupted)");
  }
  return payload;
}

std::string RuntimeCacheFile::load() {
  // Checked before taking the lock, which would create a lock file next to a device node.
  ReadOutcome pre = probe(path_);
  if (pre.status != ReadStatus::kOk) {
    return report(path_, pre);
  }
  ScopedFileLock lock(RuntimeCacheLocation::lock_path(path_));
  ReadOutcome read = read_bounded(path_, max_bytes());
  if (read.status != ReadStatus::kOk) {
    return report(path_, read);
  }
  try {
    std::string payload = decode(read.data);
    if (RuntimeCacheLocation::in_default_dir(path_)) {
      RuntimeCacheLocation::touch(path_); // "used" for least-recently-used eviction
    }
    return payload;
  } catch (const std::invalid_argument& e) {
    // Only under the lock is it certain that what is moved aside is the bad file just read.
    std::string aside = lock.locked() ? move_aside(path_) : "";
    log(LogLevel::kWARNING,
        "runtime cache " + path_ + " is not usable (" + e.what() + "); " +
            (aside.empty() ? "left it in place" : "moved it to " + aside) + " and starting with an empty cache");
    return "";
  }
}

std::string RuntimeCacheFile::quarantine(const std::string& reason) {
  if (probe(path_).status != ReadStatus::kOk) {
    return ""; // gone, or no longer the regular file that was loaded: never move a device node
  }
  ScopedFileLock lock(RuntimeCacheLocation::lock_path(path_));
  std::string aside = move_aside(path_);
  log(LogLevel::kWARNING,
      "runtime cache " + path_ + " was rejected (" + reason + ")" + (aside.empty() ? "" : "; moved it to " + aside));
  return aside;
}

bool RuntimeCacheFile::save(const std::string& payload) {
  if (payload.empty()) {
    log(LogLevel::kINFO, "not saving an empty runtime cache to " + path_ + "; keeping what is there");
    return false;
  }
  uint64_t limit = max_bytes();
  if (kHeaderSize + payload.size() > limit) {
    log(LogLevel::kWARNING,
        "not saving runtime cache " + path_ + ": the cache " + too_large_reason(kHeaderSize + payload.size(), limit) +
            ", so it could not be read back");
    return false;
  }
  // rename() would swap a FIFO or device node (e.g. /dev/null) for a regular file.
  ReadOutcome existing = probe(path_);
  if (existing.status == ReadStatus::kRefused) {
    log(LogLevel::kWARNING, "not saving runtime cache " + path_ + ": the path " + existing.reason);
    return false;
  }
  std::string data = encode(payload);
  // A path may name a directory that does not exist yet (a new project folder, or the default
  // directory removed since it was checked): create it private, as the Python runtime does.
  try {
    RuntimeCacheLocation::create_private_directories(directory_of(path_));
  } catch (const RuntimeCacheLocation::Error& e) {
    log(LogLevel::kWARNING, "could not save runtime cache " + path_ + ": " + e.what());
    return false;
  }
  std::string lock_path = RuntimeCacheLocation::lock_path(path_);
  ScopedFileLock lock(lock_path);
  if (!lock.locked()) {
    log(LogLevel::kWARNING, "could not save runtime cache " + path_ + ": could not lock " + lock_path);
    return false;
  }
  std::string error;
  if (replace_atomically(path_, data, &error)) {
    evict_default_dir(path_); // still under the directory lock, so no writer is using what it deletes
    return true;
  }
  log(LogLevel::kWARNING, "could not save runtime cache " + path_ + ": " + error);
  return false;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
