// The serialized engine-info layout shared with Python
// (py/torch_tensorrt/dynamo/runtime/_engine_info.py is authoritative) and the
// process-wide runtime modes.  No torch and no TensorRT headers here.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

// Bumped whenever the meaning of a slot changes; a file with another ABI is refused.
constexpr const char* ABI_VERSION = "1";

// Same names and order as the Python layout; the C++ library exposes every index as an op
// (torch.ops.tensorrt.<NAME>()) and the Python side compares them at import.
enum SerializedInfoIndex : int64_t {
  ABI_TARGET_IDX = 0,
  NAME_IDX = 1,
  DEVICE_IDX = 2,
  SERIALIZED_ENGINE_IDX = 3,
  INPUT_BINDING_NAMES_IDX = 4,
  OUTPUT_BINDING_NAMES_IDX = 5,
  HW_COMPATIBLE_IDX = 6,
  SERIALIZED_METADATA_IDX = 7,
  TARGET_PLATFORM_IDX = 8,
  REQUIRES_OUTPUT_ALLOCATOR_IDX = 9,
  RESOURCE_ALLOCATION_STRATEGY_IDX = 10,
  SERIALIZATION_LEN = 11,
};

// Slot names by index; every entry is initialised (checked by a static_assert in runtime.cpp).
extern const std::array<const char*, SERIALIZATION_LEN> SERIALIZED_INFO_NAMES;

constexpr char BINDING_DELIM = '%';
constexpr char DEVICE_DELIM = '%';

constexpr std::array<const char*, 3> KNOWN_PLATFORMS = {"linux_x86_64", "linux_aarch64", "windows_x86_64"};
constexpr std::array<const char*, 2> RESOURCE_ALLOCATION_STRATEGIES = {"static", "dynamic"};

// This host in the spelling of KNOWN_PLATFORMS (e.g. "linux_x86_64"); an unsupported host gives a
// name outside the list ("unknown_<arch>").
std::string current_platform();

// "NAME_IDX (1)", used in messages.
std::string slot_label(int64_t index);

// ---------------------------------------------------------------------------------------------
// Process-wide runtime modes (set from Python via torch.ops.tensorrt.set_*).
// ---------------------------------------------------------------------------------------------

// Torch-level CUDA-graph capture of each engine (torch_tensorrt.runtime.set_cudagraphs_mode).
bool get_cudagraphs_mode();
void set_cudagraphs_mode(bool enabled);

// Check (and switch to) each engine's device before running it.
bool get_multi_device_safe_mode();
void set_multi_device_safe_mode(bool enabled);

// Log levels, the same numbering as Torch-TensorRT's logging API.
enum class LogLevel : int64_t {
  kINTERNAL_ERROR = 0,
  kERROR = 1,
  kWARNING = 2,
  kINFO = 3,
  kDEBUG = 4,
  kGRAPH = 5,
};
LogLevel get_log_level();
void set_log_level(LogLevel level);
// Writes "[torch_tensorrt] <LEVEL>: message" to stderr when `level` is enabled.
void log(LogLevel level, const std::string& message);
bool log_enabled(LogLevel level);

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
