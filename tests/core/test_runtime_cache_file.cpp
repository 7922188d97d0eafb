// Bounded runtime-cache reads in the C++ runtime: the cases of tests/py/runtime/test_runtime_cache_bounds.py
// (regular files only, header first, a size limit), with the same verdicts and messages.
//
// Cases that a regression would turn into a hang or a memory blow-up run in a forked child with a
// capped address space and an alarm, so that they fail instead of stopping the suite or the machine.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/runtime/RuntimeCacheFile.h"

namespace rt = torch_tensorrt::core::runtime;

namespace {

// A fresh directory for one test.
std::string temp_dir() {
  std::string tmpl = "/tmp/torchtrt_cache_bounds_XXXXXX";
  char* made = ::mkdtemp(&tmpl[0]);
  return made == nullptr ? "" : std::string(made);
}

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

std::string le64(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
  return out;
}

// A valid header declaring `length` payload bytes (digest not checked before the size).
std::string header(uint64_t length) {
  return std::string("TTRTRTC\0", 8) + std::string("\x01\0\0\0", 4) + std::string(4, '\0') + le64(length) +
      std::string(32, '\0');
}

// A file of `size` bytes that takes no disk: `head`, then a hole.
void sparse(const std::string& path, const std::string& head, off_t size) {
  write(path, head);
  ASSERT_EQ(::truncate(path.c_str(), size), 0);
}

void remove_tree(const std::string& dir) {
  if (std::system(("rm -rf '" + dir + "'").c_str()) != 0) {
    std::fprintf(stderr, "could not remove %s\n", dir.c_str());
  }
}

int entries(const std::string& dir) {
  std::string cmd = "ls -A '" + dir + "' | wc -l";
  FILE* p = ::popen(cmd.c_str(), "r");
  int n = -1;
  if (p != nullptr) {
    if (std::fscanf(p, "%d", &n) != 1) {
      n = -1;
    }
    ::pclose(p);
  }
  return n;
}

long vm_size_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) {
      return std::stol(line.substr(7)) * 1024;
    }
  }
  return -1;
}

// Runs `check` (returns "" or what went wrong) in a forked child limited to 256 MiB more address
// space and `seconds` of time; a child that blocks or allocates without bound fails, never hangs.
::testing::AssertionResult bounded(const std::function<std::string()>& check, unsigned seconds = 20) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    long vm = vm_size_bytes();
    if (vm > 0) {
      struct rlimit cap = {static_cast<rlim_t>(vm + (256L << 20)), RLIM_INFINITY};
      ::setrlimit(RLIMIT_AS, &cap);
    }
    ::alarm(seconds);
    std::string failure;
    try {
      failure = check();
    } catch (const std::exception& e) {
      failure = std::string("exception: ") + e.what();
    }
    if (!failure.empty()) {
      std::fprintf(stdout, "%s\n", failure.c_str());
    }
    std::fflush(nullptr);
    ::_exit(failure.empty() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) {
    return ::testing::AssertionFailure() << "child killed by signal " << WTERMSIG(status)
                                         << (WTERMSIG(status) == SIGALRM ? " (timed out: blocked on the path)" : "");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return ::testing::AssertionFailure() << "child failed (see its output above)";
  }
  return ::testing::AssertionSuccess();
}

// Loads `path` with the runtime's log captured; "" when the load returned "" and the log matches.
std::string load_refused(const std::string& path, const std::string& expect_in_log) {
  ::testing::internal::CaptureStderr();
  std::string payload = rt::RuntimeCacheFile(path).load();
  std::string log = ::testing::internal::GetCapturedStderr();
  if (!payload.empty()) {
    return "load returned " + std::to_string(payload.size()) + " bytes";
  }
  if (log.find("runtime cache " + path + " ") == std::string::npos || log.find(expect_in_log) == std::string::npos ||
      log.find("starting with a fresh cache") == std::string::npos) {
    return "unexpected log: " + log;
  }
  return "";
}

// Saves to `path` with the log captured; "" when the save was refused with `expect_in_log`.
std::string save_refused(const std::string& path, const std::string& expect_in_log) {
  ::testing::internal::CaptureStderr();
  bool saved = rt::RuntimeCacheFile(path).save("fresh kernels");
  std::string log = ::testing::internal::GetCapturedStderr();
  if (saved) {
    return "save succeeded";
  }
  if (log.find("not saving runtime cache " + path) == std::string::npos || log.find(expect_in_log) == std::string::npos) {
    return "unexpected log: " + log;
  }
  return "";
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    ::unsetenv(name_);
  }

 private:
  const char* name_;
};

} // namespace

TEST(RuntimeCacheBounds, FifoIsRefusedWithoutBlocking) {
  std::string dir = temp_dir();
  std::string path = dir + "/c.trtcache";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_TRUE(bounded([&] {
    std::string failure = load_refused(path, "is a FIFO, not a regular file");
    if (failure.empty()) {
      failure = save_refused(path, "the path is a FIFO, not a regular file");
    }
    if (failure.empty() && !rt::RuntimeCacheFile(path).quarantine("rejected").empty()) {
      failure = "quarantine moved the FIFO";
    }
    return failure;
  }));
  struct stat st;
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)); // left as it was
  EXPECT_EQ(entries(dir), 1); // no "<path>.lock", nothing moved aside
  std::remove(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(RuntimeCacheBounds, CharacterDeviceIsRefusedInBoundedTimeAndMemory) {
  if (::access("/dev/zero", R_OK) != 0) {
    GTEST_SKIP() << "needs /dev/zero";
  }
  std::string dir = temp_dir();
  std::string link = dir + "/c.trtcache";
  ASSERT_EQ(::symlink("/dev/zero", link.c_str()), 0);
  char target[64] = {0};
  // Only through a symlink in a private directory: pointing the path at /dev/zero itself would let a
  // regression (as root) move the device node aside or replace it, as a bad cache file is.
  EXPECT_TRUE(bounded([&] {
    std::string failure = load_refused(link, "is a character device, not a regular file");
    return failure.empty() ? save_refused(link, "the path is a character device") : failure;
  }));
  EXPECT_EQ(::readlink(link.c_str(), target, sizeof(target)), 9);
  EXPECT_EQ(std::string(target, 9), "/dev/zero");
  EXPECT_EQ(entries(dir), 1); // the symlink only: no lock file next to it
  std::remove(link.c_str());
  ::rmdir(dir.c_str());
}

TEST(RuntimeCacheBounds, DirectoryIsRefused) {
  std::string dir = temp_dir();
  std::string path = dir + "/c.trtcache";
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
  EXPECT_EQ(load_refused(path, "is a directory, not a regular file"), "");
  struct stat st;
  EXPECT_TRUE(::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
  ::rmdir(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(RuntimeCacheBounds, OversizedCacheIsNotRead) {
  std::string dir = temp_dir();
  std::string path = dir + "/big.trtcache";
  const off_t size = off_t{256} << 20;
  sparse(path, header(static_cast<uint64_t>(size) - rt::RuntimeCacheFile::kHeaderSize), size);
  ScopedEnv limit(rt::RuntimeCacheFile::kMaxBytesEnv, "1048576");
  EXPECT_TRUE(bounded(
      [&] {
        return load_refused(
            path,
            "is 268435456 bytes, over the 1048576-byte limit for runtime cache files (raise it with "
            "TORCH_TENSORRT_RUNTIME_CACHE_MAX_BYTES)");
      },
      20));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, size); // a real cache above the limit is left in place
  EXPECT_TRUE(rt::RuntimeCacheFile(path).save("fresh kernels")); // and replaced by the fresh one
  EXPECT_EQ(rt::RuntimeCacheFile(path).load(), "fresh kernels");
  std::remove(path.c_str());
  std::remove((path + ".lock").c_str());
  ::rmdir(dir.c_str());
}

TEST(RuntimeCacheBounds, OversizedGarbageIsJudgedByItsHeader) {
  std::string dir = temp_dir();
  std::string path = dir + "/big.trtcache";
  sparse(path, std::string(56, 'g'), off_t{256} << 20);
  ScopedEnv limit(rt::RuntimeCacheFile::kMaxBytesEnv, "1048576");
  EXPECT_TRUE(bounded([&] {
    ::testing::internal::CaptureStderr();
    std::string payload = rt::RuntimeCacheFile(path).load();
    std::string log = ::testing::internal::GetCapturedStderr();
    return payload.empty() && log.find("bad magic") != std::string::npos && log.find("moved it to") != std::string::npos
        ? std::string()
        : "unexpected: " + log;
  }));
  EXPECT_NE(::access(path.c_str(), F_OK), 0); // moved aside
  remove_tree(dir);
}

TEST(RuntimeCacheBounds, HeaderClaimingAHugePayloadAllocatesNothing) {
  std::string dir = temp_dir();
  std::string path = dir + "/c.trtcache";
  write(path, header(uint64_t{1} << 40) + "tiny");
  // 256 MiB of address space is far below the terabyte the header claims.
  EXPECT_TRUE(bounded([&] {
    ::testing::internal::CaptureStderr();
    std::string payload = rt::RuntimeCacheFile(path).load();
    std::string log = ::testing::internal::GetCapturedStderr();
    return payload.empty() && log.find("truncated") != std::string::npos ? std::string() : "unexpected: " + log;
  }));
  remove_tree(dir);
}

TEST(RuntimeCacheBounds, CacheAtTheLimitLoadsAndOneByteMoreIsRefused) {
  std::string dir = temp_dir();
  std::string path = dir + "/c.trtcache";
  std::string payload(1000, 'k');
  write(path, rt::RuntimeCacheFile::encode(payload));
  {
    ScopedEnv limit(rt::RuntimeCacheFile::kMaxBytesEnv, "1056");
    EXPECT_EQ(rt::RuntimeCacheFile(path).load(), payload);
  }
  {
    ScopedEnv limit(rt::RuntimeCacheFile::kMaxBytesEnv, "1055");
    EXPECT_EQ(load_refused(path, "is 1056 bytes, over the 1055-byte limit"), "");
  }
  EXPECT_EQ(read(path), rt::RuntimeCacheFile::encode(payload)); // untouched
  remove_tree(dir);
}

TEST(RuntimeCacheBounds, PayloadOverTheLimitIsNotSaved) {
  std::string dir = temp_dir();
  std::string path = dir + "/c.trtcache";
  rt::RuntimeCacheFile file(path);
  ASSERT_TRUE(file.save("small"));
  ScopedEnv limit(rt::RuntimeCacheFile::kMaxBytesEnv, "66");
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(file.save(std::string(11, 'x')));
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("the cache is 67 bytes, over the 66-byte limit"), std::string::npos) << log;
  EXPECT_NE(log.find("so it could not be read back"), std::string::npos) << log;
  EXPECT_EQ(file.load(), "small");
  remove_tree(dir);
}

TEST(RuntimeCacheBounds, LimitFromEnvironment) {
  ::unsetenv(rt::RuntimeCacheFile::kMaxBytesEnv);
  EXPECT_EQ(rt::RuntimeCacheFile::max_bytes(), uint64_t{1} << 30);
  EXPECT_EQ(rt::RuntimeCacheFile::kDefaultMaxBytes, uint64_t{1} << 30);
  for (const auto& good : std::vector<std::pair<std::string, uint64_t>>{
           {"", uint64_t{1} << 30}, {" 4096 ", 4096}, {"56", 56}, {"1099511627776", uint64_t{1} << 40}}) {
    ScopedEnv limit(rt::RuntimeCacheFile::kMaxBytesEnv, good.first);
    EXPECT_EQ(rt::RuntimeCacheFile::max_bytes(), good.second) << good.first;
  }
  for (const std::string bad : {"1GiB", "-1", "+4096", "4_096", "0", "55", "1e9"}) {
    ScopedEnv limit(rt::RuntimeCacheFile::kMaxBytesEnv, bad);
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(rt::RuntimeCacheFile::max_bytes(), uint64_t{1} << 30) << bad;
    std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(log.find("TORCH_TENSORRT_RUNTIME_CACHE_MAX_BYTES='" + bad + "'"), std::string::npos) << log;
    EXPECT_NE(log.find("using the default limit of 1073741824 bytes"), std::string::npos) << log;
  }
}

TEST(RuntimeCacheBounds, SymlinkToARegularCacheIsFollowed) {
  std::string dir = temp_dir();
  std::string real = dir + "/real.trtcache";
  std::string link = dir + "/link.trtcache";
  ASSERT_TRUE(rt::RuntimeCacheFile(real).save("kernels"));
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  EXPECT_EQ(rt::RuntimeCacheFile(link).load(), "kernels");
  std::string dangling = dir + "/dangling.trtcache";
  ASSERT_EQ(::symlink((dir + "/missing").c_str(), dangling.c_str()), 0);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(rt::RuntimeCacheFile(dangling).load(), ""); // like a missing file: nothing to report
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  remove_tree(dir);
}
