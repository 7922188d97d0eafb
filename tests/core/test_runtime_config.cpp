#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "core/runtime/RuntimeCacheFile.h"
#include "core/runtime/TRTRuntimeConfig.h"

namespace rt = torch_tensorrt::core::runtime;

namespace {

std::string temp_path(const std::string& name) {
  return "/tmp/torchtrt_cpp_test_" + std::to_string(::getpid()) + "_" + name;
}

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

rt::BackendFeatures rtx() {
  return {true, true, true, true};
}

} // namespace

TEST(TRTRuntimeConfig, IntsMatchPython) {
  EXPECT_EQ(rt::TRTRuntimeConfig::kernel_strategy_from_int(0), rt::KernelSpecializationStrategy::kLAZY);
  EXPECT_EQ(rt::TRTRuntimeConfig::kernel_strategy_from_int(1), rt::KernelSpecializationStrategy::kEAGER);
  EXPECT_EQ(rt::TRTRuntimeConfig::kernel_strategy_from_int(2), rt::KernelSpecializationStrategy::kNONE);
  EXPECT_EQ(rt::TRTRuntimeConfig::cuda_graph_strategy_from_int(0), rt::CudaGraphStrategy::kDISABLED);
  EXPECT_EQ(rt::TRTRuntimeConfig::cuda_graph_strategy_from_int(1), rt::CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE);
  EXPECT_THROW(rt::TRTRuntimeConfig::kernel_strategy_from_int(3), std::invalid_argument);
  EXPECT_THROW(rt::TRTRuntimeConfig::cuda_graph_strategy_from_int(-1), std::invalid_argument);
  EXPECT_THROW(rt::TRTRuntimeConfig::allocation_from_name("auto"), std::invalid_argument);
  EXPECT_STREQ(rt::TRTRuntimeConfig::to_string(rt::CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE), "whole_graph_capture");
}

TEST(TRTRuntimeConfig, MapsSettingsToContextOptions) {
  rt::TRTRuntimeConfig config(rt::ResourceAllocationStrategy::kDYNAMIC);
  EXPECT_TRUE(config.set_strategies(rt::KernelSpecializationStrategy::kEAGER, rt::CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE));
  EXPECT_FALSE(config.set_strategies(rt::KernelSpecializationStrategy::kEAGER, rt::CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE));
  rt::ContextOptions o = config.context_options(rtx());
  EXPECT_EQ(o.allocation, rt::ResourceAllocationStrategy::kDYNAMIC);
  EXPECT_EQ(o.kernel_strategy, rt::KernelSpecializationStrategy::kEAGER);
  EXPECT_EQ(o.cuda_graph_strategy, rt::CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE);
  EXPECT_TRUE(o.use_runtime_cache);
}

TEST(TRTRuntimeConfig, RtxOnlySettingsFallBackOnStandardTensorRT) {
  rt::TRTRuntimeConfig config;
  config.set_strategies(rt::KernelSpecializationStrategy::kNONE, rt::CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE);
  rt::BackendFeatures standard{true, false, false, false};
  rt::ContextOptions o = config.context_options(standard);
  EXPECT_EQ(o.kernel_strategy, rt::KernelSpecializationStrategy::kLAZY);
  EXPECT_EQ(o.cuda_graph_strategy, rt::CudaGraphStrategy::kDISABLED);
  EXPECT_FALSE(o.use_runtime_cache);
}

TEST(RuntimeCacheFile, FormatRoundTripAndRejections) {
  std::string encoded = rt::RuntimeCacheFile::encode("payload");
  EXPECT_EQ(encoded.size(), rt::RuntimeCacheFile::kHeaderSize + 7);
  EXPECT_EQ(encoded.substr(0, 8), std::string("TTRTRTC\0", 8));
  EXPECT_EQ(rt::RuntimeCacheFile::decode(encoded), "payload");
  EXPECT_THROW(rt::RuntimeCacheFile::decode(encoded.substr(0, 20)), std::invalid_argument);
  EXPECT_THROW(rt::RuntimeCacheFile::decode(encoded.substr(0, encoded.size() - 1)), std::invalid_argument);
  EXPECT_THROW(rt::RuntimeCacheFile::decode(encoded + "x"), std::invalid_argument);
  std::string flipped = encoded;
  flipped.back() ^= 1;
  EXPECT_THROW(rt::RuntimeCacheFile::decode(flipped), std::invalid_argument);
  std::string bad_magic = encoded;
  bad_magic[0] = 'X';
  EXPECT_THROW(rt::RuntimeCacheFile::decode(bad_magic), std::invalid_argument);
}

TEST(RuntimeCacheFile, SaveLoadAndQuarantine) {
  std::string path = temp_path("cache.trtcache");
  std::remove(path.c_str());
  rt::RuntimeCacheFile file(path);
  EXPECT_EQ(file.load(), ""); // no file yet
  EXPECT_FALSE(file.save("")); // an empty cache never replaces a file
  EXPECT_TRUE(file.save("kernels-1"));
  EXPECT_EQ(rt::RuntimeCacheFile::decode(read(path)), "kernels-1");
  EXPECT_EQ(file.load(), "kernels-1");
  {
    std::ofstream garbage(path, std::ios::binary | std::ios::trunc);
    garbage << "garbage";
  }
  EXPECT_EQ(file.load(), ""); // reported, moved aside, treated as missing
  EXPECT_EQ(read(path), ""); // gone
  EXPECT_TRUE(file.save("kernels-2"));
  std::string aside = file.quarantine("refused by TensorRT");
  EXPECT_FALSE(aside.empty());
  EXPECT_EQ(file.load(), "");
  std::remove(aside.c_str());
  std::remove((path + ".lock").c_str());
}

TEST(TRTRuntimeConfig, RuntimeCacheStashAndSave) {
  std::string path = temp_path("config.trtcache");
  std::remove(path.c_str());
  rt::TRTRuntimeConfig config;
  EXPECT_TRUE(config.set_runtime_cache_path(path));
  EXPECT_EQ(config.context_options(rtx()).runtime_cache, "");
  config.stash_runtime_cache("K1");
  EXPECT_TRUE(config.save_runtime_cache());
  EXPECT_FALSE(config.save_runtime_cache()); // nothing new
  rt::TRTRuntimeConfig other;
  other.set_runtime_cache_path(path);
  EXPECT_EQ(other.context_options(rtx()).runtime_cache, "K1"); // loaded from the file
  other.reject_runtime_cache("bad");
  EXPECT_EQ(other.context_options(rtx()).runtime_cache, "");
  std::remove((path + ".lock").c_str());
}
