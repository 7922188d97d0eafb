// A runtime-cache file in the format of py/torch_tensorrt/runtime/_runtime_cache.py, so that the
// Python and C++ runtimes can share cache files:
//
//   offset 0: magic "TTRTRTC\0" | 8: u32 version (1) | 12: u32 flags (0) | 16: u64 payload length
//   24: 32-byte SHA-256 of the payload | 56: payload (TensorRT's serialized runtime cache)
//
// Reads and writes hold an exclusive lock (ScopedFileLock) on the directory's one lock file
// (RuntimeCacheLocation::lock_path); writes replace the file atomically (file_io::replace_atomically:
// a flushed temporary file renamed over it).  A missing directory is created, private, on save.
// A bad file is reported, moved aside to "<name>.corrupt-<time_ns>" and treated as missing; nothing
// here ever throws for I/O problems.
//
// Reads are bounded, as in Python: only regular files are read (symlinks followed; a FIFO, device,
// socket or directory is refused before it is opened, and checked again on the opened descriptor, so
// a read never blocks), the header is checked before the payload is read, and a file larger than
// max_bytes() is not read.  A refused path is logged as a warning naming it and the reason and left
// in place; the engine starts with a fresh cache.  Saving refuses the same paths and payloads over
// the limit.
#pragma once

#include <cstdint>
#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class RuntimeCacheFile {
 public:
  static constexpr size_t kHeaderSize = 56;
  // The default size limit of a cache file, header included (Python: DEFAULT_MAX_BYTES).
  static constexpr uint64_t kDefaultMaxBytes = uint64_t{1} << 30;
  static constexpr const char* kMaxBytesEnv = "TORCH_TENSORRT_RUNTIME_CACHE_MAX_BYTES";

  // The limit in force: $TORCH_TENSORRT_RUNTIME_CACHE_MAX_BYTES (decimal digits, at least kHeaderSize)
  // or kDefaultMaxBytes; an unusable value is logged as a warning and the default applies.
  static uint64_t max_bytes();
  // Checks a header (the first kHeaderSize bytes) and returns the payload length it declares; throws
  // std::invalid_argument describing what is wrong.
  static uint64_t check_header(const std::string& header);

  explicit RuntimeCacheFile(std::string path);

  static std::string encode(const std::string& payload);
  // The payload of a file's bytes; throws std::invalid_argument describing what is wrong.
  static std::string decode(const std::string& data);

  // The stored payload, or "" when there is no file or it was bad (then moved aside, with a warning).
  std::string load();
  // Stores `payload` atomically, creating missing directories (0700); an empty payload is never
  // stored.  false (with a warning) on failure.
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
