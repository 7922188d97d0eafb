// The default runtime-cache location in the C++ runtime (RuntimeCacheLocation), saving into a missing
// directory (RuntimeCacheFile), and when an engine looks its default file up (TRTRuntimeConfig).
// The same cases run against the Python rule in tests/py/runtime/test_runtime_cache_location_parity.py.
//
// Every test points HOME, XDG_CACHE_HOME, LOCALAPPDATA and TORCH_TENSORRT_CACHE_DIR into its own
// temporary directory, so the user's real cache directory is never touched.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "core/runtime/RuntimeCacheFile.h"
#include "core/runtime/RuntimeCacheLocation.h"
#include "core/runtime/RuntimeDefaults.h"
#include "core/runtime/TRTRuntimeConfig.h"

namespace rt = torch_tensorrt::core::runtime;
using Location = rt::RuntimeCacheLocation;

namespace {

const char* const kVariables[] = {"TORCH_TENSORRT_CACHE_DIR", "XDG_CACHE_HOME", "LOCALAPPDATA", "HOME"};

int mode_of(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

void set_env(const char* name, const std::optional<std::string>& value) {
  if (value) {
    ::setenv(name, value->c_str(), 1);
  } else {
    ::unsetenv(name);
  }
}

// A private temporary tree with HOME inside it and the cache variables unset; restores the
// environment, the umask and the working directory afterwards.
class RuntimeCacheLocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kVariables) {
      const char* value = std::getenv(name);
      saved_[name] = value == nullptr ? std::nullopt : std::optional<std::string>(value);
      ::unsetenv(name);
    }
    std::string tmpl = "/tmp/torchtrt_cache_location_XXXXXX";
    ASSERT_NE(::mkdtemp(&tmpl[0]), nullptr);
    root_ = tmpl;
    ASSERT_EQ(::mkdir((root_ + "/home").c_str(), 0755), 0);
    ::setenv("HOME", (root_ + "/home").c_str(), 1);
    umask_ = ::umask(022);
    char cwd[4096];
    ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
    cwd_ = cwd;
  }
  void TearDown() override {
    for (const auto& entry : saved_) {
      set_env(entry.first.c_str(), entry.second);
    }
    ::umask(umask_);
    EXPECT_EQ(::chdir(cwd_.c_str()), 0);
    EXPECT_EQ(std::system(("rm -rf '" + root_ + "'").c_str()), 0);
  }

  std::string root_;
  std::string cwd_;
  std::map<std::string, std::optional<std::string>> saved_;
  mode_t umask_ = 022;
};

// Engines on the fake backend (which has a runtime cache, like TensorRT-RTX) look up their default
// cache file when they create a context: every test in this binary gets a private scratch directory
// instead of the user's real one (a user-set TORCH_TENSORRT_CACHE_DIR is their real one too).
class ScratchCacheDirEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string tmpl = "/tmp/torchtrt_test_cache_XXXXXX";
    ASSERT_NE(::mkdtemp(&tmpl[0]), nullptr);
    dir_ = tmpl;
    ::setenv("TORCH_TENSORRT_CACHE_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    EXPECT_EQ(std::system(("rm -rf '" + dir_ + "'").c_str()), 0);
  }

 private:
  std::string dir_;
};

::testing::Environment* const kScratchCacheDir = ::testing::AddGlobalTestEnvironment(new ScratchCacheDirEnvironment);

// The error default_dir() throws, or nullopt when it succeeded.
std::optional<Location::Error> refusal(Location::Platform platform = Location::host_platform()) {
  try {
    Location::default_dir(platform);
  } catch (const Location::Error& e) {
    return e;
  }
  return std::nullopt;
}

} // namespace

TEST_F(RuntimeCacheLocationTest, OverrideIsCreatedPrivateWithItsMissingParents) {
  ::setenv("TORCH_TENSORRT_CACHE_DIR", (root_ + "/a/b/cache").c_str(), 1);
  EXPECT_EQ(Location::default_dir(), root_ + "/a/b/cache");
  EXPECT_EQ(mode_of(root_ + "/a"), 0700); // every directory made here, not only the last one
  EXPECT_EQ(mode_of(root_ + "/a/b"), 0700);
  EXPECT_EQ(mode_of(root_ + "/a/b/cache"), 0700);
  EXPECT_EQ(Location::default_path("abc123"), root_ + "/a/b/cache/abc123.trtcache");
}

TEST_F(RuntimeCacheLocationTest, XdgThenHome) {
  ::setenv("XDG_CACHE_HOME", (root_ + "/xdg").c_str(), 1);
  EXPECT_EQ(Location::default_dir(), root_ + "/xdg/torch_tensorrt/runtime_cache");
  ::setenv("XDG_CACHE_HOME", "", 1); // empty counts as unset
  ::setenv("TORCH_TENSORRT_CACHE_DIR", "", 1);
  EXPECT_EQ(Location::default_dir(), root_ + "/home/.cache/torch_tensorrt/runtime_cache");
  EXPECT_EQ(mode_of(root_ + "/home/.cache"), 0700);
}

TEST_F(RuntimeCacheLocationTest, WindowsLayoutUsesLocalAppData) {
  ::setenv("XDG_CACHE_HOME", (root_ + "/xdg").c_str(), 1); // not read by the Windows rule
  ::setenv("LOCALAPPDATA", (root_ + "/lad").c_str(), 1);
  EXPECT_EQ(Location::default_dir(Location::Platform::kWindows), root_ + "/lad/torch_tensorrt/runtime_cache");
  ::unsetenv("LOCALAPPDATA");
  EXPECT_EQ(
      Location::default_dir(Location::Platform::kWindows), root_ + "/home/AppData/Local/torch_tensorrt/runtime_cache");
}

TEST_F(RuntimeCacheLocationTest, TildeAndRelativePathsAreExpandedAndNormalised) {
  ::setenv("TORCH_TENSORRT_CACHE_DIR", "~/x/../y/./z/", 1);
  EXPECT_EQ(Location::default_dir(), root_ + "/home/y/z");
  ASSERT_EQ(::chdir(root_.c_str()), 0);
  ::setenv("TORCH_TENSORRT_CACHE_DIR", "rel//dir", 1);
  EXPECT_EQ(Location::default_dir(), root_ + "/rel/dir");
}

TEST_F(RuntimeCacheLocationTest, SymlinkAndFileAreRefused) {
  ASSERT_EQ(::mkdir((root_ + "/real").c_str(), 0700), 0);
  ASSERT_EQ(::symlink((root_ + "/real").c_str(), (root_ + "/link").c_str()), 0);
  ::setenv("TORCH_TENSORRT_CACHE_DIR", (root_ + "/link").c_str(), 1);
  auto error = refusal();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error(), EACCES);
  EXPECT_NE(std::string(error->what()).find("is a symbolic link"), std::string::npos) << error->what();
  EXPECT_NE(std::string(error->what()).find("TORCH_TENSORRT_CACHE_DIR"), std::string::npos);
  EXPECT_TRUE(refusal(Location::Platform::kWindows).has_value()) << "refused by the Windows rule too";

  std::ofstream(root_ + "/file") << "x";
  ::setenv("TORCH_TENSORRT_CACHE_DIR", (root_ + "/file").c_str(), 1);
  error = refusal();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error(), ENOTDIR);
  EXPECT_NE(std::string(error->what()).find("is not a directory"), std::string::npos) << error->what();
  // Below a file nothing can be created: the error of the mkdir that failed.
  ::setenv("TORCH_TENSORRT_CACHE_DIR", (root_ + "/file/sub").c_str(), 1);
  error = refusal();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error(), ENOTDIR);
  EXPECT_NE(std::string(error->what()).find("could not create directory " + root_ + "/file/sub"), std::string::npos)
      << error->what();
}

TEST_F(RuntimeCacheLocationTest, DirectoryOfAnotherUserIsRefusedUnderThePosixRuleOnly) {
  const std::string planted = root_ + "/planted";
  ASSERT_EQ(::mkdir(planted.c_str(), 0755), 0);
  if (::chown(planted.c_str(), 12345, static_cast<gid_t>(-1)) != 0) {
    GTEST_SKIP() << "chown to another uid needs root (or CAP_CHOWN)";
  }
  ::setenv("TORCH_TENSORRT_CACHE_DIR", planted.c_str(), 1);
  auto error = refusal();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error(), EACCES);
  std::string message = error->what();
  EXPECT_NE(message.find("uid 12345"), std::string::npos) << message;
  EXPECT_NE(message.find(planted), std::string::npos) << message;
  // Windows has no uids to compare; there the profile ACLs keep the directory private.
  EXPECT_FALSE(refusal(Location::Platform::kWindows).has_value());
}

TEST_F(RuntimeCacheLocationTest, GroupWritableDirectoryIsTightened) {
  const std::string loose = root_ + "/loose";
  ASSERT_EQ(::mkdir(loose.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(loose.c_str(), 0777), 0);
  ::setenv("TORCH_TENSORRT_CACHE_DIR", loose.c_str(), 1);
  EXPECT_EQ(Location::default_dir(), loose);
  EXPECT_EQ(mode_of(loose), 0700);
  ASSERT_EQ(::chmod(loose.c_str(), 0755), 0); // readable by others is not a risk: left alone
  Location::default_dir();
  EXPECT_EQ(mode_of(loose), 0755);
}

TEST_F(RuntimeCacheLocationTest, EngineHashMustBeAPlainFileName) {
  ::setenv("TORCH_TENSORRT_CACHE_DIR", (root_ + "/c").c_str(), 1);
  for (const char* bad : {"", "../x", "a/b", ".hidden", "a b", "-x"}) {
    EXPECT_THROW(Location::default_path(bad), std::invalid_argument) << bad;
  }
  EXPECT_EQ(mode_of(root_ + "/c"), -1) << "a bad hash is refused before anything is created";
  EXPECT_EQ(Location::default_path("A_b.9-z"), root_ + "/c/A_b.9-z.trtcache");
}

TEST_F(RuntimeCacheLocationTest, SaveCreatesAMissingDirectoryPrivately) {
  const std::string path = root_ + "/new/deeper/kernels.trtcache";
  rt::RuntimeCacheFile file(path);
  EXPECT_EQ(file.load(), "") << "loading creates nothing";
  EXPECT_EQ(mode_of(root_ + "/new"), -1);
  ASSERT_TRUE(file.save("kernels"));
  EXPECT_EQ(mode_of(root_ + "/new"), 0700);
  EXPECT_EQ(mode_of(root_ + "/new/deeper"), 0700);
  EXPECT_EQ(rt::RuntimeCacheFile(path).load(), "kernels");
  // A parent that cannot be a directory: a warning and false, never an exception.
  std::ofstream(root_ + "/blocker") << "x";
  EXPECT_FALSE(rt::RuntimeCacheFile(root_ + "/blocker/kernels.trtcache").save("kernels"));
}

namespace {

// Names in `dir`, sorted.
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void set_mtime(const std::string& path, int seconds_ago) {
  auto when = std::filesystem::file_time_type::clock::now() - std::chrono::seconds(seconds_ago);
  std::filesystem::last_write_time(path, when);
}

} // namespace

TEST_F(RuntimeCacheLocationTest, SavesLeaveOneDirectoryLockAndNoPerFileLocks) {
  for (const char* name : {"a.trtcache", "b.trtcache", "c.bin"}) {
    rt::RuntimeCacheFile file(root_ + "/" + name);
    ASSERT_TRUE(file.save("kernels"));
    EXPECT_EQ(file.load(), "kernels");
  }
  EXPECT_EQ(
      names_in(root_),
      (std::vector<std::string>{".torch_tensorrt_runtime_cache.lock", "a.trtcache", "b.trtcache", "c.bin", "home"}));
}

TEST_F(RuntimeCacheLocationTest, SaveIntoTheDefaultDirEvictsLeastRecentlyUsed) {
  const std::string dir = root_ + "/cache";
  ::setenv("TORCH_TENSORRT_CACHE_DIR", dir.c_str(), 1);
  const std::string payload(944, 'k'); // 1000 bytes on disk with the header
  for (const char* hash : {"old", "mid", "new"}) {
    ASSERT_TRUE(rt::RuntimeCacheFile(Location::default_path(hash)).save(payload));
  }
  set_mtime(dir + "/old.trtcache", 300);
  set_mtime(dir + "/mid.trtcache", 200);
  set_mtime(dir + "/new.trtcache", 100);
  EXPECT_EQ(rt::RuntimeCacheFile(dir + "/old.trtcache").load(), payload); // touched: now the newest
  ::setenv(Location::kDirMaxBytesEnv, "2500", 1);
  ASSERT_TRUE(rt::RuntimeCacheFile(Location::default_path("fresh")).save(payload));
  ::unsetenv(Location::kDirMaxBytesEnv);
  EXPECT_EQ(
      names_in(dir),
      (std::vector<std::string>{".torch_tensorrt_runtime_cache.lock", "fresh.trtcache", "old.trtcache"}));
}

TEST_F(RuntimeCacheLocationTest, UserNamedPathsAreNeverEvicted) {
  ::setenv("TORCH_TENSORRT_CACHE_DIR", (root_ + "/cache").c_str(), 1);
  ::setenv(Location::kDirMaxBytesEnv, "0", 1);
  ASSERT_TRUE(rt::RuntimeCacheFile(root_ + "/mine/a.trtcache").save("kernels"));
  ASSERT_TRUE(rt::RuntimeCacheFile(root_ + "/mine/b.trtcache").save("kernels"));
  ASSERT_TRUE(rt::RuntimeCacheFile(Location::default_path("x")).save("kernels"));
  ASSERT_TRUE(rt::RuntimeCacheFile(Location::default_path("y")).save("kernels"));
  ::unsetenv(Location::kDirMaxBytesEnv);
  EXPECT_EQ(names_in(root_ + "/mine").size(), 3u); // a, b and the lock
  // The file just saved is kept even over the limit; the other default one goes.
  EXPECT_EQ(names_in(root_ + "/cache"), (std::vector<std::string>{".torch_tensorrt_runtime_cache.lock", "y.trtcache"}));
}

TEST_F(RuntimeCacheLocationTest, DirMaxBytesFromEnvironment) {
  EXPECT_EQ(Location::dir_max_bytes(), Location::kDefaultDirMaxBytes);
  ::setenv(Location::kDirMaxBytesEnv, "123", 1);
  EXPECT_EQ(Location::dir_max_bytes(), 123u);
  ::setenv(Location::kDirMaxBytesEnv, "-5", 1);
  EXPECT_EQ(Location::dir_max_bytes(), Location::kDefaultDirMaxBytes);
  ::unsetenv(Location::kDirMaxBytesEnv);
}

TEST(RuntimeConfigDefaultCachePath, LookedUpOnceAndOnlyWhenItWouldBeUsed) {
  rt::BackendFeatures rtx;
  rtx.runtime_cache = true;
  rt::BackendFeatures standard;
  const rt::RuntimeDefaults::Values before = rt::RuntimeDefaults::get();
  rt::TRTRuntimeConfig config;
  EXPECT_TRUE(config.needs_default_cache_path(rtx));
  EXPECT_FALSE(config.needs_default_cache_path(standard)) << "no runtime cache on standard TensorRT";
  config.set_runtime_cache_path("/somewhere/kernels.trtcache");
  EXPECT_FALSE(config.needs_default_cache_path(rtx)) << "the engine names its file";
  config.clear_runtime_cache_path();
  rt::RuntimeDefaults::Values named = before;
  named.has_runtime_cache_path = true;
  named.runtime_cache_path = "";
  rt::RuntimeDefaults::set(named);
  EXPECT_FALSE(config.needs_default_cache_path(rtx)) << "the process names one (memory only)";
  rt::RuntimeDefaults::set(before);
  EXPECT_TRUE(config.needs_default_cache_path(rtx));
  config.set_default_cache_path("/cache/abc.trtcache");
  EXPECT_FALSE(config.needs_default_cache_path(rtx)) << "found once";
  EXPECT_EQ(config.runtime_cache_path(), "/cache/abc.trtcache");
  config.set_runtime_cache_path("");
  EXPECT_EQ(config.runtime_cache_path(), "") << "a named path still wins over the default file";
}
