#include "core/runtime/RuntimeCacheFile.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "core/runtime/FileIO.h"
#include "core/runtime/RuntimeCacheLocation.h"
#include "core/runtime/ScopedFileLock.h"
#include "core/runtime/Sha256.h"
#include "core/runtime/runtime.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

using file_io::ReadOutcome;
using file_io::ReadStatus;

constexpr char kMagic[8] = {'T', 'T', 'R', 'T', 'R', 'T', 'C', '\0'};
constexpr uint32_t kFormatVersion = 1;

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

std::string too_large_reason(uint64_t size, uint64_t limit) {
  return "is " + std::to_string(size) + " bytes, over the " + std::to_string(limit) +
      "-byte limit for runtime cache files (raise it with " + RuntimeCacheFile::kMaxBytesEnv + ")";
}

// How a cache file is read: header first, then the rest only if the header is ours and the file is
// within the size limit.
file_io::BoundedRead cache_file_read() {
  file_io::BoundedRead how;
  how.header_size = RuntimeCacheFile::kHeaderSize;
  how.limit = RuntimeCacheFile::max_bytes();
  how.header_valid = [](const std::string& header) {
    try {
      RuntimeCacheFile::check_header(header);
      return true;
    } catch (const std::invalid_argument&) {
      return false; // decode() reports the same problem
    }
  };
  how.too_large_reason = [limit = how.limit](uint64_t size) { return too_large_reason(size, limit); };
  return how;
}

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

// After a save into the default directory, keeps the directory within its size limit.
void evict_default_dir(const std::string& saved) {
  if (!RuntimeCacheLocation::in_default_dir(saved)) {
    return; // user-named paths are never evicted
  }
  uint64_t limit = RuntimeCacheLocation::dir_max_bytes();
  for (const auto& name : RuntimeCacheLocation::evict(file_io::directory_of(saved), file_io::basename_of(saved), limit)) {
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
  ReadOutcome pre = file_io::probe(path_);
  if (pre.status != ReadStatus::kOk) {
    return report(path_, pre);
  }
  ScopedFileLock lock(RuntimeCacheLocation::lock_path(path_));
  ReadOutcome read = file_io::read_bounded(path_, cache_file_read());
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
    std::string aside = lock.locked() ? file_io::move_aside(path_) : "";
    log(LogLevel::kWARNING,
        "runtime cache " + path_ + " is not usable (" + e.what() + "); " +
            (aside.empty() ? "left it in place" : "moved it to " + aside) + " and starting with an empty cache");
    return "";
  }
}

std::string RuntimeCacheFile::quarantine(const std::string& reason) {
  if (file_io::probe(path_).status != ReadStatus::kOk) {
    return ""; // gone, or no longer the regular file that was loaded: never move a device node
  }
  ScopedFileLock lock(RuntimeCacheLocation::lock_path(path_));
  std::string aside = file_io::move_aside(path_);
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
  ReadOutcome existing = file_io::probe(path_);
  if (existing.status == ReadStatus::kRefused) {
    log(LogLevel::kWARNING, "not saving runtime cache " + path_ + ": the path " + existing.reason);
    return false;
  }
  std::string data = encode(payload);
  // A path may name a directory that does not exist yet (a new project folder, or the default
  // directory removed since it was checked): create it private, as the Python runtime does.
  try {
    RuntimeCacheLocation::create_private_directories(file_io::directory_of(path_));
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
  if (file_io::replace_atomically(path_, data, &error)) {
    evict_default_dir(path_); // still under the directory lock, so no writer is using what it deletes
    return true;
  }
  log(LogLevel::kWARNING, "could not save runtime cache " + path_ + ": " + error);
  return false;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
