// File-system primitives of the runtime-cache files, with the Python runtime's rules
// (py/torch_tensorrt/_cache_files.py): bounded reads of regular files only, atomic replacement, and
// moving a bad file aside.  Nothing here throws for I/O problems; outcomes say what happened.
//
// Torch-free and C++17: only the standard library and the OS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {
namespace file_io {

// What a bounded read found.  kOk: `data` holds the header (and, when the header is valid, the rest
// of the file) for the caller to judge; kMissing / kRefused / kFailed: `reason` says why nothing was read.
enum class ReadStatus { kOk, kMissing, kRefused, kFailed };

struct ReadOutcome {
  ReadStatus status = ReadStatus::kOk;
  std::string data;
  std::string reason;
};

// How to read one kind of file: its header is read first and judged by `header_valid`; only a file
// with a valid header and at most `limit` bytes is read further (else kRefused with
// `too_large_reason(size)`).
struct BoundedRead {
  size_t header_size = 0;
  uint64_t limit = 0;
  std::function<bool(const std::string& header)> header_valid;
  std::function<std::string(uint64_t size)> too_large_reason;
};

// The path's kind, without opening it (opening a device can have side effects, a FIFO blocks):
// kOk for a regular file (symlinks followed), kRefused naming what else it is.
ReadOutcome probe(const std::string& path);

// Reads a regular file as `how` says.  The rest of the file is sized by the file, not by what its
// header claims, plus one byte, so that a file that grew since it was measured shows as trailing bytes
// instead of being read without bound.  Memory follows the bytes actually present.
ReadOutcome read_bounded(const std::string& path, const BoundedRead& how);

// Writes `data` to a temporary file beside `path`, flushes it to disk and renames it over `path`:
// readers see the old or the new file, never a mix.  false with `error` set on failure (the temporary
// removed).  POSIX: mkstemps, fsync, rename, keeping the old file's permissions; Windows: CREATE_NEW,
// FlushFileBuffers, MoveFileExW(REPLACE_EXISTING | WRITE_THROUGH), retried briefly while a scanner
// holds the old file.
bool replace_atomically(const std::string& path, const std::string& data, std::string* error);

// Renames `path` to "<path>.corrupt-<time_ns>"; returns the new path, or "" (logged) on failure.
std::string move_aside(const std::string& path);

std::string directory_of(const std::string& path);
std::string basename_of(const std::string& path);

#if defined(_WIN32)
// UTF-8 (how paths arrive from Python and from the engine info) to the UTF-16 the W APIs take.
std::wstring widen(const std::string& utf8);
#endif

} // namespace file_io
} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
