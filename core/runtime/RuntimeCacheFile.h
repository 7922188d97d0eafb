// A runtime-cache file in the format of py/torch_tensorrt/runtime/_runtime_cache.py, so that the
// Python and C++ runtimes can share cache files:
//
//   offset 0: magic "TTRTRTC\0" | 8: u32 version (1) | 12: u32 flags (0) | 16: u64 payload length
//   24: 32-byte SHA-256 of the payload | 56: payload (TensorRT's serialized runtime cache)
//
// Reads and writes hold an exclusive flock on "<path>.lock"; writes go to ".<name>.XXXXXX.tmp" in
// the same directory, then rename over the file.  A bad file is reported, moved aside to
// "<name>.corrupt-<time_ns>" and treated as missing; nothing here ever throws for I/O problems.
#pragma once

#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class RuntimeCacheFile {
 public:
  static constexpr size_t kHeaderSize = 56;

  explicit RuntimeCacheFile(std::string path);

  static std::string encode(const std::string& payload);
  // The payload of a file's bytes; throws std::invalid_argument describing what is wrong.
  static std::string decode(const std::string& data);

  // The stored payload, or "" when there is no file or it was bad (then moved aside, with a warning).
  std::string load();
  // Stores `payload` atomically; an empty payload is never stored.  false (with a warning) on failure.
  bool save(const std::string& payload);
  // Moves the file aside because TensorRT rejected its payload; returns the new path or "".
  std::string quarantine(const std::string& reason);

  const std::string& path() const {
    return path_;
  }

 private:
  std::string path_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
