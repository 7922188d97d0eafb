#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/runtime/EngineInfo.h"
#include "tests/core/test_helpers.h"

namespace rt = torch_tensorrt::core::runtime;
using torch_tensorrt::tests::fake_spec;
using torch_tensorrt::tests::make_info;

namespace {

std::vector<std::string> valid_info() {
  return make_info(fake_spec("add", {{"x", {-1, 3}}, {"y", {-1, 3}}}, {"z"}), "my_engine");
}

// The message of the std::invalid_argument that from_list throws.
std::string error_of(const std::vector<std::string>& info) {
  try {
    rt::EngineInfo::from_list(info);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

std::string with_slot(int64_t idx, const std::string& value) {
  auto info = valid_info();
  info[idx] = value;
  return error_of(info);
}

std::string metadata_error(const std::string& json) {
  return with_slot(rt::SERIALIZED_METADATA_IDX, json);
}


} // namespace

TEST(EngineInfo, ParsesValidInfo) {
  rt::EngineInfo info = rt::EngineInfo::from_list(valid_info());
  EXPECT_EQ(info.name, "my_engine");
  EXPECT_EQ(info.gpu_id, 0);
  EXPECT_EQ(info.compute_capabilities, (std::vector<std::string>{"8.6", "12.0"}));
  EXPECT_EQ(info.input_names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(info.output_names, (std::vector<std::string>{"z"}));
  EXPECT_NE(info.engine.find("FAKE_TRT_ENGINE"), std::string::npos);
  EXPECT_FALSE(info.requires_output_allocator);
  EXPECT_EQ(info.resource_allocation_strategy, "static");
  EXPECT_EQ(info.metadata.settings.optimization_level, 3);
}

TEST(EngineInfo, LengthAndAbi) {
  auto info = valid_info();
  info.push_back("extra");
  EXPECT_CONTAINS(error_of(info), "expected SERIALIZATION_LEN = 11 slots, found 12");
  info = valid_info();
  info[0] = "0";
  info.pop_back();
  // The ABI message wins over the length: it says what to do.
  EXPECT_CONTAINS(error_of(info), "engine info slot ABI_TARGET_IDX (0): this file was written for engine-info ABI '0'");
  EXPECT_CONTAINS(error_of({}), "found 0");
}

TEST(EngineInfo, EverySlotIsChecked) {
  EXPECT_CONTAINS(with_slot(rt::NAME_IDX, ""), "NAME_IDX (1): engine name is empty");
  EXPECT_CONTAINS(with_slot(rt::DEVICE_IDX, "0"), "DEVICE_IDX (2): expected '<gpu_id>%<capabilities>'");
  EXPECT_CONTAINS(with_slot(rt::DEVICE_IDX, "01%8.6"), "gpu id '01' is not a non-negative integer");
  EXPECT_CONTAINS(with_slot(rt::DEVICE_IDX, "0%8.6,8.6"), "duplicate entry '8.6'");
  EXPECT_CONTAINS(with_slot(rt::DEVICE_IDX, "0%sm86"), "compute capability 'sm86'");
  EXPECT_EQ(with_slot(rt::DEVICE_IDX, "7%"), "");
  EXPECT_CONTAINS(with_slot(rt::SERIALIZED_ENGINE_IDX, "abc"), "SERIALIZED_ENGINE_IDX (3): not valid base64");
  EXPECT_CONTAINS(with_slot(rt::SERIALIZED_ENGINE_IDX, ""), "engine is empty");
  EXPECT_CONTAINS(with_slot(rt::INPUT_BINDING_NAMES_IDX, "x%x"), "input names: duplicate entry 'x'");
  EXPECT_CONTAINS(with_slot(rt::INPUT_BINDING_NAMES_IDX, "x%"), "input name #1 is empty");
  EXPECT_CONTAINS(with_slot(rt::OUTPUT_BINDING_NAMES_IDX, ""), "an engine needs at least one output");
  EXPECT_CONTAINS(with_slot(rt::OUTPUT_BINDING_NAMES_IDX, "x"), "name 'x' is both an input and an output");
  EXPECT_CONTAINS(with_slot(rt::HW_COMPATIBLE_IDX, "true"), "HW_COMPATIBLE_IDX (6): expected '0' or '1', found 'true'");
  EXPECT_CONTAINS(with_slot(rt::TARGET_PLATFORM_IDX, "darwin_arm64"), "unknown target platform 'darwin_arm64'");
  EXPECT_CONTAINS(with_slot(rt::REQUIRES_OUTPUT_ALLOCATOR_IDX, ""), "REQUIRES_OUTPUT_ALLOCATOR_IDX (9)");
  EXPECT_CONTAINS(with_slot(rt::RESOURCE_ALLOCATION_STRATEGY_IDX, "auto"), "unknown resource allocation strategy 'auto'");
}

TEST(EngineInfo, MetadataChecks) {
  const std::string head = R"({"format":"torch_tensorrt.engine_metadata","version":1)";
  EXPECT_CONTAINS(metadata_error("{"), "SERIALIZED_METADATA_IDX (7): metadata is not valid JSON");
  EXPECT_CONTAINS(metadata_error("[]"), "metadata: expected an object, found list");
  EXPECT_CONTAINS(metadata_error(R"({"version":1})"), "not torch_tensorrt engine metadata (format: no 'format' key)");
  EXPECT_CONTAINS(metadata_error(R"({"format":"torch_tensorrt.engine_metadata"})"), "missing required key 'version'");
  EXPECT_CONTAINS(
      metadata_error(R"({"format":"torch_tensorrt.engine_metadata","version":2})"),
      "metadata version 2 is newer than this torch_tensorrt reads (version 1)");
  EXPECT_CONTAINS(
      metadata_error(R"({"format":"torch_tensorrt.engine_metadata","version":true})"),
      "metadata.version: expected an integer >= 1, found bool");
  EXPECT_CONTAINS(metadata_error(head + R"(,"settings":{"optimization_level":9}})"), "optimization_level: 9 is outside [0, 5]");
  EXPECT_CONTAINS(
      metadata_error(head + R"(,"settings":{"enabled_precisions":["float32","float32"]}})"), "duplicate entry 'float32'");
  EXPECT_CONTAINS(metadata_error(head + R"(,"settings":{"strongly_typed":1}})"), "expected true/false, found int");
  EXPECT_CONTAINS(metadata_error(head + R"(,"flags":{"a":"yes"}})"), "metadata.flags['a']: expected true/false");
  EXPECT_CONTAINS(metadata_error(head + R"(,"flags":{"":true}})"), "flag name must have 1 to 256 characters");
  EXPECT_CONTAINS(metadata_error(head + R"(,"inputs":[{"name":"x","dtype":"float32"}]})"), "missing required key 'shape'");
  EXPECT_CONTAINS(metadata_error(head + R"(,"inputs":[{"name":"x","dtype":"f32","shape":[]}]})"), "unknown dtype 'f32'");
  EXPECT_CONTAINS(
      metadata_error(head + R"(,"inputs":[{"name":"x","dtype":"float32","shape":["s0/2"]}]})"),
      "metadata.inputs[0].shape[0]: shape expression 's0/2'");
  EXPECT_CONTAINS(
      metadata_error(head + R"(,"inputs":[{"name":"x","dtype":"float32","shape":[1,2,3,4,5,6,7,8,9]}]})"),
      "rank 9 exceeds the maximum of 8");
  EXPECT_CONTAINS(
      metadata_error(head + R"(,"inputs":[{"name":"x","dtype":"float32","shape":["s0",3],"min_shape":[1,3]}]})"),
      "min_shape, opt_shape and max_shape must be given together");
  EXPECT_CONTAINS(
      metadata_error(
          head +
          R"(,"inputs":[{"name":"x","dtype":"float32","shape":["s0",3],"min_shape":[4,3],"opt_shape":[2,3],"max_shape":[8,3]}]})"),
      "dim 0: need min <= opt <= max, found 4, 2, 8");
  EXPECT_CONTAINS(
      metadata_error(
          head +
          R"(,"inputs":[{"name":"x","dtype":"float32","shape":["s0",3],"min_shape":[1,2],"opt_shape":[2,3],"max_shape":[8,3]}]})"),
      "dim 1 is static (3) but the profile is 2, 3, 3");
  // Names recorded in the metadata must match the binding slots.
  EXPECT_CONTAINS(
      metadata_error(head + R"(,"inputs":[{"name":"y","dtype":"float32","shape":[3]},{"name":"x","dtype":"float32","shape":[3]}]})"),
      "metadata input names ['y', 'x'] differ from INPUT_BINDING_NAMES_IDX (4): ['x', 'y']");
  // Unknown keys (a newer writer of the same major version) are ignored.
  EXPECT_EQ(metadata_error(head + R"(,"future":{"x":[1,2.5,null]},"settings":{"new_setting":3}})"), "");
}

TEST(EngineInfo, ProfileIsRead) {
  const std::string md =
      R"({"format":"torch_tensorrt.engine_metadata","version":1,"inputs":[{"name":"x","dtype":"float16","shape":["s0",3],"min_shape":[1,3],"opt_shape":[4,3],"max_shape":[8,3]},{"name":"y","dtype":"float16","shape":["s0",3],"min_shape":[1,3],"opt_shape":[4,3],"max_shape":[8,3]}],"outputs":[{"name":"z","dtype":"float16","shape":["s0",3]}],"flags":{"x":true}})";
  auto info = valid_info();
  info[rt::SERIALIZED_METADATA_IDX] = md;
  rt::EngineInfo parsed = rt::EngineInfo::from_list(info);
  ASSERT_EQ(parsed.metadata.inputs.size(), 2u);
  EXPECT_TRUE(parsed.metadata.inputs[0].has_profile);
  EXPECT_EQ(parsed.metadata.inputs[0].max_shape, (std::vector<int64_t>{8, 3}));
  EXPECT_FALSE(parsed.metadata.inputs[0].shape[0].is_static);
  EXPECT_EQ(parsed.metadata.inputs[0].dtype, rt::DataType::kFLOAT16);
  EXPECT_TRUE(parsed.metadata.flag("x"));
  EXPECT_FALSE(parsed.metadata.flag("missing"));
}
