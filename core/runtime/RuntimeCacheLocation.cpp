#include "core/runtime/RuntimeCacheLocation.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <system_error>
#if defined(_WIN32)
#else
#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#endif

#include "core/runtime/runtime.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

using Platform = RuntimeCacheLocation::Platform;
using Error = RuntimeCacheLocation::Error;

// The Python runtime's messages (_runtime_cache._secure_directory), so both runtimes say the same.
std::string symlink_message(const std::string& dir) {
  return "runtime cache directory " + dir +
      " is a symbolic link; refusing to use it because the link target may be controlled by another user. "
      "Replace it with a real directory or set " +
      RuntimeCacheLocation::kCacheDirEnv + " to a directory you own.";
}

std::string not_a_directory_message(const std::string& dir) {
  return "runtime cache directory " + dir + " exists but is not a directory; remove it or set " +
      RuntimeCacheLocation::kCacheDirEnv + " to a directory you own.";
}

Error creation_error(const std::string& dir, int error) {
  return Error(error, "could not create directory " + dir + ": " + std::strerror(error));
}

// pathlib's words when "~" cannot be expanded.
Error no_home_error() {
  return Error(ENOENT, "Could not determine home directory.");
}

bool usable_file_name(const std::string& name) {
  auto word = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  };
  return !name.empty() && word(name[0]) &&
      std::all_of(name.begin() + 1, name.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

#if !defined(_WIN32)

constexpr char kSep = '/';

// Unset and set-but-empty differ for HOME, as in Python.
std::optional<std::string> env_var(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::nullopt : std::optional<std::string>(value);
}

struct PasswdEntry {
  bool found = false;
  std::string name;
  std::string home;
};

// The password-database entry of `user`, or of `uid` when `user` is null.
PasswdEntry lookup_user(const std::string* user, uid_t uid) {
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<size_t>(hint) : 16384);
  struct passwd entry;
  struct passwd* result = nullptr;
  for (;;) {
    int rc = user != nullptr ? ::getpwnam_r(user->c_str(), &entry, buffer.data(), buffer.size(), &result)
                             : ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &result);
    if (rc != ERANGE || buffer.size() > (size_t{1} << 20)) {
      break;
    }
    buffer.resize(buffer.size() * 2);
  }
  PasswdEntry out;
  if (result != nullptr) {
    out = {true, entry.pw_name, entry.pw_dir};
  }
  return out;
}

std::string describe_owner(uid_t uid) {
  PasswdEntry entry = lookup_user(nullptr, uid);
  return entry.found ? entry.name + " (uid " + std::to_string(uid) + ")" : "uid " + std::to_string(uid);
}

// Path.expanduser (posixpath.expanduser on the first component): "~" is $HOME (even when empty), else
// the password entry of the real uid; "~user" that user's home.  Throws when it cannot be expanded.
std::string expand_home(const std::string& path) {
  if (path.empty() || path[0] != '~') {
    return path;
  }
  size_t end = std::min(path.find(kSep, 1), path.size());
  std::string home;
  if (end == 1) {
    std::optional<std::string> from_env = env_var("HOME");
    PasswdEntry entry = from_env ? PasswdEntry{true, "", *from_env} : lookup_user(nullptr, ::getuid());
    if (!entry.found) {
      throw no_home_error();
    }
    home = entry.home;
  } else {
    const std::string user = path.substr(1, end - 1);
    PasswdEntry entry = lookup_user(&user, 0);
    if (!entry.found) {
      throw no_home_error();
    }
    home = entry.home;
  }
  while (!home.empty() && home.back() == kSep) {
    home.pop_back();
  }
  std::string out = home + path.substr(end);
  return out.empty() ? std::string(1, kSep) : out;
}

// posixpath.normpath: "." and empty components dropped, ".." folded, exactly two leading slashes kept.
std::string normalize(const std::string& path) {
  size_t slashes = std::min(path.find_first_not_of(kSep), path.size());
  size_t initial = slashes == 0 ? 0 : (slashes == 2 ? 2 : 1);
  std::vector<std::string> parts;
  for (size_t start = 0; start <= path.size();) {
    size_t end = std::min(path.find(kSep, start), path.size());
    std::string part = path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") {
      continue;
    }
    if (part != ".." || (initial == 0 && parts.empty()) || (!parts.empty() && parts.back() == "..")) {
      parts.push_back(part);
    } else if (!parts.empty()) {
      parts.pop_back();
    }
  }
  std::string out(initial, kSep);
  for (size_t i = 0; i < parts.size(); ++i) {
    out += (i == 0 ? "" : std::string(1, kSep)) + parts[i];
  }
  return out.empty() ? "." : out;
}

// os.path.abspath.
std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == kSep) {
    return normalize(path);
  }
  std::vector<char> cwd(4096);
  while (::getcwd(cwd.data(), cwd.size()) == nullptr) {
    if (errno != ERANGE) {
      int error = errno;
      throw Error(error, std::string("could not read the current directory: ") + std::strerror(error));
    }
    cwd.resize(cwd.size() * 2);
  }
  return normalize(std::string(cwd.data()) + kSep + path);
}

bool lexists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// mkdir(path, 0700) (the umask may only narrow it); 0 or the errno.
int make_directory(const std::string& path) {
  return ::mkdir(path.c_str(), 0700) == 0 ? 0 : errno;
}

void secure_directory(const std::string& dir, Platform platform) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    int error = errno;
    throw Error(error, "could not inspect runtime cache directory " + dir + ": " + std::strerror(error));
  }
  if (S_ISLNK(st.st_mode)) {
    throw Error(EACCES, symlink_message(dir));
  }
  if (!S_ISDIR(st.st_mode)) {
    throw Error(ENOTDIR, not_a_directory_message(dir));
  }
  if (platform == Platform::kWindows) {
    return; // the Windows rule has no POSIX owner or mode bits to check (see the header)
  }
  uid_t uid = ::geteuid();
  if (st.st_uid != uid) {
    throw Error(
        EACCES,
        "runtime cache directory " + dir + " is owned by " + describe_owner(st.st_uid) + ", not by the current user (" +
            describe_owner(uid) + "). Another user could plant kernels in it, so it is not used. Remove it, `chown` " +
            "it to yourself, or set " + RuntimeCacheLocation::kCacheDirEnv + " to a private directory.");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    log(LogLevel::kINFO, "runtime cache directory " + dir + " was group/other writable; setting mode 0700");
    if (::chmod(dir.c_str(), 0700) != 0) {
      int error = errno;
      throw Error(error, "could not make runtime cache directory " + dir + " private: " + std::strerror(error));
    }
  }
}

#else // _WIN32: std::filesystem on UTF-8 strings (Python's str paths arrive as UTF-8).

namespace fs = std::filesystem;
constexpr char kSep = '\\';

// /std:c++20 makes u8string() a std::u8string; both spellings end up as UTF-8 in a std::string.
std::string to_utf8(const fs::path& path) {
  auto text = path.u8string();
  return std::string(text.begin(), text.end());
}

fs::path from_utf8(const std::string& text) {
#if defined(__cpp_char8_t)
  return fs::path(std::u8string(text.begin(), text.end()));
#else
  return fs::u8path(text);
#endif
}

std::optional<std::string> env_var(const char* name) {
  std::wstring wide(name, name + std::strlen(name)); // variable names here are ASCII
  const wchar_t* value = ::_wgetenv(wide.c_str());
  return value == nullptr ? std::nullopt : std::optional<std::string>(to_utf8(fs::path(value)));
}

// ntpath.expanduser for "~" alone: %USERPROFILE%, else %HOMEDRIVE%%HOMEPATH%.  "~user" is not
// expanded (Python guesses a sibling of the own profile directory; that guess is not repeated here).
std::string expand_home(const std::string& path) {
  if (path.empty() || path[0] != '~') {
    return path;
  }
  size_t end = std::min(path.find_first_of("\\/", 1), path.size());
  std::optional<std::string> home = env_var("USERPROFILE");
  if (!home) {
    std::optional<std::string> home_path = env_var("HOMEPATH");
    if (home_path) {
      home = env_var("HOMEDRIVE").value_or("") + *home_path;
    }
  }
  if (end != 1 || !home) {
    throw no_home_error();
  }
  return *home + path.substr(end);
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  fs::path full = fs::absolute(from_utf8(path), ec).lexically_normal();
  if (ec) {
    throw Error(EINVAL, "could not make " + path + " absolute: " + ec.message());
  }
  std::string out = to_utf8(full);
  while (out.size() > 3 && (out.back() == '\\' || out.back() == '/')) {
    out.pop_back(); // "C:\a\b\" -> "C:\a\b", as ntpath.abspath; a root keeps its separator
  }
  return out;
}

bool lexists(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(from_utf8(path), ec));
}

// The directory inherits its ACL from the parent (under the profile: private); 0 or an errno.
int make_directory(const std::string& path) {
  std::error_code ec;
  if (fs::create_directory(from_utf8(path), ec)) {
    return 0;
  }
  if (!ec) {
    return EEXIST;
  }
  std::error_condition condition = ec.default_error_condition();
  return condition.category() == std::generic_category() ? condition.value() : EIO;
}

void secure_directory(const std::string& dir, Platform /*platform*/) {
  std::error_code ec;
  fs::file_status status = fs::symlink_status(from_utf8(dir), ec);
  if (ec) {
    throw Error(ENOENT, "could not inspect runtime cache directory " + dir + ": " + ec.message());
  }
  if (fs::is_symlink(status)) {
    throw Error(EACCES, symlink_message(dir));
  }
  if (!fs::is_directory(status)) {
    throw Error(ENOTDIR, not_a_directory_message(dir));
  }
}

#endif

std::string join(const std::string& dir, const std::string& name) {
  return !dir.empty() && (dir.back() == kSep || dir.back() == '/') ? dir + name : dir + kSep + name;
}

// Path.parent: "/a/b" -> "/a", "/a" -> "/", "a" -> "."; a root is its own parent.
std::string parent_of(const std::string& dir) {
  size_t slash = dir.find_last_of(kSep == '/' ? "/" : "\\/");
  if (slash == std::string::npos) {
    return ".";
  }
  size_t keep = dir.find_last_not_of(kSep == '/' ? "/" : "\\/", slash);
  if (keep == std::string::npos || (kSep == '\\' && dir[keep] == ':')) {
    return dir.substr(0, slash + 1); // the root ("/", "//", "C:\")
  }
  return dir.substr(0, keep + 1);
}

std::string home() {
  return expand_home("~");
}

} // namespace

RuntimeCacheLocation::Platform RuntimeCacheLocation::host_platform() {
#if defined(_WIN32)
  return Platform::kWindows;
#else
  return Platform::kPosix;
#endif
}

void RuntimeCacheLocation::create_private_directories(const std::string& dir) {
  // The missing tail of the path, as Python's make_private_dirs finds it: whatever exists (a file, a
  // dangling link) is left for the caller to judge, and mkdir below it fails with the OS's error.
  std::vector<std::string> missing;
  for (std::string current = dir; !current.empty() && !lexists(current) && parent_of(current) != current;
       current = parent_of(current)) {
    missing.push_back(current);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    int error = make_directory(*it);
    if (error != 0 && error != EEXIST) { // EEXIST: made concurrently; the caller checks what it uses
      throw creation_error(*it, error);
    }
  }
}

std::string RuntimeCacheLocation::default_location(Platform platform) {
  const bool windows = platform == Platform::kWindows;
  std::string dir = env_var(kCacheDirEnv).value_or("");
  if (!dir.empty()) {
    dir = expand_home(dir);
  } else {
    std::string base = env_var(windows ? "LOCALAPPDATA" : "XDG_CACHE_HOME").value_or("");
    if (base.empty()) {
      base = windows ? join(join(home(), "AppData"), "Local") : join(home(), ".cache");
    }
    dir = join(join(base, "torch_tensorrt"), "runtime_cache");
  }
  return absolute(dir);
}

std::string RuntimeCacheLocation::default_dir(Platform platform) {
  std::string dir = default_location(platform);
  create_private_directories(dir);
  secure_directory(dir, platform); // whatever was there already, or was made concurrently
  return dir;
}

std::string RuntimeCacheLocation::default_path(const std::string& engine_hash, Platform platform) {
  if (!usable_file_name(engine_hash)) {
    throw std::invalid_argument("engine hash '" + engine_hash + "' is not usable as a file name");
  }
  return join(default_dir(platform), engine_hash + kSuffix);
}

std::string RuntimeCacheLocation::lock_path(const std::string& cache_path) {
  return join(parent_of(cache_path), kLockName);
}

bool RuntimeCacheLocation::is_cache_file_name(const std::string& name) {
  const std::string suffix = kSuffix;
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
      usable_file_name(name.substr(0, name.size() - suffix.size()));
}

bool RuntimeCacheLocation::in_default_dir(const std::string& path) {
  std::string name = path.substr(path.find_last_of(kSep == '/' ? "/" : "\\/") + 1);
  try {
    return is_cache_file_name(name) && absolute(parent_of(path)) == default_location();
  } catch (const Error&) {
    return false; // no home directory: there is no default directory to tidy
  }
}

uint64_t RuntimeCacheLocation::dir_max_bytes() {
  std::string raw = env_var(kDirMaxBytesEnv).value_or("");
  std::string text = raw;
  text.erase(0, text.find_first_not_of(" \t\r\n"));
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  if (text.empty()) {
    return kDefaultDirMaxBytes;
  }
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    uint64_t value = 0;
    for (char c : text) { // saturating: beyond 64 bits means "no practical limit"
      uint64_t digit = static_cast<uint64_t>(c - '0');
      value = value > (UINT64_MAX - digit) / 10 ? UINT64_MAX : value * 10 + digit;
    }
    return value;
  }
  static std::mutex mutex; // warn once per distinct value: this runs on every save
  static std::string warned;
  std::lock_guard<std::mutex> guard(mutex);
  if (warned != raw) {
    warned = raw;
    log(LogLevel::kWARNING,
        std::string(kDirMaxBytesEnv) + "='" + raw + "' is not a whole number of bytes; using the default limit of " +
            std::to_string(kDefaultDirMaxBytes) + " bytes");
  }
  return kDefaultDirMaxBytes;
}

namespace {

struct CacheEntry {
  int64_t mtime_ns;
  std::string name;
  uint64_t size;
};

// Regular cache files of `dir` (symbolic links and anything else are neither counted nor deleted).
std::vector<CacheEntry> list_cache_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<CacheEntry> entries;
  std::error_code ec;
  for (fs::directory_iterator it(fs::u8path(dir), ec), end; !ec && it != end; it.increment(ec)) {
    // u8string() is std::string in C++17 and std::u8string in C++20 (setup.py builds with C++20).
    const auto utf8 = it->path().filename().u8string();
    std::string name(utf8.begin(), utf8.end());
    std::error_code fec;
    if (!RuntimeCacheLocation::is_cache_file_name(name) || !fs::is_regular_file(fs::symlink_status(it->path(), fec))) {
      continue;
    }
    uint64_t size = fs::file_size(it->path(), fec);
    auto mtime = fs::last_write_time(it->path(), fec);
    if (!fec) {
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
      entries.push_back({static_cast<int64_t>(ns), name, size});
    }
  }
  return entries;
}

} // namespace

std::vector<std::string> RuntimeCacheLocation::evict(const std::string& dir, const std::string& keep, uint64_t limit) {
  std::vector<CacheEntry> entries = list_cache_files(dir);
  uint64_t total = 0;
  for (const auto& e : entries) {
    total += e.size;
  }
  std::sort(entries.begin(), entries.end(), [](const CacheEntry& a, const CacheEntry& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.name < b.name;
  });
  std::vector<std::string> evicted;
  for (const auto& e : entries) {
    if (total <= limit) {
      break;
    }
    std::error_code ec;
    if (e.name != keep && std::filesystem::remove(std::filesystem::u8path(join(dir, e.name)), ec)) {
      total -= e.size;
      evicted.push_back(e.name);
    }
  }
  return evicted;
}

void RuntimeCacheLocation::touch(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::u8path(path);
  std::filesystem::last_write_time(p, std::filesystem::file_time_type::clock::now(), ec);
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
