#include "core/runtime/RuntimeCacheFile.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

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

bool read_file(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    return false;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

std::string directory_of(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Exclusive inter-process lock on "<path>.lock" (POSIX flock; no lock elsewhere).
class ScopedFileLock {
 public:
  explicit ScopedFileLock(const std::string& lock_path) {
#if !defined(_WIN32)
    fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      return;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kLockTimeoutMs);
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::close(fd_);
        fd_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    locked_ = true;
#else
    (void)lock_path;
#endif
  }
  ~ScopedFileLock() {
#if !defined(_WIN32)
    if (fd_ >= 0) {
      if (locked_) {
        ::flock(fd_, LOCK_UN);
      }
      ::close(fd_);
    }
#endif
  }
  bool locked() const {
    return locked_;
  }

 private:
  int fd_ = -1;
  bool locked_ = false;
};

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

std::string RuntimeCacheFile::decode(const std::string& data) {
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
  uint64_t length = get_le(data, 16, 8);
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
  ScopedFileLock lock(path_ + ".lock");
  std::string data;
  if (!read_file(path_, &data)) {
    return "";
  }
  try {
    return decode(data);
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
  ScopedFileLock lock(path_ + ".lock");
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
  std::string data = encode(payload);
#if !defined(_WIN32)
  ScopedFileLock lock(path_ + ".lock");
  if (!lock.locked()) {
    log(LogLevel::kWARNING, "could not save runtime cache " + path_ + ": could not lock " + path_ + ".lock");
    return false;
  }
  std::string tmpl = directory_of(path_) + "/." + basename_of(path_) + ".XXXXXX.tmp";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemps(name.data(), 4);
  if (fd < 0) {
    log(LogLevel::kWARNING, "could not save runtime cache " + path_ + ": " + std::strerror(errno));
    return false;
  }
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0) {
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
  if (ok && std::rename(name.data(), path_.c_str()) == 0) {
    return true;
  }
  log(LogLevel::kWARNING, "could not save runtime cache " + path_ + ": " + std::strerror(errno));
  ::unlink(name.data());
  return false;
#else
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!f) {
      log(LogLevel::kWARNING, "could not save runtime cache " + path_);
      return false;
    }
  }
  std::remove(path_.c_str());
  return std::rename(tmp.c_str(), path_.c_str()) == 0;
#endif
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
